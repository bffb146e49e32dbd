#!/usr/bin/env bash
# tools/soak.sh - the long-running test (`make soak SOAK_MINUTES=N`):
# steady producers (`spoolship append` and the ingest endpoint) feed
# `spoolship run`, which ships to build/mock-polaris answering 10% of
# requests with faults and going through periodic outages; the shipper's
# RSS, descriptors and the spool are sampled, and the run fails on RSS
# growth after warm-up, descriptor growth, or any event the mock never
# received.  Loopback only; bounded by a hard deadline.  docs/soak.md
# says what runs, what is sampled, the bounds and how to read the output.
#
# Knobs (environment): SOAK_MINUTES (60) or SOAK_SECONDS; SOAK_INTERVAL
# (sampling, s); SOAK_RSS_BOUND_KB (2048; "off" to only sample it; a
# sanitizer build is never held to it); SOAK_CLI_RATE (events/s through
# `spoolship append`, 200); SOAK_INGEST_REQUESTS (requests/s of 50
# events to the ingest endpoint, 2); SOAK_MOCK_FAULTS (the mock's fault
# flags); SOAK_SEED; SOAK_DRAIN_SECONDS (120); SOAK_DIR (scratch parent);
# SOAK_OUT (the TSV, $BUILD_DIR/soak.tsv); SOAK_KEEP=1 keeps the scratch
# directory (it is always kept when the run fails).
set -u
B=${BUILD_DIR:?set BUILD_DIR to the build directory}
SP="$B/spoolship"
D=${SOAK_SECONDS:-$(( ${SOAK_MINUTES:-60} * 60 ))}
DRAIN=${SOAK_DRAIN_SECONDS:-120}
HARD=$(( D + DRAIN + 120 ))

# The hard deadline: the whole run under timeout(1); its SIGTERM reaches
# the trap below, which stops everything this script started.
if [ -z "${SOAK_UNDER_DEADLINE:-}" ]; then
	export SOAK_UNDER_DEADLINE=$HARD
	exec timeout -k 15 "$HARD" bash "$0" "$@"
fi

for f in spoolship mock-polaris load-ingest; do
	[ -x "$B/$f" ] || { echo "soak: $B/$f missing (make all)" >&2; exit 2; }
done
if [ "$D" -lt 30 ]; then
	echo "soak: a run of $D s is too short to say anything" >&2
	exit 2
fi

# Scaled schedule: sample every D/60 s (2..10); an outage of P/6 every
# P = D/5 s (12..120), the first at P/2, 503 and frozen in turn; warm-up
# the first 20%, and at least up to a sample after the second outage: the
# spool's high-water mark, and so its share of RSS, depends on the kind.
I=${SOAK_INTERVAL:-$(( D / 60 < 2 ? 2 : (D / 60 > 10 ? 10 : D / 60) ))}
P=$(( D / 5 < 12 ? 12 : (D / 5 > 120 ? 120 : D / 5) ))
L=$(( P / 6 ))
WARM=$(( P / 2 + P + L + I ))
WARM=$(( D / 5 > WARM ? D / 5 : WARM ))
CLI_RATE=${SOAK_CLI_RATE:-200}
IG_REQS=${SOAK_INGEST_REQUESTS:-2}
IG_EVENTS=50
# TCP connections the shipper may hold at once: max_in_flight (4, the
# default) to the mock, the ingest producer's one, one /metrics scrape.
CONN_CEIL=6
IG_FIRST=1000000000
SEED=${SOAK_SEED:-$(( RANDOM * 32768 + RANDOM ))}
FAULTS="--p500 0.03 --p503 0.02 --p429 0.02 --p-drop-before 0.015"
FAULTS="$FAULTS --p-drop-after 0.015 --delay-jitter-ms 40"
FAULTS=${SOAK_MOCK_FAULTS:-$FAULTS}
OUT=${SOAK_OUT:-$B/soak.tsv}
IG_TOKEN="soak-ingest-token-$SEED"
RSS_BOUND=${SOAK_RSS_BOUND_KB:-2048}
SANITIZED=0
if grep -qa '__asan_init' "$SP"; then
	SANITIZED=1
	# ASan's allocator quarantine and shadow make RSS move by megabytes
	# for reasons of its own: sampled and shown, never enforced.
	[ -z "${SOAK_RSS_BOUND_KB:-}" ] && RSS_BOUND=off
