#!/usr/bin/env bash
# 0710: injected I/O faults (test/faultshim.c, docs/testing-faults.md).
# The Nth write, sync or open of one process on the spool's files fails
# with EIO, then with ENOSPC, in
#   (a) `spoolship append` of 1,000 events in 10 commits (sync = full);
#   (b) a library producer appending 100 events one per commit that goes
#       on after an error (about 460 calls);
#   (c) `spoolship run --until-empty` shipping 1,000 events to the mock
#       and deleting them (the shim in the shipper only).
# Which N: a clean run of each is counted per kind of call (open, pwrite,
# writev, fdatasync, ... : every kind the shim knows), and N walks each
# kind's calls on its own (FAULT_CALLS), so every kind the run makes is
# failed at least once.  `make check`: per kind its first and last call
# and one between (KIND_POINTS=3: a stride from a random offset, printed),
# about 40 runs in all.  `make chaos` (CHAOS=1): every call of (a) and
# (c), as every N of all calls together (plus 1 past each kind's count in
# (c), whose batching follows timing), and 24 per kind of (b).
# Each time: the caller is told (no success for what is not durable), no
# crash and no sanitizer report, the spool reopens and verifies clean,
# and every event acknowledged to a producer is still in the spool or
# (c) was received by the mock.
# `make check`'s walk: 72 faulted runs, 65 s of CPU under ASan; CHAOS=1:
# about 370, 300 s of CPU; a loaded machine takes either far longer, hence
# the bound.
# test-timeout: 900
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ship.sh"
SHIM="$BUILD_DIR/faultshim.so"
[ -f "$SHIM" ] || skip "$SHIM not built"
# An ASan build refuses a preloaded library that comes before its runtime
# unless told not to check; the shim itself is not instrumented.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0"
CHAOS=${CHAOS:-0}
if [ "$CHAOS" = 1 ]; then
	KIND_POINTS=${KIND_POINTS:-0} # 0: every call of (a) and (c)
	PRODUCER_POINTS=${PRODUCER_POINTS:-24}
else
	KIND_POINTS=${KIND_POINTS:-3}
	PRODUCER_POINTS=${PRODUCER_POINTS:-$KIND_POINTS}
fi
# Every kind of call the shim counts (test/faultshim.c): those LMDB
# makes one by one, the others (none today) together, then one by one if
# they are made at all.
KINDS="open pwrite writev fdatasync write,pwritev,fsync,msync,ftruncate"
ROOT=$(cd "$T" && pwd -P)  # what /proc/self/fd/N shows
SPOOL="$ROOT/spool"
CNT="$T/count"

# faulty N ERRNO COMMAND...: COMMAND (bounded in time) with the shim
# failing call N (0: none) on the spool's files, FAULT_STICKY and
# FAULT_CALLS passed on; INJECTED and CALLS are set afterwards.
faulty() {
	local n=$1 e=$2 rc
	shift 2
	rm -f "$CNT"
	timeout -k 5 60 env LD_PRELOAD="$SHIM" FAULT_AT="$n" \
		FAULT_ERRNO="$e" FAULT_PATH_PREFIX="$SPOOL/" \
		FAULT_COUNT_FILE="$CNT" FAULT_STICKY="${FAULT_STICKY:-0}" \
		FAULT_CALLS="${FAULT_CALLS:-}" "$@"
	rc=$?
	CALLS=0 INJECTED=0
	[ -s "$CNT" ] && read -r CALLS INJECTED < "$CNT"
	return $rc
}
# crashed RC LOG: a signal, a timeout or a sanitizer report.
crashed() {
	[ "$1" -ge 124 ] ||
		grep -qE 'Sanitizer|runtime error:' "$2"
}
# spool_ids: every "id" in the spool, one per line, sorted as text.
spool_ids() {
	"$SP" -s "$SPOOL" peek -n 0 -t t 2>/dev/null |
		grep -o '"id":[0-9]*' | cut -d: -f2 | sort
}
# lost ACKED_FILE [ALSO_FILE]: acknowledged ids in neither the spool nor
# ALSO_FILE (ids the mock received); prints how many.
lost() {
	local also=${2:-/dev/null}
	sort "$1" > "$T/acked.s"
	{ spool_ids; cat "$also"; } | sort -u > "$T/have.s"
	comm -23 "$T/acked.s" "$T/have.s" | wc -l
}
# reopens: a plain append (no shim) works on the spool afterwards and
# verify finds nothing wrong.
reopens() {
	gen_events 999999 1 | "$SP" -s "$SPOOL" append -t t 2>>"$T/reopen.log" &&
		"$SP" -s "$SPOOL" verify >/dev/null 2>>"$T/reopen.log"
}

