#!/usr/bin/env bats
# One answer to "what is this subhost doing": overlay-list (table and
# -j), `subhosts.sh status` and overlay-stop's message agree for a
# stopped, starting, running, stopping and stale subhost, and a subhost's
# NAME is read the same way everywhere. Names are validated wherever they
# come from.

load helpers

# list_state NAME: the STATE column of overlay-list's table for NAME.
list_state() {
	SUBHOSTS_CONF=$LIST "$TOP/overlay-list" | awk -v n="$1" '$1 == n { print $2 }'
}

# json_state NAME: the state of NAME in overlay-list -j.
json_state() {
	SUBHOSTS_CONF=$LIST "$TOP/overlay-list" -j | python3 -c '
import json, sys
rows = [r for r in json.load(sys.stdin) if r["name"] == sys.argv[1]]
print(rows[0]["state"] if rows else "")' "$1"
}

# initscript_state NAME: the state of NAME in `subhosts.sh status`.
initscript_state() {
	SUBHOSTS_CONF=$LIST sh "$TOP/subhosts.sh" status </dev/null |
		awk -v n="$1" '$1 == n { print $2 }'
}

# assert_state NAME STATE: every view reports NAME as STATE.
assert_state() {
	assert_equal "$2" "$(list_state "$1")" "overlay-list state of $1"
	assert_equal "$2" "$(json_state "$1")" "overlay-list -j state of $1"
	assert_equal "$2" "$(initscript_state "$1")" "subhosts.sh status state of $1"
}

setup_test() {
	LIST=$BATS_TEST_TMPDIR/subhosts.conf
	: >"$LIST"
}

@test "a quoted NAME = 'obqw' is obqw for overlay-list, subhosts.sh status and overlay-stop" {
	conf=$(make_subhost obqconf "NAME = 'obqw'")
	echo "$conf" >"$LIST"
	# listed, not running: the name as the parser reads it
	run env SUBHOSTS_CONF="$LIST" "$TOP/overlay-list"
	assert_output_has "obqw "
	assert_output_lacks "'obqw'"
	boot "$conf"
	when_finished "$TOP/overlay-stop" obqw
	assert_exists /run/overlay-boot/obqw
	assert_state obqw running
	run env SUBHOSTS_CONF="$LIST" "$TOP/overlay-list"
	assert_output_lacks "'obqw'"
	run "$TOP/overlay-stop" "$conf"
	assert_status 0
	assert_output_has "obqw stopped"
	assert_missing /run/overlay-boot/obqw
}

@test "a stopped subhost (listed, never booted) is stopped everywhere; overlay-stop says it is not running" {
	conf=$(make_subhost obqs)
	echo "$conf" >"$LIST"
	assert_state obqs stopped
	run "$TOP/overlay-stop" "$conf"
	assert_status 0
	assert_output_has "obqs is not running"
}

@test "a starting subhost is starting everywhere; overlay-stop abandons its boot" {
	conf=$(make_subhost obqb PREMOUNT=wait-premount)
	echo "$conf" >"$LIST"
	printf '#!/bin/sh\nwhile [ ! -e "%s/go" ]; do sleep 0.05; done\n' "$BATS_TEST_TMPDIR" \
		>"${conf%/*}/wait-premount"
	chmod +x "${conf%/*}/wait-premount"
	"$TOP/overlay-boot" "$conf" 2>/dev/null &
	booting=$!
	when_finished kill "$booting"
	when_finished touch "$BATS_TEST_TMPDIR/go"
	wait_until test -e /run/overlay-boot/obqb/supervisor.start
	assert_state obqb starting
	run "$TOP/overlay-stop" obqb
	assert_status 0
	assert_output_has "obqb is starting: abandoning the boot"
	run wait "$booting"
	assert_status 1
	assert_missing /run/overlay-boot/obqb
}