fi

W=$(mktemp -d "${SOAK_DIR:-${TMPDIR:-/tmp}}/spoolship-soak-XXXXXX")
pids=()
MOCK_PID="" RUN_PID="" OK=0
cleanup() {
	local p
	[ -n "$MOCK_PID" ] && kill -CONT "$MOCK_PID" 2>/dev/null
	touch "$W/stop"
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ "$OK" -eq 1 ] && [ "${SOAK_KEEP:-0}" != 1 ]; then
		rm -rf "$W"
	else
		echo "soak: scratch directory kept: $W" >&2
	fi
}
trap cleanup EXIT
# forget PID: after its wait, so that cleanup never signals a reused pid.
forget() {
	local p keep=()
	for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	pids=("${keep[@]}")
}
trap 'echo "soak: interrupted (or the hard deadline of $HARD s passed)" >&2
	exit 124' INT TERM

fail_now() {
	echo "soak: FAIL: $*" >&2
	tail -n 20 "$W/run.log" "$W/mock.log" 2>/dev/null >&2
	exit 1
}
now_us() { echo $(( ${EPOCHREALTIME/./} )); }
# sleep_until US: sleeps until the epoch time US (microseconds); pacing of
# the producers and the sampler, not a synchronisation.
sleep_until() {
	local d=$(( $1 - $(now_us) ))
	[ "$d" -gt 0 ] &&
		sleep "$(printf '%d.%06d' $((d / 1000000)) $((d % 1000000)))"
	return 0
}
# wait_for SECONDS COMMAND...: polls COMMAND until it succeeds.
wait_for() {
	local end=$(( $(date +%s) + $1 )); shift
	until "$@"; do
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.1
	done
}

# ---- the mock and the shipper ----------------------------------------------
# shellcheck disable=SC2086
"$B/mock-polaris" --port 0 --port-file "$W/mock.port" --rpm 0 \
	--seed "$SEED" $FAULTS 2>>"$W/mock.log" &
MOCK_PID=$!
pids+=("$MOCK_PID")
wait_for 10 test -s "$W/mock.port" || fail_now "the mock did not start"
MP=$(cat "$W/mock.port")
MOCK="http://127.0.0.1:$MP"

cat >"$W/soak.ini" <<EOF
[spool]
path = $W/spool
[ship]
url = $MOCK/v1/events/{table}
linger = 200ms
timeout = 5s
connect_timeout = 2s
backoff_min = 50ms
backoff_max = 5s
requests_per_minute = 0
shutdown_timeout = 10s
[ingest]
listen = 127.0.0.1:0
token = $IG_TOKEN
[metrics]
listen = 127.0.0.1:0
[log]
level = info
EOF
"$SP" run -c "$W/soak.ini" 2>>"$W/run.log" &
RUN_PID=$!
pids+=("$RUN_PID")
wait_for 30 grep -q 'metrics listening' "$W/run.log" ||
	fail_now "the shipper did not start"
wait_for 30 grep -q 'ingest listening' "$W/run.log" ||
	fail_now "the ingest endpoint did not start"
IG_PORT=$(sed -n 's/.*ingest listening .*port=\([0-9]*\).*/\1/p' \
	"$W/run.log" | head -n 1)
MX_PORT=$(sed -n 's/.*metrics listening .*port=\([0-9]*\).*/\1/p' \
	"$W/run.log" | head -n 1)

printf 'soak: %d s (%s build, %s), sample every %d s, warm-up %d s, ' \
	"$D" "$([ $SANITIZED = 1 ] && echo sanitized || echo release)" "$B" \
	"$I" "$WARM"
printf 'outage %d s every %d s (503 and frozen in turn)\n' "$L" "$P"
printf 'soak: producers %d events/s by spoolship append, %d events/s' \
	"$CLI_RATE" $((IG_REQS * IG_EVENTS))
printf ' by the ingest endpoint; mock faults: %s (seed %s)\n' \
	"$FAULTS" "$SEED"
printf 'soak: shipper pid %d, mock port %d, ingest port %s, ' \
	"$RUN_PID" "$MP" "$IG_PORT"
printf 'metrics port %s, scratch %s\n' "$MX_PORT" "$W"

