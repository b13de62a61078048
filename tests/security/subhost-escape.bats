#!/usr/bin/env bats
# The escape suite, USERNS=no: root inside a booted subhost tries to reach
# the host (issue 14 point 5). Each probe runs twice: in a subhost booted
# without the defence (a copy of the tree whose overlay-pivot drops
# --harden, --harden-only and --device-cgroup), where it works, and in a
# subhost booted by the real tree, where it must fail. The fresh proc
# mount is the documented residue of root in the host's user namespace.
# Probes run through overlay-go, which is hardened as pid 1's children
# are (overlay-pivot --harden-only).

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	local t=$BATS_FILE_TMPDIR/soft
	cc -std=c11 -O2 -D_GNU_SOURCE -static -no-pie -o "$BATS_FILE_TMPDIR/escape" \
		"$BATS_TEST_DIRNAME/escape.c"
	# the tree without the defence
	mkdir -p "$t/src"
	cp -a "$TOP"/overlay-* "$TOP/functions" "$TOP/lib" "$t/"
	# every helper but overlay-pivot, as built
	for f in "$TOP"/src/*; do
		[ -f "$f" ] && [ -x "$f" ] && [ "${f##*/}" != overlay-pivot ] || continue
		ln -s "$f" "$t/src/${f##*/}"
	done
	cat >"$t/src/overlay-pivot" <<EOF
#!/bin/sh
# overlay-pivot without the hardening options
if [ "\$1" = --harden-only ]; then
	shift 2
	exec "\$@"
fi
n=\$#
while [ "\$n" -gt 0 ]; do
	a=\$1
	shift
	n=\$((n - 1))
	case "\$a" in
	--harden) ;;
	--device-cgroup) shift; n=\$((n - 1)) ;;
	*) set -- "\$@" "\$a" ;;
	esac
done
exec "$TOP/src/overlay-pivot" "\$@"
EOF
	chmod 0755 "$t/src/overlay-pivot"
}

# up NAME soft|hard: boot a USERNS=no subhost (LOWER=/) with the probe in
# its UPPER at /escape, by the tree without the defence or the real one.
up() {
	local conf
	conf=$(make_subhost "$1" USERNS=no)
	cp "$BATS_FILE_TMPDIR/escape" "${conf%/*}/root/escape"
	if [ "$2" = soft ]; then
		T=$BATS_FILE_TMPDIR/soft
	else
		T=$TOP
	fi
	run "$T/overlay-boot" "$conf"
	echo "boot: $output"
	[ "$status" -eq 0 ]
	UP="$UP $1"
}

inside() {
	local name=$1
	shift
	"$T/overlay-go" "$name" "$@"
}

teardown_test() {
	local n
	for n in ${UP:-}; do "$TOP/overlay-stop" "$n" >/dev/null 2>&1; done
	[ -z "${LOOP:-}" ] || losetup -d "$LOOP"
}

@test "core_pattern through /proc/sys: works without the defence, refused in a subhost" {
	up ose1 soft
	run inside ose1 /escape write /proc/sys/kernel/core_pattern
	echo "without: $output"
	[ "$status" -eq 0 ]
	up ose2 hard
	run inside ose2 /escape write /proc/sys/kernel/core_pattern
	echo "with: $output"
	[ "$status" -eq 1 ]
	# and for pid 1's own children too, not only what overlay-go starts
	[ "$(awk '/^Seccomp:/ {print $2}' "/proc/$(cat /run/overlay-boot/ose2/pid1)/status")" = 2 ]
}

@test "a fresh proc mount reaches core_pattern: the documented residue of USERNS=no" {
	up ose3 hard
	run inside ose3 sh -c 'mkdir -p /tmp/p && mount -t proc proc /tmp/p && /escape write /tmp/p/sys/kernel/core_pattern; umount /tmp/p'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "ESCAPE write /tmp/p/sys/kernel/core_pattern" ]]
}

