#!/usr/bin/env bats
# A set-user-id overlay-pivot run by an unprivileged caller: privileges
# dropped for good, no set-id or file-capability gain, root-only options
# refused, no TIOCSTI. Each test also shows the attack working where the
# defence is missing.

load helpers
bats_require_minimum_version 1.5.0

@test "privileges are dropped for good: ids, groups, capabilities, no_new_privs" {
	suid_setup
	run as_nobody "$S/overlay-pivot" --unshare-pid --tmp-overlay / / --proc /proc --dev /dev -- /bin/sh -c '
		grep -E "^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):" /proc/self/status |
			tr -s "\t " " "
		perl -e "\$> = 0; \$< = 0; print \$> == 0 || \$< == 0 ? qq(ROOT\n) : qq(setuid-failed\n)"'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "Uid: 65534 65534 65534 65534" ]
	[ "${lines[1]}" = "Gid: 65534 65534 65534 65534" ]
	[ "${lines[2]}" = "Groups: " ] || [ "${lines[2]}" = "Groups:" ]
	[ "${lines[3]}" = "CapInh: 0000000000000000" ]
	[ "${lines[4]}" = "CapPrm: 0000000000000000" ]
	[ "${lines[5]}" = "CapEff: 0000000000000000" ]
	[ "${lines[6]}" = "CapBnd: 0000000000000000" ]
	[ "${lines[7]}" = "CapAmb: 0000000000000000" ]
	[ "${lines[8]}" = "NoNewPrivs: 1" ]
	[ "${lines[9]}" = "setuid-failed" ]
	# without dropping, a set-user-id program can become root again
	cp /usr/bin/perl "$S/suid-perl"
	chmod 4755 "$S/suid-perl"
	run as_nobody "$S/suid-perl" -e '$< = 0; print $< == 0 ? qq(ROOT\n) : qq(setuid-failed\n)'
	[ "$output" = "ROOT" ]
}

# PTRACE: perl code that attaches to the pid in its first argument and
# says whether the kernel let it.
PTRACE='
	my $r = syscall(101, 16, $ARGV[0] + 0, 0, 0);
	if ($r == 0) { print "attached\n"; syscall(101, 17, $ARGV[0] + 0, 0, 0) }
	else { print "refused: $!\n" }'

@test "the helper is never dumpable or readable by the caller while privileged" {
	suid_setup
	# (setpriv itself, not a subshell, so that $! is the helper)
	setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups "$S/overlay-pivot" --pid-file "$W/pid" \
		--unshare-pid --tmp-overlay / / --proc /proc -- /bin/sleep 3 &
	helper=$!
	for _ in $(seq 50); do [ -s "$W/pid" ] && break; sleep 0.1; done
	child=$(cat "$W/pid")
	# the helper (privileged in the namespaces it made) and its pid 1
	# not dumpable: its /proc files belong to root
	[ "$(stat -c %u "/proc/$helper/environ")" = 0 ]
	run as_nobody cat "/proc/$helper/environ"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Permission denied"* ]]
	# PTRACE_ATTACH (16): the pid must be a number ("+ 0"), or perl
	# passes a pointer to the string and the kernel answers ESRCH
	run as_nobody perl -e "$PTRACE" "$helper"
	[ "$output" = "refused: Operation not permitted" ]
	run as_nobody perl -e "$PTRACE" "$child"
	[ "$output" = "refused: Operation not permitted" ]
	run as_nobody cat "/proc/$child/environ"
	[ "$status" -ne 0 ]
	# an ordinary process of the caller is readable and can be traced:
	# the checks are real
	setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups sleep 3 &
	plain=$!
	sleep 0.2
	run as_nobody cat "/proc/$plain/environ"
	[ "$status" -eq 0 ]
	run as_nobody perl -e "$PTRACE" "$plain"
	# the attach's SIGSTOP may outlive perl: only SIGKILL ends a
	# stopped process, and a plain wait on it would never return
	kill -KILL "$plain" 2>/dev/null || true
	kill "$helper" 2>/dev/null || true
	wait
	[ "$output" = "attached" ]
}

