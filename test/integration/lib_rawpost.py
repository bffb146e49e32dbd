#!/usr/bin/env python3
"""lib_rawpost.py - for the ingest tests: one POST over a raw socket by a
client that writes the whole request before it reads the answer (as
Fluent Bit and Python's http.client do), so a server that answers early
and closes shows up as a reset instead of an answer.

usage: lib_rawpost.py PORT PATH [options]
  --size N         body of N newline bytes (blank lines), or
  --file F         body from F
  --chunked        Transfer-Encoding: chunked (64 KiB chunks)
  --expect         send Expect: 100-continue and wait for the server's
                   word before the body (none is sent when the final
                   answer comes first)
  --length N       announce Content-Length N and send no body at all
  -H 'K: V'        another header (repeatable)
  --again FILE     afterwards, on the same connection, POST FILE to PATH
                   and report its status
  --again-H 'K: V' a header of that request (repeatable)
Prints one line: status=CODE|reset|closed sent=all|none|part
again=CODE|closed|- and exits 0 (the caller checks the line).
"""
import http.client
import select
import socket
import sys


def parse(argv):
    o = dict(port=int(argv[1]), path=argv[2], size=None, file=None,
             chunked=False, expect=False, length=None, headers=[],
             again=None, again_headers=[])
    i = 3
    while i < len(argv):
        a = argv[i]
        if a in ("--chunked", "--expect"):
            o[a[2:]] = True
            i += 1
            continue
        v = argv[i + 1]
        if a == "--size":
            o["size"] = int(v)
        elif a == "--length":
            o["length"] = int(v)
        elif a == "--file":
            o["file"] = v
        elif a == "-H":
            o["headers"].append(v)
        elif a == "--again":
            o["again"] = v
        elif a == "--again-H":
            o["again_headers"].append(v)
        i += 2
    return o


def body_of(o):
    if o["file"]:
        with open(o["file"], "rb") as f:
            return f.read()
    return b"\n" * (o["size"] or 0)


def head(o, n, chunked, expect):
    h = ["POST %s HTTP/1.1" % o["path"], "Host: 127.0.0.1:%d" % o["port"],
         "User-Agent: lib_rawpost"]
    h += ["Transfer-Encoding: chunked"] if chunked else \
        ["Content-Length: %d" % n]
    if expect:
        h.append("Expect: 100-continue")
    h += o["headers"]
    return ("\r\n".join(h) + "\r\n\r\n").encode()


def framed(body, chunked):
    if not chunked:
        return body
    out = []
    for i in range(0, len(body), 65536):
        c = body[i:i + 65536]
        out.append(b"%x\r\n" % len(c) + c + b"\r\n")
    out.append(b"0\r\n\r\n")
    return b"".join(out)


def interim(s):
    """After Expect: the status of the server's first word (100 or a
    final one, still unread), or None when it said nothing in 5 s."""
    r, _, _ = select.select([s], [], [], 5)
    if not r:
        return None
    data = s.recv(12, socket.MSG_PEEK)
    if not data.startswith(b"HTTP/1.1 "):
        return None
    code = int(data[9:12])
    if code == 100:
        buf = b""
        while not buf.endswith(b"\r\n\r\n"):
            buf += s.recv(1)
    return code


def answer(s):
    r = http.client.HTTPResponse(s)
    r.begin()
    r.read()
    return r.status, r.will_close


def one(s, o, body):
    """Sends one request, returns (status, sent, will_close)."""
    chunked = o["chunked"]
    if o["length"] is not None:
        s.sendall(head(o, o["length"], False, False))
        sent = "none"
    elif o["expect"]:
        s.sendall(head(o, len(body), chunked, True))
        code = interim(s)
        sent = "none"
        if code is None or code == 100:
            s.sendall(framed(body, chunked))
            sent = "all"
    else:
        s.sendall(head(o, len(body), chunked, False) + framed(body, chunked))
        sent = "all"
    st, close = answer(s)
    return st, sent, close


def main():
    o = parse(sys.argv)
    s = socket.create_connection(("127.0.0.1", o["port"]), timeout=60)
    try:
        st, sent, close = one(s, o, body_of(o))
    except (ConnectionResetError, BrokenPipeError):
        print("status=reset sent=part again=-")
        return
    except http.client.RemoteDisconnected:
        print("status=closed sent=all again=-")
        return
    again = "-"
    if o["again"]:
        o2 = dict(o, file=o["again"], size=None, chunked=False,
                  expect=False, length=None, headers=o["again_headers"])
        try:
            again = str(one(s, o2, body_of(o2))[0])
        except (OSError, http.client.HTTPException):
            again = "closed"
    print("status=%s sent=%s again=%s" % (st, sent, again))


if __name__ == "__main__":
    main()
