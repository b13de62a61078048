#!/usr/bin/env bats
# Regressions: bugs the fault suite found, each kept as a test once fixed.

load helpers

# An empty LOWER, UPPER or WORK used to pass validation (an empty UPPER or
# WORK became BASE itself) and fail later at the overlay mount with the
# log's tail instead of one line naming the key.
@test "LOWER=, UPPER=, WORK= (empty) are refused with one line naming the key" {
	for key in LOWER UPPER WORK; do
		conf=$(make_subhost obfkb1 "$key=")
		run "$TOP/overlay-boot" "$conf"
		echo "$key: $status: $output"
		[ "$status" = 1 ]
		[ "${#lines[@]}" = 1 ]
		[[ "$output" == *"$key"* ]]
		rm -rf "${conf%/*}"
	done
}

# overlay-stop racing a boot: a stop that came after the pid1 file was
# written but before the supervisor recorded pid1.start took the subhost
# for "starting" and its SIGTERM to the supervisor could be lost: the
# subhost came up and the stop timed out (about 1 round in 10). The stop
# now also signals pid 1 as soon as it is recorded.
@test "stop racing boot of one name never leaves half a subhost" {
	conf=$(make_subhost obfc22)
	rounds=8
	[ -z "$SOAK" ] || rounds=40
	for r in $(seq 1 "$rounds"); do
		"$TOP/overlay-boot" "$conf" >/dev/null 2>&1 &
		b=$!
		sleep "0.$((RANDOM % 6))"
		"$TOP/overlay-stop" obfc22 >/dev/null
		wait "$b" || true
		# either whole and working, or nothing at all
		if [ -e "$STATE/obfc22/pid1.start" ]; then
			[ "$(go obfc22 hostname)" = obfc22 ]
			stop obfc22
		fi
		settled obfc22
	done
}

