#!/usr/bin/env bash
# 0208: a 429 means what it says (issue 13 item 4).  The mock throws a
# 429 on 10% of requests the way a gateway does: Retry-After: 1 beside
# RateLimit-Remaining in the tens of thousands and a RateLimit-Reset of
# the minute window (--p429 with the default --rpm).  Each pause lasts
# the second the answer asked for, not until the window resets (15-60 s),
# so 3000 events drain in seconds; every id arrives, none twice.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ship.sh"
start_mock --p429 0.1 --retry-after 1 --seed 13
gen_events 1 3000 | "$SP" -s "$T/spool" append -t t 2>/dev/null
write_config "$T/c.ini"
t0=$(date +%s%N)
expect_exit "drain until empty" 0 timeout 60 "$SP" run -c "$T/c.ini" \
	--until-empty 2>>"$T/run.log"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
n429=$(mock_stat by_status.429)
echo "# drained 3000 events in ${ms} ms with $n429 answers 429"
check "429s were answered" test "$n429" -ge 1
check "the 429s carried RateLimit-* with requests left" \
	test "$(mock_stat by_status.200)" -ge 50
check "every id arrived" ids_complete 1 3000
check "no duplicates" mock_stat_eq duplicates 0
check "pauses logged" grep -q 'rate limited, pausing all sending.*status=429' "$T/run.log"
check "no pause longer than Retry-After" bash -c \
	"! grep 'rate limited, pausing' '$T/run.log' | grep -qv 'pause_ms=1000\$'"
# Generous: a clean drain takes about a second here, plus one second per
# 429 at most; one pause until the window resets alone is 15-60 s.
check "drain within 1 s per 429 plus 10 s" test "$ms" -le $(( n429 * 1000 + 10000 ))
stop_mock
finish
