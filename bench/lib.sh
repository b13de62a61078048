# bench/lib.sh: shared by the benchmark scripts (sourced, never run).
# Each script runs alone as root or from bench/run.sh, which passes
# ROOTFS (the cached Debian minbase root) and BIN (tm, orphans, floor).

cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
ROOTFS=${ROOTFS:-/var/cache/overlay-boot-bench/root}
[ "$(id -u)" = 0 ] || { echo "${0##*/}: run as root" >&2; exit 1; }

# bench_tmp PREFIX: make the script's scratch directory $tmp and the
# cleanup that removes it on every exit, Ctrl-C included. A script adds
# its own steps by defining bench_cleanup before calling this.
bench_tmp() {
	tmp=$(mktemp -d "/tmp/$1.XXXXXX") || exit 1
	trap 'bench_exit' EXIT
	trap 'exit 130' INT TERM HUP
}
bench_exit() {
	trap - EXIT INT TERM HUP
	if command -v bench_cleanup >/dev/null 2>&1; then bench_cleanup; fi
	# Whatever is still mounted below $tmp (an interrupted run).
	grep -F " $tmp/" /proc/self/mountinfo | awk '{print $5}' | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null; done
	rm -rf "$tmp"
}

# lxc_cgroups_note / lxc_cgroups_undo: LXC leaves an "lxc.pivot" group
# in every cgroup hierarchy (for its monitor); remove the ones that were
# not there before the bench, when empty.
lxc_cgroups_note() {
	lxc_pivot_before=$(ls -d /sys/fs/cgroup/*/lxc.pivot /sys/fs/cgroup/lxc.pivot 2>/dev/null)
}
lxc_cgroups_undo() {
	for d in /sys/fs/cgroup/*/lxc.pivot /sys/fs/cgroup/lxc.pivot; do
		[ -d "$d" ] || continue
		case "
${lxc_pivot_before:-}
" in
		*"
$d
"*) ;;
		*) rmdir "$d" 2>/dev/null ;;
		esac
	done
	# LXC's lock directories for the bench's lxcpath ($tmp/lxc).
	rm -rf "/run/lxc/lock$tmp"
	rmdir "/run/lxc/lock/tmp" "/run/lxc/lock" "/run/lxc" 2>/dev/null
}

# bench_bin: BIN with tm, orphans and floor, built here when not given.
bench_bin() {
	make -s -C "$top" all bench/floor >/dev/null || exit 1
	if [ -z "${BIN:-}" ]; then
		BIN=$tmp/bin
		mkdir -p "$BIN" || exit 1
		for p in tm orphans; do
			cc -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -O2 \
				-o "$BIN/$p" "$top/bench/$p.c" || exit 1
		done
		cp "$top/bench/floor" "$BIN/floor" || exit 1
	fi
}

# bench_root: fail unless the cached minbase root is there.
bench_root() {
	[ -x "$ROOTFS/bin/sh" ] || { echo "${0##*/}: no root at $ROOTFS (run bench/run.sh)" >&2; exit 1; }
}

# median FILE: median of the numbers in FILE (microseconds), in ms.
median() {
	sort -n "$1" | awk '{v[NR] = $1} END {
		if (NR == 0) { print "-"; exit }
		m = int((NR + 1) / 2)
		x = (NR % 2) ? v[m] : (v[m] + v[m + 1]) / 2
		printf "%.1f\n", x / 1000 }'
}

# ratio A B: A / B as "N.NN×", or "-" when either is missing.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "-" || b == "-" || b + 0 <= 0) print "-"
		else printf "%.2f×\n", a / b }'
}
