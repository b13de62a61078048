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

DESC="subhosts"
NAME=subhosts
PIDFILE=none
SUBHOSTS_CONF=${SUBHOSTS_CONF:-/etc/subhosts.conf}
STATE_ROOT=/run/overlay-boot

# The commands: next to this script in a source tree, else /usr/sbin.
SUBHOSTS_SBIN=$(readlink -f -- "$__init_d_script_name")
SUBHOSTS_SBIN=${SUBHOSTS_SBIN%/*}
if [ ! -f "$SUBHOSTS_SBIN/functions" ] || [ ! -x "$SUBHOSTS_SBIN/overlay-boot" ]; then
	SUBHOSTS_SBIN=/usr/sbin
fi
# init-d-script does nothing when this is missing (package removed).
DAEMON=$SUBHOSTS_SBIN/overlay-boot

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

# subhosts_list: the config files listed in SUBHOSTS_CONF, in order
# (comments and blank lines dropped).
subhosts_list() {
	sed 's/#.*//; s/^[[:space:]]*//; s/[[:space:]]*$//; /^$/d' "$SUBHOSTS_CONF"
}

# state_name_of CONF: the name of the subhost that has state from the
# config file CONF (absolute, resolved), if any.
state_name_of() {
	for dir in "$STATE_ROOT"/*/; do
		[ -f "${dir}conf" ] || continue
		[ "$(cat "${dir}conf" 2>/dev/null)" = "$1" ] || continue
		dir=${dir%/}
		echo "${dir##*/}"
		return 0
	done
	return 1
}

# is_up NAME: a supervisor holds the lock of NAME.
is_up() {
	[ -e "$STATE_ROOT/$1.lock" ] && ! flock -n "$STATE_ROOT/$1.lock" true
}

do_start_override() {
	if [ ! -r "$SUBHOSTS_CONF" ]; then
		say "cannot read $SUBHOSTS_CONF: no subhost started"
		return 0
	fi
	list=$(subhosts_list)
	if [ -z "$list" ]; then
		say "no subhost listed in $SUBHOSTS_CONF"
		return 0
	fi
	failed=0
	while IFS= read -r conf; do
		case "$conf" in
		/*) ;;
		*)
			say "$conf: not an absolute path: not started"
			failed=1
			continue
			;;
		esac
		canon=$(readlink -f -- "$conf") || canon=$conf
		if name=$(state_name_of "$canon") && is_up "$name"; then
			say "$name ($conf) is already running"
			continue
		fi
		out=$("$SUBHOSTS_SBIN/overlay-boot" "$conf" 2>&1 </dev/null)
		rc=$?
		if [ "$rc" -eq 0 ]; then
			say "started $conf"
		else
			say "FAILED to start $conf (exit $rc)"
			failed=1
		fi
		indent "$out"
	done <<LIST
$list
LIST
	return "$failed"
}

# stop_one NAME|CONF
stop_one() {
	out=$("$SUBHOSTS_SBIN/overlay-stop" "$1" 2>&1 </dev/null)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		say "stopped $1"
	else
		say "FAILED to stop $1 (exit $rc)"
		failed=1
	fi
	indent "$out"
}

do_stop_override() {
	failed=0
	stopped=0
	if [ -r "$SUBHOSTS_CONF" ]; then
		list=$(subhosts_list | tac)
		while IFS= read -r conf; do
			[ -n "$conf" ] || continue
			canon=$(readlink -f -- "$conf") || continue
			name=$(state_name_of "$canon") || continue
			stop_one "$name"
			stopped=$((stopped + 1))
		done <<LIST
$list
LIST
	fi
	# Then every other subhost, started by hand or from another list.
	for dir in "$STATE_ROOT"/*/; do
		[ -d "$dir" ] || continue
		dir=${dir%/}
		stop_one "${dir##*/}"
		stopped=$((stopped + 1))
	done
	[ "$stopped" -gt 0 ] || say "no subhost is running"
	return "$failed"
}

do_status_override() {
	out=$(SUBHOSTS_CONF=$SUBHOSTS_CONF "$SUBHOSTS_SBIN/overlay-list" 2>&1) || {
		indent "$out"
		return 4
	}
	printf '%s\n' "$out"
	missing=0
	if [ -r "$SUBHOSTS_CONF" ]; then
		for conf in $(subhosts_list); do
			[ -f "$conf" ] && continue
			echo "$conf: no such config file"
			missing=1
		done
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
