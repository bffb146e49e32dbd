#!/usr/bin/env bash
# 0100-mock-polaris: tools/mock-polaris enforces the Events API contract of
# docs/events-api.md (auth, token expiry, 413/415/404/405, strict 400, 429 and
# its headers) and counts what it got (events, ids, duplicates, drops).
# Loopback only; every wait is bounded; the mocks are killed on exit.
# test-serial: a token of 1 s lifetime, delays and rate windows are measured
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/0100-mock-polaris.XXXXXX")
PIDS=()
PASS=0
FAIL=0

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

ok() { echo "ok - $1"; PASS=$((PASS + 1)); }
notok() { echo "not ok - $1${2:+ # $2}"; FAIL=$((FAIL + 1)); }

# check NAME WANT GOT
check() {
	if [ "$2" = "$3" ]; then ok "$1"; else notok "$1" "want '$2' got '$3'"; fi
}

if [ -n "${BUILD_DIR:-}" ]; then
	MOCK=$BUILD_DIR/mock-polaris
else
	MOCK=$TMP/mock-polaris
	cc -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -O2 -o "$MOCK" \
		"$ROOT/tools/mock-polaris.c" -lmicrohttpd -lcjson -lz -lpthread
fi
[ -x "$MOCK" ] || { echo "not ok - mock-polaris binary at $MOCK"; exit 1; }

# start_mock NAME ARGS...: starts a mock; sets MOCK_PORT and MOCK_PID.
start_mock() {
	local name=$1 pf=$TMP/$1.port deadline pid
	shift
	"$MOCK" --port 0 --port-file "$pf" "$@" 2>"$TMP/$name.log" &
	pid=$!
	PIDS+=("$pid")
	deadline=$((SECONDS + 10))
	while [ ! -s "$pf" ]; do
		if ((SECONDS >= deadline)) || ! kill -0 "$pid" 2>/dev/null; then
			echo "not ok - start mock $name"
			cat "$TMP/$name.log" >&2 || true
			exit 1
		fi
		sleep 0.05
	done
	MOCK_PORT=$(cat "$pf")
	MOCK_PID=$pid
}

now() { date -u +%Y-%m-%dT%H:%M:%S.000Z; }

# post PORT PATH FILE [CURL ARGS...]: prints the status (000 if none);
# the answer's headers land in $TMP/hdr and its body in $TMP/body.
# The Content-Type is $CT, application/json unless set.
post() {
	local port=$1 path=$2 file=$3
	shift 3
	curl -s --max-time 5 -o "$TMP/body" -D "$TMP/hdr" -w '%{http_code}' \
		-H "Content-Type: ${CT:-application/json}" --data-binary "@$file" \
		"$@" "http://127.0.0.1:$port$path" || true
}

# stats_get PORT EXPR: evaluates EXPR on the /stats JSON (as d) with python3.
stats_get() {
	curl -s --max-time 5 "http://127.0.0.1:$1/stats" |
		python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$2"
}

header() { tr -d '\r' <"$TMP/hdr" | sed -n "s/^$1: //Ip" | head -n1; }

T=$(now)
printf '{"__time":"%s","id":"a1","v":1}\n{"__time":"%s","id":"a2","v":2}\n' \
	"$T" "$T" >"$TMP/two.json"
printf '{"__time":"%s","id":"a1"}\n' "$T" >"$TMP/dup.json"
printf 'x' >"$TMP/bad.txt"
head -c 1000001 /dev/zero | tr '\0' 'a' >"$TMP/big.json"
head -c 50000000 /dev/zero | gzip -c >"$TMP/bomb.gz"
gzip -c "$TMP/two.json" >"$TMP/two.json.gz"

# --- plain mock: no auth, tables t and u ------------------------------
start_mock plain --tables t,u --rpm 0 --outage-file "$TMP/outage"
P=$MOCK_PORT

