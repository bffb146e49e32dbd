#!/usr/bin/env bash
# 0304: a full spool.  With the receiver away the 1 MiB spool fills up:
# requests then get 503 with Retry-After and /healthz turns 503.  Once the
# receiver is back and the shipper has drained the spool, /healthz is 200
# again, requests are taken again, and every event answered 200 arrived.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ingest.sh"
MPORT=$(free_port)
SHIP_URL="http://127.0.0.1:$MPORT/v1/events/{table}" ingest_config "$T/c.ini" \
	"[spool]" "max_bytes = 1M"
start_ingest "$T/c.ini"
pad=$(head -c 3000 /dev/zero | tr '\0' 'p')

# Requests of 100 events (~300 KB) until the spool refuses one.
fill_until_503 20 "$pad"
check "some requests were taken first (${#oks[@]})" test "${#oks[@]}" -ge 1
check "a full spool answers 503" test "$got503" -eq 1
check "503 carries Retry-After" grep -qi '^retry-after: [0-9]' "$T/headers"
check "503 says spool full" answer_is '"full" in a["message"]'
code=$(curl -s -o "$T/answer" -D "$T/headers" -w '%{http_code}' "$IG/healthz")
check "/healthz: 503 while full (got $code)" test "$code" = 503
check "/healthz 503 carries Retry-After" grep -qi '^retry-after: ' "$T/headers"
check "/healthz names the problem" answer_is 'a["status"] == "unavailable" and "full" in a["error"]'
# Still full while the receiver is away: the probe (every second) must
# not call it writable because a tiny txn would fit.
check "/healthz stays 503 while the receiver is away (2.5 s)" stays_503 13
check "full logged once as an error" \
	test "$(grep -c 'spool is not writable' "$IG_LOG")" -ge 1
check "the refused request is not in the spool" \
	test "$(spool_pending full)" -eq $(( ${#oks[@]} * 100 ))

# The receiver comes back: the spool drains and the endpoint recovers.
"$MOCK" --port "$MPORT" --rpm 0 2>>"$T/mock.log" &
MOCK_PID=$!
_pids+=("$MOCK_PID")
check "healthy again once drained" wait_for 90 healthy
check "recovery logged" grep -q 'spool is writable again' "$IG_LOG"
gen_events "$first" 100 "$pad" > "$T/req"
code=$(post /v1/events/full --data-binary @"$T/req")
check "taken again: 200 (got $code)" test "$code" = 200
oks+=("$first")
want=$(( ${#oks[@]} * 100 ))
check "every event answered 200 arrived" wait_for 60 bash -c "
	curl -s 'http://127.0.0.1:$MPORT/ids' | python3 -c '
import sys
firsts = [int(x) for x in sys.argv[1:]]
have = {l.strip() for l in sys.stdin if l.strip()}
sys.exit(0 if all(str(i) in have for f in firsts for i in range(f, f + 100)) else 1)' ${oks[*]}"
stop_ingest
check "SIGTERM exits 0" test "$IG_RC" -eq 0
kill -TERM "$MOCK_PID" 2>/dev/null && wait "$MOCK_PID" 2>/dev/null
finish
