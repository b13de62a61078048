#!/usr/bin/env bats
# USERNS: subhosts whose root is an unprivileged id of the host, over
# idmapped layers. Real subhosts, checked from outside.

load helpers
bats_require_minimum_version 1.5.0

# range_of NAME: the recorded host range BASE:COUNT of a running subhost.
range_of() {
	cat "/run/overlay-boot/$1/userns.range"
}

# view DIR: what a tree shows: paths, types and contents, sorted.
view() {
	(cd "$1" && find . -mindepth 1 | sort | while read -r f; do
		if [ -f "$f" ]; then echo "$f $(cat "$f")"; else echo "$f $(stat -c %F "$f")"; fi
	done)
}

teardown_test() {
	if [ -n "${SUBUID_LINE:-}" ]; then
		grep -vxF "$SUBUID_LINE" /etc/subuid >/etc/subuid.obt-tmp || true
		cat /etc/subuid.obt-tmp >/etc/subuid
		rm -f /etc/subuid.obt-tmp
		[ -s /etc/subuid ] || [ -z "${SUBUID_WAS_ABSENT:-}" ] || rm -f /etc/subuid
	fi
}

@test "USERNS=yes: root inside writes files owned by 0 on disk; chown 5:5 gives 5:5" {
	conf=$(make_subhost obu1 USERNS=yes)
	boot "$conf"
	run go obu1 sh -c 'id -u; echo hi >/root/obu1; mkdir /srv/obu1; chown 5:5 /srv/obu1'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = 0 ]
	local upper=$BATS_TEST_TMPDIR/obu1/root
	[ "$(stat -c %u:%g "$upper/root/obu1")" = 0:0 ]
	[ "$(stat -c %u:%g "$upper/srv/obu1")" = 5:5 ]
	# and the host's own files keep their owners inside
	run go obu1 stat -c %u:%g /etc/shadow
	[ "$output" = "$(stat -c %u:%g /etc/shadow)" ]
	stop obu1
}

@test "USERNS=yes: pid 1 runs as the picked base on the host; overlay-list shows the range" {
	conf=$(make_subhost obu2 USERNS=yes)
	boot "$conf"
	range=$(range_of obu2)
	base=${range%:*}
	echo "range $range"
	[ "${range#*:}" = 65536 ]
	pid1=$(cat /run/overlay-boot/obu2/pid1)
	uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid1/status")
	echo "pid 1 uids: $uids"
	[ "$uids" = "$base $base $base $base" ]
	run "$TOP/overlay-list"
	echo "$output"
	[[ "$output" == *"obu2 "*" running "*" $range "* ]]
	run "$TOP/overlay-list" -j
	echo "$output" | python3 -c '
import json, sys
row = [r for r in json.load(sys.stdin) if r["name"] == "obu2"][0]
assert row["ids"] == sys.argv[1], row' "$range"
	run go obu2 cat /proc/self/uid_map
	[ "$(echo "$output" | awk '{print $1, $2, $3}')" = "0 $base 65536" ]
	stop obu2
}

@test "USERNS=yes: root inside cannot write core_pattern, through /proc/sys or a fresh proc" {
	conf=$(make_subhost obu3 USERNS=yes)
	boot "$conf"
	before=$(cat /proc/sys/kernel/core_pattern)
	run go obu3 sh -c 'echo "|/tmp/obu3" >/proc/sys/kernel/core_pattern && echo WROTE
		mkdir -p /tmp/p && mount -t proc proc /tmp/p && echo "|/tmp/obu3" >/tmp/p/sys/kernel/core_pattern && echo WROTE2; true'
	echo "$output"
	[[ "$output" != *WROTE* ]]
	[ "$(cat /proc/sys/kernel/core_pattern)" = "$before" ]
	stop obu3
}

@test "USERNS=yes: the same name gets the same range; two subhosts never overlap" {
	conf1=$(make_subhost obu4 USERNS=yes)
	conf2=$(make_subhost obu5 USERNS=yes)
	boot "$conf1"
	first=$(range_of obu4)
	stop obu4
	boot "$conf1"
	[ "$(range_of obu4)" = "$first" ]
	boot "$conf2"
	second=$(range_of obu5)
	echo "obu4 $first, obu5 $second"
	b1=${first%:*} b2=${second%:*}
	[ $((b1 + 65536)) -le "$b2" ] || [ $((b2 + 65536)) -le "$b1" ]
	stop obu4
	stop obu5
}

