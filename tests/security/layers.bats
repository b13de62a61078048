#!/usr/bin/env bats
# A set-user-id overlay-pivot run by an unprivileged caller: copy-up,
# paths opened with the caller's permissions, upper/work ownership,
# symlinks and races, overlay option injection. Each test also shows the
# attack working where the defence is missing.

load helpers
bats_require_minimum_version 1.5.0

@test "copy-up leaves no root-owned set-id file or capability in an upper directory" {
	suid_setup
	mkdir -p "$W/img"
	printf '#!/bin/sh\nid -u\n' >"$W/img/evil"
	cp /usr/bin/id "$W/img/evilbin"
	cp /usr/bin/id "$W/img/evil4755"
	chown -R "$NOBODY" "$W/img"
	chmod 4777 "$W/img/evil" "$W/img/evilbin"
	chmod 4755 "$W/img/evil4755"
	nobody_squash "$W/img" "$W/img.sqfs"
	as_nobody mkdir "$W/ov1" "$W/ov2"
	# the attack: a root-mounted overlay over the caller's image (nosuid
	# lower) copies a root-owned set-user-id file up to the host
	mkdir -p "$BATS_TEST_TMPDIR/ctl/sq" "$BATS_TEST_TMPDIR/ctl/up" "$BATS_TEST_TMPDIR/ctl/wk" \
		"$BATS_TEST_TMPDIR/ctl/mnt"
	chmod 777 "$BATS_TEST_TMPDIR/ctl/up"
	C=$BATS_TEST_TMPDIR/ctl W=$W unshare -m --propagation private sh -c '
		mount -o loop,ro,nosuid "$W/img.sqfs" "$C/sq" &&
		mount -t overlay overlay -o "lowerdir=$C/sq,upperdir=$C/up,workdir=$C/wk" "$C/mnt" &&
		setpriv --reuid=65534 --regid=65534 --clear-groups touch "$C/mnt/evilbin"'
	[ "$(stat -c '%u %A' "$BATS_TEST_TMPDIR/ctl/up/evilbin")" = "0 -rwsrwxrwx" ]
	run as_nobody "$BATS_TEST_TMPDIR/ctl/up/evilbin" -u
	[ "$output" = "0" ]
	# the same through overlay-pivot, from a directory and from the image
	run as_nobody "$S/overlay-pivot" --tmp-overlay / / --dev /dev \
		--overlay "$L" /o "$W/ov1" --squash-overlay "$W/img.sqfs" /s "$W/ov2" -- /bin/sh -c '
		for f in /o/suid-id /o/suid-id-777 /o/cap-cat /s/evil /s/evilbin /s/evil4755; do
			touch "$f"; chmod u+s "$f"; echo x >> "$f"; chown 65534 "$f"
			setcap cap_setuid,cap_dac_override+ep "$f"
			cp -p "$f" "$f.copy"; mv "$f" "$f.moved"
		done 2>/dev/null
		echo done'
	[ "$status" -eq 0 ]
	[[ "$output" == *done ]]
	# nothing of root's; set-id bits only on the caller's own copies
	run find "$W/ov1/layer" "$W/ov2/layer" \( -uid 0 -o -gid 0 -o -perm /6000 ! -uid $NOBODY \) -print
	[ -z "$output" ]
	run getcap -r "$W/ov1/layer" "$W/ov2/layer"
	[ -z "$output" ]
}

