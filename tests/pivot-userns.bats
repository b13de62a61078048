#!/usr/bin/env bats
# overlay-pivot --userns and userns-make: a root whose root user is an
# unprivileged id of the host, over idmapped layers. Real user, network
# and mount namespaces; the ranges used are far above any real user's.

load helpers
bats_require_minimum_version 1.5.0

P="$BATS_TEST_DIRNAME/../src/overlay-pivot"
MK="$BATS_TEST_DIRNAME/../src/userns-make"
RANGE=3900000000

setup_test() {
	NS=obtuns$$
	T=$BATS_TEST_TMPDIR
	mkdir -p "$T/base/root" "$T/base/work"
}

teardown_test() {
	if mountpoint -q "$T/userns" 2>/dev/null; then umount "$T/userns"; fi
	rm -f "$T/userns"
	ip netns delete "$NS" 2>/dev/null || true
}

# make_ns: the user namespace at $T/userns and its network namespace $NS.
make_ns() {
	run "$MK" "$RANGE" 65536 "$T/userns" "/run/netns/$NS"
	echo "userns-make: $output"
	[ "$status" -eq 0 ]
}

# inside SCRIPT: run SCRIPT with sh as root of the user namespace, in an
# overlay of / whose upper and work are under $T/base.
inside() {
	"$P" --userns "$T/userns" --unshare-pid --unshare-ipc --unshare-uts \
		--hostname inside --netns "/run/netns/$NS" \
		-o "/,lowerdir=/,upperdir=$T/base/root,workdir=$T/base/work" \
		--proc /proc --dev /dev -m sysfs,sysfs,/sys,ro,nosuid,nodev,noexec \
		-- sh -c "$1"
}

@test "userns-make: maps 0-65535 to the range, keeps the namespaces, refuses bad input" {
	make_ns
	run nsenter --user="$T/userns" cat /proc/self/uid_map /proc/self/gid_map
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | awk '{print $1, $2, $3}' | sort -u)" = "0 $RANGE 65536" ]
	run "$MK" "$RANGE" 65536 "$T/userns"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == "userns-make: creating $T/userns: File exists" ]]
	run "$MK" 4294967295 1 "$T/other"
	[ "$status" -eq 1 ]
	[ ! -e "$T/other" ]
	run setpriv --reuid 65534 --regid 65534 --clear-groups "$MK" 100000 10 "$T/other"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$output" = "userns-make: must be run as root" ]
}

@test "--userns: root inside writes files owned by 0 on disk, chown 5:5 gives 5:5" {
	make_ns
	run inside 'id -u; id -g; echo hi >/etc/obt-userns; mkdir /etc/obt-dir; chown 5:5 /etc/obt-dir'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0 ] && [ "${lines[1]}" = 0 ]
	[ "$(stat -c %u:%g "$T/base/root/etc/obt-userns")" = 0:0 ]
	[ "$(stat -c %u:%g "$T/base/root/etc/obt-dir")" = 5:5 ]
	# the host's files show their own owners inside
	run inside 'stat -c %u:%g /etc/shadow /etc/obt-dir'
	echo "$output"
	[ "${lines[0]}" = "$(stat -c %u:%g /etc/shadow)" ]
	[ "${lines[1]}" = 5:5 ]
}

@test "--userns: pid 1 is the range's first id on the host; core_pattern is refused" {
	make_ns
	run inside 'cat /proc/self/uid_map; awk "/^Uid:/ {print \$2}" /proc/1/status
		echo "|/tmp/x" >/proc/sys/kernel/core_pattern && echo WROTE'
	echo "$output"
	[ "$(echo "${lines[0]}" | awk '{print $1, $2, $3}')" = "0 $RANGE 65536" ]
	[ "${lines[1]}" = 0 ]
	[[ "$output" != *WROTE* ]]
	[[ "$output" == *"core_pattern"*"ermission denied"* ]]
	# from the host, the command runs as the range's first id (without
	# a pid namespace, overlay-pivot becomes the command)
	"$P" --userns "$T/userns" --netns "/run/netns/$NS" \
		-o "/,lowerdir=/,upperdir=$T/base/root,workdir=$T/base/work" \
		-- sleep 30 &
	local pid=$! i uid=
	for i in $(seq 50); do
		[ "$(cat "/proc/$pid/comm")" = sleep ] && break
		sleep 0.1
	done
	uid=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")
	kill "$pid"
	wait "$pid" || true
	echo "uids on the host: $uid"
	[ "$uid" = "$RANGE $RANGE $RANGE $RANGE" ]
}

