#!/usr/bin/env bash
# test/fuzz/run.sh - runs every libFuzzer target built in BUILD_DIR/fuzz
# for SECONDS each, one after the other, on a copy of its committed seeds
# (test/fuzz/corpus/<target>/ is only read: new inputs go to a scratch
# directory removed at the end).  Prints per target the runs and exec/s
# from libFuzzer's final stats; exits 1 on any crash, leak or timeout and
# prints the path of the input that caused it.
#
#   test/fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
#
# SECONDS 0 runs each committed seed once and stops (the regression run).
# TARGET: validate, ndjson, config, answer, record, ingest (default: all).
# FUZZ_KEEP=DIR keeps the inputs found, in DIR/<target>/.
set -u
build=${1:?usage: $0 BUILD_DIR SECONDS [TARGET...]}
secs=${2:?usage: $0 BUILD_DIR SECONDS [TARGET...]}
shift 2
top=$(cd "$(dirname "$0")/../.." && pwd)
seeds="$top/test/fuzz/corpus"
case $build in /*) ;; *) build="$PWD/$build" ;; esac
artifacts="$build/fuzz/artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Longest input per target: about what each parser sees in one piece.
max_len() {
	case $1 in
	record) echo 1024 ;;
	validate|answer) echo 4096 ;;
	ingest) echo 8192 ;;
	config) echo 12288 ;; # config.example.ini whole
	*) echo 16384 ;;
	esac
}

work=$(mktemp -d "${TMPDIR:-/tmp}/spoolship-fuzz-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$artifacts" "$work/tmp"

if [ $# -gt 0 ]; then
	targets=("$@")
else
	targets=()
	for b in "$build"/fuzz/fuzz_*; do
		[ -x "$b" ] && targets+=("$(basename "$b" | sed 's/^fuzz_//')")
	done
fi
if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz: no targets in $build/fuzz (make fuzz-bin first)" >&2
	exit 2
fi

# What a sanitizer, libFuzzer or a FUZZ_CHECK says about a failure.
why='^==[0-9]+==ERROR|^SUMMARY|check failed|runtime error'

# stat NAME LOG: the value of libFuzzer's "stat::NAME:" line.
stat() { sed -n "s/^stat::$1: *//p" "$2" | tail -n 1; }

failed=0
for t in "${targets[@]}"; do
	bin="$build/fuzz/fuzz_$t"
	log="$work/$t.log"
	if [ ! -x "$bin" ]; then
		echo "fuzz_$t: not built ($bin)"
		failed=1
		continue
	fi
	mkdir -p "$work/corpus/$t" "$artifacts/$t"
	dirs=("$work/corpus/$t")
	[ -d "$seeds/$t" ] && dirs+=("$seeds/$t")
	before=$(ls "$artifacts/$t" | wc -l)
	if [ "$secs" -eq 0 ]; then
		# Every seed once, whole (-max_len would cut longer ones).
		args=(-runs=0 -max_len=1048576)
	else
		args=(-max_total_time="$secs" -max_len="$(max_len "$t")")
	fi
	(cd "$work" && TMPDIR="$work/tmp" "$bin" "${args[@]}" \
		-print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$artifacts/$t/" \
		"${dirs[@]}") >"$log" 2>&1
	rc=$?
	runs=$(stat number_of_executed_units "$log")
	speed=$(stat average_exec_per_sec "$log")
	added=$(stat new_units_added "$log")
	rss=$(stat peak_rss_mb "$log")
	found=$(sed -n 's/.*Test unit written to \([^ ]*\).*/\1/p' "$log")
	after=$(ls "$artifacts/$t" | wc -l)
	if [ "$rc" -eq 0 ] && [ "$after" -eq "$before" ]; then
		printf 'fuzz_%-9s %8s exec/s %10s runs %5s new inputs' \
			"$t" "${speed:-?}" "${runs:-?}" "${added:-0}"
		printf ' %5s MB  ok\n' "${rss:-?}"
	else
		failed=1
		printf 'fuzz_%-9s FAILED (exit %d) after %s runs\n' "$t" \
			"$rc" "${runs:-?}"
		grep -E "$why" "$log" | head -n 5 | sed 's/^/    /'
		for f in $found; do echo "    input: $f"; done
		[ -n "$found" ] || echo "    log: see below"
		[ -n "$found" ] || tail -n 30 "$log" | sed 's/^/    /'
	fi
	if [ -n "${FUZZ_KEEP:-}" ]; then
		mkdir -p "$FUZZ_KEEP/$t"
		cp -n "$work/corpus/$t"/* "$FUZZ_KEEP/$t/" 2>/dev/null
	fi
done
if [ "$failed" -ne 0 ]; then
	echo "fuzz: FAILED; reproduce with: $build/fuzz/fuzz_TARGET INPUT"
	exit 1
fi
