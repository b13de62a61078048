#!/usr/bin/env bats
# overlay-pivot's hardening of a subhost's pid 1, option by option:
# --harden (masked and read-only /proc and /sys, bounding set, seccomp),
# --device-cgroup and --harden-only. Each test runs the same probe
# without the option first, to show the attack working there.

load helpers
bats_require_minimum_version 1.5.0

teardown_test() {
	[ -z "${LOOP:-}" ] || losetup -d "$LOOP"
	# the device program stays with the group: only its removal ends it
	if [ -n "${CLEAN_GROUP:-}" ]; then
		for _ in $(seq 20); do rmdir "$CLEAN_GROUP" 2>/dev/null && break; sleep 0.1; done
	fi
}

setup_file() {
	# static and not PIE: it runs in any root, and its i386 probe needs
	# its data below 4 GiB
	cc -std=c11 -O2 -D_GNU_SOURCE -static -no-pie -o "$BATS_FILE_TMPDIR/escape" \
		"$BATS_TEST_DIRNAME/escape.c"
}

PIVOT=$BATS_TEST_DIRNAME/../../src/overlay-pivot

# in_root [OPTION...] -- COMMAND...: COMMAND as root in a subhost-like
# root (a throw-away overlay of /, own pid namespace, fresh proc and
# sysfs, minimal /dev), with the probe at /escape.
in_root() {
	local opts=()
	while [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	"$PIVOT" --unshare-pid --unshare-ipc --unshare-uts \
		--tmp-overlay / / --proc /proc -m sysfs,sysfs,/sys --dev /dev \
		--ro-bind "$BATS_FILE_TMPDIR/escape" /escape "${opts[@]}" -- "$@"
}

@test "--harden: the bounding set lacks the host-wide capabilities and keeps the others" {
	run in_root -- grep CapBnd /proc/self/status
	echo "without: $output"
	[ "$status" -eq 0 ]
	full=$(printf '%d' "0x$(echo "$output" | awk '{print $2}')")
	run in_root --harden -- grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' /proc/self/status
	echo "with: $output"
	[ "$status" -eq 0 ]
	bnd=$(printf '%d' "0x$(echo "$output" | awk '/CapBnd/ {print $2}')")
	# removed: DAC_READ_SEARCH 2, SYS_MODULE 16, SYS_RAWIO 17, SYS_PACCT 20,
	# SYS_TIME 25, SYS_TTY_CONFIG 26, MAC_OVERRIDE 32, MAC_ADMIN 33,
	# SYSLOG 34, WAKE_ALARM 35, BLOCK_SUSPEND 36, AUDIT_READ 37,
	# PERFMON 38, BPF 39
	removed=0
	for c in 2 16 17 20 25 26 32 33 34 35 36 37 38 39; do
		removed=$((removed | (1 << c)))
	done
	[ $((full & removed)) -eq "$removed" ]
	[ "$bnd" -eq $((full & ~removed)) ]
	# and from the process's own sets: pid 1's command gets no more
	prm=$(printf '%d' "0x$(echo "$output" | awk '/CapPrm/ {print $2}')")
	[ $((prm & removed)) -eq 0 ]
}

@test "--harden: core_pattern through /proc/sys is read-only, /proc/sys/net stays writable" {
	run in_root -- /escape write /proc/sys/kernel/core_pattern
	echo "without: $output"
	[ "$status" -eq 0 ]
	[[ "$output" == "ESCAPE write /proc/sys/kernel/core_pattern" ]]
	run in_root --harden -- /escape write /proc/sys/kernel/core_pattern
	echo "with: $output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"refused write /proc/sys/kernel/core_pattern: Read-only file system"* ]]
	# the subhost's own network namespace's settings (its own netns here)
	run in_root --harden -N -- /escape write /proc/sys/net/ipv4/ip_forward
	echo "net: $output"
	[ "$status" -eq 0 ]
}

@test "--harden: a fresh proc mount still reaches core_pattern (the residue of root in the host's user namespace)" {
	run in_root --harden -- sh -c 'mkdir -p /tmp/p && mount -t proc proc /tmp/p && /escape write /tmp/p/sys/kernel/core_pattern'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "ESCAPE write /tmp/p/sys/kernel/core_pattern" ]]
}

