#!/usr/bin/env bats
# Storage: SHARE at boot, overlay-share into a running subhost, disk and
# squashfs images as layers (overlay-diskfile), overlay-clean-root.
# Real loop devices, real images, under the leak check.

load helpers
bats_require_minimum_version 1.5.0

# part_fs IMAGE N TYPE [TREE]: make a TYPE file system (vfat, ext2 or
# ext4, the latter holding TREE) in partition N of IMAGE.
part_fs() {
	local start sectors
	read -r start sectors < <(partx -g -r -o START,SECTORS -n "$2" "$1")
	case "$3" in
	vfat) mkfs.vfat --offset "$start" "$1" $((sectors / 2)) >/dev/null 2>&1 ;;
	ext2 | ext4) mke2fs -q -F -t "$3" -E offset=$((start * 512)) ${4:+-d "$4"} "$1" "$((sectors / 2))k" ;;
	esac
}

# gpt_image FILE TREE: a GPT disk image with two partitions: 1 vfat,
# 2 ext4 holding TREE.
gpt_image() {
	truncate -s 48M "$1"
	printf 'label: gpt\n,8M\n,32M\n' | sfdisk -q "$1"
	part_fs "$1" 1 vfat
	part_fs "$1" 2 ext4 "$2"
}

# loops IMAGE: the loop devices attached to IMAGE, one a line.
loops() {
	losetup -n -O NAME -j "$1"
}

# no_loops IMAGE: no loop device is attached to IMAGE, within 3 s (a
# loop device that was still in use when detached goes away by itself, a
# moment after the last mount of it is released).
no_loops() {
	local i
	for i in $(seq 1 30); do
		[ -z "$(loops "$1")" ] && return 0
		sleep 0.1
	done
	echo "still attached to $1: $(loops "$1")" >&2
	return 1
}

# loop_count IMAGE N: exactly N loop devices attached to IMAGE, within 3 s.
loop_count() {
	local i
	for i in $(seq 1 30); do
		[ "$(loops "$1" | wc -l)" -eq "$2" ] && return 0
		sleep 0.1
	done
	echo "attached to $1: $(loops "$1" | tr '\n' ' ')(expected $2)" >&2
	return 1
}

# mounts_on DIR: how many mounts sit on DIR.
mounts_on() {
	awk -v d="$1" '$5 == d' /proc/self/mountinfo | wc -l
}

# merged_view LOWER UPPER: a listing of the merged view of UPPER over
# LOWER (names, types, modes, owners, link targets, checksums), read
# through a read-only overlay with UPPER as its top layer.
merged_view() {
	local mnt=$BATS_TEST_TMPDIR/merged
	mkdir -p "$mnt"
	mount -t overlay -o "ro,lowerdir=$2:$1" obs-merged "$mnt" || return 1
	(
		cd "$mnt" || exit 1
		find . -type d -printf '%p %y %m %U %G\n' -o -printf '%p %y %m %U %G %s %l\n' |
			LC_ALL=C sort
		find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2
	)
	umount "$mnt"
}

# ------------------------------------------------------------- SHARE=

