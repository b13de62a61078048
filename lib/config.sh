# shellcheck shell=sh
# lib/config.sh — the config file: the key table, the parser (the file is
# read, never sourced), the two steps of reading it (the name alone, then
# the rest), `!command` values, defaults, SHARE specs and the export of
# the configuration to hooks. Validation of the values, driven by the same
# table, is in lib/validate.sh.

# The key table: one line per key, in the order of the man page.
#   KEY  KIND  FLAGS  DEFAULT...
# KIND says how the value is checked (lib/validate.sh) and whether it is a
# path made absolute relative to BASE. FLAGS: req (must be given), rep
# (may repeat: every line counts, none is empty), empty (may be set to
# nothing), - (none: a key given with no value is an error). DEFAULT is
# the rest of the line, - for none; $LIBDIR and $NAME expand in it.
CONFIG_TABLE='BASE         base      req    -
NAME         name      -      -
LOWER        layers    -      /
UPPER        upper     -      root
WORK         work      -      work
LIVE         dir       -      live
CABLES       cables    empty  -
START        services  empty  networking ssh
START_TIMEOUT seconds  -      90
PREMOUNT     hook      -      $LIBDIR/overlay-premount
POSTMOUNT    hook      -      $LIBDIR/overlay-postmount
INIT         hook      -      $LIBDIR/overlay-init
RAM_SIZE     ramsize   -      50M
SHARE        shares    rep    -
LOG          file      -      /var/log/overlay-boot/$NAME.log
MEMORY_MAX   size      empty  -
CPU_MAX      cpu       empty  -
PIDS_MAX     count     empty  -
STOP_TIMEOUT seconds   -      10
USERNS       userns    -      yes'

# config_table_load: CONFIG_KEYS (every key, in order) and CONFIG_REPEAT
# (the keys that may repeat) from the table; run once, as this is sourced.
config_table_load() {
	local key flags
	CONFIG_KEYS='' CONFIG_REPEAT=''
	while read -r key _ flags _; do
		CONFIG_KEYS="$CONFIG_KEYS${CONFIG_KEYS:+ }$key"
		[ "$flags" != rep ] || CONFIG_REPEAT="$CONFIG_REPEAT $key"
	done <<TABLE
$CONFIG_TABLE
TABLE
}
config_table_load

# is_config_key KEY: true when KEY is one of CONFIG_KEYS.
is_config_key() {
	case " $CONFIG_KEYS " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

# conf_error LINE KEY MESSAGE
# (a NAME from the command line has neither CONF nor LINE).
conf_error() {
	if [ -n "$1" ]; then
		die "$CONF:$1: $2: $3"
	fi
	die "${CONF:+$CONF: }$2: $3"
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

# config_parse CONF: read CONF (never source it) into the key variables,
# LINE_KEY (where each was set) and SET_KEY (1 when it was); nothing runs.
# Sets CONF to the absolute config path and BANG_KEYS to the keys whose
# value is a `!command`.
config_parse() {
	local rc_dir rc_file key value lineno cr line
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
	for key in $CONFIG_KEYS; do
		eval "$key=; LINE_$key=; SET_$key="
	done
	config_bytes_check
	lineno=0
	cr=
	BANG_KEYS=
	while IFS= read -r line || [ -n "$line" ]; do
		lineno=$((lineno + 1))
		case "$lineno:$line" in
		1:[!A-Za-z#[:blank:]]*)
			# A UTF-8 byte order mark (an editor's) is skipped.
			line=${line#"$(printf '\357\273\277')"}
			;;
		esac
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
		line=$TRIMMED
		case "$line" in
		'' | '#'*) continue ;;
		*=*) ;;
		*) die "$CONF:$lineno: not a KEY=VALUE line: $line" ;;
		esac
		trim "${line%%=*}"
		key=$TRIMMED
		config_value "${line#*=}"
		value=$CONFIG_VALUE
		case "$key" in
		'' | [0-9]* | *[!A-Za-z0-9_]*)
			die "$CONF:$lineno: '$key' is not a valid key name"
			;;
		esac
		if ! is_config_key "$key"; then
			warn "$CONF:$lineno: unknown key $key ignored"
			continue
		fi
		if config_key_repeats "$key"; then
			[ -n "$value" ] || conf_error "$lineno" "$key" "empty value"
			eval "$key=\"\$$key\$value
\"; LINE_$key=\$lineno; SET_$key=1"
			continue
		fi
		eval "$key=\$value; LINE_$key=\$lineno; SET_$key=1"
		case "$value" in
		!*) BANG_KEYS="$BANG_KEYS $key" ;;
		esac
	done <"$CONF"
}

