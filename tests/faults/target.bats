#!/usr/bin/env bats
# The right target and the right message: a CONF argument means that
# config; an edited NAME is named; overlay-clean-root holding the lock is
# said so; two overlay-stop at once do not trip over each other.

load helpers

@test "overlay-go and overlay-stop CONF2 naming the subhost started from CONF1: refused, naming CONF1" {
	conf1=$(make_subhost obft1)
	mkdir -p "$BATS_TEST_TMPDIR/other"
	conf2=$BATS_TEST_TMPDIR/other/obft1.conf
	printf 'BASE=%s\nNAME=obft1\n' "${conf1%/*}" >"$conf2"
	boot "$conf1"
	run timeout -k 5 20 "$TOP/overlay-go" "$conf2" true
	echo "$output"
	[ "$status" = 1 ]
	[[ "$output" == *"another config, $conf1"* ]]
	run timeout -k 5 20 "$TOP/overlay-stop" "$conf2"
	echo "$output"
	[ "$status" = 1 ]
	[[ "$output" == *"another config, $conf1"* ]]
	[ "$(go obft1 hostname)" = obft1 ]
	run timeout -k 5 60 "$TOP/overlay-stop" "$conf1"
	[ "$status" = 0 ]
	settled obft1
}

@test "NAME edited in a running subhost's config: overlay-stop CONF says the name it runs as" {
	conf=$(make_subhost obft2 NAME=obft2)
	boot "$conf"
	sed -i 's/^NAME=obft2$/NAME=obft2b/' "$conf"
	run timeout -k 5 20 "$TOP/overlay-stop" "$conf"
	echo "$output"
	[ "$status" = 1 ]
	[[ "$output" == *"runs as obft2"* ]]
	[[ "$output" != *"not running"* ]]
	[ "$(go obft2 hostname)" = obft2 ]
	stop obft2
	settled obft2 obft2b
}

@test "during overlay-clean-root, a boot says who holds the lock, a stop says not running" {
	conf=$(make_subhost obft3 "LOWER=!touch $BATS_TEST_TMPDIR/in; sleep 3; echo /")
	timeout -k 5 30 "$TOP/overlay-clean-root" "$conf" >/dev/null 2>&1 &
	clean=$!
	when_finished kill "$clean"
	wait_for test -e "$BATS_TEST_TMPDIR/in"
	run timeout -k 5 20 "$TOP/overlay-boot" "$conf"
	echo "$output"
	[ "$status" = 1 ]
	[[ "$output" == *"busy"*"overlay-clean-root"* ]]
	[[ "$output" != *"already running"* ]]
	run timeout -k 5 20 "$TOP/overlay-stop" obft3
	echo "$output"
	[ "$status" = 0 ]
	[[ "$output" == *"not running"*"overlay-clean-root"* ]]
	[[ "$output" != *stopped* ]]
	wait "$clean"
	settled obft3
}

@test "two overlay-stop at once: one stops the services, the other waits; no Terminated, no exit 143" {
	conf=$(make_subhost obft4 START=obfsvc)
	base=${conf%/*}
	mkdir -p "$base/root/etc/init.d"
	printf '#!/bin/sh\ncase "$1" in stop) sleep 1 ;; esac\nexit 0\n' >"$base/root/etc/init.d/obfsvc"
	chmod +x "$base/root/etc/init.d/obfsvc"
	boot "$conf"
	timeout -k 5 60 "$TOP/overlay-stop" obft4 >"$BATS_TEST_TMPDIR/s1" 2>&1 &
	s1=$!
	timeout -k 5 60 "$TOP/overlay-stop" obft4 >"$BATS_TEST_TMPDIR/s2" 2>&1 &
	s2=$!
	rc1=0 rc2=0
	wait "$s1" || rc1=$?
	wait "$s2" || rc2=$?
	cat "$BATS_TEST_TMPDIR/s1" "$BATS_TEST_TMPDIR/s2"
	[ "$rc1" = 0 ] && [ "$rc2" = 0 ]
	! grep -q 'Terminated\|143\|failed' "$BATS_TEST_TMPDIR/s1" "$BATS_TEST_TMPDIR/s2"
	[ "$(cat "$BATS_TEST_TMPDIR/s1" "$BATS_TEST_TMPDIR/s2" | grep -c 'stopped obfsvc')" = 1 ]
	settled obft4
}
