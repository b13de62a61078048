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

@test "a second subhost on the UPPER of a running one is refused, and so is overlay-clean-root of it" {
	conf1=$(make_subhost obfn2)
	base=${conf1%/*}
	# another name, the same BASE (so the same UPPER), by another path
	ln -s "$base" "$BATS_TEST_TMPDIR/alias"
	conf2=$BATS_TEST_TMPDIR/obfn3.conf
	printf 'BASE=%s\nSTART=none\nLOG=log3\nLIVE=live3\n' "$BATS_TEST_TMPDIR/alias" >"$conf2"
	mkdir -p "$base/live3"
	boot "$conf1"
	run timeout -k 5 30 "$TOP/overlay-boot" "$conf2"
	echo "$output"
	[ "$status" = 1 ]
	[[ "$output" == *"is in use by subhost obfn2 (running)"* ]]
	[ ! -e "$STATE/obfn3" ]
	run timeout -k 5 30 "$TOP/overlay-clean-root" "$conf2"
	echo "$output"
	[ "$status" = 1 ]
	[[ "$output" == *"is in use by subhost obfn2"* ]]
	stop obfn2
	settled obfn2 obfn3
}
