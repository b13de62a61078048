#!/usr/bin/env bats
# Bounded time everywhere: a signal abandons a boot at any point, a START
# service that never finishes starting and a service stop that never
# returns are bounded, a process that cannot be killed is named. Every
# wait here is bounded; a hang is a failure.

load helpers

# boot_bg CONF: overlay-boot CONF in the background, with SIGINT not
# ignored (bash ignores it in background jobs); BOOT_PID is its pid, its
# output goes to BOOT_OUT. Killed at the end of the test if still there.
boot_bg() {
	BOOT_OUT=$BATS_TEST_TMPDIR/boot.out
	env --default-signal=INT,TERM,HUP "$TOP/overlay-boot" "$1" >"$BOOT_OUT" 2>&1 &
	BOOT_PID=$!
	when_finished kill -KILL "$BOOT_PID"
}

# signal_ends_boot SIGNAL: send SIGNAL to the boot; it must end within
# 10 s with status 1 and one line saying so, leaving nothing.
signal_ends_boot() {
	kill -"$1" "$BOOT_PID"
	wait_gone "$BOOT_PID" 200
	local rc=0
	wait "$BOOT_PID" || rc=$?
	cat "$BOOT_OUT" >&2
	[ "$rc" = 1 ]
	[ "$(wc -l <"$BOOT_OUT")" = 1 ]
	grep -q 'interrupted by a signal' "$BOOT_OUT"
}

@test "SIGTERM to overlay-boot while a ! command hangs: the boot ends at once, nothing left" {
	conf=$(make_subhost obfh1 "LOWER=!touch $BATS_TEST_TMPDIR/bang; sleep 100; echo /")
	boot_bg "$conf"
	wait_for test -e "$BATS_TEST_TMPDIR/bang"
	signal_ends_boot TERM
	settled obfh1
}

@test "SIGINT to overlay-boot while a START service hangs: the boot is abandoned, nothing left" {
	conf=$(make_subhost obfh2 START=/svc START_TIMEOUT=100)
	base=${conf%/*}
	pause_service "$base/root/svc"
	touch "$base/root/pause-svc"
	boot_bg "$conf"
	wait_for test -s "$base/root/at"
	signal_ends_boot INT
	settled obfh2
}

@test "SIGHUP to overlay-boot while PREMOUNT hangs: the boot is abandoned, nothing left" {
	conf=$(make_subhost obfh3 PREMOUNT=pre CABLES=)
	base=${conf%/*}
	pause_hook "$base/pre" overlay-premount
	echo pre >"$base/pause"
	boot_bg "$conf"
	wait_for test -s "$base/at"
	signal_ends_boot HUP
	settled obfh3
}

@test "a START service that never finishes starting: failed after START_TIMEOUT, left running, the subhost up" {
	conf=$(make_subhost obfh4 START=/svc START_TIMEOUT=1)
	base=${conf%/*}
	pause_service "$base/root/svc"
	touch "$base/root/pause-svc"
	run timeout -k 5 30 "$TOP/overlay-boot" "$conf"
	echo "$output"
	[ "$status" = 0 ]
	grep -q 'init: /svc failed to start: not finished within 1 s (left running)' "$base/log"
	inside_pid obfh4 "sleep 120"
	run timeout -k 5 60 "$TOP/overlay-stop" obfh4
	[ "$status" = 0 ]
	settled obfh4
}
