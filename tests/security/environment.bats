#!/usr/bin/env bats
# The caller's environment cannot steer a set-user-id overlay-pivot:
# LD_PRELOAD, LIBMOUNT_*, TMPDIR, files or symlinks planted in /tmp.
# Each test also shows the same environment steering a program that is
# not protected.

load helpers
bats_require_minimum_version 1.5.0

@test "LD_PRELOAD and LD_LIBRARY_PATH are not honoured with privilege" {
	suid_setup
	command -v cc >/dev/null || skip "no C compiler"
	cat >"$W/evil.c" <<-'EOF'
		#include <stdio.h>
		#include <unistd.h>
		__attribute__((constructor)) static void evil(void)
		{
			char p[512];
			snprintf(p, sizeof p, "%s/preload-%d", MARKDIR, (int)geteuid());
			FILE *f = fopen(p, "w");
			if (f)
				fclose(f);
		}
	EOF
	cc -shared -fPIC -DMARKDIR="\"$W\"" -o "$W/evil.so" "$W/evil.c"
	chmod 755 "$W/evil.so"
	# the attack works on a program without privilege
	as_nobody env LD_PRELOAD="$W/evil.so" /bin/true
	[ -e "$W/preload-65534" ]
	rm -f "$W"/preload-*
	run as_nobody env LD_PRELOAD="$W/evil.so" LD_LIBRARY_PATH="$W" \
		"$S/overlay-pivot" --unshare-pid --tmp-overlay / / --proc /proc -- /bin/sh -c 'echo "pre=${LD_PRELOAD:-unset}"'
	[ "$status" -eq 0 ]
	[ ! -e "$W/preload-0" ]
	# glibc drops them for a set-user-id program: the command does not
	# get them either
	[ "$output" = "pre=unset" ]
	[ -z "$(ls "$W" | grep preload)" ]
}

@test "LIBMOUNT_* variables are ignored: no libmount, no effect" {
	suid_setup
	run ldd "$S/overlay-pivot"
	[[ "$output" != *libmount* ]]
	# the variables do steer a libmount user
	run as_nobody env LIBMOUNT_DEBUG=all findmnt -n /
	[[ "$output" == *"libmount:"* ]]
	run as_nobody env LIBMOUNT_DEBUG=all LIBMOUNT_FSTAB="$W/fstab" LIBMOUNT_MTAB="$W/mtab" \
		LIBMOUNT_UTAB="$W/utab" "$S/overlay-pivot" --tmp-overlay / / -- /bin/echo ok
	[ "$status" -eq 0 ]
	[ "$output" = "ok" ]
	[ ! -e "$W/mtab" ] && [ ! -e "$W/utab" ]
}

@test "TMPDIR and /tmp are never used: no file is created or followed there" {
	suid_setup
	command -v strace >/dev/null || skip "strace is not installed"
	mkdir -p "$W/tmpdir"
	# what TMPDIR does to a program that uses it
	run env TMPDIR="$W/tmpdir" mktemp
	[[ "$output" == "$W/tmpdir/"* ]]
	rm -f "$W"/tmpdir/*
	# every path the helper touches before it runs the command (strace
	# drops the set-user-id bit: this is the same code as root's)
	cd /
	TMPDIR="$W/tmpdir" strace -f -qq -s 256 -o "$W/trace" \
		-e trace=%file,mount,move_mount,fsconfig,open_tree,pivot_root \
		"$BATS_TEST_DIRNAME/../../src/overlay-pivot" --tmp-overlay / / --proc /proc --dev /dev -- /bin/true
	sed -n '1,/execve("\/bin\/true"/p' "$W/trace" | grep -v '^[0-9]* *execve(' >"$W/before-exec"
	[ -s "$W/before-exec" ]
	run grep -E "$W/tmpdir|\"/tmp/" "$W/before-exec"
	[ "$status" -eq 1 ]
	# /tmp itself only as the staging mount point, never followed
	run grep '"/tmp"' "$W/before-exec"
	[[ "$output" == *O_NOFOLLOW* ]]
	[ -z "$(ls -A "$W/tmpdir")" ]
}

@test "files and symlinks planted in /tmp under every name it uses change nothing" {
	suid_setup
	V=$BATS_TEST_TMPDIR/victim
	mkdir -p "$V"
	chmod 1777 "$V"
	mkdir -p "$BATS_TEST_TMPDIR/plant"
	# a private /tmp (so the host's is untouched) with the helper in it
	run env V="$V" PL="$BATS_TEST_TMPDIR/plant" SRC="$S/overlay-pivot" unshare -m --propagation private sh -c '
		mount -t tmpfs -o mode=1777 none "$PL" || exit 99
		cp -p "$SRC" "$PL/overlay-pivot"
		mount --bind "$V" /mnt || exit 97
		mount --bind "$PL" /tmp || exit 98
		for n in newroot oldroot s sq 0 1 l0 upper work; do
			setpriv --reuid=65534 --regid=65534 --clear-groups ln -s /mnt "/tmp/$n"
		done
		setpriv --reuid=65534 --regid=65534 --clear-groups touch /tmp/overlay-pivot.lock /tmp/pivot
		# what a helper that used one of those names would do
		touch /tmp/newroot/probe
		setpriv --reuid=65534 --regid=65534 --clear-groups /tmp/overlay-pivot --unshare-pid \
			--tmp-overlay / / --proc /proc --tmpfs /t -o "/o,lowerdir=/etc,tmp" -- /bin/sh -c "ls /o/passwd; echo x > /t/x; echo in"'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/o/passwd" ]
	[ "${lines[1]}" = "in" ]
	[ "$(ls -A "$V")" = "probe" ]
}
