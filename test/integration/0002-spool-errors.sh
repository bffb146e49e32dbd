#!/usr/bin/env bash
# 0002: a spool that cannot be used says so and exits non-zero: not
# writable, newer format, a flipped byte on disk (verify names the key),
# full (exit 4, nothing accepted lost, appends resume after shipping).
. "$(dirname "$0")/lib.sh"

# Not writable: run as an unprivileged user against root's 0700 dir.
S="$T/rootonly"
gen_events 1 1 | "$SP" -s "$S" append 2>/dev/null
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	chmod 0711 "$T"
	expect_exit "not writable exits 1" 1 setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$SP" -s "$S" append /dev/null 2>"$T/err"
	check "not writable explained" grep -q "Permission denied" "$T/err"
else
	chmod 0500 "$S"
	expect_exit "not writable exits 1" 1 "$SP" -s "$S" append /dev/null 2>"$T/err"
	check "not writable explained" grep -q "Permission denied" "$T/err"
	chmod 0700 "$S"
fi

# A spool from a newer spoolship is refused, clearly.
S="$T/newer"
gen_events 1 1 | "$SP" -s "$S" append 2>/dev/null
"$TOOL" set-meta "$S" format_version 2
expect_exit "newer format refused" 1 "$SP" -s "$S" stats 2>"$T/err"
check "newer format explained" grep -q "newer spoolship" "$T/err"
expect_exit "newer format: append refused" 1 "$SP" -s "$S" append /dev/null 2>/dev/null

# A flipped byte inside a record on disk: verify names its key.
S="$T/flip"
gen_events 1 5 MARKERONE > "$T/in"
gen_events 6 1 FLIPMEHERE >> "$T/in"
gen_events 7 5 MARKERTWO >> "$T/in"
"$SP" -s "$S" append -t flip "$T/in" 2>/dev/null
expect_exit "verify clean before" 0 "$SP" -s "$S" verify >/dev/null
python3 - "$S/data.mdb" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
i = b.find(b"FLIPMEHERE")
assert i > 0 and b.find(b"FLIPMEHERE", i + 1) < 0
b[i + 3] ^= 0x01
open(p, "r+b").write(b)
PY
expect_exit "verify finds damage: exit 5" 5 "$SP" -s "$S" verify >"$T/out"
check "verify names the key" grep -q "bad events key 000000010000000000000006: CRC mismatch" "$T/out"
check "peek skips the damaged record" test "$("$SP" -s "$S" peek -n 0 | wc -l)" -eq 10

# Full: exit 4, what was accepted stays, shipping frees room.
S="$T/full"
pad=$(head -c 3000 /dev/zero | tr '\0' 'p')
gen_events 1 50 "$pad" | "$SP" -s "$S" append --sync none --max-bytes 512K 2>/dev/null
check "first 50 fit" test "$("$SP" -s "$S" peek -n 0 | wc -l)" -eq 50
gen_events 1 400 "$pad" > "$T/big"
expect_exit "full exits 4" 4 "$SP" -s "$S" append --sync none --max-bytes 512K "$T/big" 2>"$T/err"
check "full explained" grep -q "spool is full" "$T/err"
acc=$(sed -n 's/^accepted \([0-9]*\),.*/\1/p' "$T/err")
check "accepted count in summary" test -n "$acc"
check "says where to resume" grep -q "big:1: spool is full" "$T/err"
check "accepted events all there" test "$("$SP" -s "$S" peek -n 0 | wc -l)" -eq $((50 + acc))
check "verify clean when full" "$SP" -s "$S" verify >/dev/null
"$TOOL" ship "$S" default >/dev/null
gen_events 1 10 | "$SP" -s "$S" append --max-bytes 512K 2>/dev/null
check "appends resume after shipping" test "$("$SP" -s "$S" peek -n 0 | wc -l)" -eq 10
finish