@test "--userns: the network namespace belongs to root inside; the host still sees it" {
	make_ns
	run inside 'ip addr add 10.254.1.1/32 dev lo && ip link set lo up && hostname'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = inside ]
	run ip netns exec "$NS" ip -o addr show dev lo
	echo "$output"
	[[ "$output" == *"10.254.1.1/32"* ]]
}

# xattr FILE NAME: the value of an extended attribute, or "none".
xattr() {
	python3 -c 'import os, sys
try: print(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).decode())
except OSError: print("none")' "$1" "$2"
}

@test "--userns: whiteouts and opaque directories: user.overlay markers, view kept" {
	make_ns
	run inside 'rm /etc/hostname && rm -r /etc/default && mkdir /etc/default && touch /etc/default/obt'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(stat -c %F:%t:%T "$T/base/root/etc/hostname")" = "character special file:0:0" ]
	[ "$(xattr "$T/base/root/etc/default" user.overlay.opaque)" = y ]
	[ "$(xattr "$T/base/root/etc/default" trusted.overlay.opaque)" = none ]
	run inside 'ls /etc/hostname; ls /etc/default'
	echo "$output"
	[ "${lines[0]}" = "ls: cannot access '/etc/hostname': No such file or directory" ]
	[ "${lines[1]}" = obt ]
	[ -e /etc/hostname ]
}

@test "--userns: a layer whose file system cannot be idmapped is refused by name" {
	make_ns
	mkdir -p "$T/ov/l" "$T/ov/u" "$T/ov/w" "$T/ov/m"
	run unshare -m --propagation private sh -c '
		mount -t overlay overlay -o "lowerdir=$1/l,upperdir=$1/u,workdir=$1/w" "$1/m" || exit 99
		"$2" --userns "$1/../userns" -o "/,lowerdir=$1/m:/,upperdir=$1/../base/root,workdir=$1/../base/work" -- true' \
		sh "$T/ov" "$P"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == "overlay-pivot: -o lowerdir $T/ov/m: "*"cannot be idmapped"*"USERNS=no runs it" ]]
}

@test "--userns: upper and work on different mounts are refused" {
	make_ns
	mkdir -p "$T/w2"
	run unshare -m --propagation private sh -c '
		mount -t tmpfs tmpfs "$1/w2" && mkdir "$1/w2/work" &&
		"$2" --userns "$1/userns" -o "/,lowerdir=/,upperdir=$1/base/root,workdir=$1/w2/work" -- true' \
		sh "$T" "$P"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"upper and work directories must be on one mount"* ]]
}

@test "--userns: refused to a non-root caller" {
	make_ns
	run setpriv --reuid 65534 --regid 65534 --clear-groups "$P" --userns "$T/userns" -- true
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$output" = "overlay-pivot: --userns: only root may use it" ]
}

UX="$BATS_TEST_DIRNAME/../src/upper-xattrs"

# view DIR: what a merged tree shows: paths, types and contents.
view() {
	(cd "$1" && find . -mindepth 1 | sort | while read -r f; do
		if [ -f "$f" ]; then echo "$f $(cat "$f")"; else echo "$f $(stat -c %F "$f")"; fi
	done)
}

