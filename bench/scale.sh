#!/bin/sh
# shellcheck disable=SC1091,SC2154 # top and tmp are set by bench/lib.sh
# bench/scale.sh [N]: boot N subhosts (default 100) one after the other
# over the minbase root, each with one cable on one test bridge, then stop
# them all, newest first. Prints the time of each boot and stop by how many
# subhosts were running, overlay-go at 1, 10, 30, 50 and 100, overlay-list (10 runs, table
# and -j) there with a 1 MB file in every UPPER,
# and the host memory a running idle subhost costs: the RSS and PSS of its
# processes (supervisor, overlay-pivot, reaper), their private memory
# beyond the page cache (anonymous pages, page tables and kernel stacks:
# what the subhost costs on top of files every process shares), and
# MemAvailable's drop per subhost (kernel objects included; noisy on a
# shared machine).

# shellcheck source=bench/lib.sh
bench_dir=$(dirname "$0")
. "$bench_dir/lib.sh"
N=${1:-${N:-100}}
BRIDGE=obbenchbr0

bench_cleanup() {
	j=${booted:-0}
	while [ "$j" -ge 1 ]; do
		"$top/overlay-stop" "bsc$j" >/dev/null 2>&1
		j=$((j - 1))
	done
	# The lock files overlay-boot leaves in its state root.
	j=1
	while [ "$j" -le "$N" ]; do
		[ -e "/run/overlay-boot/bsc$j" ] || rm -f "/run/overlay-boot/bsc$j.lock"
		j=$((j + 1))
	done
	ip link del "$BRIDGE" 2>/dev/null
}
bench_tmp ob-scale
bench_bin
bench_root
if ip link show "$BRIDGE" >/dev/null 2>&1; then
	echo "scale.sh: $BRIDGE exists already" >&2
	exit 1
fi
booted=0
ip link add "$BRIDGE" type bridge || exit 1
ip link set "$BRIDGE" up || exit 1

avail_kib() { awk '/^MemAvailable/ {print $2}' /proc/meminfo; }

# mem_of I: "RSS PSS PRIVATE" in KiB of subhost bscI's processes: its
# supervisor and every descendant. PRIVATE is RssAnon + VmPTE + the 16 KiB
# kernel stack of each process.
mem_of() {
	sup=$(cat "/run/overlay-boot/bsc$1/supervisor") || return 1
	ps -e -o pid=,ppid= | awk -v root="$sup" '
		{ parent[$1] = $2; pids[NR] = $1 }
		END {
			for (n = 1; n <= NR; n++) {
				p = pids[n]
				while (p != "" && p != root && p > 1) p = parent[p]
				if (p == root) print pids[n]
			} }' |
		while read -r pid; do
			awk '/^Rss:/ {r = $2} /^Pss:/ {p = $2} END {printf "%d %d ", r, p}' "/proc/$pid/smaps_rollup" 2>/dev/null &&
				awk '/^(RssAnon|VmPTE):/ {v += $2} END {print v + 16}' "/proc/$pid/status" 2>/dev/null
		done | awk '{r += $1; p += $2; v += $3} END {print r + 0, p + 0, v + 0}'
}

