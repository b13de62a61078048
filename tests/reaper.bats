#!/usr/bin/env bats
# src/reaper, the subhost's pid 1, run as pid 1 of real pid namespaces.

# shellcheck disable=SC2154 # status, output and stderr are set by bats' run

load helpers
bats_require_minimum_version 1.5.0

R="$BATS_TEST_DIRNAME/../src/reaper"

# now_ms: CLOCK_REALTIME in milliseconds, without a fork.
now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

# A new pid namespace whose pid 1 gets SIGKILL should unshare die, so that
# a failing test cannot leave a namespace behind. (unshare ignores SIGTERM
# while it waits, hence `timeout -s KILL`.)
NS=(unshare --pid --kill-child --mount-proc)

# start_ns SCRIPT: run `sh -c SCRIPT` as pid 1 of a new pid namespace, in
# the background. SCRIPT starts what it wants and ends with
# `exec "$R" ... -r 3`; it sees R and OUT (the test's temporary directory)
# in its environment. Returns once the reaper wrote "ready" on fd 3, with
# UPID (unshare, the namespace's parent) and PID1 (the reaper, seen from
# here). The reaper's stderr goes to $OUT/stderr.
start_ns() {
	local fifo=$BATS_TEST_TMPDIR/ready line fd
	mkfifo "$fifo"
	R=$R OUT=$BATS_TEST_TMPDIR "${NS[@]}" \
		sh -c "$1" 3>"$fifo" 2>"$BATS_TEST_TMPDIR/stderr" &
	UPID=$!
	# read-write, so that opening cannot block if the writer never comes
	exec {fd}<>"$fifo"
	read -r -t 5 line <&"$fd" || true
	exec {fd}<&-
	rm -f "$fifo"
	PID1=$(pgrep -P "$UPID") || true
	if [ "$line" != ready ] || [ -z "$PID1" ]; then
		echo "no \"ready\" from the reaper (got '$line')" >&2
		kill -9 "$UPID"
		wait "$UPID" || true
		return 1
	fi
}

# wait_ns: wait up to 10 s for the namespace to end, and set STATUS to the
# reaper's exit status; past that, kill it and fail.
wait_ns() {
	local i
	for ((i = 0; i < 500; i++)); do
		kill -0 "$UPID" 2>/dev/null || break
		sleep 0.02
	done
	if kill -0 "$UPID" 2>/dev/null; then
		kill -9 "$UPID"
		wait "$UPID" || true
		echo "the namespace did not end within 10 s" >&2
		return 1
	fi
	STATUS=0
	wait "$UPID" || STATUS=$?
}

# Called by the helpers' teardown, before the leak check: a test that
# failed half-way must not leave its namespace running.
teardown_test() {
	if [ -n "${UPID:-}" ] && kill -0 "$UPID" 2>/dev/null; then
		kill -9 "$UPID" # --kill-child takes the namespace with it
		wait "$UPID" || true
	fi
}

# zombies_in FILE: how many zombies a copy of /proc/[0-9]*/stat lists.
zombies_in() {
	[ -s "$1" ] || { echo "checker did not run" >&2; return 1; }
	grep -c ' Z ' "$1" || true
}

@test "reaper: binary is static and at most 16 KiB" {
	size=$(stat -c %s "$R")
	echo "size: $size bytes"
	[ "$size" -le 16384 ]
	run file "$R"
	[[ "$output" == *"statically linked"* ]]
}

@test "reaper: --help, --version" {
	run "$R" --version
	[ "$status" -eq 0 ]
	[ "$output" = "reaper 0.1" ]
	run "$R" --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: reaper [-t SECONDS] [-r FD] [-k]"* ]]
	[[ "$output" == *"-k"* ]]
	[[ "$output" == *"runs until it is stopped"* ]]
}

@test "reaper: a bad option or value exits 2 with the usage line on stderr" {
	for args in "-x" "-t" "-t abc" "-t -1" "-r" "-r x" "-k extra" "--bogus"; do
		# shellcheck disable=SC2086 # split on purpose
		run --separate-stderr "$R" $args
		echo "args: $args -> $status: $stderr"
		[ "$status" -eq 2 ]
		[ -z "$output" ]
		[[ "$stderr" == "reaper: "*"usage: reaper [-t SECONDS] [-r FD] [-k]" ]]
	done
}

