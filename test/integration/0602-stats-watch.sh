#!/usr/bin/env bash
# 0602: `spoolship stats --watch`.  Not on a terminal: one timestamped
# key=value line per interval, rates from the totals' deltas; on a
# terminal (script(1) gives it one): a view redrawn in place with ANSI
# cursor-up and clear.  SIGTERM and SIGINT end it with exit 0.
# test-serial: about one line a second is measured
. "$(dirname "$0")/lib.sh"
gen_events 1 100 | "$SP" -s "$T/spool" append -t t 2>/dev/null

# Not a TTY: about one line a second.
timeout 3.5 "$SP" -s "$T/spool" stats --watch >"$T/plain.out" 2>"$T/plain.err"
n=$(wc -l <"$T/plain.out")
check "plain: 3 to 5 lines in 3.5 s (got $n)" test "$n" -ge 3 -a "$n" -le 5
check "plain: timestamped key=value lines" \
	grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z pending=100 pending_bytes=[0-9]+ ' "$T/plain.out"
check "plain: no escape sequences" sh -c "! grep -q \$'\\033' '$T/plain.out'"
check "plain: the first line has no rate yet" \
	sh -c "head -n 1 '$T/plain.out' | grep -q 'in_per_s=- out_per_s=-'"
check "plain: later lines have rates" \
	sh -c "sed -n 2p '$T/plain.out' | grep -q 'in_per_s=0.0 out_per_s=0.0 dead=+0'"
check "plain: nothing on stderr" test ! -s "$T/plain.err"

# Rates: appends while watching show up as events in per second.
"$SP" -s "$T/spool" stats --watch --interval 200ms >"$T/rate.out" &
W=$!
_pids+=("$W")
sleep 0.5
gen_events 1000 500 | "$SP" -s "$T/spool" append -t t 2>/dev/null
sleep 0.6
kill -TERM "$W"
wait "$W"; rc=$?
check "SIGTERM ends it with exit 0 (got $rc)" test "$rc" -eq 0
check "the appends show as a rate in" \
	grep -qE 'pending=600 .*in_per_s=[1-9][0-9.]*' "$T/rate.out"

# SIGINT too.
"$SP" -s "$T/spool" stats --watch --interval 100ms >/dev/null &
W=$!
_pids+=("$W")
sleep 0.5
kill -INT "$W"
wait "$W"; rc=$?
check "SIGINT ends it with exit 0 (got $rc)" test "$rc" -eq 0

# --count, bad options, no spool.
check "--count 2: two lines" \
	test "$("$SP" -s "$T/spool" stats --watch --interval 50ms --count 2 | wc -l)" -eq 2
expect_exit "--interval 1ms is refused" 2 "$SP" -s "$T/spool" stats --watch --interval 1ms 2>/dev/null
expect_exit "--watch with --json is refused" 2 "$SP" -s "$T/spool" stats --watch --json 2>/dev/null
expect_exit "no spool: exit 1" 1 "$SP" -s "$T/none" stats --watch 2>/dev/null
check "no spool: none created" test ! -e "$T/none"

# A TTY: redrawn in place.
if command -v script >/dev/null 2>&1; then
	script -qec "timeout --preserve-status -s TERM 2.5 '$SP' -s '$T/spool' stats --watch --interval 500ms; echo rc=\$?" \
		/dev/null </dev/null >"$T/tty.out" 2>&1
	check "tty: the view is drawn" grep -q 'pending   600 events' "$T/tty.out"
	check "tty: rates line" grep -q 'rate      in ' "$T/tty.out"
	check "tty: redrawn with cursor-up and clear" \
		grep -q $'\033\\[[0-9]*A\r\033\\[J' "$T/tty.out"
	ups=$(grep -o $'\033\\[[0-9]*A' "$T/tty.out" | wc -l)
	check "tty: several redraws ($ups)" test "$ups" -ge 3
	check "tty: SIGTERM exits 0" grep -q 'rc=0' "$T/tty.out"
else
	echo "# script(1) not installed: the TTY half is skipped"
fi
finish