@test "a host disk through mknod (and a fresh devtmpfs): refused in a subhost" {
	local dev
	truncate -s 1M "$BATS_TEST_TMPDIR/disk"
	LOOP=$(losetup -f --show "$BATS_TEST_TMPDIR/disk")
	dev=$(stat -c '%t:%T' "$LOOP")
	dev=$((0x${dev%:*})):$((0x${dev#*:}))
	up ose4 soft
	run inside ose4 /escape blockdev "${dev%:*}" "${dev#*:}" /var/tmp
	echo "without: $output"
	[ "$status" -eq 0 ]
	up ose5 hard
	run inside ose5 sh -c '/escape blockdev "$1" "$2" /var/tmp
		mkdir -p /tmp/d && mount -t devtmpfs none /tmp/d && head -c 1 "/tmp/d/${3##*/}" >/dev/null && echo ESCAPE devtmpfs
		umount /tmp/d' - "${dev%:*}" "${dev#*:}" "$LOOP"
	echo "with: $output"
	[[ "$output" != *ESCAPE* ]]
	[[ "$output" == *"refused mknod of a host disk: Operation not permitted"* ]]
}

@test "open_by_handle_at on every mount inside: refused in a subhost" {
	up ose6 soft
	run inside ose6 /escape handles
	echo "without: $output"
	[ "$status" -eq 0 ]
	up ose7 hard
	run inside ose7 /escape handles
	echo "with: $output"
	[ "$status" -eq 1 ]
}

@test "a remount rw of the reaper bound in from the host: refused in a subhost" {
	up ose8 soft
	run inside ose8 sh -c 'mount -o remount,bind,rw /run/overlay-boot/reaper && test -w /run/overlay-boot/reaper && echo rw; mount -o remount,bind,ro /run/overlay-boot/reaper'
	echo "without: $output"
	[ "$output" = rw ]
	up ose9 hard
	run inside ose9 sh -c 'mount -o remount,bind,rw /run/overlay-boot/reaper; test -w /run/overlay-boot/reaper && echo rw'
	echo "with: $output"
	[[ "$output" != *rw ]]
}

@test "/proc/kmsg (opened only): refused in a subhost" {
	up ose10 soft
	run inside ose10 /escape open /proc/kmsg
	echo "without: $output"
	[ "$status" -eq 0 ]
	up ose11 hard
	run inside ose11 /escape open /proc/kmsg
	echo "with: $output"
	[ "$status" -eq 1 ]
}

@test "/proc/sysrq-trigger (opened only): refused in a subhost" {
	[ -e /proc/sysrq-trigger ] || skip "this kernel has no /proc/sysrq-trigger"
	up ose12 soft
	run inside ose12 /escape open /proc/sysrq-trigger w
	echo "without: $output"
	[ "$status" -eq 0 ]
	up ose13 hard
	run inside ose13 /escape open /proc/sysrq-trigger w
	echo "with: $output"
	[ "$status" -eq 1 ]
}

@test "finit_module, settimeofday and clock_settime: refused in a subhost" {
	up ose14 soft
	run inside ose14 sh -c '/escape module; /escape settime'
	echo "without: $output"
	[ "$(echo "$output" | grep -c ^ESCAPE)" -eq 3 ]
	up ose15 hard
	run inside ose15 sh -c '/escape module; /escape settime; /escape settime32'
	echo "with: $output"
	[[ "$output" != *ESCAPE* ]]
}

@test "signal or ptrace of a host process: refused (the pid namespace)" {
	sleep 60 &
	victim=$!
	# without a pid namespace (the defence) the probe reaches it
	run "$TOP/src/overlay-pivot" --tmp-overlay / / --ro-bind "$BATS_FILE_TMPDIR/escape" /escape -- /escape kill "$victim"
	echo "without: $output"
	[ "$status" -eq 0 ]
	up ose16 hard
	run inside ose16 /escape kill "$victim"
	echo "with: $output"
	[ "$status" -eq 1 ]
	kill "$victim"
	wait "$victim" 2>/dev/null || true
}

@test "a setns into the host's namespaces: refused (no namespace file of the host inside)" {
	# where the host's namespace files are reachable (a new network
	# namespace on the host), the probe gets back into the host's
	run unshare -n "$BATS_FILE_TMPDIR/escape" setns "/proc/$BASHPID/ns/net"
	echo "without: $output"
	[ "$status" -eq 0 ]
	up ose17 hard
	run inside ose17 sh -c 'for p in /proc/[0-9]*/ns/net /proc/[0-9]*/ns/mnt; do echo "$p $(readlink "$p")"; done'
	echo "inside: $output"
	[[ "$output" != *"$(readlink /proc/$$/ns/net)"* ]]
	[[ "$output" != *"$(readlink /proc/$$/ns/mnt)"* ]]
	run inside ose17 /escape setns /proc/1/ns/net /proc/1/ns/mnt
	echo "with: $output"
	# its own namespaces only: setns into them changes nothing
	run inside ose17 readlink /proc/self/ns/net
	[ "$output" != "$(readlink /proc/$$/ns/net)" ]
}

@test "reboot(2) inside ends only the subhost" {
	up ose18 hard
	pid1=$(cat /run/overlay-boot/ose18/pid1)
	run inside ose18 /escape reboot
	echo "reboot: $status $output"
	for _ in $(seq 50); do [ -e "/proc/$pid1" ] || break; sleep 0.1; done
	[ ! -e "/proc/$pid1" ]
	# the host is here to tell
	[ -e /proc/1 ]
	"$TOP/overlay-stop" ose18
}

@test "the host's cgroup tree is out of reach; writing its own group's files stays the host's business" {
	up ose19 hard
	run inside ose19 sh -c 'mkdir -p /tmp/cg && mount -t cgroup2 none /tmp/cg && cat /tmp/cg/cgroup.procs | wc -l; ls /tmp/cg/.. >/dev/null; test -e /tmp/cg/overlay-boot && echo host-tree; umount /tmp/cg'
	echo "$output"
	[[ "$output" != *host-tree* ]]
}
