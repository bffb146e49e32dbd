#!/usr/bin/env bash
# 0007: one acceptance rule everywhere.  An event between 7d - 10m and
# 7d old (which `run` with the default max_age and age_margin would
# dead-letter on arrival) is refused by `append` and by the ingest
# endpoint with the one message naming the window; what they accept,
# `run` delivers without dead-lettering any.  `-c FILE` gives append,
# stats, peek, verify, dead, compact and salvage the file's [spool] (path,
# key) and [ship] max_age/age_margin; options on the command line win; a
# bad file is exit 2 with FILE:LINE.  A reload (SIGHUP) of `run` moves
# the endpoint's window with the shipper's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ship.sh"
. "$(dirname "$0")/lib_ingest.sh"
ago() { date -u -d "@$(( $(date +%s) - $1 ))" +%Y-%m-%dT%H:%M:%S.000Z; }
ev() { printf '{"__time":"%s","id":%d}\n' "$(ago "$1")" "$2"; }
DAY=86400
# stats_of ARGS... KEY: one figure of `stats --json` with those options.
stats_of() {
	local k=${*: -1}
	"$SP" stats --json "${@:1:$#-1}" | python3 -c \
		'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$k"
}
start_mock --rpm 0
mkdir "$T/work"
cd "$T/work" || exit 1

# --- the default window: 7d less a 10m margin -------------------------
late=$(ev $((7 * DAY - 300)) 1)   # 7d - 5m old: outside the window
ok_ev=$(ev $((7 * DAY - 900)) 2)  # 7d - 15m old: inside
printf '%s\n%s\n' "$late" "$ok_ev" |
	"$SP" -s "$T/spool" append -t t 2>"$T/append.err"
rc=$?
check "append: the late event is rejected, the other accepted (exit $rc)" \
	test "$rc" -eq 3
want="__time $(echo "$late" | sed 's/.*"__time":"\([^"]*\)".*/\1/') is older than the age window of 6d23h50m (max_age less age_margin)"
check "append names the window" grep -qF -- "-:1: $want" "$T/append.err"

SHIP_URL="http://127.0.0.1:$MOCK_PORT/v1/events/{table}" \
	ingest_config "$T/ig.ini"
sed -i "s|^path = .*|path = $T/igspool|" "$T/ig.ini"
start_ingest "$T/ig.ini"
code=$(post /v1/events/t --data-binary "$late")
check "ingest refuses the late event (got $code)" test "$code" = 400
check "with the same message" answer_is "a['errors'][0]['error'] == '''$want'''"
# A reload that narrows the window reaches the door at once: an event the
# shipper would now expire is refused, not accepted and dead-lettered.
two=$(ev $((2 * DAY)) 3)
code=$(post /v1/events/t --data-binary "$two")
check "ingest takes a 2-day-old event under 7d (got $code)" test "$code" = 200
printf '[ship]\nmax_age = 1d\n' >> "$T/ig.ini"
kill -HUP "$IG_PID"
check "the reload is done" wait_for 10 grep -q "configuration reloaded" "$IG_LOG"
code=$(post /v1/events/t --data-binary "$two")
check "after a reload to 1d ingest refuses it (got $code)" test "$code" = 400
check "naming the new window" answer_is \
	"'older than the age window of 23h50m' in a['errors'][0]['error']"
stop_ingest

write_config "$T/c.ini"
timeout 60 "$SP" run -c "$T/c.ini" --until-empty 2>"$T/run.log"
rc=$?
check "run delivers what append accepted (exit $rc)" test "$rc" -eq 0
check "the accepted event arrived" ids_complete 2 1
check "none was dead-lettered on arrival" \
	test "$(stats_of -s "$T/spool" dead_total)" -eq 0

# --- -c FILE: the file's spool and window -----------------------------
{
	echo "[spool]"
	echo "path = $T/cspool"
	echo "[ship]"
	echo "url = http://127.0.0.1:$MOCK_PORT/v1/events/{table}"
	echo "max_age = 1h"
	echo "age_margin = 15m"
} > "$T/custom.ini"
printf '%s\n%s\n' "$(ev 3000 10)" "$(ev 2400 11)" |
	"$SP" append -c "$T/custom.ini" -t t 2>"$T/c.err"
rc=$?
check "append -c: the file's window (exit $rc)" test "$rc" -eq 3
check "append -c names it (45m)" \
	grep -q -- "-:1: __time .* is older than the age window of 45m (max_age less age_margin)" "$T/c.err"
check "stats -c finds the file's spool" \
	test "$(stats_of -c "$T/custom.ini" pending_events)" -eq 1
check "no ./spool was made" test ! -e "$T/work/spool"
# Options on the command line win over the file: here into another spool
# (the shipper of custom.ini would expire this event on arrival).
ev 3000 12 | "$SP" append --config="$T/custom.ini" -s "$T/ospool" -t t \
	--age-margin 5m 2>/dev/null
check "--age-margin and -s win over the file (exit $?)" \
	test "$(stats_of --config "$T/custom.ini" -s "$T/ospool" \
		pending_events)" -eq 1
check "the file's spool did not get it" \
	test "$(stats_of -c "$T/custom.ini" pending_events)" -eq 1
timeout 60 "$SP" run -c "$T/custom.ini" --until-empty 2>>"$T/run.log"
check "run ships it (exit $?)" ids_complete 11 1
check "none dead-lettered" \
	test "$(stats_of -c "$T/custom.ini" dead_total)" -eq 0

# --- the key file and every subcommand --------------------------------
"$SP" keygen "$T/k" >/dev/null
{
	echo "[spool]"
	echo "path = $T/espool"
	echo "encryption_key_file = $T/k"
} > "$T/enc.ini"
ev 60 20 | "$SP" append -c "$T/enc.ini" -t t 2>/dev/null
check "append -c: encrypted with the file's key" test $? -eq 0
check "peek -c reads it" sh -c "'$SP' peek -c '$T/enc.ini' | grep -q '\"id\":20'"
"$SP" -s "$T/espool" peek >/dev/null 2>&1
check "peek without the key: exit 6" test $? -eq 6
"$SP" verify -c "$T/enc.ini" >/dev/null
check "verify -c (exit $?)" test $? -eq 0
"$SP" dead list -c "$T/enc.ini" >/dev/null
check "dead list -c (exit $?)" test $? -eq 0
"$SP" stats --watch --count 1 -c "$T/enc.ini" >/dev/null
check "stats --watch -c (exit $?)" test $? -eq 0
"$SP" compact -c "$T/enc.ini" >/dev/null
check "compact -c (exit $?)" test $? -eq 0
"$SP" salvage -c "$T/enc.ini" "$T/salvaged" >/dev/null
check "salvage -c FILE DST: SRC from the file (exit $?)" test $? -eq 0
check "the salvaged copy holds the event" sh -c \
	"'$SP' -k '$T/k' -s '$T/salvaged' peek | grep -q '\"id\":20'"

# --- a bad file ---------------------------------------------------------
printf '[spool]\nbogus = 1\n' > "$T/bad.ini"
for cmd in "append" "stats" "peek" "verify" "dead list" "compact"; do
	# shellcheck disable=SC2086
	"$SP" $cmd -c "$T/bad.ini" </dev/null >/dev/null 2>"$T/bad.err"
	rc=$?
	check "$cmd -c BAD: exit 2 (got $rc)" test "$rc" -eq 2
	check "$cmd -c BAD: FILE:LINE" grep -q "^$T/bad.ini:2: " "$T/bad.err"
done
"$SP" stats -c 2>/dev/null
check "-c without FILE: exit 2" test $? -eq 2
finish
