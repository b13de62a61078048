#!/usr/bin/env bats
# Subhost lifecycle: boot, enter, list and stop real subhosts.

load helpers

@test "LOWER=/ subhost: a file written inside lands in UPPER, not on the host, and survives stop + boot" {
	conf=$(make_subhost obl1)
	base=${conf%/*}
	boot "$conf"
	run go obl1 sh -c 'echo inside > /var/tmp/obl1-marker && cat /var/tmp/obl1-marker'
	[ "$status" -eq 0 ]
	[ "$output" = inside ]
	[ "$(cat "$base/root/var/tmp/obl1-marker")" = inside ]
	[ ! -e /var/tmp/obl1-marker ]
	stop obl1
	[ ! -d /run/overlay-boot/obl1 ]
	boot "$conf"
	run go obl1 cat /var/tmp/obl1-marker
	[ "$output" = inside ]
	stop obl1
}

@test "tiny busybox root: pid 1 is the reaper, hostname is NAME, /proc shows only the subhost" {
	conf=$(make_subhost obl2 LOWER=base)
	base=${conf%/*}
	tiny_root "$base/base"
	boot "$conf"
	run go obl2 cat /proc/1/cmdline
	[[ "$output" == /run/overlay-boot/reaper* ]]
	run go obl2 hostname
	[ "$output" = obl2 ]
	# Only the reaper and this pipeline (sh, ls, wc) are visible.
	run go obl2 sh -c 'ls -d /proc/[0-9]* | wc -l'
	[ "$output" -le 4 ]
	run go obl2 test -e "/proc/$(cat /run/overlay-boot/obl2/supervisor)"
	[ "$status" -ne 0 ] || [ "$(cat /run/overlay-boot/obl2/supervisor)" -le 4 ]
	run go obl2 ls /proc/1/root/bin/busybox
	[ "$status" -eq 0 ]
	# the overlay root is the busybox tree, not the host's /
	run go obl2 test -e /usr/lib/os-release
	[ "$status" -ne 0 ]
	stop obl2
}

@test "the host's root is unreachable: nsenter -t 1 -m, /proc/1/root, double chroot with .." {
	conf=$(make_subhost obl3)
	base=${conf%/*}
	# A tmpfs on the host is not part of the LOWER=/ overlay: seeing its
	# marker from inside would mean the host's mount tree is reachable.
	mkdir -p "$base/hostonly"
	mount -t tmpfs obl3-hostonly "$base/hostonly"
	touch "$base/hostonly/secret"
	boot "$conf"
	run go obl3 test -e "$base/hostonly/secret"
	[ "$status" -ne 0 ]
	run go obl3 nsenter -t 1 -m test -e "$base/hostonly/secret"
	[ "$status" -ne 0 ]
	run go obl3 test -e "/proc/1/root$base/hostonly/secret"
	[ "$status" -ne 0 ]
	run go obl3 python3 -c "
import os
os.makedirs('/tmp/obl3-jail', exist_ok=True)
fd = os.open('/', os.O_RDONLY)
os.chroot('/tmp/obl3-jail')
os.fchdir(fd)
for _ in range(64):
    os.chdir('..')
os.chroot('.')
print(os.path.exists('$base/hostonly/secret'))
"
	[ "$status" -eq 0 ]
	[ "$output" = False ]
	stop obl3
	umount "$base/hostonly"
}

@test "START services start in order, stop in reverse, the reaper ends the rest within STOP_TIMEOUT" {
	conf=$(make_subhost obl4 LOWER=base "START=svc-a svc-b svc-c" STOP_TIMEOUT=2)
	base=${conf%/*}
	tiny_root "$base/base"
	mkdir -p "$base/root/etc/init.d"
	for s in a b; do
		cat >"$base/root/etc/init.d/svc-$s" <<SVC
#!/bin/sh
case "\$1" in
start) echo "start $s" >>/svc.log; sleep 1000 </dev/null >/dev/null 2>&1 & echo \$! >/run/svc-$s.pid ;;
stop) echo "stop $s" >>/svc.log; kill \$(cat /run/svc-$s.pid) ;;
esac
SVC
	done
	# svc-c ignores SIGTERM and has no stop: only SIGKILL ends it.
	cat >"$base/root/etc/init.d/svc-c" <<'SVC'
#!/bin/sh
case "$1" in
start) echo "start c" >>/svc.log; sh -c 'trap "" TERM; while :; do sleep 1; done' </dev/null >/dev/null 2>&1 & ;;
esac
SVC
	chmod +x "$base/root/etc/init.d"/svc-?
	boot "$conf"
	run go obl4 sh -c 'ps -o args | grep -c "[s]leep 1000"'
	[ "$output" = 2 ]
	t0=$(date +%s%N)
	stop obl4
	t1=$(date +%s%N)
	elapsed=$(( (t1 - t0) / 1000000 ))
	[ "$(cat "$base/root/svc.log")" = "$(printf 'start a\nstart b\nstart c\nstop b\nstop a')" ]
	# svc-c made the reaper wait for STOP_TIMEOUT, then SIGKILL
	[ "$elapsed" -ge 2000 ]
	[ "$elapsed" -lt 9500 ]
}

@test "overlay-go passes the exit status, 128+N for a signal, and gives an interactive shell" {
	conf=$(make_subhost obl5)
	boot "$conf"
	run go obl5 sh -c 'exit 7'
	[ "$status" -eq 7 ]
	run go obl5 sh -c 'kill -TERM $$'
	[ "$status" -eq 143 ]
	run go "$conf" true
	[ "$status" -eq 0 ]
	# An interactive shell on a pty: bash (the host's / has it).
	run script -qec "$TOP/overlay-go obl5" /dev/null <<<'echo "shell=$BASH_VERSION pid1=$(cat /proc/1/comm)"; exit 3'
	[ "$status" -eq 3 ]
	[[ "$output" == *"shell=5."*"pid1=reaper"* ]]
	stop obl5
}

@test "a second boot is refused and leaves the running subhost alone; of five concurrent boots exactly one wins" {
	conf=$(make_subhost obl6)
	boot "$conf"
	pid1=$(cat /run/overlay-boot/obl6/pid1)
	run "$TOP/overlay-boot" "$conf"
	[ "$status" -eq 1 ]
	[[ "$output" == *"obl6 is already running"* ]]
	[ "$(cat /run/overlay-boot/obl6/pid1)" = "$pid1" ]
	kill -0 "$pid1"
	stop obl6
	for i in 1 2 3 4 5; do
		"$TOP/overlay-boot" "$conf" >/dev/null 2>&1 &
		pids="$pids $!"
	done
	wins=0
	for p in $pids; do
		if wait "$p"; then wins=$((wins + 1)); fi
	done
	[ "$wins" -eq 1 ]
	run go obl6 true
	[ "$status" -eq 0 ]
	stop obl6
}

@test "overlay-list shows a running subhost, and -j gives valid JSON" {
	conf=$(make_subhost obl7)
	boot "$conf"
	run "$TOP/overlay-list"
	[ "$status" -eq 0 ]
	[[ "$output" == *"obl7"*"running"* ]]
	run "$TOP/overlay-list" -j
	echo "$output" | python3 -c '
import json, sys
rows = json.load(sys.stdin)
row = [r for r in rows if r["name"] == "obl7"][0]
assert row["state"] == "running" and row["pid"] > 1 and row["uptime"] >= 0, row'
	stop obl7
	run "$TOP/overlay-list"
	[[ "$output" != *"obl7"* ]]
}

@test "a subhost whose supervisor was killed with SIGKILL runs on; overlay-stop stops it and cleans up" {
	conf=$(make_subhost obl8)
	boot "$conf"
	sup=$(cat /run/overlay-boot/obl8/supervisor)
	pid1=$(cat /run/overlay-boot/obl8/pid1)
	kill -KILL "$sup"
	sleep 0.2
	run "$TOP/overlay-list"
	[[ "$output" == *"obl8 "*"running"*"(supervisor gone)"* ]]
	kill -0 "$pid1"
	run "$TOP/overlay-stop" obl8
	[ "$status" -eq 0 ]
	[[ "$output" == *"cleaning up"* ]]
	! kill -0 "$pid1" 2>/dev/null
	[ ! -e /run/netns/obl8 ]
}

@test "a supervisor killed with SIGKILL is cleaned up by the next overlay-boot, which then works" {
	conf=$(make_subhost obl9)
	boot "$conf"
	old1=$(cat /run/overlay-boot/obl9/pid1)
	kill -KILL "$(cat /run/overlay-boot/obl9/supervisor)"
	boot "$conf"
	! kill -0 "$old1" 2>/dev/null
	[ "$(cat /run/overlay-boot/obl9/pid1)" != "$old1" ]
	run go obl9 hostname
	[ "$output" = obl9 ]
	stop obl9
}

@test "PIDS_MAX stops a fork bomb and MEMORY_MAX an allocation; the host is unaffected" {
	conf=$(make_subhost obla PIDS_MAX=30 MEMORY_MAX=64M)
	boot "$conf"
	# The limits are in whichever hierarchy carries each controller.
	pids_dir=$(dirname "$(find /sys/fs/cgroup -path '*/overlay-boot/obla/pids.max')")
	[ "$(cat "$pids_dir/pids.max")" = 30 ]
	mem_max=$(find /sys/fs/cgroup -path '*/overlay-boot/obla/memory.max' -o -path '*/overlay-boot/obla/memory.limit_in_bytes')
	[ "$(cat "$mem_max")" = $((64 * 1024 * 1024)) ]
	# A fork bomb inside stops at PIDS_MAX.
	run go obla sh -c 'for i in $(seq 1 100); do sleep 60 >/dev/null 2>&1 & done 2>/dev/null; exit 0'
	[ "$(cat "$pids_dir/pids.current")" -le 30 ]
	[ "$(cat "$pids_dir/pids.current")" -ge 15 ]
	# v1 counts the refusal in the forking group: the payload below
	cat "$pids_dir/pids.events" "$pids_dir/payload/pids.events" | grep -q 'max [1-9]'
	run go obla python3 -c 'x = bytearray(256 * 1024 * 1024); print(len(x))'
	[ "$status" -ne 0 ]
	[[ "$output" != *268435456* ]]
	# the host still forks and allocates
	python3 -c 'x = bytearray(256 * 1024 * 1024)'
	stop obla
}

@test "overlay-stop during a boot abandons it: the boot fails and nothing is left" {
	conf=$(make_subhost oblb PREMOUNT=slow-premount)
	printf '#!/bin/sh\nsleep 3\n' >"${conf%/*}/slow-premount"
	chmod +x "${conf%/*}/slow-premount"
	"$TOP/overlay-boot" "$conf" 2>/dev/null &
	booting=$!
	for i in $(seq 1 100); do
		[ -e /run/overlay-boot/oblb/supervisor.start ] && break
		sleep 0.05
	done
	run "$TOP/overlay-stop" oblb
	[ "$status" -eq 0 ]
	[[ "$output" == *"oblb is starting: abandoning the boot"* ]]
	run wait "$booting"
	[ "$status" -eq 1 ]
	[ ! -e /run/netns/oblb ]
	[ ! -e /run/overlay-boot/oblb ]
}

@test "make demo boots, shows and stops a subhost over /" {
	run sh "$TOP/tests/demo"
	[ "$status" -eq 0 ]
	[[ "$output" == *"hostname: demo"* ]]
	[[ "$output" == *"pid 1: /run/overlay-boot/reaper"* ]]
	[[ "$output" == *"hello from the subhost"* ]]
	[[ "$output" == *"on the host (/etc/demo-was-here): absent"* ]]
	[ ! -e /etc/demo-was-here ]
}

# postmount_view NAME: what the default POSTMOUNT made, seen from inside.
postmount_view() {
	go "$1" sh -c 'for f in null zero full random urandom tty console ptmx; do
			[ -c /dev/$f ] || echo "no node $f"; done
		for l in fd stdin stdout stderr; do [ -L /dev/$l ] || echo "no link $l"; done
		echo x >/dev/null && head -c 4 /dev/zero | wc -c
		awk '\''{split($0, a, " - "); split(a[2], b, " "); print $5, b[2], b[1]}'\'' \
			/proc/self/mountinfo | grep -E "^/(dev|sys|run)" | sort
		ls /sys/class/net
		touch /dev/shm/a /run/lock/b && echo writable'
}

@test "the default POSTMOUNT: /dev nodes and links, private devpts and shm, read-only sysfs of the subhost's netns, /run and /run/lock tmpfs; the same from the script in a custom hook" {
	# USERNS=no: the POSTMOUNT hook (default or custom) is what that mode
	# runs; with USERNS=yes overlay-pivot builds /dev (tests/userns.bats)
	conf=$(make_subhost obl9 LOWER=base RAM_SIZE=8M USERNS=no)
	base=${conf%/*}
	tiny_root "$base/base"
	boot "$conf"
	run postmount_view obl9
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *"no node"* && "$output" != *"no link"* ]]
	[ "${lines[0]}" = 4 ]
	for m in "/dev dev tmpfs" "/dev/pts devpts devpts" "/dev/shm shm tmpfs" "/sys sysfs sysfs" \
		"/run run tmpfs" "/run/lock lock tmpfs" "/run/overlay-boot overlay-boot tmpfs"; do
		[[ "$output" == *"$m"* ]]
	done
	# sysfs is the subhost's: lo only, none of the host's interfaces
	[[ "$output" == *$'\nlo\nwritable' ]]
	run go obl9 sh -c 'grep " /run " /proc/mounts; grep " /dev/shm " /proc/mounts; touch /sys/x'
	[[ "$output" == *"size=8192k"* ]]
	[ "$status" -ne 0 ]
	# lo is up (IFF_UP | IFF_LOOPBACK)
	run go obl9 cat /sys/class/net/lo/flags
	[ "$output" = 0x9 ]
	# its own devpts instance (ptys are allocated there), not the host's
	run go obl9 stat -c %d /dev/pts
	[ "$status" -eq 0 ]
	[ "$output" != "$(stat -c %d /dev/pts)" ]
	run go obl9 stat -c %t,%T /dev/ptmx
	[ "$output" = 5,2 ]
	stop obl9
	# A custom POSTMOUNT that calls the default script gets the same view.
	printf '#!/bin/sh\n"$OVERLAY_BOOT_LIB/overlay-postmount" "$@" || exit 1\ntouch "$LIVE/run/custom"\n' >"$base/post"
	chmod +x "$base/post"
	echo POSTMOUNT=post >>"$conf"
	boot "$conf"
	run postmount_view obl9
	custom=$output
	run go obl9 test -e /run/custom
	[ "$status" -eq 0 ]
	stop obl9
	for m in "/dev/pts devpts devpts" "/dev/shm shm tmpfs" "/run/lock lock tmpfs" "/sys sysfs sysfs"; do
		[[ "$custom" == *"$m"* ]]
	done
	[[ "$custom" != *"no node"* && "$custom" != *"no link"* ]]
}

@test "BASE, LIVE and a SHARE with blanks in their paths boot, mount where they should and stop clean" {
	base="$BATS_TEST_TMPDIR/a dir/obl10"
	mkdir -p "$base/root" "$base/work" "$base/li	ve" "$BATS_TEST_TMPDIR/host share"
	tiny_root "$base/lower"
	echo shared >"$BATS_TEST_TMPDIR/host share/f"
	printf 'BASE=.\nSTART=none\nLOG=log\nLOWER=lower\nLIVE=li\tve\nSHARE=%s:/mnt/in side\n' \
		"$BATS_TEST_TMPDIR/host share" >"$base/obl10.conf"
	boot "$base/obl10.conf"
	run go obl10 cat "/mnt/in side/f"
	[ "$output" = shared ]
	run go obl10 cat /proc/1/cmdline
	[[ "$output" == /run/overlay-boot/reaper* ]]
	stop obl10
	[ ! -e "$base/root/run/overlay-boot" ]
}

@test "a plain stop finds every cgroup empty at once: no warning in the log" {
	conf=$(make_subhost obl15)
	boot "$conf"
	when_finished "$TOP/overlay-stop" obl15
	stop obl15
	assert_file_has "${conf%/*}/log" "obl15 is down"
	run grep -i "warning" "${conf%/*}/log"
	assert_status 1
}
