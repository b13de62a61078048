#!/usr/bin/env bats
# Documentation and boot-time files: every option of every command's
# --help and every config key are in the man pages, the pages build
# without a warning, the systemd unit verifies, the completion completes.

load helpers

# The pages are rendered once for the file, here rather than in the tree;
# a warning of asciidoctor fails the first test.
setup_file() {
	export MANROOT=$BATS_FILE_TMPDIR/man
	mkdir -p "$MANROOT/man8"
	asciidoctor -b manpage --failure-level=WARN -a mansource='overlay-boot test' \
		-D "$MANROOT/man8" "$BATS_TEST_DIRNAME"/../man/*.adoc >"$BATS_FILE_TMPDIR/asciidoctor.log" 2>&1
	echo $? >"$BATS_FILE_TMPDIR/asciidoctor.status"
}

# page_text NAME: the rendered man page NAME(8) as plain ASCII text.
page_text() {
	LC_ALL=C MANWIDTH=200 man -l "$MANROOT/man8/$1.8" 2>/dev/null | col -b
}

# commands: the commands of the tree (the hooks, the supervisor and the
# mount stage are not commands).
commands() {
	local f
	for f in "$TOP"/overlay-*; do
		case ${f##*/} in
		overlay-init | overlay-premount | overlay-postmount | overlay-mount-stage | overlay-supervisor) continue ;;
		esac
		[ -x "$f" ] && echo "${f##*/}"
	done
}

# help_options COMMAND...: every option that COMMAND's --help mentions.
help_options() {
	"$@" --help | grep -oE '(^|[][ ,|(])--?[A-Za-z][-A-Za-z0-9]*' |
		sed 's/^[][ ,|(]//' | sort -u
}

# check_options PAGE COMMAND...: print the options missing from PAGE.
check_options() {
	local page=$1 text opt
	shift
	text=$(page_text "$page")
	[ -n "$text" ] || { echo "$page(8): empty or missing"; return; }
	for opt in $(help_options "$@"); do
		grep -qE -- "(^|[^A-Za-z0-9-])$opt([^A-Za-z0-9-]|\$)" <<<"$text" ||
			echo "$page(8) lacks $opt"
	done
}

@test "every command, and the boot-time files, have a man page that builds without a warning" {
	cat "$BATS_FILE_TMPDIR/asciidoctor.log"
	[ "$(cat "$BATS_FILE_TMPDIR/asciidoctor.status")" = 0 ]
	for cmd in $(commands) subhosts; do
		[ -f "$TOP/man/$cmd.adoc" ] || echo "no man/$cmd.adoc"
		[ -s "$MANROOT/man8/$cmd.8" ] || echo "man/$cmd.adoc did not build"
	done >"$BATS_TEST_TMPDIR/missing"
	cat "$BATS_TEST_TMPDIR/missing"
	[ ! -s "$BATS_TEST_TMPDIR/missing" ]
	# NAME sections name the command (what whatis and apropos read)
	for cmd in $(commands); do
		page_text "$cmd" | grep -A1 '^NAME' | grep -q "$cmd - "
	done
}

@test "every option in each command's --help is in its man page" {
	for cmd in $(commands); do
		check_options "$cmd" "$TOP/$cmd"
	done >"$BATS_TEST_TMPDIR/missing"
	cat "$BATS_TEST_TMPDIR/missing"
	[ ! -s "$BATS_TEST_TMPDIR/missing" ]
}

@test "every option in overlay-pivot --help and ovroot --help is in overlay-pivot(8)" {
	[ -f "$TOP/man/overlay-pivot.adoc" ] || skip "man/overlay-pivot.adoc is not written yet"
	[ -x "$TOP/src/overlay-pivot" ] || make -C "$TOP" -s src/overlay-pivot src/ovroot
	{
		check_options overlay-pivot "$TOP/src/overlay-pivot"
		check_options overlay-pivot "$TOP/src/ovroot"
	} >"$BATS_TEST_TMPDIR/missing"
	cat "$BATS_TEST_TMPDIR/missing"
	[ ! -s "$BATS_TEST_TMPDIR/missing" ]
}

