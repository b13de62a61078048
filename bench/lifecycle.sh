#!/bin/sh
# bench/lifecycle.sh: boot-to-ready, enter and stop latency of a subhost
# with START=none over /, median of RUNS (default 20), next to the floor
# (bench/floor: unshare + overlay + pivot_root + exec /bin/true) measured
# in the same run. Prints milliseconds and ratios. Run as root.

cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
RUNS=${RUNS:-20}
[ "$(id -u)" = 0 ] || { echo "lifecycle.sh: run as root" >&2; exit 1; }
make -s all bench/floor >/dev/null || exit 1
tmp=$(mktemp -d /tmp/ob-bench.XXXXXX) || exit 1
trap '"$top/overlay-stop" obbench >/dev/null 2>&1; rm -rf "$tmp"' EXIT
mkdir "$tmp/root" "$tmp/work" "$tmp/live" "$tmp/scratch"
printf 'BASE=.\nSTART=none\nLOG=log\n' >"$tmp/obbench.conf"

now_ms() { date +%s%3N; }

# median FILE: the median of the numbers in FILE, one per line.
median() {
	sort -n "$1" | awk '{v[NR] = $1} END {m = int((NR + 1) / 2); if (NR % 2) print v[m]; else print (v[m] + v[m + 1]) / 2}'
}

: >"$tmp/boot"; : >"$tmp/go"; : >"$tmp/stop"; : >"$tmp/floor"
i=0
while [ "$i" -lt "$RUNS" ]; do
	t0=$(now_ms)
	"$top/overlay-boot" "$tmp/obbench.conf" || exit 1
	t1=$(now_ms)
	"$top/overlay-go" obbench true || exit 1
	t2=$(now_ms)
	"$top/overlay-stop" obbench >/dev/null || exit 1
	t3=$(now_ms)
	"$top/bench/floor" / "$tmp/scratch" /bin/true || exit 1
	t4=$(now_ms)
	echo $((t1 - t0)) >>"$tmp/boot"
	echo $((t2 - t1)) >>"$tmp/go"
	echo $((t3 - t2)) >>"$tmp/stop"
	echo $((t4 - t3)) >>"$tmp/floor"
	i=$((i + 1))
done
floor=$(median "$tmp/floor")
printf '%-22s %10s %14s\n' "step (median of $RUNS)" "ms" "ratio to floor"
for step in boot go stop floor; do
	m=$(median "$tmp/$step")
	printf '%-22s %10s %14s\n' "$step" "$m" "$(awk -v a="$m" -v b="$floor" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }')"
done
printf 'reaper binary: %s bytes\n' "$(stat -c %s "$top/src/reaper")"