# ---- producers -------------------------------------------------------------
# Each appends "FIRST COUNT" to its .ok file for what was acknowledged
# (the ids the mock must end up with) and counts failures in its .fail.
gen_events() { # FIRST N: NDJSON with ids FIRST.., stamped now
	awk -v f="$1" -v n="$2" -v t="$(date -u +%Y-%m-%dT%H:%M:%S.000Z)" \
		'BEGIN { for (i = f; i < f + n; i++)
			printf "{\"__time\":\"%s\",\"id\":%d,\"src\":" \
			    "\"cli\",\"pad\":\"soak-soak-soak-soak\"}\n", t, i }'
}
cli_producer() {
	local id=1 t rc
	t=$(now_us)
	while [ ! -e "$W/stop" ]; do
		gen_events "$id" "$CLI_RATE" |
			"$SP" -s "$W/spool" append -t cli >/dev/null 2>>"$W/cli.err"
		rc=$?
		if [ "$rc" -eq 0 ]; then
			echo "$id $CLI_RATE" >>"$W/cli.ok"
		else
			echo "$id $CLI_RATE exit=$rc" >>"$W/cli.fail"
		fi
		id=$((id + CLI_RATE))
		t=$((t + 1000000))
		sleep_until "$t"
	done
}
ingest_producer() {
	local id=$IG_FIRST t
	t=$(now_us)
	while [ ! -e "$W/stop" ]; do
		rm -f "$W/li.ok"
		"$B/load-ingest" -c 1 -n "$IG_REQS" -e "$IG_EVENTS" -i "$id" \
			-t "$IG_TOKEN" -o "$W/li.ok" \
			"http://127.0.0.1:$IG_PORT/v1/events/ingest" \
			>>"$W/ingest.out" 2>>"$W/ingest.err" ||
			echo "$id" >>"$W/ingest.fail"
		[ -f "$W/li.ok" ] && cat "$W/li.ok" >>"$W/ingest.ok"
		id=$((id + IG_REQS * IG_EVENTS))
		t=$((t + 1000000))
		sleep_until "$t"
	done
}
: >"$W/cli.ok"
: >"$W/ingest.ok"
cli_producer &
pids+=($!)
CLI_PID=$!
ingest_producer &
pids+=($!)
IG_PROD_PID=$!

# ---- outages ---------------------------------------------------------------
OUTAGE=none
outage_set() { # none | 503 | frozen
	[ "$1" = "$OUTAGE" ] && return
	case $OUTAGE in
	503) curl -s -o /dev/null --max-time 5 -X POST \
		"$MOCK/control/outage?on=0" ;;
	frozen) kill -CONT "$MOCK_PID" ;;
	esac
	case $1 in
	503) curl -s -o /dev/null --max-time 5 -X POST \
		"$MOCK/control/outage?on=1" ;;
	frozen) kill -STOP "$MOCK_PID" ;;
	esac
	OUTAGE=$1
	[ "$1" != none ] && OUTAGES=$((OUTAGES + 1))
	return 0
}
outage_at() { # SECOND: what the schedule wants then
	local s=$(( $1 - P / 2 ))
	if [ "$s" -ge 0 ] && [ $(( s % P )) -lt "$L" ]; then
		[ $(( (s / P) % 2 )) -eq 0 ] && echo 503 || echo frozen
	else
		echo none
	fi
}
OUTAGES=0

# ---- sampling --------------------------------------------------------------
produced() { # events acknowledged to the producers so far
	cat "$W/cli.ok" "$W/ingest.ok" 2>/dev/null |
		awk '{ n += $2 } END { print n + 0 }'
}
spool_figures() { # used_bytes pending appended_total shipped_total
	"$SP" -s "$W/spool" stats --json 2>/dev/null | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
    print(d["used_bytes"], d["pending_events"], d["appended_total"],
          d["shipped_total"])
except Exception:
    print("- - - -")'
}
# fds.py PID: the shipper's descriptors, in one pass over /proc/PID/fd:
# "total fixed conns": conns are its TCP connections (not listening), to
# the mock or from clients, which come and go with the traffic; fixed is
# everything else (spool files, eventfds, epoll, pipes, listening and
# Unix sockets), which must stay constant once warmed up.
cat >"$W/fds.py" <<'PY'
import os, sys
pid = sys.argv[1]
inodes = {}
for name in ("tcp", "tcp6"):
    try:
        with open("/proc/%s/net/%s" % (pid, name)) as f:
            next(f)
            for line in f:
                p = line.split()
                inodes[p[9]] = p[3]           # inode -> state (0A listen)
    except OSError:
        pass
