# shellcheck shell=bash
# Shared bats helpers: the leak check of DESIGN.md §6 around every test,
# and builders for test subhosts. Load with `load helpers`.

bats_require_minimum_version 1.5.0

TOP=$(cd "$BATS_TEST_DIRNAME" && while [ ! -f functions ] && [ "$PWD" != / ]; do cd ..; done; pwd)
export TOP
export PATH="$TOP:$PATH"

# ---------------------------------------------------------------- leaks

# host_snapshot: what a test must leave as it found it.
host_snapshot() {
	echo "## mounts"
	sed 's/^[0-9]* [0-9]* [0-9:]* [^ ]* \([^ ]*\) .* - \([^ ]*\) \([^ ]*\) .*/\1 \2 \3/' /proc/self/mountinfo | sort
	echo "## netns"
	ip netns list 2>/dev/null | awk '{print $1}' | sort
	echo "## links"
	ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | sort
	echo "## cgroups"
	find /sys/fs/cgroup -mindepth 2 -maxdepth 4 -type d -path '*overlay-boot*' 2>/dev/null | sort
	echo "## loops"
	losetup -n -l -O NAME,BACK-FILE 2>/dev/null | sort
	echo "## state"
	ls -A /run/overlay-boot 2>/dev/null | grep -v '\.lock$' || true
}

# Every process a test starts carries OBT_LEAK_TAG in its environment
# (the supervisor and the subhost's pid 1 and services inherit it; what
# overlay-go starts with a clean environment lives in the subhost's pid
# namespace and dies with its pid 1). Processes of anything else running
# on the machine are never counted, and never killed.
export OBT_LEAK_TAG="obt-$$-$RANDOM"

# new_processes: the test's processes alive now that were not at setup,
# except the test's own ancestry and the pipeline looking at them.
new_processes() {
	local ancestors=" " p=$BASHPID pid me=$BASHPID
	while [ "$p" -gt 1 ] 2>/dev/null; do
		ancestors="$ancestors$p "
		p=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null) || break
	done
	grep -l -s -a "OBT_LEAK_TAG=$OBT_LEAK_TAG" /proc/[0-9]*/environ | cut -d/ -f3 |
		sort -un | while read -r pid; do
		case "$ancestors" in *" $pid "*) continue ;; esac
		case " $LEAK_PIDS " in *" $pid "*) continue ;; esac
		[ -e "/proc/$pid" ] || continue
		# a zombie is already dead; its parent is what leaked, if anything
		[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && continue
		# the pipeline of this function itself
		[ "$(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null)" = "$me" ] && continue
		echo "$pid $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")"
	done
}

setup() {
	# ip netns makes /run/netns a mount point the first time: do it now, so
	# that it is not counted against the test.
	if [ ! -d /run/netns ] || ! mountpoint -q /run/netns; then
		ip netns add "obt-warmup$$" && ip netns delete "obt-warmup$$" || true
	fi
	LEAK_BEFORE=$(host_snapshot)
	LEAK_PIDS=$(ps -e -o pid= | tr '\n' ' ')
	if declare -F setup_test >/dev/null; then setup_test; fi
}

teardown() {
	run_when_finished
	if declare -F teardown_test >/dev/null; then teardown_test; fi
	local after procs i
	for i in $(seq 1 40); do
		after=$(host_snapshot)
		procs=$(new_processes)
		[ "$after" = "$LEAK_BEFORE" ] && [ -z "$procs" ] && return 0
		sleep 0.1
	done
	local report
	report=$(
		echo "# LEAK after test: host state differs"
		diff <(echo "$LEAK_BEFORE") <(echo "$after") | sed 's/^/#   /'
		[ -z "$procs" ] || echo "$procs" | sed 's/^/#   process left: /'
	)
	# fd 3 is bats' own output; a test may have closed it
	{ echo "$report" >&3; } 2>/dev/null || echo "$report" >&2
	leak_repair "$procs"
	return 1
}

# leak_repair PROCS: undo what a failed test leaked, so that the next test
# starts clean (the failure has been reported already).
leak_repair() {
	local name names=
	for name in $(ls /run/overlay-boot 2>/dev/null); do
		case "$name" in *.lock | pending.*) continue ;; esac
		# only this test's subhosts: their configs are in its directory
		case "$(cat "/run/overlay-boot/$name/conf" 2>/dev/null)" in
		"$BATS_TEST_TMPDIR"/*) ;;
		*) continue ;;
		esac
		names="$names $name"
		"$TOP/overlay-stop" "$name" >/dev/null 2>&1
	done
	echo "$1" | awk 'NF {print $1}' | xargs -r kill -9 2>/dev/null
	sleep 0.2
	grep -F "$BATS_TEST_TMPDIR" /proc/self/mountinfo | awk '{print $5}' | sort -r |
		xargs -r -n1 umount -l 2>/dev/null
	for name in $names; do
		ip netns delete "$name" 2>/dev/null
		find /sys/fs/cgroup -depth -type d -path "*/overlay-boot/$name" -exec rmdir {} \; 2>/dev/null
		rm -rf "/run/overlay-boot/$name"
	done
	true
}