bad=0
problem() { echo "  $*"; bad=$((bad + 1)); }

# kind_counts PREPARE COMMAND...: "KIND C" for each kind of call a clean
# run of COMMAND (PREPARE before it) makes C > 0 of.
kind_counts() {
	local prep=$1 k
	shift
	for k in $KINDS; do
		"$prep"
		FAULT_CALLS=$k faulty 0 EIO "$@" >/dev/null 2>&1
		[ "$CALLS" -gt 0 ] || continue
		case $k in
		*,*) KINDS=${k//,/ } kind_counts "$prep" "$@" ;;
		*) echo "$k $CALLS" ;;
		esac
	done
}
# pick C WIDTH PAST: which of a kind's C calls to fail, one a line: all
# of 1..C+PAST when WIDTH is 0 or C <= WIDTH; else the first, the last
# and WIDTH - 2 between, at a stride from a random offset.
pick() {
	local c=$1 w=$2 past=$3 s off
	if [ "$w" -eq 0 ] || [ "$c" -le "$w" ]; then
		seq 1 $((c + past))
		return
	fi
	echo 1
	if [ "$w" -gt 2 ]; then
		s=$(( (c - 2) / (w - 2) ))
		[ "$s" -ge 1 ] || s=1
		off=$(( RANDOM % s + 2 ))
		seq "$off" "$s" $((c - 1)) | head -n $((w - 2))
	fi
	echo "$c"
}
# plan COUNTS WIDTH PAST: the walk, "KIND N" a line, from kind_counts'
# output.
plan() {
	local k c
	while read -r k c; do
		pick "$c" "$2" "$3" | sed "s/^/$k /"
	done < "$1"
}
# summary PLAN: "kind N N N; ..." for the log (how to repeat a failure).
summary() {
	awk '$1 != k { if (k != "") printf "; "; k = $1; printf "%s", k }
		{ printf " %s", $2 } END { print "" }' "$1"
}

# ---- (a) spoolship append, 10 commits of 100 --------------------------
for f in $(seq 1 10); do
	gen_events $(( (f - 1) * 100 + 1 )) 100 > "$T/ev$(printf %02d "$f")"
done
prep_append() { rm -rf "$SPOOL"; }
prep_append
faulty 0 EIO "$SP" -s "$SPOOL" append -t t "$T"/ev?? 2>/dev/null
total=$CALLS
check "(a) a clean append run counts its calls ($total)" \
	test "$total" -gt 20
kind_counts prep_append "$SP" -s "$SPOOL" append -t t "$T"/ev?? \
	> "$T/a.kinds"
check "(a) ... per kind, as many: $(paste -sd ' ' "$T/a.kinds")" \
	test "$(awk '{ s += $2 } END { print s + 0 }' "$T/a.kinds")" \
	-eq "$total"
