#!/usr/bin/env bash
# 0601: [run] pid_file.  Written (atomically: no temporary file is left)
# once the shipper runs, removed on exit; a second `spoolship run` naming
# the same pid file refuses to start while the first lives (on the same
# spool ship.lock refuses it first, exit 8); a stale file (dead process,
# or a pid reused by another program) is replaced with a warning.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ship.sh"
P="$T/run/spoolship.pid"
mkdir -p "$T/run"
start_mock --rpm 0
write_config "$T/c.ini" "[run]" "pid_file = $P"

start_run "$T/c.ini"
check "pid file written" wait_for 20 test -s "$P"
check "it holds the daemon's pid" test "$(cat "$P")" = "$RUN_PID"
check "no temporary file left beside it" \
	test "$(ls "$T/run" | wc -l)" -eq 1
first=$RUN_PID

# refused NAME CONFIG CODE WORDS: a second run with CONFIG exits CODE
# at once, its log (NAME.log) saying WORDS ... pid=<the first one>.
refused() {
	"$SP" run -c "$2" 2>"$T/$1.log"
	local rc=$?
	check "$1: refused (exit $rc, want $3)" test "$rc" -eq "$3"
	check "$1: it says why" grep -q "$4.*pid=$first" "$T/$1.log"
}
# The same config: the spool's ship.lock refuses it first (exit 8,
# 0604); the pid file is not even looked at.
refused same "$T/c.ini" 8 "served by another spoolship run, not starting"
# The same pid file for another spool: the pid file refuses it, exit 1.
write_config "$T/d.ini" "[run]" "pid_file = $P"
sed -i "s|^path = .*|path = $T/spool2|" "$T/d.ini"
refused other-spool "$T/d.ini" 1 "another spoolship is running, not starting"
check "the first one's pid file is untouched" test "$(cat "$P")" = "$first"
check "the first one still runs" kill -0 "$first"
gen_events 1 30 | "$SP" -s "$T/spool" append -t t 2>/dev/null
check "and still ships" wait_for 20 ids_complete 1 30

stop_run
check "SIGTERM exits 0" test "$RUN_RC" -eq 0
check "pid file removed on exit" test ! -e "$P"

# A stale file: its process is gone.
sh -c 'exit 0' & dead=$!
wait "$dead"
echo "$dead" > "$P"
start_run "$T/c.ini"
check "stale (dead pid): starts and takes it over" \
	wait_for 20 sh -c "test \"\$(cat '$P')\" = $RUN_PID"
check "stale (dead pid): warned" grep -q "replacing a stale pid file .*pid=$dead" "$T/run.log"
stop_run

# A pid reused by a program that is not spoolship.
sleep 60 & other=$!
_pids+=("$other")
echo "$other" > "$P"
start_run "$T/c.ini"
check "stale (pid reused by another program): starts" \
	wait_for 20 sh -c "test \"\$(cat '$P')\" = $RUN_PID"
stop_run
check "exit 0 again" test "$RUN_RC" -eq 0
kill "$other"

# Garbage in the file is not a pid: replaced.
echo "not a pid" > "$P"
start_run "$T/c.ini"
check "garbage: starts" wait_for 20 sh -c "test \"\$(cat '$P')\" = $RUN_PID"
stop_run

# A pid file that cannot be written: exit 1, nothing left running.
write_config "$T/bad.ini" "[run]" "pid_file = $T/no/such/dir/x.pid"
"$SP" run -c "$T/bad.ini" 2>"$T/bad.log"
rc=$?
check "unwritable pid file: exit 1 (got $rc)" test "$rc" -eq 1
check "unwritable pid file: said so" grep -q 'cannot write the pid file' "$T/bad.log"
stop_mock
finish
