#!/usr/bin/env bash
# 0303: [ingest] token - a missing or wrong Bearer token gets 401 and
# stores nothing, the right one 200, /healthz needs none, the token never
# reaches the log; token_file works the same.  [ingest] partial =
# reject_all: one bad line fails the whole request, every bad line named.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ingest.sh"
TOKEN=s3cret-ingest-token-0303
gen_events 1 10 > "$T/ten"

token_checks() { # LABEL
	local code
	check "$1: healthz needs no token" healthy
	code=$(post /v1/events/tok --data-binary @"$T/ten")
	check "$1: no Authorization: 401 (got $code)" test "$code" = 401
	code=$(post /v1/events/tok -H "Authorization: Bearer wrong" --data-binary @"$T/ten")
	check "$1: wrong token: 401 (got $code)" test "$code" = 401
	code=$(post /v1/events/tok -H "Authorization: Bearer ${TOKEN}x" --data-binary @"$T/ten")
	check "$1: token with a suffix: 401 (got $code)" test "$code" = 401
	code=$(post /v1/events/tok -H "Authorization: Bearer ${TOKEN%?}" --data-binary @"$T/ten")
	check "$1: token's prefix: 401 (got $code)" test "$code" = 401
	code=$(post /v1/events/tok -H "Authorization: Basic $(printf '%s:' "$TOKEN" | base64)" --data-binary @"$T/ten")
	check "$1: Basic: 401 (got $code)" test "$code" = 401
	code=$(post /v1/events/tok -H "Authorization: Bearer" --data-binary @"$T/ten")
	check "$1: empty Bearer: 401 (got $code)" test "$code" = 401
	check "$1: nothing stored by 401s" test "$(spool_pending tok)" -eq 0
	# A client that sends its whole (large) body before reading gets
	# the 401, and the connection stays usable.
	check "$1: 401 after a 900 KB body, then 200 on the same connection" \
		timeout 60 python3 - "$IG_PORT" "$TOKEN" "$(now_iso)" <<'EOF'
import http.client, sys
port, token, now = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ev = '{"__time":"%s","pad":"%s"}\n' % (now, "x" * 900)
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
def post(tok, body):
    c.request("POST", "/v1/events/tok", body=body.encode(),
              headers={"Authorization": "Bearer " + tok,
                       "Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    return r.status
a = post("wrong", ev * 950)
b = post(token, ev)
print("answers:", a, b)
sys.exit(0 if (a, b) == (401, 200) else 1)
EOF
	code=$(post /v1/events/tok -H "Authorization: Bearer $TOKEN" --data-binary @"$T/ten")
	check "$1: right token: 200 (got $code)" test "$code" = 200
	code=$(post /v1/events/tok -H "Authorization: bearer $TOKEN" --data-binary @"$T/ten")
	check "$1: scheme is case-insensitive: 200 (got $code)" test "$code" = 200
	check "$1: 21 events stored" test "$(spool_pending tok)" -eq 21
	code=$(post /v1/events/tok -X GET -H "Authorization: Bearer $TOKEN")
	check "$1: GET still 405 (got $code)" test "$code" = 405
	stop_ingest
	check "$1: SIGTERM exits 0" test "$IG_RC" -eq 0
	check "$1: the token is not in the log" bash -c "! grep -q '$TOKEN' '$IG_LOG'"
}

ingest_config "$T/c.ini" "token = $TOKEN"
start_ingest "$T/c.ini"
token_checks token
rm -rf "$T/spool"

printf '%s\n' "$TOKEN" > "$T/token"
chmod 600 "$T/token"
ingest_config "$T/f.ini" "token_file = $T/token"
start_ingest "$T/f.ini"
token_checks token_file
rm -rf "$T/spool"

# partial = reject_all: all or nothing, every bad line reported.
ingest_config "$T/r.ini" "partial = reject_all"
start_ingest "$T/r.ini"
now=$(now_iso)
printf '{"__time":"%s","id":1}\n{"id":2}\n{"__time":"%s","id":3}\nnope\n' \
	"$now" "$now" > "$T/mixed"
code=$(post /v1/events/ra --data-binary @"$T/mixed")
check "reject_all, mixed: 400 (got $code)" test "$code" = 400
check "reject_all: none accepted" answer_is 'a["accepted"] == 0 and a["rejected"] == 2'
check "reject_all: every bad line named" answer_is '[e["line"] for e in a["errors"]] == [2, 4]'
check "reject_all: says so" answer_is '"reject_all" in a["message"]'
check "reject_all: nothing stored" test "$(spool_pending ra)" -eq 0
code=$(post /v1/events/ra --data-binary @"$T/ten")
check "reject_all, all valid: 200 (got $code)" test "$code" = 200
check "reject_all: valid request stored" test "$(spool_pending ra)" -eq 10
stop_ingest
check "reject_all: SIGTERM exits 0" test "$IG_RC" -eq 0
finish
