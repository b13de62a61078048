#!/usr/bin/env bats
# Cables: veth pairs, bridges, MACs and VLANs, and nothing left behind.

load helpers

setup_test() {
	BR=obtbr$$
	BR=${BR:0:15}
	ip link add "$BR" type bridge
	ip link set "$BR" up
}

teardown_test() {
	ip link delete "$BR" 2>/dev/null || true
}

@test "two subhosts on one bridge ping each other; a third without a cable cannot reach them" {
	a=$(make_subhost obna "CABLES=$BR")
	b=$(make_subhost obnb "CABLES=$BR")
	c=$(make_subhost obnc)
	boot "$a"
	boot "$b"
	boot "$c"
	[ "$(cat /sys/class/net/obna0/master/uevent | sed -n 's/^INTERFACE=//p')" = "$BR" ]
	go obna ip addr add 10.231.0.1/24 dev eth0
	go obnb ip addr add 10.231.0.2/24 dev eth0
	run go obna busybox ping -c 1 -W 5 10.231.0.2
	[ "$status" -eq 0 ]
	run go obnb busybox ping -c 1 -W 5 10.231.0.1
	[ "$status" -eq 0 ]
	# obnc has only lo: no route to them at all
	run go obnc busybox ping -c 1 -W 1 10.231.0.1
	[ "$status" -ne 0 ]
	run "$TOP/overlay-list"
	[[ "$output" == *"obna0 $BR eth0"* ]]
	[[ "$output" == *"10.231.0.1/24"* ]]
	stop obna
	stop obnb
	stop obnc
	[ ! -e /sys/class/net/obna0 ]
	[ ! -e /sys/class/net/obnb0 ]
}

@test "a cable with a MAC sets eth0's address; a bridgeless cable is just up on the host" {
	conf=$(make_subhost obnd "CABLES==02:0b:0b:00:00:0d =02:0b:0b:00:00:0e")
	boot "$conf"
	run go obnd ip -o link show dev eth0
	[[ "$output" == *"link/ether 02:0b:0b:00:00:0d"* ]]
	run go obnd ip -o link show dev eth1
	[[ "$output" == *"link/ether 02:0b:0b:00:00:0e"* ]]
	run ip -o link show dev obnd1
	[[ "$output" == *"state UP"* || "$output" == *",UP"* ]]
	stop obnd
}

# The kernel may lack 802.1Q (CONFIG_VLAN_8021Q): then a VLAN cable must
# fail cleanly with a message that says so, and leave nothing behind.
kernel_has_vlan() {
	ip link add obnvtest type bridge || return 1
	if ip link add link obnvtest name obnvtest.5 type vlan id 5 2>/dev/null; then
		ip link delete obnvtest
		return 0
	fi
	ip link delete obnvtest
	return 1
}

@test "a VLAN cable is a tagged interface on the previous cable's host end (or a clean error without 802.1Q)" {
	conf=$(make_subhost obne "CABLES=$BR =.42")
	if kernel_has_vlan; then
		boot "$conf"
		run ip -d -o link show dev obne0.42
		[ "$status" -eq 0 ]
		[[ "$output" == *"obne0.42@obne0"* ]]
		[[ "$output" == *"vlan protocol 802.1Q id 42"* ]]
		stop obne
		[ ! -e /sys/class/net/obne0.42 ]
	else
		run "$TOP/overlay-boot" "$conf"
		[ "$status" -eq 1 ]
		[[ "$output" == *"cannot create VLAN 42 on obne0 (does the kernel have 802.1Q support?)"* ]]
		[ ! -e /sys/class/net/obne0 ]
		[ ! -e /run/netns/obne ]
	fi
}

@test "the default PREMOUNT hook writes interfaces stanzas for veth cables, not VLANs, also over a LOWER's" {
	upper=$BATS_TEST_TMPDIR/upper
	lower=$BATS_TEST_TMPDIR/lower
	mkdir -p "$upper" "$lower/etc/network"
	UPPER=$upper LOWER=$lower NAME=obnp CABLES="$BR =.7 =02:00:00:00:00:01" \
		"$TOP/overlay-premount" "$BATS_TEST_TMPDIR/obnp.conf"
	run cat "$upper/etc/network/interfaces"
	[[ "$output" == *"auto lo"*"iface lo inet loopback"*"auto eth0"*"iface eth0 inet manual"*"auto eth1"*"iface eth1 inet manual"* ]]
	[[ "$output" != *eth2* ]]
	# one in LOWER is masked, as upstream does: UPPER gets its own
	rm -r "$upper/etc"
	echo "# lower's" >"$lower/etc/network/interfaces"
	UPPER=$upper LOWER=$lower NAME=obnp CABLES="$BR" \
		"$TOP/overlay-premount" "$BATS_TEST_TMPDIR/obnp.conf"
	run cat "$upper/etc/network/interfaces"
	[[ "$output" == *"iface eth0 inet manual"* ]]
}

