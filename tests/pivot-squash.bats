#!/usr/bin/env bats
# A root caller's --squash: the magic checked before any loop device,
# read-only and autoclear devices, at most 16 a run, a block device taken
# as it is; nothing attached while a message waits on a full stderr.

load helpers
bats_require_minimum_version 1.5.0

P="$BATS_TEST_DIRNAME/../src/overlay-pivot"

make_img() {
	command -v mksquashfs >/dev/null || skip "mksquashfs (squashfs-tools) is not installed"
	mkdir -p "$BATS_TEST_TMPDIR/img"
	echo content >"$BATS_TEST_TMPDIR/img/f"
	mksquashfs "$BATS_TEST_TMPDIR/img" "$BATS_TEST_TMPDIR/img.sqfs" -quiet -noappend >/dev/null
	IMG=$BATS_TEST_TMPDIR/img.sqfs
}

@test "root --squash: read-only, autoclear, gone with the run; --squash-overlay names itself" {
	make_img
	before=$(losetup -a)
	"$P" --tmp-overlay / / --squash "$IMG" /sq -- /bin/sh -c 'cat /sq/f > /dev/null && sleep 2' &
	pid=$!
	wait_until sh -c "losetup -l -n -O BACK-FILE | grep -q img.sqfs"
	attrs=$(losetup -l -n -O RO,AUTOCLEAR,BACK-FILE | grep img.sqfs | tr -s ' ')
	wait "$pid"
	echo "$attrs"
	[ "$attrs" = "1 1 $IMG" ] || [ "$attrs" = " 1 1 $IMG" ]
	wait_until test "$(losetup -a)" = "$before"
	head -c 8192 /dev/zero >"$BATS_TEST_TMPDIR/zero"
	mkdir -p "$BATS_TEST_TMPDIR/ov"
	run "$P" --tmp-overlay / / --squash-overlay "$BATS_TEST_TMPDIR/zero" /so "$BATS_TEST_TMPDIR/ov" -- /bin/true
	[ "$status" -eq 1 ]
	[ "$output" = "overlay-pivot: --squash-overlay $BATS_TEST_TMPDIR/zero: not a squashfs image" ]
	[ "$(losetup -a)" = "$before" ]
}

@test "root --squash of a block device mounts it as it is (machroot's form)" {
	make_img
	dev=$(losetup -f --show -r "$IMG")
	when_finished losetup -d "$dev"
	n=$(losetup -a | wc -l)
	run "$P" --tmp-overlay / / --squash "$dev" /sq -- /bin/cat /sq/f
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = content ]
	[ "$(losetup -a | wc -l)" = "$n" ]
}

@test "1,000 --squash options in one run leave no new loop device" {
	make_img
	before=$(losetup -a)
	args=()
	for i in $(seq 1000); do args+=(--squash "$IMG" "/sq$i"); done
	run "$P" --tmp-overlay / / "${args[@]}" -- /bin/true
	[ "$status" -eq 1 ]
	[ "$output" = "overlay-pivot: at most 16 squashfs images in one run" ]
	[ "$(losetup -a)" = "$before" ]
	# sixteen are mounted, and gone after
	args=()
	for i in $(seq 16); do args+=(--squash "$IMG" "/sq$i"); done
	run "$P" --tmp-overlay / / "${args[@]}" -- /bin/sh -c 'cat /sq16/f'
	[ "$status" -eq 0 ]
	wait_until test "$(losetup -a)" = "$before"
}
