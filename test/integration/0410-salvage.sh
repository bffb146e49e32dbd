#!/usr/bin/env bash
# 0410: `spoolship salvage SRC DST` copies every sound record of a damaged
# spool into a new one and never writes to SRC.  Damage: flipped bytes in
# record values (pending and dead), in LMDB pages (a branch page, a leaf
# page's header, a node's size, the meta pages), a data file cut in half;
# a damaged record whose older copy survives in a free page.  After each
# salvage every file of SRC is byte-identical with the same mtime, DST
# passes `verify`, and every id in DST was appended.  DST that is not
# new, or a SRC in use, is refused.  The shipper ships from DST.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ship.sh"

# ---- helpers ---------------------------------------------------------------
# lm.py reads LMDB's layout (liblmdb mdb.c, 64-bit) to aim at live pages:
#   info DATA           JSON: page size, the live branch and leaf pages of
#                       events and dead, and the ids on each live leaf
#   flip DATA OFF XOR   XORs the byte at OFF
#   find DATA ID        offsets of '"id":ID,' in the file, one per line
#   once DATA ID...     those of the ids found exactly once in the file
#   rowkey DATA NAME    the offset of stream NAME's key in the live row
cat > "$T/lm.py" <<'PY'
import json, re, struct, sys

def u(fmt, b, off):
    return struct.unpack_from(fmt, b, off)

def meta(b, off):
    if len(b) < off + 152 or not u('<H', b, off + 10)[0] & 8:
        return None
    if u('<I', b, off + 16)[0] != 0xBEEFC0DE:
        return None
    return {'ps': u('<I', b, off + 40)[0], 'main': u('<Q', b, off + 128)[0],
            'txn': u('<Q', b, off + 144)[0]}

