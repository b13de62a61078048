#!/usr/bin/env bats
# The fuzz target of overlay-pivot's argument and spec parser, run for a
# bounded time (FUZZ_SECONDS, default 10; `make fuzz` runs it longer).

load helpers
bats_require_minimum_version 1.5.0

@test "the argument and spec parser survives fuzzing (libFuzzer, ASan, UBSan)" {
	command -v clang >/dev/null || skip "clang is not installed"
	T=$BATS_TEST_TMPDIR
	top=$BATS_TEST_DIRNAME/..
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-D_GNU_SOURCE -std=c11 -I"$top/src" "$top/tests/fuzz/fuzz-parse.c" \
		"$top/src/pivot-parse.c" -o "$T/fuzz-parse"
	mkdir -p "$T/corpus"
	cp "$top"/tests/fuzz/corpus/* "$T/corpus/"
	run "$T/fuzz-parse" -max_total_time="${FUZZ_SECONDS:-10}" -rss_limit_mb=1024 \
		-artifact_prefix="$T/" "$T/corpus"
	echo "$output" | tail -5
	[ "$status" -eq 0 ]
	[[ "$output" == *"Done "*" runs in "* ]]
	[ -z "$(ls "$T" | grep -E '^(crash|leak|timeout|oom)-')" ]
}
