#!/usr/bin/env bash
# 0501: the status page renders in a real browser (headless Chromium) and
# shows what /metrics says: pending events in total and per table, the
# oldest event's age against max_age, the charts; and the last error,
# which here quotes a hostile token endpoint's error_description full of
# markup, is shown as text: no element of it reaches the DOM.  The client
# secret appears nowhere, nor the URL's password or query: the
# destination shows scheme, host and path.  The state badge follows the
# destination: "alarm" (credentials refused; a 404), "retrying" (the
# receiver down), "rate-limited" (429 + Retry-After), "delivering"
# (requests in flight), "idle" (all sent);
# the last error has its time; the axes' ticks are round (0, 0.5, 1;
# whole numbers for counts); every counter says "since start" or "spool
# lifetime".  Skipped when Chromium is not installed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ship.sh"
CHROMIUM=""
for c in /usr/bin/chromium "$(command -v chromium 2>/dev/null)"; do
	[ -n "$c" ] && [ -x "$c" ] && { CHROMIUM=$c; break; }
done
[ -n "$CHROMIUM" ] || skip "chromium not installed (Debian package chromium; tools/deps.sh test tries it): status page not checked in a browser"
SECRET="cl13nt-s3cr3t-0501"

# A token endpoint that refuses everyone with markup in its reason.
cat > "$T/tokend.py" <<'PY'
import http.server, json, sys, threading
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"error": "invalid_client", "error_description":
            "<img src=x onerror=\"document.title='pwned'\"><b id=injected>"
            "bold</b><script>document.title='pwned'</script>"}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + ".tmp", "w").write(str(s.server_address[1]))
__import__("os").rename(sys.argv[1] + ".tmp", sys.argv[1])
threading.Timer(240, s.shutdown).start()   # never outlives the test
s.serve_forever()
PY
python3 "$T/tokend.py" "$T/tokend.port" &
TOKEND_PID=$!
_pids+=("$TOKEND_PID")
wait_for 10 test -s "$T/tokend.port" || { echo "token endpoint did not start"; exit 1; }
TPORT=$(cat "$T/tokend.port")

gen_events 1 1234 | "$SP" -s "$T/spool" append -t wiki 2>/dev/null
gen_events 5000 56 | "$SP" -s "$T/spool" append -t clicks 2>/dev/null
MOCK_PORT=9 # nothing is sent anyway: no token is ever granted
write_config "$T/c0.ini" "max_age = 2d" "[auth]" "mode = oauth" \
	"token_url = http://127.0.0.1:$TPORT/token" "client_id = cid" \
	"client_secret = $SECRET" "[metrics]" "listen = 127.0.0.1:0"
# A URL with a password and a key in its query: neither may be shown.
sed "s|^url = .*|url = http://u53r:pa55w0rd-0501@127.0.0.1:9/v1/events/{table}?key=qu3ry-s3cr3t|" \
	"$T/c0.ini" > "$T/c.ini"
start_run "$T/c.ini"
wait_for 20 grep -q 'metrics listening' "$T/run.log" || { cat "$T/run.log"; exit 1; }
MPORT=$(sed -n 's/.*metrics listening .*port=\([0-9]*\).*/\1/p' "$T/run.log" | head -n 1)
MURL="http://127.0.0.1:$MPORT"
refused() { curl -s --max-time 5 "$MURL/status.json" | grep -q invalid_client; }
check "the refusal is the last error" wait_for 20 refused

curl -s --max-time 5 -o "$T/before.prom" "$MURL/metrics"
# render NAME: the page as headless Chromium shows it, into $T/NAME.html
# (and a screenshot, $T/NAME.png, for a look by hand when it fails).
render() {
	local flags=(--headless --no-sandbox --disable-gpu
		--disable-background-networking --disable-component-update
		--disable-sync --no-first-run --virtual-time-budget=5000)
	timeout -k 5 90 "$CHROMIUM" "${flags[@]}" \
		--user-data-dir="$(mktemp -d "$T/chr.XXXXXX")" \
		--dump-dom "$MURL/" > "$T/$1.html" 2>>"$T/chromium.log" || return 1
	timeout -k 5 90 "$CHROMIUM" "${flags[@]}" \
		--user-data-dir="$(mktemp -d "$T/chr.XXXXXX")" \
		--window-size=1100,1400 --screenshot="$T/$1.png" "$MURL/" \
		>/dev/null 2>>"$T/chromium.log"
	return 0
}
render dom
rc=$?
curl -s --max-time 5 -o "$T/after.prom" "$MURL/metrics"
check "chromium rendered the page (exit $rc)" test "$rc" -eq 0 -a -s "$T/dom.html"
check "a screenshot taken" test -s "$T/dom.png"
curl -s "$MURL/" "$MURL/status.json" "$MURL/metrics" > "$T/served"
stop_run
kill "$TOKEND_PID" 2>/dev/null
wait "$TOKEND_PID" 2>/dev/null

# page.py DOM BEFORE AFTER: what the page shows against /metrics.
cat > "$T/page.py" <<'PY'
import html.parser, math, re, sys

