#!/usr/bin/env bats
# Storage in use by something else is refused: a disk image attached
# already (a second loop device on it corrupts it), an UPPER that another
# subhost, an overlay in any mount namespace or overlay-clean-root uses.

load helpers

@test "an UPPER image already attached to a loop device is refused, not attached twice" {
	conf=$(image_upper obfn1)
	base=${conf%/*}
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

@test "an UPPER that a host process has an overlay on, in its own mount namespace, is refused naming it" {
	conf=$(make_subhost obfn4)
	base=${conf%/*}
	mkdir -p "$base/lo" "$base/m"
	# unshare and sh exec: the pid is sleep's
	unshare -m --propagation private sh -c \
		'mount -t overlay -o "lowerdir=$1/lo,upperdir=$1/root,workdir=$1/work" obfn4-held "$1/m" && exec sleep 120' \
		sh "$base" </dev/null >/dev/null 2>&1 &
	holder=$!
	when_finished kill "$holder"
	wait_for grep -q obfn4-held "/proc/$holder/mountinfo"
	wait_for grep -qx 'sleep' "/proc/$holder/comm"
	# invisible from the host's mount namespace
	! grep -q obfn4-held /proc/self/mountinfo
	run timeout -k 5 30 "$TOP/overlay-boot" "$conf"
	echo "$output"
	[ "$status" = 1 ]
	[ "${#lines[@]}" = 1 ]
	[[ "$output" == *"UPPER $base/root or WORK $base/work is in use by an overlay mounted in the mount namespace of pid $holder (sleep 120)"* ]]
	[ ! -e "$STATE/obfn4" ]
	kill "$holder"
	wait "$holder" || true
	# free again: it boots
	boot "$conf"
	stop obfn4
	settled obfn4
}

# cr_helper_runs: overlay-clean-root ($cr) runs its helper: it holds
# UPPER by then.
cr_helper_runs() {
	local p
	for p in $(pgrep -P "$cr"); do
		[[ "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" == *"clean-root -n -- "* ]] && return 0
	done
	return 1
}

@test "while overlay-clean-root walks an UPPER, a boot of another name on it is refused" {
	conf1=$(make_subhost obfn5 LOWER=lower)
	base=${conf1%/*}
	mkdir -p "$base/lower"
	# copies equal to LOWER: clean-root -n prints each one; 3000 lines
	# fill the pipe, and it waits there (holding UPPER) until we let go
	for i in $(seq 1 3000); do
		echo "$i" >"$base/lower/a-file-with-a-long-name-to-fill-a-pipe-sooner-$i"
	done
	cp -a "$base/lower/." "$base/root/"
	conf2=$BATS_TEST_TMPDIR/obfn6.conf
	printf 'BASE=%s\nLOWER=lower\nSTART=none\nLOG=log6\nLIVE=live6\n' "$base" >"$conf2"
	mkdir -p "$base/live6"
	mkfifo "$BATS_TEST_TMPDIR/out"
	exec {keep}<>"$BATS_TEST_TMPDIR/out"
	# its own process group (setsid does not fork here): one kill ends
	# clean-root and its helper
	setsid "$TOP/overlay-clean-root" -n "$conf1" >"$BATS_TEST_TMPDIR/out" 2>&1 {keep}<&- &
	cr=$!
	when_finished kill -- "-$cr"
	wait_for cr_helper_runs
	run timeout -k 5 30 "$TOP/overlay-boot" "$conf2"
	echo "$output"
	[ "$status" = 1 ]
	[ "${#lines[@]}" = 1 ]
	[[ "$output" == *"UPPER $base/root is in use: pid "*"clean-root"*"holds its lock"* ]]
	[ ! -e "$STATE/obfn6" ]
	# closing our end ends the helper (SIGPIPE), and clean-root with it
	exec {keep}<&-
	timeout 10 tail --pid="$cr" -f /dev/null
	# free again: it boots
	boot "$conf2"
	stop obfn6
	settled obfn5 obfn6
}

@test "a subhost whose WORK is a running subhost's WORK is refused, whatever its UPPER" {
	conf1=$(make_subhost obfn7)
	base=${conf1%/*}
	conf2=$(make_subhost obfn8 "WORK=$base/work")
	boot "$conf1"
	when_finished "$TOP/overlay-stop" obfn7
	run timeout -k 5 30 "$TOP/overlay-boot" "$conf2"
	echo "$output"
	[ "$status" = 1 ]
	[ "${#lines[@]}" = 1 ]
	[[ "$output" == *"WORK $base/work is in use by subhost obfn7 (running) as its work directory"* ]]
	[ ! -e "$STATE/obfn8" ]
	stop obfn7
	boot "$conf2"
	stop obfn8
	settled obfn7 obfn8
}
