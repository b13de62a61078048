# shellcheck shell=sh
# lib/config.sh — the config file: its keys, the parser (the file is read,
# never sourced), `!command` values, defaults, SHARE specs and the export
# of the configuration to hooks. Validation of the values is in
# lib/validate.sh.

CONFIG_KEYS="BASE NAME LOWER UPPER WORK LIVE CABLES START PREMOUNT POSTMOUNT INIT RAM_SIZE SHARE LOG MEMORY_MAX CPU_MAX PIDS_MAX STOP_TIMEOUT"

# is_config_key KEY: true when KEY is one of CONFIG_KEYS.
is_config_key() {
	case " $CONFIG_KEYS " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

# conf_error LINE KEY MESSAGE
conf_error() {
	if [ -n "$1" ]; then
		die "$CONF:$1: $2: $3"
	fi
	die "$CONF: $2: $3"
}

# key_line KEY: the line number where KEY was set (empty for defaults).
key_line() {
	eval "printf '%s' \"\${LINE_$1:-}\""
}

# trim STRING: set TRIMMED to STRING without leading and trailing blanks
# (no subshell: the config parser calls it three times a line).
trim() {
	TRIMMED=${1#"${1%%[![:space:]]*}"}
	TRIMMED=${TRIMMED%"${TRIMMED##*[![:space:]]}"}
}

# read_config CONF: parse CONF (never source it) into the CONFIG_KEYS
# variables, with defaults, paths made absolute and `!command` values
# replaced by their output. Sets CONF to the absolute config path.
read_config() {
	local rc_dir rc_file confdir key value lineno cr line stripped
	[ -n "$1" ] || usage_error "no config file given"
	[ -e "$1" ] || die "$1: no such config file"
	[ -f "$1" ] || die "$1: not a regular file"
	[ -r "$1" ] || die "$1: cannot read config file (permission denied)"
	case "$1" in
	*/*) rc_dir=${1%/*} rc_file=${1##*/} ;;
	*) rc_dir=. rc_file=$1 ;;
	esac
	if [ -L "$1" ]; then
		CONF=$(readlink -f -- "$1") || die "$1: cannot resolve path"
	else
		real_dir "${rc_dir:-/}" || die "$1: cannot resolve path"
		CONF=${REAL_DIR%/}/$rc_file
	fi
	confdir=${CONF%/*}
	[ -n "$confdir" ] || confdir=/
	for key in $CONFIG_KEYS; do
		eval "$key=; LINE_$key=; SET_$key="
	done
	SHARE=
	lineno=0
	cr=
	# Values that begin with ! run later, once BASE is known.
	BANG_KEYS=
	while IFS= read -r line || [ -n "$line" ]; do
		lineno=$((lineno + 1))
		case "$line" in
		*[[:cntrl:]])
			# Only a line with a control character pays for the CR.
			[ -n "$cr" ] || cr=$(printf '\r')
			case "$line" in
			*"$cr") line=${line%?} ;;
			esac
			;;
		esac
		trim "$line"
		stripped=$TRIMMED
		case "$stripped" in
		'' | '#'*) continue ;;
		*=*) ;;
		*) die "$CONF:$lineno: not a KEY=VALUE line: $stripped" ;;
		esac
		trim "${stripped%%=*}"
		key=$TRIMMED
		trim "${stripped#*=}"
		value=$TRIMMED
		case "$key" in
		'' | [0-9]* | *[!A-Za-z0-9_]*)
			die "$CONF:$lineno: '$key' is not a valid key name"
			;;
		esac
		if ! is_config_key "$key"; then
			warn "$CONF:$lineno: unknown key $key ignored"
			continue
		fi
		# Surrounding quotes are accepted and removed; nothing inside is
		# interpreted.
		case "$value" in
		\"*\") [ ${#value} -ge 2 ] && value=${value#\"} && value=${value%\"} ;;
		\'*\') [ ${#value} -ge 2 ] && value=${value#\'} && value=${value%\'} ;;
		esac
		if [ "$key" = SHARE ]; then
			[ -n "$value" ] || conf_error "$lineno" SHARE "empty value"
			SHARE="$SHARE$value
"
			LINE_SHARE=$lineno
			continue
		fi
		eval "$key=\$value; LINE_$key=\$lineno; SET_$key=1"
		case "$value" in
		!*) BANG_KEYS="$BANG_KEYS $key" ;;
		esac
	done <"$CONF"
	[ -n "$SET_BASE" ] || die "$CONF: BASE: missing (required)"
	[ -n "$BASE" ] || conf_error "$LINE_BASE" BASE "empty value"
	case " $BANG_KEYS " in
	*" BASE "*) BASE=$(run_bang BASE "$BASE" "$confdir") || exit 1 ;;
	esac
	abs_path "$BASE" "$confdir"
	BASE=$ABS_PATH
	[ -e "$BASE" ] || conf_error "$LINE_BASE" BASE "$BASE does not exist"
	[ -d "$BASE" ] || conf_error "$LINE_BASE" BASE "$BASE is not a directory"
	real_dir "$BASE" || conf_error "$LINE_BASE" BASE "cannot enter $BASE"
	BASE=$REAL_DIR
	case " $BANG_KEYS " in
	*" NAME "*) NAME=$(run_bang NAME "$NAME" "$BASE") || exit 1 ;;
	esac
	if [ -z "$SET_NAME" ]; then
		NAME=${CONF##*/}
		NAME=${NAME%.conf}
	fi
	[ -n "$NAME" ] || conf_error "$LINE_NAME" NAME "empty value"
	# Finding a subhost by its config needs its NAME only: no other
	# command (a disk image mount, say) runs; config_finish does the rest.
	[ -n "${CONFIG_NAME_ONLY:-}" ] || config_finish
}

