#!/usr/bin/env bash
# 0305: 500 concurrent keep-alive connections (the default max_connections
# is 512) posting 60-event requests: every request answered 200, each
# connection opened once, and every event in the spool exactly once.
# test-serial: 500 connections load the machine
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ingest.sh"
ulimit -n 4096 2>/dev/null
[ "$(ulimit -n)" -ge 1100 ] || skip "skip: ulimit -n is $(ulimit -n), 500 connections need about 1100 descriptors"
ingest_config "$T/c.ini"
start_ingest "$T/c.ini"

timeout 240 "$LOAD" -c 500 -n 2000 -e 60 -i 1 -o "$T/ok" \
	"$IG/v1/events/many" > "$T/load.out" 2>&1
rc=$?
cat "$T/load.out"
check "load generator exits 0" test "$rc" -eq 0
check "2000 requests, all 200" grep -q ' requests=2000 ok=2000 failed=0 ' "$T/load.out"
check "500 connections, each kept alive" grep -q ' connections=500 ' "$T/load.out"
check "120000 events pending" test "$(spool_pending many)" -eq 120000
"$SP" -s "$T/spool" peek -t many -n 0 | python3 -c '
import json, sys
ids = [json.loads(l)["id"] for l in sys.stdin]
sys.exit(0 if len(ids) == 120000 and set(ids) == set(range(1, 120001)) else 1)'
check "every id exactly once" test $? -eq 0
check "still healthy" healthy
stop_ingest
check "SIGTERM exits 0" test "$IG_RC" -eq 0
check "commits were shared (fewer than requests)" bash -c "
	grep -o 'commits=[0-9]*' '$IG_LOG' | tail -n 1 | cut -d= -f2 |
	awk '{ exit !(\$1 < 2000) }'"
grep -o 'ingest stopped.*' "$IG_LOG"
check "no sanitizer complaint" bash -c "! grep -Eq 'ERROR: |runtime error' '$IG_LOG'"
finish