@test "SHARE at boot: DIR and HOSTDIR:SUBHOSTDIR visible inside, writes land on the host; :ro refuses writes" {
	conf=$(make_subhost obs1 LOWER=base "SHARE=data" \
		"SHARE=$BATS_TEST_TMPDIR/h2:/srv/h2" "SHARE=rodir:/srv/ro:ro")
	base=${conf%/*}
	tiny_root "$base/base"
	mkdir -p "$base/data" "$BATS_TEST_TMPDIR/h2" "$base/rodir"
	echo from-host >"$base/data/f"
	echo h2 >"$BATS_TEST_TMPDIR/h2/f"
	echo ro >"$base/rodir/f"
	boot "$conf"
	run go obs1 cat /data/f /srv/h2/f /srv/ro/f
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'from-host\nh2\nro')" ]
	go obs1 sh -c 'echo inside >/data/w && echo inside2 >/srv/h2/w'
	[ "$(cat "$base/data/w")" = inside ]
	[ "$(cat "$BATS_TEST_TMPDIR/h2/w")" = inside2 ]
	# writes go to the host directory, not into UPPER
	[ ! -e "$base/root/data/w" ]
	run go obs1 sh -c 'echo x >/srv/ro/w'
	[ "$status" -ne 0 ]
	[[ "$output" == *"Read-only file system"* ]]
	run go obs1 touch /srv/ro/f
	[ "$status" -ne 0 ]
	[ ! -e "$base/rodir/w" ]
	[ "$(cat "$base/rodir/f")" = ro ]
	stop obs1
}

@test "SHARE: a missing host directory is an error, a share of LOWER itself is refused" {
	conf=$(make_subhost obs2 LOWER=base "SHARE=nothere:/x")
	base=${conf%/*}
	tiny_root "$base/base"
	run --separate-stderr "$TOP/overlay-boot" "$conf"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"SHARE: host directory $base/nothere does not exist"* ]]
	sed -i 's|^SHARE=.*|SHARE=base:/x|' "$conf"
	run --separate-stderr "$TOP/overlay-boot" "$conf"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"SHARE: $base/base is a LOWER layer itself"* ]]
	[ ! -e /run/overlay-boot/obs2 ]
}

# ------------------------------------------------------- overlay-share

@test "overlay-share: seen by overlay-go and by a service in its own mount namespace; -u removes it; nothing else of the host shows" {
	conf=$(make_subhost obs3 LOWER=base)
	base=${conf%/*}
	tiny_root "$base/base"
	hs=$BATS_TEST_TMPDIR/hostshare
	mkdir -p "$hs"
	mount -t tmpfs obs3-share "$hs"
	mkdir "$hs/pub" "$hs/secret"
	echo hello >"$hs/pub/file"
	echo hidden >"$hs/secret/file"

	run "$TOP/overlay-share" "$hs/pub" obs3 /mnt/pub
	[ "$status" -eq 1 ]
	[[ "$output" == *"obs3 is not running"* ]]

	boot "$conf"
	# A service that made its own (private) mount namespace before the share.
	go obs3 sh -c 'unshare -m sh -c "echo \$\$ >/run/svc.pid; exec sleep 1000" </dev/null >/dev/null 2>&1 &'
	for _ in $(seq 1 50); do
		go obs3 test -s /run/svc.pid && break
		sleep 0.1
	done
	svc=$(go obs3 cat /run/svc.pid)
	[ "$(go obs3 readlink /proc/1/ns/mnt)" != "$(go obs3 readlink "/proc/$svc/ns/mnt")" ]

	run "$TOP/overlay-share" "$hs/pub" obs3 /mnt/pub
	[ "$status" -eq 0 ]
	[[ "$output" == *"shared into obs3 at /mnt/pub (2 mount namespaces)"* ]]
	run go obs3 cat /mnt/pub/file
	[ "$output" = hello ]
	run go obs3 nsenter -t "$svc" -m cat /mnt/pub/file
	[ "$status" -eq 0 ]
	[ "$output" = hello ]
	# writable, and the writes are the host's
	go obs3 sh -c 'echo back >/mnt/pub/w'
	[ "$(cat "$hs/pub/w")" = back ]
	# nothing else of the host's tmpfs is reachable
	run go obs3 sh -c 'ls /mnt/pub/..; find / -path /proc -prune -o -path /sys -prune -o -name secret -print'
	[ "$output" = pub ]
	run go obs3 cat "$hs/secret/file"
	[ "$status" -ne 0 ]
	# twice at the same place: refused
	run "$TOP/overlay-share" "$hs/pub" obs3 /mnt/pub
	[ "$status" -eq 1 ]
	[[ "$output" == *"already shared at /mnt/pub"* ]]
	# read-only
	run "$TOP/overlay-share" -r "$hs/pub" obs3 /mnt/ro
	[ "$status" -eq 0 ]
	run go obs3 touch /mnt/ro/x
	[ "$status" -ne 0 ]
	run go obs3 nsenter -t "$svc" -m touch /mnt/ro/x
	[ "$status" -ne 0 ]
	[ ! -e "$hs/pub/x" ]

	run "$TOP/overlay-share" -u /mnt/pub obs3
	[ "$status" -eq 0 ]
	[[ "$output" == *"/mnt/pub removed from obs3 (2 mount namespaces)"* ]]
	run go obs3 test -e /mnt/pub/file
	[ "$status" -ne 0 ]
	run go obs3 nsenter -t "$svc" -m test -e /mnt/pub/file
	[ "$status" -ne 0 ]
	[ -e "$hs/pub/file" ]
	# removed already: not one of overlay-share's any more
	run "$TOP/overlay-share" -u /mnt/pub obs3
	[ "$status" -eq 1 ]
	[[ "$output" == *"not a share that overlay-share made"* ]]
	run "$TOP/overlay-share" -u /mnt/ro "$conf"
	[ "$status" -eq 0 ]
	# A symlink planted inside resolves inside: the share never lands on
	# the host, whatever path the subhost makes it point to.
	go obs3 ln -s ../../../../../../.. /escape
	run "$TOP/overlay-share" "$hs/pub" obs3 "/escape$BATS_TEST_TMPDIR/landing"
	[ "$status" -eq 0 ]
	[ ! -e "$BATS_TEST_TMPDIR/landing" ]
	run go obs3 cat "$BATS_TEST_TMPDIR/landing/file"
	[ "$output" = hello ]
	[ -d "$base/root$BATS_TEST_TMPDIR/landing" ]
	stop obs3
	umount "$hs"
}

# ---------------------------------------------------- overlay-diskfile

@test "LOWER from partition 2 of a GPT image: read-only loop, one mount even on a second boot, nothing left after stop" {
	conf=$(make_subhost obs4 "LOWER=!overlay-diskfile mnt disk.img 2")
	base=${conf%/*}
	tiny_root "$BATS_TEST_TMPDIR/tree"
	echo partition-2 >"$BATS_TEST_TMPDIR/tree/etc/marker"
	gpt_image "$base/disk.img" "$BATS_TEST_TMPDIR/tree"
	boot "$conf"
	run go obs4 cat /etc/marker
	[ "$output" = partition-2 ]
	run go obs4 hostname
	[ "$output" = obs4 ]
	loop_count "$base/disk.img" 1
	[ "$(losetup -n -O RO "$(loops "$base/disk.img")" | tr -d ' ')" = 1 ]
	[ "$(mounts_on "$base/mnt")" -eq 1 ]
	# a write inside lands in UPPER, never on the image
	go obs4 sh -c 'echo new >/etc/marker'
	[ "$(cat "$base/root/etc/marker")" = new ]
	[ "$(cat "$base/mnt/etc/marker")" = partition-2 ]
	# A second boot reads the config again: refused, no second mount or loop.
	run "$TOP/overlay-boot" "$conf"
	[ "$status" -eq 1 ]
	[[ "$output" == *"obs4 is already running"* ]]
	loop_count "$base/disk.img" 1
	[ "$(mounts_on "$base/mnt")" -eq 1 ]
	# overlay-go and overlay-stop given the config do not mount it either
	run go "$conf" cat /etc/marker
	[ "$output" = new ]
	[ "$(mounts_on "$base/mnt")" -eq 1 ]
	stop "$conf"
	no_loops "$base/disk.img"
	[ "$(mounts_on "$base/mnt")" -eq 0 ]
}

@test "LOWER from a GPT image: the loop device is gone after a failed boot, early or late, and after a killed supervisor" {
	conf=$(make_subhost obs5 "LOWER=!overlay-diskfile mnt disk.img 2" RAM_SIZE=lots)
	base=${conf%/*}
	tiny_root "$BATS_TEST_TMPDIR/tree"
	gpt_image "$base/disk.img" "$BATS_TEST_TMPDIR/tree"
	# validation fails after the image was mounted
	run "$TOP/overlay-boot" "$conf"
	[ "$status" -eq 1 ]
	[[ "$output" == *"RAM_SIZE"* ]]
	no_loops "$base/disk.img"
	[ "$(mounts_on "$base/mnt")" -eq 0 ]
	# the supervisor fails (POSTMOUNT)
	sed -i 's/^RAM_SIZE=.*/POSTMOUNT=\/bin\/false/' "$conf"
	run "$TOP/overlay-boot" "$conf"
	[ "$status" -eq 1 ]
	no_loops "$base/disk.img"
	[ "$(mounts_on "$base/mnt")" -eq 0 ]
	# a wrong partition: a clear error, nothing attached
	sed -i -e '/^POSTMOUNT=/d' -e 's/disk.img 2/disk.img 3/' "$conf"
	run --separate-stderr "$TOP/overlay-boot" "$conf"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"has no partition 3"* ]]
	no_loops "$base/disk.img"
	# a supervisor killed with SIGKILL: the next boot undoes and redoes it
	sed -i 's/disk.img 3/disk.img 2/' "$conf"
	boot "$conf"
	old=$(loops "$base/disk.img")
	kill -KILL "$(cat /run/overlay-boot/obs5/supervisor)"
	boot "$conf"
	run go obs5 test -x /bin/busybox
	[ "$status" -eq 0 ]
	loop_count "$base/disk.img" 1
	[ "$(mounts_on "$base/mnt")" -eq 1 ]
	stop obs5
	no_loops "$base/disk.img"
	[ "$(mounts_on "$base/mnt")" -eq 0 ]
	[ -n "$old" ]
}

