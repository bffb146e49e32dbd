#!/usr/bin/env bash
# 0302: request bodies and their limits.  gzip bodies (one or several
# members) are taken; a body over max_body_bytes gets 413 - announced by
# Content-Length (after the body was read and dropped, or from the
# headers with Expect: 100-continue or past 128 MiB), chunked once the
# limit is passed, or after decompression for a gzip bomb; corrupt gzip
# 400, other encodings 415.  Nothing of a refused request reaches the spool.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ingest.sh"
LIMIT=65536
ingest_config "$T/c.ini" "max_body_bytes = 64K"
start_ingest "$T/c.ini"

# gzip: one member, then two concatenated.
gen_events 1 60 > "$T/a"
gzip -c "$T/a" > "$T/a.gz"
code=$(post /v1/events/gz -H 'Content-Encoding: gzip' --data-binary @"$T/a.gz")
check "gzip body: 200 (got $code)" test "$code" = 200
check "gzip body: 60 events stored" test "$(spool_pending gz)" -eq 60
gen_events 100 40 > "$T/b"
gzip -c "$T/b" > "$T/b.gz"
cat "$T/a.gz" "$T/b.gz" > "$T/ab.gz"
code=$(post /v1/events/gz2 -H 'Content-Encoding: gzip' --data-binary @"$T/ab.gz")
check "two gzip members: 200 (got $code)" test "$code" = 200
check "two gzip members: 100 events stored" test "$(spool_pending gz2)" -eq 100
"$SP" -s "$T/spool" peek -t gz -n 1 > "$T/peek"
check "stored as plain JSON" grep -q '^{"__time":' "$T/peek"

# gzip bombs: small on the wire, over the limit once inflated.
head -c 20000000 /dev/zero | gzip -9 > "$T/bomb.gz"
check "the bomb is under the wire limit" test "$(stat -c %s "$T/bomb.gz")" -lt $LIMIT
start=$(date +%s%N)
code=$(post /v1/events/gz -H 'Content-Encoding: gzip' --data-binary @"$T/bomb.gz")
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "gzip bomb: 413 (got $code)" test "$code" = 413
check "gzip bomb: says after decompression" answer_is '"decompression" in a["message"]'
check "gzip bomb: answered in ${ms} ms (< 5000)" test "$ms" -lt 5000
gen_events 1000 1000 | gzip -c > "$T/big-events.gz"
code=$(post /v1/events/gz -H 'Content-Encoding: gzip' --data-binary @"$T/big-events.gz")
check "valid events inflating past the limit: 413 (got $code)" test "$code" = 413

# Corrupt, cut short, other encodings.
printf 'not gzip at all' > "$T/junk"
code=$(post /v1/events/gz -H 'Content-Encoding: gzip' --data-binary @"$T/junk")
check "not gzip: 400 (got $code)" test "$code" = 400
check "not gzip: says so" answer_is '"gzip" in a["message"]'
head -c 200 "$T/a.gz" > "$T/cut.gz"
code=$(post /v1/events/gz -H 'Content-Encoding: gzip' --data-binary @"$T/cut.gz")
check "gzip cut short: 400 (got $code)" test "$code" = 400
code=$(post /v1/events/gz -H 'Content-Encoding: br' --data-binary @"$T/a")
check "Content-Encoding br: 415 (got $code)" test "$code" = 415
check "nothing of the refused gzip requests stored" test "$(spool_pending gz)" -eq 60

# The limit itself: exactly max_body_bytes passes, one byte more does not.
exact() { # N: the 60 events padded with newlines to N bytes
	cat "$T/a"
	head -c $(( $1 - $(stat -c %s "$T/a") )) /dev/zero | tr '\0' '\n'
}
exact $LIMIT > "$T/exact"
exact $((LIMIT + 1)) > "$T/over"
code=$(post /v1/events/lim --data-binary @"$T/exact")
check "body of exactly max_body_bytes: 200 (got $code)" test "$code" = 200
code=$(post /v1/events/lim --data-binary @"$T/over")
check "one byte more: 413 (got $code)" test "$code" = 413
check "413 names the limit" answer_is '"65536" in a["message"]'
code=$(post /v1/events/lim -H 'Transfer-Encoding: chunked' --data-binary @"$T/exact")
check "chunked, at the limit: 200 (got $code)" test "$code" = 200
code=$(post /v1/events/lim -H 'Transfer-Encoding: chunked' --data-binary @"$T/over")
check "chunked, one byte over: 413 (got $code)" test "$code" = 413
head -c 5000000 /dev/zero | tr '\0' '\n' > "$T/huge"
code=$(post /v1/events/lim -H 'Transfer-Encoding: chunked' --data-binary @"$T/huge")
check "chunked, 5 MB: 413 (got $code)" test "$code" = 413
code=$(post /v1/events/lim -H 'Expect: 100-continue' --data-binary @"$T/huge")
check "Expect: 100-continue, 5 MB: 413 (got $code)" test "$code" = 413
code=$(post /v1/events/lim -H 'Expect: 100-continue' --data-binary @"$T/exact")
check "Expect: 100-continue, at the limit: 200 (got $code)" test "$code" = 200
check "only the bodies at the limit stored" test "$(spool_pending lim)" -eq 180

# A Content-Length past what is read and dropped (128 MiB) is answered
# from the headers: the client here never sends one byte of it.
check "413 from the headers alone" timeout 20 python3 - "$IG_PORT" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"POST /v1/events/lim HTTP/1.1\r\nHost: x\r\n"
          b"Content-Type: application/json\r\n"
          b"Content-Length: 200000000\r\n\r\n")
data = b""
while b"\r\n\r\n" not in data:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
sys.exit(0 if data.startswith(b"HTTP/1.1 413") else 1)
EOF

check "still healthy" healthy
stop_ingest
check "SIGTERM exits 0" test "$IG_RC" -eq 0
check "no sanitizer complaint" bash -c "! grep -Eq 'ERROR: |runtime error' '$IG_LOG'"
finish