@test "reaper: refuses to run unless it is pid 1" {
	run --separate-stderr "$R" -k -t 0
	[ "$status" -eq 2 ]
	[[ "$stderr" == "reaper: not pid 1"* ]]
	[ "$(echo "$stderr" | wc -l)" -eq 1 ]
}

@test "reaper: stays up once its last process, an orphan, has exited; SIGTERM ends it at once" {
	# The subshell exits at once; its sleep is reparented to the reaper,
	# which reaps it and keeps running: a subhost ends only when stopped.
	start_ns '(sleep 0.3 &); exec "$R" -t 5 -r 3'
	sleep 1
	kill -0 "$PID1" || { echo "the reaper ended by itself"; false; }
	children=$(pgrep -P "$PID1" | wc -l)
	echo "children of the reaper after 1 s: $children"
	[ "$children" -eq 0 ]
	t0=$(now_ms)
	kill -TERM "$PID1"
	wait_ns
	elapsed=$(($(now_ms) - t0))
	echo "status $STATUS after $elapsed ms"
	[ "$STATUS" -eq 0 ]
	[ "$elapsed" -lt 1000 ]
}

@test "reaper: with no process at all from the start, it stays up until SIGTERM" {
	start_ns 'exec "$R" -t 5 -r 3'
	sleep 0.5
	kill -0 "$PID1" || { echo "the reaper ended by itself"; false; }
	kill -TERM "$PID1"
	wait_ns
	echo "status $STATUS"
	[ "$STATUS" -eq 0 ]
}

@test "reaper: an inherited SIG_IGN on SIGCHLD does not hide its children from it" {
	# With SIGCHLD ignored the kernel would reap the children itself and
	# send no SIGCHLD: a reaper that kept it would sleep out the whole
	# grace period at stop although its child ended on SIGTERM at once.
	start_ns 'sh -c "trap \"exit 0\" TERM; while :; do sleep 0.1; done" &
		exec env --ignore-signal=CHLD "$R" -t 5 -r 3'
	t0=$(now_ms)
	kill -TERM "$PID1"
	wait_ns
	elapsed=$(($(now_ms) - t0))
	echo "status $STATUS after $elapsed ms"
	cat "$BATS_TEST_TMPDIR/stderr"
	[ "$STATUS" -eq 0 ]
	[ "$elapsed" -lt 3000 ]
}

@test "reaper: reaps orphans, so no zombie stays in the namespace" {
	# Two sleeps die while their parent (exec'ed into sleep 0.4) does not
	# reap them; at 0.4 s these zombies are orphaned to pid 1. Another
	# orphan is reparented alive and dies at 0.3 s. At 1 s a child lists
	# the zombies of the namespace.
	scenario='
		(sleep 0.1 & sleep 0.1 & exec sleep 0.4) &
		(sh -c "sleep 0.3 &") &
		(sleep 1; cat /proc/[0-9]*/stat >"$OUT/$0.tmp"; mv "$OUT/$0.tmp" "$OUT/stat.$0") &
		'
	# Control: a pid 1 that does not reap leaves the zombies there.
	OUT=$BATS_TEST_TMPDIR timeout -s KILL 10 "${NS[@]}" \
		sh -c "$scenario exec sleep 1.5" control
	n=$(zombies_in "$BATS_TEST_TMPDIR/stat.control")
	echo "zombies with sleep as pid 1: $n"
	[ "$n" -ge 3 ]

	start_ns "$scenario"' exec "$R" -t 2 -r 3'
	for _ in $(seq 1 50); do
		[ -s "$BATS_TEST_TMPDIR/stat.sh" ] && break
		sleep 0.1
	done
	kill -TERM "$PID1"
	wait_ns
	n=$(zombies_in "$BATS_TEST_TMPDIR/stat.sh")
	echo "zombies with the reaper as pid 1: $n"
	cat "$BATS_TEST_TMPDIR/stat.sh"
	[ "$n" -eq 0 ]
}