# at K: the measures taken when K subhosts run.
at() {
	local r
	case " 1 10 30 50 100 $N " in
	*" $1 "*) ;;
	*) return 0 ;;
	esac
	"$BIN/tm" "$tmp/go.$1" "$top/overlay-go" bsc1 /bin/true || exit 1
	# The listing is what the library issue's goal is about: 10 of each.
	r=0
	while [ "$r" -lt 10 ]; do
		"$BIN/tm" "$tmp/list.$1" "$top/overlay-list" >/dev/null || exit 1
		"$BIN/tm" "$tmp/listj.$1" "$top/overlay-list" -j >/dev/null || exit 1
		r=$((r + 1))
	done
	avail_kib >"$tmp/avail.$1"
	j=1
	: >"$tmp/mem.$1"
	while [ "$j" -le "$1" ]; do
		mem_of "$j" >>"$tmp/mem.$1"
		j=$((j + 1))
	done
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
avail0=$(avail_kib)
i=1
while [ "$i" -le "$N" ]; do
	mkdir -p "$tmp/bsc$i/root" "$tmp/bsc$i/work" "$tmp/bsc$i/live" || exit 1
	# A listing must not walk UPPER: give each one something to walk.
	head -c 1048576 /dev/zero >"$tmp/bsc$i/root/one-megabyte" || exit 1
	printf 'BASE=.\nSTART=none\nLOG=log\nLOWER=%s\nCABLES=%s\n' "$ROOTFS" "$BRIDGE" \
		>"$tmp/bsc$i/bsc$i.conf"
	"$BIN/tm" "$tmp/boot" "$top/overlay-boot" "$tmp/bsc$i/bsc$i.conf" || exit 1
	booted=$i
	at "$i"
	i=$((i + 1))
done
while [ "$booted" -ge 1 ]; do
	"$BIN/tm" "$tmp/stop" "$top/overlay-stop" "bsc$booted" >/dev/null || exit 1
	booted=$((booted - 1))
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# Boot k was made with k-1 running; stop k (in file order) with N-k+1.
# range FILE FROM TO: median of lines FROM..TO of FILE, in ms.
range() {
	sed -n "$2,$3p" "$1" >"$tmp/range"
	median "$tmp/range"
}
echo "### Scale: $N subhosts, one cable each on one bridge (load average $load_start at start, $load_end at end)"
echo
echo "| running subhosts | boot ms (median of the boots made there) | stop ms (median) | overlay-go ms | overlay-list ms (median of 10) | overlay-list -j ms | RSS per subhost KiB | PSS per subhost KiB | private (anon + page tables + stacks) per subhost KiB | MemAvailable drop per subhost KiB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
prev=1
for k in 1 10 30 50 100; do
	[ "$k" -le "$N" ] || continue
	b=$(range "$tmp/boot" "$prev" "$k")
	s=$(tac "$tmp/stop" | sed -n "$prev,${k}p" >"$tmp/range2"; median "$tmp/range2")
	mem=$(awk '{r += $1; p += $2; v += $3} END {printf "%d %d %d", r / NR, p / NR, v / NR}' "$tmp/mem.$k")
	drop=$(awk -v a="$avail0" -v b="$(cat "$tmp/avail.$k")" -v k="$k" 'BEGIN {printf "%d", (a - b) / k}')
	echo "| $prev–$k | $b | $s | $(median "$tmp/go.$k") | $(median "$tmp/list.$k") | $(median "$tmp/listj.$k") | ${mem%% *} | $(echo "$mem" | cut -d' ' -f2) | ${mem##* } | $drop |"
	prev=$((k + 1))
done
first=$(sed -n 1p "$tmp/boot" | awk '{printf "%.1f", $1 / 1000}')
last=$(sed -n "${N}p" "$tmp/boot" | awk '{printf "%.1f", $1 / 1000}')
echo
if [ "$N" -ge 100 ]; then
	echo "overlay-list with 100 running against 1: $(ratio "$(median "$tmp/list.100")" "$(median "$tmp/list.1")") (goal: within 1.5×); -j: $(ratio "$(median "$tmp/listj.100")" "$(median "$tmp/listj.1")"); with 30: $(ratio "$(median "$tmp/list.30")" "$(median "$tmp/list.1")")."
	echo
fi
echo "Boot of the first subhost $first ms, of subhost $N $last ms ($(ratio "$last" "$first")); boots $((N > 10 ? N - 9 : 1))–$N against 1–10: $(ratio "$(range "$tmp/boot" $((N > 10 ? N - 9 : 1)) "$N")" "$(range "$tmp/boot" 1 $((N < 10 ? N : 10)))")."
echo
