#!/usr/bin/env bash
# 0202: credentials and destination alarms.  OAuth client credentials with
# short-lived tokens are refreshed and every event arrives; an API key goes
# as Basic; a wrong static token is a credentials alarm (401 again after a
# refresh is not possible: alarm, back off, keep the data); 403 and 404 are
# destination alarms that keep the data.  Secrets never reach the log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ship.sh"
SECRET="s3cr3t-0202-XyZ"

# OAuth: tokens live 2 s; events keep coming for longer than that.
start_mock --rpm 0 --client-id cid --client-secret "$SECRET" --token-lifetime 2
write_config "$T/oauth.ini" "[auth]" "mode = oauth" \
	"token_url = http://127.0.0.1:$MOCK_PORT/oauth/token" \
	"client_id = cid" "client_secret = $SECRET" "refresh_margin = 500ms"
gen_events 1 100 | "$SP" -s "$T/spool" append -t t 2>/dev/null
start_run "$T/oauth.ini"
for i in 1 2 3 4 5; do
	wait_for 20 ids_complete 1 $((i * 100)) || break
	gen_events $((i * 100 + 1)) 100 | "$SP" -s "$T/spool" append -t t 2>/dev/null
	wait_for 20 mock_stat_ge tokens_issued $(( (i + 1) / 2 )) || break
done
check "oauth: every event delivered across token expiries" wait_for 30 ids_complete 1 600
check "oauth: tokens were refreshed" mock_stat_ge tokens_issued 2
stop_run
check "oauth: SIGTERM exits 0" test "$RUN_RC" -eq 0
check "oauth: the secret is not in the log" bash -c "! grep -q '$SECRET' '$T/run.log'"
check "oauth: refreshes logged" grep -q 'token refreshed' "$T/run.log"

# A wrong client secret: the token endpoint refuses it: alarm, data kept.
gen_events 1000 20 | "$SP" -s "$T/spool" append -t t 2>/dev/null
write_config "$T/badsecret.ini" "[auth]" "mode = oauth" \
	"token_url = http://127.0.0.1:$MOCK_PORT/oauth/token" \
	"client_id = cid" "client_secret = not-the-secret"
: > "$T/bad.log"
"$SP" run -c "$T/badsecret.ini" 2>>"$T/bad.log" &
RUN_PID=$!
check "oauth: refused credentials are an alarm" wait_for 20 grep -q "cannot get a credential.*alarm=yes" "$T/bad.log"
stop_run
check "oauth: data kept when the token is refused" pending_is 20
check "oauth: wrong secret not logged" bash -c "! grep -q 'not-the-secret' '$T/bad.log'"
# The token endpoint unreachable: transient, retried with backoff.
write_config "$T/down.ini" "[auth]" "mode = oauth" \
	"token_url = http://127.0.0.1:1/oauth/token" \
	"client_id = cid" "client_secret = $SECRET"
"$SP" run -c "$T/down.ini" 2>>"$T/bad.log" &
RUN_PID=$!
check "oauth: unreachable token URL is retried" wait_for 20 grep -q 'cannot get a credential.*alarm=no' "$T/bad.log"
stop_run

stop_mock

# API key: Basic base64("KEY:").
rm -rf "$T/spool"
start_mock --rpm 0 --api-key "key-0202"
gen_events 1 50 | "$SP" -s "$T/spool" append -t t 2>/dev/null
write_config "$T/key.ini" "[auth]" "mode = apikey" "api_key = key-0202"
expect_exit "apikey: run until empty" 0 timeout 60 "$SP" run -c "$T/key.ini" --until-empty 2>>"$T/run.log"
check "apikey: delivered" ids_complete 1 50
check "apikey: the key is not in the log" bash -c "! grep -q 'key-0202' '$T/run.log'"

# A wrong static token: credentials alarm, data kept; the right one ships.
write_config "$T/bad.ini" "[auth]" "mode = bearer" "token = wrong-token"
stop_mock
rm -rf "$T/spool"
start_mock --rpm 0 --token right-token
gen_events 1 50 | "$SP" -s "$T/spool" append -t t 2>/dev/null
: > "$T/run.log"
start_run "$T/bad.ini"
check "401: credentials alarm logged" wait_for 20 grep -q 'credentials alarm' "$T/run.log"
stop_run
check "401: data kept" pending_is 50
check "401: nothing accepted" mock_stat_eq events_accepted 0
write_config "$T/good.ini" "[auth]" "mode = bearer" "token = right-token"
expect_exit "401: right token ships" 0 timeout 60 "$SP" run -c "$T/good.ini" --until-empty 2>>"$T/run.log"
check "401: then delivered" ids_complete 1 50
check "401: tokens never logged" bash -c "! grep -qE 'wrong-token|right-token' '$T/run.log'"

# 403 and 404: destination alarms, data kept, clean stop.
for case in "403:--fail-status 403:1" "404:--tables some-other-table"; do
	code=${case%%:*}
	stop_mock
	rm -rf "$T/spool"
	# shellcheck disable=SC2086
	start_mock --rpm 0 ${case#*:}
	gen_events 1 30 | "$SP" -s "$T/spool" append -t t 2>/dev/null
	write_config "$T/a.ini"
	: > "$T/run.log"
	start_run "$T/a.ini"
	check "$code: alarm logged" wait_for 20 grep -q "destination alarm.*status=$code" "$T/run.log"
	stop_run
	check "$code: SIGTERM exits 0" test "$RUN_RC" -eq 0
	check "$code: data kept" pending_is 30
done
finish
