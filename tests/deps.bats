#!/usr/bin/env bats
# The one list of Debian packages (the file `packages`) against what
# uses it: debian/control's Build-Depends, the archive, .ci/run.

load helpers

teardown_test() {
	[ -z "${COPY:-}" ] || rm -rf "$COPY"
}

# listed TARGET...: the packages `packages` lists for any of TARGET.
listed() {
	awk -v targets=" $* " '/^#/ || NF < 2 { next }
		{ for (i = 2; i <= NF; i++) if (index(targets, " " $i " ")) { print $1; next } }' \
		"$TOP/packages" | sort -u
}

@test "debian/control's Build-Depends are the packages listed for build and deb, besides build-essential" {
	control=$(awk '/^Build-Depends:/ { f = 1; sub(/^Build-Depends:/, ""); print; next }
		f && /^[ \t]/ { print; next } { f = 0 }' "$TOP/debian/control" | tr ',' '\n' |
		sed 's/(.*)//; s/|.*//; s/^[[:space:]]*//; s/[[:space:]]*$//; /^$/d; s/^debhelper-compat$/debhelper/' |
		sort -u)
	list=$(listed build deb | grep -vx -e make -e gcc -e libc6-dev -e build-essential)
	echo "Build-Depends: $(echo $control)"
	echo "packages (build, deb): $(echo $list)"
	[ -n "$control" ]
	[ "$control" = "$list" ]
}

@test "every name in packages is a real package of the Debian archive, with a known target" {
	bad=$(awk '/^#/ || NF == 0 { next } NF < 2 { print "no target: " $0; next }
		{ for (i = 2; i <= NF; i++) if ($i !~ /^(build|deb|demo|check|bench)$/) print "bad target: " $0 }' \
		"$TOP/packages")
	echo "$bad"
	[ -z "$bad" ]
	for p in $(listed build deb demo check bench); do
		run apt-cache show --no-all-versions "$p"
		[ "$status" -eq 0 ] && [[ "$output" == "Package: $p"* ]] ||
			{ echo "not in the archive: $p ($output)"; false; }
	done
}

@test "tests/deps: nothing missing, nothing done, nothing printed; no target or an unknown one is a usage error" {
	run --separate-stderr sh "$TOP/tests/deps" build deb demo check
	echo "status $status, stderr: $stderr"
	[ "$status" -eq 0 ]
	[ -z "$output$stderr" ]
	run sh "$TOP/tests/deps"
	[ "$status" -eq 2 ]
	run --separate-stderr sh "$TOP/tests/deps" check tests
	echo "status $status, stderr: $stderr"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"unknown target 'tests'"* ]]
}

@test "tests/deps as a non-root caller names what is missing and installs nothing" {
	# a tree that the caller can read (bats' own directory is root's only)
	COPY=$(mktemp -d /tmp/obt-deps.XXXXXX)
	copy=$COPY
	mkdir -p "$copy/tests"
	cp "$TOP/tests/deps" "$copy/tests/"
	printf 'make build\nobt-no-such-package check\n' >"$copy/packages"
	chmod -R a+rX "$copy"
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
		sh "$copy/tests/deps" check
	echo "status $status, stderr: $stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"missing Debian packages: obt-no-such-package"* ]]
	[[ "$stderr" != *" make"* ]]
}

@test ".ci/run names no package: it runs make check, which installs them" {
	run grep -c 'apt-get\|dpkg' "$TOP/.ci/run"
	[ "$output" = 0 ]
	grep -q '^exec make check$' "$TOP/.ci/run"
	grep -q '$(DEPS) build check' "$TOP/Makefile"
	grep -q '$(DEPS) build demo' "$TOP/Makefile"
}
