#!/usr/bin/env bash
# 0021: messages that say what to do (issue 14): the usual mistakes (a
# JSON array, a pretty-printed object, a missing __time, an epoch time,
# single quotes) are refused with a hint, in the same words from
# `spoolship append` and in the ingest endpoint's 400.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ingest.sh"
now=$(now_iso)
ndjson='send NDJSON: one object per line'
epoch='for converting epoch times see "Event times" in spoolship(1) or docs/cli.md'
{
	echo "[{\"__time\":\"$now\",\"id\":1}]"          # 1 an array
	echo '{'                                         # 2 pretty-printed
	echo "  \"__time\": \"$now\","                   # 3
	echo '  "id": 2'                                 # 4
	echo '}'                                         # 5
	echo '{"id":6}'                                  # 6 no __time
	echo '{"__time":1765000000000,"id":7}'           # 7 epoch number
	echo '{"__time":"1765000000","id":8}'            # 8 epoch string
	echo "{'__time': '$now', 'id': 9}"               # 9 single quotes
	echo "{\"__time\":\"$now\",\"id\":10}"           # 10 good
} > "$T/mistakes"
# the hint each line must carry, by line
hints=(
	[1]="event is an array, not an object; $ndjson"
	[2]="not valid JSON near byte 0; a line of just '{' is pretty-printed JSON: $ndjson"
	[3]="unexpected data after the JSON value at byte 10; $ndjson"
	[5]="not valid JSON near byte 0; a line of just '}' is pretty-printed JSON: $ndjson"
	[6]="missing __time (add it, or use --fill-time / [spool] fill_time)"
	[7]="__time is a number, an ISO-8601 string expected (e.g. 2022-04-16T00:46:58.771Z); $epoch"
	[8]="__time '1765000000' is not an ISO-8601 time; $epoch"
	[9]="not valid JSON near byte 2; JSON strings take double quotes, not single"
)

# from append: FILE:LINE: reason
expect_exit "append: the mistakes are rejected, exit 3" 3 \
	"$SP" -s "$T/spool" append -t hints "$T/mistakes" 2>"$T/err"
check "append: one good line of ten" grep -qx 'accepted 1, rejected 9' "$T/err"
for l in "${!hints[@]}"; do
	check "append line $l: ${hints[$l]}" grep -qxF "$T/mistakes:$l: ${hints[$l]}" "$T/err"
done

# from the ingest endpoint: the 400's errors, the same words
ingest_config "$T/c.ini"
start_ingest "$T/c.ini"
code=$(post /v1/events/hints --data-binary @"$T/mistakes")
check "ingest: 400 (got $code)" test "$code" = 400
for l in "${!hints[@]}"; do
	check "ingest line $l: the same words" python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))
e = [x["error"] for x in a["errors"] if x["line"] == int(sys.argv[2])]
sys.exit(0 if e == [sys.argv[3]] else 1)' "$T/answer" "$l" "${hints[$l]}"
done
stop_ingest
# and the quick start's sample in the README says what append prints
readme=$(dirname "$0")/../../README.md
if [ -f "$readme" ]; then
	check "README shows append's words" grep -qF -- \
		'-:2: missing __time (add it, or use --fill-time / [spool] fill_time)' "$readme"
fi
finish
