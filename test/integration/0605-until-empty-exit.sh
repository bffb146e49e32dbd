#!/usr/bin/env bash
# 0605: `run --until-empty` exits 0 only when the spool is empty.  Stopped
# with events still pending (--timeout during an outage, SIGTERM, a fatal
# answer) it exits 7 and says how many; without --until-empty SIGTERM is a
# normal stop (0).  Once the receiver is back it drains: exit 0, every id
# delivered, none twice.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ship.sh"
N=50
outage_with_events "$N" "$T/c.ini"

# --timeout: the outage keeps the events pending.
"$SP" run -c "$T/c.ini" --until-empty --timeout 1s 2>"$T/timeout.log"
rc=$?
check "--timeout with events pending: exit 7 (got $rc)" test "$rc" -eq 7
check "it says so" grep -q "stopped with events pending pending=$N" "$T/timeout.log"

# SIGTERM while events are pending.
"$SP" run -c "$T/c.ini" --until-empty 2>"$T/term.log" &
pid=$!
_pids+=("$pid")
check "shipping (503s)" wait_for 20 grep -q "shipping spool=" "$T/term.log"
kill -TERM "$pid"
wait "$pid"
rc=$?
check "SIGTERM with events pending: exit 7 (got $rc)" test "$rc" -eq 7
check "it says so" grep -q "stopped with events pending pending=$N" "$T/term.log"

# A fatal answer: a CA file curl cannot use (https to the plain mock).
echo "not a certificate" > "$T/bad.pem"
chmod 600 "$T/bad.pem"
write_config "$T/fatal.ini" "[tls]" "ca_file = $T/bad.pem"
sed -i "s|^url = http:|url = https:|" "$T/fatal.ini"
timeout 60 "$SP" run -c "$T/fatal.ini" --until-empty 2>"$T/fatal.log"
rc=$?
check "a fatal answer with events pending: exit 7 (got $rc)" test "$rc" -eq 7
check "the log names the fatal error" grep -q "stopping on a fatal error" "$T/fatal.log"

# The daemon's own stop is not a failure.
start_run "$T/c.ini"
check "shipping" wait_for 20 grep -q "shipping spool=" "$T/run.log"
stop_run
check "without --until-empty SIGTERM exits 0 (got $RUN_RC)" test "$RUN_RC" -eq 0

# Usage.
"$SP" run -c "$T/c.ini" --timeout 1s 2>/dev/null
check "--timeout without --until-empty is a usage error" test $? -eq 2
"$SP" run -c "$T/c.ini" --until-empty --timeout 0 2>/dev/null
check "--timeout 0 is a usage error" test $? -eq 2

check "nothing was lost meanwhile" pending_is "$N"
rm -f "$OUT"
"$SP" run -c "$T/c.ini" --until-empty --timeout 60s 2>"$T/drain.log"
rc=$?
check "drained: exit 0 (got $rc)" test "$rc" -eq 0
check "every id arrived" ids_complete 1 "$N"
check "the spool is empty" pending_is 0
check "no duplicates" mock_stat_eq duplicates 0
finish
