#!/usr/bin/env bash
# 0301: every answer of the endpoint for one kind of request each: 200
# once durable, 400 naming each bad line with the valid ones kept, 400
# for nothing to ingest, 404 for unknown paths and table names, 405 with
# Allow, /healthz, keep-alive; rejected lines counted in rejected_total.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ingest.sh"
ingest_config "$T/c.ini"
start_ingest "$T/c.ini"
now=$(now_iso)

# 200: all valid.  Empty body, events in the spool when it comes.
gen_events 1 60 > "$T/good"
code=$(post /v1/events/answers --data-binary @"$T/good")
check "all valid: 200 (got $code)" test "$code" = 200
check "200 has an empty body" test ! -s "$T/answer"
check "the 60 events are in the spool" test "$(spool_pending answers)" -eq 60

# 400: some lines invalid.  The valid ones are kept; each bad line is
# named with its reason; the count accepted is given.
old=$(date -u -d '8 days ago' +%Y-%m-%dT%H:%M:%S.000Z)
{
	echo "{\"__time\":\"$now\",\"id\":1001}"   # 1 good
	echo '{"__time": "2024-01-01T00:00:00Z",'  # 2 malformed
	echo '[1,2,3]'                             # 3 not an object
	echo '{"id":4}'                            # 4 no __time
	echo '{"__time":"yesterday"}'              # 5 unparseable time
	echo "{\"__time\":\"$old\"}"               # 6 too old
	printf '{"__time":"%s","u":"\xc3\x28"}\n' "$now" # 7 bad UTF-8
	echo "{\"__time\":\"$now\",\"id\":1002}"   # 8 good
	echo ""                                    # 9 blank: not an event
	printf '{"__time":"%s","id":1003}\r\n' "$now" # 10 good, CRLF
} > "$T/mixed"
code=$(post /v1/events/answers --data-binary @"$T/mixed")
check "some invalid: 400 (got $code)" test "$code" = 400
check "400 is JSON" grep -qi '^content-type: application/json' "$T/headers"
check "count accepted and rejected" answer_is 'a["accepted"] == 3 and a["rejected"] == 6'
check "each bad line named" answer_is '[e["line"] for e in a["errors"]] == [2, 3, 4, 5, 6, 7]'
check "reasons and codes" answer_is '[e["code"] for e in a["errors"]] == ["json", "not_object", "no_time", "bad_time", "too_old", "utf8"] and all(e["error"] for e in a["errors"])'
check "reason names __time" answer_is '"__time" in a["errors"][2]["error"]'
check "valid lines of it kept" test "$(spool_pending answers)" -eq 63
"$SP" -s "$T/spool" peek -t answers -n 0 > "$T/peek"
for id in 1001 1002 1003; do
	check "event $id stored" grep -q "\"id\":$id}" "$T/peek"
done

# 400: nothing valid, nothing to ingest.
code=$(post /v1/events/answers --data-raw '{"id":5}')
check "all invalid: 400 (got $code)" test "$code" = 400
check "all invalid: none accepted" answer_is 'a["accepted"] == 0 and a["rejected"] == 1'
code=$(post /v1/events/answers --data-binary @/dev/null)
check "empty body: 400 (got $code)" test "$code" = 400
check "empty body says so" answer_is '"no events" in a["message"]'
code=$(post /v1/events/answers --data-raw $'\n  \n\r\n')
check "blank lines only: 400 (got $code)" test "$code" = 400
check "nothing more appended" test "$(spool_pending answers)" -eq 63

# 404: unknown paths; an invalid table name.
for p in / /v1 /v1/events /v1/events/ /v1/events/a/b /v1/projects/p/events \
	/v1/projects//events/t /v1/project/p/events/t /metrics; do
	code=$(post "$p" --data-raw "{\"__time\":\"$now\"}")
	check "unknown path $p: 404 (got $code)" test "$code" = 404
done
code=$(post '/v1/events/bad%24name' --data-raw "{\"__time\":\"$now\"}")
check "invalid table name: 404 (got $code)" test "$code" = 404
check "404 explains table names" answer_is '"table" in a["message"]'
long=$(head -c 256 /dev/zero | tr '\0' 'a')
code=$(post "/v1/events/$long" --data-raw "{\"__time\":\"$now\"}")
check "256-byte table name: 404 (got $code)" test "$code" = 404
code=$(post "/v1/events/${long:1}" --data-raw "{\"__time\":\"$now\"}")
check "255-byte table name: 200 (got $code)" test "$code" = 200

# 405 with Allow.
for m in GET PUT DELETE PATCH; do
	code=$(post /v1/events/answers -X "$m")
	check "$m on the events path: 405 (got $code)" test "$code" = 405
	check "$m: Allow: POST" grep -qi '^allow: POST' "$T/headers"
done
code=$(post /healthz -X POST --data-raw x)
check "POST /healthz: 405 (got $code)" test "$code" = 405
check "/healthz Allow" grep -qi '^allow: GET, HEAD' "$T/headers"

# /healthz and HEAD.
code=$(curl -s -o "$T/answer" -w '%{http_code}' "$IG/healthz")
check "GET /healthz: 200 (got $code)" test "$code" = 200
check "healthz body" answer_is 'a["status"] == "ok"'
code=$(curl -s -o /dev/null -w '%{http_code}' -I "$IG/healthz")
check "HEAD /healthz: 200 (got $code)" test "$code" = 200

# Keep-alive: two requests, one connection.
gen_events 2000 3 > "$T/three"
curl -s -o /dev/null -w '%{http_code} %{num_connects}\n' \
	-H 'Content-Type: application/json' --data-binary @"$T/three" \
	"$IG/v1/events/answers" "$IG/v1/events/answers" > "$T/ka"
check "keep-alive: both 200" test "$(grep -c '^200 ' "$T/ka")" -eq 2
check "keep-alive: second request reused the connection" \
	test "$(sed -n 2p "$T/ka")" = "200 0"

check "still healthy" healthy
stop_ingest
check "SIGTERM exits 0" test "$IG_RC" -eq 0
# (counted with the next commit, or at the latest when the spool closes)
check "rejected_total counts the bad lines" \
	test "$(spool_total rejected_total)" -eq 7
check "no sanitizer or libmicrohttpd complaint" \
	bash -c "! grep -Eq 'ERROR: |runtime error|libmicrohttpd says' '$IG_LOG'"
finish
