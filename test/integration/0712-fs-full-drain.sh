#!/usr/bin/env bash
# 0712: a full filesystem must never wedge the spool.  The spool lives on
# a 16 MiB tmpfs with a 64 MiB budget, so the filesystem fills, not the
# budget.  With the receiver down, `spoolship append` fills it until it
# exits 4 saying the filesystem refused, and the ingest endpoint of a
# running `spoolship run` answers 503 + Retry-After.  Then the receiver
# comes back: the shipper's deletes after each 2xx must find room (LMDB
# needs fresh pages even to delete), so the spool drains without a
# restart, while two producers (the CLI and ingest) keep appending and
# are taken again by themselves as shipping frees pages.  Every accepted
# id arrives, duplicates stay within the bound of docs/delivery.md, and
# `verify` is clean.  `make check`: with an encrypted spool (0711 fills
# a clear one and drains it); `make chaos` (CHAOS=1): once in the clear,
# once encrypted.  Needs root (mount); else skipped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ingest.sh"
with_tmpfs 16m

pad=$(head -c 1000 /dev/zero | tr '\0' 'p')
avail_kb() { df -Pk "$MNT" | awk 'NR == 2 { print $4 }'; }
sanitizer_quiet() { ! grep -qE 'Sanitizer|runtime error:' "$@"; }
# The duplicate bound of docs/delivery.md per crash, default settings:
# 3 x max_in_flight (4) x max_events (60).  There is no crash here.
DUP_BOUND=720

# cli_append FIRST N: appends ids FIRST.. to table cli; adds what it took
# to cli_ranges ("first count"), exit code in cli_rc.
cli_ranges=()
cli_append() {
	gen_events "$1" "$2" "$pad" > "$T/chunk"
	"$SP" -s "$SPOOL_DIR" "${KEYARG[@]}" append -t cli --max-bytes 64M \
		"$T/chunk" 2>"$T/append.err"
	cli_rc=$?
	local n
	n=$(sed -n 's/^accepted \([0-9]*\),.*/\1/p' "$T/append.err")
	[ "${n:-0}" -gt 0 ] && cli_ranges+=("$1 $n")
	return 0
}
# ig_post FIRST: one request of 100 events (ids FIRST..) to table full;
# its status in code, a 200 added to oks.
ig_post() {
	gen_events "$1" 100 "$pad" > "$T/req"
	code=$(post /v1/events/full --data-binary @"$T/req")
	[ "$code" = 200 ] && oks+=("$1")
	return 0
}
# ig_loop FIRST END: requests of 100 events (ids FIRST..) until 5 were
# answered 200 or the clock reaches END; prints each one's first id.
ig_loop() {
	local f=$1 n=0 c
	while [ "$(date +%s)" -lt "$2" ] && [ "$n" -lt 5 ]; do
		gen_events "$f" 100 "$pad" > "$T/req.bg"
		c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 \
			-H 'Content-Type: application/json' \
			--data-binary @"$T/req.bg" "$IG/v1/events/full")
		if [ "$c" = 200 ]; then
			echo "$f"
			n=$((n + 1))
		else
			sleep 0.1
		fi
		f=$((f + 100))
	done
}
# Every id the CLI and ingest were told was taken, one per line.
accepted_ids() {
	local r f n
	for r in "${cli_ranges[@]:-}"; do
		[ -n "$r" ] || continue
		read -r f n <<< "$r"
		seq "$f" $((f + n - 1))
	done
	for f in "${oks[@]:-}"; do
		[ -n "$f" ] && seq "$f" $((f + 99))
	done
}
all_arrived() {
	curl -s --max-time 5 "http://127.0.0.1:$MPORT/ids" | sort -u \
		> "$T/have"
	[ "$(comm -23 "$T/acked" "$T/have" | wc -l)" -eq 0 ]
}
mock_stats() {
	curl -s --max-time 5 "http://127.0.0.1:$MPORT/stats" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}
drained() { [ "$(spool_pending)" -eq 0 ]; }

