#!/usr/bin/env bash
# 0001: `spoolship append` - every kind of bad input gets its own message
# with FILE:LINE, valid lines around it still go in, exit codes as
# documented; stats, peek and verify read back what went in.
. "$(dirname "$0")/lib.sh"
S="$T/spool"
now=$(now_iso)

# All good: exit 0, summary on stderr, bytes kept, __time normalised.
printf '{"__time":"%s", "id":1, "big":9007199254740993, "e":"\\u00e9"}\n\n  \n{"id":2,"__time":"%s"}\n' \
	"$now" "${now%.000Z}+00:00" > "$T/good.ndjson"
expect_exit "all-good exits 0" 0 "$SP" -s "$S" append -t t1 "$T/good.ndjson" 2>"$T/err"
check "summary line" grep -qx 'accepted 2, rejected 0' "$T/err"
"$SP" -s "$S" peek -t t1 -n 0 > "$T/peek"
check "minified, digits and escapes kept" grep -qF "{\"__time\":\"$now\",\"id\":1,\"big\":9007199254740993,\"e\":\"\\u00e9\"}" "$T/peek"
check "offset time normalised to Z" grep -qF "{\"id\":2,\"__time\":\"$now\"}" "$T/peek"

# Each bad line: its own reason, the good lines still appended, exit 3.
old=$(date -u -d '8 days ago' +%Y-%m-%dT%H:%M:%S.000Z)
big=$(head -c 1000100 /dev/zero | tr '\0' 'a')
{
	echo "{\"__time\":\"$now\",\"id\":10}"          # 1 good
	echo '{"__time": "2024-01-01T00:00:00Z",'        # 2 malformed
	echo '[1,2,3]'                                   # 3 not an object
	echo '{"id":4}'                                  # 4 no __time
	echo '{"__time":"yesterday"}'                    # 5 unparseable
	echo "{\"__time\":\"$old\"}"                     # 6 too old
	echo "{\"__time\":\"$now\",\"b\":\"$big\"}"      # 7 too big
	printf '{"__time":"%s","u":"\xc3\x28"}\n' "$now" # 8 bad UTF-8
	echo ""                                          # 9 empty
	echo "{\"__time\":\"$now\",\"id\":11}"          # 10 good
} > "$T/bad.ndjson"
expect_exit "some rejected exits 3" 3 "$SP" -s "$S" append -t t2 "$T/bad.ndjson" 2>"$T/err"
check "summary counts" grep -qx 'accepted 2, rejected 7' "$T/err"
for l in 2 3 4 5 6 7 8; do
	check "line $l reported as FILE:LINE" grep -q "^$T/bad.ndjson:$l: " "$T/err"
done
check "no report for the empty line" bash -c "! grep -q ':9: ' '$T/err'"
check "malformed says JSON" grep -q ':2: .*JSON' "$T/err"
check "non-object says object" grep -q ':3: .*object' "$T/err"
check "missing __time" grep -q ':4: .*__time' "$T/err"
check "too old names the window" grep -q ':6: .*older' "$T/err"
check "too big names the size" grep -q ':7: .*1000000' "$T/err"
check "utf-8 named" grep -qi ':8: .*utf-8' "$T/err"
check "good lines of a bad file appended" test "$("$SP" -s "$S" peek -t t2 -n 0 | wc -l)" -eq 2

# --fill-time gives a missing __time the current time.
echo '{"id":20}' | "$SP" -s "$S" append -t t3 --fill-time 2>/dev/null
check "fill-time" grep -qE '^\{"__time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z","id":20\}$' <("$SP" -s "$S" peek -t t3)

# A missing file: named, exit 1, the other files still appended.
gen_events 100 3 > "$T/more.ndjson"
expect_exit "missing file exits 1" 1 "$SP" -s "$S" append -t t4 "$T/nope.ndjson" "$T/more.ndjson" 2>"$T/err"
check "missing file named" grep -q "nope.ndjson: No such file" "$T/err"
check "other file appended" test "$("$SP" -s "$S" peek -t t4 -n 0 | wc -l)" -eq 3

# stdin; usage errors exit 2.
gen_events 200 5 | "$SP" -s "$S" append -t t5 2>/dev/null
check "stdin" test "$("$SP" -s "$S" peek -t t5 -n 0 | wc -l)" -eq 5
expect_exit "bad sync mode exits 2" 2 "$SP" -s "$S" append --sync fast /dev/null 2>/dev/null
expect_exit "bad table exits 2" 2 "$SP" -s "$S" append -t 'a/b' /dev/null 2>/dev/null
expect_exit "unknown command exits 2" 2 "$SP" -s "$S" frobnicate 2>/dev/null
expect_exit "no command exits 2" 2 "$SP" 2>/dev/null

# On a terminal, a progress line with the rate ends the run.
if command -v script >/dev/null; then
	gen_events 1000 2000 > "$T/tty.ndjson"
	script -qec "'$SP' -s '$S' append -t tty '$T/tty.ndjson'" /dev/null > "$T/tty.out" 2>&1
	check "progress line on a TTY" grep -q 'appended 2000 events (.*/s), rejected 0' "$T/tty.out"
	"$SP" -s "$S" append -t tty2 "$T/tty.ndjson" 2>"$T/notty.out"
	check "no progress line off a TTY" bash -c "! grep -q '/s)' '$T/notty.out'"
fi

# stats --json carries the documented fields.
"$SP" -s "$S" stats --json > "$T/stats.json"
check "stats json fields" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("pending_events", "pending_bytes", "appended_total", "shipped_total",
          "expired_total", "dead_total", "rejected_total", "streams"):
    assert k in d, k
assert d["pending_events"] == 2 + 2 + 1 + 3 + 5 + 4000, d["pending_events"]
assert d["rejected_total"] == 7, d["rejected_total"]
assert d["streams"]["t2"]["pending_events"] == 2
' "$T/stats.json"
check "stats text" bash -c "'$SP' -s '$S' stats | grep -q 'pending   4013 events'"
check "peek -n limits" test "$("$SP" -s "$S" peek -n 3 | wc -l)" -eq 3
expect_exit "verify clean" 0 "$SP" -s "$S" verify >/dev/null
expect_exit "stats on no spool exits 1" 1 "$SP" -s "$T/none" stats 2>/dev/null
check "no spool created by stats" test ! -e "$T/none"
finish
