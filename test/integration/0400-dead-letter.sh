#!/usr/bin/env bash
# 0400: the dead store from the command line.  Events die in every way
# (400 poison, age-out, a flipped bit, 413); `dead list` shows them (text
# and NDJSON), `dead export` writes them back byte for byte, `dead
# requeue` sends them again (corrupt ones refused; the counters say so),
# `dead purge` deletes them; `compact` is refused while `spoolship run`
# has the spool open and otherwise shrinks the file, content unchanged.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ship.sh"
S="$T/spool"
ago() { date -u -d "$1 ago" +%Y-%m-%dT%H:%M:%S.000Z; }
jq_py() { # EXPR FILE: evaluates a Python expression over the NDJSON lines L
	python3 -c 'import json,sys
L = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
sys.exit(0 if eval("(" + sys.argv[1] + ")") else 1)' "$1" "$2"
}
lines() { wc -l < "$1" | tr -d ' '; }
to() { local f=$1; shift; "$@" > "$f"; } # to FILE COMMAND...: stdout to FILE

# ---- events that die in every way --------------------------------------
now=$(now_iso)
{
	gen_events 1 50
	echo "{\"__time\":\"$now\",\"id\":9001,\"poison\":true}"
	echo "{\"__time\":\"$now\",\"id\":9002,\"poison\":1,\"big\":9007199254740993}"
	echo "{\"__time\":\"$now\",\"id\":9003,\"poison\":null,\"e\":\"\\u00e9\"}"
} > "$T/t.ndjson"
grep poison "$T/t.ndjson" > "$T/poison.ndjson"
"$SP" -s "$S" append -t t "$T/t.ndjson" 2>/dev/null
for i in 1 2 3 4 5; do
	echo "{\"__time\":\"$(ago '50 minutes')\",\"id\":800$i}"
done > "$T/u.ndjson"
"$SP" -s "$S" append -t u "$T/u.ndjson" 2>/dev/null
gen_events 6001 2 > "$T/v.ndjson"
"$SP" -s "$S" append -t v "$T/v.ndjson" 2>/dev/null
check "too_big made by spool-tool" "$TOOL" dead "$S" v 1 too_big 413 "Request Entity Too Large" >/dev/null
# Last write before the flip, so the record is in the file only once.
gen_events 7001 1 FLIPMEHERE | "$SP" -s "$S" append -t c 2>/dev/null
python3 - "$S/data.mdb" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
i = b.find(b"FLIPMEHERE")
assert i > 0 and b.find(b"FLIPMEHERE", i + 1) < 0
b[i + 3] ^= 0x01
open(p, "r+b").write(b)
PY
start_mock --rpm 0 --poison-field poison
write_config "$T/c.ini" "max_age = 1h" "age_margin = 15m"
expect_exit "run until empty" 0 timeout 120 "$SP" run -c "$T/c.ini" --until-empty 2>>"$T/run.log"
check "good events delivered" ids_complete 1 50
check "ten dead" test "$(spool_total dead_events)" -eq 10

