#!/bin/sh
# bench/clean-root.sh [FILES]: overlay-clean-root on an UPPER of FILES
# (default 100000) small files, half of them equal to LOWER, against the
# original approach: find, and one cmp process per file (counting only,
# no rm). Each starts on a warm page cache and they report the same equal
# files; prints milliseconds and the ratio. Run as root
# (overlay-clean-root takes the subhost's lock).

cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
FILES=${1:-100000}
PER_DIR=1000
[ "$(id -u)" = 0 ] || { echo "clean-root.sh: run as root" >&2; exit 1; }
case "$FILES" in
'' | *[!0-9]*) echo "clean-root.sh: FILES must be a number" >&2; exit 2 ;;
esac
make -s all >/dev/null || exit 1
tmp=$(mktemp -d /var/tmp/ob-bench-clean.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/base" "$tmp/work" "$tmp/live"
printf 'BASE=.\nLOWER=base\nUPPER=root\nSTART=none\nLOG=log\n' >"$tmp/obclean.conf"

now_ms() { date +%s%3N; }

# LOWER: FILES files of 32 to 40 bytes in directories of PER_DIR.
echo "making $FILES files in LOWER and UPPER..." >&2
i=0
while [ "$i" -lt "$FILES" ]; do
	d=$((i / PER_DIR))
	[ $((i % PER_DIR)) -ne 0 ] || mkdir "$tmp/base/d$d"
	echo "lower file number $i of the benchmark" >"$tmp/base/d$d/f$i"
	i=$((i + 1))
done
# UPPER: an exact copy, then every other file changed (same size).
cp -a "$tmp/base" "$tmp/root"
i=1
while [ "$i" -lt "$FILES" ]; do
	d=$((i / PER_DIR))
	echo "LOWER file number $i of the benchmark" >"$tmp/root/d$d/f$i"
	i=$((i + 2))
done
sync
# Each method starts on a warm page cache (a long run may lose it).
warm() { find "$tmp/base" "$tmp/root" -type f -exec cat {} + >/dev/null; }

# The original approach: one cmp per file of UPPER (counting only).
warm
t0=$(now_ms)
orig_equal=$(cd "$tmp/root" && find . -type f | while read -r f; do
	if cmp -s "$f" "$tmp/base/$f"; then echo "$f"; fi
done | wc -l)
t1=$(now_ms)

# overlay-clean-root -n: the same question, answered in one process.
warm
t2=$(now_ms)
dry=$("$top/overlay-clean-root" -n "$tmp/obclean.conf" | grep -c '^/d[0-9]*/f')
t3=$(now_ms)

# overlay-clean-root: and removing them.
warm
t4=$(now_ms)
summary=$("$top/overlay-clean-root" "$tmp/obclean.conf") || exit 1
t5=$(now_ms)

orig=$((t1 - t0))
clean_n=$((t3 - t2))
clean=$((t5 - t4))
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'; }

printf '%s files in UPPER, %s of them equal to LOWER\n\n' "$FILES" $((FILES - FILES / 2))
printf '%-34s %10s %8s %10s\n' method ms equal "speed-up"
printf '%-34s %10s %8s %10s\n' "find + cmp per file (original)" "$orig" "$orig_equal" 1.0
printf '%-34s %10s %8s %10s\n' "overlay-clean-root -n" "$clean_n" "$dry" "$(ratio "$orig" "$clean_n")"
printf '%-34s %10s %8s %10s\n' "overlay-clean-root (removing)" "$clean" "-" "$(ratio "$orig" "$clean")"
printf '\n%s\n' "$summary"
