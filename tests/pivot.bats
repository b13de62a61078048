#!/usr/bin/env bats
# overlay-pivot as root: options, processes, the old root gone.
# Real overlays, real namespaces; everything in private mount namespaces.

load helpers
bats_require_minimum_version 1.5.0

P="$BATS_TEST_DIRNAME/../src/overlay-pivot"

# live_ns SCRIPT: run SCRIPT with sh in a private mount namespace where
# $LIVE is an overlay of / (upper and work under the test's temp dir).
live_ns() {
	T=$BATS_TEST_TMPDIR
	mkdir -p "$T/u" "$T/w" "$T/live"
	P=$P T=$T LIVE=$T/live unshare -m --propagation private sh -c \
		'mount -t overlay overlay -o "lowerdir=/,upperdir=$T/u,workdir=$T/w" "$LIVE" || exit 99
		 '"$1"
}

@test "--version and --help" {
	run "$P" --version
	[ "$status" -eq 0 ]
	[ "$output" = "overlay-pivot 0.1" ]
	run "$P" --help
	[ "$status" -eq 0 ]
	[[ "$output" == Usage:\ overlay-pivot* ]]
	run "$BATS_TEST_DIRNAME/../src/ovroot" --help
	[ "$status" -eq 0 ]
	[[ "$output" == Usage:\ ovroot* ]]
}

@test "--help lists exactly the options of the man page" {
	local man="$BATS_TEST_DIRNAME/../man/overlay-pivot.adoc" o
	[ -f "$man" ]
	help_opts=$({ "$P" --help; "$BATS_TEST_DIRNAME/../src/ovroot" --help; } |
		grep -E '^  +-' | grep -oE -- '(^| )--?[a-zA-Z][a-zA-Z0-9-]*' | tr -d ' ' | sort -u)
	man_opts=$(grep -E '::$' "$man" | grep -oE -- '\*--?[a-zA-Z][a-zA-Z0-9-]*\*' | tr -d '*' | sort -u)
	[ -n "$help_opts" ]
	echo "help: $help_opts"
	echo "man: $man_opts"
	[ "$help_opts" = "$man_opts" ]
}

@test "usage errors: one line, exit 2; a failure: exit 1" {
	run "$P" --frobnicate -- /bin/true
	[ "$status" -eq 2 ]
	[ "$output" = "overlay-pivot: unknown option '--frobnicate' (see overlay-pivot --help)" ]
	run "$P" --bind /tmp
	[ "$status" -eq 2 ]
	[ "$output" = "overlay-pivot: --bind: needs 2 arguments (see overlay-pivot --help)" ]
	run "$BATS_TEST_DIRNAME/../src/ovroot" -x /tmp
	[ "$status" -eq 2 ]
	[ "$output" = "ovroot: unknown option '-x' (see ovroot --help)" ]
	run "$P" --hostname x -- /bin/true
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == *"needs --unshare-uts"* ]]
	run "$P" --root /nonexistent -- /bin/true
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == "overlay-pivot: --root /nonexistent: No such file or directory" ]]
}

