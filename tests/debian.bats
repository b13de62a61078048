#!/usr/bin/env bats
# A real Debian subhost: the upstream example shapes over a cached
# bookworm minbase root with sshd, cron, rsyslog (and its init script),
# ifupdown, iproute2 and procps (tests/debian-root makes it with
# debootstrap the first time, in /var/cache/overlay-boot-tests), checked
# from outside: ssh over a bridge, cron, syslog, service restarts inside,
# the stop scripts at overlay-stop, dpkg -i into UPPER.
#
# Shapes: ex1 (`BASE=.` and the Debian root as LOWER, default START),
# tiny (`LOWER= base`, `START= none`, `CABLES= =`), mta-like (`START=
# rsyslog networking ssh cron`, a cable to a bridge the test makes in its
# own network namespace, a static address in the subhost's
# /etc/network/interfaces). Traffic goes only to the subhosts' own
# addresses, in namespaces the test made.

# tests/debian-userns.bats is a link to this file: run by that name,
# every subhost here has USERNS=yes (else USERNS=no), the same bodies.
case "${BATS_TEST_FILENAME##*/}" in
*-userns.bats) DEBIAN_USERNS=yes ;;
*) DEBIAN_USERNS=no ;;
esac

load helpers
load netns

setup_file() {
	DEBIAN_ROOT=$(sh "$BATS_TEST_DIRNAME/debian-root") || return 1
	export DEBIAN_ROOT
}

teardown_test() {
	local name
	for name in ${SUBHOSTS:-}; do
		"$TOP/overlay-stop" "$name" >/dev/null 2>&1
	done
	if [ -e "/run/netns/$TNET" ]; then ip netns delete "$TNET"; fi
	true
}

# debian_subhost NAME KEY=VALUE...: a subhost directory whose config is
# BASE=., the Debian root as LOWER, and the given lines (upstream
# spelling: a blank after =); an ssh key for root and a service wrapper
# in UPPER that logs every `service NAME ACTION` with its exit status to
# /var/log/obt-service.log. Sets CONF to the config path (not in a
# subshell: teardown stops what SUBHOSTS names); the key is
# $BATS_TEST_TMPDIR/key.
debian_subhost() {
	local name=$1 base=$BATS_TEST_TMPDIR/$1 kv
	shift
	SUBHOSTS="${SUBHOSTS:-} $name"
	mkdir -p "$base/root/root/.ssh" "$base/root/usr/local/sbin" "$base/work" "$base/live"
	{
		echo "BASE=."
		echo "LOWER= $DEBIAN_ROOT"
		echo "LOG= log"
		echo "USERNS= $DEBIAN_USERNS"
		for kv in "$@"; do echo "$kv"; done
	} >"$base/$name.conf"
	[ -e "$BATS_TEST_TMPDIR/key" ] || ssh-keygen -q -t ed25519 -N '' -f "$BATS_TEST_TMPDIR/key"
	chmod 700 "$base/root/root" "$base/root/root/.ssh"
	cp "$BATS_TEST_TMPDIR/key.pub" "$base/root/root/.ssh/authorized_keys"
	cat >"$base/root/usr/local/sbin/service" <<'WRAP'
#!/bin/sh
/usr/sbin/service "$@"
rc=$?
echo "$* $rc" >>/var/log/obt-service.log
exit $rc
WRAP
	chmod 755 "$base/root/usr/local/sbin/service"
	mkdir -p "$base/root/var/tmp"
	CONF=$base/$name.conf
}

# mta_subhost NAME: the mta-like shape, cabled to the test's bridge
# (made here); sets CONF.
mta_subhost() {
	test_net || return 1
	debian_subhost "$1" "START= rsyslog networking ssh cron" "CABLES= $BRIDGE" || return 1
	mkdir -p "${CONF%/*}/root/etc/network" "${CONF%/*}/root/etc/cron.d"
	printf '%s\n' "auto lo" "iface lo inet loopback" "auto eth0" "iface eth0 inet static" \
		"	address $ADDR/24" >"${CONF%/*}/root/etc/network/interfaces"
	echo "@reboot root echo ran >/var/tmp/obt-cron-ran" >"${CONF%/*}/root/etc/cron.d/obt"
}

# tssh ADDRESS COMMAND: ssh as root with the test's key, from the test's
# network namespace, no password, no prompt.
tssh() {
	local addr=$1
	shift
	ip netns exec "$TNET" ssh -i "$BATS_TEST_TMPDIR/key" -o BatchMode=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
		-o ConnectTimeout=5 "root@$addr" "$@"
}

# wait_for TEST...: up to 15 s for `test TEST...` to hold.
wait_for() {
	local i
	for i in $(seq 1 75); do
		test "$@" && return 0
		sleep 0.2
	done
	echo "still not true after 15 s: test $*" >&2
	return 1
}

