#!/usr/bin/env bash
# tools/ratelimit-drain.sh - issue 13's rate-limit figure: the time
# `spoolship run --until-empty` takes to drain EVENTS events into the mock
# receiver, clean and with a gateway-style 429 (Retry-After: 1 beside
# RateLimit-* headers with requests left: --p429 with the default --rpm) on
# P429 of the requests; prints both, the 429s received and the target
# (clean + 1 s per 429).  Default [ship] settings but linger.  Loopback.
#   BUILD_DIR=build tools/ratelimit-drain.sh     # EVENTS=60000 P429=0.03
set -euo pipefail
B=${BUILD_DIR:?set BUILD_DIR, e.g. build}
EVENTS=${EVENTS:-60000}
P429=${P429:-0.03}
D=$(mktemp -d "${TMPDIR:-/tmp}/ratelimit-drain-XXXXXX")
MOCK_PID=""
cleanup() {
	[ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null
	wait 2>/dev/null || true
	rm -rf "$D"
}
trap cleanup EXIT
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
drain() { # MOCK-ARGS...: prints "ms n429"
	rm -rf "$D/spool" "$D/port"
	awk -v n="$EVENTS" -v t="$(date -u +%Y-%m-%dT%H:%M:%S.000Z)" \
		'BEGIN { for (i = 1; i <= n; i++)
			printf "{\"__time\":\"%s\",\"id\":%d}\n", t, i }' |
		"$B/spoolship" -s "$D/spool" append -t t >/dev/null 2>&1
	"$B/mock-polaris" --port 0 --port-file "$D/port" --seed 13 "$@" \
		2>>"$D/mock.log" &
	MOCK_PID=$!
	until [ -s "$D/port" ]; do sleep 0.01; done
	printf '[spool]\npath = %s\n[ship]\nurl = http://127.0.0.1:%s/v1/events/{table}\nlinger = 50ms\n' \
		"$D/spool" "$(cat "$D/port")" > "$D/c.ini"
	local t0 t1 n
	t0=$(now_ms)
	"$B/spoolship" run -c "$D/c.ini" --until-empty 2>>"$D/run.log"
	t1=$(now_ms)
	n=$(curl -s "http://127.0.0.1:$(cat "$D/port")/stats" |
		grep -o '"429": *[0-9]*' | grep -o '[0-9]*$' || echo 0)
	kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null || true
	MOCK_PID=""
	echo "$(( t1 - t0 )) ${n:-0}"
}
read -r clean _ < <(drain)
read -r limited n429 < <(drain --p429 "$P429" --retry-after 1)
echo "clean drain of $EVENTS events: $clean ms"
echo "with --p429 $P429 (Retry-After: 1): $limited ms, $n429 answers 429;" \
	"target <= $(( clean + n429 * 1000 )) ms (clean + 1 s per 429)"
grep -o 'pause_ms=[0-9]*' "$D/run.log" | sort | uniq -c