class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.by_id, self.tags, self.stack, self.rows = {}, [], [], {}
        self.title, self.in_title, self.row = "", False, None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "title":
            self.in_title = True
        if tag == "tr" and "data-table" in a:
            self.row = self.rows.setdefault(a["data-table"], {})
        if tag == "td" and self.row is not None:
            self.row[a.get("class", "")] = a.get("data-value")
        if "id" in a:
            self.by_id[a["id"]] = {"attrs": a, "text": ""}
        self.stack.append(a.get("id"))
    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        if tag == "tr":
            self.row = None
        if self.stack:
            self.stack.pop()
    def handle_data(self, d):
        if self.in_title:
            self.title += d
        for i in self.stack:
            if i:
                self.by_id[i]["text"] += d

def prom(path):
    s = {}
    for l in open(path):
        if l.startswith("#") or not l.strip():
            continue
        k, v = l.rsplit(" ", 1)
        s[k] = float(v)
    return s

p = P()
p.feed(open(sys.argv[1]).read())
before, after = prom(sys.argv[2]), prom(sys.argv[3])
fails = []
def check(name, ok):
    print(("ok - " if ok else "not ok - ") + name)
    if not ok:
        fails.append(name)
def val(i):
    return p.by_id[i]["attrs"].get("data-value")
def text(i):
    return p.by_id[i]["text"].strip()

check("connection pill says live", text("conn") == "live")
pend = before["spoolship_spool_pending_events"]
check("pending-total = spoolship_spool_pending_events (%s)" % val("pending-total"),
      float(val("pending-total")) == pend == after["spoolship_spool_pending_events"])
check("pending-total shown as a number (%s)" % text("pending-total"),
      text("pending-total").replace(",", "") == str(int(pend)))
tables = {k[len('spoolship_table_pending_events{table="'):-2]: v
          for k, v in before.items() if k.startswith("spoolship_table_pending_events{")}
check("one row per table (%s)" % sorted(p.rows), sorted(p.rows) == sorted(tables) == ["clicks", "wiki"])
for t, v in tables.items():
    r = p.rows.get(t, {})
    check("row %s pending = metric (%s)" % (t, r.get("num pending")),
          r.get("num pending") is not None and float(r["num pending"]) == v)
    a0 = before['spoolship_table_oldest_event_age_seconds{table="%s"}' % t]
    a1 = after['spoolship_table_oldest_event_age_seconds{table="%s"}' % t]
    age = float(r.get("num age") or -1)
    check("row %s age within the scrapes (%s <= %s <= %s)" % (t, a0, age, a1),
          a0 - 0.01 <= age <= a1 + 0.01)
age = float(val("oldest-age"))
check("oldest-age within the scrapes",
      before["spoolship_spool_oldest_event_age_seconds"] - 0.01 <= age
      <= after["spoolship_spool_oldest_event_age_seconds"] + 0.01)
check("max-age = spoolship_max_age_seconds (%s)" % val("max-age"),
      float(val("max-age")) == before["spoolship_max_age_seconds"] == 172800)
check("max-age shown as 2.0 d (%s)" % text("max-age"), text("max-age") == "2.0 d")
check("age bar drawn", "width" in p.by_id["age-bar"]["attrs"].get("style", ""))
check("appended total shown", float(val("appended-total")) ==
      before["spoolship_events_appended_total"])
err = text("last-error")
check("last error shown as text (%r)" % err[:80],
      "invalid_client" in err and "<img src=x" in err and "<script>" in err)
check("no markup from the error in the DOM",
      not any(t in ("img", "b") for t, a in p.tags)
      and "injected" not in p.by_id
      and sum(1 for t, a in p.tags if t == "script") == 1)
check("title untouched (%r)" % p.title, p.title == "spoolship status")
check("badge says alarm (%r)" % text("state"), text("state") == "alarm"
      and "alarm" in p.by_id["state"]["attrs"].get("class", ""))
check("destination without secret (%r)" % text("destination"),
      text("destination") == "http://127.0.0.1:9/v1/events/{table}")
check("last error's time shown (%r)" % text("last-error-time"),
      re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$",
               text("last-error-time")) is not None)
raw = open(sys.argv[1]).read()
for i, life in (("appended-total", "spool lifetime"),
                ("shipped-total", "spool lifetime"),
                ("rejected-total", "spool lifetime"),
                ("transport-errors", "since start"),
                ("alarms", "since start")):
    check("%s labelled %s" % (i, life), re.search(
        r'id="%s"[^>]*>[^<]*</span>\s*<span class="life">%s</span>'
        % (i, life), raw) is not None)
ticks = {}
for m in re.finditer(r'<svg id="(chart-[a-z]+)"(.*?)</svg>', raw, re.S):
    ticks[m.group(1)] = [t.replace(",", "") for t in
                         re.findall(r'class="tick"[^>]*>([^<]*)<', m.group(2))]
