#!/usr/bin/env bash
# 0020: help where people look (issue 14): `spoolship help`, `--help`,
# `-h`, `help CMD`, `CMD --help` and `CMD -h` print on stdout and exit 0
# for every subcommand, the usage naming the command; the top-level help
# lists every global option; `--version` prints the version and those of
# the libraries it runs with.
. "$(dirname "$0")/lib.sh"
cmds="append stats peek verify run dead compact salvage keygen"

# help_ok NAME PATTERN ARGS...: exit 0, PATTERN on stdout, stderr empty.
help_ok() {
	local n=$1 pat=$2 rc; shift 2
	"$SP" "$@" >"$T/out" 2>"$T/err"; rc=$?
	if [ "$rc" -eq 0 ] && grep -qE "$pat" "$T/out" && [ ! -s "$T/err" ]
	then
		ok "$n"
	else
		not_ok "$n (exit $rc; stdout: $(head -c 200 "$T/out"); stderr: $(head -c 200 "$T/err"))"
	fi
}

cd "$T" || exit 1 # no ./spool may appear from asking for help
for form in help --help -h; do
	help_ok "'spoolship $form' prints the usage" '^usage: spoolship ' $form
	for opt in '-s, --spool DIR' '-c, --config FILE' '-k, --key-file FILE' \
		'-h, --help' '-V, --version'; do
		check "'spoolship $form' lists $opt" grep -qF -- "$opt" "$T/out"
	done
	for c in $cmds; do
		check "'spoolship $form' lists $c" grep -qE "^  $c( |$)" "$T/out"
	done
done
for c in $cmds; do
	help_ok "$c --help" "^usage: spoolship .*$c" $c --help
	cp "$T/out" "$T/help.$c"
	help_ok "$c -h" "^usage: spoolship .*$c" $c -h
	check "$c -h prints what --help does" cmp -s "$T/out" "$T/help.$c"
	help_ok "help $c" "^usage: spoolship .*$c" help $c
	check "help $c prints what --help does" cmp -s "$T/out" "$T/help.$c"
	check "$c --help says its exit codes" grep -q '^exit: 0 ok' "$T/out"
done
# among other options, before a -c file that does not exist, and for
# each dead subcommand: still the help, nothing opened or read
help_ok "append -t x --help" '^usage: spoolship .*append' append -t x --help
help_ok "stats -c missing.ini --help" '^usage: spoolship .*stats' \
	stats -c "$T/missing.ini" --help
help_ok "-c missing.ini run --help" '^usage: spoolship run' \
	-c "$T/missing.ini" run --help
for d in list export requeue purge; do
	help_ok "dead $d --help" "spoolship .*dead $d" dead $d --help
done
help_ok "stats --watch -h" 'stats --watch' stats --watch -h
check "asking for help created no spool" test ! -e "$T/spool"

expect_exit "help of an unknown command exits 2" 2 "$SP" help nosuch 2>"$T/err"
check "and says which" grep -q "unknown command 'nosuch'" "$T/err"
expect_exit "no command exits 2" 2 "$SP" 2>/dev/null
# `--` ends the options: `append -- -h` appends a file named -h
echo '{"__time":"2026-01-01","a":1}' > ./-h
expect_exit "append -- -h reads the file -h" 0 "$SP" -s "$T/s2" append --max-age 0 -- -h 2>"$T/err"
check "and takes its event" grep -q 'accepted 1, rejected 0' "$T/err"

# --version: its own, then one line per library, as loaded at run time
help_ok "--version" '^spoolship [0-9]+\.[0-9]+\.[0-9]+ \(spool format [0-9]+\)$' --version
for lib in LMDB libcurl libmicrohttpd cJSON zlib OpenSSL; do
	check "--version names $lib" grep -qE "^$lib [0-9]+\.[0-9]+(\.[0-9]+)?" "$T/out"
done
check "-V is --version" bash -c "'$SP' -V | cmp -s - '$T/out'"
python3 - "$T/out" <<'PY' && ok "zlib and cJSON versions are the loaded libraries'" || not_ok "zlib and cJSON versions are the loaded libraries'"
import ctypes, sys
out = open(sys.argv[1]).read().split("\n")
z = ctypes.CDLL("libz.so.1"); z.zlibVersion.restype = ctypes.c_char_p
c = ctypes.CDLL("libcjson.so.1"); c.cJSON_Version.restype = ctypes.c_char_p
ok = ("zlib " + z.zlibVersion().decode()) in out and \
     ("cJSON " + c.cJSON_Version().decode()) in out
sys.exit(0 if ok else 1)
PY
finish
