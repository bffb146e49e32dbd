#!/usr/bin/env bash
# 0204: kill -9 of the shipper at random moments during a fault-injected
# run (12 kills).  Afterwards every event id has arrived, and duplicates
# stay within the bound of docs/delivery.md: per kill at most
# 3 x max_in_flight batches (in flight, and acknowledged ones waiting for
# their delete), per answer lost after acceptance one batch.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ship.sh"
CHUNK=${CHUNK:-5000}
KILLS=${KILLS:-12}
INFLIGHT=4
start_mock --rpm 0 --p500 0.05 --p-drop-after 0.02 --delay-ms 30 --delay-jitter-ms 15 --seed 42
write_config "$T/c.ini" "max_in_flight = $INFLIGHT" "requests_per_minute = 0"
N=0
kills=0
for k in $(seq 1 "$KILLS"); do
	# Keep a backlog so that every kill lands mid-run.
	if [ ! -d "$T/spool" ] || [ "$(pending)" -lt 1000 ]; then
		gen_events $((N + 1)) "$CHUNK" | "$SP" -s "$T/spool" append -t t 2>/dev/null
		N=$((N + CHUNK))
	fi
	start_run "$T/c.ini"
	before=$(mock_stat requests)
	# Let it get going, then kill it at a random moment.
	wait_for 20 mock_stat_ge requests $((before + 1)) || break
	sleep "0.$((RANDOM % 3))$((RANDOM % 9 + 1))"
	kill -9 "$RUN_PID" 2>/dev/null && kills=$((kills + 1))
	wait "$RUN_PID" 2>/dev/null
	RUN_PID=""
	check "verify clean after kill $k" "$SP" -s "$T/spool" verify >/dev/null
done
check "killed $KILLS times mid-run" test "$kills" -eq "$KILLS"
expect_exit "final run until empty" 0 timeout 120 "$SP" run -c "$T/c.ini" --until-empty 2>>"$T/run.log"
check "every id arrived" ids_complete 1 "$N"
dups=$(mock_stat duplicates)
drops=$(mock_stat connections_dropped)
# Per kill: what was in flight and the acknowledged batches still
# waiting for their delete (at most 2 x max_in_flight): 3 x max_in_flight.
bound=$(( kills * 3 * INFLIGHT * 60 + drops * 60 ))
echo "kills=$kills dropped_answers=$drops duplicates=$dups bound=$bound"
check "duplicates within the documented bound" test "$dups" -le "$bound"
check "spool empty" pending_is 0
finish
