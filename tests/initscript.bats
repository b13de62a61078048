#!/usr/bin/env bats
# Boot-time start: the sysvinit script subhosts.sh, run directly from the
# tree as /etc/init.d/subhosts would be, against a test subhosts.conf; and
# subhosts-unit, the worker of subhosts@.service.
#
# The init script acts on every subhost of the machine (stop ends them all,
# status counts them all): run these tests where nothing else boots
# subhosts at the same time, as in CI.

load helpers

# initscript ACTION: run the init script the way init does, with the test's
# list.
initscript() {
	SUBHOSTS_CONF=$LIST sh "$TOP/subhosts.sh" "$@" </dev/null
}

setup_test() {
	LIST=$BATS_TEST_TMPDIR/subhosts.conf
}

@test "start boots the listed subhosts past a broken one; status, restart refused, stop in reverse order" {
	good=$(make_subhost obi1)
	# broken: its UPPER does not exist
	broken=$(make_subhost obi2 UPPER=nothere)
	cat >"$LIST" <<-LIST
	# subhosts started at boot

	$broken
	   $good   # the good one comes after the broken one
	LIST
	run initscript start
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"FAILED to start $broken (exit 1)"* ]]
	[[ "$output" == *"UPPER: "*"nothere does not exist"* ]]
	[[ "$output" == *"started $good"* ]]
	run go obi1 hostname
	[ "$output" = obi1 ]
	[ ! -e /run/overlay-boot/obi2 ]

	# status: obi2 is listed and not running
	run initscript status
	echo "$output"
	[ "$status" -eq 3 ]
	[[ "$output" == *"obi1"*"running"* ]]
	[[ "$output" == *"obi2"*"stopped"* ]]

	# a second start skips the running one and boots the repaired one
	sed -i '/^UPPER=/d' "$broken"
	pid1=$(cat /run/overlay-boot/obi1/pid1)
	run initscript start
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"obi1 ($good) is already running"* ]]
	[[ "$output" == *"started $broken"* ]]
	[ "$(cat /run/overlay-boot/obi1/pid1)" = "$pid1" ]
	run initscript status
	[ "$status" -eq 0 ]

	# restart and force-reload are refused and change nothing
	run initscript restart
	[ "$status" -eq 3 ]
	[[ "$output" == *"not supported"* ]]
	run initscript force-reload
	[ "$status" -eq 3 ]
	[ "$(cat /run/overlay-boot/obi1/pid1)" = "$pid1" ]
	run go obi2 true
	[ "$status" -eq 0 ]

	# stop: the list in reverse order (obi1 was listed last)
	run initscript stop
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"stopped obi1"*"stopped obi2"* ]]
	[ ! -e /run/overlay-boot/obi1 ]
	[ ! -e /run/overlay-boot/obi2 ]
	run initscript status
	[ "$status" -eq 3 ]
}

@test "stop also ends a subhost started by hand; status: running without its supervisor (LSB 0), stale without pid 1 (LSB 1); stop cleans it" {
	conf=$(make_subhost obi3)
	: >"$LIST"
	run initscript status
	[ "$status" -eq 3 ]
	boot "$conf"
	run initscript status
	[ "$status" -eq 0 ]
	[[ "$output" == *"obi3"*"running"* ]]
	# a killed supervisor: still running (LSB 0), then stale with its pid 1
	kill -KILL "$(cat /run/overlay-boot/obi3/supervisor)"
	sleep 0.2
	run initscript status
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"obi3"*"running"*"(supervisor gone)"* ]]
	kill -KILL "$(cat /run/overlay-boot/obi3/pid1)"
	sleep 0.2
	run initscript status
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"obi3"*"stale"* ]]
	run initscript stop
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"stopped obi3"* ]]
	[ ! -e /run/overlay-boot/obi3 ]
	[ ! -e /run/netns/obi3 ]
}

@test "a missing list starts nothing and is not an error; a relative path in the list is refused" {
	LIST=$BATS_TEST_TMPDIR/none.conf
	run initscript start
	[ "$status" -eq 0 ]
	[[ "$output" == *"cannot read $LIST"* ]]
	LIST=$BATS_TEST_TMPDIR/subhosts.conf
	echo "obi4/obi4.conf" >"$LIST"
	run initscript start
	[ "$status" -eq 1 ]
	[[ "$output" == *"not an absolute path"* ]]
	[ ! -e /run/overlay-boot/obi4 ]
}

@test "subhosts-unit (subhosts@.service): a listed name, and an escaped config path; the PID file names the supervisor" {
	conf=$(make_subhost obi5)
	echo "$conf" >"$LIST"
	export SUBHOSTS_CONF=$LIST SUBHOSTS_PID_DIR=$BATS_TEST_TMPDIR/pids
	run "$TOP/subhosts-unit" start obi5 obi5
	echo "$output"
	[ "$status" -eq 0 ]
	sup=$(cat "$SUBHOSTS_PID_DIR/obi5.pid")
	[ "$sup" = "$(cat /run/overlay-boot/obi5/supervisor)" ]
	kill -0 "$sup"
	run go obi5 hostname
	[ "$output" = obi5 ]
	run "$TOP/subhosts-unit" stop obi5 obi5
	[ "$status" -eq 0 ]
	[ ! -e "$SUBHOSTS_PID_DIR/obi5.pid" ]
	[ ! -e /run/overlay-boot/obi5 ]
	! kill -0 "$sup" 2>/dev/null

	# the same subhost by its config path, as systemd passes %i and %I
	escaped=$(systemd-escape --path "$conf")
	unescaped=$(systemd-escape --unescape --path "$escaped")
	[ "/$unescaped" = "$conf" ] || [ "$unescaped" = "$conf" ]
	: >"$LIST"
	run "$TOP/subhosts-unit" start "$escaped" "${unescaped#/}"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cat "$SUBHOSTS_PID_DIR/$escaped.pid")" = "$(cat /run/overlay-boot/obi5/supervisor)" ]
	run "$TOP/subhosts-unit" stop "$escaped" "${unescaped#/}"
	[ "$status" -eq 0 ]
	[ ! -e /run/overlay-boot/obi5 ]

	# a name that is not listed is refused with the way out
	run "$TOP/subhosts-unit" start obi6 obi6
	[ "$status" -eq 1 ]
	[[ "$output" == *"systemd-escape --path"* ]]
}