total = conns = 0
d = "/proc/%s/fd" % pid
for fd in os.listdir(d):
    try:
        t = os.readlink(os.path.join(d, fd))
    except OSError:
        continue                              # closed meanwhile
    total += 1
    if t.startswith("socket:["):
        st = inodes.get(t[8:-1])
        if st is not None and st != "0A":
            conns += 1
print(total, total - conns, conns)
PY
COLS="t_s phase outage rss_kb rss_anon_kb rss_file_kb fds fds_fixed"
COLS="$COLS tcp_conns spool_file_bytes spool_used_bytes pending"
COLS="$COLS appended_total shipped_total produced"
tr ' ' '\t' <<<"$COLS" >"$OUT"
sample() { # SECOND PHASE
	local st rss anon file fds size
	st=/proc/$RUN_PID/status
	[ -r "$st" ] || fail_now "the shipper (pid $RUN_PID) is gone"
	read -r rss anon file < <(awk '/^VmRSS/ { r = $2 } /^RssAnon/ { a = $2 }
		/^RssFile/ { f = $2 } END { print r, a, f }' "$st")
	fds=$(python3 "$W/fds.py" "$RUN_PID")
	size=$(stat -c %s "$W/spool/data.mdb" 2>/dev/null || echo 0)
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" \
		"$OUTAGE" "$rss" "$anon" "$file" "$(tr ' ' '\t' <<<"$fds")" \
		"$size" "$(spool_figures | tr ' ' '\t')" "$(produced)" >>"$OUT"
	# A scrape, as Prometheus would (after the /proc figures, so that
	# its own connection is not counted).
	curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$MX_PORT/metrics" ||
		echo "$1" >>"$W/scrape.fail"
}

# ---- the run ---------------------------------------------------------------
T0=$(now_us)
for (( sec = 0; sec < D; sec++ )); do
	sleep_until $(( T0 + sec * 1000000 ))
	outage_set "$(outage_at "$sec")"
	if [ $(( sec % I )) -eq 0 ]; then
		phase=steady
		[ "$sec" -lt "$WARM" ] && phase=warmup
		sample "$sec" "$phase"
	fi
done
sleep_until $(( T0 + D * 1000000 ))
touch "$W/stop"
wait "$CLI_PID" "$IG_PROD_PID"
forget "$CLI_PID"
forget "$IG_PROD_PID"
outage_set none

# ---- the final drain, the mock healthy -------------------------------------
PRODUCED=$(produced)
drain_t0=$(date +%s)
drained() { [ "$(spool_figures | cut -d' ' -f2)" = 0 ]; }
until drained; do
	now=$(date +%s)
	[ $(( now - drain_t0 )) -ge "$DRAIN" ] && break
	sample $(( D + now - drain_t0 )) drain
	sleep "$I"
done
DRAIN_S=$(( $(date +%s) - drain_t0 ))
sample $(( D + DRAIN_S )) end
drained || echo "soak: the spool did not drain in $DRAIN s" >&2

# Every acknowledged id must be at the mock.
curl -s --max-time 60 "$MOCK/ids" >"$W/ids" || fail_now "GET /ids failed"
curl -s --max-time 10 "$MOCK/stats" >"$W/stats.json" ||
	fail_now "GET /stats failed"
cat "$W/cli.ok" "$W/ingest.ok" >"$W/produced"
python3 - "$W/produced" "$W/ids" "$W/stats.json" >"$W/ids.result" <<'PY'
import json, sys
have = set()
for l in open(sys.argv[2]):
    l = l.strip()
    if l:
        have.add(l)
want = set()
for l in open(sys.argv[1]):
    f, n = (int(x) for x in l.split()[:2])
    want.update(str(i) for i in range(f, f + n))
missing = sorted((int(i) for i in want - have))
extra = len(have - want)
st = json.load(open(sys.argv[3]))
print(len(want), len(have), len(missing), extra, st.get("duplicates", 0),
      st.get("requests", 0), st.get("events_accepted", 0),
      " ".join(str(i) for i in missing[:10]) or "-")
print(" ".join("%s=%s" % kv for kv in sorted(st.get("by_status", {}).items())),
      "dropped=%s" % st.get("connections_dropped", 0))
PY
read -r WANT HAVE MISSING EXTRA DUPS REQS ACCEPTED FIRST_MISSING \
	<"$W/ids.result"
BY_STATUS=$(sed -n 2p "$W/ids.result")
FINAL_SHIPPED=$(tail -n 1 "$OUT" | cut -f 14)
DEAD=$("$SP" -s "$W/spool" stats --json | python3 -c \
	'import json,sys; print(json.load(sys.stdin)["dead_total"])')

# The shipper stops cleanly (under ASan, LeakSanitizer runs at this exit).
kill -TERM "$RUN_PID"
wait_for 30 bash -c "! kill -0 $RUN_PID 2>/dev/null"
wait "$RUN_PID"
RUN_RC=$?
forget "$RUN_PID"

# ---- verdict ---------------------------------------------------------------
python3 - "$OUT" "$RSS_BOUND" >"$W/verdict" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
hdr, rows = rows[0], rows[1:]
col = {k: i for i, k in enumerate(hdr)}
def num(r, k):
    try:
        return int(r[col[k]])
    except ValueError:
        return None
warm = [r for r in rows if r[col["phase"]] == "warmup"]
after = [r for r in rows if r[col["phase"]] != "warmup"]
end = rows[-1]
def mx(rs, k):
    v = [num(r, k) for r in rs if num(r, k) is not None]
    return max(v) if v else 0
def mn(rs, k):
    v = [num(r, k) for r in rs if num(r, k) is not None]
    return min(v) if v else 0
rss_base, rss_after = mx(warm, "rss_kb"), mx(after, "rss_kb")
print("rss_warm_end", num(warm[-1], "rss_kb"))
print("rss_base", rss_base)
print("rss_after", rss_after)
print("rss_end", num(end, "rss_kb"))
print("rss_growth", rss_after - rss_base)
print("anon_base", mx(warm, "rss_anon_kb"))
print("anon_after", mx(after, "rss_anon_kb"))
print("file_base", mx(warm, "rss_file_kb"))
print("file_after", mx(after, "rss_file_kb"))
print("fd_base", mx(warm, "fds"))
print("fd_after", mx(after, "fds"))
print("fd_end", num(end, "fds"))
print("fd_min", mn(rows, "fds"))
print("fixed_base", mx(warm, "fds_fixed"))
print("fixed_after", mx(after, "fds_fixed"))
print("fixed_end", num(end, "fds_fixed"))
# A leak keeps what it took: the fewest in the last quarter of the run.
tail = after[len(after) * 3 // 4:] or after[-1:]
print("fixed_tail", mn(tail, "fds_fixed"))
print("conn_base", mx(warm, "tcp_conns"))
print("conn_after", mx(after, "tcp_conns"))
print("conn_end", num(end, "tcp_conns"))
print("size_min", mn(rows, "spool_file_bytes"))
print("size_max", mx(rows, "spool_file_bytes"))
print("pending_max", mx(rows, "pending"))
print("samples", len(rows))
PY
declare -A V
while read -r k v; do V[$k]=$v; done <"$W/verdict"

fails=()
# ok_if STATUS MESSAGE...: records MESSAGE as a failure unless STATUS is 0.
ok_if() {
	[ "$1" -eq 0 ] && return 0
	fails+=("${*:2}")
	return 1
}
rss_result=ok
if [ "$RSS_BOUND" = off ]; then
	rss_result="not enforced"
else
	[ "${V[rss_growth]}" -le "$RSS_BOUND" ]
	ok_if $? "RSS grew by ${V[rss_growth]} KiB after warm-up" \
		"(bound $RSS_BOUND KiB)" || rss_result=FAIL
	rss_result="+$RSS_BOUND KiB: $rss_result"
fi
fd_result=ok
# A sample can catch a socket between socket() and connect(), before
# /proc/net/tcp lists it, or a file open for a moment (the shipper reads
# /proc/self/maps to release pages): one sample above the warm-up is not
# growth.  Growth is what stays: the fewest non-TCP descriptors over the
# last quarter of the run, and the count at the end, above the warm-up
# max; and no moment with more descriptors than the warm-up's non-TCP
# max plus the connection ceiling.
[ "${V[fixed_tail]}" -le "${V[fixed_base]}" ]
ok_if $? "descriptors other than TCP connections grew after warm-up" \
	"and stayed: ${V[fixed_base]} -> at least ${V[fixed_tail]} over" \
	"the last quarter" || fd_result=FAIL
[ "${V[fd_after]}" -le $(( V[fixed_base] + CONN_CEIL )) ]
ok_if $? "${V[fd_after]} descriptors open at once after warm-up, more" \
	"than ${V[fixed_base]} + $CONN_CEIL connections" || fd_result=FAIL
[ "${V[fixed_end]}" -le "${V[fixed_base]}" ]
ok_if $? "descriptors other than TCP connections at the end (drained," \
	"idle): ${V[fixed_end]}, warm-up max ${V[fixed_base]}" ||
	fd_result=FAIL
c_max=$(( V[conn_base] > V[conn_after] ? V[conn_base] : V[conn_after] ))
[ "$c_max" -le "$CONN_CEIL" ]
ok_if $? "$c_max TCP connections open at once, more than" \
	"max_in_flight + 2 = $CONN_CEIL" || fd_result=FAIL
[ "$MISSING" -eq 0 ]
ok_if $? "$MISSING of $WANT acknowledged events never reached the mock" \
	"(first: $FIRST_MISSING)"
[ "$DEAD" -eq 0 ]
ok_if $? "$DEAD events went to the dead store"
[ "$RUN_RC" -eq 0 ]
ok_if $? "the shipper exited $RUN_RC on SIGTERM"
n_fail=$(cat "$W/cli.fail" "$W/ingest.fail" 2>/dev/null | wc -l)
[ "$n_fail" -eq 0 ]
ok_if $? "$n_fail producer runs failed (cli.fail, ingest.fail in $W)"
n_scrape=$( { cat "$W/scrape.fail" 2>/dev/null || true; } | wc -l)
[ "$n_scrape" -eq 0 ]
ok_if $? "$n_scrape /metrics scrapes failed"
[ "$PRODUCED" -gt 0 ]
ok_if $? "nothing was produced"

sum_of() { awk '{ n += $2 } END { print n + 0 }' "$1"; }
row() { printf '  %-30s %12s %12s %12s  %s\n' "$@"; }
line() { local k=$1; shift; printf '  %-30s %s\n' "$k" "$*"; }
echo
echo "soak summary: $D s run + $DRAIN_S s drain, ${V[samples]} samples" \
	"every $I s in $OUT"
row "" "warm-up max" "after max" "end" "bound: result"
row "RSS (KiB)" "${V[rss_base]}" "${V[rss_after]}" "${V[rss_end]}" \
	"growth ${V[rss_growth]} KiB, $rss_result"
row "  anonymous" "${V[anon_base]}" "${V[anon_after]}" "" ""
row "  file-backed (spool map, libs)" "${V[file_base]}" \
	"${V[file_after]}" "" ""
row "descriptors" "${V[fd_base]}" "${V[fd_after]}" "${V[fd_end]}" \
	"$fd_result"
row "  TCP connections" "${V[conn_base]}" "${V[conn_after]}" \
	"${V[conn_end]}" "at most $CONN_CEIL"
row "  all others" "${V[fixed_base]}" "${V[fixed_after]}" \
	"${V[fixed_end]}" "no growth (last quarter >= ${V[fixed_tail]})"
line "RSS at the end of warm-up" "${V[rss_warm_end]} KiB; fewest" \
	"descriptors ${V[fd_min]}"
line "spool data.mdb" "${V[size_min]} .. ${V[size_max]} bytes," \
	"pending at most ${V[pending_max]}"
line "events produced" "$WANT (spoolship append $(sum_of "$W/cli.ok")," \
	"ingest $(sum_of "$W/ingest.ok")), shipped_total $FINAL_SHIPPED"
line "received by the mock" "$HAVE distinct, $MISSING missing," \
	"$DUPS duplicates, $EXTRA unknown ids"
line "mock" "$REQS requests, $ACCEPTED events accepted; $BY_STATUS"
line "outages, shipper" "$OUTAGES outages; shipper exit $RUN_RC," \
	"$(grep -c ' warn ' "$W/run.log") warn and" \
	"$(grep -c ' error ' "$W/run.log") error log lines; dead $DEAD"
if [ ${#fails[@]} -gt 0 ]; then
	printf 'soak: FAIL: %s\n' "${fails[@]}" >&2
	exit 1
fi
OK=1
echo "soak: PASS"