@test "every config key of the parser is described in overlay-boot(8)" {
	keys=$(sh -c 'LIBDIR=$1; . "$1/functions"; echo $CONFIG_KEYS' sh "$TOP")
	[ -n "$keys" ]
	text=$(page_text overlay-boot)
	for key in $keys; do
		grep -qE "^ +$key=" <<<"$text" || echo "overlay-boot(8) does not describe $key"
	done >"$BATS_TEST_TMPDIR/missing"
	cat "$BATS_TEST_TMPDIR/missing"
	[ ! -s "$BATS_TEST_TMPDIR/missing" ]
}

@test "subhosts@.service passes systemd-analyze verify, man pages included" {
	command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed"
	mkdir -p "$BATS_TEST_TMPDIR/units"
	unit=$BATS_TEST_TMPDIR/units/subhosts@obd0.service
	# The tree's helper stands in for the installed one.
	sed "s|/usr/lib/overlay-boot/subhosts-unit|$TOP/subhosts-unit|" \
		"$TOP/subhosts@.service" >"$unit"
	run env MANPATH="$MANROOT" systemd-analyze verify "$unit"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# and it is checked for real: a missing helper fails
	sed -i "s|$TOP/subhosts-unit|$TOP/no-such-helper|" "$unit"
	run env MANPATH="$MANROOT" systemd-analyze verify "$unit"
	[ "$status" -ne 0 ]
}

@test "the boot-time helper and the completion pass shellcheck; subhosts-unit has no bashisms" {
	shellcheck -s sh "$TOP/subhosts-unit"
	checkbashisms -f "$TOP/subhosts-unit"
	shellcheck -s bash "$TOP/completion/overlay-boot"
}

# complete WORD...: what the bash completion offers for the command line
# WORD... (the last word is the one being completed).
complete_words() {
	bash -c '. "$1/completion/overlay-boot"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_overlay_boot; printf "%s\n" "${COMPREPLY[@]}"' sh "$TOP" "$@"
}

@test "bash completion: options, config files, running subhosts, listed configs, commands inside" {
	conf=$(make_subhost obd1)
	base=${conf%/*}
	run complete_words overlay-boot --f
	[ "$output" = --foreground ]
	run complete_words overlay-list -
	[[ "$output" == *--json* && "$output" == *-j* ]]
	# every option of every command's --help is offered
	for cmd in $(commands); do
		[ "$(complete_words "$cmd" - | sort)" = "$(help_options "$TOP/$cmd")" ]
	done
	run complete_words overlay-boot "$base/obd"
	[ "$output" = "$base/obd1.conf" ]
	# directories are offered to walk into, other files are not
	touch "$base/notes.txt"
	run complete_words overlay-boot "$base/"
	[[ "$output" == *"$base/obd1.conf"* && "$output" == *"$base/root"* ]]
	[[ "$output" != *notes.txt* ]]
	# the configs of the boot list
	echo "$conf" >"$BATS_TEST_TMPDIR/subhosts.conf"
	run env SUBHOSTS_CONF="$BATS_TEST_TMPDIR/subhosts.conf" bash -c \
		'. "$1/completion/overlay-boot"; COMP_WORDS=(overlay-clean-root /); COMP_CWORD=1
		_overlay_boot; printf "%s\n" "${COMPREPLY[@]}"' sh "$TOP"
	[[ "$output" == *"$conf"* ]]
	boot "$conf"
	run complete_words overlay-stop obd
	[ "$output" = obd1 ]
	run complete_words overlay-go obd1 hostn
	[[ "$output" == *hostname* ]]
	run complete_words overlay-share /srv obd
	[ "$output" = obd1 ]
	run complete_words overlay-share -u /mnt obd
	[ "$output" = obd1 ]
	stop obd1
	run complete_words overlay-stop obd
	[ -z "$output" ]
}
