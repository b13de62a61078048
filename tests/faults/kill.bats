#!/usr/bin/env bats
# Kill at every step: SIGKILL the supervisor, the subhost's pid 1 (the
# mount stage before there is one) or a process inside, at each boot step
# and each stop step; the next overlay-stop or overlay-boot of that name
# leaves the host exactly as it was, and a new boot works.

load helpers

setup_test() {
	BR=obfkb$$
	BR=${BR:0:15}
	ip link add "$BR" type bridge
	ip link set "$BR" up
}

teardown_test() {
	ip link delete "$BR" 2>/dev/null || true
}

# kill_subhost_conf NAME: a subhost with two cables, two shares, hooks
# that can pause (BASE/pause names the step) and a pausing START service.
kill_subhost_conf() {
	local name=$1 conf base
	conf=$(make_subhost "$name" PREMOUNT=pre POSTMOUNT=post INIT=init START=/svc \
		"CABLES=$BR =02:0b:0f:00:00:01" SHARE=s1:/s1 SHARE=s2:/s2 STOP_TIMEOUT=2)
	base=${conf%/*}
	mkdir -p "$base/s1" "$base/s2"
	cat >"$base/pt" <<'PT'
# sourced by the hooks: pause STEP
pause() {
	if [ "$(cat "$BASE/pause" 2>/dev/null)" = "$1" ]; then
		echo $$ >"$BASE/at.tmp" && mv "$BASE/at.tmp" "$BASE/at"
		exec sleep 120 >/dev/null 2>&1
	fi
}
PT
	printf '#!/bin/sh\n. "$BASE/pt"\npause pre\n' >"$base/pre"
	printf '#!/bin/sh\n. "$BASE/pt"\npause ovl\n"$OVERLAY_BOOT_LIB/overlay-postmount" "$@" || exit 1\npause post\n' >"$base/post"
	# The INIT hook runs after every SHARE is mounted; its script pauses as
	# pid 1 before the reaper when /pause-init exists inside.
	cat >"$base/init" <<'HOOK'
#!/bin/sh
. "$BASE/pt"
pause shares
"$OVERLAY_BOOT_LIB/overlay-init" "$@" | sed '/^exec .*reaper/i\
if [ -e /pause-init ]; then echo $$ >/at.tmp \&\& mv /at.tmp /at; while :; do sleep 1; done; fi'
HOOK
	chmod +x "$base/pre" "$base/post" "$base/init"
	pause_service "$base/root/svc"
	echo "$conf"
}

# reset_pause BASE STEP
reset_pause() {
	rm -rf "$1/root/s1" "$1/root/s2"
	rm -f "$1/at" "$1/root/at" "$1/root/pause-init" "$1/root/pause-svc" "$1/root/pause-stop"
	echo "$2" >"$1/pause"
	case "$2" in
	init) touch "$1/root/pause-init" ;;
	svc) touch "$1/root/pause-svc" ;;
	esac
}

# reach STEP: wait until the boot in progress is at STEP; set VICTIM_* pids.
reach() {
	local name=$1 base=$2 step=$3
	case "$step" in
	netns) wait_for test -e "/run/netns/$name" ;;
	cable0) wait_for test -e "/sys/class/net/${name}0" ;;
	cable1) wait_for test -e "/sys/class/net/${name}1" ;;
	cgroup) wait_for has_cgroup "$name" ;;
	share1) wait_for test -d "$base/root/s2" ;;
	pre | ovl | post | shares)
		wait_for test -s "$base/at" || return 1
		VICTIM_INSIDE=$(cat "$base/at")
		VICTIM_PID1=$(ppid_of "$VICTIM_INSIDE")
		;;
	init)
		wait_for test -s "$base/root/at" || return 1
		VICTIM_PID1=$(cat "$STATE/$name/pid1")
		VICTIM_INSIDE=
		;;
	svc)
		wait_for test -s "$base/root/at" || return 1
		VICTIM_PID1=$(cat "$STATE/$name/pid1")
		WAIT_TRIES=40 wait_for inside_pid "$name" "sleep 120" >/dev/null || return 1
		VICTIM_INSIDE=$(inside_pid "$name" "sleep 120")
		;;
	up)
		VICTIM_PID1=$(cat "$STATE/$name/pid1")
		go "$name" sh -c 'sleep 120 </dev/null >/dev/null 2>&1 &'
		WAIT_TRIES=40 wait_for inside_pid "$name" "sleep 120" >/dev/null || return 1
		VICTIM_INSIDE=$(inside_pid "$name" "sleep 120")
		;;
	esac
}

# kill_case NAME CONF STEP TARGET RECOVERY: boot, reach STEP, SIGKILL
# TARGET, recover with RECOVERY (stop, or boot then stop), check the host.
kill_case() {
	local name=$1 conf=$2 step=$3 target=$4 recovery=$5 base=${2%/*} booting pid
	echo "# case $step/$target/$recovery $(date +%T.%N | cut -c1-12)" >&2
	reset_pause "$base" "$step"
	VICTIM_PID1= VICTIM_INSIDE=
	if [ "$step" = up ]; then
		boot "$conf" || return 1
		booting=
	else
		"$TOP/overlay-boot" "$conf" >/dev/null 2>&1 &
		booting=$!
	fi
	reach "$name" "$base" "$step" || return 1
	case "$target" in
	supervisor) pid=$(cat "$STATE/$name/supervisor") ;;
	pid1) pid=$VICTIM_PID1 ;;
	inside) pid=$VICTIM_INSIDE ;;
	esac
	[ -n "$pid" ] || { echo "no $target at $step" >&2; return 1; }
	kill -KILL "$pid"
	if [ -n "$booting" ]; then
		wait_gone "$booting" 300 || return 1
		wait "$booting" || true
	fi
	rm -f "$base/pause" "$base/root/pause-init" "$base/root/pause-svc"
	if [ "$recovery" = boot ] && [ "$target" = inside ] && [ -e "$STATE/$name/pid1.start" ] &&
		! flock -n "$STATE/$name.lock" true; then
		# the subhost outlived the killed process: a boot is refused
		run "$TOP/overlay-boot" "$conf"
		[ "$status" = 1 ] && [[ "$output" == *"already running"* ]] || return 1
		[ "$(go "$name" hostname)" = "$name" ] || return 1
	elif [ "$recovery" = boot ]; then
		# the killed boot may still be cleaning up: wait for its lock
		flock -w 20 "$STATE/$name.lock" true
		boot "$conf" || return 1
		[ "$(go "$name" hostname)" = "$name" ] || { tail -n 20 "$base/log"; ls -l "$STATE/$name"; cat "$STATE/$name/pid1"*; return 1; }
	fi
	stop "$name" || return 1
	settled "$name" || { echo "case $step/$target/$recovery" >&2; return 1; }
}

@test "SIGKILL of the supervisor at every boot step: the next stop or boot cleans up" {
	conf=$(kill_subhost_conf obfk1)
	i=0
	for step in netns cable0 cable1 cgroup pre ovl post share1 shares init svc up; do
		recovery=stop
		[ $((i % 2)) = 1 ] && recovery=boot
		kill_case obfk1 "$conf" "$step" supervisor "$recovery"
		i=$((i + 1))
	done
}

@test "SIGKILL of pid 1 (the mount stage before it exists) at every boot step" {
	conf=$(kill_subhost_conf obfk2)
	i=0
	for step in pre ovl post shares init svc up; do
		recovery=boot
		[ $((i % 2)) = 1 ] && recovery=stop
		kill_case obfk2 "$conf" "$step" pid1 "$recovery"
		i=$((i + 1))
	done
}

@test "SIGKILL of a process inside (a hook, a service, a daemon) at every boot step" {
	conf=$(kill_subhost_conf obfk3)
	i=0
	for step in pre ovl post shares svc up; do
		recovery=stop
		[ $((i % 2)) = 1 ] && recovery=boot
		kill_case obfk3 "$conf" "$step" inside "$recovery"
		i=$((i + 1))
	done
}
