#!/usr/bin/env bash
# 0310: every refusal reaches a client that writes the whole request
# before it reads the answer (Fluent Bit, Python's http.client): a body
# announced up to 128 MiB, or chunked, is read and dropped, then answered
# - 413 just over the limit and far over it, chunked, 401, 404, 415 -
# and the connection stays usable.  With Expect: 100-continue the refusal comes before the
# body, which is then never sent; so does one for a Content-Length past
# 128 MiB.  Content-Type application/x-ndjson (Fluent Bit's json_lines)
# is taken like application/json, and an event over 1,000,000 bytes in
# a Fluent Bit-shaped request is refused alone, the others accepted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ingest.sh"
RAW="$(dirname "$0")/lib_rawpost.py"
LIMIT=4194304
ingest_config "$T/c.ini" "max_body_bytes = 4M" "token = s3cret-token"
start_ingest "$T/c.ini"
AUTH='Authorization: Bearer s3cret-token'
gen_events 1 10 > "$T/ok1"
raw() { timeout 120 python3 "$RAW" "$IG_PORT" "$@"; }
# is NAME WANT ARGS...: lib_rawpost.py with ARGS prints WANT (status,
# what of the body was sent, the status of a request sent after it on
# the same connection).
is() {
	local n=$1 want=$2 got; shift 2
	got=$(raw "$@")
	if [ "$got" = "$want" ]; then ok "$n"; else not_ok "$n: got '$got', want '$want'"; fi
}

# Content types: Fluent Bit's, with a charset, the Events API's, none.
i=100
for ct in 'application/x-ndjson' 'application/x-ndjson; charset=utf-8' \
	'application/json' ''; do
	gen_events $i 10 > "$T/ct"
	h=(); [ -n "$ct" ] && h=(-H "Content-Type: $ct")
	is "Content-Type '${ct:-none}': 200" "status=200 sent=all again=-" \
		/v1/events/types --file "$T/ct" -H "$AUTH" "${h[@]}"
	i=$((i + 100))
done
check "40 events of the four content types stored" \
	test "$(spool_pending types)" -eq 40

# 413, read to the end and answered; the connection then takes more.
is "413 just over the limit, whole body written first" \
	"status=413 sent=all again=200" /v1/events/lim --size $((LIMIT + 1)) \
	-H "$AUTH" --again "$T/ok1" --again-H "$AUTH"
is "413 for 40 MB, whole body written first" \
	"status=413 sent=all again=200" /v1/events/lim --size 40000000 \
	-H "$AUTH" --again "$T/ok1" --again-H "$AUTH"
is "413 for 40 MB chunked" "status=413 sent=all again=200" \
	/v1/events/lim --size 40000000 --chunked -H "$AUTH" \
	--again "$T/ok1" --again-H "$AUTH"
# Other refusals from the headers, over the limit too.
is "401 for a 40 MB body without the token" \
	"status=401 sent=all again=200" /v1/events/lim --size 40000000 \
	--again "$T/ok1" --again-H "$AUTH"
is "404 for a 40 MB body to an unknown path" \
	"status=404 sent=all again=-" /v1/nothing --size 40000000 -H "$AUTH"
is "415 for a 2 MB body in an unknown encoding" \
	"status=415 sent=all again=200" /v1/events/lim --size 2000000 \
	-H "$AUTH" -H 'Content-Encoding: br' --again "$T/ok1" --again-H "$AUTH"
check "only the valid follow-ups stored" test "$(spool_pending lim)" -eq 50
# Expect: 100-continue: refused before the body, never sent.
is "Expect: 100-continue, 40 MB: 413 before the body" \
	"status=413 sent=none again=-" /v1/events/lim --size 40000000 \
	--expect -H "$AUTH"
is "Expect: 100-continue, no token: 401 before the body" \
	"status=401 sent=none again=-" /v1/events/lim --size 1000 --expect
is "Expect: 100-continue, within the limit: 200" \
	"status=200 sent=all again=-" /v1/events/exp --file "$T/ok1" \
	--expect -H "$AUTH"
head -c 40000000 /dev/zero | tr '\0' '\n' > "$T/big"
code=$(post /v1/events/lim -H "$AUTH" --data-binary @"$T/big")
check "curl (it sends Expect for big bodies): 413 (got $code)" test "$code" = 413
# Past 128 MiB nothing is read: the answer comes from the headers.
is "Content-Length 200,000,000: 413 at once" \
	"status=413 sent=none again=-" /v1/events/lim --length 200000000 \
	-H "$AUTH"

# A Fluent Bit-shaped request (x-ndjson, ~2 MB) with one event over
# 1,000,000 bytes on line 5: that line is refused, the rest stored.
python3 - "$T/fb" <<'PY'
import datetime, sys
now = datetime.datetime.now(datetime.timezone.utc).strftime(
    "%Y-%m-%dT%H:%M:%S.%fZ")
with open(sys.argv[1], "w") as f:
    for i in range(1, 1001):
        log = "x" * (1100000 if i == 5 else 900)
        f.write('{"__time":"%s","id":%d,"log":"%s"}\n' % (now, i, log))
PY
code=$(post /v1/events/fb -H "$AUTH" -H 'Content-Type: application/x-ndjson' \
	--data-binary @"$T/fb")
check "one event over 1,000,000 bytes: 400 (got $code)" test "$code" = 400
check "the report names line 5, too_big" answer_is \
	'a["accepted"] == 999 and a["rejected"] == 1 and a["errors"][0]["line"] == 5 and a["errors"][0]["code"] == "too_big"'
check "the other 999 stored" test "$(spool_pending fb)" -eq 999

check "still healthy" healthy
stop_ingest
check "SIGTERM exits 0" test "$IG_RC" -eq 0
check "no sanitizer complaint" bash -c "! grep -Eq 'ERROR: |runtime error' '$IG_LOG'"
finish
