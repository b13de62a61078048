#!/usr/bin/env bats
# Concurrency: many subhosts at once, many boots of one name, and
# overlay-go into a subhost that is stopping. (Stop racing boot is in
# known-bugs.bats.disabled: a stop can be lost.)

load helpers

@test "20 subhosts booted in parallel with distinct names all come up, and all stop" {
	rounds=1
	[ -z "$SOAK" ] || rounds=5
	names=$(seq -f 'obfc%02g' 1 20)
	for n in $names; do make_subhost "$n" >/dev/null; done
	for r in $(seq 1 "$rounds"); do
		pids=
		for n in $names; do
			"$TOP/overlay-boot" "$BATS_TEST_TMPDIR/$n/$n.conf" >"$BATS_TEST_TMPDIR/$n.out" 2>&1 &
			pids="$pids $!"
		done
		failed=0
		for p in $pids; do wait "$p" || failed=$((failed + 1)); done
		[ "$failed" = 0 ] || { cat "$BATS_TEST_TMPDIR"/*.out; false; }
		for n in $names; do [ "$(go "$n" hostname)" = "$n" ]; done
		pids=
		for n in $names; do "$TOP/overlay-stop" "$n" >/dev/null & pids="$pids $!"; done
		for p in $pids; do wait "$p"; done
		settled $names
	done
}

@test "10 parallel boots of one name: exactly one wins, the others change nothing" {
	conf=$(make_subhost obfc21)
	rounds=1
	[ -z "$SOAK" ] || rounds=10
	for r in $(seq 1 "$rounds"); do
		pids=
		for i in $(seq 1 10); do "$TOP/overlay-boot" "$conf" >/dev/null 2>&1 & pids="$pids $!"; done
		wins=0
		for p in $pids; do if wait "$p"; then wins=$((wins + 1)); fi; done
		[ "$wins" = 1 ]
		[ "$(go obfc21 hostname)" = obfc21 ]
		stop obfc21
		settled obfc21
	done
}

@test "overlay-go into a subhost that is stopping fails cleanly" {
	conf=$(make_subhost obfc23 STOP_TIMEOUT=3)
	base=${conf%/*}
	boot "$conf"
	# a process that ignores SIGTERM keeps the reaper in its grace period
	go obfc23 sh -c 'trap "" TERM; while :; do sleep 1; done </dev/null >/dev/null 2>&1 &'
	"$TOP/overlay-stop" obfc23 >/dev/null &
	s=$!
	wait_for grep -q 'SIGTERM' "$base/log"
	run go obfc23 true
	echo "during: $status $output"
	[ "$status" = 0 ] || { [ "$status" = 1 ] && [ "${#lines[@]}" -le 1 ]; }
	wait "$s"
	run go obfc23 true
	[ "$status" = 1 ]
	[ "${#lines[@]}" = 1 ]
	[[ "$output" == *"not running"* ]]
	settled obfc23
}
