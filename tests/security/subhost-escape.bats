#!/usr/bin/env bats
# The escape suite: root inside a booted subhost tries to reach the host
# (issue 14 point 5). Each probe runs in a subhost booted without the
# defence (USERNS=no from a copy of the tree whose overlay-pivot drops
# --harden, --harden-only and --device-cgroup, and whose subhosts live in
# their limited cgroup itself rather than a payload group below it), where
# it works, and in subhosts booted by the real tree with USERNS=no and
# with USERNS=yes, where it must fail. The one exception is the fresh
# proc mount under USERNS=no: the documented residue of root in the
# host's user namespace. Probes run through overlay-go, which is hardened
# as pid 1's children are (overlay-pivot --harden-only).

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
	# and without the payload group: the subhost's cgroup namespace is
	# made on the group that holds its limits
	sed -i 's/^CG_PAYLOAD=payload$/CG_PAYLOAD=./' "$t/lib/cgroup.sh"
	grep -qx 'CG_PAYLOAD=\.' "$t/lib/cgroup.sh"
}

# up NAME soft|hard [USERNS [KEY=VALUE...]]: boot a subhost (LOWER=/,
# USERNS=no unless given) with the probe in its UPPER at /escape, by the
# tree without the defence or the real one.
up() {
	local conf name=$1 tree=$2 userns=${3:-no}
	shift 3 2>/dev/null || shift $#
	conf=$(make_subhost "$name" "USERNS=$userns" "$@")
	cp "$BATS_FILE_TMPDIR/escape" "${conf%/*}/root/escape"
	if [ "$tree" = soft ]; then
		T=$BATS_FILE_TMPDIR/soft
	else
		T=$TOP
	fi
	run "$T/overlay-boot" "$conf"
	echo "boot: $output"
	[ "$status" -eq 0 ]
	UP="$UP $name"
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

@test "core_pattern through /proc/sys: works without the defence, refused in a subhost, both modes" {
	up ose1 soft
	run inside ose1 /escape write /proc/sys/kernel/core_pattern
	echo "without: $output"
	[ "$status" -eq 0 ]
	for m in no yes; do
		up "ose2$m" hard "$m"
		run inside "ose2$m" /escape write /proc/sys/kernel/core_pattern
		echo "USERNS=$m: $output"
		[ "$status" -eq 1 ]
		# and for pid 1's own children too, not only what overlay-go starts
		[ "$(awk '/^Seccomp:/ {print $2}' "/proc/$(cat "/run/overlay-boot/ose2$m/pid1")/status")" = 2 ]
	done
}

@test "a fresh proc mount reaches core_pattern: refused with USERNS=yes, the documented residue of USERNS=no" {
	local probe='mkdir -p /tmp/p && mount -t proc proc /tmp/p && /escape write /tmp/p/sys/kernel/core_pattern; umount /tmp/p 2>/dev/null; true'
	up ose3no hard no
	run inside ose3no sh -c "$probe"
	echo "USERNS=no: $output"
	[ "$status" -eq 0 ]
	[[ "$output" == "ESCAPE write /tmp/p/sys/kernel/core_pattern" ]]
	up ose3yes hard yes
	run inside ose3yes sh -c "$probe"
	echo "USERNS=yes: $output"
	[ "$status" -eq 0 ]
	[[ "$output" != *ESCAPE* ]]
}

@test "a host disk through mknod (and a fresh devtmpfs): refused in a subhost, both modes" {
	local dev
	truncate -s 1M "$BATS_TEST_TMPDIR/disk"
	LOOP=$(losetup -f --show "$BATS_TEST_TMPDIR/disk")
	dev=$(stat -c '%t:%T' "$LOOP")
	dev=$((0x${dev%:*})):$((0x${dev#*:}))
	up ose4 soft
	run inside ose4 /escape blockdev "${dev%:*}" "${dev#*:}" /var/tmp
	echo "without: $output"
	[ "$status" -eq 0 ]
	for m in no yes; do
		up "ose5$m" hard "$m"
		run inside "ose5$m" sh -c '/escape blockdev "$1" "$2" /var/tmp
			mkdir -p /tmp/d && mount -t devtmpfs none /tmp/d && head -c 1 "/tmp/d/${3##*/}" >/dev/null && echo ESCAPE devtmpfs
			umount /tmp/d 2>/dev/null; true' - "${dev%:*}" "${dev#*:}" "$LOOP"
		echo "USERNS=$m: $output"
		[[ "$output" != *ESCAPE* ]]
		[[ "$output" == *"refused mknod of a host disk: Operation not permitted"* ]]
	done
}

@test "open_by_handle_at on every mount inside: refused in a subhost, both modes" {
	up ose6 soft
	run inside ose6 /escape handles
	echo "without: $output"
	[ "$status" -eq 0 ]
	for m in no yes; do
		up "ose7$m" hard "$m"
		run inside "ose7$m" /escape handles
		echo "USERNS=$m: $output"
		[ "$status" -eq 1 ]
	done
}

@test "a remount rw of the reaper bound in from the host: refused in a subhost, both modes" {
	up ose8 soft
	run inside ose8 sh -c 'mount -o remount,bind,rw /run/overlay-boot/reaper && test -w /run/overlay-boot/reaper && echo rw; mount -o remount,bind,ro /run/overlay-boot/reaper'
	echo "without: $output"
	[ "$output" = rw ]
	for m in no yes; do
		up "ose9$m" hard "$m"
		run inside "ose9$m" sh -c 'mount -o remount,bind,rw /run/overlay-boot/reaper; test -w /run/overlay-boot/reaper && echo rw'
		echo "USERNS=$m: $output"
		[[ "$output" != *rw ]]
	done
}

@test "/proc/kmsg (opened only): refused in a subhost, both modes" {
	up ose10 soft
	run inside ose10 /escape open /proc/kmsg
	echo "without: $output"
	[ "$status" -eq 0 ]
	for m in no yes; do
		up "ose11$m" hard "$m"
		run inside "ose11$m" /escape open /proc/kmsg
		echo "USERNS=$m: $output"
		[ "$status" -eq 1 ]
	done
}

@test "/proc/sysrq-trigger (opened only): refused in a subhost, both modes" {
	[ -e /proc/sysrq-trigger ] || skip "this kernel has no /proc/sysrq-trigger"
	up ose12 soft
	run inside ose12 /escape open /proc/sysrq-trigger w
	echo "without: $output"
	[ "$status" -eq 0 ]
	for m in no yes; do
		up "ose13$m" hard "$m"
		run inside "ose13$m" /escape open /proc/sysrq-trigger w
		echo "USERNS=$m: $output"
		[ "$status" -eq 1 ]
	done
}

@test "finit_module, settimeofday and clock_settime: refused in a subhost, both modes" {
	up ose14 soft
	run inside ose14 sh -c '/escape module; /escape settime'
	echo "without: $output"
	[ "$(echo "$output" | grep -c ^ESCAPE)" -eq 3 ]
	for m in no yes; do
		up "ose15$m" hard "$m"
		run inside "ose15$m" sh -c '/escape module; /escape settime; /escape settime32'
		echo "USERNS=$m: $output"
		[[ "$output" != *ESCAPE* ]]
		[ "$(echo "$output" | grep -c ^refused)" -ge 4 ]
	done
}

@test "signal or ptrace of a host process: refused (the pid namespace), both modes" {
	sleep 60 &
	victim=$!
	# without a pid namespace (the defence) the probe reaches it
	run "$TOP/src/overlay-pivot" --tmp-overlay / / --ro-bind "$BATS_FILE_TMPDIR/escape" /escape -- /escape kill "$victim"
	echo "without: $output"
	[ "$status" -eq 0 ]
	for m in no yes; do
		up "ose16$m" hard "$m"
		run inside "ose16$m" /escape kill "$victim"
		echo "USERNS=$m: $output"
		[ "$status" -eq 1 ]
	done
	kill "$victim"
	wait "$victim" 2>/dev/null || true
}

@test "a setns into the host's namespaces: refused (no namespace file of the host inside), both modes" {
	# where the host's namespace files are reachable (a new network
	# namespace on the host), the probe gets back into the host's
	run unshare -n "$BATS_FILE_TMPDIR/escape" setns "/proc/$BASHPID/ns/net"
	echo "without: $output"
	[ "$status" -eq 0 ]
	for m in no yes; do
		up "ose17$m" hard "$m"
		run inside "ose17$m" sh -c 'for p in /proc/[0-9]*/ns/*; do echo "$p $(readlink "$p")"; done'
		echo "USERNS=$m inside: $output"
		# USERNS=no shares the host's user namespace, and only that
		for ns in net mnt pid cgroup ipc uts $([ "$m" = no ] || echo user); do
			[[ "$output" != *"$(readlink "/proc/$$/ns/$ns")"* ]]
		done
		run inside "ose17$m" /escape setns /proc/1/ns/net /proc/1/ns/mnt
		echo "USERNS=$m: $output"
		# its own namespaces only: setns into them changes nothing
		run inside "ose17$m" readlink /proc/self/ns/net
		[ "$output" != "$(readlink /proc/$$/ns/net)" ]
	done
}

@test "reboot(2) inside ends only the subhost, both modes" {
	for m in no yes; do
		up "ose18$m" hard "$m"
		pid1=$(cat "/run/overlay-boot/ose18$m/pid1")
		run inside "ose18$m" /escape reboot
		echo "USERNS=$m reboot: $status $output"
		for _ in $(seq 50); do [ -e "/proc/$pid1" ] || break; sleep 0.1; done
		[ ! -e "/proc/$pid1" ]
		# the host is here to tell
		[ -e /proc/1 ]
		"$TOP/overlay-stop" "ose18$m"
	done
}

# The cgroup probe: mount every hierarchy its cgroup namespace offers,
# look for the host's tree, and try to raise each limit it finds (writing
# back what it read when that works). Its own group's files are unlimited
# and stay writable with USERNS=no: a limit set there only adds to the
# one above.
CG_PROBE='
raise() {
	[ -e "$1" ] || return 0
	old=$(cat "$1")
	case "$old" in
	max | "max "* | -1 | 9223372036854771712)
		# no limit here: the limit that holds is above, out of sight
		echo "unlimited $1"
		return 0
		;;
	esac
	if echo "$2" 2>/dev/null >"$1"; then
		echo "ESCAPE raised $1"
		echo "$old" >"$1"
	else
		echo "refused $1"
	fi
}
mkdir -p /tmp/c2 && mount -t cgroup2 none /tmp/c2 && {
	test -e /tmp/c2/overlay-boot && echo "ESCAPE host tree"
	for f in pids.max memory.max cpu.max; do raise "/tmp/c2/$f" max; done
	umount /tmp/c2
}
for c in pids memory cpu; do
	mkdir -p "/tmp/$c"
	mount -t cgroup -o "$c" none "/tmp/$c" 2>/dev/null || continue
	test -e "/tmp/$c/overlay-boot" && echo "ESCAPE host tree $c"
	raise "/tmp/$c/pids.max" max
	raise "/tmp/$c/memory.limit_in_bytes" -1
	raise "/tmp/$c/cpu.cfs_quota_us" -1
	umount "/tmp/$c"
done
true'

@test "the host's cgroup tree and its own limits are out of reach, both modes" {
	up ose19 soft no PIDS_MAX=50 MEMORY_MAX=256M CPU_MAX=50%
	run inside ose19 sh -c "$CG_PROBE"
	echo "without: $output"
	[[ "$output" == *"ESCAPE raised"* ]]
	for m in no yes; do
		up "ose20$m" hard "$m" PIDS_MAX=50 MEMORY_MAX=256M CPU_MAX=50%
		run inside "ose20$m" sh -c "$CG_PROBE"
		echo "USERNS=$m: $output"
		[[ "$output" != *ESCAPE* ]]
		[ "$(find /sys/fs/cgroup -maxdepth 4 -path "*/overlay-boot/ose20$m/pids.max" -exec cat {} +)" = 50 ]
	done
}
