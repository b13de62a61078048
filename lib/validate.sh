# shellcheck shell=sh
# lib/validate.sh — checking a parsed config before any side effect:
# names, paths, hooks, sizes, limits, START, cables and shares. Every
# failure is one conf_error line naming the file, the line and the key.

# check_name NAME LINE: NAME must be usable for interfaces and netns.
check_name() {
	case "$1" in
	'') conf_error "$2" NAME "empty name" ;;
	*[!A-Za-z0-9_-]*) conf_error "$2" NAME "'$1' may only contain letters, digits, _ and -" ;;
	-*) conf_error "$2" NAME "'$1' must not begin with -" ;;
	esac
	[ ${#1} -le 12 ] || conf_error "$2" NAME "'$1' is longer than 12 characters"
}

# check_overlay_path KEY PATH: refuse characters that change the meaning
# of an overlay option string.
check_overlay_path() {
	case "$2" in
	*,* | *:* | *\\* | *"
"*)
		conf_error "$(key_line "$1")" "$1" "path '$2' contains one of , : \\ or a newline"
		;;
	esac
}

# check_dir KEY PATH
check_dir() {
	[ -e "$2" ] || conf_error "$(key_line "$1")" "$1" "$2 does not exist"
	[ -d "$2" ] || conf_error "$(key_line "$1")" "$1" "$2 is not a directory"
}

# resolve_hook KEY: make the hook command in KEY an executable path.
resolve_hook() {
	local hook found
	eval "hook=\$$1"
	case "$hook" in
	'') conf_error "$(key_line "$1")" "$1" "empty value" ;;
	*/*) ;;
	*)
		# A bare name: a file in BASE, one of ours, or a command on PATH.
		if [ -e "$BASE/$hook" ]; then
			hook=$BASE/$hook
		elif [ -x "$LIBDIR/$hook" ]; then
			hook=$LIBDIR/$hook
		else
			found=$(command -v "$hook") ||
				conf_error "$(key_line "$1")" "$1" "$hook not found"
			hook=$found
		fi
		;;
	esac
	[ -e "$hook" ] || conf_error "$(key_line "$1")" "$1" "$hook does not exist"
	[ -f "$hook" ] && [ -x "$hook" ] ||
		conf_error "$(key_line "$1")" "$1" "$hook is not an executable file"
	eval "$1=\$hook"
}

# validate_config: everything that can be checked before a side effect.
validate_config() {
	local old_ifs layer key service
	check_name "$NAME" "$LINE_NAME"
	old_ifs=$IFS
	IFS=:
	for layer in $LOWER; do
		IFS=$old_ifs
		check_dir LOWER "$layer"
		check_overlay_path LOWER "$layer"
	done
	IFS=$old_ifs
	check_dir UPPER "$UPPER"
	check_overlay_path UPPER "$UPPER"
	if ! is_bind_root; then
		check_dir WORK "$WORK"
		check_overlay_path WORK "$WORK"
		[ "$UPPER" != "$WORK" ] ||
			conf_error "$(key_line WORK)" WORK "WORK must differ from UPPER"
	fi
	check_dir LIVE "$LIVE"
	# One read of mountinfo answers both questions below and finds the
	# cgroup hierarchies (exported for the supervisor).
	if is_bind_root; then
		mountinfo_scan "$LIVE"
	else
		mountinfo_scan "$LIVE" "$UPPER" "$WORK"
		# Overlayfs wants them on one mount; stat settles what the table
		# cannot (a mount hidden by a later one).
		# shellcheck disable=SC2153 # SCAN_MOUNT_2 and _3 are set by mountinfo_scan
		if [ "$SCAN_MOUNT_2" != "$SCAN_MOUNT_3" ]; then
			# shellcheck disable=SC2046 # one device number per line
			set -- $(stat -c %d -- "$UPPER" "$WORK")
			[ "$#" = 2 ] && [ "$1" = "$2" ] ||
				conf_error "$(key_line WORK)" WORK "$WORK is not on the same file system as UPPER $UPPER"
		fi
	fi
	if [ -n "$SCAN_MOUNTED" ]; then
		conf_error "$(key_line LIVE)" LIVE "$LIVE is already a mount point (is $NAME running elsewhere?)"
	fi
	for key in PREMOUNT POSTMOUNT INIT; do
		resolve_hook "$key"
	done
	case "$RAM_SIZE" in
	none) ;;
	*%) is_uint "${RAM_SIZE%\%}" || conf_error "$(key_line RAM_SIZE)" RAM_SIZE "'$RAM_SIZE' is not a size" ;;
	*) is_size "$RAM_SIZE" || conf_error "$(key_line RAM_SIZE)" RAM_SIZE "'$RAM_SIZE' is not a size (like 50M) or none" ;;
	esac
	is_uint "$STOP_TIMEOUT" ||
		conf_error "$(key_line STOP_TIMEOUT)" STOP_TIMEOUT "'$STOP_TIMEOUT' is not a number of seconds"
	if [ -n "$MEMORY_MAX" ] && [ "$MEMORY_MAX" != max ]; then
		is_size "$MEMORY_MAX" ||
			conf_error "$(key_line MEMORY_MAX)" MEMORY_MAX "'$MEMORY_MAX' is not a size (like 512M) or max"
	fi
	if [ -n "$PIDS_MAX" ] && [ "$PIDS_MAX" != max ]; then
		is_uint "$PIDS_MAX" ||
			conf_error "$(key_line PIDS_MAX)" PIDS_MAX "'$PIDS_MAX' is not a number or max"
	fi
	[ -z "$CPU_MAX" ] || cpu_max_values >/dev/null
	for service in $START; do
		case "$service" in
		none) [ "$START" = none ] ||
			conf_error "$(key_line START)" START "none cannot be combined with services" ;;
		/*) ;;
		*[!A-Za-z0-9_.@:+-]*)
			conf_error "$(key_line START)" START "'$service' is not a service name or an absolute path" ;;
		esac
	done
	validate_cables
	validate_shares
}

# is_bind_root: UPPER = LOWER means the root is a bind, not an overlay.
is_bind_root() {
	[ "$UPPER" = "$LOWER" ]
}

# cpu_max_values: print "QUOTA PERIOD" for CPU_MAX ("max", "QUOTA [PERIOD]"
# in microseconds as cgroup v2 writes it, or "N%" of one CPU).
cpu_max_values() {
	# shellcheck disable=SC2086 # split the value into its words
	set -- $CPU_MAX
	case "$#:$1" in
	1:max) echo "max 100000" ;;
	1:*%)
		is_uint "${1%\%}" && [ "${1%\%}" -gt 0 ] ||
			conf_error "$(key_line CPU_MAX)" CPU_MAX "'$CPU_MAX' is not a percentage"
		echo "$((${1%\%} * 1000)) 100000"
		;;
	1:* | 2:*)
		is_uint "$1" && [ "$1" -ge 1000 ] && is_uint "${2:-100000}" ||
			conf_error "$(key_line CPU_MAX)" CPU_MAX "'$CPU_MAX' is not max, N% or QUOTA [PERIOD] (microseconds, quota >= 1000)"
		echo "$1 ${2:-100000}"
		;;
	*) conf_error "$(key_line CPU_MAX)" CPU_MAX "'$CPU_MAX' has too many words" ;;
	esac
}

validate_cables() {
	[ -z "$CABLES" ] || cable_validate
}

validate_shares() {
	local spec old_ifs layer
	[ -n "$SHARE" ] || return 0
	printf '%s' "$SHARE" | while IFS= read -r spec; do
		share_parts "$spec"
		[ -d "$SHARE_HOST" ] ||
			conf_error "$(key_line SHARE)" SHARE "host directory $SHARE_HOST does not exist"
		case "/$SHARE_GUEST/" in
		*/../*) conf_error "$(key_line SHARE)" SHARE "subhost path $SHARE_GUEST contains .." ;;
		esac
		old_ifs=$IFS
		IFS=:
		for layer in $LOWER; do
			[ "$(readlink -f "$SHARE_HOST")" != "$(readlink -f "$layer")" ] ||
				conf_error "$(key_line SHARE)" SHARE "$SHARE_HOST is a LOWER layer itself"
		done
		IFS=$old_ifs
	done || exit 1
}