# config_finish: after read_config with CONFIG_NAME_ONLY, run the other
# `!command` values and complete the configuration with its defaults.
config_finish() {
	local key value
	for key in $BANG_KEYS; do
		case "$key" in BASE | NAME) continue ;; esac
		eval "value=\$$key"
		value=$(run_bang "$key" "$value" "$BASE") || exit 1
		eval "$key=\$value"
	done
	config_defaults
}

# A `!` command gets this many seconds (OVERLAY_BOOT_BANG_TIMEOUT in the
# environment sets another); a mount of a disk image needs a
# few, a hung one must not hang the boot (or the stop waiting for it).
BANG_TIMEOUT=${OVERLAY_BOOT_BANG_TIMEOUT:-60}

# run_bang KEY VALUE DIR: run the command after the ! in DIR; print its
# output (the value). The command finds KEY in OVERLAY_BOOT_KEY. It holds
# none of our descriptors beyond its output (fd 9, the subhost's lock,
# would outlive the boot in anything it leaves running), and it is ended,
# with whatever it started, after BANG_TIMEOUT seconds.
run_bang() {
	local bang_out bang_rc bang_file
	journal_pending_create
	# Its output goes to a file, not a pipe: a process it leaves in the
	# background would hold a pipe, and the boot with it.
	bang_file=$(mktemp) || die "cannot create a temporary file for the command of $1"
	(cd "$3" && OVERLAY_BOOT_KEY=$1 PATH="$LIBDIR:$PATH" exec \
		timeout -k 2 "$BANG_TIMEOUT" sh -c "${2#!}" </dev/null >"$bang_file" \
		3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-)
	bang_rc=$?
	bang_out=$(cat -- "$bang_file")
	rm -f -- "$bang_file"
	[ "$bang_rc" != 124 ] && [ "$bang_rc" != 137 ] ||
		conf_error "$(key_line "$1")" "$1" "command '${2#!}' did not finish within $BANG_TIMEOUT s (ended)"
	[ "$bang_rc" = 0 ] ||
		conf_error "$(key_line "$1")" "$1" "command '${2#!}' failed (exit $bang_rc)"
	[ -n "$bang_out" ] ||
		conf_error "$(key_line "$1")" "$1" "command '${2#!}' printed nothing"
	printf '%s' "$bang_out"
}

