#!/usr/bin/env bats
# Lock files live only while they are needed: none is left after a stop,
# a failed boot, a stop of a name that never ran, or a name that fails
# validation; the lock still keeps a second boot out.

load helpers

@test "no lock file is left after a boot and a stop" {
	conf=$(make_subhost obfl1)
	boot "$conf"
	[ -e "$STATE/obfl1.lock" ]
	stop obfl1
	[ ! -e "$STATE/obfl1.lock" ]
	settled obfl1
}

@test "no lock file is left after a boot that fails after taking the lock" {
	conf=$(make_subhost obfl2 LOWER=/nonexistent)
	run timeout -k 5 30 "$TOP/overlay-boot" "$conf"
	[ "$status" = 1 ]
	[ ! -e "$STATE/obfl2.lock" ]
	# and one that fails in the supervisor
	conf=$(make_subhost obfl2 PREMOUNT=/bin/false)
	run timeout -k 5 30 "$TOP/overlay-boot" "$conf"
	[ "$status" = 1 ]
	[ ! -e "$STATE/obfl2.lock" ]
	settled obfl2
}

@test "overlay-stop of a name that never ran leaves no lock file" {
	run timeout -k 5 30 "$TOP/overlay-stop" obfl3
	[ "$status" = 0 ]
	[[ "$output" == *"not running"* ]]
	[ ! -e "$STATE/obfl3.lock" ]
}

@test "a name that fails validation creates nothing in the state directory" {
	before=$(ls -A "$STATE")
	run timeout -k 5 30 "$TOP/overlay-stop" 'obfl4$x'
	[ "$status" != 0 ]
	conf=$(make_subhost obfl4 'NAME=obfl4/../x')
	run timeout -k 5 30 "$TOP/overlay-boot" "$conf"
	[ "$status" = 1 ]
	run timeout -k 5 30 "$TOP/overlay-stop" "$conf"
	[ "$status" != 0 ]
	[ "$(ls -A "$STATE")" = "$before" ]
}

@test "the lock still refuses a second boot, and a stop after a killed supervisor removes it" {
	conf=$(make_subhost obfl5)
	boot "$conf"
	run timeout -k 5 30 "$TOP/overlay-boot" "$conf"
	[ "$status" = 1 ]
	[[ "$output" == *"already running"* ]]
	kill -KILL "$(cat "$STATE/obfl5/supervisor")"
	stop obfl5
	[ ! -e "$STATE/obfl5.lock" ]
	settled obfl5
}
