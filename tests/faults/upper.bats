#!/usr/bin/env bats
# An UPPER file system that overlayfs cannot use (read-only, ramfs, an
# overlay, full at first boot) is refused before anything is made, with
# one line that says why; never a boot that succeeds with a read-only root.
# (The leak check after each test runs once its own mounts are gone.)

load helpers

# upper_on NAME TYPE OPTIONS: a subhost whose UPPER and WORK are on a file
# system of TYPE mounted at BASE/up (unmounted at the end); sets conf
# (not run in $(...): when_finished must be called by the test's shell).
upper_on() {
	local name=$1 type=$2 opts=$3 base
	conf=$(make_subhost "$name" UPPER=up/root WORK=up/work)
	base=${conf%/*}
	mkdir -p "$base/up"
	mount -t "$type" -o "$opts" "$type" "$base/up"
	when_finished umount "$base/up"
	mkdir -p "$base/up/root" "$base/up/work"
}

# refused_upper CONF WHY: overlay-boot CONF fails with one line naming
# UPPER and WHY, leaving nothing.
refused_upper() {
	run timeout -k 5 30 "$TOP/overlay-boot" "$1"
	echo "$output"
	[ "$status" = 1 ]
	[ "${#lines[@]}" = 1 ]
	[[ "$output" == *"UPPER"*"cannot be the upper layer: $2"* ]]
}

@test "a read-only UPPER is refused with the kernel's reason" {
	upper_on obfu1 tmpfs size=1m
	mount -o remount,ro "${conf%/*}/up"
	refused_upper "$conf" "its file system is mounted read-only"
}

@test "an UPPER on ramfs is refused (it would boot and then give EIO)" {
	upper_on obfu2 ramfs mode=0755
	refused_upper "$conf" "ramfs keeps no extended attributes"
}

@test "an UPPER on an overlay is refused" {
	conf=$(make_subhost obfu3 UPPER=up/root WORK=up/work)
	base=${conf%/*}
	mkdir -p "$base/lo/root" "$base/lo/work" "$base/t"
	mount -t tmpfs -o size=1m tmpfs "$base/t"
	when_finished umount "$base/t"
	mkdir -p "$base/t/u" "$base/t/w" "$base/up"
	mount -t overlay -o "lowerdir=$base/lo,upperdir=$base/t/u,workdir=$base/t/w" obfu3-ovl "$base/up"
	when_finished umount "$base/up"
	refused_upper "$conf" "an overlay cannot be the upper layer"
}

@test "a full UPPER at first boot is refused, not booted with a read-only root" {
	upper_on obfu4 tmpfs size=256k
	base=${conf%/*}
	dd if=/dev/zero of="$base/up/fill" bs=4k 2>/dev/null || true
	refused_upper "$conf" "its file system is full"
}
