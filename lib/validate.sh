# shellcheck shell=sh
# lib/validate.sh — checking a parsed config before any side effect:
# names, paths, hooks, sizes, limits, START, cables and shares. Every
# failure is one conf_error line naming the file, the line and the key.

# name_problem NAME: set NAME_PROBLEM to what makes NAME unusable for
# interfaces, netns and a file name in the state directory (empty when
# nothing does). The one place that says what a valid name is.
name_problem() {
	NAME_PROBLEM=
	case "$1" in
	'') NAME_PROBLEM="empty name" ;;
	*[!A-Za-z0-9_-]*) NAME_PROBLEM="'$1' may only contain letters, digits, _ and -" ;;
	-*) NAME_PROBLEM="'$1' must not begin with -" ;;
	*) [ ${#1} -le 64 ] || NAME_PROBLEM="'$1' is longer than 64 characters" ;;
	esac
}

# Limits that a subhost can work with, measured on a boot with START=none
# followed by an overlay-go (man/overlay-boot.adoc, RESOURCE LIMITS):
# fewer pids fails the boot or overlay-go ("Cannot fork"), less memory
# has the mount stage or pid 1 killed by the OOM killer.
MIN_PIDS_MAX=8
MIN_MEMORY_MAX=4M
MAX_SECONDS=86400

# size_bytes SIZE: set SIZE_BYTES to SIZE (digits with an optional K, M,
# G or T suffix) in bytes; fails above 2^60 (no limit takes more).
size_bytes() {
	local n mult
	case "$1" in
	*[kK]) mult=1024 ;;
	*[mM]) mult=1048576 ;;
	*[gG]) mult=1073741824 ;;
	*[tT]) mult=1099511627776 ;;
	*) mult=1 ;;
	esac
	n=${1%[kKmMgGtT]}
	# no leading zero: $((010)) is octal
	n=${n#"${n%%[!0]*}"}
	n=${n:-0}
	[ "${#n}" -le 18 ] && [ "$n" -le $((1152921504606846976 / mult)) ] || return 1
	SIZE_BYTES=$((n * mult))
}

# check_minimum KEY VALUE MINIMUM: VALUE (a size or a count) is at least
# MINIMUM and not absurdly large, or die naming KEY.
check_minimum() {
	local cm_value
	size_bytes "$2" || conf_error "$(key_line "$1")" "$1" "'$2' is too large"
	cm_value=$SIZE_BYTES
	size_bytes "$3"
	[ "$cm_value" -ge "$SIZE_BYTES" ] ||
		conf_error "$(key_line "$1")" "$1" "'$2' is less than $3, too little for a boot and overlay-go"
}

# check_name NAME LINE: NAME is valid, or die naming the line.
check_name() {
	name_problem "$1"
	[ -z "$NAME_PROBLEM" ] || conf_error "$2" NAME "$NAME_PROBLEM"
}

