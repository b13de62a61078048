# shellcheck shell=sh
# lib/proc.sh — processes: start times read from /proc (to defeat pid
# reuse), ending what is left of a subhost, and running a command inside
# a running subhost (its cgroups, namespaces and root).

# proc_start PID: set PROC_START to the start time of PID (PROC_STATE to
# its state letter, PROC_PPID to its parent); fails when PID does not
# exist. No subshell.
proc_start() {
	local stat_line
	read -r stat_line 2>/dev/null <"/proc/$1/stat" || return 1
	# The command name may hold blanks and parentheses: cut after the last ).
	stat_line=${stat_line##*) }
	# shellcheck disable=SC2086 # fields are split on purpose
	set -- $stat_line
	# shellcheck disable=SC2034 # PROC_PPID is returned to the caller
	PROC_STATE=$1 PROC_PPID=$2
	shift 19
	PROC_START=$1
}

# pid_matches PID STARTTIME: PID is still the process that was recorded,
# and alive (a zombie its parent has not reaped yet is gone).
pid_matches() {
	[ -n "$1" ] && [ -n "$2" ] || return 1
	proc_start "$1" && [ "$PROC_START" = "$2" ] && [ "$PROC_STATE" != Z ] &&
		[ "$PROC_STATE" != X ]
}

# exec_in_subhost NAME PID1 COMMAND [ARG...]: become COMMAND inside the
# running subhost: its cgroups, every namespace of its pid 1, its root,
# in / (never pid 1's directory) with a clean environment and HOME=/root.
# Run it in ( ) to come back with COMMAND's status (128+N for signal N).
exec_in_subhost() {
	local rin_pid rin_user
	cgroup_join "$1"
	rin_pid=$2
	# A subhost with a user namespace is entered as its root (uid 0 there).
	rin_user=
	[ ! -e "$STATE_ROOT/$1/userns.range" ] || rin_user=--user
	shift 2
	# hardened as the subhost's own processes are (--harden-only)
	helper_path overlay-pivot
	# shellcheck disable=SC2086 # rin_user is one option or nothing
	set -- "$HELPER" --harden-only -- nsenter --target "$rin_pid" $rin_user --mount --uts --ipc --net --pid \
		--cgroup --time --root --wdns=/ -- "$@"
	# A bounded run (a service stop): timeout(1) ends it, with all it
	# started (its process group), after EXEC_TIMEOUT seconds: exit 124.
	[ -z "${EXEC_TIMEOUT:-}" ] || set -- timeout -k 2 "$EXEC_TIMEOUT" "$@"
	exec env -i HOME=/root TERM="${TERM:-dumb}" \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}