@test "--harden: /proc/kmsg and the other host-wide proc files are masked" {
	run in_root -- /escape open /proc/kmsg
	echo "without: $output"
	[ "$status" -eq 0 ]
	run in_root --harden -- /escape open /proc/kmsg
	echo "with: $output"
	[ "$status" -eq 1 ]
	run in_root --harden -- sh -c '
		for f in /proc/kmsg /proc/keys /proc/timer_list /proc/kpageflags /proc/mtrr /proc/vmallocinfo; do
			[ -e "$f" ] || continue
			printf "%s %s\n" "$f" "$(stat -f -c %T "$f")"
		done
		ls -A /proc/acpi /sys/firmware | grep -v ":$" | grep . || echo empty'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *proc\ proc* ]]
	[ "$(echo "$output" | grep -c ' tmpfs$')" -ge 3 ]
	[ "${lines[-1]}" = empty ]
}

@test "--harden: /sys is read-only except the subhost's own network devices" {
	local f
	# a host-wide setting that root may change (uevent_helper where the
	# kernel has it)
	for f in /sys/kernel/uevent_helper /sys/kernel/mm/transparent_hugepage/enabled \
		/sys/kernel/mm/ksm/run /sys/power/state; do
		[ -w "$f" ] && break
	done
	echo "file: $f"
	[ -w "$f" ]
	run in_root -- sh -c 'test -w "$1" && echo writable' - "$f"
	echo "without: $output"
	[ "$output" = writable ]
	run in_root --harden -N -- sh -c '
		test -w "$1" && echo "$1 writable"
		test -w /sys/class/net/lo/mtu && echo lo/mtu writable' - "$f"
	echo "with: $output"
	[ "$output" = "lo/mtu writable" ]
}

@test "--harden: open_by_handle_at is refused on every mount" {
	run in_root -- /escape handles
	echo "without: $output"
	[ "$status" -eq 0 ]
	[[ "$output" == *ESCAPE* ]]
	run in_root --harden -- /escape handles
	echo "with: $output"
	[ "$status" -eq 1 ]
	[[ "$output" != *ESCAPE* ]]
	[[ "$output" == *"refused open_by_handle_at"*"Operation not permitted"* ]]
}

@test "--harden: finit_module, settimeofday and clock_settime are refused, also from i386 code" {
	run in_root -- sh -c '/escape module; /escape settime; /escape settime32'
	echo "without: $output"
	[ "$(echo "$output" | grep -c ^ESCAPE)" -eq 4 ]
	run in_root --harden -- sh -c '/escape module; /escape settime; /escape settime32'
	echo "with: $output"
	[[ "$output" != *ESCAPE* ]]
	[ "$(echo "$output" | grep -c 'Operation not permitted$')" -eq 4 ]
}

