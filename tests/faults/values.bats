#!/usr/bin/env bats
# Every value is checked before any side effect, with limits that can
# work; the config's bytes are checked; the mount stage runs without
# CPU_MAX. A refused value is one line naming the key, and nothing is
# made (no netns, cgroup, mount or state).

load helpers

# refused CONF KEY: overlay-boot CONF fails with one line naming KEY and
# leaves nothing.
refused() {
	run timeout -k 5 30 "$TOP/overlay-boot" "$1"
	echo "$output"
	[ "$status" = 1 ]
	[ "${#lines[@]}" = 1 ]
	[[ "$output" == *"$2"* ]]
	[ ! -e "$STATE/${1##*/}" ]
}

# boots_and_goes CONF NAME: boots, overlay-go runs a command, stops.
boots_and_goes() {
	run timeout -k 5 30 "$TOP/overlay-boot" "$1"
	echo "$output"
	[ "$status" = 0 ]
	run timeout -k 5 20 "$TOP/overlay-go" "$2" /bin/sh -c 'echo in'
	echo "$output"
	[ "$output" = in ]
	run timeout -k 5 60 "$TOP/overlay-stop" "$2"
	[ "$status" = 0 ]
}

@test "RAM_SIZE=0 (a tmpfs with no limit) is refused" {
	for v in 0 0M 0%; do
		conf=$(make_subhost obfv1 "RAM_SIZE=$v")
		refused "$conf" "RAM_SIZE: '$v'"
	done
	settled obfv1
}

@test "STOP_TIMEOUT and START_TIMEOUT beyond a day (the reaper refuses 10^9) are refused" {
	for kv in STOP_TIMEOUT=1000000000 STOP_TIMEOUT=86401 START_TIMEOUT=99999999999999999999; do
		conf=$(make_subhost obfv2 "$kv")
		refused "$conf" "${kv%%=*}: '${kv#*=}' is more than 86400"
	done
	settled obfv2
}

@test "PIDS_MAX below 8 is refused; PIDS_MAX=8 boots and overlay-go works" {
	for v in 0 3 7; do
		conf=$(make_subhost obfv3 "PIDS_MAX=$v")
		refused "$conf" "PIDS_MAX: '$v' is less than 8"
	done
	conf=$(make_subhost obfv3 PIDS_MAX=8)
	boots_and_goes "$conf" obfv3
	settled obfv3
}

@test "MEMORY_MAX below 4M is refused; MEMORY_MAX=4M boots and overlay-go works" {
	for v in 1 1M 4095K; do
		conf=$(make_subhost obfv4 "MEMORY_MAX=$v")
		refused "$conf" "MEMORY_MAX: '$v' is less than 4M"
	done
	conf=$(make_subhost obfv4 MEMORY_MAX=99999999999999999999T)
	refused "$conf" "MEMORY_MAX: '99999999999999999999T' is too large"
	conf=$(make_subhost obfv4 MEMORY_MAX=4M)
	boots_and_goes "$conf" obfv4
	settled obfv4
}

@test "CPU_MAX is applied after the mount stage: PREMOUNT runs without it, pid 1 with it" {
	conf=$(make_subhost obfv5 CPU_MAX=1000 PREMOUNT=pre)
	base=${conf%/*}
	cat >"$base/pre" <<'HOOK'
#!/bin/sh
"$OVERLAY_BOOT_LIB/overlay-premount" "$@" || exit 1
for f in /sys/fs/cgroup/cpu/overlay-boot/$NAME/cpu.cfs_quota_us /sys/fs/cgroup/unified/overlay-boot/$NAME/cpu.max; do
	[ -e "$f" ] && cat "$f"
done >"$BASE/quota"
exit 0
HOOK
	chmod +x "$base/pre"
	run timeout -k 5 60 "$TOP/overlay-boot" "$conf"
	[ "$status" = 0 ]
	cat "$base/quota"
	grep -qx -- '-1\|max 100000' "$base/quota"
	q=$(cat /sys/fs/cgroup/cpu/overlay-boot/obfv5/cpu.cfs_quota_us 2>/dev/null ||
		cat /sys/fs/cgroup/unified/overlay-boot/obfv5/cpu.max)
	[ "$q" = 1000 ] || [ "$q" = "1000 100000" ]
	stop obfv5
	settled obfv5
}

@test "a UTF-8 byte order mark before the first key is skipped" {
	conf=$(make_subhost obfv6)
	{ printf '\357\273\277'; cat "$conf"; } >"$conf.new" && mv "$conf.new" "$conf"
	boot "$conf"
	stop obfv6
	settled obfv6
}

@test "a carriage return inside a line (CR line ends) is refused naming the line" {
	conf=$(make_subhost obfv7)
	printf 'BASE=.\rSTART=none\rLOG=log\r' >"$conf"
	refused "$conf" "$conf:1: a carriage return"
	# CRLF line ends are fine
	printf 'BASE=.\r\nSTART=none\r\nLOG=log\r\n' >"$conf"
	boot "$conf"
	stop obfv7
	settled obfv7
}

@test "a NUL byte is refused naming the line (NAME=fl<NUL>x is not flx)" {
	conf=$(make_subhost obfv8)
	printf 'NAME=obf\0v8x\n' >>"$conf"
	refused "$conf" "$conf:4: a NUL byte"
	[ ! -e "$STATE/obfv8x" ]
	settled obfv8 obfv8x
}

@test "SHARE onto /, /dev, /run, /proc, /sys or /run/overlay-boot is refused with one line" {
	mkdir -p "$BATS_TEST_TMPDIR/hostdir"
	for t in / /dev /dev/ //proc /proc/sys /sys /sys/fs /run /run/overlay-boot /run/overlay-boot/x; do
		conf=$(make_subhost obfv9 "SHARE=$BATS_TEST_TMPDIR/hostdir:$t")
		refused "$conf" "SHARE: cannot share onto"
	done
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/hostdir")" ]
	settled obfv9
}
