#!/usr/bin/env bash
# tools/demo.sh - `make demo`: the pipeline on localhost, narrated.
# Starts the bundled mock receiver on a free loopback port, appends a
# sample of events (a few of them bad) to a fresh spool, ships them when
# the shipper is built, and stops everything it started.
set -euo pipefail
B=${BUILD_DIR:?}
W=$(mktemp -d "${TMPDIR:-/tmp}/spoolship-demo-XXXXXX")
mock=""
cleanup() { [ -n "$mock" ] && kill "$mock" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
say() { printf '\n== %s\n' "$*"; }

say "starting the mock Events API receiver on 127.0.0.1"
"$B/mock-polaris" --port 0 --port-file "$W/port" --rpm 0 2>"$W/mock.log" &
mock=$!
for _ in $(seq 1 100); do [ -s "$W/port" ] && break; sleep 0.05; done
port=$(cat "$W/port")
echo "listening on port $port"

say "appending 1,000 events (and 3 bad lines) to the spool $W/spool"
now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
old=$(date -u -d '9 days ago' +%Y-%m-%dT%H:%M:%S.000Z)
{
	awk -v t="$now" 'BEGIN { for (i = 1; i <= 1000; i++)
		printf "{\"__time\":\"%s\",\"id\":%d,\"channel\":\"#en.wikipedia\",\"added\":%d}\n", t, i, i % 50 }'
	echo '{"id": "no-time"}'
	echo "{\"__time\":\"$old\",\"id\":\"too-old\"}"
	echo '{"__time": "2026-01-01T00:00:00Z",'
} > "$W/events.ndjson"
"$B/spoolship" -s "$W/spool" append -t wikipedia "$W/events.ndjson" || true

say "what the spool holds"
"$B/spoolship" -s "$W/spool" stats
"$B/spoolship" -s "$W/spool" peek -n 2
"$B/spoolship" -s "$W/spool" verify

if "$B/spoolship" run --help >/dev/null 2>&1; then
	say "shipping to http://127.0.0.1:$port/v1/events/{table}"
	cat > "$W/demo.ini" <<INI
[spool]
path = $W/spool
[ship]
url = http://127.0.0.1:$port/v1/events/{table}
INI
	"$B/spoolship" run -c "$W/demo.ini" --until-empty
	"$B/spoolship" -s "$W/spool" stats
else
	say "the shipper (spoolship run) is not built yet: the events stay in the spool"
fi

say "what the receiver counted"
curl -s "http://127.0.0.1:$port/stats"; echo
curl -s "http://127.0.0.1:$port/stats" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("\ndemo: the receiver accepted %d events in %d requests (at most %d per request), %d duplicates"
      % (d["events_accepted"], d["requests"], d["max_events_per_request"], d["duplicates"]))' 2>/dev/null || true