@test "--harden: a remount rw of what is bound in read-only from the host is refused" {
	mkdir "$BATS_TEST_TMPDIR/ro"
	run in_root --ro-bind "$BATS_TEST_TMPDIR/ro" /ro -- sh -c 'test -w /ro || echo ro; mount -o remount,bind,rw /ro && test -w /ro && echo rw'
	echo "without: $output"
	[ "$output" = "ro
rw" ]
	run in_root --harden --ro-bind "$BATS_TEST_TMPDIR/ro" /ro -- sh -c 'mount -o remount,bind,rw /ro; test -w /ro && echo rw; mount -o remount,bind,ro /ro && echo bind-ro-allowed'
	echo "with: $output"
	[[ "$output" != *$'\n'rw* ]]
	[[ "$output" == *"bind-ro-allowed" ]]
	[[ "$output" == *"permission denied"* ]]
}

@test "--harden: kexec, bpf and perf_event_open are refused, reboot is not" {
	run in_root -- /escape calls
	echo "without: $output"
	[[ "$output" != *"Operation not permitted"* ]]
	run in_root --harden -- /escape calls
	echo "with: $output"
	[ "${lines[0]}" = "kexec_load Operation not permitted" ]
	[ "${lines[1]}" = "bpf Operation not permitted" ]
	[ "${lines[2]}" = "perf_event_open Operation not permitted" ]
	[ "${lines[3]}" = "keyctl Function not implemented" ]
	# reboot(2) ends the pid namespace: pid 1 dies of SIGHUP (129)
	run in_root --harden -- /escape reboot
	echo "reboot: $status $output"
	[ "$status" -eq 129 ]
}

@test "--device-cgroup: a host disk through mknod or a fresh devtmpfs is refused, the standard nodes work" {
	local g dev
	g=$(findmnt -n -o TARGET -t cgroup2 | head -1)
	[ -n "$g" ] || skip "no cgroup v2 hierarchy mounted"
	g=$g/obt-harden-$$
	mkdir "$g"
	CLEAN_GROUP=$g
	# a host disk: a loop device (this machine's own disk is closed even
	# to the host's root)
	truncate -s 1M "$BATS_TEST_TMPDIR/disk"
	LOOP=$(losetup -f --show "$BATS_TEST_TMPDIR/disk")
	dev=$(stat -c '%t:%T' "$LOOP")
	dev=$((0x${dev%:*})):$((0x${dev#*:}))
	probe() {
		(
			echo "$BASHPID" >"$g/cgroup.procs" || exit 2
			in_root "$@"
		)
	}
	# (the throw-away overlay's upper is nodev: a tmpfs of its own, with
	# devices, as a subhost's UPPER on the host's disk has them)
	run probe -- sh -c 'mount -t tmpfs -o dev none /mnt && /escape blockdev "$@" /mnt' - "${dev%:*}" "${dev#*:}"
	echo "without: $output"
	[ "$status" -eq 0 ]
	run probe --device-cgroup "$g" -- sh -c 'mount -t tmpfs -o dev none /mnt && /escape blockdev '"${dev%:*} ${dev#*:}"' /mnt
		mkdir -p /tmp/d && mount -t devtmpfs none /tmp/d && for n in /tmp/d/*; do
			[ -b "$n" ] && head -c 1 "$n" >/dev/null 2>&1 && echo "read $n"; done
		ls /tmp/d/loop0 >/dev/null && echo devtmpfs mounted
		umount /tmp/d
		head -c 1 /dev/urandom | wc -c; echo x >/dev/null && echo null ok'
	echo "with: $output"
	[[ "$output" != *ESCAPE* ]]
	[[ "$output" != *"read /tmp/d"* ]]
	[[ "$output" == *"refused mknod of a host disk: Operation not permitted"* ]]
	[[ "$output" == *"devtmpfs mounted"* ]]
	[[ "$output" == *"1"*"null ok"* ]]
}

@test "--harden-only: the bounding set and the filter, no namespace; other options refused" {
	local host
	host=$(printf '%d' "0x$(awk '/CapBnd/ {print $2}' /proc/self/status)")
	run "$PIVOT" --harden-only -- sh -c 'grep CapBnd /proc/self/status; readlink /proc/self/ns/mnt; '"$BATS_FILE_TMPDIR"'/escape settime'
	echo "$output"
	bnd=$(printf '%d' "0x$(echo "${lines[0]}" | awk '{print $2}')")
	[ "$bnd" -ne "$host" ]
	[ $((bnd & (1 << 16))) -eq 0 ]
	[ $((bnd & ~host)) -eq 0 ]
	[ "${lines[1]}" = "$(readlink /proc/self/ns/mnt)" ]
	[[ "$output" == *"refused settimeofday: Operation not permitted"* ]]
	run "$PIVOT" --harden-only --unshare-pid -- true
	[ "$status" -eq 2 ]
	[[ "$output" == *"--harden-only takes no other option"* ]]
}

@test "--harden, --harden-only and --device-cgroup are root's only" {
	local nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups "$PIVOT")
	run "${nobody[@]}" --harden --tmp-overlay / / -- true
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"--harden: only root may use it"* ]]
	run "${nobody[@]}" --device-cgroup /sys/fs/cgroup --tmp-overlay / / -- true
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"--device-cgroup: only root may use it"* ]]
	run "${nobody[@]}" --harden-only -- true
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"--harden-only: only root may use it"* ]]
}
