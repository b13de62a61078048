#!/usr/bin/env bats
# Shares never reach the host: overlay-share changes only mount namespaces
# whose root is the subhost's, -u removes only what overlay-share mounted,
# and a SHARE mount point is never made through a link the subhost planted.

load helpers

@test "overlay-share leaves alone a process of the subhost's pid namespace that is in the host's mount namespace" {
	conf=$(make_subhost obfe1)
	boot "$conf"
	mkdir -p "$BATS_TEST_TMPDIR/hostdir"
	pid1=$(cat "$STATE/obfe1/pid1")
	nsenter -t "$pid1" -p sleep 300 &
	ns=$!
	when_finished kill "$ns"
	# (not in the subhost's cgroup: found as nsenter's child)
	wait_for pgrep -P "$ns" sleep
	# a target that exists on the host: share-into mounted over it there
	target=$BATS_TEST_TMPDIR/target
	mkdir -p "$target"
	run timeout -k 5 20 "$TOP/overlay-share" "$BATS_TEST_TMPDIR/hostdir" obfe1 "$target"
	echo "$output"
	[ "$status" = 0 ]
	[[ "$output" == *"(1 mount namespace)"* ]]
	! grep -q " $target " /proc/self/mountinfo
	go obfe1 test -d "$target"
	kill "$ns"
	wait "$ns" || true
	stop obfe1
	settled obfe1
}

@test "overlay-share -u removes only what overlay-share mounted: /proc, /dev, a SHARE= bind stay" {
	mkdir -p "$BATS_TEST_TMPDIR/hostdir" "$BATS_TEST_TMPDIR/cfgshare"
	conf=$(make_subhost obfe2 "SHARE=$BATS_TEST_TMPDIR/cfgshare:/cfgshare")
	boot "$conf"
	for p in /proc /dev /dev/pts /cfgshare /run/overlay-boot; do
		run timeout -k 5 20 "$TOP/overlay-share" -u "$p" obfe2
		echo "$output"
		[ "$status" = 1 ]
		[[ "$output" == *"not a share that overlay-share made"* ]]
	done
	go obfe2 test -r /proc/self/stat
	go obfe2 test -c /dev/null
	go obfe2 grep -q ' /cfgshare ' /proc/self/mountinfo
	run timeout -k 5 20 "$TOP/overlay-share" "$BATS_TEST_TMPDIR/hostdir" obfe2 /srv/x
	[ "$status" = 0 ]
	run timeout -k 5 20 "$TOP/overlay-share" -u /srv/x/ obfe2
	echo "$output"
	[ "$status" = 0 ]
	! go obfe2 grep -q ' /srv/x ' /proc/self/mountinfo
	stop obfe2
	settled obfe2
}

@test "USERNS=no: a SHARE mount point through a symbolic link the subhost planted: refused, nothing made on the host" {
	mkdir -p "$BATS_TEST_TMPDIR/hostdir" "$BATS_TEST_TMPDIR/escape"
	conf=$(make_subhost obfe3 USERNS=no "SHARE=$BATS_TEST_TMPDIR/hostdir:/data/sub")
	base=${conf%/*}
	ln -s "$BATS_TEST_TMPDIR/escape" "$base/root/data"
	run timeout -k 5 30 "$TOP/overlay-boot" "$conf"
	echo "$output"
	[ "$status" = 1 ]
	[[ "$output" == *"/data is a symbolic link"* ]]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/escape")" ]
	settled obfe3
}

# With its own user namespace the subhost's root is assembled inside it
# and every path resolved within that root: the link the subhost planted
# leads into its own root, never to the host's directory it names.
@test "USERNS=yes: a SHARE through a planted symbolic link stays in the subhost's root, nothing made on the host" {
	mkdir -p "$BATS_TEST_TMPDIR/hostdir" "$BATS_TEST_TMPDIR/escape"
	echo shared >"$BATS_TEST_TMPDIR/hostdir/file"
	conf=$(make_subhost obfe4 USERNS=yes "SHARE=$BATS_TEST_TMPDIR/hostdir:/data/sub")
	base=${conf%/*}
	ln -s "$BATS_TEST_TMPDIR/escape" "$base/root/data"
	boot "$conf"
	when_finished "$TOP/overlay-stop" obfe4
	run ls -A "$BATS_TEST_TMPDIR/escape"
	[ -z "$output" ] || { echo "made on the host: $output"; false; }
	# inside, the link resolves in the subhost's root
	[ "$(go obfe4 cat /data/sub/file)" = shared ]
	[ "$(go obfe4 cat "$BATS_TEST_TMPDIR/escape/sub/file")" = shared ]
	! grep -q " $BATS_TEST_TMPDIR/escape" /proc/self/mountinfo
	stop obfe4
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/escape")" ]
	settled obfe4
}
