#!/bin/sh
# shellcheck disable=SC1091,SC2154 # top and tmp are set by bench/lib.sh
# bench/userns.sh [RUNS]: boot to ready and stop of one subhost
# (START=none over the Debian minbase root) with USERNS=yes, with
# USERNS=no, and of an LXC container on the same root (as
# bench/lifecycle.sh runs it: overlay rootfs, our reaper as its init), in
# RUNS (default 20) alternated rounds; prints a markdown table with the
# ratios to USERNS=no. The goal (issue 14): yes within 1.1x of no.

# shellcheck source=bench/lib.sh
bench_dir=$(dirname "$0")
. "$bench_dir/lib.sh"
RUNS=${1:-${RUNS:-20}}

bench_cleanup() {
	for n in obnbyes obnbno; do
		"$top/overlay-stop" "$n" >/dev/null 2>&1
		[ -e "/run/overlay-boot/$n" ] || rm -f "/run/overlay-boot/$n.lock"
	done
	lxc-stop -P "$tmp/lxc" -n oblxc -k >/dev/null 2>&1 || :
	lxc_cgroups_undo
}
lxc_cgroups_note
bench_tmp ob-userns
bench_bin
bench_root
for m in yes no; do
	mkdir "$tmp/$m" "$tmp/$m/root" "$tmp/$m/work" "$tmp/$m/live" || exit 1
	printf 'BASE=.\nSTART=none\nLOG=log\nLOWER=%s\nUSERNS=%s\n' "$ROOTFS" "$m" \
		>"$tmp/$m/obnb$m.conf"
done
mkdir "$tmp/lxc" "$tmp/lxc/oblxc" "$tmp/lxc/oblxc/delta0" || exit 1
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
if ! command -v lxc-start >/dev/null 2>&1; then
	lxc_ok=
	echo "lxc-start is not installed" >"$tmp/lxc.why"
elif ! lxc-start -P "$tmp/lxc" -n oblxc -d >"$tmp/lxc.why" 2>&1 ||
	! lxc-wait -P "$tmp/lxc" -n oblxc -s RUNNING -t 10 >>"$tmp/lxc.why" 2>&1 ||
	! lxc-stop -P "$tmp/lxc" -n oblxc >>"$tmp/lxc.why" 2>&1; then
	lxc_ok=
	grep -m 3 ERROR "$tmp/lxc/oblxc.log" | sed 's/.*ERROR *//' >>"$tmp/lxc.why"
	lxc-stop -P "$tmp/lxc" -n oblxc -k >/dev/null 2>&1
fi

for f in yesboot yesstop noboot nostop lxcboot lxcstop; do : >"$tmp/$f"; done
i=0
while [ "$i" -lt "$RUNS" ]; do
	for m in yes no; do
		"$T" "$tmp/${m}boot" "$top/overlay-boot" "$tmp/$m/obnb$m.conf" || exit 1
		"$T" "$tmp/${m}stop" "$top/overlay-stop" "obnb$m" >/dev/null || exit 1
	done
	if [ -n "$lxc_ok" ]; then
		"$T" "$tmp/lxcboot" sh -c 'lxc-start -P "$0" -n oblxc -d && lxc-wait -P "$0" -n oblxc -s RUNNING -t 10' \
			"$tmp/lxc" || exit 1
		"$T" "$tmp/lxcstop" lxc-stop -P "$tmp/lxc" -n oblxc || exit 1
	fi
	i=$((i + 1))
done

# both FILE1 FILE2: the medians' sum of two steps, in ms.
both() {
	awk -v a="$(median "$1")" -v b="$(median "$2")" 'BEGIN {
		if (a == "-" || b == "-") print "-"; else printf "%.1f\n", a + b }'
}

echo "### Boot to ready and stop: USERNS=yes, USERNS=no, LXC ($RUNS alternated rounds)"
echo
echo "| step | USERNS=no ms | USERNS=yes ms | yes / no | LXC ms | LXC / no |"
echo "|---|---:|---:|---:|---:|---:|"
for step in boot stop total; do
	if [ "$step" = total ]; then
		n=$(both "$tmp/noboot" "$tmp/nostop")
		y=$(both "$tmp/yesboot" "$tmp/yesstop")
		l=-
		[ -z "$lxc_ok" ] || l=$(both "$tmp/lxcboot" "$tmp/lxcstop")
	else
		n=$(median "$tmp/no$step")
		y=$(median "$tmp/yes$step")
		l=-
		[ -z "$lxc_ok" ] || l=$(median "$tmp/lxc$step")
	fi
	echo "| $step | $n | $y | $(ratio "$y" "$n") | $l | $(ratio "$l" "$n") |"
done
echo
if [ -z "$lxc_ok" ]; then
	echo "LXC cannot run here: $(tr '\n' ' ' <"$tmp/lxc.why")"
	echo
fi
