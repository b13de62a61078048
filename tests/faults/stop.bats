#!/usr/bin/env bats
# Kill at every stop step: while a START service stops, while the reaper
# waits out STOP_TIMEOUT, while the supervisor undoes the boot; SIGKILL
# the supervisor, pid 1 or overlay-stop itself; a second overlay-stop
# (or the first, when it survives) leaves nothing.

load helpers

@test "SIGKILL of the supervisor, pid 1 or overlay-stop at every stop step" {
	# a named service: overlay-stop stops those (a START path it does not)
	conf=$(make_subhost obfs1 START=obfsvc STOP_TIMEOUT=2)
	base=${conf%/*}
	mkdir -p "$base/root/etc/init.d"
	pause_service "$base/root/etc/init.d/obfsvc"
	for c in svcstop/supervisor svcstop/pid1 svcstop/stop grace/supervisor grace/pid1 \
		grace/stop undo/supervisor undo/stop; do
		step=${c%/*} target=${c#*/}
		echo "# case $c" >&2
		rm -f "$base/root/at" "$base/root/pause-stop"
		: >"$base/log"
		boot "$conf"
		[ "$step" = svcstop ] && touch "$base/root/pause-stop"
		[ "$step" = grace ] && go obfs1 sh -c 'trap "" TERM; while :; do sleep 1; done </dev/null >/dev/null 2>&1 &'
		sup=$(cat "$STATE/obfs1/supervisor") p1=$(cat "$STATE/obfs1/pid1")
		"$TOP/overlay-stop" obfs1 >/dev/null 2>&1 &
		s=$!
		case "$step" in
		svcstop) wait_for test -s "$base/root/at" ;;
		grace) wait_for grep -q SIGTERM "$base/log" ;;
		undo) wait_for grep -q 'cleaning up' "$base/log" ;;
		esac
		# The undo takes a few ms: its process may have finished before the
		# kill lands; the second stop must leave nothing either way.
		case "$target" in
		supervisor) kill -KILL "$sup" 2>/dev/null || [ "$step" = undo ] ;;
		pid1) kill -KILL "$p1" ;;
		stop) kill -KILL "$s" 2>/dev/null || [ "$step" = undo ] ;;
		esac
		# a hung service stop is the administrator's; end it
		[ "$step" != svcstop ] || { p=$(inside_pid obfs1 "sleep 120") && kill "$p"; } || true
		wait_gone "$s" 600
		wait "$s" || true
		stop obfs1
		settled obfs1 || { echo "case $c" >&2; false; }
	done
}
