# test/integration/lib_ship.sh - for the shipper's tests: the bundled mock
# receiver and the daemon as real processes on loopback, and bounded
# waits on their counters.  Source after lib.sh.
MOCK="$BUILD_DIR/mock-polaris"
MOCK_PID=""
MOCK_PORT=""
RUN_PID=""

# start_mock ARGS...: starts mock-polaris on a free port (MOCK_PORT).
start_mock() {
	rm -f "$T/mock.port"
	"$MOCK" --port "${MOCK_PORT:-0}" --port-file "$T/mock.port" "$@" \
		2>>"$T/mock.log" &
	MOCK_PID=$!
	_pids+=("$MOCK_PID")
	wait_for 10 test -s "$T/mock.port" || { echo "mock did not start"; cat "$T/mock.log"; exit 1; }
	MOCK_PORT=$(cat "$T/mock.port")
}
stop_mock() {
	[ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null && wait "$MOCK_PID" 2>/dev/null
	MOCK_PID=""
}
# mock_stat KEY: one counter of GET /stats (by_status.200 style for nested).
mock_stat() {
	curl -s --max-time 5 "http://127.0.0.1:$MOCK_PORT/stats" |
		python3 -c 'import json,sys
d = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    d = d.get(k, 0) if isinstance(d, dict) else 0
print(d)' "$1"
}
mock_stat_ge() { [ "$(mock_stat "$1")" -ge "$2" ]; }
mock_stat_eq() { [ "$(mock_stat "$1")" -eq "$2" ]; }

# write_config FILE [extra INI lines...]: a config shipping $T/spool to
# the mock; extra lines are appended (sections and keys).
write_config() {
	local f=$1; shift
	{
		echo "[spool]"
		echo "path = $T/spool"
		echo "[ship]"
		echo "url = http://127.0.0.1:$MOCK_PORT/v1/events/{table}"
		echo "linger = 50ms"
		echo "backoff_min = 20ms"
		echo "backoff_max = 500ms"
		echo "alarm_backoff = 1s"
		echo "shutdown_timeout = 5s"
		printf '%s\n' "$@"
	} > "$f"
}
# start_run CONFIG: the daemon in the background (RUN_PID), log in run.log.
start_run() {
	"$SP" run -c "$1" 2>>"$T/run.log" &
	RUN_PID=$!
	_pids+=("$RUN_PID")
}
stop_run() { # SIGTERM, then the exit code in RUN_RC
	kill -TERM "$RUN_PID" 2>/dev/null
	wait "$RUN_PID"; RUN_RC=$?
	RUN_PID=""
}
pending() {
	"$SP" -s "$T/spool" stats --json | python3 -c \
		'import json,sys; print(json.load(sys.stdin)["pending_events"])'
}
spool_total() { # KEY of stats --json
	"$SP" -s "$T/spool" stats --json | python3 -c \
		'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}
pending_is() { [ "$(pending)" -eq "$1" ]; }
# ids_complete FIRST N: every id FIRST..FIRST+N-1 arrived at the mock.
ids_complete() {
	curl -s --max-time 5 "http://127.0.0.1:$MOCK_PORT/ids" | python3 -c '
import sys
f, n = int(sys.argv[1]), int(sys.argv[2])
have = {l.strip() for l in sys.stdin if l.strip()}
missing = [i for i in range(f, f + n) if str(i) not in have]
sys.exit(1 if missing else 0)' "$1" "$2"
}
# outage_with_events N CONFIG: the mock in an outage (503 while $OUT
# exists), events 1..N pending in $T/spool, CONFIG shipping it.
outage_with_events() {
	OUT="$T/outage"
	touch "$OUT"
	start_mock --rpm 0 --outage-file "$OUT"
	gen_events 1 "$1" | "$SP" -s "$T/spool" append -t t 2>/dev/null
	write_config "$2"
}