# config_value TEXT: set CONFIG_VALUE to the value in TEXT (what follows
# the = of a line): blanks around it removed, a comment after it (a #
# after a blank, or a # right after the =, as in `START= # none`) dropped,
# and surrounding quotes removed with nothing inside interpreted; a quoted
# value keeps its # and may be followed by a comment. No subshell.
config_value() {
	local cv_q cv_rest
	trim "$1"
	CONFIG_VALUE=$TRIMMED
	# A value that begins with # after blanks is a comment, as in sh.
	case "$1" in
	[[:blank:]]*'#'*)
		case "$CONFIG_VALUE" in
		'#'*)
			CONFIG_VALUE=
			return 0
			;;
		esac
		;;
	esac
	case "$CONFIG_VALUE" in
	\"*\"* | \'*\'*)
		cv_rest=${CONFIG_VALUE#?}
		cv_q=${CONFIG_VALUE%"$cv_rest"}
		case "$cv_rest" in
		*"$cv_q"*)
			trim "${cv_rest#*"$cv_q"}"
			case "$TRIMMED" in
			'' | '#'*)
				CONFIG_VALUE=${cv_rest%%"$cv_q"*}
				return 0
				;;
			esac
			;;
		esac
		;;
	esac
	case "$CONFIG_VALUE" in
	*[[:blank:]]'#'*)
		trim "${CONFIG_VALUE%%[[:blank:]]#*}"
		CONFIG_VALUE=$TRIMMED
		;;
	esac
}

# config_bytes_check: refuse a config with a NUL byte (the shell's read
# drops it, joining the text around it: NAME=a<NUL>b would be "ab") or a
# carriage return anywhere but before a line's newline (a file with CR
# line ends would be one line), naming the line. One grep, no shell loop.
config_bytes_check() {
	local cb_hit
	cb_hit=$(LC_ALL=C grep -n -o -a -m 1 -P '\x00|\r(?!$)' -- "$CONF" 2>/dev/null) || return 0
	cb_hit=${cb_hit%%"
"*}
	case "$cb_hit" in
	*:) die "$CONF:${cb_hit%%:*}: a NUL byte in the line (not a text file?)" ;;
	*) die "$CONF:${cb_hit%%:*}: a carriage return inside the line (CR line ends? save it with LF line ends)" ;;
	esac
}

