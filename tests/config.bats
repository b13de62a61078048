#!/usr/bin/env bats
# Config parsing and validation: one clear line, exit 1, nothing left.

load helpers

# boot_fails CONF PATTERN: overlay-boot fails with exit 1 and one line on
# stderr that matches PATTERN; no state of the subhost is left.
boot_fails() {
	run --separate-stderr "$TOP/overlay-boot" "$1"
	echo "status=$status stderr=$stderr" >&2
	[ "$status" -eq 1 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *$2* ]]
}

@test "missing config file" {
	boot_fails "$BATS_TEST_TMPDIR/nope.conf" "nope.conf: no such config file"
}

@test "config without BASE" {
	conf=$(make_subhost obc1)
	sed -i '/^BASE=/d' "$conf"
	boot_fails "$conf" "BASE: missing (required)"
}

@test "BASE is not a directory" {
	conf=$(make_subhost obc2)
	sed -i 's/^BASE=.*/BASE=obc2.conf/' "$conf"
	boot_fails "$conf" ":1: BASE: "*"is not a directory"
}

@test "LIVE already mounted" {
	conf=$(make_subhost obc3)
	base=${conf%/*}
	mount -t tmpfs obc3 "$base/live"
	boot_fails "$conf" "LIVE: $base/live is already a mount point"
	umount "$base/live"
}

@test "UPPER missing" {
	conf=$(make_subhost obc4 UPPER=nothere)
	boot_fails "$conf" ":4: UPPER: "*"nothere does not exist"
}

@test "WORK missing" {
	conf=$(make_subhost obc5)
	rmdir "${conf%/*}/work"
	boot_fails "$conf" "WORK: "*"/work does not exist"
}

@test "WORK on another file system than UPPER" {
	conf=$(make_subhost obc6)
	base=${conf%/*}
	mount -t tmpfs obc6 "$base/work"
	boot_fails "$conf" "WORK: $base/work is not on the same file system as UPPER"
	umount "$base/work"
}

@test "LOWER missing" {
	conf=$(make_subhost obc7 LOWER=/nonexistent/lower)
	boot_fails "$conf" ":4: LOWER: /nonexistent/lower does not exist"
}

@test "hook not executable" {
	conf=$(make_subhost obc8 PREMOUNT=hook)
	touch "${conf%/*}/hook"
	boot_fails "$conf" ":4: PREMOUNT: "*"/hook is not an executable file"
}

@test "a failing !command names the key and line" {
	conf=$(make_subhost obc9 'LOWER=!exit 3')
	boot_fails "$conf" ":4: LOWER: command 'exit 3' failed (exit 3)"
}

@test "a !command value is replaced by its output, run in BASE" {
	conf=$(make_subhost obca 'UPPER=!echo root' 'NAME=!printf obca')
	boot "$conf"
	[ -d /run/overlay-boot/obca ]
	stop obca
}

@test "bad NAME: too long, bad characters" {
	long=obcb$(printf 'x%.0s' $(seq 1 61))
	conf=$(make_subhost obcb "NAME=$long")
	boot_fails "$conf" ":4: NAME: '$long' is longer than 64 characters"
	conf=$(make_subhost obcc 'NAME=a b')
	boot_fails "$conf" "NAME: 'a b' may only contain"
}

@test "the config is parsed, never sourced: shell code in values does not run" {
	conf=$(make_subhost obcd "START=\$(touch $BATS_TEST_TMPDIR/pwned)" "RAM_SIZE=\`touch $BATS_TEST_TMPDIR/pwned\`")
	echo "touch $BATS_TEST_TMPDIR/pwned" >>"$conf"
	run "$TOP/overlay-boot" "$conf"
	[ "$status" -eq 1 ]
	[ ! -e "$BATS_TEST_TMPDIR/pwned" ]
}

@test "an unknown key is a warning, blanks around = and comments are fine" {
	conf=$(make_subhost obce)
	printf '# a comment\n  FOO = bar\nSTOP_TIMEOUT = 3\n' >>"$conf"
	run --separate-stderr "$TOP/overlay-boot" "$conf"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *":5: unknown key FOO ignored"* ]]
	[ "$(cat /run/overlay-boot/obce/stop_timeout)" = 3 ]
	stop obce
}

@test "bad values: sizes, numbers, START words" {
	conf=$(make_subhost obcf RAM_SIZE=lots)
	boot_fails "$conf" "RAM_SIZE: 'lots' is not a size"
	conf=$(make_subhost obcg PIDS_MAX=-1)
	boot_fails "$conf" "PIDS_MAX: '-1' is not a number or max"
	conf=$(make_subhost obch 'START=ssh;reboot')
	boot_fails "$conf" "START: 'ssh;reboot' is not a service name"
	conf=$(make_subhost obci STOP_TIMEOUT=soon)
	boot_fails "$conf" "STOP_TIMEOUT: 'soon' is not a number"
}

@test "usage errors exit 2; --help and --version exit 0 for every command" {
	for cmd in overlay-boot overlay-stop overlay-go overlay-list; do
		run "$TOP/$cmd" --help
		[ "$status" -eq 0 ]
		[[ "$output" == Usage:* ]]
		run "$TOP/$cmd" --version
		[ "$status" -eq 0 ]
		[[ "$output" == *"0.1"* ]]
		run "$TOP/$cmd" --bogus
		[ "$status" -eq 2 ]
	done
}