check "200 on two lines" 200 "$(post "$P" /v1/events/t "$TMP/two.json")"
check "answer counts 2 accepted" 2 \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["accepted"])' "$TMP/body")"
check "stats events_accepted" 2 "$(stats_get "$P" 'd["events_accepted"]')"
check "stats unique_ids" 2 "$(stats_get "$P" 'd["unique_ids"]')"
check "stats by_status 200" 1 "$(stats_get "$P" 'd["by_status"]["200"]')"
check "stats accepted_by_table" 2 "$(stats_get "$P" 'd["accepted_by_table"]["t"]')"
check "stats max_events_per_request" 2 \
	"$(stats_get "$P" 'd["max_events_per_request"]')"
check "stats bytes_received" "$(wc -c <"$TMP/two.json" | tr -d ' ')" \
	"$(stats_get "$P" 'd["bytes_received"]')"

check "200 on the project/connection path" 200 \
	"$(post "$P" /v1/projects/p1/events/u "$TMP/dup.json")"
check "duplicate id counted" 1 "$(stats_get "$P" 'd["duplicates"]')"
check "unique_ids unchanged by a duplicate" 2 "$(stats_get "$P" 'd["unique_ids"]')"
check "GET /ids lists every id" "a1,a2" \
	"$(curl -s --max-time 5 "http://127.0.0.1:$P/ids" | sort | paste -sd,)"

check "200 on a gzip body" 200 \
	"$(post "$P" /v1/events/t "$TMP/two.json.gz" -H 'Content-Encoding: gzip')"
check "stats gzip_requests" 1 "$(stats_get "$P" 'd["gzip_requests"]')"

OLD=$(date -u -d '8 days ago' +%Y-%m-%dT%H:%M:%S.000Z)
printf '{"__time":"%s","id":"l1"}\n{"__time":"yesterday","id":"l2"}\n{"__time":"%s","id":"l3"}\n' \
	"$OLD" "$T" >"$TMP/mixed.json"
check "late and unparseable lines still 200" 200 \
	"$(post "$P" /v1/events/t "$TMP/mixed.json")"
check "late_dropped counted" 1 "$(stats_get "$P" 'd["late_dropped"]')"
check "unparseable_dropped counted" 1 "$(stats_get "$P" 'd["unparseable_dropped"]')"

check "413 on a 1,000,001-byte body" 413 \
	"$(post "$P" /v1/events/t "$TMP/big.json" -H 'Expect:')"
check "413 on a 1,000,001-byte body with Expect: 100-continue" 413 \
	"$(post "$P" /v1/events/t "$TMP/big.json" -H 'Expect: 100-continue')"
check "413 on a chunked body over the limit" 413 \
	"$(post "$P" /v1/events/t "$TMP/big.json" -H 'Transfer-Encoding: chunked')"
check "413 on a gzip bomb" 413 \
	"$(post "$P" /v1/events/t "$TMP/bomb.gz" -H 'Content-Encoding: gzip')"
check "415 on text/plain" 415 \
	"$(CT=text/plain post "$P" /v1/events/t "$TMP/two.json")"
check "200 with a charset parameter" 200 \
	"$(CT='application/json; charset=utf-8' post "$P" /v1/events/t "$TMP/dup.json")"
check "404 on an unknown path" 404 "$(post "$P" /v2/nothing "$TMP/two.json")"
check "404 body names it" '{"message": "not found"}' "$(cat "$TMP/body")"
check "404 on a table not in --tables" 404 \
	"$(post "$P" /v1/events/zz "$TMP/two.json")"
check "405 on GET of the events path" 405 \
	"$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' \
		"http://127.0.0.1:$P/v1/events/t")"

touch "$TMP/outage"
check "503 while the outage file exists" 503 \
	"$(post "$P" /v1/events/t "$TMP/dup.json")"
rm -f "$TMP/outage"
check "200 once the outage file is gone" 200 \
	"$(post "$P" /v1/events/t "$TMP/dup.json")"