# valid_name NAME: true when NAME is valid (no message).
valid_name() {
	name_problem "$1"
	[ -z "$NAME_PROBLEM" ]
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

# validate_config: everything that can be checked before a side effect:
# each key by its kind in the table (lib/config.sh), then what involves
# several keys and the mount table.
validate_config() {
	local key kind
	while read -r key kind _; do
		config_check "$key" "$kind"
	done <<TABLE
$CONFIG_TABLE
TABLE
	check_mounts
}

# config_check KEY KIND: check the value of KEY as its KIND wants.
config_check() {
	local value old_ifs layer service
	eval "value=\$$1"
	case "$2" in
	base | file) ;;
	name) check_name "$value" "$(key_line NAME)" ;;
	layers)
		old_ifs=$IFS
		IFS=:
		for layer in $value; do
			IFS=$old_ifs
			check_dir "$1" "$layer"
			check_overlay_path "$1" "$layer"
		done
		IFS=$old_ifs
		;;
	upper)
		check_dir "$1" "$value"
		check_overlay_path "$1" "$value"
		;;
	work)
		# A root that is a bind of LOWER has no WORK.
		is_bind_root && return 0
		check_dir "$1" "$value"
		check_overlay_path "$1" "$value"
		[ "$UPPER" != "$value" ] ||
			conf_error "$(key_line "$1")" "$1" "$1 must differ from UPPER"
		;;
	dir) check_dir "$1" "$value" ;;
	hook) resolve_hook "$1" ;;
	ramsize)
		case "$value" in
		none) ;;
		*%) is_uint "${value%\%}" || conf_error "$(key_line "$1")" "$1" "'$value' is not a size" ;;
		*) is_size "$value" || conf_error "$(key_line "$1")" "$1" "'$value' is not a size (like 50M) or none" ;;
		esac
		# tmpfs takes size=0 as no limit at all
		case "${value%[kKmMgGtT%]}" in
		*[!0]*) ;;
		*) conf_error "$(key_line "$1")" "$1" "'$value' is no space at all (none for no tmpfs)" ;;
		esac
		;;
	userns) userns_validate ;;
	seconds)
		is_uint "$value" ||
			conf_error "$(key_line "$1")" "$1" "'$value' is not a number of seconds"
		# the reaper takes up to 999999999; a day is plenty
		[ "${#value}" -le 5 ] && [ "$value" -le "$MAX_SECONDS" ] ||
			conf_error "$(key_line "$1")" "$1" "'$value' is more than $MAX_SECONDS seconds (one day)"
		;;
	size)
		[ -z "$value" ] || [ "$value" = max ] || is_size "$value" ||
			conf_error "$(key_line "$1")" "$1" "'$value' is not a size (like 512M) or max"
		[ -z "$value" ] || [ "$value" = max ] || check_minimum "$1" "$value" "$MIN_MEMORY_MAX"
		;;
	count)
		[ -z "$value" ] || [ "$value" = max ] || is_uint "$value" ||
			conf_error "$(key_line "$1")" "$1" "'$value' is not a number or max"
		[ -z "$value" ] || [ "$value" = max ] || check_minimum "$1" "$value" "$MIN_PIDS_MAX"
		;;
	cpu) [ -z "$value" ] || cpu_max_values >/dev/null ;;
	services)
		for service in $value; do
			case "$service" in
			none) [ "$value" = none ] ||
				conf_error "$(key_line "$1")" "$1" "none cannot be combined with services" ;;
			/*) ;;
			*[!A-Za-z0-9_.@:+-]*)
				conf_error "$(key_line "$1")" "$1" "'$service' is not a service name or an absolute path" ;;
			esac
		done
		;;
	cables) [ -z "$value" ] || cable_validate ;;
	shares) validate_shares ;;
	*) die "internal error: key $1 has an unknown kind $2" ;;
	esac
}

# check_mounts: LIVE is not a mount point yet, and UPPER and WORK are on
# one file system, from one read of mountinfo, which also finds the
# cgroup hierarchies (exported for the supervisor).
check_mounts() {
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
		upper_fs_check
	fi
	if [ -n "$SCAN_MOUNTED" ]; then
		conf_error "$(key_line LIVE)" LIVE "$LIVE is already a mount point (is $NAME running elsewhere?)"
	fi
}

# upper_fs_check: UPPER is on a file system that overlayfs can write to
# (from mountinfo_scan), or die saying why, as the kernel would, before
# anything is made: it refuses a read-only one and an overlay, mounts over
# ramfs and fails later (EIO), and mounts read-only when it cannot make
# its work directory in a full one (the first boot).
upper_fs_check() {
	local why
	why=
	case "$SCAN_TYPE_2" in
	ramfs) why="ramfs keeps no extended attributes, which overlayfs needs for whiteouts and copy-up (files fail with EIO)" ;;
	overlay) why="an overlay cannot be the upper layer of another (the kernel: filesystem not supported as upperdir)" ;;
	esac
	[ -z "$SCAN_RO_2" ] || why="its file system is mounted read-only (the kernel: upper fs is r/o)"
	if [ -z "$why" ] && [ ! -d "$WORK/work" ]; then
		# shellcheck disable=SC2046 # free blocks, inodes, free inodes
		set -- $(stat -f -c '%f %c %d' -- "$UPPER")
		[ "${1:-1}" = 0 ] || { [ "${2:-0}" != 0 ] && [ "${3:-1}" = 0 ]; } &&
			why="its file system is full: overlayfs cannot make its work directory there and would mount the root read-only (the kernel: errno 28, No space left on device)"
	fi
	[ -z "$why" ] ||
		conf_error "$(key_line UPPER)" UPPER "$UPPER cannot be the upper layer: $why"
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

# share_target_problem PATH: set SHARE_PROBLEM to why a share cannot go on
# PATH inside the subhost (empty when it can): /, /dev, /run (the boot
# mounts its own file systems there, over or into the share, and makes
# directories or device nodes in the host directory), /proc and /sys and
# anything below them (mounted over by the kernel's own), and the
# supervisor's /run/overlay-boot.
share_target_problem() {
	local stp_path
	# //x, /./x and x/ are the same place as /x
	stp_path=/$1
	while :; do
		case "$stp_path" in
		*//*) stp_path=${stp_path%%//*}/${stp_path#*//} ;;
		*/./*) stp_path=${stp_path%%/./*}/${stp_path#*/./} ;;
		*/.) stp_path=${stp_path%/.} ;;
		?*/) stp_path=${stp_path%/} ;;
		*) break ;;
		esac
	done
	SHARE_PROBLEM=
	case "$stp_path" in
	/ | /dev | /run | /proc | /proc/* | /sys | /sys/* | "$SUBHOST_RUNDIR" | "$SUBHOST_RUNDIR"/*)
		SHARE_PROBLEM="cannot share onto $stp_path (a system directory the subhost's own mounts cover)"
		;;
	esac
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
		share_target_problem "$SHARE_GUEST"
		[ -z "$SHARE_PROBLEM" ] || conf_error "$(key_line SHARE)" SHARE "$SHARE_PROBLEM"
		old_ifs=$IFS
		IFS=:
		for layer in $LOWER; do
			[ "$(readlink -f "$SHARE_HOST")" != "$(readlink -f "$layer")" ] ||
				conf_error "$(key_line SHARE)" SHARE "$SHARE_HOST is a LOWER layer itself"
		done
		IFS=$old_ifs
	done || exit 1
}
