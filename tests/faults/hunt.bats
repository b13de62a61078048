#!/usr/bin/env bats
# What the fault hunt of issue 16 found (items 5 and 7): descriptors that
# config commands must not inherit, hangs in them, and host-end names that
# collide. Each test failed against 9093829.

load helpers

teardown_test() {
	"$TOP/overlay-stop" obfhc >/dev/null 2>&1 || true
	pkill -f '^sleep (60|100)$' || true
}

# A `!` command's background child inherited fd 9, the subhost's lock:
# stop then waited 30 s for a supervisor that was gone, and the next boot
# said "already running".
@test "a process left by a ! command holds neither the lock nor the boot" {
	conf=$(make_subhost obfh1 "LOWER=!(sleep 60 </dev/null >/dev/null 2>&1 &); echo /")
	run timeout 30 "$TOP/overlay-boot" "$conf"
	echo "boot: $status: $output"
	[ "$status" = 0 ]
	left=$(pgrep -f '^sleep 60$' | head -1)
	echo "sleep left by the command: ${left:-none}"
	[ -n "$left" ]
	held=$(ls -l "/proc/$left/fd" | grep -F "$STATE/obfh1.lock" || true)
	kill "$left"
	echo "lock held by the sleep: ${held:-no}"
	[ -z "$held" ]
	run timeout 30 "$TOP/overlay-stop" obfh1
	echo "stop: $status: $output"
	[ "$status" = 0 ]
	settled obfh1
}

# A `!` command that never ends hung the boot, and stop could not abandon it.
@test "a ! command that hangs fails the boot after the bound, naming it" {
	conf=$(make_subhost obfh2 "LOWER=!sleep 100; echo /")
	OVERLAY_BOOT_BANG_TIMEOUT=2 run timeout 30 "$TOP/overlay-boot" "$conf"
	echo "boot: $status: $output"
	[ "$status" = 1 ]
	[[ "$output" == *"LOWER"*"sleep 100"*"did not finish within 2 s"* ]]
	run pgrep -f '^sleep 100$'
	echo "sleep still there: $output"
	[ "$status" = 1 ]
	settled obfh2
}

# Cable 10 of flc and cable 0 of flc1 are both flc10: booted together, the
# loser's undo deleted the winner's veth, as the link was journalled before
# `ip link add` failed with EEXIST.
@test "a host end that is another subhost's cable is refused naming both" {
	conf=$(make_subhost obfhc "CABLES== = = = = = = = = = =")
	boot "$conf"
	[ -e /sys/class/net/obfhc10 ]
	conf1=$(make_subhost obfhc1 "CABLES= =")
	run "$TOP/overlay-boot" "$conf1"
	echo "boot obfhc1: $status: $output"
	[ "$status" = 1 ]
	[ "${#lines[@]}" = 1 ]
	[[ "$output" == *"obfhc10"*"cable 10 of running subhost obfhc"* ]]
	[[ "$output" == *"obfhc1"* ]]
	echo "obfhc's cable 10 after the refusal: $(ip -o link show obfhc10 2>&1)"
	[ -e /sys/class/net/obfhc10 ]
	[ "$(go obfhc cat /sys/class/net/eth10/operstate)" != "" ]
	stop obfhc
	settled obfhc obfhc1
}