# config_key_repeats KEY: KEY may be given more than once (rep).
config_key_repeats() {
	case "$CONFIG_REPEAT " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

# config_read_name CONF: the first step of reading a config: parse it,
# settle BASE and NAME (running their `!` commands, and no other), and
# validate NAME. Finding a subhost by its config needs no more; a boot
# takes the subhost's lock before config_finish runs anything else.
config_read_name() {
	local confdir
	config_parse "$1"
	confdir=${CONF%/*}
	[ -n "$confdir" ] || confdir=/
	[ -n "$SET_BASE" ] || die "$CONF: BASE: missing (required)"
	[ -n "$BASE" ] || conf_error "$LINE_BASE" BASE "empty value"
	case " $BANG_KEYS " in
	*" BASE "*) run_bang BASE "$BASE" "$confdir" && BASE=$BANG_VALUE ;;
	esac
	abs_path "$BASE" "$confdir"
	BASE=$ABS_PATH
	[ -e "$BASE" ] || conf_error "$LINE_BASE" BASE "$BASE does not exist"
	[ -d "$BASE" ] || conf_error "$LINE_BASE" BASE "$BASE is not a directory"
	real_dir "$BASE" || conf_error "$LINE_BASE" BASE "cannot enter $BASE"
	BASE=$REAL_DIR
	case " $BANG_KEYS " in
	*" NAME "*) run_bang NAME "$NAME" "$BASE" && NAME=$BANG_VALUE ;;
	esac
	if [ -z "$SET_NAME" ]; then
		NAME=${CONF##*/}
		NAME=${NAME%.conf}
	fi
	[ -n "$NAME" ] || conf_error "$LINE_NAME" NAME "empty value"
	check_name "$NAME" "$LINE_NAME"
}

# config_finish: the second step, after config_read_name: run the other
# `!command` values, refuse empty values, and complete the configuration
# with its defaults, paths made absolute relative to BASE.
config_finish() {
	local key kind flags default value
	for key in $BANG_KEYS; do
		case "$key" in BASE | NAME) continue ;; esac
		eval "value=\$$key"
		run_bang "$key" "$value" "$BASE"
		eval "$key=\$BANG_VALUE"
	done
	while read -r key kind flags default; do
		case "$kind" in base | name) continue ;; esac
		eval "value=\$$key"
		if [ -z "$value" ]; then
			if eval "[ -n \"\$SET_$key\" ]"; then
				# A key that names a path, a hook or a number cannot be
				# set to nothing (an empty UPPER would become BASE itself).
				[ "$flags" = empty ] || conf_error "$(key_line "$key")" "$key" "empty value"
			elif [ "$default" != - ]; then
				config_default "$key" "$default"
				value=$CONFIG_DEFAULT
			fi
		fi
		case "$kind" in
		upper | work | dir | file) abs_path "$value" "$BASE" && value=$ABS_PATH ;;
		layers) config_abs_layers "$value" && value=$ABS_PATH ;;
		hook)
			case "$value" in
			*/*) abs_path "$value" "$BASE" && value=$ABS_PATH ;;
			esac
			;;
		esac
		eval "$key=\$value"
	done <<TABLE
$CONFIG_TABLE
TABLE
}

# config_default KEY DEFAULT: set CONFIG_DEFAULT to KEY's default from the
# table, $LIBDIR and $NAME expanded (no eval: LIBDIR is any path). WORK's
# default is beside an UPPER made by a command (overlay-diskfile).
config_default() {
	CONFIG_DEFAULT=$2
	case "$CONFIG_DEFAULT" in
	'$LIBDIR'*) CONFIG_DEFAULT=$LIBDIR${CONFIG_DEFAULT#\$LIBDIR} ;;
	esac
	case "$CONFIG_DEFAULT" in
	*'$NAME'*) CONFIG_DEFAULT=${CONFIG_DEFAULT%%\$NAME*}$NAME${CONFIG_DEFAULT#*\$NAME} ;;
	esac
	if [ "$1" = WORK ]; then
		case " $BANG_KEYS :$UPPER" in
		*" UPPER "*:*/*) CONFIG_DEFAULT=${UPPER%/*}/work ;;
		esac
	fi
}

# config_abs_layers LOWER: set ABS_PATH to the :-separated layers, each
# made absolute relative to BASE.
config_abs_layers() {
	local lower_abs old_ifs layer
	lower_abs=
	old_ifs=$IFS
	IFS=:
	for layer in $1; do
		IFS=$old_ifs
		[ -n "$layer" ] || conf_error "$LINE_LOWER" LOWER "empty layer in '$1'"
		abs_path "$layer" "$BASE"
		lower_abs="$lower_abs${lower_abs:+:}$ABS_PATH"
	done
	IFS=$old_ifs
	ABS_PATH=$lower_abs
}

# A `!` command gets this many seconds (OVERLAY_BOOT_BANG_TIMEOUT in the
# environment sets another); a mount of a disk image needs a
# few, a hung one must not hang the boot (or the stop waiting for it).
BANG_TIMEOUT=${OVERLAY_BOOT_BANG_TIMEOUT:-60}

# run_bang KEY VALUE DIR: run the command after the ! in DIR; set
# BANG_VALUE to its output (no command substitution around it: a signal
# to the boot must not wait for the command). The command finds KEY in
# OVERLAY_BOOT_KEY. It holds none of our descriptors beyond its output
# (fd 9, the subhost's lock, would outlive the boot in anything it leaves
# running), and it is ended, with whatever it started, after BANG_TIMEOUT
# seconds, or when the boot is interrupted (BOOT_CHILD, lib/journal.sh).
run_bang() {
	local bang_rc bang_file
	journal_pending_create
	# Its output goes to a file, not a pipe: a process it leaves in the
	# background would hold a pipe, and the boot with it.
	bang_file=$(mktemp) || die "cannot create a temporary file for the command of $1"
	# In the background, waited for: a trapped signal ends `wait` at once.
	(cd "$3" && OVERLAY_BOOT_KEY=$1 PATH="$LIBDIR:$PATH" exec \
		timeout -k 2 "$BANG_TIMEOUT" sh -c "${2#!}" </dev/null >"$bang_file" \
		3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-) &
	BOOT_CHILD=$! BOOT_TMP=$bang_file
	wait "$BOOT_CHILD"
	bang_rc=$?
	# shellcheck disable=SC2034 # BOOT_TMP is read by pending_interrupted
	BOOT_CHILD='' BOOT_TMP=''
	BANG_VALUE=$(cat -- "$bang_file")
	rm -f -- "$bang_file"
	[ "$bang_rc" != 124 ] && [ "$bang_rc" != 137 ] ||
		conf_error "$(key_line "$1")" "$1" "command '${2#!}' did not finish within $BANG_TIMEOUT s (ended)"
	[ "$bang_rc" = 0 ] ||
		conf_error "$(key_line "$1")" "$1" "command '${2#!}' failed (exit $bang_rc)"
	[ -n "$BANG_VALUE" ] ||
		conf_error "$(key_line "$1")" "$1" "command '${2#!}' printed nothing"
}

# config_name_of CONF: print the NAME of CONF as the parser reads it
# (quotes removed; the file name without .conf when there is no NAME),
# running nothing; fails when NAME is a `!command`. Run it in $(...): it
# sets every key variable.
config_name_of() {
	config_parse "$1" 2>/dev/null
	case "$NAME" in
	!*) return 1 ;;
	esac
	if [ -z "$SET_NAME" ]; then
		NAME=${CONF##*/}
		NAME=${NAME%.conf}
	fi
	printf '%s\n' "$NAME"
}

