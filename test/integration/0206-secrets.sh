#!/usr/bin/env bash
# 0206: secrets.  (a) Every secret file (token_file, client_secret_file,
# api_key_file, [ingest] token_file) that group or others can read (0640,
# 0604) is refused by `run --check-config` with exit 2 and a message naming
# the file, its mode and the line, never its content; 0600 and 0400 pass.
# (b) Whole runs with debug logging, JSON and text logs: OAuth client
# credentials (the mock's token endpoint behind a recording proxy, so the
# issued access tokens are known), a static Bearer token and an API key,
# each with the ingest endpoint and its token, a SIGHUP and a /metrics
# scrape.  No log line, no /metrics, no status page and no /status.json
# holds the client secret, an issued token, the static token, the API key,
# the ingest token, or the base64 forms a Basic header would carry.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ship.sh"
# Distinctive values (only unreserved URL characters, so their
# percent-encoded form is the same text and one grep finds both).
CID="c1ient-1d-0206"
CSEC="cl13nt-S3CR3T-0206-Qz7vWpXk"
STATIC="st4tic-T0K3N-0206-Hj9kLmNb"
APIKEY="ap1-K3Y-0206-Rt5yUiOp"
IGTOK="1ngest-T0K3N-0206-Ws3eDxCv"

# ---- (a) modes of the secret files ----------------------------------------
MOCK_PORT=9 # nothing is sent: --check-config only loads the file
printf '%s\n' "$CSEC" > "$T/secret"
# conf KIND: a config whose secret comes from $T/secret; prints its key's
# label ("[auth] token_file").
conf() {
	case $1 in
	token) write_config "$T/a.ini" "[auth]" "mode = bearer" \
		"token_file = $T/secret"; echo "[auth] token_file" ;;
	client_secret) write_config "$T/a.ini" "[auth]" "mode = oauth" \
		"token_url = http://127.0.0.1:9/oauth/token" \
		"client_id = $CID" "client_secret_file = $T/secret"
		echo "[auth] client_secret_file" ;;
	api_key) write_config "$T/a.ini" "[auth]" "mode = apikey" \
		"api_key_file = $T/secret"; echo "[auth] api_key_file" ;;
	ingest) write_config "$T/a.ini" "[ingest]" "listen = 127.0.0.1:0" \
		"token_file = $T/secret"; echo "[ingest] token_file" ;;
	esac
}
for kind in token client_secret api_key ingest; do
	for mode in 0640 0604 0644; do
		lbl=$(conf "$kind")
		chmod "$mode" "$T/secret"
		line=$(grep -n "_file = $T/secret" "$T/a.ini" | cut -d: -f1)
		"$SP" run -c "$T/a.ini" --check-config >"$T/out" 2>&1
		rc=$?
		want="$T/a.ini:$line: $lbl: '$T/secret' is accessible by"
		want="$want group or others (mode $mode): chmod 600 it"
		check "$kind $mode: exit 2" test "$rc" -eq 2
		check "$kind $mode: file, line and mode named" \
			grep -qxF "$want" "$T/out"
		check "$kind $mode: content not shown" \
			bash -c "! grep -qF '$CSEC' '$T/out'"
	done
	for mode in 0600 0400; do
		conf "$kind" >/dev/null
		chmod "$mode" "$T/secret"
		"$SP" run -c "$T/a.ini" --check-config >"$T/out" 2>&1
		rc=$?
		check "$kind $mode: accepted" test "$rc" -eq 0
		check "$kind $mode: configuration OK" \
			grep -qx 'configuration OK' "$T/out"
	done
done

