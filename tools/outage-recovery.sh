#!/usr/bin/env bash
# tools/outage-recovery.sh - issue 13's recovery figure: with the default
# [ship] settings, the mock receiver's process is stopped for OUTAGE
# seconds while events keep arriving, then started again on the same port;
# prints the time from its restart (its port file written) to its first
# 2xx, and how long the backlog took to arrive.  Loopback only.
#   BUILD_DIR=build tools/outage-recovery.sh          # OUTAGE=30, RUNS=3
# Knobs: OUTAGE (seconds, 30), RUNS (3), EVENTS (per phase, 3000).
set -euo pipefail
B=${BUILD_DIR:?set BUILD_DIR, e.g. build}
OUTAGE=${OUTAGE:-30}
RUNS=${RUNS:-3}
EVENTS=${EVENTS:-3000}
D=$(mktemp -d "${TMPDIR:-/tmp}/outage-recovery-XXXXXX")
MOCK_PID="" RUN_PID=""
cleanup() {
	for p in $RUN_PID $MOCK_PID; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$D"
}
trap cleanup EXIT
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
ok200() { # the mock's 2xx count
	curl -s --max-time 2 "http://127.0.0.1:$PORT/stats" |
		grep -o '"200": *[0-9]*' | grep -o '[0-9]*$' || echo 0
}
mock() {
	rm -f "$D/port"
	"$B/mock-polaris" --port "${PORT:-0}" --port-file "$D/port" --rpm 0 \
		2>>"$D/mock.log" &
	MOCK_PID=$!
	until [ -s "$D/port" ]; do sleep 0.01; done
	PORT=$(cat "$D/port")
}
events() { # FIRST N
	awk -v f="$1" -v n="$2" -v t="$(date -u +%Y-%m-%dT%H:%M:%S.000Z)" \
		'BEGIN { for (i = f; i < f + n; i++)
			printf "{\"__time\":\"%s\",\"id\":%d}\n", t, i }' |
		"$B/spoolship" -s "$D/spool" append -t t 2>/dev/null
}
mock
printf '[spool]\npath = %s\n[ship]\nurl = http://127.0.0.1:%s/v1/events/{table}\n' \
	"$D/spool" "$PORT" > "$D/c.ini"
"$B/spoolship" run -c "$D/c.ini" 2>>"$D/run.log" &
RUN_PID=$!
for r in $(seq 1 "$RUNS"); do
	first=$(( r * 2 * EVENTS ))
	events "$first" "$EVENTS"
	until "$B/spoolship" -s "$D/spool" stats --json |
		grep -q '"pending_events": *0[,}]'; do sleep 0.05; done
	kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null || true
	events $(( first + EVENTS )) "$EVENTS"
	sleep "$OUTAGE"
	mock
	t0=$(now_ms)
	until [ "$(ok200)" -gt 0 ]; do sleep 0.01; done
	t1=$(now_ms)
	until [ "$(curl -s "http://127.0.0.1:$PORT/stats" |
		grep -o '"unique_ids": *[0-9]*' | grep -o '[0-9]*$')" -ge "$EVENTS" ]
	do sleep 0.01; done
	t2=$(now_ms)
	echo "run $r: outage ${OUTAGE} s: first 2xx $(( t1 - t0 )) ms after" \
		"the restart, $EVENTS events of backlog in $(( t2 - t0 )) ms"
done
grep -E 'destination unreachable|delivery resumed' "$D/run.log" | tail -n 2
