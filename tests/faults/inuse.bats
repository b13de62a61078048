#!/usr/bin/env bats
# Storage in use by something else is refused: a disk image attached
# already (a second loop device on it corrupts it).

load helpers

@test "an UPPER image already attached to a loop device is refused, not attached twice" {
	conf=$(make_subhost obfn1 "UPPER=!overlay-diskfile up/root up.img")
	base=${conf%/*}
	mkdir -p "$BATS_TEST_TMPDIR/tree/root" "$BATS_TEST_TMPDIR/tree/work"
	truncate -s 32M "$base/up.img"
	mkfs.ext4 -q -d "$BATS_TEST_TMPDIR/tree" "$base/up.img"
	# attached by someone else (a mount elsewhere, a stop that left it)
	dev=$(losetup -f --show "$base/up.img")
	when_finished losetup -d "$dev"
	run timeout -k 5 60 "$TOP/overlay-boot" "$conf"
	echo "$output"
	[ "$status" = 1 ]
	[[ "$output" == *"already attached to $dev"* ]]
	[ "$(losetup -j "$base/up.img" | wc -l)" = 1 ]
	losetup -d "$dev"
	# free again: it boots
	boot "$conf"
	stop obfn1
	[ -z "$(losetup -j "$base/up.img")" ]
}
