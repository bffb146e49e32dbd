#!/usr/bin/env bash
# 0201: every answer of docs/events-api.md against the mock: 400 bisected down to
# the poison events (dead-lettered with status and excerpt, the rest
# delivered), 413 split (an event too big alone dead-lettered), 5xx and
# dropped connections retried without loss, timeouts retried, 429 paused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ship.sh"

run_until_empty() { # CONFIG NAME
	expect_exit "$2: run until empty exits 0" 0 timeout 120 \
		"$SP" run -c "$1" --until-empty 2>>"$T/run.log"
}
reset_all() {
	stop_mock
	rm -rf "$T/spool"
}

# 400: three poison events among 300.
start_mock --rpm 0 --poison-field poison
{
	gen_events 1 100
	echo "{\"__time\":\"$(now_iso)\",\"id\":9001,\"poison\":true}"
	gen_events 101 100
	echo "{\"__time\":\"$(now_iso)\",\"id\":9002,\"poison\":1}"
	echo "{\"__time\":\"$(now_iso)\",\"id\":9003,\"poison\":null}"
	gen_events 201 97
} > "$T/in"
"$SP" -s "$T/spool" append -t t "$T/in" 2>/dev/null
write_config "$T/c.ini"
run_until_empty "$T/c.ini" "400"
check "400: every good event delivered" ids_complete 1 297
check "400: no poison delivered" mock_stat_eq events_accepted 297
check "400: three dead-lettered" test "$(spool_total dead_total)" -eq 3
check "400: dead store holds them" test "$(spool_total dead_events)" -eq 3
check "400: logged with status and body" grep -q 'refused alone.*status=400.*poison event' "$T/run.log"

# 413: a 3,000-byte limit splits batches; one 4,000-byte event is too big.
reset_all
start_mock --rpm 0 --max-body 3000
gen_events 1 200 > "$T/in"
gen_events 500 1 "$(head -c 4000 /dev/zero | tr '\0' 'q')" >> "$T/in"
"$SP" -s "$T/spool" append -t t "$T/in" 2>/dev/null
run_until_empty "$T/c.ini" "413"
check "413: all that fit delivered" ids_complete 1 200
check "413: answered 413 at first" mock_stat_ge by_status.413 1
check "413: the big one dead-lettered" test "$(spool_total dead_total)" -eq 1
check "413: too_big logged" grep -q 'refused alone.*status=413.*reason=too_big' "$T/run.log"

# 5xx and connections dropped before the answer: retried, no loss.
reset_all
start_mock --rpm 0 --p500 0.2 --p503 0.1 --p-drop-before 0.1 --seed 7
gen_events 1 3000 > "$T/in"
"$SP" -s "$T/spool" append -t t "$T/in" 2>/dev/null
run_until_empty "$T/c.ini" "5xx"
check "5xx: all delivered" ids_complete 1 3000
check "5xx: no duplicates (nothing was accepted twice)" mock_stat_eq duplicates 0
check "5xx: there were 500s" mock_stat_ge by_status.500 1
check "5xx: retries logged" grep -q 'request failed, will retry' "$T/run.log"

# Dropped after accepting: retried; duplicates at most one batch each.
reset_all
start_mock --rpm 0 --p-drop-after 0.1 --seed 11
gen_events 1 2000 > "$T/in"
"$SP" -s "$T/spool" append -t t "$T/in" 2>/dev/null
run_until_empty "$T/c.ini" "drop-after"
check "drop-after: all delivered" ids_complete 1 2000
drops=$(mock_stat connections_dropped)
check "drop-after: duplicates <= 60 x dropped answers" \
	test "$(mock_stat duplicates)" -le $((drops * 60))

# Timeouts: answers slower than the client's timeout are retried.
reset_all
start_mock --rpm 0 --delay-jitter-ms 600 --seed 3
gen_events 1 600 > "$T/in"
"$SP" -s "$T/spool" append -t t "$T/in" 2>/dev/null
write_config "$T/to.ini" "timeout = 300ms"
run_until_empty "$T/to.ini" "timeout"
check "timeout: all delivered" ids_complete 1 600
check "timeout: timeouts were retried" grep -q 'curl="Timeout was reached"' "$T/run.log"

# 429 with Retry-After: paused, then delivered.
reset_all
start_mock --rpm 0 --p429 0.3 --retry-after 1 --seed 5
gen_events 1 600 > "$T/in"
"$SP" -s "$T/spool" append -t t "$T/in" 2>/dev/null
run_until_empty "$T/c.ini" "429"
check "429: all delivered" ids_complete 1 600
check "429: answered 429" mock_stat_ge by_status.429 1
check "429: pause logged with its length" grep -q 'rate limited, pausing all sending.*status=429 .*pause_ms=1000$' "$T/run.log"

# The client-side limit: 300 requests a minute is 5 a second (a burst of
# one second's worth first), so 20 requests cannot take less than 3 s.
reset_all
start_mock --rpm 0
gen_events 1 1200 > "$T/in"
"$SP" -s "$T/spool" append -t t "$T/in" 2>/dev/null
write_config "$T/rpm.ini" "requests_per_minute = 300"
t0=$(date +%s%N)
run_until_empty "$T/rpm.ini" "rpm"
t1=$(date +%s%N)
check "rpm: all delivered" ids_complete 1 1200
check "rpm: 20 requests" mock_stat_eq requests 20
check "rpm: no faster than the limit allows" test $(( (t1 - t0) / 1000000 )) -ge 2800
finish
