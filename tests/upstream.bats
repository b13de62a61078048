#!/usr/bin/env bats
# Upstream habits (issue 13): configs, hooks and commands of overlay-boot
# 1.6 that work unchanged. Busybox roots where a Debian root is not
# needed; the Debian root (tests/debian-root) where the issue names it.

load helpers

# tiny_subhost NAME [KEY=VALUE...]: a subhost over a busybox root in
# BASE/base; prints the config path.
tiny_subhost() {
	local conf
	conf=$(make_subhost "$@" LOWER=base) || return 1
	tiny_root "${conf%/*}/base" || return 1
	echo "$conf"
}

@test "a comment after a value: START= none # no services" {
	conf=$(tiny_subhost obu1)
	sed -i 's/^START=none$/START= none # no services/' "$conf"
	echo 'RAM_SIZE = "10M" # quoted, then a comment' >>"$conf"
	echo 'CABLES= # no cables' >>"$conf"
	boot "$conf"
	when_finished "$TOP/overlay-stop" obu1
	assert_equal "none" "$(cat /run/overlay-boot/obu1/start)" "START recorded"
	run go obu1 sh -c 'df -k /run | tail -n 1'
	assert_output_has " 10240 "
	stop obu1
}

@test "a name of 40 characters boots without cables; with cables the error names the host end and the 15-character limit" {
	long=obu2-a-name-of-forty-characters-xxxxxxxx
	assert_equal 40 "${#long}" "length"
	conf=$(tiny_subhost obu2 "NAME=$long")
	boot "$conf"
	when_finished "$TOP/overlay-stop" "$long"
	run go "$long" hostname
	assert_output_has "$long"
	stop "$long"
	echo "CABLES==" >>"$conf"
	run --separate-stderr "$TOP/overlay-boot" "$conf"
	assert_status 1
	assert_equal 1 "${#stderr_lines[@]}" "lines on stderr"
	[[ "$stderr" == *"CABLES: host end ${long}0 is longer than 15 characters"* ]] || {
		echo "stderr: $stderr" >&2
		false
	}
}

@test "a config file of any name: web.cfg with NAME, and a file without suffix; overlay-stop x.cfg names it" {
	base=$BATS_TEST_TMPDIR/obu3
	tiny_subhost obu3 >/dev/null
	mv "$base/obu3.conf" "$base/web.cfg"
	echo "NAME=obu3" >>"$base/web.cfg"
	boot "$base/web.cfg"
	when_finished "$TOP/overlay-stop" obu3
	run go obu3 hostname
	assert_equal obu3 "$output"
	# by the file, from its directory: no slash, no .conf
	cd "$base"
	run "$TOP/overlay-go" web.cfg hostname
	assert_status 0
	assert_equal obu3 "$output"
	run "$TOP/overlay-stop" web.cfg
	assert_status 0
	assert_output_has "obu3 stopped"
	# a file named as the subhost, without NAME or suffix
	grep -v '^NAME=' "$base/web.cfg" >"$base/obu3x"
	boot "$base/obu3x"
	when_finished "$TOP/overlay-stop" obu3x
	run go obu3x hostname
	assert_equal obu3x "$output"
	stop obu3x
	# a name that is neither a subhost nor a file
	run --separate-stderr "$TOP/overlay-stop" nosuch.cfg
	assert_status 1
	[[ "$stderr" == "overlay-stop: nosuch.cfg: "* ]] || {
		echo "stderr: $stderr" >&2
		false
	}
}

@test "overlay-go and overlay-share without a name list the running subhosts and exit 0" {
	conf=$(tiny_subhost obu4)
	boot "$conf"
	when_finished "$TOP/overlay-stop" obu4
	for cmd in overlay-go overlay-share; do
		run --separate-stderr "$TOP/$cmd"
		assert_status 0
		grep -qx obu4 <<<"$output" || {
			echo "$cmd printed: $output" >&2
			false
		}
	done
	run --separate-stderr "$TOP/overlay-share" /tmp
	assert_status 0
	grep -qx obu4 <<<"$output"
	stop obu4
	run --separate-stderr "$TOP/overlay-go"
	assert_status 0
	! grep -qx obu4 <<<"$output"
}

@test "overlay-go starts in / with HOME=/root, for a command and for the shell" {
	conf=$(tiny_subhost obu5)
	# pid 1 (the reaper, START=none) keeps the directory it was booted
	# from, which the busybox root has too
	(cd /bin && "$TOP/overlay-boot" "$conf")
	when_finished "$TOP/overlay-stop" obu5
	run go obu5 sh -c 'echo "$PWD $HOME"'
	assert_equal "/ /root" "$output"
	run go obu5 pwd
	assert_equal "/" "$output"
	run go obu5 <<<'pwd; echo "$HOME"'
	assert_equal "/
/root" "$output"
	stop obu5
}
