#!/usr/bin/env bash
# 0203: age-out.  Events that would arrive older than max_age - age_margin
# go to the dead store as expired and are counted, never sent; events
# that age while the receiver is down are expired by the sweep or by the
# batch that carries them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ship.sh"
start_mock --rpm 0
ago() { date -u -d "$1 ago" +%Y-%m-%dT%H:%M:%S.000Z; }
{
	gen_events 1 100
	for i in $(seq 1 20); do
		echo "{\"__time\":\"$(ago '50 minutes')\",\"id\":$((1000 + i))}"
	done
	gen_events 101 100
} > "$T/in"
# The spool accepts them (append's own window is 7 days) ...
"$SP" -s "$T/spool" append -t t "$T/in" 2>/dev/null
# ... the shipper's window is 1 hour with a 15-minute margin.
write_config "$T/c.ini" "max_age = 1h" "age_margin = 15m"
expect_exit "run until empty" 0 timeout 60 "$SP" run -c "$T/c.ini" --until-empty 2>"$T/run.log"
check "fresh events delivered" ids_complete 1 200
check "old events never sent" mock_stat_eq events_accepted 200
check "expired_total counts them" test "$(spool_total expired_total)" -eq 20
check "they are in the dead store" test "$(spool_total dead_events)" -eq 20
check "expiry logged" grep -q 'expired.*events=' "$T/run.log"
finish
