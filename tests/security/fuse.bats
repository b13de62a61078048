#!/usr/bin/env bats
# A non-root caller's overlays of / and squashfs images are served by FUSE
# (fuse-overlayfs, squashfuse) run as the caller: ovroot writes to the
# caller's home and /tmp without touching the host, no loop device is
# ever attached for them, nothing is left when the run ends.

load helpers
bats_require_minimum_version 1.5.0

# no_fuse_left: no FUSE mount or server of ours is left on the host.
no_fuse_left() {
	! grep -q ' - fuse\.' /proc/self/mountinfo || ! grep ' - fuse\.' /proc/self/mountinfo | grep -q overlay-pivot
	# (a zombie has ended: pid 1 of this machine may reap late)
	! pgrep -r D,R,S,T -u "$1" -f 'fuse-overlayfs|squashfuse' >/dev/null
}

@test "ovroot ~/sandbox writes to the home directory and to /tmp; the host is untouched" {
	suid_setup
	home_user
	local T=/tmp/obp-written-$$
	when_finished rm -f "$T"
	for who in as_user as_nobody; do
		if [ "$who" = as_user ]; then D=$HOME_DIR; U=$HU; else D=$W; U=$NOBODY; fi
		before=$(ls -A "$D")
		run "$who" timeout 60 sh -c "cd '$D' && '$S/ovroot' '$D/sandbox' /bin/sh -c '
			echo home > \"$D/written\" && echo tmp > \"$T\" && cat \"$D/written\" \"$T\" &&
			mkdir \"$D/newdir\" && rm \"$D/newdir\" -r && pwd &&
			{ cat /etc/shadow 2>/dev/null && echo READ-SHADOW || echo no-shadow; }'"
		echo "$output"
		[ "$status" -eq 0 ]
		[ "${lines[0]}" = home ]
		[ "${lines[1]}" = tmp ]
		[ "${lines[2]}" = "$D" ]
		[ "${lines[3]}" = no-shadow ]
		# the writes are in the sandbox, the host as it was
		[ "$(cat "$D/sandbox/layer$D/written")" = home ]
		[ "$(cat "$D/sandbox/layer$T")" = tmp ]
		[ ! -e "$T" ]
		[ ! -e "$D/written" ]
		[ "$(ls -A "$D" | grep -vx sandbox)" = "$(grep -vx sandbox <<<"$before")" ]
		wait_until no_fuse_left "$U"
		rm -rf "$D/sandbox"
	done
}

@test "a non-root --squash attaches no loop device (losetup -a from outside during the run)" {
	suid_setup
	mkdir -p "$W/img"
	echo content >"$W/img/f"
	chown -R "$NOBODY" "$W/img"
	nobody_squash "$W/img" "$W/img.sqfs"
	before=$(losetup -a)
	as_nobody "$S/overlay-pivot" --tmp-overlay / / --squash "$W/img.sqfs" /sq --bind "$W" "$W" -- \
		/bin/sh -c 'cat /sq/f > "$0/seen"; sleep 3' "$W" &
	pid=$!
	wait_until test -s "$W/seen"
	during=$(losetup -a)
	mounted=$(grep -c squash /proc/self/mountinfo || true)
	timeout 10 tail --pid="$pid" -f /dev/null || true
	wait "$pid"
	[ "$(cat "$W/seen")" = content ]
	[ "$during" = "$before" ]
	[ "$mounted" = 0 ]
	wait_until no_fuse_left "$NOBODY"
	# a real user of /home, too
	home_user
	cp "$W/img.sqfs" "$HOME_DIR/img.sqfs"
	chown "$HU" "$HOME_DIR/img.sqfs"
	run as_user timeout 30 "$S/overlay-pivot" --tmp-overlay / / --squash "$HOME_DIR/img.sqfs" /sq -- \
		/bin/sh -c 'cat /sq/f; losetup -a | wc -l'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = content ]
	[ "$(losetup -a)" = "$before" ]
	# what this prevents: the image as a loop device of the host, which
	# root's tools trust (the helper used to attach one)
	dev=$(losetup -f --show -r "$W/img.sqfs")
	when_finished losetup -d "$dev"
	[[ "$(losetup -a)" == *"$W/img.sqfs"* ]]
}

