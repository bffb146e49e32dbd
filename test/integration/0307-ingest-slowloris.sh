#!/usr/bin/env bash
# 0307: slow clients.  With connection_timeout = 2s, 40 connections that
# send a byte a second - half still in their headers, half in their body -
# and one idle keep-alive connection are closed after about 2 s although
# each keeps sending, while ordinary requests meanwhile get 200 at once.
# max_connections: connections beyond it wait until others time out.
# test-serial: connections are timed out after about 2 s
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ingest.sh"
ingest_config "$T/c.ini" "connection_timeout = 2s"
start_ingest "$T/c.ini"

cat > "$T/slow.py" <<'EOF'
import http.client, select, socket, sys, threading, time

port = int(sys.argv[1])
now = sys.argv[2]
event = ('{"__time":"%s","id":1}' % now).encode()
results = {}

def drip(name, prefix, rest):
    """Sends prefix, then rest a byte a second; returns when the server
    closes the connection (or after 20 s)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    t0 = time.monotonic()
    s.sendall(prefix)
    closed = None
    for b in rest:
        r, _, _ = select.select([s], [], [], 1.0)
        if r:
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                closed = time.monotonic() - t0
                break
        try:
            s.sendall(bytes([b]))
        except OSError:
            closed = time.monotonic() - t0
            break
        if time.monotonic() - t0 > 20:
            break
    results[name] = closed
    s.close()

head = (b"POST /v1/events/slow HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
        % (len(event) * 40))
threads = []
for i in range(20):
    threads.append(threading.Thread(target=drip, args=("head%d" % i, b"", head)))
    threads.append(threading.Thread(target=drip, args=("body%d" % i, head, event * 40)))

def idle():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", "/v1/events/fast", body=event,
              headers={"Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    t0 = time.monotonic()
    r, _, _ = select.select([c.sock], [], [], 20)
    results["idle"] = time.monotonic() - t0 if r and not c.sock.recv(1) else None
threads.append(threading.Thread(target=idle))
for t in threads:
    t.start()

# Ordinary requests meanwhile: each answered 200 quickly.
slowest = 0.0
for i in range(25):
    t0 = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("POST", "/v1/events/fast", body=event,
              headers={"Content-Type": "application/json"})
    r = c.getresponse(); r.read(); c.close()
    if r.status != 200:
        print("ordinary request answered", r.status); sys.exit(1)
    slowest = max(slowest, time.monotonic() - t0)
    time.sleep(0.1)
for t in threads:
    t.join()
print("slowest ordinary request: %.3f s" % slowest)
bad = {k: v for k, v in results.items() if v is None or not 1.5 <= v <= 6}
print("closed after (s):", sorted("%s=%.1f" % (k, v) for k, v in results.items() if v))
if bad:
    print("not closed in 1.5-6 s:", bad); sys.exit(1)
sys.exit(0 if slowest < 1.5 else 1)
EOF
check "slow clients cut off, others served" timeout 120 python3 "$T/slow.py" "$IG_PORT" "$(now_iso)"
check "cut-offs logged" grep -q 'did not send a whole request in time' "$IG_LOG"
check "nothing of the slow requests stored" test "$(spool_pending slow)" -eq 0
check "ordinary requests stored" test "$(spool_pending fast)" -eq 26
check "still healthy" healthy
stop_ingest
check "SIGTERM exits 0" test "$IG_RC" -eq 0
check "no sanitizer complaint" bash -c "! grep -Eq 'ERROR: |runtime error' '$IG_LOG'"

# max_connections: 20 idle connections against a limit of 8.  At the
# limit libmicrohttpd stops accepting: the others wait in the listen
# backlog, so the 20 are served (and closed for idling) in waves of at
# most 8, 2 s apart; then the endpoint serves again.
rm -rf "$T/spool"
ingest_config "$T/m.ini" "connection_timeout = 2s" "max_connections = 8"
start_ingest "$T/m.ini"
check "at most 8 connections at a time, all closed in time" \
	timeout 60 python3 - "$IG_PORT" <<'EOF'
import select, socket, sys, time
port = int(sys.argv[1])
socks = [socket.create_connection(("127.0.0.1", port), timeout=10)
         for _ in range(20)]
t0 = time.monotonic()
closed_at = {}
while len(closed_at) < 20 and time.monotonic() - t0 < 15:
    r, _, _ = select.select([s for s in socks if s not in closed_at], [], [], 0.1)
    for s in r:
        try:
            data = s.recv(1)
        except OSError:
            data = b""
        if not data:
            closed_at[s] = time.monotonic() - t0
times = sorted(closed_at.values())
print("closed after (s):", " ".join("%.1f" % t for t in times))
first_wave = sum(1 for t in times if t < 3.0)
sys.exit(0 if len(times) == 20 and 1 <= first_wave <= 8 and
         times[-1] <= 12 else 1)
EOF
check "serves again once they are gone" wait_for 20 healthy
stop_ingest
check "max_connections: SIGTERM exits 0" test "$IG_RC" -eq 0
finish
