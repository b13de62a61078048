#!/bin/sh
# shellcheck disable=SC1091,SC2154 # top and tmp are set by bench/lib.sh
# bench/services.sh [RUNS]: the upstream-habits issue's bench. A Debian
# subhost with four real services (START= rsyslog networking ssh cron,
# over the services root of tests/debian-root): boot to ready and stop by
# overlay-boot / overlay-stop, next to the same four init scripts started
# and stopped by hand in a plain `unshare` of the same root (an overlay
# mounted by hand, new mount, pid, net, uts and ipc namespaces, /proc,
# /dev bound, /run a tmpfs). The difference is the overhead that is ours.
# RUNS (default 10) alternated rounds; prints a markdown table.

# shellcheck source=bench/lib.sh
bench_dir=$(dirname "$0")
. "$bench_dir/lib.sh"
RUNS=${1:-${RUNS:-10}}
SERVICES="rsyslog networking ssh cron"

bench_cleanup() {
	"$top/overlay-stop" obbsvc >/dev/null 2>&1
	[ -e /run/overlay-boot/obbsvc ] || rm -f /run/overlay-boot/obbsvc.lock
	[ -z "${floor_pid:-}" ] || kill -KILL "$floor_pid" 2>/dev/null
	umount -l "$tmp/floor/merged" 2>/dev/null
}
bench_tmp ob-services
bench_bin
root=$(sh "$top/tests/debian-root") || exit 1

mkdir -p "$tmp/sub/root" "$tmp/sub/work" "$tmp/sub/live" || exit 1
printf 'BASE=.\nLOG=log\nLOWER=%s\nSTART=%s\n' "$root" "$SERVICES" >"$tmp/sub/obbsvc.conf"

# The floor's pid 1: the four start scripts, "ready" on a fifo, then the
# stop scripts in reverse when told so on another.
cat >"$tmp/floor-init" <<'INIT'
#!/bin/sh
mount -t tmpfs -o mode=0755 run /run && mkdir -p /run/lock || exit 1
for s in $SERVICES; do service "$s" start >/dev/null 2>&1 || echo "start $s failed" >&2; done
echo ready >/bench-ready
read -r _ </bench-stop
stopping=
for s in $SERVICES; do stopping="$s $stopping"; done
for s in $stopping; do service "$s" stop >/dev/null 2>&1 || echo "stop $s failed" >&2; done
INIT

now_us() { echo $(($(date +%s%N) / 1000)); }

# floor_round: one boot and stop by hand; appends to floor.boot/floor.stop.
floor_round() {
	local t0 t1 t2 f
	f=$tmp/floor
	rm -rf "$f" && mkdir -p "$f/upper" "$f/work" "$f/merged" || exit 1
	t0=$(now_us)
	mount -t overlay overlay -o "lowerdir=$root,upperdir=$f/upper,workdir=$f/work" \
		"$f/merged" || exit 1
	cp "$tmp/floor-init" "$f/merged/bench-init" && mkfifo "$f/merged/bench-ready" \
		"$f/merged/bench-stop" || exit 1
	SERVICES=$SERVICES unshare --mount --pid --fork --net --uts --ipc \
		sh -c 'mount --make-rprivate / && mount --rbind /dev "$1/dev" &&
			mount -t proc proc "$1/proc" && exec chroot "$1" /bin/sh /bench-init' \
		- "$f/merged" &
	floor_pid=$!
	read -r _ <"$f/merged/bench-ready"
	t1=$(now_us)
	echo stop >"$f/merged/bench-stop"
	wait "$floor_pid"
	floor_pid=
	umount "$f/merged" || exit 1
	t2=$(now_us)
	echo $((t1 - t0)) >>"$tmp/floor.boot"
	echo $((t2 - t1)) >>"$tmp/floor.stop"
}

: >"$tmp/boot"; : >"$tmp/stop"; : >"$tmp/floor.boot"; : >"$tmp/floor.stop"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
i=0
while [ "$i" -lt "$RUNS" ]; do
	"$BIN/tm" "$tmp/boot" "$top/overlay-boot" "$tmp/sub/obbsvc.conf" || exit 1
	"$BIN/tm" "$tmp/stop" "$top/overlay-stop" obbsvc >/dev/null || exit 1
	floor_round
	i=$((i + 1))
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

b=$(median "$tmp/boot") s=$(median "$tmp/stop")
fb=$(median "$tmp/floor.boot") fs=$(median "$tmp/floor.stop")
echo "### A Debian subhost with four services ($SERVICES), $RUNS alternated rounds (load average $load_start at start, $load_end at end)"
echo
echo "| step | overlay-boot ms | by hand in unshare ms | ours - by hand ms | ratio |"
echo "|---|---:|---:|---:|---:|"
echo "| boot to ready (services started) | $b | $fb | $(awk -v a="$b" -v b="$fb" 'BEGIN {printf "%.1f", a - b}') | $(ratio "$b" "$fb") |"
echo "| stop (stop scripts in reverse, all gone) | $s | $fs | $(awk -v a="$s" -v b="$fs" 'BEGIN {printf "%.1f", a - b}') | $(ratio "$s" "$fs") |"
echo
echo "Goal (upstream-habits issue): our overhead under 100 ms each way."