config_defaults() {
	local key value cd_set cd_value lower_abs old_ifs layer
	# Keys that name a path, a hook or a number cannot be set to nothing
	# (an empty UPPER would silently become BASE itself).
	for key in NAME LOWER UPPER WORK LIVE RAM_SIZE STOP_TIMEOUT LOG PREMOUNT POSTMOUNT INIT; do
		eval "cd_set=\$SET_$key cd_value=\$$key"
		if [ -n "$cd_set" ] && [ -z "$cd_value" ]; then
			conf_error "$(key_line "$key")" "$key" "empty value"
		fi
	done
	[ -n "$SET_LOWER" ] || LOWER=/
	[ -n "$SET_UPPER" ] || UPPER=root
	if [ -z "$SET_WORK" ]; then
		WORK=work
		# An UPPER made by a command (overlay-diskfile) has WORK beside it.
		case " $BANG_KEYS :$UPPER" in
		*" UPPER "*:*/*) WORK=${UPPER%/*}/work ;;
		esac
	fi
	[ -n "$SET_LIVE" ] || LIVE=live
	[ -n "$SET_START" ] || START="networking ssh"
	[ -n "$SET_RAM_SIZE" ] || RAM_SIZE=50M
	[ -n "$SET_STOP_TIMEOUT" ] || STOP_TIMEOUT=10
	[ -n "$SET_PREMOUNT" ] || PREMOUNT=$LIBDIR/overlay-premount
	[ -n "$SET_POSTMOUNT" ] || POSTMOUNT=$LIBDIR/overlay-postmount
	[ -n "$SET_INIT" ] || INIT=$LIBDIR/overlay-init
	lower_abs=
	old_ifs=$IFS
	IFS=:
	for layer in $LOWER; do
		IFS=$old_ifs
		[ -n "$layer" ] || conf_error "$LINE_LOWER" LOWER "empty layer in '$LOWER'"
		abs_path "$layer" "$BASE"
		lower_abs="$lower_abs${lower_abs:+:}$ABS_PATH"
	done
	IFS=$old_ifs
	LOWER=$lower_abs
	abs_path "$UPPER" "$BASE"
	UPPER=$ABS_PATH
	abs_path "$WORK" "$BASE"
	WORK=$ABS_PATH
	abs_path "$LIVE" "$BASE"
	LIVE=$ABS_PATH
	for key in PREMOUNT POSTMOUNT INIT; do
		eval "value=\$$key"
		case "$value" in
		*/*) abs_path "$value" "$BASE" && eval "$key=\$ABS_PATH" ;;
		esac
	done
	[ -n "$SET_LOG" ] || LOG=/var/log/overlay-boot/$NAME.log
	abs_path "$LOG" "$BASE"
	LOG=$ABS_PATH
}

# share_parts SPEC: set SHARE_HOST, SHARE_GUEST and SHARE_RO from one SHARE
# value (DIR, HOSTDIR:SUBHOSTDIR, either with a :ro suffix).
share_parts() {
	local spec="$1"
	SHARE_RO=
	case "$spec" in
	*:ro) SHARE_RO=1 spec=${spec%:ro} ;;
	esac
	case "$spec" in
	*:*) SHARE_HOST=${spec%%:*} SHARE_GUEST=${spec#*:} ;;
	*) SHARE_HOST=$spec SHARE_GUEST=$spec ;;
	esac
	abs_path "$SHARE_HOST" "$BASE"
	SHARE_HOST=$ABS_PATH
	case "$SHARE_GUEST" in
	/*) ;;
	*) SHARE_GUEST=/$SHARE_GUEST ;;
	esac
}

# export_config: hooks see the configuration as environment variables.
export_config() {
	# shellcheck disable=SC2086,SC2163 # the list of names is split on purpose
	export $CONFIG_KEYS CONF CGROUP_HIER
	OVERLAY_BOOT_LIB=$LIBDIR
	export OVERLAY_BOOT_LIB
}