@test "no set-user-id or file-capability gain through any mount; all nosuid,nodev" {
	suid_setup
	# the attack works where set-id is honoured
	run as_nobody "$L/suid-id" -u
	[ "$output" = "0" ]
	run as_nobody "$L/cap-cat" /etc/shadow
	[ "$status" -eq 0 ]
	[[ "$output" == root:* ]]
	mkdir -p "$W/img"
	cp -p "$L/suid-id" "$W/img/"
	chown "$NOBODY" "$W/img/suid-id"
	chmod 4755 "$W/img/suid-id"
	nobody_squash "$W/img" "$W/img.sqfs"
	as_nobody mkdir "$W/ov" "$W/ov2"
	run as_nobody "$S/overlay-pivot" --unshare-pid --tmp-overlay / / --proc /proc --dev /dev \
		--bind "$L" /b --ro-bind "$L" /rb -m "rbind,$L,/m" --overlay "$L" /o "$W/ov" \
		--tmp-overlay "$L" /t -o "/oo,lowerdir=$L,tmp" --squash "$W/img.sqfs" /sq \
		--squash-overlay "$W/img.sqfs" /so "$W/ov2" -- /bin/sh -c '
		for d in /b /rb /m /o /t /oo /sq /so; do
			echo "$d $($d/suid-id -u)"
		done
		for d in /b /rb /m /o /t /oo; do
			$d/cap-cat /etc/shadow >/dev/null 2>&1 && echo "$d READ-SHADOW" || echo "$d no-capability"
		done
		echo mounts
		while read -r _ _ _ _ mp opts _; do
			case ,$opts, in *,nosuid,*) ;; *) echo "BAD $mp $opts" ;; esac
			# the device nodes that --dev binds, and its own devpts
			case $mp in /dev/null|/dev/zero|/dev/full|/dev/random|/dev/urandom|/dev/tty|/dev/pts) continue ;; esac
			case ,$opts, in *,nodev,*) ;; *) echo "BAD $mp $opts" ;; esac
		done < /proc/self/mountinfo'
	echo "$output"
	[ "$status" -eq 0 ]
	for d in /b /rb /m /o /t /oo; do
		grep -qx "$d 65534" <<<"$output"
		grep -qx "$d no-capability" <<<"$output"
	done
	grep -qx "/sq 65534" <<<"$output"
	grep -qx "/so 65534" <<<"$output"
	[[ "$output" != *BAD* ]]
	[[ "$output" == *mounts* ]]
}

@test "root-only options are refused for the caller" {
	suid_setup
	ip netns add "obtpv$$"
	run as_nobody "$S/overlay-pivot" --netns "/run/netns/obtpv$$" --tmp-overlay / / -- /bin/true
	ip netns delete "obtpv$$"
	[ "$status" -eq 1 ]
	[ "$output" = "overlay-pivot: --netns: only root may use it" ]
	run as_nobody "$S/overlay-pivot" --tmp-overlay / / --dev-bind /dev /d -- /bin/true
	[ "$status" -eq 1 ]
	[ "$output" = "overlay-pivot: --dev-bind: only root may use it" ]
	for spec in devtmpfs,none,/d ext4,/dev/vda,/d overlay,none,/d,lowerdir=/etc squashfs,/dev/loop0,/d; do
		run as_nobody "$S/overlay-pivot" --tmp-overlay / / -m "$spec" -- /bin/true
		[ "$status" -eq 1 ]
		[[ "$output" == "overlay-pivot: -m ${spec%%,*}: only root may mount this filesystem type" ]]
	done
	# the same through ovroot: a minimal /dev, never the host's
	run as_nobody "$S/ovroot" "$W/ovr" /bin/sh -c 'ls /dev | wc -l; test -e /dev/vda && echo DISK; true'
	[ "$status" -eq 0 ]
	[[ "$output" != *DISK* ]]
	# what the refusal prevents: a devtmpfs gives the raw disks
	run "$S/overlay-pivot" --tmp-overlay / / -m devtmpfs,none,/d -- /bin/sh -c 'test -b /d/vda && echo DISK'
	[ "$output" = "DISK" ]
}

@test "TIOCSTI from inside cannot push input into the caller's terminal" {
	suid_setup
	cat >"$W/sti.pl" <<-'EOF'
		my $c = "x";
		print ioctl(STDIN, 0x5412, $c) ? "PUSHED\n" : "refused: $!\n";
	EOF
	chmod 644 "$W/sti.pl"
	# the attack, on the caller's own terminal
	run script -qec "setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups perl $W/sti.pl" /dev/null
	[[ "$output" == *PUSHED* ]]
	run script -qec "setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups $S/overlay-pivot --tmp-overlay / / -- perl $W/sti.pl" /dev/null
	[[ "$output" == *"refused: Operation not permitted"* ]]
	[[ "$output" != *PUSHED* ]]
	run script -qec "setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups $S/ovroot $W/ovr perl $W/sti.pl" /dev/null
	[[ "$output" == *"refused: Operation not permitted"* ]]
}