@test "subhost invocation: namespaces, hostname, pid file, --exec-pid1, status" {
	ip netns add obtpv$$
	run live_ns '"$P" --netns /run/netns/obtpv'$$' --unshare-pid --unshare-ipc --unshare-uts \
		--unshare-time --unshare-cgroup --hostname pvtest --pid-file "$T/pid" \
		--exec-pid1 --root "$LIVE" --proc /proc --dev /dev -- /bin/sh -c \
		"echo pid=\$\$; hostname; ip -o link | wc -l; readlink /proc/self/ns/net; exit 7"'
	ip netns delete obtpv$$
	[ "$status" -eq 7 ]
	[ "${lines[0]}" = "pid=1" ]
	[ "${lines[1]}" = "pvtest" ]
	[ "${lines[2]}" = "1" ]
	[ "${lines[3]}" != "$(readlink /proc/self/ns/net)" ]
	pid=$(cat "$BATS_TEST_TMPDIR/pid")
	[[ "$pid" =~ ^[0-9]+$ ]]
	[ "$(wc -c <"$BATS_TEST_TMPDIR/pid")" -eq $((${#pid} + 1)) ]
}

@test "the pid file is written before the command runs, however late the parent writes it" {
	# strace holds each write of overlay-pivot's for 0.3 s, the pid file's
	# included: the command reads the file as its first act. A command that
	# tells its supervisor it is up (the reaper) must never let it find the
	# pid file still empty.
	T=$BATS_TEST_TMPDIR
	run live_ns 'timeout 30 strace -f -qq -o /dev/null -e trace=write \
		-e inject=write:delay_enter=300000 "$P" --unshare-pid \
		--pid-file "$T/pid" --root "$LIVE" --bind "$T" /mnt --proc /proc -- \
		/bin/sh -c "echo \"[\$(cat /mnt/pid)]\""'
	assert_status 0
	assert_output_has "[$(cat "$T/pid")]"
}

@test "without --exec-pid1 the command is pid 2 and pid 1 reaps orphans" {
	run live_ns '"$P" --unshare-pid --root "$LIVE" --proc /proc --dev /dev -- /bin/sh -c \
		"echo pid=\$\$; sh -c \"sleep 0.2 & sleep 0.1 & exit 0\"; sleep 1;
		 grep -l \"^State:.*Z\" /proc/[0-9]*/status | wc -l; exit 3"'
	[ "$status" -eq 3 ]
	[ "${lines[0]}" = "pid=2" ]
	[ "${lines[1]}" = "0" ]
}

@test "exit status: signals as 128+N, exec failures 127 and 126" {
	run "$P" --tmp-overlay / / -- /bin/sh -c 'kill -KILL $$'
	[ "$status" -eq 137 ]
	run -127 "$P" --tmp-overlay / / -- /nonexistent/cmd
	[ "$status" -eq 127 ]
	[[ "$output" == "overlay-pivot: exec /nonexistent/cmd: No such file or directory" ]]
	run "$P" --tmp-overlay / / -- /etc/passwd
	[ "$status" -eq 126 ]
}

@test "a script without #! runs under /bin/sh, by path and from PATH, as pid 1's child too" {
	printf 'echo ran "$@"\n' >"$BATS_TEST_TMPDIR/noshebang"
	chmod +x "$BATS_TEST_TMPDIR/noshebang"
	run "$P" --tmp-overlay / / -- "$BATS_TEST_TMPDIR/noshebang" a 'b c'
	[ "$status" -eq 0 ]
	[ "$output" = "ran a b c" ]
	PATH=$BATS_TEST_TMPDIR:$PATH run "$P" --unshare-pid --tmp-overlay / / -- noshebang d
	[ "$status" -eq 0 ]
	[ "$output" = "ran d" ]
	# PATH search keeps EACCES when nothing else is found
	chmod -x "$BATS_TEST_TMPDIR/noshebang"
	PATH=$BATS_TEST_TMPDIR run "$P" --unshare-pid --tmp-overlay / / -- noshebang
	[ "$status" -eq 126 ]
	[[ "$output" == *"noshebang: Permission denied" ]]
}

@test "SIGTERM, SIGINT and SIGHUP are forwarded; the parent keeps only fds 0-2" {
	local sig
	for sig in TERM INT HUP; do
		"$P" --unshare-pid --tmp-overlay / / --proc /proc -- /bin/sh -c \
			"trap 'exit 42' $sig; echo ready >&7; while :; do sleep 0.05; done" \
			7>"$BATS_TEST_TMPDIR/seven" &
		pid=$!
		for _ in $(seq 50); do
			grep -q ready "$BATS_TEST_TMPDIR/seven" 2>/dev/null && break
			sleep 0.1
		done
		grep -q ready "$BATS_TEST_TMPDIR/seven"
		fds=$(ls /proc/$pid/fd | sort -n | tr '\n' ' ')
		[ "$fds" = "0 1 2 " ]
		kill -s "$sig" "$pid"
		st=0
		wait "$pid" || st=$?
		[ "$st" -eq 42 ]
		rm -f "$BATS_TEST_TMPDIR/seven"
	done
}

@test "the host is unreachable: /proc/1/root, nsenter -t 1 -m, chroot escape" {
	mkdir -p "$BATS_TEST_TMPDIR/hm"
	# the mark is on a tmpfs of the host side only (not in LIVE's lower)
	run live_ns 'mount -t tmpfs none "$T/hm" && echo host-only > "$T/hm/mark" || exit 98
		echo new-root > "$LIVE/newmark"; "$P" --unshare-pid --root "$LIVE" --proc /proc --dev /dev -- /bin/sh -c "
		ls /proc/1/root/newmark; nsenter -t 1 -m cat /newmark;
		mkdir -p /jail; perl -e \"chroot q(/jail) or die; chdir q(..) for 1..64; chroot q(.) or die;
			print -e q($T/hm/mark) ? qq(ESCAPED\n) : qq(contained\n);
			print -e q(/newmark) ? qq(newroot\n) : qq(lost\n)\";
		grep -vc \" /dev\" /proc/self/mountinfo"'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/proc/1/root/newmark" ]
	[ "${lines[1]}" = "new-root" ]
	[ "${lines[2]}" = "contained" ]
	[ "${lines[3]}" = "newroot" ]
	# the old root and all its mounts are gone: the new root and /proc
	[ "${lines[4]}" = "2" ]
	[[ "$output" != *ESCAPED* ]]
}

@test "bind, ro-bind, tmpfs, dev, mqueue, remount-ro, chdir, cwd kept" {
	T=$BATS_TEST_TMPDIR
	mkdir -p "$T/src/sub" "$T/ro"
	echo data >"$T/src/file"
	echo ro >"$T/ro/file"
	cd "$T"
	run "$P" --unshare-pid --unshare-ipc --tmp-overlay / / --proc /proc --bind "$T/src" /b \
		--ro-bind "$T/ro" /r --ro-bind "$T/src/file" /etc/single --tmpfs /t --dev /dev \
		--mqueue /dev/mqueue --tmpfs /made/ro --remount-ro /made/ro -- /bin/sh -c '
		pwd; cat /b/file; echo w > /b/new && echo bind-writable
		{ echo w > /r/x; } 2>/dev/null || echo ro-refused
		cat /etc/single; echo x > /t/x && echo tmpfs-ok
		echo x > /dev/null && head -c 4 /dev/zero | wc -c
		touch /made/ro/x 2>/dev/null || echo remount-ro-ok
		grep -c " /dev/mqueue " /proc/self/mountinfo'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$T" ]
	[ "${lines[1]}" = "data" ]
	[ "${lines[2]}" = "bind-writable" ]
	[ "${lines[3]}" = "ro-refused" ]
	[ "${lines[4]}" = "data" ]
	[ "${lines[5]}" = "tmpfs-ok" ]
	[ "${lines[6]}" = "4" ]
	[ "${lines[7]}" = "remount-ro-ok" ]
	[ "${lines[8]}" = "1" ]
	[ -f "$T/src/new" ]
	run "$P" --tmp-overlay / / --chdir /etc -- /bin/pwd
	[ "$output" = "/etc" ]
	run "$P" --tmp-overlay / / --remount-ro /etc -- /bin/true
	[ "$status" -eq 1 ]
	[ "$output" = "overlay-pivot: --remount-ro /etc: not a mount point" ]
}

@test "-m: generic mounts, bind shortcuts and mkdir=never|maybe|require" {
	T=$BATS_TEST_TMPDIR
	mkdir -p "$T/src"
	echo hi >"$T/src/f"
	run "$P" --tmp-overlay / / --proc /proc -m "tmpfs,none,/m1,size=1m,mode=0700" -m "bind,$T/src,/m2,ro" \
		-m "rbind,$T/src,/m3,mkdir=require" -- /bin/sh -c '
		grep " /m1 " /proc/self/mountinfo | grep -c size=1024k; stat -c %a /m1
		cat /m2/f; { echo x > /m2/g; } 2>/dev/null || echo ro; cat /m3/f'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "1" ]
	[ "${lines[1]}" = "700" ]
	[ "${lines[2]}" = "hi" ]
	[ "${lines[3]}" = "ro" ]
	[ "${lines[4]}" = "hi" ]
	run "$P" --tmp-overlay / / -m "tmpfs,none,/nonexistent-dir,mkdir=never" -- /bin/true
	[ "$status" -eq 1 ]
	[[ "$output" == *"mkdir=never"* ]]
	run "$P" --tmp-overlay / / -m "tmpfs,none,/etc,mkdir=require" -- /bin/true
	[ "$status" -eq 1 ]
	[[ "$output" == *"exists (mkdir=require)"* ]]
	run "$P" --tmp-overlay / / -m "tmpfs,none,/x,mkdir=sometimes" -- /bin/true
	[ "$status" -eq 2 ]
	[[ "$output" == "overlay-pivot: -m: mkdir= takes never, maybe or require, not 'sometimes'"* ]]
}

@test "--overlay keeps changes in DIR/layer; --tmp-overlay forgets them" {
	T=$BATS_TEST_TMPDIR
	mkdir -p "$T/low" "$T/ov"
	echo base >"$T/low/f"
	run "$P" --tmp-overlay / / --overlay "$T/low" /data "$T/ov" -- /bin/sh -c 'echo changed > /data/f; cat /data/f'
	[ "$status" -eq 0 ]
	[ "$output" = "changed" ]
	[ "$(cat "$T/low/f")" = "base" ]
	[ "$(cat "$T/ov/layer/f")" = "changed" ]
	[ -d "$T/ov/work" ]
	run "$P" --tmp-overlay / / --tmp-overlay "$T/low" /data -- /bin/sh -c 'echo gone > /data/f; cat /data/f'
	[ "$output" = "gone" ]
	[ "$(cat "$T/low/f")" = "base" ]
}

@test "-o: lowerdir list, upperdir/workdir, tmp, shadow, copyfrom, escapes" {
	T=$BATS_TEST_TMPDIR
	mkdir -p "$T/l1" "$T/l2" "$T/up" "$T/wk" "$T/tpl" "$T/a:b,c"
	echo one >"$T/l1/a"
	echo two >"$T/l2/a"
	echo two >"$T/l2/b"
	echo tpl >"$T/tpl/t"
	echo odd >"$T/a:b,c/odd"
	run "$P" --tmp-overlay / / -o "/x,lowerdir=$T/l1:$T/l2,upperdir=$T/up,workdir=$T/wk" -- \
		/bin/sh -c 'cat /x/a /x/b; echo new > /x/c'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "one" ]
	[ "${lines[1]}" = "two" ]
	[ "$(cat "$T/up/c")" = "new" ]
	run "$P" --tmp-overlay / / -o "/y,lowerdir=$T/l1,tmp,copyfrom=$T/tpl" -- \
		/bin/sh -c 'cat /y/a /y/t; echo z > /y/z; cat /y/z'
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'one\ntpl\nz')" ]
	[ ! -e "$T/l1/z" ]
	run "$P" --tmp-overlay / / -o "/etc,shadow,tmp" -- /bin/sh -c 'echo s > /etc/shadowtest; cat /etc/hostname >/dev/null && cat /etc/shadowtest'
	[ "$status" -eq 0 ]
	[ "$output" = "s" ]
	[ ! -e /etc/shadowtest ]
	esc=${T//,/\\,}
	esc=${esc//:/\\:}
	run "$P" --tmp-overlay / / -o "/z,lowerdir=$esc/a\\:b\\,c,tmp" -- /bin/cat /z/odd
	[ "$status" -eq 0 ]
	[ "$output" = "odd" ]
	run "$P" --tmp-overlay / / -o "/z,tmp" -- /bin/true
	[ "$status" -eq 2 ]
	[[ "$output" == *"needs lowerdir= or shadow"* ]]
}

@test "--squash and --squash-overlay: read-only image, loop released" {
	command -v mksquashfs >/dev/null || skip "mksquashfs (squashfs-tools) is not installed"
	T=$BATS_TEST_TMPDIR
	mkdir -p "$T/img" "$T/ov"
	echo squashed >"$T/img/f"
	mksquashfs "$T/img" "$T/i.sqfs" -quiet -noappend >/dev/null
	run "$P" --tmp-overlay / / --squash "$T/i.sqfs" /sq -- /bin/sh -c 'cat /sq/f; touch /sq/x 2>/dev/null || echo ro'
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'squashed\nro')" ]
	run "$P" --tmp-overlay / / --squash-overlay "$T/i.sqfs" /sq "$T/ov" -- /bin/sh -c 'echo w >> /sq/f; cat /sq/f'
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'squashed\nw')" ]
	[ "$(cat "$T/ov/layer/f")" = "$(printf 'squashed\nw')" ]
	run "$P" --tmp-overlay / / --squash /etc/passwd /sq -- /bin/true
	[ "$status" -eq 1 ]
	[[ "$output" == *"not a squashfs image"* || "$output" == *"squash"* ]]
}

@test "-N: a network namespace with only lo, up" {
	run "$P" -N --tmp-overlay / / -- /bin/sh -c 'ip -o link show | wc -l; ip -o link show lo'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "1" ]
	[[ "${lines[1]}" == *"LOOPBACK,UP"* ]]
}

@test "ovroot: an overlay of / and of a filesystem mounted below it, cwd and uid kept" {
	T=$BATS_TEST_TMPDIR
	mkdir -p "$T/sub" "$T/work"
	cd "$T/work"
	run env OV="$BATS_TEST_DIRNAME/../src/ovroot" T="$T" unshare -m --propagation private sh -c '
		mount -t tmpfs none "$T/sub" && echo orig > "$T/sub/f" || exit 99
		"$OV" "$T/ov" /bin/sh -c "pwd; id -u; echo new > \"$T/sub/f\"; echo root > \"$T/rootfile\";
			cat \"$T/sub/f\"; test -c /dev/null && test -e /proc/self/status && test -d /sys/kernel && test -d /run && echo reachable"
		cat "$T/sub/f"'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$T/work" ]
	[ "${lines[1]}" = "0" ]
	[ "${lines[2]}" = "new" ]
	[ "${lines[3]}" = "reachable" ]
	[ "${lines[4]}" = "orig" ]
	[ ! -e "$T/rootfile" ]
	[ -f "$T/ov/layer$T/rootfile" ]
	enc=$(printf '%s' "${T#/}/sub" | sed 's,/,%2F,g')
	[ "$(cat "$T/ov/mounts/$enc/layer/f")" = "new" ]
	run "$BATS_TEST_DIRNAME/../src/ovroot" "$T/ov2" /bin/sh -c 'echo $0'
	[ "$output" = "/bin/sh" ]
}
