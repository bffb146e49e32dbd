# test/integration/lib_ingest.sh - for the ingest endpoint's tests: the
# daemon with [ingest] on a loopback port it picks itself (read back from
# its log, so no port race), and curl helpers.  Source after lib.sh.
LOAD="$BUILD_DIR/load-ingest"
MOCK="$BUILD_DIR/mock-polaris"
IG_PID=""
IG_PORT=""
IG=""
IG_LOG=""
_ig_runs=0

# ingest_config FILE [INI lines...]: spool $T/spool, shipping to SHIP_URL
# (default: a loopback port nothing listens on, so events stay in the
# spool), ingest on 127.0.0.1:0.  The lines are appended after [ingest];
# start them with a [section] line to set other sections.
ingest_config() {
	local f=$1 url=${SHIP_URL:-}; shift
	[ -n "$url" ] || url='http://127.0.0.1:9/v1/events/{table}'
	{
		echo "[spool]"
		echo "path = ${SPOOL_DIR:-$T/spool}"
		echo "[ship]"
		echo "url = $url"
		echo "linger = 50ms"
		echo "backoff_min = 50ms"
		echo "backoff_max = 1s"
		echo "shutdown_timeout = 5s"
		echo "[ingest]"
		echo "listen = 127.0.0.1:0"
		printf '%s\n' "$@"
	} > "$f"
}

healthz_code() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$IG/healthz"
}
healthy() { [ "$(healthz_code)" = 200 ]; }

# start_ingest CONFIG: the daemon in the background (IG_PID, log IG_LOG);
# returns once its port is logged and /healthz answers 200.
start_ingest() {
	_ig_runs=$((_ig_runs + 1))
	IG_LOG="$T/run.$_ig_runs.log"
	: > "$IG_LOG"
	"$SP" run -c "$1" 2>"$IG_LOG" &
	IG_PID=$!
	_pids+=("$IG_PID")
	if ! wait_for 30 grep -q 'ingest listening' "$IG_LOG"; then
		cat "$IG_LOG"; echo "daemon did not start"; exit 1
	fi
	IG_PORT=$(sed -n 's/.*ingest listening .*port=\([0-9]*\).*/\1/p' \
		"$IG_LOG" | head -n 1)
	IG="http://127.0.0.1:$IG_PORT"
	if ! wait_for 30 healthy; then
		cat "$IG_LOG"; echo "/healthz never answered 200"; exit 1
	fi
}
stop_ingest() { # SIGTERM, exit code in IG_RC
	kill -TERM "$IG_PID" 2>/dev/null
	wait "$IG_PID"; IG_RC=$?
	IG_PID=""
}

# post PATH [curl args...]: prints the status; the answer's body goes to
# $T/answer and its headers to $T/headers.
post() {
	local p=$1; shift
	curl -s -o "$T/answer" -D "$T/headers" -w '%{http_code}' \
		--max-time 60 -H 'Content-Type: application/json' "$@" "$IG$p"
}
# fill_until_503 MAX PAD: POSTs requests of 100 events (ids from 1, PAD
# as padding) to /v1/events/full until one is answered 503, MAX at most.
# Sets oks (the first id of each request answered 200), got503 (0 or 1)
# and first (the first id not taken).
fill_until_503() {
	local i code
	first=1 got503=0 oks=()
	for i in $(seq 1 "$1"); do
		gen_events "$first" 100 "$2" > "$T/req"
		code=$(post /v1/events/full --data-binary @"$T/req")
		if [ "$code" = 200 ]; then
			oks+=("$first")
		elif [ "$code" = 503 ]; then
			got503=1
			break
		else
			not_ok "unexpected answer $code while filling: $(cat "$T/answer")"
			break
		fi
		first=$((first + 100))
	done
}
# stays_503 N: /healthz answers 503 at each of N looks 0.2 s apart.
stays_503() {
	local i
	for i in $(seq 1 "$1"); do
		[ "$(healthz_code)" = 503 ] || return 1
		sleep 0.2
	done
}
# answer_is EXPR: a Python expression over the JSON answer `a` holds.
answer_is() {
	python3 -c 'import json,sys
a = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$T/answer" "$1"
}
# spool_pending [TABLE]: pending events, of one stream or all.
spool_pending() {
	"$SP" -s "${SPOOL_DIR:-$T/spool}" stats --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
t = sys.argv[1]
print(d["streams"].get(t, {}).get("pending_events", 0) if t else d["pending_events"])' "${1:-}"
}
# spool_total KEY: one figure of stats --json (appended_total, ...).
spool_total() {
	"$SP" -s "${SPOOL_DIR:-$T/spool}" stats --json | python3 -c \
		'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}
# free_port: a loopback port that was free a moment ago.
free_port() {
	python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
