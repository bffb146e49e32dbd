#!/usr/bin/env bash
# test/run.sh - runs every unit test binary and every integration script,
# each bounded in time (300 s, or a script's "# test-timeout: N"), and
# prints "N passed, N failed, N skipped".
# An integration script exits 0 (pass), 77 (skip, with a reason) or other.
set -u
BUILD_DIR=${BUILD_DIR:?set BUILD_DIR to the build directory}
export BUILD_DIR
export SPOOLSHIP="$BUILD_DIR/spoolship"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
top=$(cd "$(dirname "$0")/.." && pwd)
filter=${TESTS:-}
pass=0 fail=0 skip=0 failed=()

run_one() { # name timeout command...
	local name=$1 limit=$2 log rc
	shift 2
	[ -n "$filter" ] && [[ $name != *$filter* ]] && return
	log=$(mktemp)
	timeout -k 5 "$limit" "$@" >"$log" 2>&1
	rc=$?
	case $rc in
	0) pass=$((pass + 1)); echo "PASS $name" ;;
	77) skip=$((skip + 1)); echo "SKIP $name: $(tail -n 1 "$log")" ;;
	*) fail=$((fail + 1)); failed+=("$name")
	   echo "FAIL $name (exit $rc)"; tail -n 40 "$log" | sed 's/^/    /' ;;
	esac
	rm -f "$log"
}

for t in "$BUILD_DIR"/test/test_*; do
	[ -x "$t" ] || continue
	run_one "unit/$(basename "$t")" 300 "$t"
done
for t in "$top"/test/integration/[0-9]*.sh; do
	[ -e "$t" ] || continue
	# A script may ask for a longer bound: "# test-timeout: SECONDS".
	limit=$(sed -n 's/^# test-timeout: \([0-9][0-9]*\)$/\1/p' "$t" |
		head -n 1)
	run_one "integration/$(basename "$t" .sh)" "${limit:-300}" bash "$t"
done
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
