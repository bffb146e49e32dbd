#!/usr/bin/env bash
# 0700: the libFuzzer targets (test/fuzz/) build, every committed seed and
# crash-* regression input runs clean, and a few seconds of fuzzing per
# target find nothing.  The long runs are `make fuzz FUZZ_SECONDS=600`.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${FUZZ_SMOKE_SECONDS:-5}
command -v clang >/dev/null 2>&1 ||
	skip "clang not installed (tools/deps.sh test installs it)"
# clang without its runtime (libclang-rt-*-dev) cannot link a fuzzer.
printf '%s\n' 'int LLVMFuzzerTestOneInput(const char *d, long n)' \
	'{ (void)d; (void)n; return 0; }' >"$T/probe.c"
clang -fsanitize=fuzzer -o "$T/probe" "$T/probe.c" >/dev/null 2>&1 ||
	skip "clang cannot link libFuzzer (libclang-rt-dev missing)"

# The fuzz build is its own (build/fuzz); test/run.sh exports the asan
# build's settings, which must not leak into it.
unset BUILD_DIR SPOOLSHIP
if ! make -s -C "$top" -j2 BUILD=build/fuzz CC=clang SAN=fuzz fuzz-bin \
	>"$T/build.log" 2>&1; then
	tail -n 30 "$T/build.log"
	not_ok "fuzz targets build"
	finish
fi
ok "fuzz targets build"
n=$(ls "$top"/build/fuzz/fuzz/fuzz_* 2>/dev/null | wc -l)
check "six targets" test "$n" -ge 6
check "every seed and regression input runs clean" \
	"$top/test/fuzz/run.sh" "$top/build/fuzz" 0
check "${secs}s of fuzzing per target finds nothing" \
	"$top/test/fuzz/run.sh" "$top/build/fuzz" "$secs"
finish