# ---- (b) whole runs: no secret anywhere ----------------------------------
# A recording proxy in front of the mock's token endpoint: forwards the
# request as it is and writes each access_token it hands back to a file.
cat > "$T/tokproxy.py" <<'PY'
import http.server, json, os, sys, threading, urllib.error, urllib.request
target, portfile, tokfile = sys.argv[1:4]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        hdrs = {k: v for k, v in self.headers.items()
                if k.lower() in ("content-type", "authorization", "accept")}
        req = urllib.request.Request(target, data=body, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                code, data = r.status, r.read()
        except urllib.error.HTTPError as e:
            code, data = e.code, e.read()
        try:
            with open(tokfile, "a") as f:
                f.write(json.loads(data)["access_token"] + "\n")
        except (ValueError, KeyError):
            pass
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(portfile + ".tmp", "w").write(str(s.server_address[1]))
os.rename(portfile + ".tmp", portfile)
threading.Timer(240, s.shutdown).start()   # never outlives the test
s.serve_forever()
PY

b64() { printf '%s' "$1" | base64 -w0; }
: > "$T/issued"
issued_more_than() { [ "$(wc -l <"$T/issued")" -gt "$1" ]; }
# the_secrets: every value that must never be shown, one per line.
the_secrets() {
	printf '%s\n' "$CSEC" "$STATIC" "$APIKEY" "$IGTOK" \
		"$(b64 "$CID:$CSEC")" "$(b64 "$APIKEY:")" "$(b64 "$APIKEY")" \
		"$(b64 "$STATIC")" "$(b64 "$IGTOK")"
	cat "$T/issued"
}
# no_secret_in FILE: none of the secrets occurs in FILE (named if so).
no_secret_in() {
	local hits
	hits=$(grep -oFf <(the_secrets) "$1" | sort -u)
	[ -z "$hits" ] && return 0
	echo "secret found in $1: $hits"
	return 1
}

umask 077
printf '%s\n' "$CSEC" > "$T/csec"
printf '%s\n' "$IGTOK" > "$T/igtok"
next_id=1
# port_of WHAT LOG: the port of "WHAT listening", text or JSON log.
port_of() {
	grep "$1 listening" "$2" | grep -oE 'port[=":]+[0-9]+' | head -n 1 |
		grep -oE '[0-9]+$'
}
# run_case NAME FORMAT [auth lines...]: ships events appended by the CLI
# and posted to the ingest endpoint, scrapes /metrics, / and /status.json,
# reloads on SIGHUP, stops, and greps everything for the secrets.
run_case() {
	local name=$1 format=$2 log=$T/run.$1.log iglines first=$next_id
	shift 2
	rm -rf "$T/spool"
	if [ "$name" = oauth-text ]; then  # the ingest token inline once
		iglines=("token = $IGTOK")
	else
		iglines=("token_file = $T/igtok")
	fi
	write_config "$T/$name.ini" "requests_per_minute = 0" "$@" \
		"[log]" "level = debug" "format = $format" \
		"[ingest]" "listen = 127.0.0.1:0" "${iglines[@]}" \
		"[metrics]" "listen = 127.0.0.1:0"
	: > "$log"
	"$SP" run -c "$T/$name.ini" 2>>"$log" &
	RUN_PID=$!
	_pids+=("$RUN_PID")
	if ! wait_for 30 grep -q 'metrics listening' "$log" ||
	   ! wait_for 30 grep -q 'ingest listening' "$log"; then
		cat "$log"; echo "$name: the daemon did not start"; exit 1
	fi
	local ig mx
	ig=$(port_of ingest "$log")
	mx=$(port_of metrics "$log")
	for round in 1 2 3; do
		issued=$(wc -l <"$T/issued")
		gen_events "$next_id" 50 | "$SP" -s "$T/spool" append -t t 2>/dev/null
		next_id=$((next_id + 50))
		gen_events "$next_id" 50 > "$T/body"
		check "$name: ingest accepts its token ($round)" test "$(curl -s \
			-o /dev/null -w '%{http_code}' --max-time 30 \
			-H "Authorization: Bearer $IGTOK" \
			-H 'Content-Type: application/json' \
			--data-binary @"$T/body" "http://127.0.0.1:$ig/v1/events/t")" = 200
		next_id=$((next_id + 50))
		# A wrong token: refused (and logged, at debug, without it).
		curl -s -o /dev/null --max-time 30 -H "Authorization: Bearer x$IGTOK" \
			-H 'Content-Type: application/json' --data-binary @"$T/body" \
			"http://127.0.0.1:$ig/v1/events/t"
		[ "$round" = 2 ] && kill -HUP "$RUN_PID"
		check "$name: delivered ($round)" \
			wait_for 30 ids_complete "$first" $((next_id - first))
		# OAuth: each round outlives a token (2 s): a refresh.
		[[ $name != oauth* ]] || check "$name: token renewed ($round)" \
			wait_for 20 issued_more_than "$issued"
	done
	check "$name: SIGHUP reloaded" \
		wait_for 20 grep -q 'configuration reloaded' "$log"
	for p in /metrics / /status.json; do
		curl -s --max-time 10 "http://127.0.0.1:$mx$p" \
			> "$T/page.$name$(tr / _ <<<"$p")"
	done
	check "$name: /metrics served" grep -q '^spoolship_' "$T/page.${name}_metrics"
	stop_run
	check "$name: SIGTERM exits 0" test "$RUN_RC" -eq 0
	if [ "$format" = json ]; then
		check "$name: JSON log at debug" grep -q '"level":"debug"' "$log"
	else
		check "$name: text log at debug" grep -qE '^[0-9TZ:.-]+ debug ' "$log"
	fi
}

MOCK_PORT="" # a free port, not part (a)'s 9
start_mock --rpm 0 --client-id "$CID" --client-secret "$CSEC" \
	--token-lifetime 2 --token "$STATIC" --api-key "$APIKEY" \
	--p500 0.05 --p-drop-after 0.05
python3 "$T/tokproxy.py" "http://127.0.0.1:$MOCK_PORT/oauth/token" \
	"$T/proxy.port" "$T/issued" &
PROXY_PID=$!
_pids+=("$PROXY_PID")
wait_for 10 test -s "$T/proxy.port" ||
	{ echo "token proxy did not start"; exit 1; }
TOKEN_URL="http://127.0.0.1:$(cat "$T/proxy.port")/oauth/token"

# refresh_margin = 0: a token may expire in flight (401, then a refresh).
run_case oauth-json json "[auth]" "mode = oauth" "token_url = $TOKEN_URL" \
	"client_id = $CID" "client_secret_file = $T/csec" "refresh_margin = 0"
run_case oauth-text text "[auth]" "mode = oauth" "token_url = $TOKEN_URL" \
	"client_id = $CID" "client_secret = $CSEC" "refresh_margin = 0"
run_case bearer-text text "[auth]" "mode = bearer" "token = $STATIC"
run_case apikey-json json "[auth]" "mode = apikey" "api_key = $APIKEY"
stop_mock
kill "$PROXY_PID" && wait "$PROXY_PID" 2>/dev/null

ntok=$(sort -u "$T/issued" | wc -l)
check "several access tokens were issued ($ntok)" test "$ntok" -ge 3
check "the issued tokens look like tokens" bash -c \
	"! grep -qvE '^[0-9a-f]{64}$' '$T/issued'"
for f in "$T"/run.*.log "$T"/page.*; do
	check "no secret in $(basename "$f") ($(wc -l <"$f") lines)" no_secret_in "$f"
done
# The search itself can fail: the configurations hold the secrets.
if no_secret_in "$T/oauth-text.ini" >/dev/null; then
	not_ok "the search finds a secret where there is one"
else
	ok "the search finds a secret where there is one"
fi
finish
