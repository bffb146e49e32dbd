#!/usr/bin/env bash
# 0711: a full disk for real.  The spool lives on an 8 MiB tmpfs with a
# 64 MiB budget, so the filesystem fills, not the budget.  With the
# receiver away the ingest endpoint answers 503 (Retry-After) once it is
# full, `spoolship append` exits 4, nothing accepted is lost and the spool
# verifies, and a new spool there is refused without a crash; once the
# receiver is back the shipper frees the space and the same daemon takes
# requests again.  Needs root (mount); else skipped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ingest.sh"
with_tmpfs 8m

SPOOL_DIR="$MNT/spool"
export SPOOL_DIR
MPORT=$(free_port)
SHIP_URL="http://127.0.0.1:$MPORT/v1/events/{table}" ingest_config \
	"$T/c.ini" "[spool]" "max_bytes = 64M" "full_policy = reject"
start_ingest "$T/c.ini"
pad=$(head -c 1000 /dev/zero | tr '\0' 'p')
avail_kb() { df -Pk "$MNT" | awk 'NR == 2 { print $4 }'; }
sanitizer_quiet() { ! grep -qE 'Sanitizer|runtime error:' "$@"; }

# Requests of 100 events (~110 KB) until one is refused.
fill_until_503 150 "$pad"
echo "filled: ${#oks[@]} requests taken, $(avail_kb) KiB left"
check "requests were taken first (${#oks[@]})" test "${#oks[@]}" -ge 5
check "a full filesystem answers 503" test "$got503" -eq 1
check "503 carries Retry-After" grep -qi '^retry-after: [0-9]' "$T/headers"
check "503 says spool full" answer_is '"full" in a["message"]'
check "the filesystem filled, not the budget (< 1 MiB left)" \
	test "$(avail_kb)" -lt 1024
check "... with the spool's pages far below the 64 MiB budget" \
	test "$(spool_total used_bytes)" -lt $((16 << 20))
check "full logged as an error" grep -q 'spool is not writable' "$IG_LOG"
# /healthz must say so too (a load balancer takes the instance out): its
# probe writes for real when the filesystem is almost full.
# It must stay 503 across several probes (PROBE_MS apart), not only
# until the first probe finds room in LMDB's map.
check "/healthz answers 503 while the filesystem is full" stays_503 20

# Another producer, the CLI, meanwhile: 1,000 events (1.1 MB) do not fit.
gen_events 500001 1000 "$pad" > "$T/big"
"$SP" -s "$SPOOL_DIR" append -t full --max-bytes 64M "$T/big" \
	2>"$T/append.err"
rc=$?
check "spoolship append on a full disk: exit 4 (got $rc)" test "$rc" -eq 4
check "... saying the spool is full" grep -q 'spool is full' "$T/append.err"
check "nothing refused is in the spool" \
	test "$(spool_pending full)" -eq $(( ${#oks[@]} * 100 ))
"$SP" -s "$SPOOL_DIR" peek -n 0 -t full | grep -o '"id":[0-9]*' |
	cut -d: -f2 | sort -u > "$T/have"
missing=0
for f in "${oks[@]}"; do
	for i in $(seq "$f" $((f + 99))); do echo "$i"; done
done | sort > "$T/acked"
missing=$(comm -23 "$T/acked" "$T/have" | wc -l)
check "every event answered 200 is in the spool ($missing missing)" \
	test "$missing" -eq 0
check "verify is clean on the full disk" \
	"$SP" -s "$SPOOL_DIR" verify
check "the daemon is still running" kill -0 "$IG_PID"
# A new spool on the full filesystem: refused, not a crash (LMDB's lock
# file used to take a SIGBUS when written through its map).
echo '{"__time":"'"$(now_iso)"'","id":1}' |
	"$SP" -s "$MNT/new" append -t t 2>"$T/new.err"
rc=$?
# Refused at the open (exit 1) or, when the few KiB the reserve for the
# first spool's deletes left were enough to create it, at the append
# (exit 4); either says full.
check "a new spool on the full disk: exit 1 or 4, no crash (got $rc)" \
	test "$rc" -eq 1 -o "$rc" -eq 4
check "... saying why" grep -qE 'cannot open spool.*full|spool is full' \
	"$T/new.err"
rm -rf "$MNT/new"

# The receiver comes back: shipping frees space inside the data file (the
# file does not shrink; LMDB reuses the pages).
"$MOCK" --port "$MPORT" --rpm 0 2>>"$T/mock.log" &
MOCK_PID=$!
_pids+=("$MOCK_PID")
drained() { [ "$(spool_pending full)" -eq 0 ]; }
check "the shipper drains the full spool" wait_for 90 drained
check "healthy again, without a restart" wait_for 30 healthy
gen_events "$first" 100 "$pad" > "$T/req"
code=$(post /v1/events/full --data-binary @"$T/req")
check "the same daemon takes requests again: 200 (got $code)" \
	test "$code" = 200
oks+=("$first")
"$SP" -s "$SPOOL_DIR" append -t full --max-bytes 64M "$T/big" 2>/dev/null
rc=$?
check "spoolship append works again (exit $rc)" test "$rc" -eq 0
all_arrived() {
	curl -s --max-time 5 "http://127.0.0.1:$MPORT/ids" | python3 -c '
import sys
firsts = [int(x) for x in sys.argv[1:]]
have = {l.strip() for l in sys.stdin if l.strip()}
sys.exit(0 if all(str(i) in have for f in firsts for i in range(f, f + 100))
         else 1)' "${oks[@]}" 500001 500101 500201 500301 500401 500501 \
		500601 500701 500801 500901
}
check "every event answered 200 (and the CLI's) arrived" \
	wait_for 90 all_arrived
stop_ingest
check "SIGTERM exits 0 (got $IG_RC)" test "$IG_RC" -eq 0
check "no sanitizer report" sanitizer_quiet "$T"/run.*.log
kill -TERM "$MOCK_PID" 2>/dev/null && wait "$MOCK_PID" 2>/dev/null
finish
