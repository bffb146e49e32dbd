#!/usr/bin/env python3
"""lib_fluentbit.py - for the ingest tests: posts events the way Fluent
Bit's out_http does with `format json_lines`, `json_date_key __time` and
`json_date_format iso8601`, so that the endpoint meets what that sender
really sends.

What is copied from Fluent Bit (plugins/out_http, flb_http_client):
- one keep-alive connection, reopened when the server closes it;
- POST with Host, Content-Length, Content-Type: application/x-ndjson,
  User-Agent: Fluent-Bit and Connection: keep-alive, no Expect;
- the whole request (headers, then the body) is written before the
  answer is read: a server that answers early and closes makes the
  writer fail (EPIPE, ECONNRESET) without reading the answer;
- each record one line, `__time` first, as "%Y-%m-%dT%H:%M:%S.uuuuuuZ";
- the answer decides: 2xx done; 408, 429, 5xx or a connection error are
  retried (here at most RETRIES times, then counted as lost); any other
  4xx drops the chunk ("chunk will not be retried").

usage: lib_fluentbit.py PORT PATH FIRST N PER_REQUEST [LOG_BYTES [gzip]]
Sends ids FIRST..FIRST+N-1 in requests of PER_REQUEST events, each with
a "log" field of LOG_BYTES (default 120), gzipped with Content-Encoding:
gzip when asked (`compress gzip`), and prints one line:
  fluentbit: requests=.. ok=.. dropped=.. lost=.. retries=..
  conn_errors=.. events_ok=.. max_body=.. statuses=..
Exits 0 when every chunk was answered 2xx.
"""
import datetime
import gzip
import http.client
import sys
import time

RETRIES = 5


def record(i, now, log_bytes):
    msg = ("GET /api/v1/items/%d HTTP/1.1 200 " % i).ljust(log_bytes, "x")
    return ('{"__time":"%s","id":%d,"host":"web-03","stream":"stdout",'
            '"level":"info","log":"%s"}' % (now, i, msg))


def chunk_body(first, n, log_bytes):
    now = datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")
    return "".join(record(i, now, log_bytes) + "\n"
                   for i in range(first, first + n)).encode()


class Sender:
    def __init__(self, port, gz):
        self.port = port
        self.gzip = gz
        self.conn = None
        self.conn_errors = 0

    def post(self, path, body):
        """The status, or None when the connection failed."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                   timeout=120)
        c = self.conn
        try:
            c.putrequest("POST", path, skip_host=True,
                         skip_accept_encoding=True)
            c.putheader("Host", "127.0.0.1:%d" % self.port)
            c.putheader("Content-Length", str(len(body)))
            c.putheader("Content-Type", "application/x-ndjson")
            if self.gzip:
                c.putheader("Content-Encoding", "gzip")
            c.putheader("User-Agent", "Fluent-Bit")
            c.putheader("Connection", "keep-alive")
            c.endheaders(message_body=body)
            r = c.getresponse()
            r.read()
            if r.getheader("Connection", "").lower() == "close":
                self.close()
            return r.status
        except (OSError, http.client.HTTPException) as e:
            print("fluentbit: connection error: %r" % e, file=sys.stderr)
            self.conn_errors += 1
            self.close()
            return None

    def close(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = None


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    first, n, per = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    log_bytes = int(sys.argv[6]) if len(sys.argv) > 6 else 120
    gz = len(sys.argv) > 7 and sys.argv[7] == "gzip"
    s = Sender(port, gz)
    st = dict(requests=0, ok=0, dropped=0, lost=0, retries=0, events_ok=0,
              max_body=0)
    statuses = {}
    for start in range(first, first + n, per):
        k = min(per, first + n - start)
        body = chunk_body(start, k, log_bytes)
        if gz:
            body = gzip.compress(body)
        st["max_body"] = max(st["max_body"], len(body))
        for attempt in range(RETRIES + 1):
            st["requests"] += 1
            code = s.post(path, body)
            statuses[code] = statuses.get(code, 0) + 1
            if code is not None and 200 <= code < 300:
                st["ok"] += 1
                st["events_ok"] += k
                break
            if code is not None and 400 <= code < 500 and \
                    code not in (408, 429):
                st["dropped"] += 1
                break
            if attempt == RETRIES:
                st["lost"] += 1
            else:
                st["retries"] += 1
                time.sleep(0.2)
    s.close()
    print("fluentbit: " + " ".join("%s=%d" % kv for kv in st.items()) +
          " conn_errors=%d statuses=%s" % (s.conn_errors, ",".join(
              "%s:%d" % kv for kv in sorted(statuses.items(),
                                             key=lambda kv: str(kv[0])))))
    sys.exit(0 if st["events_ok"] == n else 1)


if __name__ == "__main__":
    main()
