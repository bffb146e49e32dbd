#!/usr/bin/env bash
# 0022: a relative [spool] path (and any relative file name in the
# config) is taken from the config file's directory, not the working
# directory, and `run` logs the spool absolute (issue 14): a config in
# $T/etc naming `path = spool` and `encryption_key_file = spool.key`,
# used from / (where systemd starts services) and from another
# directory, always means $T/etc/spool; every id arrives.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ship.sh"
start_mock --rpm 0
mkdir -p "$T/etc" "$T/elsewhere"
"$SP" keygen "$T/etc/spool.key" >/dev/null
write_config "$T/etc/ship.ini" "[spool]" "encryption_key_file = spool.key"
sed -i "s|^path = .*|path = ./spool|" "$T/etc/ship.ini"
# and a config named relative to the working directory
cd "$T/elsewhere" || exit 1
gen_events 1 300 > "$T/ev"
expect_exit "append -c ../etc/ship.ini from elsewhere" 0 \
	"$SP" -c ../etc/ship.ini append -t rel "$T/ev" 2>"$T/err"
check "the spool is next to the config" test -f "$T/etc/spool/data.mdb"
check "not in the working directory" test ! -e "$T/elsewhere/spool"
check "sealed with the key beside the config" grep -q . "$T/etc/spool.key"
cd / || exit 1
gen_events 301 200 > "$T/ev2"
expect_exit "append -c FILE from /" 0 \
	"$SP" append -c "$T/etc/ship.ini" -t rel "$T/ev2" 2>"$T/err"
check "no spool in /" test ! -e /spool
"$SP" -c "$T/etc/ship.ini" stats --json > "$T/stats" 2>"$T/err"
check "stats -c from / sees all 500" python3 -c '
import json, sys
sys.exit(0 if json.load(open(sys.argv[1]))["pending_events"] == 500 else 1)' "$T/stats"
expect_exit "run --check-config from /" 0 \
	"$SP" run -c "$T/etc/ship.ini" --check-config >/dev/null
expect_exit "run --until-empty from /" 0 \
	"$SP" run -c "$T/etc/ship.ini" --until-empty --timeout 60s 2>"$T/run.log"
check "run logs the spool absolute" \
	grep -qF "shipping spool=$T/etc/spool url=" "$T/run.log"
check "every id arrived" ids_complete 1 500
check "500 unique ids at the receiver" mock_stat_eq unique_ids 500
check "duplicates within the bound (none without faults)" mock_stat_eq duplicates 0
check "-s still wins over the file" bash -c \
	"'$SP' -c '$T/etc/ship.ini' -s '$T/none' stats 2>&1 | grep -q 'no spool at $T/none'"
# a default path (none in the file) is the working directory's, logged
# absolute too
write_config "$T/etc/nopath.ini"
sed -i '/^path = /d' "$T/etc/nopath.ini"
cd "$T/elsewhere" || exit 1
expect_exit "run without a path from elsewhere" 0 \
	"$SP" run -c "$T/etc/nopath.ini" --until-empty --timeout 60s 2>"$T/run2.log"
check "its default ./spool logged absolute" \
	grep -qF "shipping spool=$T/elsewhere/spool url=" "$T/run2.log"
finish
