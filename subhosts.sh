#!/bin/sh /lib/init/init-d-script
### BEGIN INIT INFO
# Provides:          subhosts
# Required-Start:    $local_fs $remote_fs $network $syslog
# Required-Stop:     $local_fs $remote_fs $network $syslog
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: start the subhosts listed in /etc/subhosts.conf
# Description:       Boots, with overlay-boot, every subhost whose
#                    configuration file is listed in /etc/subhosts.conf,
#                    and stops every running subhost at shutdown.
### END INIT INFO
#
# subhosts — the sysvinit script of overlay-boot (/etc/init.d/subhosts).
#
#   start    boot every listed config that is not running; one failure
#            does not stop the others; each result is reported
#   stop     stop every subhost: the listed ones last first, then the rest
#   status   list the subhosts; 0 when every listed one runs, 1 when one
#            is stale, 3 when one is stopped, 4 when that is unknown
#   restart, force-reload: refused, they would take every subhost down
#            at once
#
# SUBHOSTS_CONF (environment, or /etc/default/subhosts) names another list.
# The script also runs directly from the source tree (sh subhosts.sh
# ACTION), with the commands next to it.

if [ -z "${__init_d_script_name:-}" ]; then
	# Run directly rather than through init-d-script: go through it, as
	# /etc/init.d/subhosts does.
	script=$(readlink -f -- "$0") || exit 4
	exec /lib/init/init-d-script "$script" "$@"
fi

# init-d-script's variables.
# shellcheck disable=SC2034 # read by init-d-script, which sources this
DESC="subhosts"
# shellcheck disable=SC2034 # read by init-d-script, which sources this
NAME=subhosts
# shellcheck disable=SC2034 # read by init-d-script
PIDFILE=none
SUBHOSTS_CONF=${SUBHOSTS_CONF:-/etc/subhosts.conf}

# The commands and the library: next to this script in a source tree,
# else /usr/sbin and /usr/lib/overlay-boot.
SUBHOSTS_SBIN=$(readlink -f -- "$__init_d_script_name")
SUBHOSTS_SBIN=${SUBHOSTS_SBIN%/*}
LIBDIR=$SUBHOSTS_SBIN
if [ ! -f "$SUBHOSTS_SBIN/functions" ] || [ ! -x "$SUBHOSTS_SBIN/overlay-boot" ]; then
	SUBHOSTS_SBIN=/usr/sbin
	LIBDIR=/usr/lib/overlay-boot
fi
# init-d-script does nothing when this is missing (package removed).
# shellcheck disable=SC2034 # read by init-d-script
DAEMON=$SUBHOSTS_SBIN/overlay-boot
# The state of subhosts is read as every command reads it. The library
# never sets NAME (init-d-script's) unless asked to find a subhost.
if [ -f "$LIBDIR/functions" ]; then
	# shellcheck source=functions
	. "$LIBDIR/functions"
fi

# say MESSAGE: report one result on the console and, when there is one,
# to syslog.
say() {
	echo "subhosts: $*"
	if [ -S /dev/log ] && command -v logger >/dev/null 2>&1; then
		logger -t subhosts -p daemon.notice -- "$*" 2>/dev/null
	fi
}

# indent TEXT: a command's output, shown under the line it belongs to.
indent() {
	[ -z "$1" ] || printf '%s\n' "$1" | sed 's/^/    /'
}

# run_reported start|stop TARGET COMMAND: run our COMMAND on TARGET and
# say how it went, its own output indented below; fails as it failed.
run_reported() {
	local out rc
	out=$("$SUBHOSTS_SBIN/$3" "$2" 2>&1 </dev/null)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		case "$1" in
		start) say "started $2" ;;
		stop) say "stopped $2" ;;
		esac
	else
		say "FAILED to $1 $2 (exit $rc)"
	fi
	indent "$out"
	return "$rc"
}

# listed_name CONF: set LISTED_NAME to the subhost that has state from
# the config file CONF (resolved as overlay-boot resolves it), if any.
listed_name() {
	local canon
	LISTED_NAME=
	canon=$(readlink -f -- "$1") || return 1
	state_name_of "$canon" || return 1
	LISTED_NAME=$STATE_NAME
}

do_start_override() {
	local failed conf
	if ! boot_list "$SUBHOSTS_CONF"; then
		say "cannot read $SUBHOSTS_CONF: no subhost started"
		return 0
	fi
	if [ -z "$BOOT_LIST" ]; then
		say "no subhost listed in $SUBHOSTS_CONF"
		return 0
	fi
	failed=0
	while IFS= read -r conf; do
		[ -n "$conf" ] || continue
		case "$conf" in
		/*) ;;
		*)
			say "$conf: not an absolute path: not started"
			failed=1
			continue
			;;
		esac
		if listed_name "$conf"; then
			subhost_status "$LISTED_NAME"
			case "$SUBHOST_STATE" in
			running | starting | stopping)
				say "$LISTED_NAME ($conf) is already running"
				continue
				;;
			esac
		fi
		run_reported start "$conf" overlay-boot || failed=1
	done <<LIST
$BOOT_LIST
LIST
	return "$failed"
}

# stop_one NAME: overlay-stop it; sets failed on failure.
stop_one() {
	run_reported stop "$1" overlay-stop || failed=1
}

do_stop_override() {
	local failed stopped reversed conf name
	failed=0
	stopped=0
	if boot_list "$SUBHOSTS_CONF"; then
		reversed=
		while IFS= read -r conf; do
			[ -z "$conf" ] || reversed="$conf
$reversed"
		done <<LIST
$BOOT_LIST
LIST
		while IFS= read -r conf; do
			[ -n "$conf" ] || continue
			listed_name "$conf" || continue
			stop_one "$LISTED_NAME"
			stopped=$((stopped + 1))
		done <<LIST
$reversed
LIST
	fi
	# Then every other subhost, started by hand or from another list.
	state_names
	for name in $STATE_NAMES; do
		stop_one "$name"
		stopped=$((stopped + 1))
	done
	[ "$stopped" -gt 0 ] || say "no subhost is running"
	return "$failed"
}

do_status_override() {
	local out missing conf states
	out=$(SUBHOSTS_CONF=$SUBHOSTS_CONF "$SUBHOSTS_SBIN/overlay-list" 2>&1) || {
		indent "$out"
		return 4
	}
	printf '%s\n' "$out"
	missing=0
	if boot_list "$SUBHOSTS_CONF"; then
		while IFS= read -r conf; do
			[ -n "$conf" ] && [ ! -f "$conf" ] || continue
			echo "$conf: no such config file"
			missing=1
		done <<LIST
$BOOT_LIST
LIST
	fi
	states=$(printf '%s\n' "$out" | awk 'NR > 1 { printf " %s", $2 }')
	case "$states " in
	*" stale "*) return 1 ;;
	*" stopped "*) return 3 ;;
	" ") return 3 ;;
	esac
	[ "$missing" -eq 0 ] || return 3
	return 0
}

do_restart_override() {
	echo "subhosts: restart and force-reload are not supported: they would take every subhost down at once." >&2
	echo "subhosts: use stop and start, or overlay-stop and overlay-boot for one subhost." >&2
	return 3
}