# still_up NAME: its pid 1 is the reaper, and it can be entered.
still_up() {
	local out
	out=$(go "$1" cat /proc/1/cmdline | tr '\0' ' ') || {
		echo "cannot enter $1: $out" >&2
		return 1
	}
	echo "pid 1 of $1: $out"
	[[ "$out" == */reaper* ]]
}

# wait_ssh ADDRESS NAME: until sshd answers as NAME (it starts in the
# background of its init script).
wait_ssh() {
	local i out
	for i in $(seq 1 30); do
		out=$(tssh "$1" hostname 2>&1) && [ "$out" = "$2" ] && return 0
		sleep 0.3
	done
	echo "ssh root@$1 hostname: $out" >&2
	return 1
}

@test "mta-like: sshd answers over the bridge with key authentication" {
	mta_subhost obdm1
	conf=$CONF
	tboot "$conf"
	# the mode this file runs in
	if [ "$DEBIAN_USERNS" = yes ]; then
		[ -f /run/overlay-boot/obdm1/userns.range ]
	else
		[ ! -e /run/overlay-boot/obdm1/userns.range ]
	fi
	wait_ssh "$ADDR" obdm1
	run tssh "$ADDR" 'id -u; cat /etc/debian_version'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0 ]
	[ "${lines[1]}" = "$(cat "$DEBIAN_ROOT/etc/debian_version")" ]
	# the key is what let us in: another key is refused
	ssh-keygen -q -t ed25519 -N '' -f "$BATS_TEST_TMPDIR/other"
	run ip netns exec "$TNET" ssh -i "$BATS_TEST_TMPDIR/other" -o BatchMode=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 \
		"root@$ADDR" true
	echo "with another key: $status $output"
	[ "$status" -eq 255 ]
	[[ "$output" == *"Permission denied"* ]]
	stop obdm1
}