@test "a stopping subhost is stopping everywhere; a second overlay-stop waits for the first" {
	conf=$(make_subhost obqt STOP_TIMEOUT=3)
	echo "$conf" >"$LIST"
	boot "$conf"
	when_finished "$TOP/overlay-stop" obqt
	# a process that ignores SIGTERM keeps the reaper in its grace period
	go obqt sh -c 'trap "" TERM; while :; do sleep 1; done </dev/null >/dev/null 2>&1 &'
	"$TOP/overlay-stop" obqt >/dev/null &
	first=$!
	wait_until grep -q SIGTERM "${conf%/*}/log"
	assert_state obqt stopping
	run "$TOP/overlay-stop" obqt
	assert_status 0
	assert_output_has "obqt is stopping already: waiting for it"
	assert_output_has "obqt stopped"
	wait "$first"
	assert_missing /run/overlay-boot/obqt
}

@test "a subhost whose supervisor was killed is running everywhere, stale once its pid 1 is gone too; overlay-stop cleans it up" {
	conf=$(make_subhost obqk)
	echo "$conf" >"$LIST"
	boot "$conf"
	when_finished "$TOP/overlay-stop" obqk
	kill -KILL "$(cat /run/overlay-boot/obqk/supervisor)"
	wait_until sh -c '! kill -0 "$(cat /run/overlay-boot/obqk/supervisor)" 2>/dev/null'
	assert_state obqk running
	kill -KILL "$(cat /run/overlay-boot/obqk/pid1)"
	wait_until sh -c '! kill -0 "$(cat /run/overlay-boot/obqk/pid1)" 2>/dev/null'
	assert_state obqk stale
	run "$TOP/overlay-stop" "$conf"
	assert_status 0
	assert_output_has "obqk: supervisor is gone; cleaning up what it left"
	assert_missing /run/overlay-boot/obqk
}

@test "NAME=../..DIR in a config: overlay-stop, overlay-go and overlay-boot refuse it and remove nothing" {
	victim=$BATS_TEST_TMPDIR/victim
	mkdir -p "$victim/undo"
	echo precious >"$victim/file"
	# from /run/overlay-boot, ../.. is /
	conf=$(make_subhost obqv "NAME=../..$victim")
	for cmd in overlay-stop overlay-go overlay-boot; do
		run --separate-stderr "$TOP/$cmd" "$conf"
		assert_status 1
		assert_equal 1 "${#stderr_lines[@]}" "lines on stderr from $cmd"
		[[ "$stderr" == *"NAME: '../..$victim' may only contain"* ]] ||
			{ echo "$cmd said: $stderr" >&2; false; }
		assert_file_has "$victim/file" precious
		assert_exists "$victim/undo"
	done
}

@test "a state directory whose name is not a subhost name is never acted on" {
	mkdir "/run/overlay-boot/-obqx"
	when_finished rmdir "/run/overlay-boot/-obqx"
	run --separate-stderr "$TOP/overlay-list"
	assert_status 0
	[[ "$stderr" == *"-obqx: not a subhost name; ignored"* ]] || { echo "stderr: $stderr" >&2; false; }
	assert_output_lacks "-obqx"
	assert_equal "" "$(initscript_state -obqx 2>/dev/null)" "subhosts.sh status of -obqx"
	assert_exists "/run/overlay-boot/-obqx"
}

# list_programs: how many programs one overlay-list runs (execve calls).
list_programs() {
	SUBHOSTS_CONF=$LIST timeout 60 strace -f -qq -e trace=execve -e signal=none \
		-o "$BATS_TEST_TMPDIR/list.strace" "$TOP/overlay-list" >"$BATS_TEST_TMPDIR/list.out" &&
		grep -c 'execve(' "$BATS_TEST_TMPDIR/list.strace"
}

@test "overlay-list runs as many programs for three subhosts as for one, and still shows each one's MAC and address" {
	local one three i
	for i in 1 2 3; do
		conf=$(make_subhost "obql$i" "CABLES= =02:00:00:0b:0c:0$i")
		boot "$conf"
		when_finished "$TOP/overlay-stop" "obql$i"
		go "obql$i" ip addr add "10.232.0.$i/24" dev eth0
		[ "$i" -gt 1 ] || one=$(list_programs)
	done
	three=$(list_programs)
	assert_equal "$one" "$three" "programs run by overlay-list, 1 against 3 subhosts"
	for i in 1 2 3; do
		assert_file_has "$BATS_TEST_TMPDIR/list.out" "eth0 02:00:00:0b:0c:0$i; 10.232.0.$i/24"
	done
}