curl -s --max-time 5 -X POST -o /dev/null "http://127.0.0.1:$P/control/outage?on=1"
check "503 after POST /control/outage?on=1" 503 \
	"$(post "$P" /v1/events/t "$TMP/dup.json")"
curl -s --max-time 5 -X POST -o /dev/null "http://127.0.0.1:$P/control/outage?on=0"

curl -s --max-time 5 -X POST -o /dev/null "http://127.0.0.1:$P/control/reset"
check "POST /control/reset zeroes the counters" "0 0 0" \
	"$(stats_get "$P" '"%d %d %d" % (d["requests"], d["events_accepted"], d["unique_ids"])')"

# --- auth mock: static token, API key, token endpoint (1 s tokens) ----
start_mock auth --token tok1 --api-key key1 --client-id cid \
	--client-secret sec --token-lifetime 1
P=$MOCK_PORT
check "401 without a token" 401 "$(post "$P" /v1/events/t "$TMP/two.json")"
check "401 with a wrong token" 401 \
	"$(post "$P" /v1/events/t "$TMP/two.json" -H 'Authorization: Bearer nope')"
check "200 with the static token" 200 \
	"$(post "$P" /v1/events/t "$TMP/two.json" -H 'Authorization: Bearer tok1')"
check "200 with an API key as base64(KEY:)" 200 \
	"$(post "$P" /v1/events/t "$TMP/two.json" \
		-H "Authorization: Basic $(printf 'key1:' | base64)")"
check "200 with an API key raw" 200 \
	"$(post "$P" /v1/events/t "$TMP/two.json" -H 'Authorization: Basic key1')"
check "401 with a wrong API key" 401 \
	"$(post "$P" /v1/events/t "$TMP/two.json" \
		-H "Authorization: Basic $(printf 'key2:' | base64)")"

code=$(curl -s --max-time 5 -o "$TMP/tok.json" -w '%{http_code}' \
	-d grant_type=client_credentials -d client_id=cid -d client_secret=bad \
	"http://127.0.0.1:$P/oauth/token" || true)
check "401 from the token endpoint on a wrong secret" 401 "$code"
code=$(curl -s --max-time 5 -o "$TMP/tok.json" -w '%{http_code}' -u cid:sec \
	-d grant_type=client_credentials \
	"http://127.0.0.1:$P/auth/realms/org/protocol/openid-connect/token" || true)
check "token endpoint (Polaris path, Basic client) issues a token" 200 "$code"
code=$(curl -s --max-time 5 -o "$TMP/tok.json" -w '%{http_code}' \
	-d grant_type=client_credentials -d client_id=cid -d client_secret=sec \
	"http://127.0.0.1:$P/oauth/token" || true)
check "token endpoint (form fields) issues a token" 200 "$code"
TOKEN=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["access_token"] if d["token_type"]=="bearer" and d["expires_in"]==1 else "")' "$TMP/tok.json")
check "issued token works" 200 \
	"$(post "$P" /v1/events/t "$TMP/two.json" -H "Authorization: Bearer $TOKEN")"
deadline=$((SECONDS + 5))
while :; do
	code=$(post "$P" /v1/events/t "$TMP/dup.json" -H "Authorization: Bearer $TOKEN")
	[ "$code" = 401 ] || ((SECONDS >= deadline)) && break
	sleep 0.1
done
check "issued token expires after its 1 s lifetime" 401 "$code"
check "expired token names the exp claim" \
	'Token claims invalid: ["exp"]="token expired"' \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["message"])' "$TMP/body")"
check "stats tokens_issued" 2 "$(stats_get "$P" 'd["tokens_issued"]')"

# --- strict mock with a poison field -----------------------------------
start_mock strict --strict --poison-field poison
P=$MOCK_PORT
printf '{"__time":"%s","id":"s1"}\n{"__time":"bogus","id":"s2"}\n' "$T" >"$TMP/s.json"
check "strict: 400 on a bad __time" 400 "$(post "$P" /v1/events/t "$TMP/s.json")"
check "strict: the answer names line 2" 'line 2:' \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["message"][:7])' "$TMP/body")"
check "strict: nothing of the request accepted" 0 \
	"$(stats_get "$P" 'd["events_accepted"] + d["unique_ids"]')"