@test "upper-xattrs: a root-mounted UPPER serves a user namespace and back, view unchanged" {
	make_ns
	local L=$T/low U=$T/up W=$T/wk M=$T/m
	mkdir -p "$L/a" "$L/d" "$U" "$W" "$M"
	echo 1 >"$L/a/f1"; echo 2 >"$L/a/f2"; echo x >"$L/d/x"
	# as upstream mounts it (the host's root): a whiteout, an opaque
	# directory, a changed file, and a user's own user.overlay.* attribute
	run unshare -m --propagation private sh -c '
		mount -t overlay overlay -o "lowerdir=$1,upperdir=$2,workdir=$3" "$4" || exit 99
		rm "$4/a/f1" && rm -r "$4/d" && mkdir "$4/d" && echo n >"$4/d/new" && echo c >"$4/a/f2" &&
		python3 -c "import os; os.setxattr(\"$4/a/f2\", \"user.overlay.mine\", b\"v\")" &&
		(cd "$4" && find . -mindepth 1 | sort | while read -r f; do
			if [ -f "$f" ]; then echo "$f $(cat "$f")"; else echo "$f $(stat -c %F "$f")"; fi
		done)' sh "$L" "$U" "$W" "$M"
	echo "root view: $output"
	[ "$status" -eq 0 ]
	local before=$output
	[ "$(xattr "$U/d" trusted.overlay.opaque)" = y ]
	[ "$("$UX" --mode "$U")" = trusted ]
	run "$UX" "$U" user
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$("$UX" --mode "$U")" = user ]
	[ "$(xattr "$U/d" user.overlay.opaque)" = y ]
	[ "$(xattr "$U/d" trusted.overlay.opaque)" = none ]
	[ "$(xattr "$U/a/f2" user.overlay.overlay.mine)" = v ]
	run "$P" --userns "$T/userns" \
		-o "/,lowerdir=/,upperdir=$T/base/root,workdir=$T/base/work" \
		-o "/mnt,lowerdir=$L,upperdir=$U,workdir=$W" -- sh -c '
		cd /mnt && find . -mindepth 1 | sort | while read -r f; do
			if [ -f "$f" ]; then echo "$f $(cat "$f")"; else echo "$f $(stat -c %F "$f")"; fi
		done; echo "mine=$(python3 -c "import os; print(os.getxattr(\"/mnt/a/f2\", \"user.overlay.mine\").decode())")"'
	echo "userns view: $output"
	[ "$status" -eq 0 ]
	[ "$output" = "$before
mine=v" ]
	# back to the trusted form: the root mount sees the same again
	run "$UX" "$U" trusted
	[ "$status" -eq 0 ]
	[ "$("$UX" --mode "$U")" = trusted ]
	[ "$(xattr "$U/d" trusted.overlay.opaque)" = y ]
	[ "$(xattr "$U/a/f2" user.overlay.mine)" = v ]
	run unshare -m --propagation private sh -c '
		mount -t overlay overlay -o "lowerdir=$1,upperdir=$2,workdir=$3" "$4" || exit 99
		(cd "$4" && find . -mindepth 1 | sort | while read -r f; do
			if [ -f "$f" ]; then echo "$f $(cat "$f")"; else echo "$f $(stat -c %F "$f")"; fi
		done)' sh "$L" "$U" "$W" "$M"
	echo "root view again: $output"
	[ "$output" = "$before" ]
}

@test "upper-xattrs: without the conversion, a user namespace would see the deleted directory" {
	make_ns
	local L=$T/low U=$T/up W=$T/wk M=$T/m
	mkdir -p "$L/d" "$U" "$W" "$M"
	echo x >"$L/d/x"
	unshare -m --propagation private sh -c '
		mount -t overlay overlay -o "lowerdir=$1,upperdir=$2,workdir=$3" "$4" &&
		rm -r "$4/d" && mkdir "$4/d"' sh "$L" "$U" "$W" "$M"
	run "$P" --userns "$T/userns" \
		-o "/,lowerdir=/,upperdir=$T/base/root,workdir=$T/base/work" \
		-o "/mnt,lowerdir=$L,upperdir=$U,workdir=$W" -- ls /mnt/d
	echo "unconverted: $output"
	[ "$output" = x ]
	"$UX" "$U" user
	run "$P" --userns "$T/userns" \
		-o "/,lowerdir=/,upperdir=$T/base/root,workdir=$T/base/work" \
		-o "/mnt,lowerdir=$L,upperdir=$U,workdir=$W" -- ls /mnt/d
	echo "converted: $output"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
}

@test "--userns: a read-only bind stays read-only: root inside cannot remount it" {
	make_ns
	mkdir -p "$T/share"
	echo host >"$T/share/f"
	run "$P" --userns "$T/userns" \
		-o "/,lowerdir=/,upperdir=$T/base/root,workdir=$T/base/work" \
		--ro-bind "$T/share" /mnt/share -- sh -c '
		echo x >/mnt/share/f && echo WROTE
		mount -o remount,bind,rw /mnt/share && echo REMOUNTED
		echo y >/mnt/share/f && echo WROTE2; true'
	echo "$output"
	[[ "$output" != *WROTE* ]]
	[[ "$output" != *REMOUNTED* ]]
	[ "$(cat "$T/share/f")" = host ]
}
