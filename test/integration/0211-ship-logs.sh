#!/usr/bin/env bash
# 0211: the log answers "is it working?" (issue 14 item 1), checked by
# wording so the lines stay stable (docs/operations.md).  Run A ships
# table t with progress_interval = 1s and the ingest endpoint on:
# - the start line names the spool's absolute path (the config's is
#   relative) and the url without its user, password or query;
# - a 503 spell: 'request failed, will retry' with dest= (scheme, host,
#   port, path), the status and body= (an excerpt), no curl= since curl
#   had no error; then 'delivery resumed after failures' with attempts
#   and down_ms;
# - 'progress shipped=N pending=N events_per_s=X in_flight=N' while there
#   is work, silent once idle;
# - the receiver stopped: a refused connection names host and port
#   (dest=) and curl's word; its return: 'delivery resumed' again;
# - 1000 refused ingest requests: 'ingest request refused client=IP:PORT
#   status=400 reason=... table=t' at info, a bounded number of lines,
#   and every refusal either logged or counted in suppressed=N.
# Run B (another spool, progress_interval = 0) ships to an unknown table:
# a 404 'destination alarm' with dest, status and body; no progress line.
# No line holds the url's password or query; no curl="No error" at all.
# Every id of t arrives, none twice.
# test-serial: progress lines per 1 s period, idle periods
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ship.sh"
PW="pw-S3CR3T-0211"
SIG="q-S1G-0211"
OUT="$T/outage"
touch "$OUT"
start_mock --rpm 0 --tables t --outage-file "$OUT"
url="http://user:$PW@127.0.0.1:$MOCK_PORT/v1/events/{table}?sig=$SIG"
dest="http://127.0.0.1:$MOCK_PORT/v1/events"
cat > "$T/a.ini" <<EOF
[spool]
path = ./spool
[ship]
url = $url
linger = 50ms
backoff_min = 20ms
backoff_max = 300ms
alarm_backoff = 1s
shutdown_timeout = 5s
[log]
progress_interval = 1s
[ingest]
listen = 127.0.0.1:0
EOF
sed -e "s|^path = .*|path = $T/spool2|" \
	-e 's|^progress_interval = .*|progress_interval = 0|' \
	-e '/^\[ingest\]/,$d' "$T/a.ini" > "$T/b.ini"
gen_events 1 200 | "$SP" -s "$T/spool" append -t t 2>/dev/null
gen_events 1001 10 | "$SP" -s "$T/spool2" append -t nope 2>/dev/null
(cd "$T" && exec "$SP" run -c "$T/a.ini" 2>>"$T/run.log") &
RUN_PID=$!
_pids+=("$RUN_PID")
"$SP" run -c "$T/b.ini" 2>>"$T/b.log" &
B_PID=$!
_pids+=("$B_PID")

abs=$(realpath "$T/spool")
check "start: absolute spool path, url without secrets" wait_for 10 \
	grep -q "shipping spool=$abs url=http://127.0.0.1:$MOCK_PORT/v1/events/{table} " "$T/run.log"

# A 503 spell, then the receiver answers 2xx again.
check "503: failure line with dest, status, body" wait_for 20 grep -q \
	"request failed, will retry table=t status=503 answer=.* dest=$dest/t body=" "$T/run.log"
check "progress while pending" wait_for 10 grep -qE \
	'info  progress shipped=0 pending=200 events_per_s=0\.0 in_flight=[0-9]+' "$T/run.log"
rm -f "$OUT"
check "delivered" wait_for 20 ids_complete 1 200
check "resumed: attempts and how long" wait_for 10 grep -qE \
	"info  delivery resumed after failures table=t attempts=[1-9][0-9]* down_ms=[0-9]+ status=200 dest=$dest/t\$" "$T/run.log"
check "progress: the drain, then pending=0" wait_for 10 grep -qE \
	'progress shipped=[1-9][0-9]* pending=0 events_per_s=[0-9.]+ in_flight=0' "$T/run.log"
n=$(grep -c ' progress ' "$T/run.log")
sleep 3 # three periods idle: asserting that nothing comes
check "progress: silent while idle" test "$(grep -c ' progress ' "$T/run.log")" -eq "$n"

# Run B: a 404 alarm, and progress_interval = 0.
check "404: alarm with dest, status, body" grep -q \
	"destination alarm, backing off, data kept table=nope status=404 answer=not_found backoff_ms=1000 dest=$dest/nope body=" "$T/b.log"
check "progress_interval = 0: no progress line" \
	test "$(grep -c ' progress ' "$T/b.log")" -eq 0

# The receiver stopped: connections refused.
check "no duplicates before the stop" mock_stat_eq duplicates 0
stop_mock
gen_events 201 50 | "$SP" -s "$T/spool" append -t t 2>/dev/null
check "refused: names host and port" wait_for 20 grep -q \
	"destination unreachable, probing one request at a time table=t answer=.* dest=$dest/t curl=\"Couldn't connect to server\"" "$T/run.log"
start_mock --rpm 0 --tables t
check "refused: delivered after the return" wait_for 20 ids_complete 201 50
check "refused: resumed logged" wait_for 10 test \
	"$(grep -c 'delivery resumed after failures table=t attempts=' "$T/run.log")" -ge 2

# 1000 refused ingest requests (no __time) on one connection.
port=$(sed -n 's/.*ingest listening .*port=\([0-9]*\).*/\1/p' "$T/run.log" | head -n 1)
python3 - "$port" <<'PY'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
for i in range(1000):
    c.request("POST", "/v1/events/t", body=b'{"id":1}\n')
    r = c.getresponse(); r.read()
    assert r.status == 400, r.status
PY
check "flood: 1000 answered 400" test $? -eq 0
refused() { grep -c 'info  ingest request refused client=127\.0\.0\.1:[0-9]* status=400 reason=".*missing __time.*" table=t suppressed=' "$T/run.log"; }
# Every refusal is a line or counted in a suppressed= of a later one.
accounted() {
	local lines held
	lines=$(refused)
	held=$(grep -E 'ingest request(s)? refused' "$T/run.log" |
		sed -n 's/.* suppressed=\([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
	[ $((lines + held)) -eq 1000 ]
}
check "flood: every refusal logged or counted" wait_for 15 accounted
check "flood: the summary line" grep -q \
	'ingest requests refused without a line of their own suppressed=[1-9]' "$T/run.log"
echo "# refusal lines for 1000 refused requests: $(refused)"
check "flood: a bounded number of lines" test "$(refused)" -le 100

check "no curl=\"No error\"" test "$(cat "$T/run.log" "$T/b.log" | grep -c 'No error')" -eq 0
check "no password or query in any line" test \
	"$(cat "$T/run.log" "$T/b.log" | grep -cE "$PW|$SIG")" -eq 0
check "no duplicates" mock_stat_eq duplicates 0
stop_run
check "A: SIGTERM exits 0" test "$RUN_RC" -eq 0
kill -TERM "$B_PID"; wait "$B_PID"
check "B: SIGTERM exits 0" test $? -eq 0
stop_mock
finish
