#!/usr/bin/env bash
# 0300: the two examples of the Events API page (curl, Python requests),
# unchanged but for the URL and the __time values, get 200 from the local
# endpoint, and the shipper delivers their events to the receiver.  The
# newer /v1/projects/P/events/CONNECTION form and a [table] id mapping.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ingest.sh"

rm -f "$T/mock.port"
"$MOCK" --port 0 --port-file "$T/mock.port" --rpm 0 2>>"$T/mock.log" &
_pids+=("$!")
wait_for 10 test -s "$T/mock.port" || { cat "$T/mock.log"; exit 1; }
MOCK_URL="http://127.0.0.1:$(cat "$T/mock.port")"
mock_stat() {
	curl -s --max-time 5 "$MOCK_URL/stats" | python3 -c 'import json,sys
d = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    d = d.get(k, 0) if isinstance(d, dict) else 0
print(d)' "$1"
}
mock_stat_eq() { [ "$(mock_stat "$1")" -eq "$2" ]; }

SHIP_URL="$MOCK_URL/v1/events/{table}" ingest_config "$T/c.ini" \
	"[table web]" "id = Web events"
start_ingest "$T/c.ini"
t1=$(date -u -d '2 minutes ago' +%Y-%m-%dT%H:%M:%S.771Z)
t2=$(date -u -d '1 minute ago' +%Y-%m-%dT%H:%M:%S.781Z)
IMPLY_TOKEN=anything-goes

# The page's curl example, as printed there.
code=$(curl -s -o "$T/curl.out" -w '%{http_code}' --max-time 30 \
--location --request POST "$IG/v1/events/f972c0f5-e5f2-41b5-a5b3-9b64cf365cae" \
--header "Authorization: Bearer $IMPLY_TOKEN" \
--header 'Content-Type: application/json' \
--data-raw '{"__time":"'"$t1"'","channel":"#en.wikipedia","user":"GELongstreet","added":36,"deleted":0}
{"__time":"'"$t2"'","channel":"#de.wikipedia","user":"Kolega2357","added":13,"deleted":16}')
check "curl example answered 200 (got $code)" test "$code" = 200
check "curl example: both events in the spool" \
	test "$(spool_total appended_total)" -eq 2

# The page's Python example, as printed there.
if python3 -c 'import requests' 2>/dev/null; then
	cat > "$T/example.py" <<EOF
import requests
import json

IMPLY_TOKEN = "$IMPLY_TOKEN"
url = "$IG/v1/events/f972c0f5-e5f2-41b5-a5b3-9b64cf365cae"

payload = "{\"__time\":\"$t1\",\"channel\":\"#en.wikipedia\",\"user\":\"GELongstreet\",\"added\":36,\"deleted\":0}\n{\"__time\":\"$t2\",\"channel\":\"#de.wikipedia\",\"user\":\"Kolega2357\",\"added\":13,\"deleted\":16}"
headers = {
'Authorization': 'Bearer {token}'.format(token=IMPLY_TOKEN),
'Content-Type': 'application/json'
}

response = requests.request("POST", url, headers=headers, data=payload)

print(response.text)
assert response.status_code == 200, response.status_code
EOF
	expect_exit "python requests example answered 200" 0 \
		timeout 60 python3 "$T/example.py"
	want=4
else
	echo "# skip: python3 has no requests module, the Python example was not run"
	want=2
fi

# The shipper delivers what the endpoint accepted.
check "shipped to the receiver" wait_for 60 \
	mock_stat_eq accepted_by_table.f972c0f5-e5f2-41b5-a5b3-9b64cf365cae "$want"
check "spool empty after shipping" wait_for 30 \
	test "$(spool_pending)" -eq 0

# The current URL form: the connection names the stream.
now=$(now_iso)
code=$(post /v1/projects/0b1c2d/events/clicks \
	--data-raw "{\"__time\":\"$now\",\"id\":1}")
check "projects/P/events/CONNECTION answered 200 (got $code)" test "$code" = 200
check "connection shipped as its table" wait_for 60 \
	mock_stat_eq accepted_by_table.clicks 1

# A [table NAME] id in the path maps back to the stream NAME, which
# ships to that id again.
code=$(post "/v1/events/Web%20events" --data-raw "{\"__time\":\"$now\",\"id\":2}")
check "a mapped table id answered 200 (got $code)" test "$code" = 200
check "mapped id shipped to its table" wait_for 60 \
	mock_stat_eq "accepted_by_table.Web events" 1
check "no duplicates at the receiver" mock_stat_eq duplicates 0

kill -TERM "${_pids[0]}" && wait "${_pids[0]}" 2>/dev/null
stop_ingest
check "SIGTERM exits 0" test "$IG_RC" -eq 0
check "stop logged with counts" grep -q 'ingest stopped requests=' "$IG_LOG"
finish
