#!/usr/bin/env bash
# 0003: several `spoolship append` processes on one spool at once: every
# event of every process is there afterwards, once, and verify is clean.
# (make bench runs the full-size version: 4 x 250,000.)
. "$(dirname "$0")/lib.sh"
PER=${PER:-5000}
ROUNDS=${ROUNDS:-3}
for p in 0 1 2 3; do
	gen_events $((p * 1000000)) "$PER" > "$T/in.$p"
done
# Each round starts from no spool, so the four also race to create it.
for r in $(seq 1 "$ROUNDS"); do
	S="$T/spool.$r"
	for p in 0 1 2 3; do
		"$SP" -s "$S" append -t shared "$T/in.$p" 2>"$T/err.$p" &
		_pids+=($!)
	done
	rc=0
	for pid in "${_pids[@]}"; do wait "$pid" || rc=1; done
	_pids=()
	check "round $r: all appenders exit 0" test "$rc" -eq 0
	[ "$rc" -eq 0 ] || cat "$T"/err.*
	"$SP" -s "$S" peek -t shared -n 0 | python3 -c '
import json, sys
ids = [json.loads(l)["id"] for l in sys.stdin]
per = int(sys.argv[1])
want = {p * 1000000 + i for p in range(4) for i in range(per)}
assert len(ids) == len(set(ids)), "duplicates"
assert set(ids) == want, "missing %d" % len(want - set(ids))
' "$PER"
	check "round $r: every event present exactly once" test $? -eq 0
	check "round $r: verify clean" "$SP" -s "$S" verify
	check "round $r: appended_total matches" bash -c "'$SP' -s '$S' stats --json | python3 -c 'import json,sys; assert json.load(sys.stdin)[\"appended_total\"] == 4 * $PER'"
done
finish
