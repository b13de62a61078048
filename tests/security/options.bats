#!/usr/bin/env bats
# Options a non-root caller gets as bubblewrap gives them: --proc without
# a pid namespace of its own binds the host's /proc; --mqueue says what
# it needs; -o's overlay options that change the kernel's trust are
# root's.

load helpers
bats_require_minimum_version 1.5.0

MINIMAL="--ro-bind /usr /usr --ro-bind /bin /bin --ro-bind /lib /lib --ro-bind /lib64 /lib64"

@test "--proc without --unshare-pid: the host's /proc, its machine-wide entries read-only" {
	suid_setup
	home_user
	for who in as_nobody as_user; do
		# shellcheck disable=SC2086 # MINIMAL is a list of options
		run "$who" "$S/overlay-pivot" $MINIMAL --dev /dev --proc /proc -- /bin/sh -c '
			echo "pid1 $(cat /proc/1/comm 2>/dev/null || echo hidden)"
			echo "self $(grep -c . /proc/self/status)"
			{ echo x > /proc/sys/kernel/domainname; } 2>&1 | sed "s/.*: //"'
		echo "$output"
		[ "$status" -eq 0 ]
		# the host's pid 1, as the caller sees it on the host
		[ "${lines[0]}" = "pid1 $(cat /proc/1/comm)" ]
		[[ "${lines[1]}" == "self "* ]]
		[ "${lines[2]}" = "Read-only file system" ]
	done
	# with --unshare-pid, a proc of its own
	# shellcheck disable=SC2086
	run as_nobody "$S/overlay-pivot" $MINIMAL --unshare-pid --exec-pid1 --proc /proc -- /bin/cat /proc/1/comm
	[ "$status" -eq 0 ]
	[ "$output" = cat ]
	# what the bind is for: the kernel gives a new proc only to the
	# pid namespace's owner
	run as_nobody unshare -rm sh -c 'mount -t proc proc /proc'
	[ "$status" -ne 0 ]
}

@test "--mqueue without --unshare-ipc says what it needs, before anything is made" {
	suid_setup
	# shellcheck disable=SC2086
	run as_nobody "$S/overlay-pivot" --pid-file "$W/pid" $MINIMAL --mqueue /mq -- /bin/true
	[ "$status" -eq 1 ]
	[ "$output" = "overlay-pivot: --mqueue /mq: needs --unshare-ipc (a message queue file system belongs to an IPC namespace, and only a new one is yours)" ]
	[ ! -e "$W/pid" ]
	# shellcheck disable=SC2086
	run as_nobody "$S/overlay-pivot" $MINIMAL --unshare-ipc --mqueue /mq -- /bin/true
	[ "$status" -eq 0 ]
}

@test "-o: a non-root caller may not have the options that change the kernel's trust" {
	suid_setup
	as_nobody mkdir "$W/a" "$W/b" "$W/u" "$W/wk"
	for opt in metacopy=on redirect_dir=on index=on nfs_export=on verity=on; do
		run as_nobody "$S/overlay-pivot" --tmp-overlay / / -o "/o,lowerdir=$W/a,upperdir=$W/u,workdir=$W/wk,$opt" -- /bin/true
		echo "$output"
		[ "$status" -eq 1 ]
		[ "$output" = "overlay-pivot: -o /o: $opt: only root may use it (it changes how the kernel trusts the layers)" ]
	done
	run as_nobody "$S/overlay-pivot" --tmp-overlay / / -o "/o,lowerdir=$W/a,upperdir=$W/u,workdir=$W/wk,index=off,ro" -- /bin/true
	[ "$status" -eq 0 ]
}