@test "a non-root --squash needs the squashfs magic and a regular file; 1,000 images are refused before anything" {
	suid_setup
	head -c 4096 /dev/zero >"$W/zero.img"
	chmod 644 "$W/zero.img"
	before=$(losetup -a)
	run as_nobody "$S/overlay-pivot" --tmp-overlay / / --squash "$W/zero.img" /sq -- /bin/true
	[ "$status" -eq 1 ]
	[ "$output" = "overlay-pivot: --squash $W/zero.img: not a squashfs image" ]
	run as_nobody "$S/overlay-pivot" --tmp-overlay / / --squash /dev/null /sq -- /bin/true
	[ "$status" -eq 1 ]
	[ "$output" = "overlay-pivot: --squash /dev/null: not a regular file" ]
	mkdir -p "$W/img"
	nobody_squash "$W/img" "$W/img.sqfs"
	args=()
	for i in $(seq 1000); do args+=(--squash "$W/img.sqfs" "/sq$i"); done
	run as_nobody "$S/overlay-pivot" --pid-file "$W/pid" "${args[@]}" -- /bin/true
	[ "$status" -eq 1 ]
	[ "$output" = "overlay-pivot: at most 16 squashfs images and overlays of directories with mounts below them in one run" ]
	[ ! -e "$W/pid" ]
	[ "$(losetup -a)" = "$before" ]
}

@test "the FUSE servers run as the caller, without capabilities, and end with the run" {
	suid_setup
	mkdir -p "$W/img"
	nobody_squash "$W/img" "$W/img.sqfs"
	as_nobody "$S/overlay-pivot" --tmp-overlay / / --squash "$W/img.sqfs" /sq -- /bin/sleep 5 &
	pid=$!
	wait_until pgrep -r D,R,S,T -u "$NOBODY" -x squashfuse
	for p in $(pgrep -r D,R,S,T -u "$NOBODY" -f 'fuse-overlayfs|squashfuse'); do
		grep -E '^(Uid|Gid|CapEff|CapPrm|CapBnd|NoNewPrivs):' "/proc/$p/status" | tr -s '\t ' ' '
	done >"$BATS_TEST_TMPDIR/status"
	kill "$pid"
	wait "$pid" || true
	cat "$BATS_TEST_TMPDIR/status"
	[ "$(grep -c '^Uid: 65534 65534 65534 65534$' "$BATS_TEST_TMPDIR/status")" -eq 2 ]
	[ "$(grep -c '^CapEff: 0000000000000000$' "$BATS_TEST_TMPDIR/status")" -eq 2 ]
	[ "$(grep -c '^CapBnd: 0000000000000000$' "$BATS_TEST_TMPDIR/status")" -eq 2 ]
	[ "$(grep -c '^NoNewPrivs: 1$' "$BATS_TEST_TMPDIR/status")" -eq 2 ]
	wait_until no_fuse_left "$NOBODY"
}

# full_pipe_run OUT COMMAND...: run COMMAND with its stderr on a pipe that
# is full and never read; write "losetup -a" as seen during the run to OUT
# once COMMAND is blocked (or has ended), then let it finish.
full_pipe_run() {
	python3 - "$@" <<'PY'
import fcntl, os, subprocess, sys, time
out, cmd = sys.argv[1], sys.argv[2:]
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETFL, os.O_NONBLOCK)
try:
    while True:
        os.write(w, b"x" * 4096)
except BlockingIOError:
    pass
fcntl.fcntl(w, fcntl.F_SETFL, 0)
p = subprocess.Popen(cmd, stderr=w)
os.close(w)
for _ in range(50):
    if p.poll() is not None:
        break
    time.sleep(0.1)
with open(out, "w") as f:
    f.write(subprocess.run(["losetup", "-a"], capture_output=True, text=True).stdout)
os.close(r)   # the writer gets EPIPE now
p.wait(timeout=30)
PY
}

@test "a full-pipe stderr leaves nothing attached" {
	suid_setup
	mkdir -p "$W/img"
	echo content >"$W/img/f"
	nobody_squash "$W/img" "$W/img.sqfs"
	IMG=$W/img.sqfs
	P=$BATS_TEST_DIRNAME/../../src/overlay-pivot
	before=$(losetup -a)
	head -c 8192 /dev/zero >"$BATS_TEST_TMPDIR/zero"
	chmod 644 "$BATS_TEST_TMPDIR/zero"
	# root: a bad image, refused before any device
	full_pipe_run "$BATS_TEST_TMPDIR/during" "$P" --tmp-overlay / / --squash "$BATS_TEST_TMPDIR/zero" /sq -- /bin/true
	[ "$(cat "$BATS_TEST_TMPDIR/during")" = "$before" ]
	# root: a good image and a failing mount point after it
	full_pipe_run "$BATS_TEST_TMPDIR/during" "$P" --tmp-overlay / / --squash "$IMG" /etc/passwd/x -- /bin/true
	[ "$(cat "$BATS_TEST_TMPDIR/during")" = "$before" ]
	# the caller: never a loop device
	full_pipe_run "$BATS_TEST_TMPDIR/during" setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups \
		"$S/overlay-pivot" --tmp-overlay / / --squash "$W/img.sqfs" /etc/passwd/x -- /bin/true
	[ "$(cat "$BATS_TEST_TMPDIR/during")" = "$before" ]
	wait_until test "$(losetup -a)" = "$before"
}