# ---- dead list ---------------------------------------------------------
expect_exit "list exits 0" 0 to "$T/list" "$SP" -s "$S" dead list
check "list: one line each" test "$(lines "$T/list")" -eq 10
check "list: 3 rejected with status and excerpt" test "$(grep -c 'reason=rejected status=400 died=.* excerpt="[^"]' "$T/list")" -eq 3
check "list: 5 expired" test "$(grep -c 'table=u seq=[0-9]* reason=expired status=-' "$T/list")" -eq 5
check "list: the corrupt one" test "$(grep -c 'table=c .*reason=corrupt' "$T/list")" -eq 1
check "list: too_big with its excerpt" grep -q 'table=v seq=1 reason=too_big status=413 .*excerpt="Request Entity Too Large"' "$T/list"
check "list: the event's first bytes" grep -q 'event={"__time":"[^"]*","id":9001,"poison":true}$' "$T/list"
check "list: __time shown" grep -q "reason=rejected .* time=$now " "$T/list"
check "list --reason" test "$("$SP" -s "$S" dead list --reason expired | wc -l)" -eq 5
check "list -t" test "$("$SP" -s "$S" dead list -t t | grep -c 'table=t ')" -eq 3
check "list -t of no stream: nothing" test -z "$("$SP" -s "$S" dead list -t nosuch)"
check "list -n" test "$("$SP" -s "$S" dead list -n 2 | wc -l)" -eq 2
check "list -n 0 is all" test "$("$SP" -s "$S" dead list -n 0 | wc -l)" -eq 10
check "list -t and --reason" test "$("$SP" -s "$S" dead list -t u --reason rejected | wc -l)" -eq 0
"$SP" -s "$S" dead list --json > "$T/list.json"
check "json: one object per line, every field" jq_py '
len(L) == 10 and all(set(("dead_seq", "table", "seq", "reason", "status",
  "dead_time", "time", "append_time", "bytes", "excerpt")) <= set(o) for o in L)' "$T/list.json"
check "json: rejected events embedded as objects" jq_py '
sorted(o["event"]["id"] for o in L if o["reason"] == "rejected") == [9001, 9002, 9003]
and all(o["status"] == 400 and "poison" in o["excerpt"] for o in L if o["reason"] == "rejected")' "$T/list.json"
check "json: big number embedded byte for byte" grep -q '"event":{"__time":"[^"]*","id":9002,"poison":1,"big":9007199254740993}}$' "$T/list.json"
check "json: escapes embedded as written" grep -qF '"e":"\u00e9"}}' "$T/list.json"
check "json: corrupt bytes as base64" jq_py '
[("event_base64" in o and "event" not in o) for o in L if o["reason"] == "corrupt"] == [True]' "$T/list.json"
check "json: status null when none, times ISO" jq_py '
all(o["status"] is None and o["dead_time"].endswith("Z") for o in L if o["reason"] == "expired")' "$T/list.json"
check "json: --reason and -n" test "$("$SP" -s "$S" dead list --json --reason expired -n 3 | wc -l)" -eq 3
expect_exit "list: unknown reason exits 2" 2 "$SP" -s "$S" dead list --reason bogus 2>"$T/err"
check "unknown reason named" grep -q "unknown reason 'bogus'" "$T/err"
expect_exit "list: bad table exits 2" 2 "$SP" -s "$S" dead list -t 'a/b' 2>/dev/null
expect_exit "list: bad -n exits 2" 2 "$SP" -s "$S" dead list -n -1 2>/dev/null
expect_exit "list: --seq is not its option" 2 "$SP" -s "$S" dead list --seq 1 2>/dev/null
expect_exit "dead alone exits 2" 2 "$SP" -s "$S" dead 2>/dev/null
expect_exit "unknown dead command exits 2" 2 "$SP" -s "$S" dead frob 2>/dev/null
expect_exit "list: no spool exits 1" 1 "$SP" -s "$T/none" dead list 2>/dev/null
check "no spool created by dead list" test ! -e "$T/none"

# ---- dead export -------------------------------------------------------
expect_exit "export rejected exits 0" 0 to "$T/exp" "$SP" -s "$S" dead export --reason rejected 2>"$T/err"
check "export: the events byte for byte" cmp -s <(sort "$T/exp") <(sort "$T/poison.ndjson")
check "export: summary on stderr" grep -qx 'exported 3 events' "$T/err"
expect_exit "export -t exits 0" 0 to "$T/exp" "$SP" -s "$S" dead export -t u 2>/dev/null
check "export -t: the expired ones" cmp -s <(sort "$T/exp") <(sort "$T/u.ndjson")
expect_exit "export all exits 0" 0 to "$T/all" "$SP" -s "$S" dead export 2>"$T/err"
check "export: corrupt skipped, named" grep -q 'dead [0-9]* (corrupt) not exported: .*CRC mismatch' "$T/err"
check "export: summary counts the skipped" grep -qx 'exported 9 events, 1 corrupt skipped' "$T/err"
check "export: 9 lines of JSON" python3 -c 'import json,sys
L = open(sys.argv[1]).read().split("\n")
assert L[-1] == "" and len(L) == 10, len(L)
for l in L[:-1]: assert isinstance(json.loads(l), dict)' "$T/all"
expect_exit "export -o exits 0" 0 "$SP" -s "$S" dead export -o "$T/out.ndjson" 2>/dev/null
check "export -o: same bytes as stdout" cmp -s "$T/out.ndjson" "$T/all"
check "export -o: no temporary left" test ! -e "$T/out.ndjson.tmp"
check "export -o: mode 0600" test "$(stat -c %a "$T/out.ndjson")" = 600
echo old > "$T/out2.ndjson"
"$SP" -s "$S" dead export -o "$T/out2.ndjson" --reason too_big 2>/dev/null
check "export -o replaces a file" test "$(lines "$T/out2.ndjson")" -eq 1
expect_exit "export -o into no directory exits 1" 1 "$SP" -s "$S" dead export -o "$T/nodir/x.ndjson" 2>"$T/err"
check "export error named" grep -q "nodir/x.ndjson.tmp" "$T/err"
expect_exit "export: unknown reason exits 2" 2 "$SP" -s "$S" dead export --reason nope 2>/dev/null
expect_exit "export: -n is not its option" 2 "$SP" -s "$S" dead export -n 3 2>/dev/null

# ---- dead requeue ------------------------------------------------------
expect_exit "requeue corrupt: refused, exit 1" 1 to "$T/out" "$SP" -s "$S" dead requeue --reason corrupt 2>"$T/err"
check "requeue corrupt: counted" grep -qx '0 requeued, 1 refused' "$T/out"
check "requeue corrupt: why" grep -q 'dead [0-9]* not requeued: its bytes still fail their check (CRC mismatch)' "$T/err"
expect_exit "requeue of nothing exits 0" 0 to "$T/out" "$SP" -s "$S" dead requeue --seq 999 2>"$T/err"
check "requeue of nothing: 0 requeued" grep -qx '0 requeued' "$T/out"
check "requeue: a missing --seq named" grep -q 'no dead event 999' "$T/err"
expect_exit "requeue -t of no stream exits 0" 0 to "$T/out" "$SP" -s "$S" dead requeue --reason rejected -t nosuch
check "requeue -t of no stream: 0" grep -qx '0 requeued' "$T/out"
expect_exit "requeue: unknown reason exits 2" 2 "$SP" -s "$S" dead requeue --reason x 2>/dev/null
expect_exit "requeue: bad --seq exits 2" 2 "$SP" -s "$S" dead requeue --seq 0 2>/dev/null
expect_exit "requeue: bad --seq exits 2 (text)" 2 "$SP" -s "$S" dead requeue --seq one 2>/dev/null
check "nothing moved by refusals" test "$(spool_total dead_events)" -eq 10
expect_exit "requeue rejected exits 0" 0 to "$T/out" "$SP" -s "$S" dead requeue --reason rejected
check "requeue: 3 requeued" grep -qx '3 requeued' "$T/out"
check "requeue: back in their stream, bytes and __time kept" cmp -s <("$SP" -s "$S" peek -t t -n 0 | sort) <(sort "$T/poison.ndjson")
check "requeue: requeued_total" test "$(spool_total requeued_total)" -eq 3
check "requeue: dead_total stays (monotonic)" test "$(spool_total dead_total)" -eq 10
check "requeue: dead_events down" test "$(spool_total dead_events)" -eq 7
check "requeue: pending up" pending_is 3
expect_exit "verify clean after requeue" 0 to /dev/null "$SP" -s "$S" verify
# Sent again: a receiver that now accepts them gets them.
stop_mock
start_mock --rpm 0
expect_exit "requeued: run until empty" 0 timeout 120 "$SP" run -c "$T/c.ini" --until-empty 2>>"$T/run.log"
check "requeued: delivered" ids_complete 9001 3
# An expired event requeued by its dead sequence is expired again: its
# __time did not change.
dseq=$(python3 -c 'import json,sys
print([json.loads(l)["dead_seq"] for l in open(sys.argv[1]) if json.loads(l)["reason"] == "expired"][0])' "$T/list.json")
expect_exit "requeue --seq exits 0" 0 to "$T/out" "$SP" -s "$S" dead requeue --seq "$dseq"
check "requeue --seq: 1 requeued" grep -qx '1 requeued' "$T/out"
expect_exit "re-expiry: run until empty" 0 timeout 120 "$SP" run -c "$T/c.ini" --until-empty 2>>"$T/run.log"
check "re-expiry: expired again" test "$(spool_total expired_total)" -eq 6
check "re-expiry: back in the dead store" test "$(spool_total dead_events)" -eq 7
check "re-expiry: never sent" bash -c "! curl -s http://127.0.0.1:$MOCK_PORT/ids | grep -qx 800[1-5]"

# ---- dead purge --------------------------------------------------------
expect_exit "purge without --older-than or --yes exits 2" 2 "$SP" -s "$S" dead purge 2>"$T/err"
check "purge asks for --yes" grep -q -- '--yes' "$T/err"
expect_exit "purge: bad duration exits 2" 2 "$SP" -s "$S" dead purge --older-than soon 2>/dev/null
expect_exit "purge: unknown reason exits 2" 2 "$SP" -s "$S" dead purge --reason x --yes 2>/dev/null
check "purge --older-than 1h: none that young" test "$("$SP" -s "$S" dead purge --older-than 1h)" = "0 purged"
check "purge --reason --yes" test "$("$SP" -s "$S" dead purge --reason too_big --yes)" = "1 purged"
check "purge: purged_total" test "$(spool_total purged_total)" -eq 1
check "purge: dead_events = dead_total - requeued - purged" test "$(spool_total dead_events)" -eq $(( $(spool_total dead_total) - $(spool_total requeued_total) - 1 ))
check "purge -t of no stream" test "$("$SP" -s "$S" dead purge -t nosuch --yes)" = "0 purged"
check "totals add up (docs/spool-format.md)" bash -c "'$SP' -s '$S' stats --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d[\"appended_total\"] == d[\"pending_events\"] + d[\"shipped_total\"] + d[\"dropped_total\"] + d[\"dead_total\"] - d[\"requeued_total\"], d
assert d[\"dead_events\"] == d[\"dead_total\"] - d[\"requeued_total\"] - d[\"purged_total\"], d'"

# ---- compact -----------------------------------------------------------
# In use by the shipper: refused, nothing touched.
start_run "$T/c.ini"
has_lock() { ls -l "/proc/$RUN_PID/fd" 2>/dev/null | grep -q 'spool.lock'; }
check "run holds the spool lock" wait_for 30 has_lock
ino=$(stat -c %i "$S/data.mdb")
expect_exit "compact while run runs: exit 1" 1 "$SP" -s "$S" compact 2>"$T/err"
check "compact: in use, said clearly" grep -q 'is in use .*spoolship run.*nothing was changed' "$T/err"
check "compact refused: same data file" test "$(stat -c %i "$S/data.mdb")" = "$ino"
check "compact refused: no copy left" test -z "$(ls -A "$S" | grep compact)"
stop_run
check "run unaffected, stops cleanly" test "$RUN_RC" -eq 0
# Free pages to compact away, pending and dead events to keep.
pad=$(head -c 500 /dev/zero | tr '\0' 'w')
gen_events 20000 3000 "$pad" | "$SP" -s "$S" append -t w 2>/dev/null
"$TOOL" ship "$S" w >/dev/null
gen_events 30000 20 | "$SP" -s "$S" append -t p 2>/dev/null
snap() { # DIR: what compact must keep
	"$SP" -s "$S" peek -n 0 > "$1.peek"
	"$SP" -s "$S" dead list --json > "$1.dead"
	"$SP" -s "$S" stats --json | python3 -c 'import json,sys
d = json.load(sys.stdin)
for k in ("used_bytes", "map_bytes", "oldest_age_seconds"): d.pop(k)
print(json.dumps(d, sort_keys=True))' > "$1.stats"
}
snap "$T/before"
before=$(stat -c %s "$S/data.mdb")
expect_exit "compact exits 0" 0 to "$T/out" "$SP" -s "$S" compact
check "compact prints sizes" grep -qE "^compacted $S: $before -> [0-9]+ bytes, [0-9]+ records copied and checked$" "$T/out"
after=$(stat -c %s "$S/data.mdb")
check "compact: smaller" test "$after" -lt "$before"
check "compact: printed size is the file's" grep -q -- "-> $after bytes" "$T/out"
snap "$T/after"
check "compact: pending events the same" cmp -s "$T/before.peek" "$T/after.peek"
check "compact: dead events the same" cmp -s "$T/before.dead" "$T/after.dead"
check "compact: counters the same" cmp -s "$T/before.stats" "$T/after.stats"
check "compact: something to compare" test -s "$T/before.peek" -a -s "$T/before.dead"
expect_exit "verify clean after compact" 0 to /dev/null "$SP" -s "$S" verify
check "compact: no old file, no copy left" test -z "$(ls -A "$S" | grep -E 'old|compact')"
check "compact: data file 0600" test "$(stat -c %a "$S/data.mdb")" = 600
expect_exit "compact again exits 0" 0 to /dev/null "$SP" -s "$S" compact
check "compact again: not larger" test "$(stat -c %s "$S/data.mdb")" -le "$after"
expect_exit "after compact: run until empty" 0 timeout 120 "$SP" run -c "$T/c.ini" --until-empty 2>>"$T/run.log"
check "after compact: pending delivered" ids_complete 30000 20
gen_events 40000 5 | "$SP" -s "$S" append -t p 2>/dev/null
check "after compact: appends work" test "$("$SP" -s "$S" peek -t p -n 0 | wc -l)" -eq 5
expect_exit "compact: no spool exits 1" 1 "$SP" -s "$T/none" compact 2>"$T/err"
check "compact: no spool named" grep -q "no spool at $T/none" "$T/err"
check "no spool created by compact" test ! -e "$T/none"
expect_exit "compact: extra argument exits 2" 2 "$SP" -s "$S" compact now 2>/dev/null
finish
