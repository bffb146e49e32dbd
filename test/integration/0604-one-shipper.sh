#!/usr/bin/env bash
# 0604: one shipper per spool.  While a `spoolship run` serves a spool, a
# second one (the same config, or another naming the spool through a
# symlink and a trailing slash, with an ingest port) refuses to start
# with exit 8 and a message naming the spool and the first one's pid,
# binds nothing and sends nothing: after the first drains, every id has
# arrived and none twice.  kill -9 of the holder releases the lock: a
# restart at once starts and ships.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ship.sh"
N=2000
outage_with_events "$N" "$T/a.ini"
ln -s "$T/spool" "$T/link"
{
	echo "[spool]"
	echo "path = $T/link/"
	echo "[ship]"
	echo "url = http://127.0.0.1:$MOCK_PORT/v1/events/{table}"
	echo "linger = 50ms"
	echo "backoff_min = 20ms"
	echo "backoff_max = 200ms"
	echo "[ingest]"
	echo "listen = 127.0.0.1:0"
} > "$T/b.ini"

# The first shipper: the outage keeps every event pending meanwhile, so a
# second shipper would have them all to send too.
start_run "$T/a.ini"
first=$RUN_PID
check "the first run ships (answered 503 during the outage)" \
	wait_for 20 mock_stat_ge by_status.503 1
spool=$(realpath "$T/spool")

# second NAME CONFIG: a second `run`, given 10 s to give up; its exit
# code and how long it took (ms) land in $T/NAME.rc ("running" if it
# did not: it is left running, and killed at the end).
second() {
	local n=$1 c=$2 pid t0 rc
	t0=$(date +%s%N)
	"$SP" run -c "$c" 2>"$T/$n.log" &
	pid=$!
	_pids+=("$pid")
	if wait_for 10 sh -c "! kill -0 $pid 2>/dev/null"; then
		wait "$pid"
		rc=$?
		echo "$rc $(( ($(date +%s%N) - t0) / 1000000 ))" > "$T/$n.rc"
	else
		echo "running" > "$T/$n.rc"
	fi
}
for n in same:a other:b; do
	name=${n%%:*}
	second "$name" "$T/${n#*:}.ini"
	read -r rc ms < "$T/$name.rc"
	echo "# second run ($name config): exit $rc after ${ms:-?} ms"
	check "$name config: refused with exit 8 (got $rc)" test "$rc" = 8
	check "$name config: refused within 10 s" test "${ms:-99999}" -lt 10000
	check "$name config: the message names the spool and the holder" \
		grep -q "the spool is served by another spoolship run, not starting spool=$spool pid=$first" "$T/$name.log"
done
check "the refused run never bound its ingest port" \
	sh -c "test -s '$T/other.log' && ! grep -q 'ingest listening' '$T/other.log'"
check "the first run still runs" kill -0 "$first"

rm -f "$OUT"
check "after the outage every id arrives" wait_for 60 ids_complete 1 "$N"
check "the spool drains" wait_for 30 pending_is 0
dups=$(mock_stat duplicates)
echo "# duplicates at the receiver: $dups"
check "no duplicates: only one shipper sent ($dups)" test "$dups" -eq 0

# kill -9: the kernel releases the lock; a restart starts at once.
kill -9 "$first"
wait "$first" 2>/dev/null
RUN_PID=""
: > "$T/run.log"
start_run "$T/a.ini"
check "a restart right after kill -9 starts" \
	wait_for 10 grep -q "shipping spool=" "$T/run.log"
check "and is not refused" \
	sh -c "! grep -q 'served by another' '$T/run.log'"
check "ship.lock names the new holder" \
	test "$(tr -d " " < "$T/spool/ship.lock")" = "$RUN_PID"
gen_events $((N + 1)) 100 | "$SP" -s "$T/spool" append -t t 2>/dev/null
check "it ships what comes next" wait_for 30 ids_complete 1 $((N + 100))
check "still no duplicates" mock_stat_eq duplicates 0
stop_run
check "SIGTERM exits 0" test "$RUN_RC" -eq 0
finish
