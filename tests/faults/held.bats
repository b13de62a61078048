#!/usr/bin/env bats
# Stop never reports success while a mount or a loop device of the
# subhost is left: a host process in its mounted disk image, one holding
# its pid 1's root, one in its mount namespace. Stop names the process,
# waits (5 s), fails saying what to do; the next boot is refused; once
# the process is gone, a stop leaves nothing.

load helpers

# runs_sleep PID: the background process PID (ours) runs sleep now.
runs_sleep() {
	grep -qx sleep "/proc/$1/comm" 2>/dev/null
}

# stop_refused NAME PID WHAT: overlay-stop NAME fails, its last line
# names PID (sleep 120) with WHAT, and it never says stopped.
stop_refused() {
	run timeout -k 5 60 "$TOP/overlay-stop" "$1"
	echo "$output"
	[ "$status" = 1 ]
	[[ "${lines[-1]}" == *"$1 is not stopped: "*"held by "*"pid $2 (sleep 120): $3"*"; end them (kill PID), then run overlay-stop $1 again" ]]
	[[ "$output" != *"$1 stopped"* ]]
	[ -d "$STATE/$1" ]
}

@test "a host process in the mounted UPPER image: stop names it and fails; the next boot is refused" {
	conf=$(image_upper obfh1)
	base=${conf%/*}
	boot "$conf"
	when_finished "$TOP/overlay-stop" obfh1
	dev=$(losetup -n -O NAME -j "$base/up.img")
	[ -n "$dev" ]
	up=$(cd "$base/up/root" && pwd -P)
	(cd "$up" && exec sleep 120) </dev/null >/dev/null 2>&1 &
	holder=$!
	when_finished kill "$holder"
	wait_for runs_sleep "$holder"
	stop_refused obfh1 "$holder" "cwd $up"
	[[ "$output" == *"loop device $dev is still attached"* ]]
	[ "$(losetup -n -O NAME -j "$base/up.img")" = "$dev" ]
	run timeout -k 5 60 "$TOP/overlay-boot" "$conf"
	echo "$output"
	[ "$status" = 1 ]
	[[ "$output" == *"obfh1 cannot boot: its last run left "*"pid $holder (sleep 120): cwd $up"* ]]
	[ "$(losetup -n -O NAME -j "$base/up.img")" = "$dev" ]
	kill "$holder"
	wait "$holder" || true
	stop obfh1
	[ -z "$(losetup -j "$base/up.img")" ]
	e2fsck -fn "$base/up.img"
	settled obfh1
}

@test "a host process holding pid 1's root: stop names it and fails; stopped once it is gone" {
	conf=$(make_subhost obfh2)
	boot "$conf"
	when_finished "$TOP/overlay-stop" obfh2
	p1=$(cat "$STATE/obfh2/pid1")
	(cd "/proc/$p1/root" && exec sleep 120) </dev/null >/dev/null 2>&1 &
	holder=$!
	when_finished kill "$holder"
	wait_for runs_sleep "$holder"
	stop_refused obfh2 "$holder" "cwd "
	[[ "$output" == *"its root overlay on "*"/root is still there"* ]]
	kill "$holder"
	wait "$holder" || true
	stop obfh2
	[ ! -e "$STATE/obfh2" ]
	# and it boots again
	boot "$conf"
	stop obfh2
	settled obfh2
}

@test "a host process in the subhost's mount namespace: stop names it and fails; stopped once it is gone" {
	conf=$(make_subhost obfh3)
	boot "$conf"
	when_finished "$TOP/overlay-stop" obfh3
	p1=$(cat "$STATE/obfh3/pid1")
	# not in its pid namespace nor its cgroups: pid 1 does not end it
	nsenter -t "$p1" -m sleep 120 </dev/null >/dev/null 2>&1 &
	holder=$!
	when_finished kill "$holder"
	wait_for runs_sleep "$holder"
	stop_refused obfh3 "$holder" "its mount namespace"
	kill "$holder"
	wait "$holder" || true
	stop obfh3
	[ ! -e "$STATE/obfh3" ]
	settled obfh3
}

@test "a subhost booted after one with a disk image does not keep that image: it stops cleanly" {
	conf=$(image_upper obfh4)
	base=${conf%/*}
	conf2=$(make_subhost obfh5)
	boot "$conf"
	when_finished "$TOP/overlay-stop" obfh4
	# its mount stage's copy of the host's mount table had obfh4's image
	boot "$conf2"
	when_finished "$TOP/overlay-stop" obfh5
	run timeout -k 5 60 "$TOP/overlay-stop" obfh4
	echo "$output"
	[ "$status" = 0 ]
	[ -z "$(losetup -j "$base/up.img")" ]
	e2fsck -fn "$base/up.img"
	stop obfh5
	settled obfh4 obfh5
}

@test "a boot that fails with a disk-image UPPER leaves it neither mounted nor attached; the next boot works" {
	conf=$(image_upper obfh6)
	base=${conf%/*}
	# the mount stage fails: the supervisor undoes the image
	echo "PREMOUNT=/bin/false" >>"$conf"
	run timeout -k 5 60 "$TOP/overlay-boot" "$conf"
	echo "$output"
	[ "$status" = 1 ]
	[ -z "$(losetup -j "$base/up.img")" ]
	! grep -q " $base/up " /proc/self/mountinfo
	[ ! -e "$STATE/obfh6" ]
	sed -i '/^PREMOUNT=/d' "$conf"
	boot "$conf"
	stop obfh6
	[ -z "$(losetup -j "$base/up.img")" ]
	settled obfh6
}