walk_append() { # ERRNO
	local e=$1 k n p rc acc err="$T/append.err"
	local -a pts
	plan "$T/a.kinds" "$KIND_POINTS" 0 > "$T/a.plan"
	mapfile -t pts < "$T/a.plan"
	codes=""
	for p in "${pts[@]}"; do
		read -r k n <<< "$p"
		prep_append
		FAULT_CALLS=$k faulty "$n" "$e" \
			"$SP" -s "$SPOOL" append -t t "$T"/ev?? 2>"$err"
		rc=$?
		codes="$codes $rc"
		acc=$(sed -n 's/^accepted \([0-9]*\), .*/\1/p' "$err")
		acc=${acc:-0}
		crashed "$rc" "$err" &&
			problem "$e $k N=$n: crashed (exit $rc)"
		[ "$INJECTED" -ge 1 ] || problem "$e $k N=$n: not injected"
		# Exit 0 only when a retry made up for the fault: then all
		# 1,000 are acknowledged, and checked for below.
		[ "$rc" -eq 0 ] && [ "$acc" -ne 1000 ] &&
			problem "$e $k N=$n: exit 0 but accepted $acc"
		[ "$rc" -ne 0 ] && ! grep -q 'error\|spool\|: ' "$err" &&
			problem "$e $k N=$n: exit $rc without a message"
		seq 1 "$acc" > "$T/acked"
		reopens || problem "$e $k N=$n: reopen/verify failed"
		n_lost=$(lost "$T/acked")
		[ "$n_lost" -eq 0 ] ||
			problem "$e $k N=$n: $n_lost acknowledged events lost"
	done
	echo "(a) $e: ${#pts[@]} runs ($(summary "$T/a.plan")); exits:" \
		"$(tr ' ' '\n' <<<"$codes" | sed '/^$/d' | sort | uniq -c |
		   awk '{printf "%s x%s ", $2, $1}')"
}
bad=0
walk_append EIO
check "(a) append, EIO at each call walked: all sound" test "$bad" -eq 0
check "(a) an EIO with room on the disk is not 'full' (no exit 4)" \
	test "$(grep -cw 4 <<<"${codes// /$'\n'}")" -eq 0
bad=0
walk_append ENOSPC
check "(a) append, ENOSPC at each call walked: all sound" \
	test "$bad" -eq 0
# A filesystem that stays full: every fdatasync from the 4th on fails
# (the 1st is the spool's creation): two commits get in, the third
# reads as a full spool.
rm -rf "$SPOOL"
FAULT_STICKY=1 FAULT_CALLS=fdatasync faulty 4 ENOSPC \
	"$SP" -s "$SPOOL" append -t t "$T"/ev?? 2>"$T/full.err"
rc=$?
check "(a) ENOSPC that stays: exit 4 (got $rc)" test "$rc" -eq 4
check "(a) ... says spool full and what was appended" \
	grep -q 'spool is full.*200 events before this batch' "$T/full.err"
seq 1 200 > "$T/acked"
check "(a) ... the 200 acknowledged are in the spool" \
	test "$(lost "$T/acked")" -eq 0

# ---- (b) a library producer that carries on after an error -------------
prep_producer() { rm -rf "$SPOOL"; }
prep_producer
faulty 0 EIO "$TOOL" ack-append "$SPOOL" t 1 100 full keep-going \
	>/dev/null 2>&1
total=$CALLS
check "(b) a clean producer run counts its calls ($total)" \
	test "$total" -gt 100
kind_counts prep_producer "$TOOL" ack-append "$SPOOL" t 1 100 full \
	keep-going > "$T/b.kinds"
check "(b) ... per kind, as many: $(paste -sd ' ' "$T/b.kinds")" \
	test "$(awk '{ s += $2 } END { print s + 0 }' "$T/b.kinds")" \
	-eq "$total"
walk_producer() { # ERRNO
	local e=$1 k n p rc out="$T/prod.out" err="$T/prod.err"
	local -a pts
	plan "$T/b.kinds" "$PRODUCER_POINTS" 0 > "$T/b.plan"
	mapfile -t pts < "$T/b.plan"
	for p in "${pts[@]}"; do
		read -r k n <<< "$p"
		prep_producer
		FAULT_CALLS=$k faulty "$n" "$e" "$TOOL" ack-append "$SPOOL" \
			t 1 100 full keep-going >"$out" 2>"$err"
		rc=$?
		crashed "$rc" "$err" &&
			problem "$e $k N=$n: crashed (exit $rc)"
		[ "$INJECTED" -ge 1 ] || problem "$e $k N=$n: not injected"
		sed -n 's/^ok //p' "$out" > "$T/acked"
		# Each append failed is reported; exit 0 only when none did.
		if [ "$rc" -eq 0 ]; then
			[ "$(wc -l < "$T/acked")" -eq 100 ] || problem \
				"$e $k N=$n: exit 0 with events missing"
		elif ! grep -q '^append [0-9]*: \|^open: ' "$err"; then
			problem "$e $k N=$n: exit $rc, no error reported"
		fi
		[ "$rc" -le 1 ] || problem "$e $k N=$n: exit $rc"
		reopens || problem "$e $k N=$n: reopen/verify failed"
		n_lost=$(lost "$T/acked")
		[ "$n_lost" -eq 0 ] ||
			problem "$e $k N=$n: $n_lost acknowledged events lost"
	done
	echo "(b) $e: ${#pts[@]} runs ($(summary "$T/b.plan"))"
}
bad=0
walk_producer EIO
check "(b) producer, EIO: all sound" test "$bad" -eq 0
bad=0
walk_producer ENOSPC
check "(b) producer, ENOSPC: all sound" test "$bad" -eq 0

# ---- (c) a ship-and-delete cycle ------------------------------------------
start_mock --rpm 0
write_config "$T/c.ini" "max_events = 60"
sed -i "s|^path = .*|path = $SPOOL|" "$T/c.ini"
rm -rf "$SPOOL"
"$SP" -s "$SPOOL" append -t t "$T"/ev?? 2>/dev/null
cp -a "$SPOOL" "$T/template"
mock_ids() { curl -s --max-time 5 "http://127.0.0.1:$MOCK_PORT/ids"; }
reset_mock() {
	curl -s --max-time 5 -X POST -o /dev/null \
		"http://127.0.0.1:$MOCK_PORT/control/reset"
}
prep_ship() {
	rm -rf "$SPOOL"; cp -a "$T/template" "$SPOOL"; reset_mock
}
# Batching follows timing, so the counts vary a little: every call walked
# (CHAOS=1) goes one past each kind's.
kind_counts prep_ship "$SP" run -c "$T/c.ini" --until-empty > "$T/c.kinds"
total=$(awk '{ s += $2 } END { print s + 0 }' "$T/c.kinds")
check "(c) a clean ship cycle counts its calls ($total: $(paste -sd ' ' \
	"$T/c.kinds"))" test "$total" -gt 10
walk_ship() { # ERRNO
	local e=$1 k n p rc runs=0 hit=0 restarts=0 log="$T/ship.log"
	local -a pts
	seq 1 1000 > "$T/acked"
	plan "$T/c.kinds" "$KIND_POINTS" 1 > "$T/c.plan"
	mapfile -t pts < "$T/c.plan"
	for p in "${pts[@]}"; do
		read -r k n <<< "$p"
		runs=$((runs + 1))
		prep_ship
		FAULT_CALLS=$k faulty "$n" "$e" \
			"$SP" run -c "$T/c.ini" --until-empty 2>"$log"
		rc=$?
		hit=$((hit + INJECTED))
		crashed "$rc" "$log" &&
			problem "$e $k N=$n: crashed (exit $rc)"
		# 7: --until-empty stopped by the fault with events pending
		[ "$rc" -le 1 ] || [ "$rc" -eq 7 ] ||
			problem "$e $k N=$n: exit $rc"
		mock_ids > "$T/received"
		n_lost=$(lost "$T/acked" "$T/received")
		[ "$n_lost" -eq 0 ] ||
			problem "$e $k N=$n: $n_lost events neither in the" \
				"spool nor received"
		"$SP" -s "$SPOOL" verify >/dev/null 2>&1 ||
			problem "$e $k N=$n: verify failed"
		[ "$rc" -eq 0 ] && continue # empty: all received (above)
		grep -q -e 'cannot lock the spool' -e 'cannot open the spool' \
			-e 'stopping on a fatal error: .' "$log" ||
			problem "$e $k N=$n: exit $rc without a reason"
		# Restarted (as a supervisor would), everything gets through.
		timeout -k 5 60 "$SP" run -c "$T/c.ini" --until-empty \
			2>>"$T/reopen.log" ||
			problem "$e $k N=$n: the restarted shipper failed"
		mock_ids > "$T/received"
		[ "$(comm -23 <(sort "$T/acked") <(sort -u "$T/received") |
		     wc -l)" -eq 0 ] ||
			problem "$e $k N=$n: ids missing after the restart"
		restarts=$((restarts + 1))
	done
	echo "(c) $e: $runs runs ($(summary "$T/c.plan")), $hit faults" \
		"injected, $restarts exits 1 or 7 then restarted"
}
bad=0
walk_ship EIO
check "(c) ship cycle, EIO at each call walked: all sound" \
	test "$bad" -eq 0
bad=0
walk_ship ENOSPC
check "(c) ship cycle, ENOSPC at each call walked: all sound" \
	test "$bad" -eq 0
stop_mock
finish
