#!/usr/bin/env bats
# Durability and full disk: what was written and synced inside is in UPPER
# however the subhost ended; a full UPPER fails writes, not the subhost.

load helpers

@test "synced data is in UPPER after overlay-stop, a killed supervisor and a killed reaper" {
	conf=$(make_subhost obfd1)
	base=${conf%/*}
	rounds=1
	[ -z "$SOAK" ] || rounds=10
	for r in $(seq 1 "$rounds"); do
		for how in stop supervisor reaper; do
			boot "$conf"
			run go obfd1 sh -c "head -c 100000 /dev/urandom >/var/tmp/d-$how && sync && md5sum /var/tmp/d-$how"
			[ "$status" = 0 ]
			sum=${output%% *}
			case "$how" in
			supervisor) kill -KILL "$(cat "$STATE/obfd1/supervisor")" ;;
			reaper) kill -KILL "$(cat "$STATE/obfd1/pid1")" ;;
			esac
			stop obfd1
			[ "$(md5sum <"$base/root/var/tmp/d-$how" | cut -d' ' -f1)" = "$sum" ]
			settled obfd1
		done
	done
}

@test "stopped while a service writes continuously: UPPER mounts again, the data is whole" {
	conf=$(make_subhost obfd2 STOP_TIMEOUT=1)
	base=${conf%/*}
	rounds=1
	[ -z "$SOAK" ] || rounds=20
	for r in $(seq 1 "$rounds"); do
		boot "$conf"
		go obfd2 sh -c 'i=0; while :; do i=$((i+1)); echo "line $i" >>/var/tmp/w; echo "$i" >/var/tmp/n.tmp && mv /var/tmp/n.tmp /var/tmp/n; done </dev/null >/dev/null 2>&1 &'
		sleep 0.3
		stop obfd2
		# every line is whole, the renamed file is never half written
		grep -qvx 'line [0-9]*' "$base/root/var/tmp/w" && false
		grep -qx '[0-9][0-9]*' "$base/root/var/tmp/n"
		# no stale work dir: the overlay mounts again and sees the data
		boot "$conf"
		run go obfd2 sh -c 'wc -l </var/tmp/w'
		[ "$output" -ge 1 ]
		stop obfd2
		settled obfd2
	done
}

@test "UPPER on a full tmpfs: writes fail with ENOSPC inside, the subhost runs on, stop and boot work" {
	conf=$(make_subhost obfd3 UPPER=fs/root WORK=fs/work)
	base=${conf%/*}
	mkdir -p "$base/fs"
	mount -t tmpfs -o size=4m obfd3-fs "$base/fs"
	mkdir "$base/fs/root" "$base/fs/work"
	boot "$conf"
	run go obfd3 dd if=/dev/zero of=/var/tmp/big bs=64k count=200
	[ "$status" -ne 0 ]
	[[ "$output" == *"No space left"* ]]
	run go obfd3 sh -c 'echo more >/var/tmp/small'
	[ "$status" -ne 0 ]
	run go obfd3 hostname
	[ "$output" = obfd3 ]
	stop obfd3
	boot "$conf"
	run go obfd3 sh -c 'rm /var/tmp/big && echo ok >/var/tmp/small && cat /var/tmp/small'
	[ "$output" = ok ]
	stop obfd3
	[ "$(cat "$base/fs/root/var/tmp/small")" = ok ]
	umount "$base/fs"
}

@test "a tight ulimit on the caller (open files, processes): boot fails or works, and leaves nothing" {
	conf=$(make_subhost obfd4)
	for limit in "-n 12" "-u 40"; do
		run bash -c "ulimit $limit && exec '$TOP/overlay-boot' '$conf'"
		echo "ulimit $limit: $status: $output"
		if [ "$status" = 0 ]; then stop obfd4; fi
		settled obfd4
	done
	boot "$conf"
	stop obfd4
}
