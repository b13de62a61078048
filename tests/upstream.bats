#!/usr/bin/env bats
# Upstream habits (issue 13): configs, hooks and commands of overlay-boot
# 1.6 that work unchanged. Busybox roots where a Debian root is not
# needed; the Debian root (tests/debian-root) where the issue names it.

load helpers

setup_file() {
	# the cached Debian root (tests/debian-root makes it when absent)
	DEBIAN_ROOT=$(sh "$BATS_TEST_DIRNAME/debian-root") || return 1
	export DEBIAN_ROOT
}

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

# svc_script FILE WORD: an init.d-style script that logs "WORD $1" to
# /svc.log and keeps a sleeper while started.
svc_script() {
	cat >"$1" <<SVC
#!/bin/sh
echo "$2 \$*" >>/svc.log
case "\$1" in
start) sleep 1000 </dev/null >/dev/null 2>&1 & echo \$! >/run/$2.pid ;;
stop) kill \$(cat /run/$2.pid) ;;
esac
SVC
	chmod +x "$1"
}

@test "START: an absolute path runs once as it is, never at stop; names get start and stop, in reverse, each status reported" {
	conf=$(tiny_subhost obu6 "START=svc-a /abs svc-b")
	root=${conf%/*}/root
	mkdir -p "$root/etc/init.d"
	svc_script "$root/etc/init.d/svc-a" a
	svc_script "$root/etc/init.d/svc-b" b
	svc_script "$root/abs" abs
	boot "$conf"
	when_finished "$TOP/overlay-stop" obu6
	run go obu6 cat /svc.log
	assert_equal "$(printf 'a start\nabs \nb start')" "$output" "after boot"
	run --separate-stderr "$TOP/overlay-stop" obu6
	assert_status 0
	assert_output_has "obu6: stopped svc-b (exit 0)"
	assert_output_has "obu6: stopped svc-a (exit 0)"
	assert_equal "" "$stderr" "stderr of overlay-stop"
	assert_equal "$(printf 'a start\nabs \nb start\nb stop\na stop')" "$(cat "$root/svc.log")" "after stop"
}

@test "overlay-stop reports a stop script's own exit status, and runs the earlier ones after it" {
	conf=$(tiny_subhost obu7 "START=svc-a svc-b")
	root=${conf%/*}/root
	mkdir -p "$root/etc/init.d"
	svc_script "$root/etc/init.d/svc-a" a
	printf '#!/bin/sh\necho "b $*" >>/svc.log\n[ "$1" = start ] || exit 3\n' >"$root/etc/init.d/svc-b"
	chmod +x "$root/etc/init.d/svc-b"
	boot "$conf"
	when_finished "$TOP/overlay-stop" obu7
	run --separate-stderr "$TOP/overlay-stop" obu7
	assert_status 0
	[[ "$stderr" == "overlay-stop: warning: obu7: stopping svc-b failed (exit 3)" ]] || {
		echo "stderr: $stderr" >&2
		false
	}
	assert_output_has "obu7: stopped svc-a (exit 0)"
	assert_equal "$(printf 'a start\nb start\nb stop\na stop')" "$(cat "$root/svc.log")" "svc.log"
}

@test "a boot whose START services all failed comes up; overlay-boot names them on stderr and in the log, exit 0" {
	conf=$(tiny_subhost obu8 "START=nosuch /bin/false svc-x")
	root=${conf%/*}/root
	mkdir -p "$root/etc/init.d"
	printf '#!/bin/sh\nexit 4\n' >"$root/etc/init.d/svc-x"
	chmod +x "$root/etc/init.d/svc-x"
	run --separate-stderr "$TOP/overlay-boot" "$conf"
	when_finished "$TOP/overlay-stop" obu8
	assert_status 0
	[[ "$stderr" == "overlay-boot: warning: obu8 is up, but START services failed: nosuch (exit 127), /bin/false (exit 1), svc-x (exit 4)"* ]] || {
		echo "stderr: $stderr" >&2
		false
	}
	assert_file_has "${conf%/*}/log" "START services that failed: nosuch (exit 127), /bin/false (exit 1), svc-x (exit 4)"
	# up and enterable for repair
	run go obu8 hostname
	assert_equal obu8 "$output"
	run "$TOP/overlay-list"
	[[ "$output" == *"obu8 "*running* ]]
	stop obu8
}

@test "hooks get CONFIG, CONF, the keys and REAPER; an upstream INIT ending in exec \${REAPER:-/.reaper} \$NAME works" {
	for userns in no yes; do
		conf=$(tiny_subhost obu9 "USERNS=$userns" PREMOUNT=premount INIT=init "CABLES=")
		base=${conf%/*}
		cat >"$base/premount" <<'HOOK'
#!/bin/sh
env >"$BASE/premount.env"
echo "arg=$1" >>"$BASE/premount.env"
HOOK
		# as upstream's: the script printed with $NAME and ${REAPER...}
		# expanded by the hook, and one expanded by pid 1 itself
		cat >"$base/init" <<'HOOK'
#!/bin/sh
cat <<EOF
#!/bin/sh
echo "init of $NAME, pid \$\$" >/run/init.log
[ -n "\$REAPER" ] && echo "REAPER inside: \$REAPER" >>/run/init.log
exec ${REAPER:-/.reaper} $NAME
EOF
HOOK
		chmod +x "$base/premount" "$base/init"
		boot "$conf"
		when_finished "$TOP/overlay-stop" obu9
		for kv in "CONFIG=$conf" "CONF=$conf" "arg=$conf" NAME=obu9 "BASE=$base" "LOWER=$base/base" \
			"UPPER=$base/root" "WORK=$base/work" "LIVE=$base/live" START=none CABLES= RAM_SIZE=50M \
			REAPER=/run/overlay-boot/reaper-exec; do
			grep -qx -- "$kv" "$base/premount.env" || {
				echo "USERNS=$userns: not in the hook's environment: $kv" >&2
				grep -E '^(CONF|CONFIG|NAME|BASE|LOWER|UPPER|WORK|LIVE|START|CABLES|RAM_SIZE|REAPER|arg)=' "$base/premount.env" >&2
				false
			}
		done
		run go obu9 cat /run/init.log /proc/1/comm
		assert_equal "$(printf 'init of obu9, pid 1\nREAPER inside: /run/overlay-boot/reaper-exec\nreaper')" "$output" "USERNS=$userns"
		stop obu9
		rm -rf "$base"
	done
}

@test "premount: UPPER gets lo + manual stanzas even when a LOWER has interfaces (the host's is masked); a whiteout in UPPER wins" {
	conf=$(tiny_subhost obua "CABLES== =")
	base=${conf%/*}
	mkdir -p "$base/base/etc/network"
	printf 'auto eth1\niface eth1 inet static\n\taddress 10.215.0.9/24\n' >"$base/base/etc/network/interfaces"
	boot "$conf"
	when_finished "$TOP/overlay-stop" obua
	run go obua cat /etc/network/interfaces
	assert_output_has "iface eth0 inet manual"
	assert_output_has "iface eth1 inet manual"
	assert_output_lacks "10.215.0.9"
	assert_file_has "$base/root/etc/network/interfaces" "iface lo inet loopback"
	# the subhost deletes it: a whiteout in UPPER, which the next boot keeps
	go obua rm /etc/network/interfaces
	stop obua
	[ -c "$base/root/etc/network/interfaces" ]
	boot "$conf"
	run go obua cat /etc/network/interfaces
	assert_status 1
	[ -c "$base/root/etc/network/interfaces" ]
	stop obua
}

@test "premount never follows a link the subhost planted: /etc/network -> a host directory gets no interfaces file" {
	escape=$BATS_TEST_TMPDIR/escape
	mkdir -p "$escape"
	conf=$(tiny_subhost obub "CABLES==")
	base=${conf%/*}
	boot "$conf"
	when_finished "$TOP/overlay-stop" obub
	# root inside replaces /etc/network with a link to a host path
	go obub sh -c "rm -rf /etc/network && ln -s '$escape' /etc/network"
	stop obub
	[ -L "$base/root/etc/network" ]
	run --separate-stderr "$TOP/overlay-boot" "$conf"
	assert_status 0
	assert_missing "$escape/interfaces"
	assert_file_has "$base/log" "$base/root/etc/network is a symbolic link: /etc/network/interfaces of obub not written"
	# the same for a link in place of the file itself
	stop obub
	rm "$base/root/etc/network"
	mkdir "$base/root/etc/network"
	ln -s "$escape/interfaces" "$base/root/etc/network/interfaces"
	boot "$conf"
	assert_missing "$escape/interfaces"
	stop obub
}

@test "a subhost whose supervisor was killed is still a subhost: listed running (supervisor gone), entered, stopped with its services and cleaned" {
	conf=$(tiny_subhost obuc "START=svc-a" "CABLES==")
	root=${conf%/*}/root
	mkdir -p "$root/etc/init.d"
	svc_script "$root/etc/init.d/svc-a" a
	boot "$conf"
	when_finished "$TOP/overlay-stop" obuc
	pid1=$(cat /run/overlay-boot/obuc/pid1)
	kill -KILL "$(cat /run/overlay-boot/obuc/supervisor)"
	wait_until sh -c '! kill -0 "$(cat /run/overlay-boot/obuc/supervisor)" 2>/dev/null'
	run "$TOP/overlay-list"
	[[ "$output" == *"obuc "*" running "*"(supervisor gone)"* ]] || {
		echo "overlay-list: $output" >&2
		false
	}
	run "$TOP/overlay-list" -j
	echo "$output" | python3 -c '
import json, sys
row = [r for r in json.load(sys.stdin) if r["name"] == "obuc"][0]
assert row["state"] == "running" and row["supervisor_gone"] is True, row'
	run go obuc sh -c 'hostname; ls /sys/class/net | grep eth0'
	assert_status 0
	assert_equal "$(printf 'obuc\neth0')" "$output"
	run --separate-stderr "$TOP/overlay-stop" obuc
	assert_status 0
	assert_output_has "obuc: stopped svc-a (exit 0)"
	assert_output_has "obuc stopped"
	assert_equal "a start
a stop" "$(cat "$root/svc.log")" "svc.log"
	! kill -0 "$pid1" 2>/dev/null
	assert_missing /run/overlay-boot/obuc
	assert_missing /run/netns/obuc
}

# disk_image FILE TREE: a 48 MiB MBR image: partition 1 ext4 (empty),
# partition 2 ext4 holding TREE.
disk_image() {
	local part start sectors
	truncate -s 48M "$1"
	printf 'label: dos\n,8M,L\n,32M,L\n' | sfdisk -q "$1"
	for part in 1 2; do
		read -r start sectors < <(partx -g -r -o START,SECTORS -n "$part" "$1")
		if [ "$part" = 2 ]; then
			mke2fs -q -F -t ext4 -E offset=$((start * 512)) -d "$2" "$1" "$((sectors / 2))k"
		else
			mke2fs -q -F -t ext4 -E offset=$((start * 512)) "$1" "$((sectors / 2))k"
		fi
	done
}

@test "diskfile as upstream's man page: LOWER=!overlay-diskfile mnt/some/path disk.img 2 mounts on mnt and uses some/path" {
	conf=$(make_subhost obud "LOWER=!overlay-diskfile mnt/some/path disk.img 2")
	base=${conf%/*}
	tree=$BATS_TEST_TMPDIR/tree
	tiny_root "$tree/some/path"
	echo subtree >"$tree/some/path/etc/marker"
	echo top >"$tree/marker"
	disk_image "$base/disk.img" "$tree"
	boot "$conf"
	when_finished "$TOP/overlay-stop" obud
	run go obud cat /etc/marker
	assert_equal subtree "$output"
	run go obud cat /marker
	assert_status 1
	assert_equal 1 "$(awk -v d="$base/mnt" '$5 == d' /proc/self/mountinfo | wc -l)" "mounts on $base/mnt"
	stop obud
	assert_equal 0 "$(awk -v d="$base/mnt" '$5 == d' /proc/self/mountinfo | wc -l)" "mounts on $base/mnt after stop"
	assert_equal "" "$(losetup -n -O NAME -j "$base/disk.img")" "loop devices of disk.img"
}

@test "diskfile as upstream's man page: UPPER=!overlay-diskfile mnt/some/upper/path disk.img 2 with WORK= mnt/some/work/path on the same image" {
	conf=$(make_subhost obue LOWER=base "UPPER=!overlay-diskfile mnt/some/upper/path disk.img 2" "WORK= mnt/some/work/path")
	base=${conf%/*}
	tiny_root "$base/base"
	tree=$BATS_TEST_TMPDIR/tree
	mkdir -p "$tree/some/work/path"
	disk_image "$base/disk.img" "$tree"
	boot "$conf"
	when_finished "$TOP/overlay-stop" obue
	go obue sh -c 'echo written-inside >/etc/written'
	assert_equal written-inside "$(cat "$base/mnt/some/upper/path/etc/written")" "in the image's subtree"
	stop obue
	assert_equal "" "$(losetup -n -O NAME -j "$base/disk.img")" "loop devices of disk.img"
	# on the image, after the stop: read it back by itself
	cd "$BATS_TEST_TMPDIR"
	run "$TOP/overlay-diskfile" check/some/upper/path "$base/disk.img" 2
	assert_status 0
	when_finished "$TOP/overlay-diskfile" -u "$BATS_TEST_TMPDIR/check"
	assert_equal "$BATS_TEST_TMPDIR/check/some/upper/path" "$output"
	assert_equal written-inside "$(cat "$BATS_TEST_TMPDIR/check/some/upper/path/etc/written")"
	"$TOP/overlay-diskfile" -u "$BATS_TEST_TMPDIR/check"
}

# debian_subhost NAME KEY=VALUE...: a subhost over the Debian root (the
# upstream spelling, a blank after =); prints the config path.
debian_subhost() {
	local name=$1 base=$BATS_TEST_TMPDIR/$1 kv
	shift
	mkdir -p "$base/root" "$base/work" "$base/live"
	{
		echo "BASE=."
		echo "LOWER= $DEBIAN_ROOT"
		echo "LOG= log"
		for kv in "$@"; do echo "$kv"; done
	} >"$base/$name.conf"
	echo "$base/$name.conf"
}

@test "Debian: START= /usr/sbin/cron runs cron once, as it is; overlay-stop does not call it" {
	conf=$(debian_subhost obuf "START= /usr/sbin/cron")
	boot "$conf"
	when_finished "$TOP/overlay-stop" obuf
	wait_until go obuf pgrep -x cron
	run go obuf sh -c 'for p in $(pgrep -x cron); do tr "\0" " " </proc/$p/cmdline; echo; done'
	assert_equal "/usr/sbin/cron " "$output" "cron processes (command lines)"
	run --separate-stderr "$TOP/overlay-stop" obuf
	assert_status 0
	assert_output_lacks "cron"
	assert_equal "" "$stderr" "stderr of overlay-stop"
}

@test "Debian: an upstream-style PREMOUNT and INIT (CONFIG, keys, exec \${REAPER:-/.reaper} \$NAME) boot sshd and cron" {
	conf=$(debian_subhost obug "START= ssh cron" "PREMOUNT= premount" "INIT= init")
	base=${conf%/*}
	cat >"$base/premount" <<'HOOK'
#!/bin/sh
# as overlay-boot 1.6's hooks: the config in $1 and CONFIG
[ "$1" = "$CONFIG" ] && [ -f "$CONFIG" ] || exit 1
mkdir -p "$UPPER/etc"
echo "premount of $NAME from $CONFIG" >"$UPPER/etc/premount-ran"
HOOK
	cat >"$base/init" <<'HOOK'
#!/bin/sh
cat <<EOF
#!/bin/sh
for S in $START ; do service \$S start ; done
exec ${REAPER:-/.reaper} $NAME
EOF
HOOK
	chmod +x "$base/premount" "$base/init"
	boot "$conf"
	when_finished "$TOP/overlay-stop" obug
	assert_file_has "$base/root/etc/premount-ran" "premount of obug from $conf"
	run go obug cat /proc/1/comm
	assert_equal reaper "$output" "pid 1"
	wait_until go obug pgrep -x sshd
	wait_until go obug pgrep -x cron
	run go obug service ssh status
	assert_status 0
	stop obug
	assert_output_has "obug: stopped cron (exit 0)"
	assert_output_has "obug: stopped ssh (exit 0)"
}
