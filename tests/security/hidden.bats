#!/usr/bin/env bats
# What a mount point hides stays hidden from a non-root caller, and a
# refusal comes before anything is made on the host. Each attack is shown
# working where the defence is missing.

load helpers
bats_require_minimum_version 1.5.0

# a new root with only the system's programs in it
MINIMAL="--ro-bind /usr /usr --ro-bind /bin /bin --ro-bind /lib /lib --ro-bind /lib64 /lib64"

# hidden_setup: H/dir/secret (readable by anyone) hidden under a tmpfs
# mounted on H/dir.
hidden_setup() {
	H=$BATS_TEST_TMPDIR/h
	mkdir -p "$H/dir"
	echo SECRET >"$H/dir/secret"
	chmod 755 "$H" "$H/dir"
	chmod 644 "$H/dir/secret"
	mount -t tmpfs -o mode=0755 obp-hide "$H/dir"
	when_finished umount "$H/dir"
	# the file is there, and hidden
	[ ! -e "$H/dir/secret" ]
}

@test "a file hidden under a tmpfs mount is not readable through a bind" {
	suid_setup
	hidden_setup
	for who in as_nobody; do
		# shellcheck disable=SC2086 # MINIMAL is a list of options
		run "$who" "$S/overlay-pivot" $MINIMAL -m "bind,$H,/x" --bind "$H" /y -- \
			/bin/sh -c 'cat /x/dir/secret /y/dir/secret 2>/dev/null; ls -A /x/dir /y/dir; echo done'
		echo "$output"
		[ "$status" -eq 0 ]
		[[ "$output" == *done* ]]
		[[ "$output" != *SECRET* ]]
	done
	# what the defence prevents: a bind without the mounts below it
	run unshare -m --propagation private sh -c "mount --bind '$H' '$W' && cat '$W/dir/secret'"
	[ "$output" = SECRET ]
}

@test "a file hidden under a tmpfs mount is not readable through an overlay" {
	suid_setup
	hidden_setup
	home_user
	as_nobody mkdir "$W/ov"
	as_user mkdir "$HOME_DIR/ov"
	for who in as_nobody as_user; do
		OV=$W/ov
		[ "$who" = as_nobody ] || OV=$HOME_DIR/ov
		run "$who" "$S/overlay-pivot" --tmp-overlay / / --dev /dev --overlay "$H" /o "$OV" \
			--tmp-overlay "$H" /t -o "/oo,lowerdir=$H,tmp" -- /bin/sh -c '
			for f in /o/dir/secret /t/dir/secret /oo/dir/secret "$0/dir/secret"; do
				cat "$f" 2>/dev/null || echo "hidden $f"
			done' "$H"
		echo "$output"
		[ "$status" -eq 0 ]
		[[ "$output" != *SECRET* ]]
		[ "$(grep -c '^hidden ' <<<"$output")" -eq 4 ]
	done
	# what the defence prevents: an overlay over a lower layer made without
	# the mounts below it (the clones the helper used to make as root)
	mkdir "$BATS_TEST_TMPDIR/u" "$BATS_TEST_TMPDIR/wk" "$BATS_TEST_TMPDIR/m"
	run unshare -m --propagation private sh -c "mount --bind '$H' '$W' &&
		mount -t overlay x -o 'lowerdir=$W,upperdir=$BATS_TEST_TMPDIR/u,workdir=$BATS_TEST_TMPDIR/wk' '$BATS_TEST_TMPDIR/m' &&
		cat '$BATS_TEST_TMPDIR/m/dir/secret'"
	[ "$output" = SECRET ]
}

@test "a refused OVERLAYDIR is left empty" {
	suid_setup
	# a directory the caller may write to but does not own
	D=$BATS_TEST_TMPDIR/shared
	mkdir -m 1777 "$D"
	run as_nobody "$S/ovroot" "$D" /bin/true
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$output" = "ovroot: OVERLAYDIR $D: not owned by you" ]
	[ -z "$(ls -A "$D")" ]
	# the same for a real user of /home, in another user's directory
	home_user
	chmod 777 "$W"
	run as_user "$S/ovroot" "$W" /bin/true
	[ "$status" -eq 1 ]
	[ "$output" = "ovroot: OVERLAYDIR $W: not owned by you" ]
	[ -z "$(ls -A "$W")" ]
}

@test "--pid-file is not created when an option is refused" {
	suid_setup
	run as_nobody "$S/overlay-pivot" --pid-file "$W/pid" --tmp-overlay / / --dev-bind /dev /d -- /bin/true
	[ "$status" -eq 1 ]
	[ "$output" = "overlay-pivot: --dev-bind: only root may use it" ]
	[ ! -e "$W/pid" ]
}
