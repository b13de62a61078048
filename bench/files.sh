#!/bin/sh
# shellcheck disable=SC1091,SC2154 # top and tmp are set by bench/lib.sh
# bench/files.sh [ROUNDS]: a file-heavy command (unpack a tar of 20,000
# small files, then remove them) in a writable overlay of the host, as the
# same user would run it: ovroot by a non-root caller (set-user-id copy:
# fuse-overlayfs), ovroot by root (kernel overlays), `unshare -rm` with a
# kernel overlay in a directory of the caller's (the floor for a user),
# and bwrap on a tmpfs (bwrap 0.8 has no overlay). The runners take turns,
# ROUNDS rounds (default 3); prints medians and ratios against root's
# ovroot. The non-root runs are uid 65534. A peer that cannot run here is
# reported with the reason, never timed.

# shellcheck source=bench/lib.sh
bench_dir=$(dirname "$0")
. "$bench_dir/lib.sh"
ROUNDS=${1:-${ROUNDS:-3}}
NOBODY=65534
FILES=20000

bench_tmp ob-files
make -s -C "$top" all >/dev/null || exit 1
chmod 755 "$tmp"
mkdir -p "$tmp/bin" "$tmp/tree/x" "$tmp/nobody" || exit 1
cp "$top/src/overlay-pivot" "$tmp/bin/overlay-pivot" || exit 1
chmod 4755 "$tmp/bin/overlay-pivot"
ln -s overlay-pivot "$tmp/bin/ovroot"
chown "$NOBODY:$NOBODY" "$tmp/nobody"
# the tree: FILES files of 64 bytes in directories of 100
i=0
while [ "$i" -lt $((FILES / 100)) ]; do
	mkdir "$tmp/tree/x/d$i"
	i=$((i + 1))
done
awk -v n="$FILES" -v t="$tmp/tree/x" 'BEGIN {
	for (i = 0; i < n; i++) {
		f = t "/d" int(i / 100) "/f" i
		printf "%064d\n", i > f
		close(f)
	}
}'
tar -C "$tmp/tree" -cf "$tmp/files.tar" x || exit 1
chmod 644 "$tmp/files.tar"
rm -rf "$tmp/tree"

# the command, the same everywhere: $1 is a writable directory
work='mkdir -p "$1" && tar -C "$1" -xf "$0" && rm -rf "$1/x"'

as_nobody() {
	setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups "$@"
}

# run NAME: one run; its wall time in microseconds appended to NAME's file.
run() {
	t0=$(date +%s%N)
	case "$1" in
	ovroot-user)
		as_nobody "$tmp/bin/ovroot" "$tmp/nobody/ov" /bin/sh -c "$work" \
			"$tmp/files.tar" "$tmp/nobody/w" ;;
	ovroot-root)
		"$tmp/bin/ovroot" "$tmp/rootov" /bin/sh -c "$work" "$tmp/files.tar" /tmp/ob-files-w ;;
	unshare-ovl)
		as_nobody unshare -rm /bin/sh -c '
			d=$1; shift
			mkdir -p "$d/l" "$d/u" "$d/w" "$d/m" &&
			mount -t overlay o -o "lowerdir=$d/l,upperdir=$d/u,workdir=$d/w,userxattr" "$d/m" &&
			/bin/sh -c "$@" "$d/m/w"' sh "$tmp/nobody/k" "$work" "$tmp/files.tar" ;;
	bwrap)
		as_nobody bwrap --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp \
			--ro-bind "$tmp/files.tar" /tmp/files.tar \
			/bin/sh -c "$work" /tmp/files.tar /tmp/w ;;
	esac >/dev/null 2>"$tmp/err" || { echo "$1: failed: $(head -n 3 "$tmp/err")" >&2; return 1; }
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000)) >>"$tmp/$1.t"
	# each run starts from the same state
	rm -rf "$tmp/nobody/ov" "$tmp/rootov" "$tmp/nobody/k"
}

runners="ovroot-root ovroot-user unshare-ovl"
if command -v bwrap >/dev/null && as_nobody bwrap --ro-bind / / true 2>/dev/null; then
	runners="$runners bwrap"
else
	echo "bwrap: not run (not installed, or no unprivileged user namespace for it)" >&2
fi
r=0
while [ "$r" -lt "$ROUNDS" ]; do
	for n in $runners; do
		run "$n" || exit 1
	done
	r=$((r + 1))
done

base=$(median "$tmp/ovroot-root.t")
echo "| runner ($FILES files unpacked and removed, median of $ROUNDS) | ms | vs root ovroot |"
echo "|---|---|---|"
for n in $runners; do
	m=$(median "$tmp/$n.t")
	echo "| $n | $m | $(ratio "$m" "$base") |"
done