# nobody_top: print a copy of the tree's commands and library that any
# user can read, for tests run as nobody: the clone itself may be below a
# directory of root's alone (/root), where nobody meets the shell's
# "Permission denied" before any line of ours.
nobody_top() {
	local t=$BATS_FILE_TMPDIR/nobody-tree d
	if [ ! -d "$t" ]; then
		mkdir -p "$t/src"
		cp -a "$TOP"/functions "$TOP"/lib "$TOP"/overlay-* "$t/"
		cp -a "$TOP"/src/. "$t/src/"
		chmod -R a+rX "$t"
		d=$t
		while [ "$d" != / ]; do
			chmod a+x "$d"
			d=$(dirname "$d")
		done
	fi
	echo "$t"
}

# ------------------------------------------------------------ subhosts

# make_subhost NAME [KEY=VALUE...]: a subhost directory under the test's
# temporary directory; prints the config path. LOG stays in BASE.
make_subhost() {
	local name=$1 base=$BATS_TEST_TMPDIR/$1
	shift
	mkdir -p "$base/root" "$base/work" "$base/live"
	{
		echo "BASE=."
		echo "START=none"
		echo "LOG=log"
		for kv in "$@"; do echo "$kv"; done
	} >"$base/$name.conf"
	echo "$base/$name.conf"
}

# tiny_root DIR: a minimal root made of busybox-static.
tiny_root() {
	local dir=$1 bb
	bb=$(command -v busybox) || { echo "busybox-static is not installed" >&2; return 1; }
	mkdir -p "$dir"/{bin,sbin,etc,proc,sys,dev,run,tmp,root,usr/bin,usr/sbin}
	cp "$bb" "$dir/bin/busybox"
	for applet in $("$dir/bin/busybox" --list); do
		[ -e "$dir/bin/$applet" ] || ln -s busybox "$dir/bin/$applet"
	done
	echo "root:x:0:0:root:/root:/bin/sh" >"$dir/etc/passwd"
	echo "root:x:0:" >"$dir/etc/group"
}

# boot CONF: overlay-boot that must succeed.
boot() {
	run "$TOP/overlay-boot" "$1"
	if [ "$status" -ne 0 ]; then
		echo "overlay-boot $1 failed ($status): $output" >&2
		return 1
	fi
}

stop() {
	run "$TOP/overlay-stop" "$1"
	if [ "$status" -ne 0 ]; then
		echo "overlay-stop $1 failed ($status): $output" >&2
		return 1
	fi
}

# go NAME COMMAND...: output of a command run inside.
go() {
	"$TOP/overlay-go" "$@"
}

# ------------------------------------------------------------ assertions
# Each prints what it saw when it fails (bats shows it with the failure).

# when_finished COMMAND...: run COMMAND at the end of the test, pass or
# fail, before the leak check (newest first); register it where the
# thing it undoes is made, as git's test_when_finished.
WHEN_FINISHED=()
when_finished() {
	local quoted
	printf -v quoted '%q ' "$@"
	WHEN_FINISHED=("$quoted" "${WHEN_FINISHED[@]}")
}

run_when_finished() {
	local cmd
	for cmd in "${WHEN_FINISHED[@]}"; do
		eval "$cmd" >/dev/null 2>&1 || true
	done
	WHEN_FINISHED=()
}

# wait_until COMMAND...: retry COMMAND for up to 5 s (a bound, not a
# timing assertion); fails saying what it waited for.
wait_until() {
	local i
	for i in $(seq 1 100); do
		"$@" && return 0
		sleep 0.05
	done
	echo "timed out waiting for: $*" >&2
	return 1
}

# assert_status N: the last `run` exited with N.
assert_status() {
	[ "$status" -eq "$1" ] && return 0
	printf 'expected exit status %s, got %s; output:\n%s\n' "$1" "$status" "$output" >&2
	return 1
}

# assert_output_has TEXT: the last `run`'s output contains TEXT.
assert_output_has() {
	[[ "$output" == *"$1"* ]] && return 0
	printf 'expected the output to contain: %s\noutput was:\n%s\n' "$1" "$output" >&2
	return 1
}

# assert_output_lacks TEXT: the last `run`'s output does not contain TEXT.
assert_output_lacks() {
	[[ "$output" != *"$1"* ]] && return 0
	printf 'expected the output not to contain: %s\noutput was:\n%s\n' "$1" "$output" >&2
	return 1
}

# assert_equal EXPECTED ACTUAL [WHAT]
assert_equal() {
	[ "$1" = "$2" ] && return 0
	printf '%sexpected: %s\n     got: %s\n' "${3:+$3: }" "$1" "$2" >&2
	return 1
}

# assert_file_has FILE TEXT: FILE exists and contains TEXT.
assert_file_has() {
	if [ ! -e "$1" ]; then
		printf '%s: no such file (expected it to contain: %s)\n' "$1" "$2" >&2
		return 1
	fi
	grep -qF -- "$2" "$1" && return 0
	printf '%s does not contain: %s\nit holds:\n' "$1" "$2" >&2
	head -n 40 "$1" >&2
	return 1
}

# assert_exists PATH / assert_missing PATH
assert_exists() {
	[ -e "$1" ] || [ -L "$1" ] && return 0
	printf '%s: expected to exist, it does not\n' "$1" >&2
	return 1
}

assert_missing() {
	[ ! -e "$1" ] && [ ! -L "$1" ] && return 0
	printf '%s: expected not to exist; it is:\n' "$1" >&2
	ls -ld -- "$1" >&2
	return 1
}
