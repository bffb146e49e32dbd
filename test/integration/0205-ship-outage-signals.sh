#!/usr/bin/env bash
# 0205: the spool grows while the receiver is down (503s, then refused
# connections) and drains when it comes back; SIGHUP reloads the config
# (a broken one is refused and the old one kept); SIGTERM lets requests in
# flight finish and exits 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ship.sh"
OUT="$T/outage"
start_mock --rpm 0 --outage-file "$OUT"
write_config "$T/c.ini"
touch "$OUT"
start_run "$T/c.ini"
for i in 0 1 2 3 4; do
	gen_events $((i * 1000 + 1)) 1000 | "$SP" -s "$T/spool" append -t t 2>/dev/null
done
check "outage: answered 503" wait_for 20 mock_stat_ge by_status.503 1
check "outage: nothing accepted" mock_stat_eq events_accepted 0
check "outage: the spool grew" pending_is 5000
rm -f "$OUT"
check "back: the backlog drains" wait_for 60 pending_is 0
check "back: every id arrived" ids_complete 1 5000

# SIGHUP: gzip switched on without a restart.
write_config "$T/c.ini" "gzip = true"
kill -HUP "$RUN_PID"
check "HUP: reload logged" wait_for 20 grep -q 'configuration reloaded' "$T/run.log"
gen_events 10001 300 | "$SP" -s "$T/spool" append -t t 2>/dev/null
check "HUP: new options used (gzip)" wait_for 20 mock_stat_ge gzip_requests 1
check "HUP: delivered" wait_for 20 ids_complete 10001 300
printf '[ship]\nmax_events = many\n' > "$T/c.ini"
kill -HUP "$RUN_PID"
check "HUP: a broken config is refused" wait_for 20 grep -q 'reload failed, keeping' "$T/run.log"
check "HUP: the file's problem is named" grep -q 'c.ini:2:' "$T/run.log"
gen_events 20001 100 | "$SP" -s "$T/spool" append -t t 2>/dev/null
check "HUP: still shipping after a bad reload" wait_for 20 ids_complete 20001 100
stop_run
check "SIGTERM exits 0" test "$RUN_RC" -eq 0
stop_mock

# SIGTERM with slow answers in flight: they finish, then exit 0.
rm -rf "$T/spool"
start_mock --rpm 0 --delay-ms 1500
write_config "$T/slow.ini"
gen_events 1 240 | "$SP" -s "$T/spool" append -t t 2>/dev/null
start_run "$T/slow.ini"
check "slow: requests in flight" wait_for 20 mock_stat_ge requests 1
kill -TERM "$RUN_PID"
wait "$RUN_PID"; rc=$?
RUN_PID=""
check "slow: SIGTERM exits 0" test "$rc" -eq 0
accepted=$(mock_stat events_accepted)
check "slow: answered requests were deleted" test "$(pending)" -eq $((240 - accepted))
check "slow: drain logged" grep -q 'stopping: waiting for requests in flight' "$T/run.log"
finish
