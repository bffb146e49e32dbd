#!/usr/bin/env bash
# 0420: encryption at rest.  `keygen` writes a 0600 key and never
# overwrites; with [spool] encryption_key_file (or -k) events from the CLI
# and the ingest endpoint are sealed on disk (their text is not in the data
# file) and reach the receiver as written; a badly protected key file, a
# wrong key and a missing key are each refused with their own message and
# exit 6; verify with the key finds a record tampered with behind a
# recomputed CRC, dead export opens sealed events.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ship.sh"
. "$(dirname "$0")/lib_ingest.sh"
MARK=ENC0420_PLAINTEXT_MARKER
gen_marked() { gen_events "$1" "$2" "$MARK"; }
quiet() { "$@" >/dev/null; }

expect_exit "keygen exits 0" 0 quiet "$SP" keygen "$T/key"
check "key is 32 bytes, mode 0600" test "$(stat -c '%s %a' "$T/key")" = "32 600"
expect_exit "keygen never overwrites" 1 "$SP" keygen "$T/key" 2>"$T/err"
check "  and says why" grep -q 'File exists' "$T/err"
"$SP" keygen "$T/other" >/dev/null

# The CLI: sealed on disk, readable with the key.
gen_marked 1 500 > "$T/a"
expect_exit "append with -k" 0 "$SP" -s "$T/spool" -k "$T/key" append -t wiki "$T/a" 2>/dev/null
check "event text not in the data file" bash -c "! grep -q $MARK '$T/spool/data.mdb'"
check "peek with the key shows the event" bash -c \
	"'$SP' -s '$T/spool' -k '$T/key' peek -n 1 | grep -q $MARK"
expect_exit "peek without the key: exit 6" 6 "$SP" -s "$T/spool" peek 2>"$T/err"
check "  says the key is needed" grep -q 'encryption key is needed' "$T/err"
expect_exit "append without the key: exit 6" 6 "$SP" -s "$T/spool" append -t wiki "$T/a" 2>"$T/err"
check "  says the key is needed" grep -q 'encryption key is needed' "$T/err"
expect_exit "the wrong key: exit 6" 6 "$SP" -s "$T/spool" -k "$T/other" peek 2>"$T/err"
check "  says it is the wrong key" grep -q 'wrong encryption key' "$T/err"
SPOOLSHIP_KEY_FILE="$T/key" expect_exit "SPOOLSHIP_KEY_FILE works too" 0 \
	quiet "$SP" -s "$T/spool" verify
chmod 0644 "$T/key"
expect_exit "a world-readable key: exit 6" 6 "$SP" -s "$T/spool" -k "$T/key" peek 2>"$T/err"
check "  names the file and mode" grep -q "key' has mode 0644" "$T/err"
chmod 0600 "$T/key"
expect_exit "stats needs no key" 0 quiet "$SP" -s "$T/spool" stats

# The daemon: config checks, then shipping with ingest on.
start_mock --rpm 0
write_config "$T/c.ini" "[spool]" "encryption_key_file = $T/key"
expect_exit "check-config OK with the key" 0 "$SP" run -c "$T/c.ini" --check-config
chmod 0640 "$T/key"
expect_exit "check-config refuses a group-readable key: exit 2" 2 \
	"$SP" run -c "$T/c.ini" --check-config 2>"$T/err"
check "  naming the key" grep -q 'encryption_key_file: encryption key file .* has mode 0640' "$T/err"
chmod 0600 "$T/key"
sed "s|$T/key|$T/other|" "$T/c.ini" > "$T/wrong.ini"
expect_exit "run with the wrong key: exit 6" 6 "$SP" run -c "$T/wrong.ini" --until-empty 2>"$T/err"
check "  logs the wrong key" grep -q 'wrong encryption key' "$T/err"

# Ingest into the sealed spool while the shipper ships.
SHIP_URL="http://127.0.0.1:$MOCK_PORT/v1/events/{table}" \
	ingest_config "$T/ig.ini" "[spool]" "encryption_key_file = $T/key"
start_ingest "$T/ig.ini"
gen_marked 1000 300 > "$T/b"
check "ingest 200" test "$(post /v1/events/wiki --data-binary @"$T/b")" = 200
check "every event arrives" wait_for 60 mock_stat_eq events_accepted 800
check "no duplicates" mock_stat_eq duplicates 0
check "ids from the CLI" ids_complete 1 500
check "ids from ingest" ids_complete 1000 300
stop_ingest
check "daemon exits 0" test "$IG_RC" -eq 0

# A full encrypted spool: batches are sealed by their own thread ahead of
# the commit; the batch that does not fit and every one after it (sealed
# already) stay out, and the summary counts exactly what is in the spool.
gen_marked 1 30000 > "$T/many"
expect_exit "encrypted append into a full spool: exit 4" 4 "$SP" -s "$T/fullenc" \
	-k "$T/key" append -t t --max-bytes 3M "$T/many" 2>"$T/err"
acc=$(sed -n 's/^accepted \([0-9]*\),.*/\1/p' "$T/err")
check "  some batches fit, not all" test "${acc:-0}" -gt 0 -a "${acc:-0}" -lt 30000
check "  says where the input stopped" grep -q "many:$((acc + 1)): spool is full.*: $acc events before" "$T/err"
"$SP" -s "$T/fullenc" -k "$T/key" peek -n 0 -t t |
	grep -o '"id":[0-9]*' | cut -d: -f2 | sort -n > "$T/ids"
check "  the spool holds exactly the accepted ones, the input's first" \
	test "$(wc -l < "$T/ids")" -eq "$acc" -a "$(tail -n 1 "$T/ids")" -eq "$acc"
expect_exit "  verify with the key: clean" 0 quiet "$SP" -s "$T/fullenc" -k "$T/key" verify

# Tampering behind a recomputed CRC: verify with the key names it.
gen_marked 5000 3 | "$SP" -s "$T/spool" -k "$T/key" append -t wiki 2>/dev/null
"$TOOL" tamper "$T/spool" "$T/key" wiki 2 >/dev/null 2>"$T/err" ||
	{ cat "$T/err"; not_ok "spool-tool tamper"; }
expect_exit "verify without the key passes the CRC" 0 quiet "$SP" -s "$T/spool" verify 2>"$T/err"
check "  and says it could not authenticate" grep -q 'checked by CRC only' "$T/err"
expect_exit "verify with the key: exit 5" 5 "$SP" -s "$T/spool" -k "$T/key" verify >"$T/v" 2>&1
check "  names the tampered record" grep -q 'fails authentication' "$T/v"

# Dead letters stay sealed; export opens them.
curl -s -X POST "http://127.0.0.1:$MOCK_PORT/control/reset" >/dev/null
stop_mock
start_mock --rpm 0 --fail-status 400:1
write_config "$T/d.ini" "[spool]" "encryption_key_file = $T/key"
timeout 60 "$SP" run -c "$T/d.ini" --until-empty 2>>"$T/run.log"
"$SP" -s "$T/spool" -k "$T/key" dead export -o "$T/dead.ndjson" 2>/dev/null
check "dead export opens sealed events" grep -q "$MARK" "$T/dead.ndjson"
check "  both sound ones (the tampered one stays)" test "$(grep -c "$MARK" "$T/dead.ndjson")" -eq 2
check "dead events are not in the clear on disk" bash -c \
	"! grep -q '\"id\":5000,' '$T/spool/data.mdb'"
finish
