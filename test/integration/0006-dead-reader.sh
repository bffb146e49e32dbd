#!/usr/bin/env bash
# 0006: a reader killed while it holds a read transaction (kill -9 of a
# `peek`, a monitoring script, a crashed shipper) leaves its LMDB reader
# slot behind, pinning the snapshot it read: pages freed after it cannot
# be reused and the data file would grow with every append/ship round.
# LMDB resets its reader table when a process opens the environment
# alone, so the slot matters while another process keeps it open (here a
# keeper, as a running shipper would).  Every open clears slots of dead
# processes (mdb_reader_check), so the file stays bounded.  Control: with
# the holder alive the file does grow, which shows the test can see the
# difference.
. "$(dirname "$0")/lib.sh"
size() { stat -c %s "$T/spool/data.mdb"; }
round() { # append 5000 events, then ship (delete) them all
	gen_events "$1" 5000 > "$T/ev"
	"$SP" -s "$T/spool" append -t t "$T/ev" 2>/dev/null &&
		"$TOOL" ship "$T/spool" t >/dev/null
}
hold() { # starts a reader holding a txn; HOLDER gets its pid
	"$TOOL" hold-read "$T/spool" > "$T/hold.out" &
	HOLDER=$!
	_pids+=("$HOLDER")
	wait_for 10 grep -q holding "$T/hold.out"
}
round 1 || { not_ok "first round"; finish; }
base=$(size)
"$TOOL" hold-read "$T/spool" open-only > "$T/keeper.out" &
_pids+=("$!")
wait_for 10 grep -q holding "$T/keeper.out" || { not_ok "keeper"; finish; }

# Control: a live reader pins its snapshot, so rounds take new pages.
hold || { not_ok "reader started"; finish; }
for i in 1 2 3 4; do round $((i * 10000)); done
pinned=$(size)
kill -9 "$HOLDER"; wait "$HOLDER" 2>/dev/null
check "a live reader makes the file grow ($base -> $pinned)" \
	test "$pinned" -gt $((base * 2))

# The same with the reader killed first: its slot is cleared at the next
# open, and the rounds reuse the freed pages.
hold || { not_ok "reader started"; finish; }
kill -9 "$HOLDER"; wait "$HOLDER" 2>/dev/null
before=$(size)
for i in 1 2 3 4 5 6 7 8; do round $((100000 + i * 10000)); done
after=$(size)
check "a dead reader's slot does not pin pages ($before -> $after)" \
	test "$after" -le $((before + base))
check "verify is clean" "$SP" -s "$T/spool" verify
finish