@test "reaper: -r writes ready and closes the fd; a bad -r fd is an error" {
	fifo=$BATS_TEST_TMPDIR/fifo
	mkfifo "$fifo"
	# only the reaper holds the fifo open, not unshare
	"${NS[@]}" sh -c 'exec "$0" -k -r 3 3>"$1"' "$R" "$fifo" &
	UPID=$!
	exec {fd}<"$fifo"
	read -r -t 5 line <&"$fd" || true
	# closed: the only writer is gone, so the next read sees end of file
	st=0
	read -r -t 5 line2 <&"$fd" || st=$?
	exec {fd}<&-
	kill -TERM "$(pgrep -P "$UPID")" || true
	wait_ns
	[ "$line" = ready ]
	[ "$st" -eq 1 ] # 1 is end of file; a timeout would be > 128
	[ "$STATUS" -eq 0 ]

	run --separate-stderr timeout -s KILL 10 "${NS[@]}" "$R" -r 9 9>&-
	[ "$status" -eq 1 ]
	[[ "$stderr" == "reaper: -r 9: Bad file descriptor" ]]
}

@test "reaper: -k is still accepted and changes nothing (it stays up until SIGTERM)" {
	start_ns 'exec "$R" -k -t 5 -r 3'
	sleep 0.5
	kill -0 "$PID1"
	[ "$(pgrep -P "$PID1" | wc -l)" -eq 0 ]
	t0=$(now_ms)
	kill -TERM "$PID1"
	wait_ns
	elapsed=$(($(now_ms) - t0))
	[ "$STATUS" -eq 0 ]
	[ "$elapsed" -lt 1000 ]
}

@test "reaper: SIGTERM from the host ends children that trap TERM, even a stopped one, at once" {
	# The second child is stopped: it handles TERM only if it gets SIGCONT.
	start_ns '
		sh -c "trap \"echo TERM >\$OUT/got; exit 0\" TERM; while :; do sleep 0.1; done" &
		sh -c "trap \"echo TERM >\$OUT/got2; exit 0\" TERM; kill -STOP \$\$; while :; do sleep 0.1; done" &
		exec "$R" -t 5 -r 3'
	t0=$(now_ms)
	kill -TERM "$PID1"
	wait_ns
	elapsed=$(($(now_ms) - t0))
	echo "status $STATUS after $elapsed ms"
	cat "$BATS_TEST_TMPDIR/stderr"
	[ "$STATUS" -eq 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/got")" = TERM ]
	[ "$(cat "$BATS_TEST_TMPDIR/got2")" = TERM ]
	[ "$elapsed" -lt 2000 ]
	grep -q 'SIGTERM' "$BATS_TEST_TMPDIR/stderr"
	[ "$(grep -c 'grace period over' "$BATS_TEST_TMPDIR/stderr")" -eq 0 ]
}

@test "reaper: a child that ignores SIGTERM is SIGKILLed after -t seconds" {
	start_ns '
		sh -c "trap \"\" TERM; while :; do sleep 0.1; done" &
		exec "$R" -t 2 -r 3'
	t0=$(now_ms)
	kill -TERM "$PID1"
	wait_ns
	elapsed=$(($(now_ms) - t0))
	echo "status $STATUS after $elapsed ms"
	cat "$BATS_TEST_TMPDIR/stderr"
	[ "$STATUS" -eq 0 ]
	[ "$elapsed" -ge 2000 ]
	[ "$elapsed" -lt 5000 ]
	grep -q 'grace period over: SIGKILL' "$BATS_TEST_TMPDIR/stderr"
}

@test "reaper: SIGINT and SIGPWR stop it like SIGTERM (TERM to all, wait -t, KILL)" {
	for sig in INT PWR; do
		rm -f "$BATS_TEST_TMPDIR/got"
		start_ns '
			sh -c "trap \"echo TERM >\$OUT/got; exit 0\" TERM; while :; do sleep 0.1; done" &
			sh -c "trap \"\" TERM; while :; do sleep 0.1; done" &
			exec "$R" -t 1 -r 3'
		t0=$(now_ms)
		kill -"$sig" "$PID1"
		wait_ns
		elapsed=$(($(now_ms) - t0))
		echo "SIG$sig: status $STATUS after $elapsed ms"
		cat "$BATS_TEST_TMPDIR/stderr"
		[ "$STATUS" -eq 0 ]
		[ "$(cat "$BATS_TEST_TMPDIR/got")" = TERM ]
		[ "$elapsed" -ge 1000 ]
		[ "$elapsed" -lt 4000 ]
		grep -q "SIG$sig" "$BATS_TEST_TMPDIR/stderr"
		grep -q 'grace period over: SIGKILL' "$BATS_TEST_TMPDIR/stderr"
	done
}

