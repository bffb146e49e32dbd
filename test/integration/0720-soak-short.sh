#!/usr/bin/env bash
# 0720: the soak (tools/soak.sh, docs/soak.md) for one minute: 300 events/s
# by `spoolship append` and the ingest endpoint, shipped to the mock with
# 10% faults and an outage of 2 s every 12 s (503, then frozen), sampled
# every 2 s, warm-up the first 22 s.  It checks: no acknowledged event is
# missing at the mock after the final drain and none is dead; descriptors
# other than TCP connections never exceed their warm-up maximum; TCP
# connections stay within max_in_flight + 2; the shipper exits 0 on SIGTERM
# (under ASan LeakSanitizer runs then); no producer or scrape failed.  RSS
# is held to +2 MiB over the warm-up only in a build without sanitizers;
# under ASan (make check) it is sampled and shown, not enforced.
# test-serial: rates, descriptors and connections are sampled over time
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
for f in mock-polaris load-ingest; do
	[ -x "$BUILD_DIR/$f" ] || skip "$BUILD_DIR/$f not built"
done

SOAK_MINUTES=1 SOAK_DRAIN_SECONDS=90 SOAK_DIR="$T" SOAK_OUT="$T/soak.tsv" \
	bash "$top/tools/soak.sh" >"$T/soak.out" 2>&1
rc=$?
cat "$T/soak.out"
check "soak exits 0" test "$rc" -eq 0
check "soak says PASS" grep -q '^soak: PASS$' "$T/soak.out"
check "no event missing" grep -q ' 0 missing,' "$T/soak.out"
# 31 samples in 60 s at 2 s, plus the drain's: at least 25 rows whatever
# the machine's load.
rows=$(( $(wc -l <"$T/soak.tsv") - 1 ))
check "sampled throughout ($rows rows)" test "$rows" -ge 25
check "warm-up and steady samples" bash -c \
	"grep -q '	warmup	' '$T/soak.tsv' && grep -q '	steady	' '$T/soak.tsv'"
check "outages of both kinds happened" bash -c \
	"grep -q '	503	' '$T/soak.tsv' && grep -q '	frozen	' '$T/soak.tsv'"
finish
