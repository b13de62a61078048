#!/bin/sh
# shellcheck disable=SC1091,SC2154 # top and tmp are set by bench/lib.sh
# bench/pid1.sh [ROUNDS]: the subhost's pid 1 (src/reaper) against the
# pid 1 programs an administrator would use instead: static size, RSS
# while it waits on one child, and the time to run 10,000 short-lived
# orphans to completion (bench/orphans: each is reparented to pid 1,
# which must reap it) in a fresh pid namespace. ROUNDS (default 3)
# alternated rounds, ORPHANS (default 1000; the issue asks 10,000, which
# takes minutes per run where fork is slow) orphans; prints a markdown table.

# shellcheck source=bench/lib.sh
bench_dir=$(dirname "$0")
. "$bench_dir/lib.sh"
ROUNDS=${1:-${ROUNDS:-3}}
ORPHANS=${ORPHANS:-1000}

bench_cleanup() {
	[ -z "${held:-}" ] || kill -KILL "$held" 2>/dev/null
}
bench_tmp ob-pid1
bench_bin
REAPER=$top/src/reaper

INITS="reaper tini-static catatonit dumb-init none"
path_of() {
	case "$1" in
	reaper) echo "$REAPER" ;;
	none) echo - ;;
	*) command -v "$1" || echo - ;;
	esac
}
# with_init INIT COMMAND...: COMMAND under INIT as pid 1 of a new pid
# namespace (the reaper is exec'd by a shell that started the command, as
# the subhost's init script does).
with_init() {
	i=$1
	shift
	case "$i" in
	reaper) set -- unshare --pid --fork sh -c '"$@" & exec "$0" -t 1' "$REAPER" "$@" ;;
	none) set -- unshare --pid --fork "$@" ;;
	*) set -- unshare --pid --fork "$(path_of "$i")" -- "$@" ;;
	esac
	exec "$@"
}

# RSS: pid 1 holding one sleeping child.
for i in $INITS; do
	[ "$i" != none ] || continue
	with_init "$i" sleep 60 &
	held=$!
	sleep 0.5
	p1=$(ps -o pid= --ppid "$held" | tr -d ' ')
	awk '/^VmRSS/ {print $2}' "/proc/$p1/status" >"$tmp/rss.$i"
	kill -TERM "$p1" 2>/dev/null
	sleep 0.2
	kill -KILL "$held" 2>/dev/null
	wait "$held" 2>/dev/null
	held=
done

r=0
while [ "$r" -lt "$ROUNDS" ]; do
	for i in $INITS; do
		if [ "$i" = reaper ]; then
			"$BIN/tm" "$tmp/t.$i" unshare --pid --fork sh -c '"$1" "$2" & exec "$0" -t 1' \
				"$REAPER" "$BIN/orphans" "$ORPHANS" || exit 1
		else
			# shellcheck disable=SC2046 # "none" runs orphans as pid 1
			"$BIN/tm" "$tmp/t.$i" unshare --pid --fork $([ "$i" = none ] || echo "$(path_of "$i") --") \
				"$BIN/orphans" "$ORPHANS" || exit 1
		fi
	done
	r=$((r + 1))
done

echo "### pid 1: size, memory, reaping $ORPHANS orphans ($ROUNDS alternated rounds)"
echo
echo "| pid 1 | binary | size KiB | RSS KiB | reap $ORPHANS orphans, median ms |"
echo "|---|---|---:|---:|---:|"
for i in $INITS; do
	p=$(path_of "$i")
	if [ "$p" = - ]; then
		echo "| none (orphans is pid 1; the kernel reaps at exit) | - | - | - | $(median "$tmp/t.$i") |"
		continue
	fi
	kind=$(file -b "$p" | grep -o 'static-pie linked\|statically linked\|dynamically linked')
	size=$(awk -v s="$(stat -L -c %s "$p")" 'BEGIN { printf "%.1f", s / 1024 }')
	echo "| $i | $kind | $size | $(cat "$tmp/rss.$i") | $(median "$tmp/t.$i") |"
done
echo
