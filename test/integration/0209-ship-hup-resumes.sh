#!/usr/bin/env bash
# 0209: SIGHUP resumes at once (issue 13 item 3).  With the default
# alarm_backoff (5 minutes), a stream in a destination alarm (404: a wrong
# url, then an unknown table) or a credentials alarm (401 for a wrong
# static token; the token endpoint refusing the client secret) is tried
# again right after a reload that fixes the cause, not 5 minutes later.
# Every id arrives, none twice.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ship.sh"
SECRET="s3cr3t-0209"
start_mock --rpm 0 --tables good --token right-token \
	--client-id cid --client-secret "$SECRET"
BASE="http://127.0.0.1:$MOCK_PORT"

# cfg URL [lines...]: default [ship] timings but a short linger; the
# alarm backoff is the default 5 minutes.
cfg() {
	local url=$1; shift
	{
		echo "[spool]"
		echo "path = $T/spool"
		echo "[ship]"
		echo "url = $url"
		echo "linger = 50ms"
		echo "shutdown_timeout = 5s"
		printf '%s\n' "$@"
	} > "$T/c.ini"
}
alarms() { grep -c "$1" "$T/run.log"; }
# logged PATTERN N: at least N lines match, counted anew at each try of a
# wait_for (a "$(alarms ...)" argument would be counted once, before).
logged() { [ "$(alarms "$1")" -ge "$2" ]; }
GOODTOKEN=("[auth]" "mode = bearer" "token = right-token")
MAPPED=("[table t]" "id = good")

# 1. A wrong url path: 404, an alarm.  Fixing the url alone still meets
# a 404 (the table is unknown): the second alarm comes right after the
# reload, which shows the stream was tried at once.
# 50 events are one request, so one alarm until something retries it.
cfg "$BASE/v9/wrong/{table}" "${GOODTOKEN[@]}"
gen_events 1 50 | "$SP" -s "$T/spool" append -t t 2>/dev/null
start_run "$T/c.ini"
check "url: 404 alarm" wait_for 20 grep -q 'destination alarm.*status=404.*backoff_ms=300000' "$T/run.log"
check "url: one alarm so far" test "$(alarms 'destination alarm')" -eq 1
cfg "$BASE/v1/events/{table}" "${GOODTOKEN[@]}"
kill -HUP "$RUN_PID"
check "url: tried again at once after the reload" \
	wait_for 10 logged 'destination alarm.*status=404' 2
check "reload: resume logged" grep -q 'reload: alarms and backoffs cleared.*alarmed=1' "$T/run.log"

# 2. The [table] mapping fixed: delivered within 10 s, not 5 minutes.
cfg "$BASE/v1/events/{table}" "${GOODTOKEN[@]}" "${MAPPED[@]}"
kill -HUP "$RUN_PID"
check "table: delivered right after the reload" wait_for 10 ids_complete 1 50

# 3. A wrong static token: 401 with no refresh possible, a credentials
# alarm; the right token and a reload deliver at once.
cfg "$BASE/v1/events/{table}" "[auth]" "mode = bearer" \
	"token = wrong-token" "${MAPPED[@]}"
kill -HUP "$RUN_PID"
check "token: reloaded" wait_for 10 logged 'configuration reloaded' 3
gen_events 101 100 | "$SP" -s "$T/spool" append -t t 2>/dev/null
check "token: credentials alarm" wait_for 20 grep -q 'credentials alarm' "$T/run.log"
cfg "$BASE/v1/events/{table}" "${GOODTOKEN[@]}" "${MAPPED[@]}"
kill -HUP "$RUN_PID"
check "token: delivered right after the reload" wait_for 10 ids_complete 101 100

# 4. OAuth with a wrong client secret: the token endpoint refuses it
# (alarm=yes, 5 minutes); the right secret and a reload deliver at once.
OAUTH=("[auth]" "mode = oauth" "token_url = $BASE/oauth/token"
	"client_id = cid")
cfg "$BASE/v1/events/{table}" "${OAUTH[@]}" "client_secret = not-it" \
	"${MAPPED[@]}"
kill -HUP "$RUN_PID"
check "oauth: reloaded" wait_for 10 logged 'configuration reloaded' 5
gen_events 201 100 | "$SP" -s "$T/spool" append -t t 2>/dev/null
check "oauth: token refused, alarm" wait_for 20 grep -q 'cannot get a credential.*alarm=yes' "$T/run.log"
cfg "$BASE/v1/events/{table}" "${OAUTH[@]}" "client_secret = $SECRET" \
	"${MAPPED[@]}"
kill -HUP "$RUN_PID"
check "oauth: delivered right after the reload" wait_for 10 ids_complete 201 100

stop_run
check "SIGTERM exits 0" test "$RUN_RC" -eq 0
check "no duplicates" mock_stat_eq duplicates 0
check "the spool is empty" pending_is 0
check "secrets not logged" bash -c "! grep -qE '$SECRET|right-token|wrong-token' '$T/run.log'"
stop_mock
finish