@test "mta-like: cron runs a job" {
	mta_subhost obdm2
	conf=$CONF
	tboot "$conf"
	wait_for -s "${conf%/*}/root/var/tmp/obt-cron-ran"
	[ "$(cat "${conf%/*}/root/var/tmp/obt-cron-ran")" = ran ]
	stop obdm2
}

@test "mta-like: rsyslog writes /var/log/syslog in UPPER" {
	mta_subhost obdm3
	conf=$CONF
	tboot "$conf"
	syslog=${conf%/*}/root/var/log/syslog
	wait_for -s "$syslog"
	go obdm3 logger -t obt "marker-$$"
	for _ in $(seq 1 50); do
		grep -q "obt.*marker-$$" "$syslog" && break
		sleep 0.2
	done
	tail -n 5 "$syslog"
	grep -q "obt.*marker-$$" "$syslog"
	[ ! -e "$DEBIAN_ROOT/var/log/syslog" ] || ! grep -q "marker-$$" "$DEBIAN_ROOT/var/log/syslog"
	stop obdm3
}

@test "mta-like: 'service ssh restart' inside leaves the subhost up, and sshd answers again" {
	mta_subhost obdm4
	conf=$CONF
	tboot "$conf"
	wait_ssh "$ADDR" obdm4
	run go obdm4 service ssh restart
	echo "service ssh restart: $status $output"
	[ "$status" -eq 0 ]
	sleep 1
	still_up obdm4
	wait_ssh "$ADDR" obdm4
	stop obdm4
}

@test "mta-like: 'service ssh stop' inside leaves the subhost up" {
	mta_subhost obdm5
	conf=$CONF
	tboot "$conf"
	wait_ssh "$ADDR" obdm5
	run go obdm5 service ssh stop
	echo "service ssh stop: $status $output"
	[ "$status" -eq 0 ]
	sleep 1
	still_up obdm5
	run go obdm5 sh -c 'ps -e -o comm | grep -c "^sshd$"'
	echo "sshd processes: $output"
	[ "$output" = 0 ]
	run tssh "$ADDR" true
	[ "$status" -eq 255 ]
	stop obdm5
}

@test "mta-like: overlay-stop runs every stop script in reverse, each with exit 0, and leaves nothing" {
	mta_subhost obdm6
	conf=$CONF
	tboot "$conf"
	wait_ssh "$ADDR" obdm6
	stop obdm6
	[[ "$output" != *failed* ]]
	log=${conf%/*}/root/var/log/obt-service.log
	cat "$log"
	[ "$(cat "$log")" = "$(printf '%s\n' 'rsyslog start 0' 'networking start 0' 'ssh start 0' \
		'cron start 0' 'cron stop 0' 'ssh stop 0' 'networking stop 0' 'rsyslog stop 0')" ]
	[ ! -e /run/overlay-boot/obdm6 ]
	# the leak check after this test makes sure nothing else is left
}

@test "mta-like: dpkg -i of a package inside lands in UPPER and survives a stop and a boot" {
	mta_subhost obdm7
	conf=$CONF
	base=${conf%/*}
	pkg=$BATS_TEST_TMPDIR/pkg
	mkdir -p "$pkg/DEBIAN" "$pkg/usr/share/obt-hello"
	printf '%s\n' "Package: obt-hello" "Version: 1.0" "Architecture: all" \
		"Maintainer: tests <tests@example.invalid>" "Description: overlay-boot test package" \
		>"$pkg/DEBIAN/control"
	echo hello >"$pkg/usr/share/obt-hello/hello"
	dpkg-deb -b --root-owner-group "$pkg" "$base/root/var/tmp/obt-hello.deb" >/dev/null
	tboot "$conf"
	run go obdm7 dpkg -i /var/tmp/obt-hello.deb
	echo "dpkg -i: $status $output"
	[ "$status" -eq 0 ]
	[ "$(cat "$base/root/usr/share/obt-hello/hello")" = hello ]
	# owned on disk as dpkg would leave them on the host, in both modes
	[ "$(stat -c %u:%g "$base/root/usr/share/obt-hello/hello" "$base/root/usr/share/obt-hello")" = "0:0
0:0" ]
	grep -q '^Package: obt-hello$' "$base/root/var/lib/dpkg/status"
	[ ! -e "$DEBIAN_ROOT/usr/share/obt-hello" ]
	! grep -q obt-hello "$DEBIAN_ROOT/var/lib/dpkg/status"
	stop obdm7
	tboot "$conf"
	run go obdm7 dpkg-query -W -f '${Status} ${Version}' obt-hello
	echo "after stop and boot: $status $output"
	[ "$output" = "install ok installed 1.0" ]
	run go obdm7 cat /usr/share/obt-hello/hello
	[ "$output" = hello ]
	stop obdm7
}

@test "ex1: BASE=. over the Debian root with the default START (networking ssh) is up, stays up and serves ssh on its own loopback" {
	debian_subhost obde1
	conf=$CONF
	boot "$conf"
	sleep 1
	still_up obde1
	out=
	for _ in $(seq 1 30); do
		out=$(ip netns exec obde1 ssh -i "$BATS_TEST_TMPDIR/key" -o BatchMode=yes \
			-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
			-o ConnectTimeout=5 root@127.0.0.1 hostname 2>&1) && break
		sleep 0.3
	done
	echo "ssh root@127.0.0.1 hostname in obde1's netns: $out"
	[ "$out" = obde1 ]
	log=${conf%/*}/root/var/log/obt-service.log
	[ "$(cat "$log")" = "$(printf '%s\n' 'networking start 0' 'ssh start 0')" ]
	stop obde1
	[ "$(tail -n 2 "$log")" = "$(printf '%s\n' 'ssh stop 0' 'networking stop 0')" ]
}

@test "tiny: LOWER= base, START= none, CABLES= = boots, has eth0, stays up with no service and stops clean" {
	debian_subhost obdt1 "START= none" "CABLES= ="
	conf=$CONF
	base=${conf%/*}
	# LOWER= base: a directory of BASE (here a link to the Debian root)
	sed -i 's|^LOWER=.*|LOWER= base|' "$conf"
	ln -s "$DEBIAN_ROOT" "$base/base"
	boot "$conf"
	sleep 1
	still_up obdt1
	run go obdt1 ip -o link show eth0
	echo "$output"
	[ "$status" -eq 0 ]
	run go obdt1 sh -c 'ps -e -o pid= | wc -l'
	echo "processes inside: $output"
	[ "$output" -le 4 ] # pid 1, sh, ps, wc
	run go obdt1 cat /etc/debian_version
	[ "$output" = "$(cat "$DEBIAN_ROOT/etc/debian_version")" ]
	stop obdt1
}

@test "ex1: 'service ssh restart' of its only daemon leaves the subhost up, with a new sshd" {
	debian_subhost obde2
	boot "$CONF"
	run go obde2 sh -c 'ps -e -o pid=,comm= | awk "\$2 == \"sshd\" {print \$1}"'
	before=$output
	echo "sshd before: $before"
	[ -n "$before" ]
	run go obde2 service ssh restart
	echo "service ssh restart: $status $output"
	[ "$status" -eq 0 ]
	sleep 1
	still_up obde2
	run go obde2 sh -c 'ps -e -o pid=,comm= | awk "\$2 == \"sshd\" {print \$1}"'
	echo "sshd after: $output"
	[ -n "$output" ]
	[ "$output" != "$before" ]
	stop obde2
}

@test "ex1: 'service ssh stop' of its only daemon leaves the subhost up and enterable" {
	debian_subhost obde3
	boot "$CONF"
	run go obde3 service ssh stop
	echo "service ssh stop: $status $output"
	[ "$status" -eq 0 ]
	sleep 1
	still_up obde3
	run go obde3 sh -c 'ps -e -o comm= | grep -c "^sshd$"'
	[ "$output" = 0 ]
	stop obde3
}