@test "LOWER from a squashfs image of the busybox tiny root" {
	conf=$(make_subhost obs6 "LOWER=!overlay-diskfile mnt/ base.squashfs")
	base=${conf%/*}
	tiny_root "$BATS_TEST_TMPDIR/tree"
	echo squashed >"$BATS_TEST_TMPDIR/tree/etc/marker"
	mksquashfs "$BATS_TEST_TMPDIR/tree" "$base/base.squashfs" -noappend -quiet -all-root >/dev/null
	boot "$conf"
	[ "$(findmnt -n -o FSTYPE --mountpoint "$base/mnt")" = squashfs ]
	run go obs6 cat /etc/marker
	[ "$output" = squashed ]
	run go obs6 cat /proc/1/comm
	[ "$output" = reaper ]
	go obs6 sh -c 'echo upper >/etc/marker2'
	[ "$(cat "$base/root/etc/marker2")" = upper ]
	stop obs6
	no_loops "$base/base.squashfs"
	[ "$(mounts_on "$base/mnt")" -eq 0 ]
}

@test "UPPER from an ext4 image: WORK on the same image, writes persist in the image" {
	conf=$(make_subhost obs7 LOWER=base "UPPER=!overlay-diskfile up upper.img")
	base=${conf%/*}
	tiny_root "$base/base"
	truncate -s 32M "$base/upper.img"
	mkfs.ext4 -q -F "$base/upper.img"
	boot "$conf"
	[ "$(losetup -n -O RO "$(loops "$base/upper.img")" | tr -d ' ')" = 0 ]
	go obs7 sh -c 'echo kept >/root/persisted'
	[ "$(cat "$base/up/root/root/persisted")" = kept ]
	[ -d "$base/up/work/work" ]
	stop obs7
	no_loops "$base/upper.img"
	# mounted again by hand (read-only), the file is in the image
	run "$TOP/overlay-diskfile" "$BATS_TEST_TMPDIR/check" "$base/upper.img"
	[ "$status" -eq 0 ]
	[ "$output" = "$BATS_TEST_TMPDIR/check" ]
	[ "$(cat "$BATS_TEST_TMPDIR/check/root/root/persisted")" = kept ]
	"$TOP/overlay-diskfile" -u "$BATS_TEST_TMPDIR/check"
	no_loops "$base/upper.img"
}

@test "overlay-diskfile: MBR partitions (vfat or ext2, ext4), undo records, idempotent, clear errors" {
	cd "$BATS_TEST_TMPDIR"
	# vfat where the kernel has it (some test kernels are built without)
	fs1=ext2
	if grep -qw vfat /proc/filesystems; then fs1=vfat; fi
	mkdir -p tree
	echo mbr-2 >tree/marker
	truncate -s 24M mbr.img
	printf 'label: dos\n,8M,c\n,12M,L\n' | sfdisk -q mbr.img
	part_fs mbr.img 1 "$fs1"
	part_fs mbr.img 2 ext4 tree
	export OVERLAY_BOOT_UNDO=$BATS_TEST_TMPDIR/undo
	: >undo
	run "$TOP/overlay-diskfile" m1 mbr.img 1
	[ "$status" -eq 0 ]
	[ "$output" = "$BATS_TEST_TMPDIR/m1" ]
	[ "$(findmnt -n -o FSTYPE --mountpoint m1)" = "$fs1" ]
	run "$TOP/overlay-diskfile" m2 mbr.img 2
	[ "$output" = "$BATS_TEST_TMPDIR/m2" ]
	[ "$(cat m2/marker)" = mbr-2 ]
	# recorded newest last: loop, then mount, for each
	run awk '{print $1}' undo
	[ "$output" = "$(printf 'loop\numount\nloop\numount')" ]
	[ "$(sed -n 2p undo)" = "umount $BATS_TEST_TMPDIR/m1" ]
	# the same image again on the same path: printed, nothing new recorded
	run "$TOP/overlay-diskfile" m2 mbr.img 2
	[ "$status" -eq 0 ]
	[ "$output" = "$BATS_TEST_TMPDIR/m2" ]
	[ "$(wc -l <undo)" -eq 4 ]
	[ "$(mounts_on "$BATS_TEST_TMPDIR/m2")" -eq 1 ]
	# another partition on a used path: refused
	run --separate-stderr "$TOP/overlay-diskfile" m2 mbr.img 1
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"already a mount point"* ]]
	# errors: no partition, no table given, not an image; nothing attached
	run --separate-stderr "$TOP/overlay-diskfile" m3 mbr.img 3
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"has no partition 3"* ]]
	run --separate-stderr "$TOP/overlay-diskfile" m3 mbr.img
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"give a PARTITION"* ]]
	[ "${#stderr_lines[@]}" -eq 1 ]
	run "$TOP/overlay-diskfile" m3 nothere.img
	[ "$status" -eq 1 ]
	[[ "$output" == *"nothere.img: no such image file"* ]]
	[ "$(wc -l <undo)" -eq 4 ]
	loop_count "$BATS_TEST_TMPDIR/mbr.img" 2
	# undo as overlay-boot does it
	(
		LIBDIR=$TOP
		. "$TOP/functions"
		undo_replay "$OVERLAY_BOOT_UNDO"
	)
	no_loops "$BATS_TEST_TMPDIR/mbr.img"
	[ "$(mounts_on "$BATS_TEST_TMPDIR/m1")" -eq 0 ]
	[ "$(mounts_on "$BATS_TEST_TMPDIR/m2")" -eq 0 ]
}

# -------------------------------------------------- overlay-clean-root

# clean_fixture BASE: samples in LOWER (base/) and an UPPER (root/) with
# every kind of entry.
clean_fixture() {
	local l=$1/base u=$1/root
	mkdir -p "$l/data/deep/er" "$l/opq" "$l/emptydir" "$l/moddir"
	for f in same mode owner changed grown xattr gone; do
		echo "content of $f" >"$l/data/$f"
	done
	head -c 300000 /dev/urandom >"$l/data/big"
	echo deep >"$l/data/deep/er/file"
	echo in-opaque >"$l/opq/file"
	ln -s same "$l/data/link-same"
	ln -s same "$l/data/link-changed"
	mkfifo "$l/data/fifo"

	mkdir -p "$u/data"
	# equal copies: removed (with the directories that hold only them)
	cp -a "$l/data/same" "$l/data/big" "$l/data/fifo" "$u/data/"
	cp -a "$l/data/deep" "$u/data/"
	cp -a "$l/emptydir" "$u/"
	cp -a "$l/data/link-same" "$u/data/"
	# same content, other mode or owner: kept
	cp -a "$l/data/mode" "$l/data/owner" "$u/data/"
	chmod 600 "$u/data/mode"
	chown 1000:1000 "$u/data/owner"
	# changed content (same size, and another size): kept
	echo "content of X" >"$u/data/changed"
	echo "content of grown and more" >"$u/data/grown"
	# an extra extended attribute: kept
	cp -a "$l/data/xattr" "$u/data/"
	python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.obs", b"1")' "$u/data/xattr"
	# a symlink with another target: kept
	ln -s mode "$u/data/link-changed"
	# a whiteout and an opaque directory holding an equal copy: kept
	mknod "$u/data/gone" c 0 0
	mkdir "$u/opq"
	cp -a "$l/opq/file" "$u/opq/"
	python3 -c 'import os, sys; os.setxattr(sys.argv[1], "trusted.overlay.opaque", b"y")' "$u/opq"
	# a directory with another mode, and a new file: kept
	mkdir "$u/moddir"
	chmod 700 "$u/moddir"
	echo new >"$u/data/new"
}

@test "overlay-clean-root: removes equal copies only, keeps whiteouts and opaque dirs; the merged view is unchanged; refused while running" {
	conf=$(make_subhost obs8 LOWER=base)
	base=${conf%/*}
	tiny_root "$base/base"
	boot "$conf"
	# a real copy-up (carrying overlayfs' own attributes) of an unchanged file
	go obs8 touch /bin/busybox
	run "$TOP/overlay-clean-root" "$conf"
	[ "$status" -eq 1 ]
	[[ "$output" == *"obs8 is running; stop it first"* ]]
	stop obs8
	[ -f "$base/root/bin/busybox" ]
	clean_fixture "$base"

	before=$(merged_view "$base/base" "$base/root")
	upper_before=$(cd "$base/root" && find . | sort)
	run "$TOP/overlay-clean-root" -n "$conf"
	[ "$status" -eq 0 ]
	expected=$(printf '%s\n' /data/same /data/big /data/fifo /data/deep/er/file \
		/data/deep/er /data/deep /data/link-same /emptydir /bin/busybox /bin | sort)
	[ "$(printf '%s\n' "${lines[@]}" | grep '^/' | sort)" = "$expected" ]
	[[ "${lines[-1]}" == "would remove 10 entries (4 files, 1 symlinks, 4 directories, 1 other), "*" bytes to free" ]]
	[ "$(cd "$base/root" && find . | sort)" = "$upper_before" ]

	run "$TOP/overlay-clean-root" "$conf"
	[ "$status" -eq 0 ]
	[[ "$output" == "removed 10 entries (4 files, 1 symlinks, 4 directories, 1 other), "*" bytes freed" ]]
	freed=$(echo "$output" | sed 's/.*other), \([0-9]*\) bytes.*/\1/')
	[ "$freed" -ge 300000 ]
	for gone in data/same data/big data/fifo data/deep data/link-same emptydir bin; do
		[ ! -e "$base/root/$gone" ] && [ ! -L "$base/root/$gone" ]
	done
	for kept in data/mode data/owner data/changed data/grown data/xattr data/link-changed \
		data/gone opq/file moddir data/new; do
		[ -e "$base/root/$kept" ] || [ -L "$base/root/$kept" ]
	done
	[ -c "$base/root/data/gone" ]
	after=$(merged_view "$base/base" "$base/root")
	[ "$before" = "$after" ]
	# nothing left to do
	run "$TOP/overlay-clean-root" "$conf"
	[[ "$output" == "removed 0 entries"* ]]
	# and the subhost still boots and shows the same
	boot "$conf"
	run go obs8 cat /data/same /opq/file
	[ "$output" = "$(printf 'content of same\nin-opaque')" ]
	stop obs8
}

@test "overlay-clean-root: several LOWER layers are compared as overlayfs merges them; a disk image LOWER is mounted and undone" {
	conf=$(make_subhost obs9 LOWER=top:bottom)
	base=${conf%/*}
	mkdir -p "$base/top" "$base/bottom" "$base/root/d"
	echo top >"$base/top/a"
	echo bottom >"$base/bottom/a"
	echo only-bottom >"$base/bottom/b"
	echo hidden >"$base/bottom/c"
	mknod "$base/top/c" c 0 0
	# equal to the layer that shows: removed; equal to a hidden one: kept
	echo top >"$base/root/a"
	echo only-bottom >"$base/root/b"
	echo hidden >"$base/root/c"
	before=$(merged_view "$base/top:$base/bottom" "$base/root")
	run "$TOP/overlay-clean-root" -v "$conf"
	[ "$status" -eq 0 ]
	[[ "$output" == *"removed /a"* ]]
	[[ "$output" == *"removed /b"* ]]
	[ -e "$base/root/c" ]
	[ "$before" = "$(merged_view "$base/top:$base/bottom" "$base/root")" ]

	# LOWER from a squashfs image: mounted for the walk, then undone
	mkdir -p "$BATS_TEST_TMPDIR/tree"
	echo sq >"$BATS_TEST_TMPDIR/tree/s"
	mksquashfs "$BATS_TEST_TMPDIR/tree" "$base/l.squashfs" -noappend -quiet -all-root >/dev/null
	sed -i 's|^LOWER=.*|LOWER=!overlay-diskfile mnt l.squashfs|' "$conf"
	echo sq >"$base/root/s"
	run "$TOP/overlay-clean-root" "$conf"
	[ "$status" -eq 0 ]
	[[ "$output" == "removed 1 entries (1 files,"* ]]
	[ ! -e "$base/root/s" ]
	no_loops "$base/l.squashfs"
	[ "$(mounts_on "$base/mnt")" -eq 0 ]
}
