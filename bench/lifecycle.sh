#!/bin/sh
# shellcheck disable=SC1091,SC2154 # top and tmp are set by bench/lib.sh
# bench/lifecycle.sh [RUNS]: a subhost with START=none over the Debian
# minbase root: boot to ready, enter (run /bin/true inside) and stop, by
# overlay-boot / overlay-go / overlay-stop and by LXC on the same root with
# an overlay rootfs (lxc-start -d + lxc-wait RUNNING / lxc-attach /
# lxc-stop), with the floor (bench/floor) measured in the same rounds.
# RUNS (default 20) alternated rounds; prints a markdown table.
#
# For a like-for-like pid 1, the LXC container runs our reaper as its init
# (bound in read-only), and its halt signal is SIGTERM, which ends it.

# shellcheck source=bench/lib.sh
bench_dir=$(dirname "$0")
. "$bench_dir/lib.sh"
RUNS=${1:-${RUNS:-20}}

bench_cleanup() {
	"$top/overlay-stop" obbench >/dev/null 2>&1
	[ -e /run/overlay-boot/obbench ] || rm -f /run/overlay-boot/obbench.lock
	lxc-stop -P "$tmp/lxc" -n oblxc -k >/dev/null 2>&1 || :
	lxc_cgroups_undo
}
lxc_cgroups_note
bench_tmp ob-lifecycle
bench_bin
bench_root
mkdir "$tmp/sub" "$tmp/sub/root" "$tmp/sub/work" "$tmp/sub/live" "$tmp/scratch" \
	"$tmp/lxc" "$tmp/lxc/oblxc" "$tmp/lxc/oblxc/delta0" || exit 1
printf 'BASE=.\nSTART=none\nLOG=log\nLOWER=%s\n' "$ROOTFS" >"$tmp/sub/obbench.conf"
cat >"$tmp/lxc/oblxc/config" <<CONF
lxc.uts.name = oblxc
lxc.rootfs.path = overlay:$ROOTFS:$tmp/lxc/oblxc/delta0
lxc.net.0.type = empty
lxc.mount.auto = proc:mixed sys:mixed
lxc.autodev = 1
lxc.apparmor.profile = unconfined
lxc.mount.entry = $top/src/reaper usr/local/sbin/obreaper none bind,ro,create=file 0 0
lxc.init.cmd = /usr/local/sbin/obreaper -k -t 10
lxc.signal.halt = SIGTERM
lxc.log.file = $tmp/lxc/oblxc.log
CONF

T=$BIN/tm
lxc_ok=1
if ! lxc-start -P "$tmp/lxc" -n oblxc -d >"$tmp/lxc.why" 2>&1 ||
	! lxc-wait -P "$tmp/lxc" -n oblxc -s RUNNING -t 10 >>"$tmp/lxc.why" 2>&1 ||
	! lxc-stop -P "$tmp/lxc" -n oblxc >>"$tmp/lxc.why" 2>&1; then
	lxc_ok=
	grep -m 3 ERROR "$tmp/lxc/oblxc.log" | sed 's/.*ERROR *//' >>"$tmp/lxc.why"
	lxc-stop -P "$tmp/lxc" -n oblxc -k >/dev/null 2>&1
fi

: >"$tmp/boot"; : >"$tmp/go"; : >"$tmp/stop"; : >"$tmp/floor"
: >"$tmp/lboot"; : >"$tmp/lgo"; : >"$tmp/lstop"
i=0
while [ "$i" -lt "$RUNS" ]; do
	"$T" "$tmp/boot" "$top/overlay-boot" "$tmp/sub/obbench.conf" || exit 1
	"$T" "$tmp/go" "$top/overlay-go" obbench /bin/true || exit 1
	"$T" "$tmp/stop" "$top/overlay-stop" obbench >/dev/null || exit 1
	"$T" "$tmp/floor" "$BIN/floor" "$ROOTFS" "$tmp/scratch" /bin/true || exit 1
	if [ -n "$lxc_ok" ]; then
		# lxc-start -d returns before the container runs; ready is RUNNING.
		"$T" "$tmp/lboot" sh -c 'lxc-start -P "$0" -n oblxc -d && lxc-wait -P "$0" -n oblxc -s RUNNING -t 10' \
			"$tmp/lxc" || exit 1
		"$T" "$tmp/lgo" lxc-attach -P "$tmp/lxc" -n oblxc -- /bin/true || exit 1
		"$T" "$tmp/lstop" lxc-stop -P "$tmp/lxc" -n oblxc || exit 1
	fi
	i=$((i + 1))
done

floor=$(median "$tmp/floor")
echo "### Subhost boot to ready, enter, stop (START=none, $RUNS alternated rounds)"
echo
echo "| step | overlay-boot ms | ratio to floor | LXC ms | LXC / ours |"
echo "|---|---:|---:|---:|---:|"
for step in boot go stop; do
	m=$(median "$tmp/$step")
	if [ -n "$lxc_ok" ]; then l=$(median "$tmp/l$step"); else l=-; fi
	case "$step" in
	boot) what="boot to ready (lxc-start -d + lxc-wait RUNNING)" ;;
	go) what="enter, run /bin/true (lxc-attach)" ;;
	stop) what="stop (lxc-stop)" ;;
	esac
	echo "| $what | $m | $(ratio "$m" "$floor") | $l | $(ratio "$l" "$m") |"
done
echo "| floor: one-shot /bin/true | $floor | 1.00× | | |"
echo
if [ -z "$lxc_ok" ]; then
	echo "LXC cannot run here: $(tr '\n' ' ' <"$tmp/lxc.why")"
	echo
fi
