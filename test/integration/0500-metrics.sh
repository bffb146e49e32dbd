#!/usr/bin/env bash
# 0500: /metrics of a daemon shipping to the mock with faults (10% 500s,
# one poison event, RateLimit headers), scraped while events keep
# arriving: every family present, counters monotonic between scrapes,
# shipped = what the mock accepted, 500s and the 400 counted, per-table
# gauges add up, the histogram well formed (+Inf = _count = events
# acknowledged); a credentials alarm counted, no secret anywhere; a port
# in use refuses the start; the ingest endpoint's requests by code,
# events accepted and rejected by reason, bytes and commit histogram
# after known requests.  promtool (when installed) checks the text,
# the alert rules (with unit tests) and the dashboard's queries; every
# metric the dashboard and the rules name must exist.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ship.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
PROMTOOL=$(command -v promtool || true)
[ -n "$PROMTOOL" ] || echo "# promtool not installed (Debian: prometheus): its checks are skipped"

# prom.py: small checks on the text format, by series name.
cat > "$T/prom.py" <<'PY'
import json, re, sys

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$')

def parse(path):
    types, series = {}, {}
    for l in open(path):
        l = l.rstrip("\n")
        if l.startswith("# TYPE "):
            _, _, name, t = l.split(" ", 3)
            types[name] = t
        elif l and not l.startswith("#"):
            m = LINE.match(l)
            if not m:
                sys.exit("bad line: %r" % l)
            series[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return types, series

def family(name, types):
    for suf in ("_bucket", "_sum", "_count"):
        if name.endswith(suf) and types.get(name[:-len(suf)]) == "histogram":
            return name[:-len(suf)]
    return name

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "get":                        # FILE SERIES: prints the value
    t, s = parse(args[0])
    if args[1] not in s:
        sys.exit("no series %s" % args[1])
    v = s[args[1]]
    print(int(v) if v == int(v) else v)
elif cmd == "monotonic":                # OLD NEW: counters never go down
    t1, a = parse(args[0])
    t2, b = parse(args[1])
    bad = []
    for k, v in a.items():
        f = family(k.split("{")[0], t1)
        if t1.get(f) in ("counter", "histogram") and b.get(k, -1) < v:
            bad.append("%s %s -> %s" % (k, v, b.get(k)))
    if bad:
        sys.exit("went down: " + "; ".join(bad))
elif cmd == "histogram":                # FILE NAME: cumulative, +Inf = count
    t, s = parse(args[0])
    n = args[1]
    bk = []
    for k, v in s.items():
        m = re.match(re.escape(n) + r'_bucket\{le="([^"]+)"\}$', k)
        if m:
            bk.append((float("inf") if m.group(1) == "+Inf" else float(m.group(1)), v))
    bk.sort()
    assert len(bk) > 2 and bk[-1][0] == float("inf"), bk
    assert all(bk[i][1] <= bk[i + 1][1] for i in range(len(bk) - 1)), bk
    assert bk[-1][1] == s[n + "_count"], (bk[-1], s[n + "_count"])
    assert (s[n + "_sum"] > 0) == (s[n + "_count"] > 0)
elif cmd == "tables":                   # FILE: per-table sums = totals
    t, s = parse(args[0])
    for per, tot in (("spoolship_table_pending_events", "spoolship_spool_pending_events"),
                     ("spoolship_table_pending_bytes", "spoolship_spool_pending_bytes")):
        vals = [v for k, v in s.items() if k.startswith(per + "{table=")]
        assert sum(vals) == s[tot], (per, vals, s[tot])
    for name in args[1:]:
        assert 'spoolship_table_pending_events{table="%s"}' % name in s, name
elif cmd == "families":                 # FILE: every family name
    t, s = parse(args[0])
    print("\n".join(sorted(t)))
elif cmd == "used":                     # FILES...: spoolship_* names used
    names = set()
    for p in args:
        names |= set(re.findall(r'spoolship_[a-z_]+', open(p).read()))
    print("\n".join(sorted(names)))
elif cmd == "dashboard":                # FILE OUT: checks; queries as rules
    d = json.load(open(args[0]))
    assert d["title"] and d["uid"] and d["schemaVersion"] >= 30
    ids, exprs, boxes = set(), [], []
    for p in d["panels"]:
        assert p["id"] not in ids
        ids.add(p["id"])
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24, p["title"]
        for (x, y, w, h) in boxes:
            assert (g["x"] + g["w"] <= x or x + w <= g["x"] or
                    g["y"] + g["h"] <= y or y + h <= g["y"]), p["title"]
        boxes.append((g["x"], g["y"], g["w"], g["h"]))
        if p["type"] == "row":
            continue
        assert p["targets"], p["title"]
        for tg in p["targets"]:
            exprs.append(tg["expr"].replace("$__rate_interval", "5m")
                         .replace("$instance", ".*"))
    with open(args[1], "w") as f:
        f.write("groups:\n  - name: dashboard\n    rules:\n")
        for i, e in enumerate(exprs):
            f.write("      - record: dashboard:q%d\n        expr: %s\n"
                    % (i, json.dumps(e)))
    print(len(exprs))
PY
prom() { python3 "$T/prom.py" "$@"; }
scrape() { curl -s --max-time 5 -o "$1" -w '%{http_code}' "$MURL/metrics"; }
metric() { prom get "$T/now.prom" "$1"; }
refresh() { curl -s --max-time 5 -o "$T/now.prom" "$MURL/metrics"; }
ev() { # a wave of events: FIRST N TABLE
	gen_events "$1" "$2" | "$SP" -s "$T/spool" append -t "$3" 2>/dev/null
}

start_mock --p500 0.1 --poison-field poison --seed 5 --token good-token-1
ev 1 2000 wiki
ev 100000 500 clicks
now=$(now_iso)
echo "{\"__time\":\"$now\",\"id\":999999,\"poison\":true}" |
	"$SP" -s "$T/spool" append -t wiki 2>/dev/null
write_config "$T/c.ini" "[auth]" "mode = bearer" "token = good-token-1" \
	"[metrics]" "listen = 127.0.0.1:0"
start_run "$T/c.ini"
wait_for 20 grep -q 'metrics listening' "$T/run.log" || { cat "$T/run.log"; exit 1; }
MPORT=$(sed -n 's/.*metrics listening .*port=\([0-9]*\).*/\1/p' "$T/run.log" | head -n 1)
MURL="http://127.0.0.1:$MPORT"
check "metrics on a port of its own" test "$MPORT" -gt 0

# Events keep arriving while it ships; two scrapes in the middle.
( for w in 1 2 3 4 5 6 7 8; do ev $((200000 + w * 1000)) 300 wiki; ev $((300000 + w * 1000)) 100 clicks; sleep 0.3; done ) &
waves=$!
wait_for 20 mock_stat_ge events_accepted 1 || echo "# nothing accepted yet"
check "first scrape 200" test "$(scrape "$T/s1.prom")" = 200
sleep 1
check "second scrape 200" test "$(scrape "$T/s2.prom")" = 200
wait "$waves"
check "counters and buckets monotonic between scrapes" prom monotonic "$T/s1.prom" "$T/s2.prom"
check "per-table gauges add up (mid-run)" prom tables "$T/s1.prom" wiki clicks
check "histogram well formed (mid-run)" prom histogram "$T/s2.prom" spoolship_ack_latency_seconds
if [ -n "$PROMTOOL" ]; then
	check "promtool check metrics: clean (mid-run)" "$PROMTOOL" check metrics < "$T/s1.prom"
fi

# Until all 5701 events are delivered or dead.
total=$((2000 + 500 + 1 + 8 * 400))
done_all() { refresh && [ "$(metric spoolship_spool_pending_events)" -eq 0 ] &&
	[ "$(metric spoolship_events_appended_total)" -eq "$total" ]; }
check "everything shipped or dead" wait_for 60 done_all
refresh
cp "$T/now.prom" "$T/s3.prom"
check "counters monotonic to the end" prom monotonic "$T/s2.prom" "$T/s3.prom"
shipped=$(metric spoolship_events_shipped_total)
check "shipped ($shipped) = mock accepted" mock_stat_eq events_accepted "$shipped"
check "shipped + dead = appended" test $((shipped + $(metric spoolship_events_dead_total))) -eq "$total"
check "500s counted" test "$(metric 'spoolship_http_requests_total{code="500",class="5xx"}')" -gt 0
check "500s as the mock sent them" mock_stat_eq by_status.500 "$(metric 'spoolship_http_requests_total{code="500",class="5xx"}')"
check "200s as the mock sent them" mock_stat_eq by_status.200 "$(metric 'spoolship_http_requests_total{code="200",class="2xx"}')"
check "the poison's 400s counted" test "$(metric 'spoolship_http_requests_total{code="400",class="4xx"}')" -gt 0
check "poison dead-lettered as rejected" test "$(metric 'spoolship_events_dead_lettered_total{reason="rejected"}')" -eq 1
check "retries counted" test "$(metric spoolship_http_retries_total)" -gt 0
check "bisections counted" test "$(metric spoolship_ship_bisections_total)" -gt 0
check "per-table gauges, both tables" prom tables "$T/s3.prom" wiki clicks
check "wiki pending 0" test "$(metric 'spoolship_table_pending_events{table="wiki"}')" -eq 0
check "histogram well formed" prom histogram "$T/s3.prom" spoolship_ack_latency_seconds
check "one latency per acknowledged event" test "$(metric spoolship_ack_latency_seconds_count)" -eq "$shipped"
check "RateLimit-Remaining seen" test "$(metric spoolship_ratelimit_remaining)" -ge 0
check "nothing in flight" test "$(metric spoolship_http_requests_in_flight)" -eq 0
check "raw bytes counted" test "$(metric spoolship_http_body_raw_bytes_total)" -gt 0
check "up" test "$(metric spoolship_up)" -eq 1
check "start time is now-ish" test "$(metric spoolship_process_start_time_seconds | cut -d. -f1)" -ge $(( $(date +%s) - 300 ))
check "max_age exposed" test "$(metric spoolship_max_age_seconds | cut -d. -f1)" -eq 604800
check "content type 0.0.4" sh -c "curl -s -D - -o /dev/null '$MURL/metrics' | grep -qi '^content-type: text/plain; version=0.0.4'"
check "HEAD answers" test "$(curl -s -I -o /dev/null -w '%{http_code}' "$MURL/metrics")" = 200
check "POST refused with 405" test "$(curl -s -o /dev/null -w '%{http_code}' -d x "$MURL/metrics")" = 405
check "unknown path 404" test "$(curl -s -o /dev/null -w '%{http_code}' "$MURL/secrets")" = 404
if [ -n "$PROMTOOL" ]; then
	check "promtool check metrics: clean (end)" "$PROMTOOL" check metrics < "$T/s3.prom"
fi

# A port in use: the second daemon refuses to start, exit 1.
mkdir -p "$T/other"
sed -e "s|^path = .*|path = $T/other/spool|" \
	-e "s|^listen = .*|listen = 127.0.0.1:$MPORT|" "$T/c.ini" > "$T/busy.ini"
expect_exit "port in use: exit 1" 1 timeout 20 "$SP" run -c "$T/busy.ini" 2>"$T/busy.log"
check "port in use: logged" grep -q 'metrics: cannot listen' "$T/busy.log"
stop_run
check "SIGTERM: exit 0" test "$RUN_RC" -eq 0

# A wrong static token: a credentials alarm, counted by kind; neither
# token appears in anything served.
ev 400000 50 wiki
write_config "$T/bad.ini" "[auth]" "mode = bearer" \
	"token = wrong-token-2" "[metrics]" "listen = 127.0.0.1:0"
: > "$T/run.log"
start_run "$T/bad.ini"
wait_for 20 grep -q 'metrics listening' "$T/run.log" || { cat "$T/run.log"; exit 1; }
MPORT=$(sed -n 's/.*metrics listening .*port=\([0-9]*\).*/\1/p' "$T/run.log" | head -n 1)
MURL="http://127.0.0.1:$MPORT"
alarmed() { refresh && [ "$(metric 'spoolship_alarms_total{kind="credentials"}')" -ge 1 ]; }
check "credentials alarm counted" wait_for 20 alarmed
check "401 counted" test "$(metric 'spoolship_http_requests_total{code="401",class="4xx"}')" -ge 1
check "destination alarms 0" test "$(metric 'spoolship_alarms_total{kind="destination"}')" -eq 0
check "events kept" test "$(metric 'spoolship_table_pending_events{table="wiki"}')" -eq 50
curl -s "$MURL/metrics" "$MURL/status.json" "$MURL/" > "$T/served"
check "no token served" sh -c "! grep -q -e wrong-token -e good-token '$T/served'"
urls=$(grep -o "[a-z]*://127.0.0.1:$MOCK_PORT[^\"]*" "$T/served" | sort -u)
check "the URL served only as the destination ($urls)" test "$urls" = "http://127.0.0.1:$MOCK_PORT/v1/events/{table}"
check "last error says why" grep -q 'credentials refused' "$T/served"
stop_run

# The ingest endpoint's figures after known requests: 3 events accepted
# (one 200), 2 rejected by reason (a 400), one body over the limit (413);
# bytes and the commit-time histogram; then every id at the mock.
write_config "$T/ig.ini" "[auth]" "mode = bearer" "token = good-token-1" \
	"[ingest]" "listen = 127.0.0.1:0" "max_body_bytes = 1K" \
	"[metrics]" "listen = 127.0.0.1:0"
: > "$T/run.log"
start_run "$T/ig.ini"
wait_for 20 grep -q 'ingest listening' "$T/run.log" || { cat "$T/run.log"; exit 1; }
wait_for 20 grep -q 'metrics listening' "$T/run.log" || { cat "$T/run.log"; exit 1; }
IPORT=$(sed -n 's/.*ingest listening .*port=\([0-9]*\).*/\1/p' "$T/run.log" | head -n 1)
check "ingest start line names its auth and partial mode" grep -q \
	'ingest listening .* auth=none max_body_bytes=1024 partial=accept_valid' \
	"$T/run.log"
MPORT=$(sed -n 's/.*metrics listening .*port=\([0-9]*\).*/\1/p' "$T/run.log" | head -n 1)
MURL="http://127.0.0.1:$MPORT"
ipost() { # FILE: the status of a POST of FILE to /v1/events/iglog
	curl -s -o /dev/null -w '%{http_code}' --max-time 30 \
		-H 'Content-Type: application/json' --data-binary @"$1" \
		"http://127.0.0.1:$IPORT/v1/events/iglog"
}
gen_events 500001 3 > "$T/ok.ndjson"
printf '{"id":500010}\n{"id":\n' > "$T/bad.ndjson"
gen_events 500020 40 > "$T/big.ndjson"
check "3 events: 200" test "$(ipost "$T/ok.ndjson")" = 200
check "2 bad lines: 400" test "$(ipost "$T/bad.ndjson")" = 400
check "$(wc -c < "$T/big.ndjson") bytes over 1K: 413" test "$(ipost "$T/big.ndjson")" = 413
refresh
cp "$T/now.prom" "$T/ig.prom"
check "ingest 200s: 1" test "$(metric 'spoolship_ingest_requests_total{code="200"}')" -eq 1
check "ingest 400s: 1" test "$(metric 'spoolship_ingest_requests_total{code="400"}')" -eq 1
check "ingest 413s: 1" test "$(metric 'spoolship_ingest_requests_total{code="413"}')" -eq 1
check "ingest 503s: 0" test "$(metric 'spoolship_ingest_requests_total{code="503"}')" -eq 0
check "events accepted: 3" test "$(metric 'spoolship_ingest_events_total{result="accepted"}')" -eq 3
check "rejected missing_time: 1" test "$(metric 'spoolship_ingest_events_total{result="rejected",reason="missing_time"}')" -eq 1
check "rejected bad_json: 1" test "$(metric 'spoolship_ingest_events_total{result="rejected",reason="bad_json"}')" -eq 1
check "rejected too_old: 0" test "$(metric 'spoolship_ingest_events_total{result="rejected",reason="too_old"}')" -eq 0
okb=$(( $(wc -c < "$T/ok.ndjson") + $(wc -c < "$T/bad.ndjson") ))
igb=$(metric spoolship_ingest_request_bytes_total)
check "request bytes ($igb) >= the two bodies read ($okb)" test "$igb" -ge "$okb"
check "request bytes below all three bodies" test "$igb" -lt $((okb + $(wc -c < "$T/big.ndjson")))
check "commit histogram well formed" prom histogram "$T/ig.prom" spoolship_ingest_commit_seconds
check "one commit timed" test "$(metric spoolship_ingest_commit_seconds_count)" -eq 1
check "commit within 10 s" test "$(metric 'spoolship_ingest_commit_seconds_bucket{le="10"}')" -eq 1
check "status.json has the ingest figures" sh -c "curl -s --max-time 5 '$MURL/status.json' | python3 -c 'import json,sys; g = json.load(sys.stdin)[\"ingest\"]; sys.exit(0 if (g[\"events_accepted\"], g[\"events_rejected\"], g[\"by_code\"][\"413\"], g[\"commit_count\"]) == (3, 2, 1, 1) else 1)'"
if [ -n "$PROMTOOL" ]; then
	check "promtool check metrics: clean (ingest)" "$PROMTOOL" check metrics < "$T/ig.prom"
fi
check "the 3 ingested ids at the mock" wait_for 30 ids_complete 500001 3
stop_run
check "ingest run: SIGTERM exit 0" test "$RUN_RC" -eq 0

# The alert rules, their unit tests, and the dashboard's queries.
{ prom families "$T/s3.prom"; prom families "$T/ig.prom"; } | sort -u > "$T/families"
prom used "$top/docs/grafana-dashboard.json" "$top/docs/alerts.yml" > "$T/used"
has_family() { # NAME, or a histogram's NAME_bucket/_sum/_count
	local n=$1 s
	grep -qx "$n" "$T/families" && return 0
	for s in _bucket _sum _count; do
		[ "${n%"$s"}" != "$n" ] && grep -qx "${n%"$s"}" "$T/families" && return 0
	done
	return 1
}
missing=$(while read -r n; do has_family "$n" || echo "$n"; done < "$T/used")
check "dashboard and rules use only metrics that exist${missing:+ (missing: $missing)}" test -z "$missing"
check "dashboard JSON well formed" prom dashboard "$top/docs/grafana-dashboard.json" "$T/dash-rules.yml"
if [ -n "$PROMTOOL" ]; then
	check "promtool check rules docs/alerts.yml" "$PROMTOOL" check rules "$top/docs/alerts.yml"
	check "dashboard queries parse" "$PROMTOOL" check rules "$T/dash-rules.yml"
	cat > "$T/alerts-test.yml" <<EOF
rule_files:
  - $top/docs/alerts.yml
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'spoolship_spool_oldest_event_age_seconds{instance="a",job="spoolship"}'
        values: '500000+60x40'
      - series: 'spoolship_max_age_seconds{instance="a",job="spoolship"}'
        values: '604800x40'
      - series: 'spoolship_alarms_total{instance="a",job="spoolship",kind="credentials"}'
        values: '0 0 0 1x40'
      - series: 'spoolship_spool_used_bytes{instance="a",job="spoolship"}'
        values: '960x40'
      - series: 'spoolship_spool_budget_bytes{instance="a",job="spoolship"}'
        values: '1000x40'
      - series: 'spoolship_http_requests_total{instance="a",job="spoolship",code="500",class="5xx"}'
        values: '0+30x40'
      - series: 'spoolship_http_requests_total{instance="a",job="spoolship",code="200",class="2xx"}'
        values: '0+30x40'
      - series: 'up{instance="a",job="spoolship"}'
        values: '1 1 0x40'
      - series: 'spoolship_ingest_requests_total{instance="a",job="spoolship",code="200"}'
        values: '0+30x40'
      - series: 'spoolship_ingest_requests_total{instance="a",job="spoolship",code="503"}'
        values: '0+10x40'
    alert_rule_test:
      - eval_time: 4m
        alertname: SpoolshipCredentialsAlarm
        exp_alerts:
          - exp_labels: { severity: critical, instance: a, job: spoolship, kind: credentials }
            exp_annotations:
              summary: "spoolship on a has a credentials alarm"
              description: "The receiver refused the credentials right after a refresh, or the token endpoint refused them. Sending backs off for alarm_backoff; the data is kept. Fix [auth] and reload (SIGHUP)."
      - eval_time: 30m
        alertname: SpoolshipCredentialsAlarm
        exp_alerts: []
      - eval_time: 30m
        alertname: SpoolshipIngestRefusing
        exp_alerts:
          - exp_labels: { severity: critical, instance: a, job: spoolship }
            exp_annotations:
              summary: "spoolship's ingest endpoint on a refuses requests with 5xx"
              description: "25% of the ingest endpoint's answers in the last 10 minutes were 5xx: 503 when the spool is full (see the disk budget and the backlog), 500 when appending fails. Clients must send those events again; the log says why."
      - eval_time: 30m
        alertname: SpoolshipHTTP5xxSustained
        exp_alerts:
          - exp_labels: { severity: warning, instance: a, job: spoolship }
            exp_annotations:
              summary: "over 20% of Events API answers to a are 5xx"
              description: "50% of the answers in the last 10 minutes were 5xx. Data is kept and retried with backoff."
    promql_expr_test:
      - expr: ALERTS{alertstate="firing"}
        eval_time: 20m
        exp_samples:
          - labels: 'ALERTS{alertname="SpoolshipBacklogAgeHigh",alertstate="firing",instance="a",job="spoolship",severity="warning"}'
            value: 1
          - labels: 'ALERTS{alertname="SpoolshipBacklogAgeNearMaxAge",alertstate="firing",instance="a",job="spoolship",severity="critical"}'
            value: 1
          - labels: 'ALERTS{alertname="SpoolshipSpoolNearBudget",alertstate="firing",instance="a",job="spoolship",severity="warning"}'
            value: 1
          - labels: 'ALERTS{alertname="SpoolshipSpoolFull",alertstate="firing",instance="a",job="spoolship",severity="critical"}'
            value: 1
          - labels: 'ALERTS{alertname="SpoolshipHTTP5xxSustained",alertstate="firing",instance="a",job="spoolship",severity="warning"}'
            value: 1
          - labels: 'ALERTS{alertname="SpoolshipDown",alertstate="firing",instance="a",job="spoolship",severity="critical"}'
            value: 1
          - labels: 'ALERTS{alertname="SpoolshipMetricsAbsent",alertstate="firing",job="spoolship",severity="critical"}'
            value: 1
          - labels: 'ALERTS{alertname="SpoolshipIngestRefusing",alertstate="firing",instance="a",job="spoolship",severity="critical"}'
            value: 1
EOF
	check "alert rules behave (promtool test rules)" "$PROMTOOL" test rules "$T/alerts-test.yml"
fi
stop_mock
finish
