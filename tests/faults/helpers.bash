# shellcheck shell=bash
# Helpers of the fault suite: the shared leak check and builders, plus
# pause points made of public hooks, waits, and a mid-test leak check.
# SOAK=1 (make soak) makes every loop longer.

load ../helpers

SOAK=${SOAK:-}
STATE=/run/overlay-boot

# wait_for TEST... : poll until the command succeeds (5 s, or $WAIT_TRIES/20).
wait_for() {
	local i
	for i in $(seq 1 "${WAIT_TRIES:-100}"); do
		"$@" && return 0
		sleep 0.05
	done
	echo "timed out waiting for: $*" >&2
	return 1
}

# settled NAME...: the host is back to what setup saw (mounts, netns,
# links, cgroups, loops, state) as far as subhosts NAME... are concerned
# (other engineers' subhosts on this machine are not counted), and no
# process of this test is left, within 4 s.
settled() {
	local i after procs pat before
	pat=$(printf '%s\n' "$@")
	before=$(echo "$LEAK_BEFORE" | grep -aF "$pat" || true)
	for i in $(seq 1 80); do
		after=$(host_snapshot | grep -aF "$pat" || true)
		procs=$(new_processes)
		[ "$after" = "$before" ] && [ -z "$procs" ] && return 0
		sleep 0.05
	done
	echo "not settled: $*" >&2
	diff <(echo "$before") <(echo "$after") | sed 's/^/  /' >&2
	[ -z "$procs" ] || echo "$procs" | sed 's/^/  process left: /' >&2
	return 1
}

# pause_hook FILE [DEFAULT]: a hook that runs DEFAULT (one of our hooks)
# first when given, then, when BASE/pause names this hook's file name,
# writes its pid to BASE/at and becomes `sleep 120` (killing it kills the
# hook itself). An INIT pause hook prints the default init script.
pause_hook() {
	local file=$1 default=${2:-}
	{
		echo '#!/bin/sh'
		[ -z "$default" ] || echo "\"\$OVERLAY_BOOT_LIB/$default\" \"\$@\" || exit 1"
		echo "if [ \"\$(cat \"\$BASE/pause\" 2>/dev/null)\" = ${file##*/} ]; then"
		echo "	echo \$\$ >\"\$BASE/at.tmp\" && mv \"\$BASE/at.tmp\" \"\$BASE/at\""
		echo '	exec sleep 120 >/dev/null 2>&1'
		echo 'fi'
	} >"$file"
	chmod +x "$file"
}

# pause_init FILE: an INIT hook printing the default script with a pause
# before the reaper is exec'ed, when BASE/pause says init: pid 1 is then
# this shell, waiting in `sleep` (its child).
pause_init() {
	cat >"$1" <<'HOOK'
#!/bin/sh
"$OVERLAY_BOOT_LIB/overlay-init" "$@" | sed '/^exec .*reaper/i\
if [ -e /pause-init ]; then echo $$ >/at.tmp \&\& mv /at.tmp /at; while :; do sleep 1; done; fi'
HOOK
	chmod +x "$1"
}

# pause_service FILE: a START service that, when /pause-svc exists inside,
# starts a daemon (sleep 1000), writes its pid to /at and waits; `stop` pauses when /pause-stop exists.
# No argument is start: a START path runs with none (as upstream's).
pause_service() {
	cat >"$1" <<'SVC'
#!/bin/sh
case "${1:-start}" in
start)
	# a daemon, so that the subhost has something to run
	sleep 1000 </dev/null >/dev/null 2>&1 &
	[ -e /pause-svc ] || exit 0
	;;
stop) [ -e /pause-stop ] || exit 0 ;;
esac
echo $$ >/at.tmp && mv /at.tmp /at
exec sleep 120 >/dev/null 2>&1
SVC
	chmod +x "$1"
}

# kill_state NAME FILE: SIGKILL the pid recorded in state FILE, if any.
kill_state() {
	local pid
	pid=$(cat "$STATE/$1/$2" 2>/dev/null) && [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	true
}

# ppid_of PID
ppid_of() {
	awk '{print $4}' "/proc/$1/stat" 2>/dev/null
}

# inside_pid NAME ARGS: the host pid of a process of subhost NAME (found in
# its cgroup: the payload group below overlay-boot/NAME) whose command
# line is exactly ARGS (words joined by blanks).
inside_pid() {
	local p procs
	procs=$(find /sys/fs/cgroup -path "*/overlay-boot/$1/payload/cgroup.procs" 2>/dev/null | head -n 1)
	[ -n "$procs" ] || return 1
	for p in $(cat "$procs"); do
		if [ "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" = "$2 " ]; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# wait_gone PID [TRIES]: wait for a process (not our child) to end.
wait_gone() {
	local i
	for i in $(seq 1 "${2:-200}"); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	echo "process $1 still there" >&2
	return 1
}

# has_cgroup NAME: a cgroup of subhost NAME exists in some hierarchy.
has_cgroup() {
	[ -n "$(find /sys/fs/cgroup -maxdepth 3 -type d -path "*/overlay-boot/$1" 2>/dev/null)" ]
}

# image_upper NAME: a subhost whose UPPER and WORK are on a 32 MB ext4
# image in its BASE (up.img, mounted by overlay-diskfile on up); prints
# the config path.
image_upper() {
	local conf
	conf=$(make_subhost "$1" "UPPER=!overlay-diskfile up/root up.img")
	mkdir -p "$BATS_TEST_TMPDIR/tree/root" "$BATS_TEST_TMPDIR/tree/work"
	truncate -s 32M "${conf%/*}/up.img"
	mkfs.ext4 -q -d "$BATS_TEST_TMPDIR/tree" "${conf%/*}/up.img"
	echo "$conf"
}