# scenario NAME [KEYFILE]
scenario() {
	local name=$1 key=${2:-} t0 t1 fails
	SPOOL_DIR="$MNT/spool-$name"
	export SPOOL_DIR
	KEYARG=()
	local extra=("[spool]" "max_bytes = 64M" "full_policy = reject")
	if [ -n "$key" ]; then
		KEYARG=(-k "$key")
		extra+=("encryption_key_file = $key")
	fi
	cli_ranges=() oks=()
	MPORT=$(free_port)
	SHIP_URL="http://127.0.0.1:$MPORT/v1/events/{table}" ingest_config \
		"$T/c.ini" "${extra[@]}"

	# The CLI fills the filesystem until exit 4, before the daemon runs:
	# no reader of its then pins pages that later become free, so what
	# the deletes find is only what the spool keeps for them.
	local next=1000000 i
	for i in $(seq 1 40); do
		cli_append "$next" 1000
		next=$((next + 1000))
		[ "$cli_rc" -eq 0 ] || break
	done
	# Another writer of that filesystem (a log, say) takes what is left,
	# then small appends use up the pages the last failed commit left
	# in the data file, as a steady trickle of producers would.
	head -c 32M /dev/zero > "$MNT/other-$name" 2>/dev/null
	local size
	for size in 10 1; do
		for i in $(seq 1 400); do
			cli_append "$next" "$size"
			next=$((next + size))
			[ "$cli_rc" -eq 0 ] || break
		done
	done
	check "$name: spoolship append on the full filesystem exits 4" \
		test "$cli_rc" -eq 4
	check "$name: ... saying the filesystem refused, not the budget" \
		grep -q 'the filesystem refused' "$T/append.err"
	check "$name: the filesystem filled (< 4 MiB left: $(avail_kb) KiB)" \
		test "$(avail_kb)" -lt 4096
	check "$name: ... with the spool far below its 64 MiB budget" \
		test "$(spool_total used_bytes)" -lt $((20 << 20))
	# The daemon on the full filesystem, the receiver down: its ingest
	# endpoint answers 503 + Retry-After.
	start_ingest "$T/c.ini"
	first=1
	for i in $(seq 1 20); do
		ig_post "$first"
		first=$((first + 100))
		[ "$code" = 200 ] || break
	done
	check "$name: ingest answers 503 on the full filesystem ($code)" \
		test "$code" = 503
	check "$name: ... with Retry-After" \
		grep -qi '^retry-after: [0-9]' "$T/headers"
	check "$name: /healthz says 503 too" stays_503 5
	check "$name: ingest logs that the filesystem refused" \
		grep -q 'not writable.*limit=filesystem' "$IG_LOG"

	# The receiver comes back, the same daemon ships.  Two producers at
	# once keep appending while it drains, ingest in the background and
	# the CLI here: refused until deletes freed pages, then taken again,
	# without a restart.
	"$MOCK" --port "$MPORT" --rpm 0 2>>"$T/mock.log" &
	MOCK_PID=$!
	_pids+=("$MOCK_PID")
	t0=$(date +%s%N)
	local cli_ok=0 ig_ok=0 igp end=$(( $(date +%s) + 60 ))
	ig_loop "$first" "$end" > "$T/ig.oks" &
	igp=$!
	while [ "$(date +%s)" -lt "$end" ] && [ "$cli_ok" -lt 5 ]; do
		cli_append "$next" 100
		next=$((next + 100))
		if [ "$cli_rc" -eq 0 ]; then
			cli_ok=$((cli_ok + 1))
		else
			sleep 0.1
		fi
	done
	wait "$igp"
	while read -r f; do oks+=("$f"); ig_ok=$((ig_ok + 1)); done \
		< "$T/ig.oks"
	check "$name: the CLI appends again while it drains ($cli_ok)" \
		test "$cli_ok" -ge 5
	check "$name: ingest takes requests again meanwhile ($ig_ok)" \
		test "$ig_ok" -ge 5
	check "$name: the spool drains without a restart" wait_for 60 drained
	t1=$(date +%s%N)
	echo "# $name: drained $(( (t1 - t0) / 1000000 )) ms after the" \
		"receiver came back"
	check "$name: healthy again" wait_for 30 healthy
	fails=$(grep -c 'deleting acknowledged batches failed' "$IG_LOG")
	echo "# $name: failed delete commits logged: $fails"
	check "$name: deletes did not keep failing ($fails logged)" \
		test "$fails" -le 5
	accepted_ids | sort -u > "$T/acked"
	check "$name: every accepted id arrived ($(wc -l < "$T/acked"))" \
		wait_for 60 all_arrived
	local dups
	dups=$(mock_stats duplicates)
	echo "# $name: not arrived $(comm -23 "$T/acked" "$T/have" | wc -l)," \
		"duplicates $dups, unique $(mock_stats unique_ids)"
	check "$name: duplicates within the bound ($dups <= $DUP_BOUND)" \
		test "$dups" -le "$DUP_BOUND"
	stop_ingest
	check "$name: SIGTERM exits 0 (got $IG_RC)" test "$IG_RC" -eq 0
	check "$name: verify is clean" \
		"$SP" -s "$SPOOL_DIR" "${KEYARG[@]}" verify
	check "$name: no sanitizer report" sanitizer_quiet "$T"/run.*.log
	kill -TERM "$MOCK_PID" 2>/dev/null && wait "$MOCK_PID" 2>/dev/null
	rm -rf "$SPOOL_DIR" "$MNT/other-$name"
}

[ "${CHAOS:-0}" = 1 ] && scenario clear
"$SP" keygen "$T/key" >/dev/null 2>&1
scenario encrypted "$T/key"
finish
