#!/usr/bin/env bats
# The C programs of src/ share one message module (msg.c: die, die_err,
# die_usage, warn), one new-mount-API shim (mount-api.h) and one exit-code
# convention: 2 for a command line that does not parse, 1 for a failure,
# as the shell commands. The reaper stays standalone (pid 1, static).

load helpers

# programs: the C programs but the reaper, as built in src/.
programs() {
	printf '%s\n' overlay-pivot share-into clean-root userns-make \
		upper-xattrs netns-view
}

@test "die and warn are defined once, in src/msg.c" {
	# a definition: a line that starts a function whose name says die
	# or warn (pv_die, die_err, a static warn...), not a declaration.
	# fs_die only adds the kernel's log of a mount to a die.
	run sh -c "cd '$TOP/src' && grep -nE '^[a-z].*[a-z_]*(die|warn)[a-z_]*\\(.*[^;]\$' *.c |
		grep -v -e '^msg\\.c:' -e '^reaper\\.c:' -e '^pivot-mount\\.c:[0-9]*:static void fs_die('"
	echo "$output"
	[ -z "$output" ]
	# nor a message function under another name (pivot-parse writes its
	# error into the caller's buffer: it never exits, for the fuzzer)
	run sh -c "cd '$TOP/src' && grep -nE 'v[sd]?n?printf\\(' *.c |
		grep -v -e '^msg\\.c:' -e '^reaper\\.c:' -e '^pivot-parse\\.c:'"
	echo "$output"
	[ -z "$output" ]
}

@test "the new mount API is declared once, in src/mount-api.h" {
	run sh -c "cd '$TOP/src' && grep -nE 'SYS_(fsopen|fsconfig|fsmount|move_mount|open_tree|mount_setattr)|#define (MOUNT_ATTR|OPEN_TREE|MOVE_MOUNT|FSOPEN|FSMOUNT|FSCONFIG)_|struct [a-z_]*mount_attr \\{' *.c *.h |
		grep -v '^mount-api\\.h:' | grep -v '^reaper\\.c:'"
	echo "$output"
	[ -z "$output" ]
}

@test "overlay-pivot switches to the caller's identity in one place" {
	# pivot-caller.c's caller_become, which reads back what it switched.
	# Not the caller: pivot-userns.c becomes root of a subhost's user
	# namespace, pivot-caps.c drops a root subhost's capabilities; a
	# check that root cannot be had again is no switch.
	run sh -c "cd '$TOP/src' && grep -nE '\\bset(res|fs|e)?[ug]id\\(|\\bsetgroups\\(|SYS_capset|PR_SET_KEEPCAPS' overlay-pivot.c pivot-*.c |
		grep -v -e '^pivot-caller\\.c:' -e '^pivot-userns\\.c:' -e '^pivot-caps\\.c:' -e 'setuid(0) == 0'"
	echo "$output"
	[ -z "$output" ]
}

# one_line PROG: $output is one line that begins with PROG's message name.
one_line() {
	local name
	case $1 in
	share-into) name=overlay-share ;;
	clean-root) name=overlay-clean-root ;;
	*) name=$1 ;;
	esac
	[ "${#lines[@]}" -eq 1 ] && [ "${output#"$name": }" != "$output" ] &&
		return 0
	printf 'expected one line beginning with "%s: ", got:\n%s\n' "$name" "$output" >&2
	return 1
}

@test "every C program but the reaper exits 2 on a usage error, with one line" {
	local p
	for p in $(programs) ovroot; do
		run "$TOP/src/$p"
		echo "$p: status $status: $output"
		assert_status 2
		one_line "$p"
	done
	for p in overlay-pivot ovroot share-into clean-root; do
		run "$TOP/src/$p" -Z
		echo "$p -Z: status $status: $output"
		assert_status 2
		one_line "$p"
	done
}

@test "every C program but the reaper exits 1 on a failure, with one line" {
	local missing=$BATS_TEST_TMPDIR/missing
	run "$TOP/src/overlay-pivot" --root "$missing" true
	assert_status 1
	one_line overlay-pivot
	run "$TOP/src/share-into" 2147483646 "$missing" /mnt
	assert_status 1
	one_line share-into
	run "$TOP/src/clean-root" "$missing" "$missing"
	assert_status 1
	one_line clean-root
	run "$TOP/src/userns-make" 3000000000 65536 "$missing/u"
	assert_status 1
	one_line userns-make
	run "$TOP/src/upper-xattrs" "$missing" user
	assert_status 1
	one_line upper-xattrs
	# netns-view passes over a namespace that is gone: it fails when it
	# cannot join one at all (not root)
	ip netns add obp-csource
	when_finished ip netns delete obp-csource
	run setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$TOP/src/netns-view" obp-csource
	assert_status 1
	one_line netns-view
}
