#!/usr/bin/env bash
# test/run.sh - runs every unit test binary and every integration script,
# each bounded in time (300 s, or a script's "# test-timeout: N"), and
# prints each result as it finishes with its wall and CPU time ("PASS
# name (12.3 s, cpu 4.5 s)": on a shared machine the CPU time says what
# the test costs, the wall time what it waited), the slowest tests and
# the total, then "N passed, N failed, N skipped".
# TESTS="A B" runs only the tests whose names contain A or B.
# JOBS=N (default 2, or 1 on one CPU: `make check`'s budget is 10 minutes
# on 2 cores) runs up to N integration scripts at once; a script with a
# line "# test-serial: WHY" runs alone: it mounts, installs, builds, loads
# the machine or measures time.  CHAOS=1 (`make chaos`) reaches the scripts:
# the long fault walks instead of the short ones.
# An integration script exits 0 (pass), 77 (skip, with a reason) or other.
set -u
BUILD_DIR=${BUILD_DIR:?set BUILD_DIR to the build directory}
export BUILD_DIR
export SPOOLSHIP="$BUILD_DIR/spoolship"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
top=$(cd "$(dirname "$0")/.." && pwd)
filter=${TESTS:-}
cpus=$(nproc 2>/dev/null || echo 1)
jobs_max=${JOBS:-$(( cpus < 2 ? cpus : 2 ))}
[[ $jobs_max =~ ^[1-9][0-9]*$ ]] ||
	{ echo "JOBS=$jobs_max: not a number"; exit 2; }
pass=0 fail=0 skip=0 failed=() times=()
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# Interrupted: the tests still running are stopped (through their
# timeout, the child of each test's subshell) instead of running on.
trap 'for p in "${!job_name[@]}"; do pkill -TERM -P "$p"; done
	wait; exit 130' INT TERM

# now_ds: the wall clock in tenths of a second (bash's $EPOCHREALTIME).
now_ds() { local t=${EPOCHREALTIME/[.,]/}; echo $(( ${t%?????} )); }
# secs DS: tenths of a second as "12.3".
secs() { echo "$(( $1 / 10 )).$(( $1 % 10 ))"; }
# cpu_ds FILE: user + system time of the finished children in FILE, the
# output of `times` (its second line, "1m2.345s 0m0.678s"), in tenths of
# a second.
cpu_ds() {
	local u s
	{ read -r _; read -r u s; } < "$1"
	echo $(( $(min_ds "$u") + $(min_ds "$s") ))
}
min_ds() { # "1m2.345s" as tenths of a second
	local m=${1%%m*} r=${1#*m}
	r=${r%s}
	echo $(( m * 600 + 10#${r%.*} * 10 + 10#${r#*.} / 100 ))
}
# wanted NAME: no TESTS, or NAME contains one of its words.
wanted() {
	local w
	[ -z "$filter" ] && return 0
	for w in $filter; do [[ $1 == *"$w"* ]] && return 0; done
	return 1
}
t_start=$(now_ds)

# A test runs in a subshell in the background, its output in DIR/log,
# then "EXIT_CODE WALL_DS CPU_DS" in DIR/result.
declare -A job_name job_dir
running=0
start_one() { # name timeout command...
	local name=$1 limit=$2 dir
	shift 2
	dir=$(mktemp -d "$scratch/job.XXXXXX")
	(
		t0=$(now_ds)
		timeout -k 5 "$limit" "$@" >"$dir/log" 2>&1 </dev/null
		rc=$?
		times >"$dir/times" # the subshell's own children: this test
		echo "$rc $(( $(now_ds) - t0 )) $(cpu_ds "$dir/times")" \
			>"$dir/result"
	) &
	job_name[$!]=$name
	job_dir[$!]=$dir
	running=$((running + 1))
}
# reap_one: waits for a test to finish and prints its result.
reap_one() {
	local pid name dir rc ds cpu t
	wait -n -p pid
	name=${job_name[$pid]} dir=${job_dir[$pid]}
	unset "job_name[$pid]" "job_dir[$pid]"
	running=$((running - 1))
	read -r rc ds cpu < "$dir/result" 2>/dev/null ||
		{ rc=1 ds=0 cpu=0; }
	times+=("$ds $name")
	t="$(secs "$ds") s, cpu $(secs "$cpu") s"
	case $rc in
	0) pass=$((pass + 1)); echo "PASS $name ($t)" ;;
	77) skip=$((skip + 1))
	    echo "SKIP $name ($t): $(tail -n 1 "$dir/log")" ;;
	*) fail=$((fail + 1)); failed+=("$name")
	   echo "FAIL $name (exit $rc, $t)"
	   tail -n 40 "$dir/log" | sed 's/^/    /' ;;
	esac
	rm -rf "$dir"
}
# run_one NAME TIMEOUT JOBS COMMAND...: starts the test once fewer than
# JOBS run (JOBS 1: alone, after the others finished); a test run alone
# is also waited for.
run_one() {
	local name=$1 limit=$2 width=$3
	shift 3
	wanted "$name" || return
	while [ "$running" -ge "$width" ] || { [ "$width" -eq 1 ] &&
	      [ "$running" -gt 0 ]; }; do
		reap_one
	done
	start_one "$name" "$limit" "$@"
	[ "$width" -eq 1 ] && reap_one
}

for t in "$BUILD_DIR"/test/test_*; do
	[ -x "$t" ] || continue
	run_one "unit/$(basename "$t")" 300 1 "$t"
done
run_script() { # SCRIPT JOBS
	local limit
	# A script may ask for a longer bound: "# test-timeout: SECONDS".
	limit=$(sed -n 's/^# test-timeout: \([0-9][0-9]*\)$/\1/p' "$1" |
		head -n 1)
	run_one "integration/$(basename "$1" .sh)" "${limit:-300}" "$2" \
		bash "$1"
}
# With JOBS > 1 the scripts that run alone come after the others: the
# pool empties once, not before each of them (leaving a core idle until
# the other script finishes).
alone=()
for t in "$top"/test/integration/[0-9]*.sh; do
	[ -e "$t" ] || continue
	wanted "integration/$(basename "$t" .sh)" || continue
	if grep -qE '^# test-serial(:|$)' "$t"; then
		[ "$jobs_max" -gt 1 ] && { alone+=("$t"); continue; }
		run_script "$t" 1
	else
		run_script "$t" "$jobs_max"
	fi
done
for t in "${alone[@]}"; do run_script "$t" 1; done
while [ "$running" -gt 0 ]; do reap_one; done
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[*]}"
if [ ${#times[@]} -gt 0 ]; then
	printf '%s\n' "${times[@]}" | sort -rn | head -n 5 |
		while read -r ds name; do
			echo "slowest: $name ($(secs "$ds") s)"
		done
fi
echo "total: $(secs $(( $(now_ds) - t_start ))) s, JOBS=$jobs_max"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