def round_ticks(ts, whole):
    v = [float(t) for t in ts]
    if len(v) < 2 or v[0] != 0:
        return False
    step = v[1] - v[0]
    if any(abs((v[i + 1] - v[i]) - step) > step / 1e6 for i in range(len(v) - 1)):
        return False
    mant = step / 10 ** math.floor(math.log10(step) + 1e-9)
    if min(abs(mant - k) for k in (1, 2, 5)) > 1e-6:
        return False
    if whole and any("." in t for t in ts):
        return False
    return all(len(t.split(".")[1]) <= 3 for t in ts if "." in t)
check("backlog ticks round and whole (%s)" % ticks.get("chart-backlog"),
      round_ticks(ticks.get("chart-backlog", []), True))
check("throughput ticks round (%s)" % ticks.get("chart-throughput"),
      round_ticks(ticks.get("chart-throughput", []), False))
backlog = [t for t, a in p.tags if t in ("polyline", "circle")]
check("charts drawn (%d marks)" % len(backlog), len(backlog) >= 2)
sys.exit(1 if fails else 0)
PY
python3 "$T/page.py" "$T/dom.html" "$T/before.prom" "$T/after.prom" > "$T/page.out" 2>&1
rc=$?
sed 's/^/    /' "$T/page.out"
check "the page matches /metrics" test "$rc" -eq 0
check "the client secret is served nowhere" sh -c "! grep -q '$SECRET' '$T/served' '$T/dom.html'"
check "the URL's password and query served nowhere" sh -c "! grep -q -e pa55w0rd -e qu3ry-s3cr3t -e u53r '$T/served' '$T/dom.html'"

# The badge through a receiver's moods, each as Chromium shows it.
# badge.py DOM STATE: the badge says STATE, the destination is shown.
cat > "$T/badge.py" <<'PY'
import re, sys
raw = open(sys.argv[1]).read()
m = re.search(r'<span class="pill ([a-z-]+)" id="state"[^>]*>([^<]*)<', raw)
d = re.search(r'id="destination">([^<]*)<', raw)
print("badge %r, destination %r" % (m and m.group(2), d and d.group(1)))
sys.exit(0 if m and m.group(1) == m.group(2) == sys.argv[2] and d
         and d.group(1).startswith("http://127.0.0.1:") else 1)
PY
state_is() { curl -s --max-time 5 "$MURL/status.json" | grep -q "\"state\":\"$1\""; }
# shows STATE: status.json says STATE, and so does the rendered badge.
shows() {
	wait_for 30 state_is "$1" || { curl -s "$MURL/status.json" | head -c 600; return 1; }
	render "$1" && python3 "$T/badge.py" "$T/$1.html" "$1"
}
MOCK_PORT=""
start_mock --token tok-0501 --tables t --delay-ms 2000 --outage-mode refuse
write_config "$T/m.ini" "[auth]" "mode = bearer" "token = tok-0501" \
	"[metrics]" "listen = 127.0.0.1:0"
rm -rf "$T/spool"
: > "$T/run.log"
gen_events 700001 3000 | "$SP" -s "$T/spool" append -t t 2>/dev/null
start_run "$T/m.ini"
wait_for 20 grep -q 'metrics listening' "$T/run.log" || { cat "$T/run.log"; exit 1; }
MPORT=$(sed -n 's/.*metrics listening .*port=\([0-9]*\).*/\1/p' "$T/run.log" | head -n 1)
MURL="http://127.0.0.1:$MPORT"
check "requests in flight: delivering" shows delivering
check "every id at the receiver" wait_for 60 ids_complete 700001 3000
check "all sent: idle" shows idle
curl -s -X POST --max-time 5 "http://127.0.0.1:$MOCK_PORT/control/outage?on=1" >/dev/null
gen_events 700601 5 | "$SP" -s "$T/spool" append -t t 2>/dev/null
check "receiver down: retrying" shows retrying
curl -s -X POST --max-time 5 "http://127.0.0.1:$MOCK_PORT/control/outage?on=0" >/dev/null
check "back: the 5 ids arrive" wait_for 60 ids_complete 700601 5
gen_events 700700 3 | "$SP" -s "$T/spool" append -t nope 2>/dev/null
check "a 404: alarm" shows alarm
check "the 404 is the last error, with its time" sh -c "curl -s '$MURL/status.json' | python3 -c 'import json,sys; d = json.load(sys.stdin); sys.exit(0 if \"404\" in d[\"last_error\"] and d[\"last_error_time\"] else 1)'"
stop_run
stop_mock
# A receiver that answers 429 with Retry-After: 60 to everything.
MOCK_PORT=""
start_mock --token tok-0501 --p429 1 --retry-after 60
write_config "$T/r.ini" "[auth]" "mode = bearer" "token = tok-0501" \
	"[metrics]" "listen = 127.0.0.1:0"
: > "$T/run.log"
start_run "$T/r.ini"
wait_for 20 grep -q 'metrics listening' "$T/run.log" || { cat "$T/run.log"; exit 1; }
MPORT=$(sed -n 's/.*metrics listening .*port=\([0-9]*\).*/\1/p' "$T/run.log" | head -n 1)
MURL="http://127.0.0.1:$MPORT"
check "a 429 with Retry-After: rate-limited" shows rate-limited
stop_run
stop_mock
finish
