# shellcheck shell=bash
# The test's own network: a network namespace with a bridge in it, and
# overlay-boot run there so that a subhost's cables reach that bridge.
# Load after helpers; teardown_test must delete $TNET.

TNET=obt-net-$$
BRIDGE=obtbr0
PEER=10.213.0.1
ADDR=10.213.0.2

# test_net: make the test's network namespace and its bridge at $PEER/24.
test_net() {
	ip netns add "$TNET" &&
		ip -n "$TNET" link set lo up &&
		ip -n "$TNET" link add "$BRIDGE" type bridge &&
		ip -n "$TNET" addr add "$PEER/24" dev "$BRIDGE" &&
		ip -n "$TNET" link set "$BRIDGE" up
}

# tboot CONF: overlay-boot in the test's network namespace, where the
# bridge is, which must succeed. It runs in a mount namespace of its own
# with a sysfs of that network namespace on /sys (as `ip netns exec`
# does), the cgroup mounts moved over onto it, and /run/netns still shared
# with the host's.
tboot() {
	mkdir -p "$BATS_TEST_TMPDIR/cg"
	run nsenter --net="/run/netns/$TNET" unshare -m --propagation unchanged sh -c '
		mount --rbind /sys/fs/cgroup "$1" && mount -t sysfs sysfs /sys &&
		mount --move "$1" /sys/fs/cgroup || exit 1
		shift
		exec "$@"' sh "$BATS_TEST_TMPDIR/cg" "$TOP/overlay-boot" "$1"
	echo "overlay-boot: $status: $output"
	[ "$status" -eq 0 ]
}