@test "sources are opened with the caller's permissions; same error whether or not they exist" {
	suid_setup
	P=$BATS_TEST_TMPDIR/private
	mkdir -p "$P/dir"
	echo secret >"$P/file"
	chmod 700 "$P"
	as_nobody mkdir "$W/ov" "$W/up" "$W/wk"
	# each pair: an existing path the caller may not read, a missing one
	for pair in "$P/dir $P/nodir" "$P/file $P/nofile" "/etc/shadow /etc/no-shadow"; do
		set -- $pair
		for opt in --bind --ro-bind; do
			run as_nobody "$S/overlay-pivot" --tmp-overlay / / "$opt" "$1" /x -- /bin/true
			[ "$status" -eq 1 ]
			a=${output//$1/PATH}
			run as_nobody "$S/overlay-pivot" --tmp-overlay / / "$opt" "$2" /x -- /bin/true
			[ "$status" -eq 1 ]
			[ "${output//$2/PATH}" = "$a" ]
		done
	done
	for pair in "$P/dir $P/nodir" "/root /nonexistent-root"; do
		set -- $pair
		for args in "--overlay $1 /x $W/ov" "--tmp-overlay $1 /x" "-o /x,lowerdir=$1,tmp" \
			"--squash $1/img /x" "-o /x,lowerdir=/etc,upperdir=$1/up,workdir=$W/wk"; do
			run as_nobody "$S/overlay-pivot" --tmp-overlay / / $args -- /bin/true
			[ "$status" -eq 1 ]
			a=${output//$1/PATH}
			run as_nobody "$S/overlay-pivot" --tmp-overlay / / ${args//$1/$2} -- /bin/true
			[ "$status" -eq 1 ]
			[ "${output//$2/PATH}" = "$a" ]
		done
	done
	[[ "$a" == *"does not exist or is not readable by you"* ]]
	# and the content stays out of reach
	run as_nobody "$S/overlay-pivot" --tmp-overlay / / -- /bin/cat /etc/shadow
	[ "$status" -ne 0 ]
	# a helper that resolved paths as root would tell them apart
	run "$S/overlay-pivot" --tmp-overlay / / --bind "$P/dir" /x -- /bin/true
	[ "$status" -eq 0 ]
}

@test "upper and work: the caller's own, never a symlink, not through .." {
	suid_setup
	V=$BATS_TEST_TMPDIR/victim
	mkdir -p "$V" "$BATS_TEST_TMPDIR/rootdir"
	chmod 1777 "$V"
	as_nobody mkdir -p "$W/ov" "$W/up" "$W/wk" "$W/sym"
	as_nobody ln -s "$V" "$W/sym/layer"
	as_nobody ln -s "$V" "$W/uplink"
	# root-owned DIR
	run as_nobody "$S/overlay-pivot" --tmp-overlay / / --overlay "$L" /o "$BATS_TEST_TMPDIR/rootdir" -- /bin/true
	[ "$status" -eq 1 ]
	[[ "$output" == *"not owned by you"* ]]
	# DIR/layer a symlink to a directory the caller may write to
	run as_nobody "$S/overlay-pivot" --tmp-overlay / / --overlay "$L" /o "$W/sym" -- /bin/true
	[ "$status" -eq 1 ]
	[[ "$output" == *"layer: not a plain directory"* ]]
	# upperdir a symlink; upperdir reached through ..
	run as_nobody "$S/overlay-pivot" --tmp-overlay / / -o "/o,lowerdir=$L,upperdir=$W/uplink,workdir=$W/wk" -- /bin/true
	[ "$status" -eq 1 ]
	[[ "$output" == *"not a plain directory"* ]]
	run as_nobody "$S/overlay-pivot" --tmp-overlay / / -o "/o,lowerdir=$L,upperdir=$W/up/../../victim,workdir=$W/wk" -- /bin/true
	[ "$status" -eq 1 ]
	[[ "$output" == *"not owned by you"* ]]
	run as_nobody "$S/overlay-pivot" --tmp-overlay / / -o "/o,lowerdir=$L,upperdir=$W/up/..,workdir=$W/wk" -- /bin/true
	[ "$status" -eq 1 ]
	[ -z "$(ls -A "$V")" ]
	# what a path-following mount does with the same symlink
	mkdir -p "$BATS_TEST_TMPDIR/m" "$BATS_TEST_TMPDIR/wk2"
	unshare -m --propagation private sh -c "mount -t overlay overlay -o lowerdir=$L,upperdir=$W/uplink,workdir=$BATS_TEST_TMPDIR/wk2 $BATS_TEST_TMPDIR/m && touch $BATS_TEST_TMPDIR/m/landed"
	[ -e "$V/landed" ]
}

@test "a symlink swapped in during the call never moves a mount (renameat2 race)" {
	suid_setup
	V=$BATS_TEST_TMPDIR/victim
	mkdir -p "$V"
	chmod 1777 "$V"
	as_nobody mkdir -p "$W/d/layer" "$W/d/work"
	as_nobody ln -s "$V" "$W/d/evil"
	# the racer swaps DIR/layer (a directory) and DIR/evil (a symlink)
	setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups perl -e '
		chdir $ARGV[0] or die; my $end = time + 60; my ($a, $b) = ("layer", "evil");
		while (time < $end) { syscall(316, -100, $a, -100, $b, 2) for 1..1000 }' \
		"$W/d" &
	racer=$!
	ok=0 refused=0 start=$SECONDS
	for i in $(seq 3000); do
		if as_nobody "$S/overlay-pivot" --tmp-overlay / / --overlay "$L" /o "$W/d" -- \
			/bin/sh -c "echo $i > /o/pwned-$i" >/dev/null 2>&1; then
			ok=$((ok + 1))
		else
			refused=$((refused + 1))
		fi
		[ $((SECONDS - start)) -lt 40 ] || break
	done
	kill "$racer"
	wait "$racer" || true
	echo "# $((ok + refused)) runs: $ok mounted, $refused refused (symlink seen)" >&3
	[ $((ok + refused)) -ge 100 ]
	[ "$refused" -gt 0 ]
	[ "$ok" -gt 0 ]
	# the upper layer never was the symlink's target; the real one got
	# every write of the runs that mounted
	[ -z "$(ls -A "$V")" ]
	n=$(find "$W/d" -name 'pwned-*' | wc -l)
	[ "$n" -eq "$ok" ]
}

@test "overlay option injection: odd names are plain names, long paths refused" {
	suid_setup
	as_nobody mkdir -p "$W/evil-upper" "$W/ov" "$W/up" "$W/wk"
	odd=("a,upperdir=$W/evil-upper" "b:c" 'd\e' "f g" $'h\ni')
	for n in "${odd[@]}"; do
		as_nobody mkdir -p "$W/$n"
		as_nobody sh -c 'echo "$1" > "$2/name"' - "$n" "$W/$n"
	done
	for n in "${odd[@]}"; do
		run as_nobody "$S/overlay-pivot" --tmp-overlay / / --proc /proc --unshare-pid \
			--overlay "$W/$n" /o "$W/ov" -- /bin/sh -c '
			cat /o/name; echo w > /o/written; grep " /o " /proc/self/mountinfo'
		[ "$status" -eq 0 ]
		[ "${lines[0]}" = "$(head -1 "$W/$n/name")" ] || [ "$n" = $'h\ni' ]
		[[ "$output" =~ lowerdir=/oldroot/proc/self/fd/[0-9]+,upperdir=/oldroot/proc/self/fd/[0-9]+,workdir=/oldroot/proc/self/fd/[0-9]+ ]]
		[[ "$(grep " /o " <<<"$output")" != *evil* ]]
		[ -f "$W/ov/layer/written" ]
		rm -f "$W/ov/layer/written"
	done
	# -o takes the same names with \ escapes
	run as_nobody "$S/overlay-pivot" --tmp-overlay / / \
		-o "/o,lowerdir=$W/a\\,upperdir=$W/evil-upper:$W/b\\:c,upperdir=$W/up,workdir=$W/wk" -- /bin/sh -c 'cat /o/name; echo w > /o/w2'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "a,upperdir=$W/evil-upper" ]
	[ -f "$W/up/w2" ]
	[ -z "$(ls -A "$W/evil-upper")" ]
	# a path over 4 KiB is refused, not cut
	long=$W$(printf '/%0200d' $(seq 21))
	run as_nobody "$S/overlay-pivot" --tmp-overlay / / --overlay "$long" /o "$W/ov" -- /bin/true
	[ "$status" -eq 2 ]
	[[ "$output" == *"longer than 4096 bytes"* ]]
	# what a mount option string built from the same name does
	mkdir -p "$BATS_TEST_TMPDIR/m" "$BATS_TEST_TMPDIR/wk2" "$BATS_TEST_TMPDIR/ev"
	unshare -m --propagation private sh -c "mount -t overlay overlay -o 'lowerdir=$L,upperdir=$W/up,upperdir=$BATS_TEST_TMPDIR/ev,workdir=$BATS_TEST_TMPDIR/wk2' $BATS_TEST_TMPDIR/m && touch $BATS_TEST_TMPDIR/m/injected"
	[ -e "$BATS_TEST_TMPDIR/ev/injected" ]
}
