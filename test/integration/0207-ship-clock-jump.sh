#!/usr/bin/env bash
# 0207: clock jumps.  Events whose append time lies an hour ahead of the
# shipper's wall clock (a clock set back after they were appended, or a
# producer's clock running ahead) still go after linger, not an hour
# later: linger is also measured on the monotonic clock.  The wait is
# bounded at 30 s, far below the hour the bug would take.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ship.sh"
start_mock --rpm 0
gen_events 1 7 > "$T/a" # fewer than max_events: a partial batch lingers
"$SP" -s "$T/spool" append -t wiki "$T/a" 2>/dev/null
expect_exit "append times moved an hour ahead" 0 "$TOOL" shift-append "$T/spool" 3600000
write_config "$T/c.ini" # linger = 50ms
start_run "$T/c.ini"
check "the partial batch goes after linger, not an hour" wait_for 30 mock_stat_eq events_accepted 7
check "every id arrived" ids_complete 1 7
stop_run
check "run exits 0" test "$RUN_RC" -eq 0
finish
