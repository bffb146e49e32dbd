#!/usr/bin/env bash
# 0004: kill -9 of appending processes at random moments.  Each appender
# prints "ok ID" only after spoolship_append returned 0 for that event;
# after every kill, verify must be clean and every printed ID present.
. "$(dirname "$0")/lib.sh"
S="$T/spool"
ROUNDS=${ROUNDS:-12}
next=1
for r in $(seq 1 "$ROUNDS"); do
	# Two writers at once, so a kill can land while one waits on the lock.
	"$TOOL" ack-append "$S" k "$next" 100000 full >"$T/ack.$r.a" 2>/dev/null &
	a=$!
	"$TOOL" ack-append "$S" k $((next + 500000)) 100000 full >"$T/ack.$r.b" 2>/dev/null &
	b=$!
	_pids=("$a" "$b")
	# Wait until both have acknowledged something, then a random delay.
	wait_for 20 bash -c "[ -s '$T/ack.$r.a' ] && [ -s '$T/ack.$r.b' ]" ||
		not_ok "round $r: appenders started"
	sleep "0.0$((RANDOM % 9 + 1))"
	kill -9 "$a" "$b" 2>/dev/null
	wait "$a" "$b" 2>/dev/null
	_pids=()
	next=$((next + 1000000))
	if ! "$SP" -s "$S" verify >"$T/verify.$r" 2>&1; then
		not_ok "round $r: verify clean after kill -9"; cat "$T/verify.$r"
	fi
done
ok "verify clean after each of $ROUNDS kill -9 rounds"
cat "$T"/ack.* | sed -n 's/^ok //p' | sort -n > "$T/acked"
"$SP" -s "$S" peek -t k -n 0 | python3 -c '
import json, sys
have = {json.loads(l)["id"] for l in sys.stdin}
acked = [int(x) for x in open(sys.argv[1])]
missing = [i for i in acked if i not in have]
assert acked, "nothing acknowledged"
assert not missing, "acknowledged but missing: %s" % missing[:10]
print("acknowledged %d, present %d" % (len(acked), len(have)))
' "$T/acked"
check "every acknowledged append survived" test $? -eq 0
finish
