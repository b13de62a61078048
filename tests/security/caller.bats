#!/usr/bin/env bats
# Acting as the caller: every path the caller names is opened by a child
# that has become the caller entirely (ids, groups, no capabilities), so
# the answer is the one the caller would get, /proc included. Each test
# also shows the difference where the helper acts with more.

load helpers
bats_require_minimum_version 1.5.0

# same_answer OUT1 PATH1 OUT2 PATH2: the two outputs, with their paths
# replaced by PATH, are the same.
same_answer() {
	local a=${1//$2/PATH} b=${3//$4/PATH}
	echo "unreadable: $a"
	echo "missing:    $b"
	[ "$a" = "$b" ]
}

@test "the /proc oracle: a root process's maps answers as a missing file" {
	suid_setup
	sleep 60 &
	victim=$!
	# the caller's own attempt: the file exists, reading it is refused
	run as_nobody cat "/proc/$victim/maps"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Permission denied"* ]]
	run as_nobody "$S/overlay-pivot" --squash "/proc/$victim/maps" /x -- /bin/true
	out1=$output st1=$status
	run as_nobody "$S/overlay-pivot" --squash "/proc/$victim/no-such" /x -- /bin/true
	kill "$victim"
	wait "$victim" || true
	[ "$st1" -eq 1 ]
	[ "$status" -eq 1 ]
	same_answer "$out1" "/proc/$victim/maps" "$output" "/proc/$victim/no-such"
}

@test "the /proc oracle: a 0600 file under /proc/sys answers as a missing file" {
	suid_setup
	f=/proc/sys/kernel/cad_pid
	[ "$(stat -c %a "$f")" = 600 ]
	run as_nobody cat "$f"
	[[ "$output" == *"Permission denied"* ]]
	run as_nobody "$S/overlay-pivot" --squash "$f" /x -- /bin/true
	out1=$output
	[ "$status" -eq 1 ]
	run as_nobody "$S/overlay-pivot" --squash /proc/sys/kernel/no-such /x -- /bin/true
	[ "$status" -eq 1 ]
	same_answer "$out1" "$f" "$output" /proc/sys/kernel/no-such
}

@test "--pid-file is opened as the caller: a root-only file is refused as the caller's own open is" {
	suid_setup
	f=/proc/sys/kernel/domainname
	before=$(cat "$f")
	run as_nobody sh -c "echo x > $f"
	[[ "$output" == *"Permission denied"* ]]
	run as_nobody "$S/overlay-pivot" --pid-file "$f" --tmp-overlay / / -- /bin/true
	echo "$output"
	[ "$(cat "$f")" = "$before" ]
	[ "$status" -eq 1 ]
	[ "$output" = "overlay-pivot: --pid-file $f: Permission denied" ]
}

@test "--pid-file is created by the caller, owned by the caller" {
	suid_setup
	run as_nobody "$S/overlay-pivot" --pid-file "$W/pid" --tmp-overlay / / -- /bin/true
	[ "$status" -eq 0 ]
	run stat -c '%u %g' "$W/pid"
	[ "$output" = "$NOBODY $NOBODY" ]
	grep -Eqx '[0-9]+' "$W/pid"
}

@test "acting as the caller uses the caller's supplementary groups" {
	suid_setup
	G=$BATS_TEST_TMPDIR/grp
	mkdir -p "$G/dir"
	chgrp -R 4242 "$G"
	chmod 750 "$G" "$G/dir"
	# without the group: refused; with it: allowed, as for the caller itself
	run as_nobody "$S/overlay-pivot" --tmp-overlay / / --ro-bind "$G/dir" /x -- /bin/true
	[ "$status" -eq 1 ]
	[[ "$output" == *"does not exist or is not readable by you"* ]]
	run setpriv --reuid="$NOBODY" --regid="$NOBODY" --groups=4242 \
		"$S/overlay-pivot" --tmp-overlay / / --ro-bind "$G/dir" /x -- /bin/true
	echo "$output"
	[ "$status" -eq 0 ]
}