@test "USERNS=yes: a taken range (another subhost's, or /etc/subuid's) is never picked" {
	conf=$(make_subhost obu6 USERNS=yes)
	boot "$conf"
	first=$(range_of obu6)
	stop obu6
	# a user's subordinate ids over exactly that range
	[ -e /etc/subuid ] || SUBUID_WAS_ABSENT=1
	SUBUID_LINE="obt-test-user:${first%:*}:65536"
	echo "$SUBUID_LINE" >>/etc/subuid
	boot "$conf"
	second=$(range_of obu6)
	echo "before $first, with /etc/subuid $second"
	[ "$second" != "$first" ]
	b1=${first%:*} b2=${second%:*}
	[ $((b1 + 65536)) -le "$b2" ] || [ $((b2 + 65536)) -le "$b1" ]
	stop obu6
	# an explicit range over a running subhost's is refused
	conf2=$(make_subhost obu7 "USERNS=$((b2 + 100)):1000")
	boot "$conf"
	run "$TOP/overlay-boot" "$conf2"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"host ids $((b2 + 100)):1000 overlap $second"* ]]
	stop obu6
}

@test "USERNS: bad values and a custom POSTMOUNT are refused before anything is made" {
	for v in maybe 12x 0 4294967295 "100:0" "4294967000:1000"; do
		conf=$(make_subhost obu8 "USERNS=$v")
		run "$TOP/overlay-boot" "$conf"
		echo "$v: $output"
		[ "$status" -eq 1 ]
		[[ "$output" == *"obu8.conf:4: USERNS: "* ]]
	done
	hook=$BATS_TEST_TMPDIR/post
	printf '#!/bin/sh\ntrue\n' >"$hook"
	chmod +x "$hook"
	conf=$(make_subhost obu8 USERNS=yes "POSTMOUNT=$hook")
	run "$TOP/overlay-boot" "$conf"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"POSTMOUNT: "*"(set USERNS=no)" ]]
	[ ! -e /run/netns/obu8 ]
}

@test "the default is USERNS=yes; a config with its own POSTMOUNT and no USERNS keeps no, and says so" {
	conf=$(make_subhost obu10)
	boot "$conf"
	run go obu10 cat /proc/self/uid_map
	echo "$output"
	set -- $output
	[ "$1" = 0 ] && [ "$2" -ge 524288 ] && [ "$3" = 65536 ]
	stop obu10
	# an upstream config: a POSTMOUNT of its own, nothing said of USERNS
	printf '#!/bin/sh\n"$OVERLAY_BOOT_LIB/overlay-postmount" "$@"\n' >"$BATS_TEST_TMPDIR/post"
	chmod +x "$BATS_TEST_TMPDIR/post"
	echo "POSTMOUNT=$BATS_TEST_TMPDIR/post" >>"$conf"
	run "$TOP/overlay-boot" "$conf"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"obu10: a POSTMOUNT hook works on LIVE as the host sees it: USERNS=no"* ]]
	run go obu10 cat /proc/self/uid_map
	[ "$(echo $output)" = "0 0 4294967295" ]
	stop obu10
}

@test "USERNS=BASE:COUNT: that range, recorded" {
	conf=$(make_subhost obu9 USERNS=3800000000:70000)
	boot "$conf"
	[ "$(range_of obu9)" = 3800000000:70000 ]
	run go obu9 cat /proc/self/uid_map
	[ "$(echo "$output" | awk '{print $1, $2, $3}')" = "0 3800000000 70000" ]
	stop obu9
}

@test "USERNS=yes: root inside configures its own eth0; the host reaches it" {
	conf=$(make_subhost obuc USERNS=yes CABLES==02:00:00:00:0b:01)
	boot "$conf"
	ip addr add 10.251.7.1/24 dev obuc0
	run go obuc sh -c 'ip addr add 10.251.7.2/24 dev eth0 && ip link set eth0 up && ip -o addr show dev eth0'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"10.251.7.2/24"* ]]
	run busybox ping -c 1 -W 2 10.251.7.2
	echo "$output"
	[ "$status" -eq 0 ]
	run ip netns exec obuc ip -o addr show dev eth0
	[[ "$output" == *"10.251.7.2/24"* ]]
	stop obuc
}

@test "USERNS=yes: a LOWER that cannot be idmapped fails the boot with one line naming it" {
	local base=$BATS_TEST_TMPDIR/obud
	conf=$(make_subhost obud USERNS=yes LOWER=ov)
	mkdir -p "$base/ov" "$base/l" "$base/u" "$base/w"
	# an overlay mount cannot be idmapped
	mount -t overlay overlay -o "lowerdir=/,upperdir=$base/u,workdir=$base/w" "$base/ov"
	run "$TOP/overlay-boot" "$conf"
	umount "$base/ov"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(grep -c "cannot be idmapped" <<<"$output")" -eq 1 ]
	[[ "$output" == *"$base/ov: "*"USERNS=no runs it"* ]]
}

