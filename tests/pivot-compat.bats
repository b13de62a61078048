#!/usr/bin/env bats
# overlayns's option forms, run against overlay-pivot: -o with the
# overlay's own mount options, -m ,SRC,DST,bind[,rec], glued -oSPEC and
# -mSPEC, errors for what a bind does not take, copyfrom that never
# overwrites the upper layer.

load helpers
bats_require_minimum_version 1.5.0

P="$BATS_TEST_DIRNAME/../src/overlay-pivot"

@test "-o passes the overlay's mount options; glued -oSPEC" {
	T=$BATS_TEST_TMPDIR
	mkdir -p "$T/a" "$T/b" "$T/u" "$T/w"
	echo a >"$T/a/f"
	run "$P" --tmp-overlay / / --proc /proc \
		"-o/o1,lowerdir=$T/a:$T/b,ro,noexec" \
		-o "/o2,lowerdir=$T/a,upperdir=$T/u,workdir=$T/w,index=off,redirect_dir=nofollow,noatime" -- /bin/sh -c '
		cat /o1/f; grep " /o1 " /proc/self/mountinfo | grep -c "ro,.*noexec"
		grep " /o2 " /proc/self/mountinfo | grep -o "noatime" | head -1
		grep " /o2 " /proc/self/mountinfo | grep -o "redirect_dir=nofollow"'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = a ]
	[ "${lines[1]}" = 1 ]
	[ "${lines[2]}" = noatime ]
	[ "${lines[3]}" = redirect_dir=nofollow ]
	run "$P" --tmp-overlay / / -o "/o,lowerdir=$T/a,tmp,bogus=1" -- /bin/true
	[ "$status" -eq 2 ]
	[ "$output" = "overlay-pivot: -o: unknown option 'bogus=1' (see overlay-pivot --help)" ]
}

@test "-o without upperdir or tmp needs two lower layers, and says so" {
	T=$BATS_TEST_TMPDIR
	mkdir -p "$T/a"
	run "$P" --tmp-overlay / / -o "/o,lowerdir=$T/a" -- /bin/true
	[ "$status" -eq 2 ]
	[ "$output" = "overlay-pivot: -o /o: without upperdir or tmp an overlay needs two lower layers (lowerdir=A:B, or one and shadow) (see overlay-pivot --help)" ]
}

@test "-m ,SRC,DST,bind[,rec]; glued -mSPEC; an unknown bind option is an error" {
	T=$BATS_TEST_TMPDIR
	mkdir -p "$T/src/sub"
	echo hi >"$T/src/f"
	mount -t tmpfs obp-sub "$T/src/sub"
	when_finished umount "$T/src/sub"
	echo below >"$T/src/sub/g"
	run "$P" --tmp-overlay / / -m ",$T/src,/m1,bind" "-m,$T/src,/m2,bind,rec" "-mbind,$T/src,/m3,ro" -- /bin/sh -c '
		cat /m1/f; cat /m1/sub/g 2>/dev/null || echo not-below; cat /m2/sub/g
		{ echo x > /m3/new; } 2>/dev/null || echo ro'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = hi ]
	[ "${lines[1]}" = not-below ]
	[ "${lines[2]}" = below ]
	[ "${lines[3]}" = ro ]
	run "$P" --tmp-overlay / / -m ",$T/src,/m,bind,frobnicate" -- /bin/true
	[ "$status" -eq 2 ]
	[ "$output" = "overlay-pivot: -m bind: unknown option 'frobnicate' (a bind takes mount flags, rec and mkdir= only) (see overlay-pivot --help)" ]
	run "$P" --tmp-overlay / / -m "tmpfs,none,/m,bind" -- /bin/true
	[ "$status" -eq 2 ]
}

@test "copyfrom never overwrites a file the upper layer has" {
	T=$BATS_TEST_TMPDIR
	mkdir -p "$T/lower" "$T/from" "$T/u" "$T/w"
	echo from >"$T/from/kept"
	echo from >"$T/from/new"
	echo upper >"$T/u/kept"
	run "$P" --tmp-overlay / / -o "/o,lowerdir=$T/lower,upperdir=$T/u,workdir=$T/w,copyfrom=$T/from" -- \
		/bin/sh -c 'cat /o/kept /o/new'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = upper ]
	[ "${lines[1]}" = from ]
	[ "$(cat "$T/u/kept")" = upper ]
}