@test "without the set-user-id bit: an unprivileged user namespace, same rules" {
	suid_setup
	cp "$S/overlay-pivot" "$S/plain"
	chmod 0755 "$S/plain"
	[ ! -u "$S/plain" ]
	run as_nobody "$S/plain" --unshare-pid --ro-bind /usr /usr --ro-bind /bin /bin \
		--ro-bind /lib /lib --ro-bind /lib64 /lib64 --ro-bind /etc /etc --proc /proc \
		--dev /dev -o "/t,lowerdir=/etc,tmp" -- /bin/sh -c '
		id -u; echo w > /t/new && cat /t/new; grep -E "^(CapEff|NoNewPrivs):" /proc/self/status | tr -s "\t " " "
		"$0" -e "\$< = 0; print \$< == 0 ? qq(ROOT\n) : qq(setuid-failed\n)"' /usr/bin/perl
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "65534" ]
	[ "${lines[1]}" = "w" ]
	[ "${lines[2]}" = "CapEff: 0000000000000000" ]
	[ "${lines[3]}" = "NoNewPrivs: 1" ]
	[ "${lines[4]}" = "setuid-failed" ]
	# FUSE, where /dev/fuse is root's alone
	[ "$(stat -c %a /dev/fuse)" = 600 ] || skip "/dev/fuse is not 0600 here"
	run as_nobody "$S/plain" --tmp-overlay / / -- /bin/true
	[ "$status" -eq 1 ]
	[ "$output" = "overlay-pivot: --tmp-overlay /: a non-root caller's is served by FUSE, and /dev/fuse: Permission denied (overlay-pivot installed set-user-id root opens it)" ]
	run as_nobody "$S/plain" --squash /etc/passwd /x -- /bin/true
	[ "$status" -eq 1 ]
	[[ "$output" == *"and /dev/fuse: Permission denied (overlay-pivot installed set-user-id root opens it)" ]]
	run as_nobody "$S/plain" --dev-bind /dev /d -- /bin/true
	[ "$output" = "overlay-pivot: --dev-bind: only root may use it" ]
}

@test "the root-only checks live where the mounts are made, not only in the parser" {
	command -v cc >/dev/null || skip "no C compiler"
	top=$BATS_TEST_DIRNAME/../..
	# a driver that hands the mount code a configuration directly,
	# bypassing the argument parser and its checks
	cc -std=c11 -O2 -D_GNU_SOURCE -I"$top/src" -o "$BATS_TEST_TMPDIR/bypass" \
		"$top/tests/security/bypass.c" "$top"/src/pivot-*.c "$top/src/msg.c"
	run "$BATS_TEST_TMPDIR/bypass" user dev-bind
	[ "$status" -eq 1 ]
	[ "$output" = "overlay-pivot: --dev-bind: only root may use it" ]
	run "$BATS_TEST_TMPDIR/bypass" user devtmpfs
	[ "$status" -eq 1 ]
	[ "$output" = "overlay-pivot: -m devtmpfs: only root may mount this filesystem type" ]
	# the same configurations are mounted when the caller is root
	run "$BATS_TEST_TMPDIR/bypass" root dev-bind
	[ "$output" = "mounted" ]
	run "$BATS_TEST_TMPDIR/bypass" root devtmpfs
	[ "$output" = "mounted" ]
}

@test "the set-user-id helper is a static PIE: no loader, its code at a new address in each run" {
	suid_setup
	run readelf -lh "$S/overlay-pivot"
	[[ "$output" == *"DYN (Position-Independent Executable file)"* ]]
	[[ "$output" != *INTERP* ]]
	local bases= pid base i n
	for i in 1 2 3; do
		# setpriv itself, not the as_nobody function: $! is then the helper
		setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups \
			"$S/overlay-pivot" --tmp-overlay / / -- sleep 30 &
		pid=$!
		base=
		for n in $(seq 50); do
			base=$(awk -v f="$S/overlay-pivot" '$6 == f {print $1; exit}' "/proc/$pid/maps" 2>/dev/null) || true
			[ -n "$base" ] && break
			sleep 0.05
		done
		kill "$pid"
		wait "$pid" || true
		[ -n "$base" ]
		bases="$bases${base%%-*}
"
	done
	# three runs, three different load addresses
	[ "$(printf '%s' "$bases" | sort -u | wc -l)" -eq 3 ]
}