@test "a booted subhost with cables gets /etc/network/interfaces in UPPER, and an existing one is left alone" {
	conf=$(make_subhost obnf "CABLES=$BR $BR" LOWER=base)
	base=${conf%/*}
	tiny_root "$base/base"
	boot "$conf"
	run cat "$base/root/etc/network/interfaces"
	[[ "$output" == *"auto lo"*"iface lo inet loopback"*"auto eth0"*"iface eth0 inet manual"*"auto eth1"*"iface eth1 inet manual"* ]]
	run go obnf cat /etc/network/interfaces
	[[ "$output" == *"iface eth1 inet manual"* ]]
	stop obnf
	echo "# mine" >"$base/root/etc/network/interfaces"
	boot "$conf"
	[ "$(cat "$base/root/etc/network/interfaces")" = "# mine" ]
	stop obnf
}

@test "a real daemon (busybox httpd) answers from another subhost across the bridge" {
	a=$(make_subhost obng "CABLES=$BR" LOWER=base "START=/httpd")
	base=${a%/*}
	tiny_root "$base/base"
	mkdir -p "$base/root/www"
	echo "hello from obng" >"$base/root/www/index.html"
	# an absolute START path is run as it is, once (as upstream's eval)
	cat >"$base/root/httpd" <<'SVC'
#!/bin/sh
ip addr add 10.231.1.1/24 dev eth0 && httpd -p 10.231.1.1:80 -h /www
SVC
	chmod +x "$base/root/httpd"
	b=$(make_subhost obnh "CABLES=$BR" LOWER=base)
	tiny_root "${b%/*}/base"
	boot "$a"
	boot "$b"
	go obnh ip addr add 10.231.1.2/24 dev eth0
	# (busybox-static's wget crashes resolving without NSS; nc speaks HTTP/1.0)
	run go obnh sh -c 'printf "GET /index.html HTTP/1.0\r\n\r\n" | nc -w 5 10.231.1.1 80'
	[ "$status" -eq 0 ]
	[[ "$output" == "HTTP/1.1 200 OK"*"hello from obng"* ]]
	stop obnh
	stop obng
}

@test "bad cables fail with one line and nothing made" {
	for spec in "nosuchbr0" "=02:00:00:00:00:zz" "=03:00:00:00:00:01" "$BR =.0" "$BR =.4095" "=.5"; do
		conf=$(make_subhost obni "CABLES=$spec")
		run --separate-stderr "$TOP/overlay-boot" "$conf"
		[ "$status" -eq 1 ]
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ "$stderr" == *"CABLES: "* ]]
	done
	conf=$(make_subhost obnj NAME=twelvecharsx "CABLES=$BR =.4000")
	run --separate-stderr "$TOP/overlay-boot" "$conf"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"host end twelvecharsx0.4000 is longer than 15 characters"* ]]
	# a host end that already exists is named, never reused
	ip link add obnk0 type bridge
	conf=$(make_subhost obnk "CABLES=$BR")
	run --separate-stderr "$TOP/overlay-boot" "$conf"
	ip link delete obnk0
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"host end obnk0 already exists"* ]]
}

@test "a failed boot and a killed supervisor leave no interface, VLAN or netns" {
	conf=$(make_subhost obnl "CABLES=$BR $BR" POSTMOUNT=/bin/false)
	run "$TOP/overlay-boot" "$conf"
	[ "$status" -eq 1 ]
	[ ! -e /sys/class/net/obnl0 ]
	[ ! -e /run/netns/obnl ]
	conf=$(make_subhost obnm "CABLES=$BR =02:00:00:00:0b:0b")
	boot "$conf"
	kill -KILL "$(cat /run/overlay-boot/obnm/supervisor)"
	[ -e /sys/class/net/obnm1 ]
	stop obnm
	[ ! -e /sys/class/net/obnm1 ]
	[ ! -e /sys/class/net/obnm0 ]
	[ ! -e /run/netns/obnm ]
}
