#!/bin/sh
# shellcheck disable=SC1091,SC2154 # top and tmp are set by bench/lib.sh
# bench/oneshot.sh [RUNS]: one-shot run of /bin/true in an overlay of the
# Debian minbase root, in fresh namespaces, by overlay-pivot, bwrap,
# systemd-nspawn, lxc-execute and two floors: bench/floor (unshare, overlay
# mount, pivot_root, exec) and bench/floor -a (the same work as the all-ns
# overlay-pivot line: pid, ipc, uts and net namespaces, lo up, one fork,
# /proc, overlay-pivot's /dev). The runners take turns, RUNS rounds
# (default 50); prints a markdown table of medians and ratios, with how
# each program is linked. A peer that cannot run here is reported with the
# reason, never timed.

# shellcheck source=bench/lib.sh
bench_dir=$(dirname "$0")
. "$bench_dir/lib.sh"
RUNS=${1:-${RUNS:-50}}

bench_cleanup() {
	lxc-stop -P "$tmp/lxc" -n obx -k >/dev/null 2>&1 || :
	lxc_cgroups_undo
}
lxc_cgroups_note
bench_tmp ob-oneshot
bench_bin
bench_root
mkdir -p "$tmp/scratch" "$tmp/up" "$tmp/lxc/obx/delta0" || exit 1
cat >"$tmp/lxc/obx/config" <<CONF
lxc.uts.name = obx
lxc.rootfs.path = overlay:$ROOTFS:$tmp/lxc/obx/delta0
lxc.net.0.type = empty
lxc.mount.auto = proc:mixed sys:mixed
lxc.autodev = 1
lxc.apparmor.profile = unconfined
lxc.log.file = $tmp/lxc/obx.log
CONF

# run RUNNER FILE: one run, its time appended to FILE by tm (the shell
# is not in the timing).
run() {
	r=$1 file=$2
	case "$r" in
	floor) set -- "$BIN/floor" "$ROOTFS" "$tmp/scratch" /bin/true ;;
	floor_ns) set -- "$BIN/floor" -a "$ROOTFS" "$tmp/scratch" /bin/true ;;
	pivot) set -- "$top/src/overlay-pivot" --tmp-overlay "$ROOTFS" / -- /bin/true ;;
	pivot_ns)
		set -- "$top/src/overlay-pivot" --unshare-pid --unshare-ipc \
			--unshare-uts -N --tmp-overlay "$ROOTFS" / --proc /proc \
			--dev /dev -- /bin/true
		;;
	bwrap)
		set -- bwrap --ro-bind "$ROOTFS" / --tmpfs /tmp --proc /proc --dev /dev \
			--unshare-pid --unshare-ipc --unshare-uts --unshare-net -- /bin/true
		;;
	nspawn)
		set -- systemd-nspawn -q --volatile=overlay --register=no \
			--keep-unit -D "$ROOTFS" /bin/true
		;;
	lxc) set -- lxc-execute -P "$tmp/lxc" -n obx -- /bin/true ;;
	esac
	"$BIN/tm" "$file" "$@"
}
SYSTEMD_LOG_LEVEL=err
export SYSTEMD_LOG_LEVEL

RUNNERS="floor floor_ns pivot pivot_ns bwrap nspawn lxc"
label() {
	case "$1" in
	floor) echo "floor (mount ns, overlay, pivot_root, exec)" ;;
	floor_ns) echo "floor -a (+ pid, ipc, uts, net ns, lo, /proc, /dev, one fork)" ;;
	pivot) echo "overlay-pivot --tmp-overlay (mount ns)" ;;
	pivot_ns) echo "overlay-pivot + pid, ipc, uts, net ns, /proc, /dev" ;;
	bwrap) echo "bwrap 0.8 + pid, ipc, uts, net ns (ro-bind: no overlay in 0.8)" ;;
	nspawn) echo "systemd-nspawn --volatile=overlay --register=no" ;;
	lxc) echo "lxc-execute, overlay rootfs" ;;
	esac
}
# linked RUNNER: "static" or "dynamic": whether the program names a
# loader (an ELF interpreter); a static PIE has none.
linked() {
	case "$1" in
	floor | floor_ns) p=$BIN/floor ;;
	pivot | pivot_ns) p=$top/src/overlay-pivot ;;
	bwrap) p=$(command -v bwrap) ;;
	nspawn) p=$(command -v systemd-nspawn) ;;
	lxc) p=$(command -v lxc-execute) ;;
	esac
	if [ -z "$p" ]; then
		echo "-"
	elif readelf -l "$p" 2>/dev/null | grep -q 'Requesting program interpreter'; then
		echo dynamic
	else
		echo static
	fi
}

# Which runners work here: one try each, the reason kept when not.
ok=
for r in $RUNNERS; do
	if out=$(run "$r" /dev/null 2>&1); then
		ok="$ok $r"
		: >"$tmp/t.$r"
	else
		printf '%s\n' "$out" | grep -v '^$' | tail -n 3 | tr '\n' ' ' >"$tmp/why.$r"
		if [ "$r" = lxc ] && [ -f "$tmp/lxc/obx.log" ]; then
			grep -m 3 ERROR "$tmp/lxc/obx.log" | sed 's/.*ERROR *//' | tr '\n' ' ' >>"$tmp/why.$r"
		fi
	fi
done

i=0
while [ "$i" -lt "$RUNS" ]; do
	for r in $ok; do
		run "$r" "$tmp/t.$r" >/dev/null 2>&1 ||
			{ echo "oneshot.sh: $r failed in round $i" >&2; exit 1; }
	done
	i=$((i + 1))
done

floor=$(median "$tmp/t.floor")
floor_ns=$(median "$tmp/t.floor_ns")
pivot=$(median "$tmp/t.pivot_ns")
echo "### One-shot run of /bin/true over the minbase root ($RUNS alternated rounds)"
echo
echo "| runner | linked | median ms | ratio to floor | ratio to floor -a | overlay-pivot (all ns) / this |"
echo "|---|---|---:|---:|---:|---:|"
for r in $RUNNERS; do
	if [ -f "$tmp/why.$r" ]; then
		echo "| $(label "$r") | $(linked "$r") | cannot run here: $(cat "$tmp/why.$r") | | | |"
		continue
	fi
	m=$(median "$tmp/t.$r")
	echo "| $(label "$r") | $(linked "$r") | $m | $(ratio "$m" "$floor") | $(ratio "$m" "$floor_ns") | $(ratio "$pivot" "$m") |"
done
echo