def nodes(b, ps, pg):
    o = pg * ps
    lower = u('<H', b, o + 12)[0]
    for i in range((lower - 16) // 2):
        off = u('<H', b, o + 16 + 2 * i)[0]
        lo, hi, fl, ks = u('<HHHH', b, o + off)
        yield i, o + off, lo | hi << 16, fl, bytes(b[o + off + 8:o + off + 8 + ks])

def tree(b, ps, root):
    br, lv, todo = [], [], [root]
    while todo:
        pg = todo.pop()
        if u('<H', b, pg * ps + 10)[0] & 1:
            br.append(pg)
            for i, no, lohi, fl, key in nodes(b, ps, pg):
                todo.append(lohi | fl << 32)
        else:
            lv.append(pg)
    return br, lv

def info(b):
    m = [x for x in (meta(b, 0), meta(b, 4096)) if x]
    m = max(m, key=lambda x: x['txn'])
    ps, out = m['ps'], {'ps': m['ps']}
    for i, no, dsize, fl, key in nodes(b, ps, m['main']):
        name = key.decode()
        if name not in ('events', 'dead'):
            continue
        db = no + 8 + len(key)
        root = u('<Q', b, db + 40)[0]
        br, lv = tree(b, ps, root) if root != 2**64 - 1 else ([], [])
        ids = {}
        for pg in lv:
            ids[pg] = []
            for j, nno, dsz, nfl, k in nodes(b, ps, pg):
                v = bytes(b[nno + 8 + len(k):nno + 8 + len(k) + dsz])
                ids[pg] += [int(x) for x in re.findall(rb'"id":(\d+),', v)]
        out[name] = {'root': root, 'branches': br, 'leaves': ids}
    return out

b = bytearray(open(sys.argv[2], 'rb').read())
if sys.argv[1] == 'info':
    print(json.dumps(info(b)))
elif sys.argv[1] == 'flip':
    b[int(sys.argv[3])] ^= int(sys.argv[4], 0)
    open(sys.argv[2], 'r+b').write(b)
elif sys.argv[1] == 'rowkey':
    m = max([x for x in (meta(b, 0), meta(b, 4096)) if x], key=lambda x: x['txn'])
    for i, no, dsize, fl, key in nodes(b, m['ps'], m['main']):
        if key == b'streams':
            root = u('<Q', b, no + 8 + len(key) + 40)[0]
            for j, sno, sd, sfl, k in nodes(b, m['ps'], root):
                if k == sys.argv[3].encode():
                    print(sno + 8)
elif sys.argv[1] == 'once':
    for i in sys.argv[3:]:
        if len(re.findall(re.escape(b'"id":%d,' % int(i)), b)) == 1:
            print(i)
elif sys.argv[1] == 'find':
    s = b'"id":%d,' % int(sys.argv[3])
    print('\n'.join(str(m.start()) for m in re.finditer(re.escape(s), b)))
PY
lm() { python3 "$T/lm.py" "$@"; }
# q EXPR: a Python expression over I (lm info of the file in $INFO) and
# O (the salvage's --json report); prints its value.
q() {
	python3 -c 'import json,sys
I = json.load(open(sys.argv[2])) if sys.argv[2] != "-" else None
O = json.load(open(sys.argv[3])) if sys.argv[3] != "-" else None
v = eval(sys.argv[1])
print(v if not isinstance(v, (list, set)) else " ".join(map(str, sorted(v))))' \
		"$1" "${INFO:--}" "${OUT:--}"
}
# snap DIR: name, checksum, size and mtime of every file, and the
# directory's own mtime: what "SRC is unchanged" compares.
snap() {
	(cd "$1" && for f in * .[!.]*; do
		[ -e "$f" ] || continue
		printf '%s %s %s\n' "$f" "$(sha256sum < "$f" | cut -c1-64)" \
			"$(stat -c '%s %y' "$f")"
	done; stat -c 'dir %y' .)
}
# ids DIR: the ids of the pending events, sorted, one line.
ids() {
	"$SP" -s "$1" peek -n 0 | python3 -c 'import json,sys
print(" ".join(sorted((str(json.loads(l)["id"]) for l in sys.stdin), key=int)))'
}
# subset A B: every word of A is in B.
subset() { python3 -c 'import sys; a, b = sys.argv[1].split(), set(sys.argv[2].split()); m = [x for x in a if x not in b]; print("missing:", m[:20]) if m else None; sys.exit(1 if m else 0)' "$1" "$2"; }
# salv NAME SRC DST [OPTS]: salvage with --json into $T/NAME.json (OUT),
# the exit code in RC; checks that SRC did not change at all.
salv() {
	local name=$1 src=$2 dst=$3 before; shift 3
	before=$(snap "$src")
	"$SP" salvage --json "$@" "$src" "$dst" > "$T/$name.json" 2> "$T/$name.err"
	RC=$?
	OUT="$T/$name.json"
	if [ "$before" = "$(snap "$src")" ]; then ok "$name: SRC unchanged"
	else not_ok "$name: SRC unchanged"; diff <(echo "$before") <(snap "$src"); fi
	[ "$RC" -lt 128 ] || not_ok "$name: salvage died (exit $RC)"
}
verify_clean() { "$SP" -s "$1" verify > "$T/verify.out" || { cat "$T/verify.out"; return 1; }; }

# ---- the spool: three streams, several commits (so free pages hold
# stale copies), one dead event ---------------------------------------------
B="$T/base"
gen_events 1 200 | "$SP" -s "$B" append -t a 2>/dev/null
gen_events 201 200 | "$SP" -s "$B" append -t a 2>/dev/null
gen_events 1001 200 | "$SP" -s "$B" append -t b 2>/dev/null
gen_events 401 100 | "$SP" -s "$B" append -t a 2>/dev/null
gen_events 2001 3 | "$SP" -s "$B" append -t c 2>/dev/null
check "dead event made" "$TOOL" dead "$B" b 5 rejected 400 "refused by the receiver" >/dev/null
APPENDED=$( (seq 1 500; seq 1001 1200; seq 2001 2003) | tr '\n' ' ')
PENDING=$(ids "$B")
check "702 pending events, 1005 dead" test "$(echo $PENDING | wc -w)" -eq 702
check "the base spool is sound" verify_clean "$B"
lm info "$B/data.mdb" > "$T/base.info" # the same in every copy of B

# ---- a clean spool: tree walk, exit 0 ---------------------------------------
salv clean "$B" "$T/clean"
check "clean: exit 0" test "$RC" -eq 0
check "clean: tree walk only" test "$(q 'O["method"]')" = "tree walk"
check "clean: 702 events, 1 dead, 3 streams" test "$(q '(O["events"], O["dead"], O["streams"])')" = "(702, 1, 3)"
check "clean: DST verifies" verify_clean "$T/clean"
check "clean: same ids" test "$(ids "$T/clean")" = "$PENDING"
check "clean: the dead event too" grep -q 'table=b seq=5 reason=rejected status=400 .*excerpt="refused by the receiver"' <("$SP" -s "$T/clean" dead list)
check "clean: files 0600, directory 0700" test "$(stat -c %a "$T/clean" "$T/clean/data.mdb" | tr '\n' ' ')" = "700 600 "
"$SP" -s "$T/clean" stats --json > "$T/clean.stats"
check "clean: counters kept" python3 -c 'import json,sys
s = json.load(open(sys.argv[1]))
assert s["appended_total"] == 703 and s["dead_total"] == 1, s
assert s["streams"]["a"]["next_seq"] == 501 and s["streams"]["c"]["pending_events"] == 3, s' "$T/clean.stats"
echo "{\"__time\":\"$(now_iso)\",\"id\":9}" | "$SP" -s "$T/clean" append -t a 2>/dev/null
check "clean: DST takes appends, after the last sequence" test "$("$SP" -s "$T/clean" peek -t a -n 0 | tail -1 | grep -c '"id":9}')" -eq 1
check "clean: and still verifies" verify_clean "$T/clean"
salv scan "$B" "$T/scan" --scan
check "--scan on a clean spool: exit 0, walk and scan" test "$RC:$(q 'O["method"]')" = "0:tree walk and raw scan"
# The scan also reads free pages: 1005's pending record, from before it
# was moved to the dead store, may well be back.
check "--scan: every pending event" subset "$PENDING" "$(ids "$T/scan")"
check "--scan: only appended ids" subset "$(ids "$T/scan")" "$APPENDED"

# ---- (a) flipped bytes in record values ---------------------------------------
CASE="$T/a"; cp -a "$B" "$CASE"; INFO="$T/base.info"
# Three events stored once in the file (no stale copy to recover from),
# from both streams: the first, a middle and the last of those.
DAMAGED=$(lm once "$CASE/data.mdb" $PENDING |
	awk '{ a[NR] = $1 } END { print a[1], a[int(NR / 2)], a[NR] }')
for id in $DAMAGED; do
	lm flip "$CASE/data.mdb" $(($(lm find "$CASE/data.mdb" "$id") + 12)) 0x01
done
SEQS=$(for id in $DAMAGED; do echo $((id % 1000)); done | sort -n | tr '\n' ' ' | sed 's/ $//')
check "a: three events damaged" test "$(echo $DAMAGED | tr ' ' '\n' | sort -u | wc -l)" -eq 3
expect_exit "a: verify sees the damage" 5 "$SP" -s "$CASE" verify >/dev/null
salv a "$CASE" "$T/a.dst"
check "a: exit 5" test "$RC" -eq 5
check "a: tree walk, three bad records" test "$(q '(O["method"], O["bad_records"], O["events"])')" = "('tree walk', 3, 699)"
check "a: the bad keys named" test "$(q '[b["seq"] for b in O["bad"] if b["kind"] == "event"]')" = "$SEQS"
"$SP" salvage "$CASE" "$T/a.txt" > "$T/a.txt.out"
check "a: text report names each bad key" test "$(grep '^bad key stream=[abc] seq=[0-9]*: CRC mismatch$' "$T/a.txt.out" | sed 's/.*seq=\([0-9]*\):.*/\1/' | sort -n | tr '\n' ' ' | sed 's/ $//')" = "$SEQS"
check "a: text summary" grep -q '^salvaged into .* by tree walk: 699 events and 1 dead events copied in 3 streams; 3 bad records, 0 bad pages' "$T/a.txt.out"
check "a: DST verifies" verify_clean "$T/a.dst"
check "a: DST holds all the others" test "$(ids "$T/a.dst")" = "$(python3 -c 'import sys; d = set(sys.argv[2].split()); print(" ".join(x for x in sys.argv[1].split() if x not in d))' "$PENDING" "$DAMAGED")"
# A damaged dead record.
CASE="$T/a2"; cp -a "$B" "$CASE"; INFO="$T/base.info"
dead_pg=$(q 'list(I["dead"]["leaves"])[0]')
off=$(lm find "$CASE/data.mdb" 1005 | awk -v lo=$((dead_pg * 4096)) -v hi=$(((dead_pg + 1) * 4096)) '$1 >= lo && $1 < hi')
check "a2: the dead record found" test -n "$off"
lm flip "$CASE/data.mdb" $((off + 3)) 0x20
salv a2 "$CASE" "$T/a2.dst"
check "a2: exit 5, the bad dead key named" test "$RC:$(q '[(b["kind"], b["dead_seq"]) for b in O["bad"]]')" = "5:('dead', 1)"
check "a2: no dead event in DST, every pending one" test "$(q '(O["dead"], O["events"])'):$(ids "$T/a2.dst")" = "(0, 702):$PENDING"
check "a2: DST verifies" verify_clean "$T/a2.dst"

# ---- (f) a damaged record whose older copy sits in a free page ----------------
CASE="$T/f"
gen_events 5001 5 | "$SP" -s "$CASE" append -t f 2>/dev/null
gen_events 5006 5 | "$SP" -s "$CASE" append -t f 2>/dev/null
INFO="$T/f.info"; lm info "$CASE/data.mdb" > "$INFO"
live_pg=$(q '[p for p, l in I["events"]["leaves"].items() if 5003 in l][0]')
offs=$(lm find "$CASE/data.mdb" 5003)
live_off=$(echo "$offs" | awk -v lo=$((live_pg * 4096)) -v hi=$(((live_pg + 1) * 4096)) '$1 >= lo && $1 < hi')
check "f: two copies of the record, one live" test "$(echo "$offs" | wc -l):$(echo $live_off | wc -w)" = "2:1"
lm flip "$CASE/data.mdb" $((live_off + 14)) 0x01
expect_exit "f: verify sees the damage" 5 "$SP" -s "$CASE" verify >/dev/null
salv f "$CASE" "$T/f.dst"
check "f: exit 0: nothing lost" test "$RC" -eq 0
check "f: recovered from the older copy" test "$(q '[(b["kind"], b["seq"]) for b in O["bad"]]')" = "('recovered', 3)"
check "f: all ten events, DST verifies" test "$(ids "$T/f.dst")" = "$(seq -s ' ' 5001 5010)"
check "f: DST verifies" verify_clean "$T/f.dst"

# ---- (b) damaged LMDB pages -----------------------------------------------------
# b1: a child pointer of the events root (a branch page) points nowhere.
CASE="$T/b1"; cp -a "$B" "$CASE"; INFO="$T/base.info"
root=$(q 'I["events"]["root"]')
check "b1: the events tree has a branch root" test "$(q 'I["events"]["root"] in I["events"]["branches"]')" = True
# node 1's pgno (lo, hi) := 0xffffff
node=$(python3 -c 'import struct,sys; b=open(sys.argv[1],"rb").read(); print(struct.unpack_from("<H", b, int(sys.argv[2]) * 4096 + 18)[0])' "$CASE/data.mdb" "$root")
for i in 0 1 2; do lm flip "$CASE/data.mdb" $((root * 4096 + node + i)) 0xff; done
salv b1 "$CASE" "$T/b1.dst"
check "b1: exit 5, the walk failed, raw scan" test "$RC:$(q '(O["walked"], O["method"])')" = "5:(False, 'raw scan')"
check "b1: every pending event recovered" subset "$PENDING" "$(ids "$T/b1.dst")"
check "b1: only appended ids" subset "$(ids "$T/b1.dst")" "$APPENDED"
check "b1: the dead event recovered" test "$(q 'O["dead"]')" -eq 1
check "b1: DST verifies" verify_clean "$T/b1.dst"
check "b1: the report says delivered events may be back" test "$(q 'any("already delivered" in n for n in O["notes"])')" = True
# b2: many bytes of that branch page flipped.
CASE="$T/b2"; cp -a "$B" "$CASE"
for o in $(seq 16 61 4095); do lm flip "$CASE/data.mdb" $((root * 4096 + o)) 0x5a; done
salv b2 "$CASE" "$T/b2.dst"
check "b2: exit 5 or 0, no crash" test "$RC" -eq 5 -o "$RC" -eq 0
check "b2: every pending event recovered" subset "$PENDING" "$(ids "$T/b2.dst")"
check "b2: only appended ids" subset "$(ids "$T/b2.dst")" "$APPENDED"
check "b2: DST verifies" verify_clean "$T/b2.dst"
# b3: a live leaf page's header (lower/upper) damaged: its records are
# lost (unless stale copies survive), all others recovered.
CASE="$T/b3"; cp -a "$B" "$CASE"
leaf=$(q 'sorted(I["events"]["leaves"], key=int)[3]')
LOST=$(q "I['events']['leaves']['$leaf']")
lm flip "$CASE/data.mdb" $((leaf * 4096 + 13)) 0x7f
salv b3 "$CASE" "$T/b3.dst"
check "b3: exit 5, page $leaf named" test "$RC:$(q "[b['page'] for b in O['bad'] if b['kind'] == 'page']")" = "5:$leaf"
check "b3: all events of the other pages" subset "$(python3 -c 'import sys; d = set(sys.argv[2].split()); print(" ".join(x for x in sys.argv[1].split() if x not in d))' "$PENDING" "$LOST")" "$(ids "$T/b3.dst")"
check "b3: only appended ids" subset "$(ids "$T/b3.dst")" "$APPENDED"
check "b3: DST verifies" verify_clean "$T/b3.dst"
# b4: a node's data size made 5 MB: LMDB hands the walk a value that runs
# past the end of the file, the child dies of SIGBUS; the raw scan does
# the rest, and only that record is lost.
CASE="$T/b4"; cp -a "$B" "$CASE"
leaf=$(q 'sorted(I["events"]["leaves"], key=int)[5]')
FIRST=$(q "I['events']['leaves']['$leaf'][0]")
node=$(python3 -c 'import struct,sys; b=open(sys.argv[1],"rb").read(); print(struct.unpack_from("<H", b, int(sys.argv[2]) * 4096 + 16)[0])' "$CASE/data.mdb" "$leaf")
lm flip "$CASE/data.mdb" $((leaf * 4096 + node + 2)) 0x50
salv b4 "$CASE" "$T/b4.dst"
check "b4: exit 5, the walk died of a signal" test "$RC:$(q '"signal" in O["walk_error"]')" = "5:True"
check "b4: every other pending event recovered" subset "$(echo " $PENDING " | sed "s/ $FIRST / /")" "$(ids "$T/b4.dst")"
check "b4: only appended ids" subset "$(ids "$T/b4.dst")" "$APPENDED"
check "b4: DST verifies" verify_clean "$T/b4.dst"
# b5: both meta pages damaged; b6: only the newer one.
CASE="$T/b5"; cp -a "$B" "$CASE"
for o in 16 17 18 19 40 41; do lm flip "$CASE/data.mdb" $o 0xff; lm flip "$CASE/data.mdb" $((4096 + o)) 0xff; done
salv b5 "$CASE" "$T/b5.dst"
check "b5: exit 5, pages 0 and 1 named" test "$RC:$(q "[b['page'] for b in O['bad'] if b['kind'] == 'page']")" = "5:0 1"
check "b5: every pending event recovered" subset "$PENDING" "$(ids "$T/b5.dst")"
check "b5: only appended ids" subset "$(ids "$T/b5.dst")" "$APPENDED"
check "b5: three streams, their names kept" test "$(q 'O["streams"]'):$("$SP" -s "$T/b5.dst" stats --json | python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin)["streams"])))')" = "3:a b c"
check "b5: DST verifies" verify_clean "$T/b5.dst"
CASE="$T/b6"; cp -a "$B" "$CASE"
newer=$(python3 -c 'import struct,sys; b=open(sys.argv[1],"rb").read(); t=[struct.unpack_from("<Q", b, o + 144)[0] for o in (0, 4096)]; print(0 if t[0] > t[1] else 4096)' "$CASE/data.mdb")
lm flip "$CASE/data.mdb" $((newer + 16)) 0xff
salv b6 "$CASE" "$T/b6.dst"
check "b6: exit 5, raw scan" test "$RC:$(q 'O["method"]')" = "5:raw scan"
check "b6: every pending event recovered" subset "$PENDING" "$(ids "$T/b6.dst")"
check "b6: DST verifies" verify_clean "$T/b6.dst"

# b7: the name in stream b's row damaged: its events (and its dead
# event) go to a stream named for its id, and the report says so.
CASE="$T/b7"; cp -a "$B" "$CASE"
lm flip "$CASE/data.mdb" "$(lm rowkey "$CASE/data.mdb" b)" 0x42 # 'b' -> ' '
salv b7 "$CASE" "$T/b7.dst"
check "b7: exit 5, a bad stream row" test "$RC:$(q '(O["bad_rows"] > 0, O["events"])')" = "5:(True, 702)"
check "b7: the note names the new stream" test "$(q '[n for n in O["notes"] if "events are in stream salvaged-2" in n] != []')" = True
check "b7: every pending event" test "$(ids "$T/b7.dst")" = "$PENDING"
check "b7: the dead event's stream too" grep -q 'table=salvaged-2 seq=5 reason=rejected' <("$SP" -s "$T/b7.dst" dead list)
check "b7: DST verifies" verify_clean "$T/b7.dst"

# ---- (c) data.mdb cut in half ------------------------------------------------
CASE="$T/c"; cp -a "$B" "$CASE"
half=$(( $(stat -c %s "$CASE/data.mdb") / 2 ))
FIRSTHALF=$(q "[i for p, l in I['events']['leaves'].items() if (int(p) + 1) * I['ps'] <= $half for i in l]")
truncate -s "$half" "$CASE/data.mdb"
salv c "$CASE" "$T/c.dst"
check "c: exit 5, truncation said" test "$RC:$(q '"truncated" in O["walk_error"]')" = "5:True"
check "c: some events in the first half" test "$(echo $FIRSTHALF | wc -w)" -gt 50
check "c: every event of the first half recovered" subset "$FIRSTHALF" "$(ids "$T/c.dst")"
check "c: only appended ids" subset "$(ids "$T/c.dst")" "$APPENDED"
check "c: DST verifies" verify_clean "$T/c.dst"

# ---- (e) refusals ---------------------------------------------------------------
mkdir "$T/full"; echo keep > "$T/full/x"
salv e1 "$B" "$T/full"
check "e: a non-empty DST is refused (exit 2), left alone" test "$RC:$(ls "$T/full")" = "2:x"
grep -q "not an empty directory" "$T/e1.err" || not_ok "e: the refusal says why"
echo file > "$T/afile"
salv e2 "$B" "$T/afile"
check "e: a file as DST is refused" test "$RC" -eq 2
salv e3 "$B" "$B/inside"
check "e: DST inside SRC is refused" test "$RC:$(test -e "$B/inside" && echo made)" = "2:"
mkdir -m 0755 "$T/empty"
salv e4 "$B" "$T/empty"
check "e: an empty directory is taken, made 0700" test "$RC:$(stat -c %a "$T/empty")" = "0:700"
expect_exit "e: no spool at SRC: exit 1" 1 "$SP" salvage "$T/nosuch" "$T/e5" 2>/dev/null
check "e: ... and nothing made" test ! -e "$T/e5"
expect_exit "e: usage" 2 "$SP" salvage "$B" 2>/dev/null
# SRC in use: another process holds its spool.lock (any open spool does).
coproc HOLD { python3 -c 'import fcntl,sys
f = open(sys.argv[1]); fcntl.flock(f, fcntl.LOCK_SH); print("held", flush=True); sys.stdin.read()' "$B/spool.lock"; }
read -r held <&"${HOLD[0]}"
salv e6 "$B" "$T/busy"
check "e: SRC in use: exit 1, nothing made" test "$held:$RC:$(test -e "$T/busy" && echo made)" = "held:1:"
grep -q "in use" "$T/e6.err" || not_ok "e: says SRC is in use"
eval "exec ${HOLD[1]}>&-"; wait "$HOLD_PID" 2>/dev/null

# ---- (g) an encrypted spool: salvaged without its key -----------------------
"$SP" keygen "$T/key" >/dev/null
gen_events 900001 300 | "$SP" -s "$T/g" -k "$T/key" append -t g 2>/dev/null
salv g "$T/g" "$T/g.dst"
check "g: exit 0 without the key" test "$RC" -eq 0
pbytes() { "$SP" -s "$1" stats --json | python3 -c \
	'import json,sys; print(json.load(sys.stdin)["pending_bytes"])'; }
check "g: pending bytes as in SRC (sealed records counted as stored)" \
	test "$(pbytes "$T/g.dst")" = "$(pbytes "$T/g")"
check "g: DST opens with the key, every event readable" test \
	"$("$SP" -s "$T/g.dst" -k "$T/key" peek -n 0 | wc -l)" -eq 300
check "g: DST authenticates with the key" \
	"$SP" -s "$T/g.dst" -k "$T/key" verify

# ---- the shipper ships from a salvaged spool --------------------------------
cp -a "$T/a.dst" "$T/spool"
start_mock
write_config "$T/c.ini"
expect_exit "run --until-empty on DST" 0 timeout 120 "$SP" run -c "$T/c.ini" --until-empty 2>>"$T/run.log"
got=$(curl -s --max-time 5 "http://127.0.0.1:$MOCK_PORT/ids" | sort -n | tr '\n' ' ' | sed 's/ $//')
check "every event of DST delivered" test "$got" = "$(ids "$T/a.dst")"
finish