@test "reaper: SIGHUP, SIGUSR1, SIGUSR2, SIGPIPE, SIGQUIT neither kill nor stop it" {
	start_ns 'sleep 1000 & exec "$R" -t 5 -r 3'
	for sig in HUP USR1 USR2 PIPE QUIT; do
		kill -"$sig" "$PID1"
	done
	# ... from inside the namespace either
	nsenter -t "$PID1" -p -m sh -c 'for s in HUP USR1 USR2 PIPE QUIT; do kill -$s 1; done'
	sleep 0.3
	kill -0 "$PID1"
	[ "$(pgrep -P "$PID1" | wc -l)" -eq 1 ] # sleep 1000 untouched
	[ ! -s "$BATS_TEST_TMPDIR/stderr" ]
	kill -TERM "$PID1"
	wait_ns
	[ "$STATUS" -eq 0 ]
}

@test "reaper: while stopping, waits for processes that joined with setns, not only its children" {
	start_ns 'exec "$R" -k -t 5 -r 3'
	# not a child of the reaper: its parent is nsenter, on the host side
	nsenter -t "$PID1" -p -m --root sh -c \
		'trap "sleep 0.5; echo finished >$0; exit 0" TERM; while :; do sleep 0.1; done' \
		"$BATS_TEST_TMPDIR/got" &
	nspid=$!
	sleep 0.3
	t0=$(now_ms)
	kill -TERM "$PID1"
	wait_ns
	elapsed=$(($(now_ms) - t0))
	wait "$nspid" || true
	echo "status $STATUS after $elapsed ms"
	[ "$STATUS" -eq 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/got")" = finished ]
	[ "$elapsed" -ge 400 ]
	[ "$elapsed" -lt 3000 ]
}

# svc_subhost NAME SCRIPT: a subhost over / whose only START service is
# /etc/init.d/svc (in UPPER) with SCRIPT as its body; prints the config.
svc_subhost() {
	local conf base
	conf=$(make_subhost "$1" START=svc STOP_TIMEOUT=2)
	base=${conf%/*}
	mkdir -p "$base/root/etc/init.d"
	printf '#!/bin/sh\n%s\n' "$2" >"$base/root/etc/init.d/svc"
	chmod +x "$base/root/etc/init.d/svc"
	echo "$conf"
}

# still_up NAME: the subhost's pid 1 is the reaper and can be entered.
still_up() {
	local out
	out=$(go "$1" cat /proc/1/cmdline | tr '\0' ' ') || {
		echo "cannot enter $1: $out" >&2
		return 1
	}
	echo "pid 1 of $1: $out"
	[[ "$out" == */reaper* ]]
}

@test "subhost: a START service that leaves no process does not end the subhost" {
	conf=$(svc_subhost obr1 'echo "svc $1" >>/var/tmp/svc.log')
	boot "$conf"
	sleep 1
	still_up obr1
	stop obr1
	[ "$(cat "${conf%/*}/root/var/tmp/svc.log")" = "$(printf 'svc start\nsvc stop')" ]
}

@test "subhost: 'service svc stop' of its only service leaves the subhost up" {
	conf=$(svc_subhost obr2 'case "$1" in
start) sleep 1000 </dev/null >/dev/null 2>&1 & echo $! >/run/svc.pid ;;
stop) kill "$(cat /run/svc.pid)" ;;
esac')
	boot "$conf"
	run go obr2 sh -c 'ps -e -o args | grep -c "^[s]leep 1000"'
	echo "sleeps before: $output"
	[ "$output" = 1 ]
	run go obr2 service svc stop
	echo "service svc stop: $status $output"
	[ "$status" -eq 0 ]
	sleep 1
	run go obr2 sh -c 'ps -e -o args | grep -c "^[s]leep 1000"'
	echo "sleeps after: $output"
	[ "$output" = 0 ]
	still_up obr2
	stop obr2
}
