#!/usr/bin/env bash
# 0306: a 200 means durable.  The daemon is killed with SIGKILL right
# after answering 200 - once after a single request, then three times in
# the middle of a 50-connection load - and every event it answered 200 for
# is in the spool afterwards (peek), which verifies clean and which the
# daemon opens again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ingest.sh"
ingest_config "$T/c.ini"

lines_ge() { [ -f "$1" ] && [ "$(wc -l < "$1")" -ge "$2" ]; }
kill9() { kill -KILL "$IG_PID" 2>/dev/null; wait "$IG_PID" 2>/dev/null; IG_PID=""; }
# in_spool FILE: every "FIRST COUNT" range of FILE is in stream k9.
in_spool() {
	"$SP" -s "$T/spool" peek -t k9 -n 0 > "$T/peek" || return 1
	python3 - "$1" "$T/peek" <<'EOF'
import json, sys
want = set()
for line in open(sys.argv[1]):
    f, n = map(int, line.split())
    want.update(range(f, f + n))
have = [json.loads(l)["id"] for l in open(sys.argv[2])]
missing = want - set(have)
print("answered 200: %d events, in the spool: %d, missing: %d, duplicated: %d"
      % (len(want), len(have), len(missing), len(have) - len(set(have))))
sys.exit(1 if missing or len(have) != len(set(have)) else 0)
EOF
}

# One request, one 200, then SIGKILL at once.
start_ingest "$T/c.ini"
gen_events 1 60 > "$T/one"
code=$(post /v1/events/k9 --data-binary @"$T/one")
kill9
check "single request answered 200 (got $code)" test "$code" = 200
echo "1 60" > "$T/ok.all"
check "its 60 events are in the spool after SIGKILL" in_spool "$T/ok.all"
expect_exit "verify clean" 0 "$SP" -s "$T/spool" verify >/dev/null

# SIGKILL in the middle of a load, three times.
first=1000000
for round in 1 2 3; do
	start_ingest "$T/c.ini"
	"$LOAD" -c 50 -d 60 -x -e 60 -i "$first" -o "$T/ok.$round" \
		"$IG/v1/events/k9" > "$T/load.$round" 2>&1 &
	lpid=$!
	_pids+=("$lpid")
	# Kill once some hundreds of requests were answered (more each round).
	check "round $round: requests answered" wait_for 60 \
		lines_ge "$T/ok.$round" $((round * 150))
	kill9
	wait "$lpid"
	cat "$T/load.$round"
	cat "$T/ok.$round" >> "$T/ok.all"
	check "round $round: every event answered 200 is in the spool" \
		in_spool "$T/ok.all"
	expect_exit "round $round: verify clean" 0 "$SP" -s "$T/spool" verify >/dev/null
	first=$((first + 10000000))
done

# Restart: the daemon opens the spool again and takes more.
start_ingest "$T/c.ini"
before=$(spool_pending k9)
code=$(post /v1/events/k9 --data-binary @"$T/one")
check "after the crashes: 200 (got $code)" test "$code" = 200
check "after the crashes: appended on top" test "$(spool_pending k9)" -eq $((before + 60))
stop_ingest
check "SIGTERM exits 0" test "$IG_RC" -eq 0
finish
