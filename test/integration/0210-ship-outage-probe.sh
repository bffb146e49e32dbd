#!/usr/bin/env bash
# 0210: prompt recovery after an outage (issue 13 item 5), with the
# default [ship] settings.  While the receiver gives no answer at all the
# shipper probes one request at a time about every second, however long
# the outage: it does not back off for a minute, and it does not hammer.
# (a) the mock closes every connection before the body (refuse mode):
# every 2 s window of the outage's second half sees a probe, and no more
# than about one a second; the backlog moves within seconds of the end.
# (b) the mock process is stopped and restarted on the same port: the
# first 2xx comes within a few seconds of the restart.  Every id arrives,
# none twice.
# test-serial: probes are counted per 2 s window
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ship.sh"
start_mock --rpm 0 --outage-mode refuse
{
	echo "[spool]"
	echo "path = $T/spool"
	echo "[ship]"
	echo "url = http://127.0.0.1:$MOCK_PORT/v1/events/{table}"
} > "$T/c.ini"
gen_events 1 60 | "$SP" -s "$T/spool" append -t t 2>/dev/null
start_run "$T/c.ini"
check "before: delivered" wait_for 20 ids_complete 1 60

# (a) 10 s of closed connections; the request counter sampled meanwhile.
curl -s -X POST "http://127.0.0.1:$MOCK_PORT/control/outage?on=1" >/dev/null
t0=$(date +%s%N)
gen_events 61 300 | "$SP" -s "$T/spool" append -t t 2>/dev/null
: > "$T/samples"
while [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 10000 ]; do
	echo "$(( ($(date +%s%N) - t0) / 1000000 )) $(mock_stat requests)" >> "$T/samples"
	sleep 0.2
done
python3 - "$T/samples" > "$T/probes" <<'PY'
import sys
s = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
def at(t):  # requests counted by time t (last sample at or before it)
    return max((r for ms, r in s if ms <= t), default=0)
wins = [at(e) - at(b) for b, e in ((4000, 6000), (6000, 8000), (8000, 9800))]
print("windows", *wins, "total", at(9800) - at(4000))
PY
read -r _ w1 w2 w3 _ total < "$T/probes"
echo "# requests per 2 s window of the outage's second half: $w1 $w2 $w3"
check "refused: probes keep coming in every window" \
	test "$w1" -ge 1 -a "$w2" -ge 1 -a "$w3" -ge 1
check "refused: about one probe a second, no more" test "$total" -le 12
check "refused: probe mode logged" grep -q 'destination unreachable, probing one request at a time' "$T/run.log"
curl -s -X POST "http://127.0.0.1:$MOCK_PORT/control/outage?on=0" >/dev/null
check "refused: a 2xx within 5 s of the end" wait_for 5 mock_stat_ge by_status.200 2
check "refused: the backlog delivered" wait_for 20 ids_complete 61 300
check "refused: resume logged" grep -q 'delivery resumed after failures table=t attempts=[0-9]' "$T/run.log"
check "refused: no duplicates" mock_stat_eq duplicates 0

# (b) The mock process stopped for 8 s: refused connections.
curl -s --max-time 5 "http://127.0.0.1:$MOCK_PORT/ids" > "$T/ids.before"
stop_mock
gen_events 361 300 | "$SP" -s "$T/spool" append -t t 2>/dev/null
sleep 8 # the outage's length, not a wait for a condition
start_mock --rpm 0
t0=$(date +%s%N)
wait_for 20 mock_stat_ge by_status.200 1
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# first 2xx ${ms} ms after the restart"
check "stopped: first 2xx within 5 s of the restart" test "$ms" -le 5000
check "stopped: the backlog delivered" wait_for 20 ids_complete 361 300
curl -s --max-time 5 "http://127.0.0.1:$MOCK_PORT/ids" > "$T/ids.after"
check "every id arrived once across the restart" python3 -c '
import sys
a = [l.strip() for l in open(sys.argv[1]) if l.strip()]
b = [l.strip() for l in open(sys.argv[2]) if l.strip()]
want = {str(i) for i in range(1, 661)}
sys.exit(0 if set(a) | set(b) == want and not set(a) & set(b) else 1)' \
	"$T/ids.before" "$T/ids.after"
check "no duplicates after the restart" mock_stat_eq duplicates 0
stop_run
check "SIGTERM exits 0" test "$RUN_RC" -eq 0
stop_mock
finish
