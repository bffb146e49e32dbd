#!/usr/bin/env bash
# 0600: `spoolship run` speaks the sd_notify protocol without systemd: a
# datagram socket stands in for the manager.  READY=1 once shipping,
# WATCHDOG=1 at half of WATCHDOG_USEC (and never for another WATCHDOG_PID),
# RELOADING=1 then READY=1 around SIGHUP, STATUS= with the pending count,
# STOPPING=1 on SIGTERM, exit 0; abstract socket names ('@') work too.
# test-serial: the watchdog interval is measured
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ship.sh"
LISTEN_PID=""

# listen NAME OUT: a datagram socket at NAME ('@x' = abstract) whose
# messages go to OUT, one "monotonic-seconds KEY=value" line per field.
listen() {
	rm -f "$2" "$2.up"
	python3 -c '
import socket, sys, time
name, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + name[1:] if name.startswith("@") else name)
open(out + ".up", "w").close()
with open(out, "a", buffering=1) as f:
    while True:
        d = s.recv(8192).decode()
        for line in d.split("\n"):
            f.write("%.3f %s\n" % (time.monotonic(), line))' "$1" "$2" &
	LISTEN_PID=$!
	_pids+=("$LISTEN_PID")
	wait_for 10 test -e "$2.up" || { echo "listener did not start"; exit 1; }
}
count() { grep -c " $1\$" "$2" 2>/dev/null || true; }
has() { grep -q " $1" "$2"; }
# The largest gap between two WATCHDOG=1 lines, in ms.
max_gap_ms() {
	awk '$2 == "WATCHDOG=1" { if (p) { g = ($1 - p) * 1000; if (g > m) m = g }
		p = $1 } END { printf "%d\n", m }' "$1"
}

start_mock --rpm 0
write_config "$T/c.ini"
gen_events 1 50 | "$SP" -s "$T/spool" append -t t 2>/dev/null

# A socket path, a watchdog of 200 ms.
N="$T/notify.log"
listen "$T/notify.sock" "$N"
NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=200000 \
	"$SP" run -c "$T/c.ini" 2>>"$T/run.log" &
RUN_PID=$!
_pids+=("$RUN_PID")
check "READY=1 arrives" wait_for 20 has 'READY=1' "$N"
check "READY comes with a STATUS" has 'STATUS=shipping' "$N"
check "watchdog enabled is logged" grep -q 'watchdog enabled interval_ms=100' "$T/run.log"
# Awaited, not timed: make check holds no timing assertions (a loaded
# CI machine must not fail it); the gap is printed for the reader.
wd_at_least() { [ "$(count 'WATCHDOG=1' "$N")" -ge "$1" ]; }
check "WATCHDOG=1 repeats" wait_for 20 wd_at_least 8
echo "largest gap between WATCHDOG=1: $(max_gap_ms "$N") ms (interval 100 ms)"
check "the events are shipped meanwhile" wait_for 20 ids_complete 1 50
check "a periodic STATUS names the pending count" \
	wait_for 10 grep -q 'STATUS=shipping: 0 pending, 50 shipped' "$N"
kill -HUP "$RUN_PID"
check "SIGHUP: RELOADING=1" wait_for 10 has 'RELOADING=1' "$N"
check "SIGHUP: MONOTONIC_USEC with it" has 'MONOTONIC_USEC=' "$N"
check "SIGHUP: READY=1 again after it" \
	wait_for 10 sh -c "awk '/RELOADING=1/ { r = 1 } r && /READY=1/ { f = 1 } END { exit !f }' '$N'"
stop_run
check "SIGTERM exits 0" test "$RUN_RC" -eq 0
check "STOPPING=1 on SIGTERM" wait_for 5 has 'STOPPING=1' "$N"
kill "$LISTEN_PID" 2>/dev/null; wait "$LISTEN_PID" 2>/dev/null

# An abstract socket, and a watchdog meant for another process.
N2="$T/notify2.log"
name="@spoolship-test-$$-$RANDOM"
listen "$name" "$N2"
NOTIFY_SOCKET="$name" WATCHDOG_USEC=200000 WATCHDOG_PID=1 \
	"$SP" run -c "$T/c.ini" 2>>"$T/run2.log" &
RUN_PID=$!
_pids+=("$RUN_PID")
check "abstract socket: READY=1" wait_for 20 has 'READY=1' "$N2"
sleep 0.6
check "WATCHDOG_PID of another process: no WATCHDOG=1" \
	test "$(count 'WATCHDOG=1' "$N2")" -eq 0
stop_run
check "abstract socket: STOPPING=1" wait_for 5 has 'STOPPING=1' "$N2"
check "abstract socket: SIGTERM exits 0" test "$RUN_RC" -eq 0
kill "$LISTEN_PID" 2>/dev/null; wait "$LISTEN_PID" 2>/dev/null

# Nobody listening: a warning, and shipping goes on.
NOTIFY_SOCKET="$T/nobody.sock" "$SP" run -c "$T/c.ini" 2>>"$T/run3.log" &
RUN_PID=$!
_pids+=("$RUN_PID")
gen_events 100 20 | "$SP" -s "$T/spool" append -t t 2>/dev/null
check "no listener: still ships" wait_for 20 ids_complete 100 20
check "no listener: warned" grep -q 'cannot notify the service manager' "$T/run3.log"
stop_run
check "no listener: SIGTERM exits 0" test "$RUN_RC" -eq 0
stop_mock
finish