# boot_list FILE: set BOOT_LIST to the config files that FILE (the boot
# list, /etc/subhosts.conf) names, one per line, in order: comments and
# blanks dropped. Fails when FILE cannot be read.
boot_list() {
	local line
	BOOT_LIST=
	[ -r "$1" ] || return 1
	while IFS= read -r line || [ -n "$line" ]; do
		trim "${line%%#*}"
		[ -z "$TRIMMED" ] || BOOT_LIST="$BOOT_LIST$TRIMMED
"
	done <"$1"
}

# share_parts SPEC: set SHARE_HOST, SHARE_GUEST and SHARE_RO from one SHARE
# value (DIR, HOSTDIR:SUBHOSTDIR, either with a :ro suffix).
share_parts() {
	local spec="$1"
	SHARE_RO=
	# shellcheck disable=SC2034 # SHARE_RO is returned to the caller
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

# export_config: hooks see the configuration as environment variables:
# every key, the config file's path in CONF and in CONFIG (upstream's
# name), and REAPER, the command inside the subhost that an init script
# written for overlay-boot 1.6 ends with (`exec ${REAPER:-/.reaper} $NAME`).
export_config() {
	CONFIG=$CONF
	REAPER=$SUBHOST_RUNDIR/reaper-exec
	# shellcheck disable=SC2086,SC2163 # the list of names is split on purpose
	export $CONFIG_KEYS CONF CONFIG REAPER CGROUP_HIER
	OVERLAY_BOOT_LIB=$LIBDIR
	export OVERLAY_BOOT_LIB
}
