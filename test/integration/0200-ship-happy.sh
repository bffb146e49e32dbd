#!/usr/bin/env bash
# 0200: the happy path.  Events appended to two tables reach the mock once
# each in requests of at most 60 events and 1,000,000 bytes, with
# Content-Type application/json, mapped table ids, gzip when asked; the
# spool is empty afterwards and its totals say so.  --check-config.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ship.sh"
start_mock --rpm 0 --tables wiki,f972c0f5-e5f2
gen_events 1 3000 > "$T/a"
gen_events 100000 1000 > "$T/b"
"$SP" -s "$T/spool" append -t wiki "$T/a" 2>/dev/null
"$SP" -s "$T/spool" append -t clicks "$T/b" 2>/dev/null
write_config "$T/c.ini" "[table clicks]" "id = f972c0f5-e5f2"
expect_exit "check-config OK" 0 "$SP" run -c "$T/c.ini" --check-config
expect_exit "until-empty exits 0" 0 timeout 60 "$SP" run -c "$T/c.ini" --until-empty 2>"$T/run.log"
check "all events accepted" mock_stat_eq events_accepted 4000
check "no duplicates" mock_stat_eq duplicates 0
check "every id arrived" ids_complete 1 3000
check "mapped table id used" mock_stat_eq accepted_by_table.f972c0f5-e5f2 1000
check "at most 60 events per request" test "$(mock_stat max_events_per_request)" -le 60
check "spool empty" pending_is 0
check "shipped_total counted" test "$(spool_total shipped_total)" -eq 4000
check "only 200s" test "$(mock_stat requests)" -eq "$(mock_stat by_status.200)"

# gzip: the same through Content-Encoding: gzip.
curl -s -X POST "http://127.0.0.1:$MOCK_PORT/control/reset" >/dev/null
gen_events 5000 500 > "$T/c"
"$SP" -s "$T/spool" append -t wiki "$T/c" 2>/dev/null
write_config "$T/gz.ini" "gzip = true"
expect_exit "gzip run exits 0" 0 timeout 60 "$SP" run -c "$T/gz.ini" --until-empty 2>>"$T/run.log"
check "gzip requests" test "$(mock_stat gzip_requests)" -gt 0
check "gzip events accepted" mock_stat_eq events_accepted 500

# Big events: the 1,000,000-byte body bound, not 60 events, cuts batches.
curl -s -X POST "http://127.0.0.1:$MOCK_PORT/control/reset" >/dev/null
gen_events 9000 40 "$(head -c 100000 /dev/zero | tr '\0' 'z')" > "$T/big"
"$SP" -s "$T/spool" append -t wiki "$T/big" 2>/dev/null
expect_exit "big events run exits 0" 0 timeout 60 "$SP" run -c "$T/c.ini" --until-empty 2>>"$T/run.log"
check "big events all accepted, none refused" mock_stat_eq events_accepted 40
check "no body over 1,000,000 bytes" test "$(mock_stat max_body_bytes_seen)" -le 1000000
check "no 413" mock_stat_eq by_status.413 0

# JSON logs: every line an object with ts, level and msg.
gen_events 20000 10 | "$SP" -s "$T/spool" append -t wiki 2>/dev/null
write_config "$T/json.ini" "[log]" "format = json"
timeout 60 "$SP" run -c "$T/json.ini" --until-empty 2>"$T/json.log"
check "json log lines parse" python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert lines and all({"ts", "level", "msg"} <= set(l) for l in lines)
' "$T/json.log"

# A bad config exits 2 naming the line.
printf '[ship]\nurl = http://127.0.0.1:1/v1/events/{table}\nmax_events = lots\n' > "$T/bad.ini"
expect_exit "bad config exits 2" 2 "$SP" run -c "$T/bad.ini" --check-config 2>"$T/err"
check "bad config names the line" grep -q 'bad.ini:3:' "$T/err"
finish
