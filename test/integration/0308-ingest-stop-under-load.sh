#!/usr/bin/env bash
# 0308: SIGTERM under load.  While 100 connections post, the daemon stops:
# requests already validated are committed and answered, later ones get
# 503 or a closed connection - never a 500 - the daemon exits 0 without a
# libmicrohttpd complaint, and every event answered 200 is in the spool.
# test-serial: 100 connections load the machine
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ingest.sh"
ingest_config "$T/c.ini"
lines_ge() { [ -f "$1" ] && [ "$(wc -l < "$1")" -ge "$2" ]; }

for round in 1 2; do
	rm -f "$T/ok"
	start_ingest "$T/c.ini"
	"$LOAD" -c 100 -d 60 -x -e 60 -i $((round * 10000000)) -o "$T/ok" \
		"$IG/v1/events/stop" > "$T/load" 2>&1 &
	lpid=$!
	_pids+=("$lpid")
	check "round $round: requests answered" wait_for 60 lines_ge "$T/ok" 300
	stop_ingest
	wait "$lpid"
	cat "$T/load"
	check "round $round: SIGTERM under load exits 0" test "$IG_RC" -eq 0
	check "round $round: no 500" bash -c "! grep -q 'status_500' '$T/load'"
	check "round $round: no libmicrohttpd complaint" \
		bash -c "! grep -Eq 'libmicrohttpd says|ERROR: |runtime error' '$IG_LOG'"
	cat "$T/ok" >> "$T/ok.all"
	"$SP" -s "$T/spool" peek -t stop -n 0 > "$T/peek"
	check "round $round: every event answered 200 is in the spool" \
		python3 - "$T/ok.all" "$T/peek" <<'EOF'
import json, sys
want = set()
for line in open(sys.argv[1]):
    f, n = map(int, line.split())
    want.update(range(f, f + n))
have = {json.loads(l)["id"] for l in open(sys.argv[2])}
print("answered 200: %d, in the spool: %d" % (len(want), len(have)))
sys.exit(0 if want <= have else 1)
EOF
done
finish
