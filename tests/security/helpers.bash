# shellcheck shell=bash
# The security tests use the suite's helpers (leak check around every
# test), plus a set-user-id copy of overlay-pivot and an unprivileged
# caller.
load "$BATS_TEST_DIRNAME/../helpers"

NOBODY=65534

# suid_setup: S/overlay-pivot (set-user-id root, with S/ovroot), W (a
# directory of the caller), L (a root-owned lower layer with set-id and
# file-capability binaries: suid-id, suid-id-777, cap-cat), everything reachable by the caller.
suid_setup() {
	local d
	command -v setcap >/dev/null || skip "setcap (libcap2-bin) is not installed"
	S=$BATS_TEST_TMPDIR/bin
	W=$BATS_TEST_TMPDIR/w
	L=$BATS_TEST_TMPDIR/lower
	mkdir -p "$S" "$W" "$L"
	cp "$BATS_TEST_DIRNAME/../../src/overlay-pivot" "$S/overlay-pivot"
	chown 0:0 "$S/overlay-pivot"
	chmod 4755 "$S/overlay-pivot"
	ln -sf overlay-pivot "$S/ovroot"
	chown "$NOBODY:$NOBODY" "$W"
	d=$BATS_TEST_TMPDIR
	while [ "$d" != / ]; do
		chmod a+rx "$d"
		d=$(dirname "$d")
	done
	if findmnt -n -o OPTIONS -T "$S" | grep -qw nosuid; then
		skip "the test directory is on a nosuid filesystem"
	fi
	cp /usr/bin/id "$L/suid-id"
	chmod 4755 "$L/suid-id"
	cp /usr/bin/id "$L/suid-id-777"
	chmod 4777 "$L/suid-id-777"
	cp /usr/bin/cat "$L/cap-cat"
	setcap cap_dac_override,cap_dac_read_search+ep "$L/cap-cat"
}

# as_nobody COMMAND...: run as the unprivileged caller, without groups.
as_nobody() {
	setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups "$@"
}

# nobody_squash SRC IMG: a squashfs image built by the caller, whose files
# all claim to belong to root.
nobody_squash() {
	command -v mksquashfs >/dev/null || skip "mksquashfs (squashfs-tools) is not installed"
	as_nobody mksquashfs "$1" "$2" -all-root -quiet -noappend >/dev/null
}

# home_user: a real user with a home directory under /home, made for this
# test and removed after it (HU: the name, HUID: the uid, HOME_DIR).
home_user() {
	HU=obp$$${RANDOM}
	HU=${HU:0:30}
	useradd -m -d "/home/$HU" -s /bin/sh "$HU" >/dev/null
	when_finished userdel -r -f "$HU"
	HUID=$(id -u "$HU")
	HOME_DIR=/home/$HU
}

# as_user COMMAND...: run as the home user, with their own groups only.
as_user() {
	setpriv --reuid="$HU" --regid="$HU" --init-groups env HOME="$HOME_DIR" "$@"
}