# An upstream 1.6 UPPER: made by a root-mounted overlay of a tiny root,
# with a whiteout (a deleted file) and an opaque directory (one deleted
# and made again).
upstream_upper() {
	local base=$1
	tiny_root "$base/lower"
	mkdir -p "$base/lower/opt/d"
	echo keep >"$base/lower/opt/keep"
	echo gone >"$base/lower/opt/gone"
	echo old >"$base/lower/opt/d/old"
	mkdir -p "$base/m"
	unshare -m --propagation private sh -c '
		mount -t overlay overlay -o "lowerdir=$1/lower,upperdir=$1/root,workdir=$1/work" "$1/m" &&
		rm "$1/m/opt/gone" && rm -r "$1/m/opt/d" && mkdir "$1/m/opt/d" &&
		echo new >"$1/m/opt/d/new"' sh "$base"
}

@test "USERNS=yes: an upstream UPPER (trusted.* markers) boots with the view unchanged" {
	local base=$BATS_TEST_TMPDIR/obue
	conf=$(make_subhost obue USERNS=yes LOWER=lower)
	upstream_upper "$base"
	[ -c "$base/root/opt/gone" ]
	boot "$conf"
	run go obue sh -c 'cd /opt && find . | sort'
	echo "$output"
	[ "$output" = ".
./d
./d/new
./keep" ]
	stop obue
}

@test "USERNS: switching a subhost between yes and no keeps its view, both ways" {
	local base=$BATS_TEST_TMPDIR/obuf
	conf=$(make_subhost obuf USERNS=no LOWER=lower)
	upstream_upper "$base"
	boot "$conf"
	go obuf sh -c 'rm /opt/keep; rm -r /bin/../opt/d; mkdir /opt/d; echo 2 >/opt/d/two'
	no_view=$(go obuf sh -c 'cd /opt && find . | sort; cat /opt/d/two')
	stop obuf
	sed -i 's/^USERNS=no$/USERNS=yes/' "$conf"
	boot "$conf"
	yes_view=$(go obuf sh -c 'cd /opt && find . | sort; cat /opt/d/two')
	echo "no: $no_view"
	echo "yes: $yes_view"
	[ "$yes_view" = "$no_view" ]
	go obuf sh -c 'mkdir /opt/e && touch /opt/e/f && rm -r /opt/e && mkdir /opt/e && rm /opt/d/two'
	yes_view=$(go obuf sh -c 'cd /opt && find . | sort')
	stop obuf
	sed -i 's/^USERNS=yes$/USERNS=no/' "$conf"
	boot "$conf"
	no_view=$(go obuf sh -c 'cd /opt && find . | sort')
	echo "yes: $yes_view"
	echo "no: $no_view"
	[ "$no_view" = "$yes_view" ]
	stop obuf
}

@test "USERNS=yes: hardened as USERNS=no (seccomp on pid 1), a boot log without errors" {
	conf=$(make_subhost obug USERNS=yes)
	boot "$conf"
	run grep -c "cannot\|not found" "$BATS_TEST_TMPDIR/obug/log"
	echo "log: $(cat "$BATS_TEST_TMPDIR/obug/log")"
	[ "$output" = 0 ]
	run go obug sh -c 'grep -E "^(CapBnd|Seccomp):" /proc/1/status'
	echo "$output"
	[[ "$output" == *"Seccomp:"*2* ]]
	stop obug
}

@test "USERNS=yes: overlay-share: a writable share is idmapped, a read-only one cannot be made writable" {
	conf=$(make_subhost obuh USERNS=yes)
	boot "$conf"
	local sh=$BATS_TEST_TMPDIR/share
	mkdir -p "$sh"
	echo host >"$sh/f"
	run "$TOP/overlay-share" "$sh" obuh /mnt/rw
	echo "$output"
	[ "$status" -eq 0 ]
	run "$TOP/overlay-share" -r "$sh" obuh /mnt/ro
	[ "$status" -eq 0 ]
	run go obuh sh -c 'stat -c %u /mnt/rw/f; echo in >>/mnt/rw/f && echo WROTE
		echo bad >>/mnt/ro/f && echo BAD
		mount -o remount,bind,rw /mnt/ro && echo REMOUNTED; true'
	echo "$output"
	[ "${lines[0]}" = 0 ]
	[[ "$output" == *WROTE* ]]
	[[ "$output" != *BAD* ]]
	[[ "$output" != *REMOUNTED* ]]
	[ "$(cat "$sh/f")" = "host
in" ]
	[ "$(stat -c %u:%g "$sh/f")" = 0:0 ]
	stop obuh
}

# limits NAME: the subhost's limit files as the host sees them, with
# their values (v2 or v1, wherever each controller is).
limits() {
	local f
	for f in $(find /sys/fs/cgroup -maxdepth 4 -path "*/overlay-boot/$1/*" \
		\( -name pids.max -o -name memory.max -o -name memory.limit_in_bytes \
		-o -name cpu.max -o -name cpu.cfs_quota_us \) | sort); do
		echo "$f $(cat "$f")"
	done
}

@test "USERNS=yes: the cgroup is delegated: root inside makes a group and moves a process into it" {
	conf=$(make_subhost obna USERNS=yes)
	boot "$conf"
	run go obna sh -c 'stat -f -c %T /sys/fs/cgroup; grep "^0::" /proc/self/cgroup
		sleep 30 >/dev/null 2>&1 & mkdir /sys/fs/cgroup/obna-child && echo $! >/sys/fs/cgroup/obna-child/cgroup.procs &&
		echo "moved $!"'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = cgroup2fs ]
	[ "${lines[1]}" = "0::/" ]
	# from outside: the group is in the subhost's payload, owned by its
	# root, and holds the process (one)
	group=$(find /sys/fs/cgroup -maxdepth 5 -type d -path '*/overlay-boot/obna/payload/obna-child')
	echo "group: $group"
	[ -n "$group" ]
	range=$(range_of obna)
	[ "$(stat -c %u "$group")" = "${range%:*}" ]
	[ "$(stat -c %u "${group%/*}")" = "${range%:*}" ]
	[ "$(stat -c %u "${group%/*/*}")" = 0 ]
	[ "$(wc -l <"$group/cgroup.procs")" = 1 ]
	pid=$(cat "$group/cgroup.procs")
	[ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "sleep 30 " ]
	# stop removes it with the rest (the leak check sees the tree)
	stop obna
	[ ! -e "$group" ]
}

@test "USERNS=yes: root inside cannot raise its own limits (PIDS_MAX, MEMORY_MAX, CPU_MAX)" {
	conf=$(make_subhost obnb USERNS=yes PIDS_MAX=50 MEMORY_MAX=256M CPU_MAX=50%)
	boot "$conf"
	before=$(limits obnb)
	echo "$before"
	[ "$(echo "$before" | wc -l)" -ge 3 ]
	run go obnb sh -c '
		# the delegated group: no limit file is its own to write
		for f in /sys/fs/cgroup/pids.max /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max \
			/sys/fs/cgroup/../pids.max /sys/fs/cgroup/../memory.max; do
			[ -e "$f" ] && echo max 2>/dev/null >"$f" && echo "RAISED $f"
		done
		# a group of its own, moved into: bounded by the group above
		mkdir -p /sys/fs/cgroup/obnb-g
		echo "+pids +memory +cpu" 2>/dev/null >/sys/fs/cgroup/cgroup.subtree_control
		# a fresh cgroup2 mount and the v1 hierarchies its cgroup namespace shows
		mkdir -p /tmp/c2 && mount -t cgroup2 none /tmp/c2 && {
			for f in /tmp/c2/pids.max /tmp/c2/memory.max /tmp/c2/cpu.max; do
				[ -e "$f" ] && echo max 2>/dev/null >"$f" && echo "RAISED $f"
			done
			umount /tmp/c2
		}
		for c in pids memory cpu; do
			mkdir -p "/tmp/$c"
			mount -t cgroup -o "$c" none "/tmp/$c" 2>/dev/null || continue
			echo "mounted v1 $c"
			for f in pids.max:max memory.limit_in_bytes:-1 cpu.cfs_quota_us:-1; do
				[ -e "/tmp/$c/${f%:*}" ] && echo "${f#*:}" 2>/dev/null >"/tmp/$c/${f%:*}" &&
					echo "RAISED v1 $c ${f%:*}"
			done
			umount "/tmp/$c"
		done
		true'
	echo "$output"
	[[ "$output" != *RAISED* ]]
	after=$(limits obnb)
	[ "$after" = "$before" ]
	# and the pids limit holds: of 60 sleeps, the ones over it never start
	go obnb sh -c 'for i in $(seq 60); do sleep 2 & done 2>/dev/null; true' || true
	# (v1 counts the refusal in the forking group, the payload)
	events=$(find /sys/fs/cgroup -maxdepth 5 -path '*/overlay-boot/obnb/*pids.events')
	cat $events
	[ "$(cat $events | awk '$1 == "max" {n += $2} END {print n + 0}')" -gt 0 ]
	stop obnb
}

@test "USERNS=yes from a chroot: the kernel's refusal is explained, nothing is left" {
	conf=$(make_subhost obu11)
	run unshare -m --propagation private sh -c '
		mount --rbind / /mnt && exec chroot /mnt "$1" "$2"' sh "$TOP/overlay-boot" "$conf"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot create the user and network namespaces of obu11 (the kernel refuses a user namespace in a chroot"*"USERNS=no boots without one)"* ]]
	[ ! -e /run/netns/obu11 ]
	[ ! -e /run/overlay-boot/obu11 ]
}