printf '{"__time":"%s","id":"p1"}\n{"__time":"%s","id":"p2"}\n{"__time":"%s","poison":1}\n' \
	"$T" "$T" "$T" >"$TMP/p.json"
check "poison: 400 on the whole request" 400 "$(post "$P" /v1/events/t "$TMP/p.json")"
check "poison: the answer names line 3" 'line 3: poison event' \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["message"])' "$TMP/body")"

# --- drops ------------------------------------------------------------
start_mock dropafter --p-drop-after 1 --seed 7
P=$MOCK_PORT
rc=0
curl -s --max-time 5 -o /dev/null -H 'Content-Type: application/json' \
	--data-binary "@$TMP/two.json" "http://127.0.0.1:$P/v1/events/t" || rc=$?
check "p-drop-after: the client sees an empty reply (curl 52)" 52 "$rc"
check "p-drop-after: the events were counted" 2 "$(stats_get "$P" 'd["events_accepted"]')"
check "p-drop-after: connections_dropped" 1 "$(stats_get "$P" 'd["connections_dropped"]')"

start_mock dropbefore --p-drop-before 1 --delay-ms 300 --seed 7
P=$MOCK_PORT
rc=0
t0=$(date +%s%N)
curl -s --max-time 5 -o /dev/null -H 'Content-Type: application/json' \
	--data-binary "@$TMP/two.json" "http://127.0.0.1:$P/v1/events/t" || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check "p-drop-before: the client sees an empty reply (curl 52)" 52 "$rc"
check "p-drop-before: nothing accepted" 0 "$(stats_get "$P" 'd["events_accepted"]')"
check "delay-ms: the answer waited >= 300 ms" yes "$( ((ms >= 300)) && echo yes || echo "no ($ms ms)")"

# --- rate limit -------------------------------------------------------
start_mock rpm --rpm 2
P=$MOCK_PORT
RPM_PID=$MOCK_PID
post "$P" /v1/events/t "$TMP/dup.json" >/dev/null
check "rpm: RateLimit-Remaining after one request" 1 "$(header RateLimit-Remaining)"
post "$P" /v1/events/t "$TMP/dup.json" >/dev/null
check "rpm: 429 once --rpm 2 is exceeded" 429 "$(post "$P" /v1/events/t "$TMP/dup.json")"
check "rpm: 429 body" '{"message": "API rate limit exceeded"}' "$(cat "$TMP/body")"
ra=$(header Retry-After)
check "rpm: Retry-After in 1..60" yes "$( [[ $ra =~ ^[0-9]+$ ]] && ((ra >= 1 && ra <= 60)) && echo yes || echo "no ($ra)")"
check "rpm: RateLimit-Limit" 2 "$(header RateLimit-Limit)"
check "rpm: RateLimit-Remaining" 0 "$(header RateLimit-Remaining)"
check "rpm: RateLimit-Reset present" yes "$( [[ $(header RateLimit-Reset) =~ ^[0-9]+$ ]] && echo yes || echo no)"
check "rpm: X-RateLimit-Limit-Minute" 2 "$(header X-RateLimit-Limit-Minute)"
check "rpm: X-RateLimit-Remaining-Minute" 0 "$(header X-RateLimit-Remaining-Minute)"

# --- clean exit on SIGTERM ----------------------------------------------
kill -TERM "$RPM_PID"
deadline=$((SECONDS + 5))
while kill -0 "$RPM_PID" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
rc=0
wait "$RPM_PID" || rc=$?
check "SIGTERM: exit status 0" 0 "$rc"
check "SIGTERM: one-line summary" 1 "$(grep -c '^mock-polaris: exiting on SIGTERM requests=3 ' "$TMP/rpm.log" || true)"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
