#!/usr/bin/env bats
# examples/: each ready config, copied as a user would, boots and works.
# The bridge of the bridged and Debian examples (sub0) is made in the
# test's own network namespace; the Debian root is tests/debian-root's.

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

# example DIR: copy examples/DIR as a user would (cp -r, then the
# directories the overlay needs); sets EX to the copy.
example() {
	EX=$BATS_TEST_TMPDIR/${1##*/}
	cp -r "$TOP/examples/$1" "$EX"
	mkdir -p "$EX/root" "$EX/work" "$EX/live"
}

@test "examples/minimal boots over /, can be entered, and stops" {
	example minimal
	SUBHOSTS=minimal
	boot "$EX/minimal.conf"
	run go minimal hostname
	[ "$output" = minimal ]
	run go minimal cat /etc/os-release
	[ "$output" = "$(cat /etc/os-release)" ]
	stop minimal
}

@test "examples/tiny: make-base makes a busybox root that boots with its cable" {
	example tiny
	SUBHOSTS=tiny
	run "$EX/make-base"
	[ "$status" -eq 0 ]
	[ -x "$EX/base/bin/busybox" ]
	boot "$EX/tiny.conf"
	run ip -o link show tiny0
	echo "host end: $output"
	[ "$status" -eq 0 ]
	run go tiny ip -o link show eth0
	echo "inside: $output"
	[ "$status" -eq 0 ]
	run go tiny readlink /bin/sh
	[ "$output" = busybox ]
	stop tiny
}

@test "examples/bridged: a and b on the bridge sub0 reach each other at their addresses" {
	BRIDGE=sub0 PEER=10.99.0.1
	test_net
	SUBHOSTS="a b"
	for n in a b; do
		example "bridged/$n"
		# The test machine has no ifupdown: the Debian root stands in for
		# a Debian host's / (the interfaces file in UPPER is the example's).
		echo "LOWER= $DEBIAN_ROOT" >>"$EX/$n.conf"
		tboot "$EX/$n.conf"
	done
	run go b ip -o addr show eth0
	echo "b: $output"
	[[ "$output" == *"inet 10.99.0.3/24"* ]]
	# a connects to a closed port of b: "refused" means b answered
	run go a timeout 5 bash -c 'exec 3<>/dev/tcp/10.99.0.3/9'
	echo "a -> b: $status $output"
	[[ "$output" == *"Connection refused"* ]]
	run ip netns exec "$TNET" timeout 5 bash -c 'exec 3<>/dev/tcp/10.99.0.2/9'
	echo "test net -> a: $status $output"
	[[ "$output" == *"Connection refused"* ]]
	stop a
	stop b
}

@test "examples/debian: the services run and sshd answers on sub0 with the key in root/root/.ssh" {
	BRIDGE=sub0 PEER=10.99.0.1
	test_net
	SUBHOSTS=debian
	example debian
	ln -s "$DEBIAN_ROOT" "$EX/rootfs"
	ssh-keygen -q -t ed25519 -N '' -f "$BATS_TEST_TMPDIR/key"
	mkdir -p -m 700 "$EX/root/root/.ssh"
	cp "$BATS_TEST_TMPDIR/key.pub" "$EX/root/root/.ssh/authorized_keys"
	tboot "$EX/debian.conf"
	out=
	for _ in $(seq 1 30); do
		out=$(ip netns exec "$TNET" ssh -i "$BATS_TEST_TMPDIR/key" -o BatchMode=yes \
			-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
			-o ConnectTimeout=5 root@10.99.0.10 'hostname; ps -e -o comm=' 2>&1) && break
		sleep 0.3
	done
	echo "$out"
	[ "$(echo "$out" | head -n 1)" = debian ]
	for d in rsyslogd sshd cron; do
		echo "$out" | grep -qx "$d" || { echo "$d is not running"; false; }
	done
	stop debian
}
