#!/usr/bin/env python3
"""tools/bench-ship-probe.py - the measuring half of tools/bench-ship.sh
(the shipper's figures; the script is the other half).  Loopback only.
Every process it starts gets PR_SET_PDEATHSIG and is killed when it ends.

  run [--timeout S] CMD...     runs CMD; prints "WALL USER SYS RC" (seconds;
                               the child's CPU from wait4's rusage; not its
                               ru_maxrss: a child forked by Python inherits
                               Python's RSS in it, so memory is sampled)
  stats PORT KEY...            the mock's /stats values, one a line
  reset PORT                   POST /control/reset to the mock
  start MOCK SPOOLSHIP SPOOL CONFIG IN_FLIGHT SPOOL_MAX [drain]
                               starts mock-polaris -v --rpm 0, writes CONFIG
                               and starts `spoolship run -c CONFIG`; reports
                               the time from the shipper's start to the
                               mock's first events request (the -v line),
                               then stops it, or with "drain" runs it with
                               --until-empty and samples its memory:
                               /proc/PID/status every 20 ms (VmHWM, RssAnon,
                               RssFile), the spool map's Rss in
                               /proc/PID/smaps every 200 ms
  pace RATE SECONDS            ~200-byte events to stdout, RATE a second on
                               an absolute schedule, each with "t" = the
                               wall time (ms) it was written, as a string
  receive PORTFILE EXPECT TIMEOUT
                               a minimal Events-API receiver (HTTP/1.1,
                               answers 200); per event (arrival - "t"); exits
                               once EXPECT distinct ids arrived or TIMEOUT
                               seconds passed; prints "EVENTS UNIQUE REQUESTS
                               P50 P99 MAX" (ms)
"""
import ctypes
import gzip
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def spawn(argv, **kw):
    return subprocess.Popen(argv, preexec_fn=_die_with_parent, **kw)


def reap(p, timeout=None):
    """wait4 on p: (status, rusage) or None after timeout seconds."""
    end = None if timeout is None else time.monotonic() + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            return status, ru
        if end is not None and time.monotonic() >= end:
            return None
        time.sleep(0.005)


def stop(p, sig=signal.SIGTERM, grace=10):
    if p is None or p.returncode is not None:
        return
    try:
        p.send_signal(sig)
    except ProcessLookupError:
        return
    if reap(p, grace) is None:
        p.kill()
        reap(p)


def mock_get(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                timeout=10) as r:
        return r.read()


def mock_stats(port):
    return json.loads(mock_get(port, "/stats"))


# ---- run -----------------------------------------------------------------

def cmd_run(args):
    timeout = None
    if args[:1] == ["--timeout"]:
        timeout, args = float(args[1]), args[2:]
    t0 = time.monotonic()
    p = spawn(args)
    try:
        r = reap(p, timeout)
        if r is None:
            print("bench-ship-probe: %s: timed out after %g s" %
                  (args[0], timeout), file=sys.stderr)
            stop(p, signal.SIGKILL)
            return 1
    finally:
        stop(p, signal.SIGKILL)
    wall = time.monotonic() - t0
    _, ru = r
    print("%.3f %.3f %.3f %d" % (wall, ru.ru_utime, ru.ru_stime,
                                 p.returncode))
    return 0


def cmd_stats(args):
    d = mock_stats(int(args[0]))
    for k in args[1:]:
        v = d
        for part in k.split("."):
            v = v.get(part, 0) if isinstance(v, dict) else 0
        print(v)
    return 0


def cmd_reset(args):
    req = urllib.request.Request("http://127.0.0.1:%d/control/reset" %
                                 int(args[0]), data=b"", method="POST")
    urllib.request.urlopen(req, timeout=10).read()
    return 0


# ---- start: first request and memory ----------------------------------------

def status_kb(pid):
    """VmRSS, RssAnon, RssFile, VmHWM of pid in kB (None once it is gone)."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                    out[k] = int(v.split()[0])
    except OSError:
        return None
    return out if len(out) == 4 else None


def spool_map_kb(pid, name="data.mdb"):
    """Rss of pid's mapping of the spool's data file, in kB (0 if none)."""
    kb, cur = 0, False
    try:
        with open("/proc/%d/smaps" % pid) as f:
            for line in f:
                if line[0] in "0123456789abcdef" and " " in line and \
                        "-" in line.split(" ", 1)[0]:
                    cur = line.rstrip("\n").endswith("/" + name)
                elif cur and line.startswith("Rss:"):
                    kb += int(line.split()[1])
    except OSError:
        return 0
    return kb


def cmd_start(args):
    mock_bin, sp_bin, spool, cfg, in_flight, spool_max = args[:6]
    drain = args[6:7] == ["drain"]
    wdir = os.path.dirname(os.path.abspath(cfg))
    portfile = os.path.join(wdir, "probe-mock.port")
    if os.path.exists(portfile):
        os.unlink(portfile)
    mock = spawn([mock_bin, "--port", "0", "--port-file", portfile,
                  "--rpm", "0", "-v"], stdout=subprocess.DEVNULL,
                 stderr=subprocess.PIPE)
    sh = None
    first = [None]
    got_first = threading.Event()

    def read_mock():
        # The mock writes one stderr line per events request (-v), after
        # the request's body was read: stamp the first, drain the rest so
        # the mock never blocks on a full pipe.
        for line in mock.stderr:
            if first[0] is None and line.startswith(b"mock-polaris: /v1/"):
                first[0] = time.monotonic()
                got_first.set()

    try:
        end = time.monotonic() + 5
        while not os.path.exists(portfile):
            if time.monotonic() > end or mock.poll() is not None:
                print("bench-ship-probe: the mock did not start",
                      file=sys.stderr)
                return 1
            time.sleep(0.01)
        port = int(open(portfile).read())
        threading.Thread(target=read_mock, daemon=True).start()
        with open(cfg, "w") as f:
            f.write("[spool]\npath = %s\nmax_bytes = %s\n[ship]\n"
                    "url = http://127.0.0.1:%d/v1/events/{table}\n"
                    "max_in_flight = %s\nrequests_per_minute = 0\n" %
                    (spool, spool_max, port, in_flight))
        argv = [sp_bin, "run", "-c", cfg] + (["--until-empty"] if drain
                                             else [])
        log = open(os.path.join(wdir, "run.log"), "ab")
        t0 = time.monotonic()
        sh = spawn(argv, stderr=log)
        peak = {"VmRSS": 0, "RssAnon": 0, "RssFile": 0, "VmHWM": 0}
        map_peak, n = 0, 0
        if not drain:
            if not got_first.wait(10):
                print("bench-ship-probe: no request within 10 s",
                      file=sys.stderr)
                return 1
            stop(sh)
            ru = None
        else:
            while True:
                r = reap(sh, 0)
                if r is not None:
                    break
                s = status_kb(sh.pid)
                if s is not None:
                    for k in peak:
                        peak[k] = max(peak[k], s[k])
                n += 1
                if n % 10 == 0:  # smaps costs more: every 200 ms
                    map_peak = max(map_peak, spool_map_kb(sh.pid))
                time.sleep(0.02)
                if time.monotonic() - t0 > 900:
                    print("bench-ship-probe: drain over 900 s",
                          file=sys.stderr)
                    return 1
            ru = r[1]
        wall = time.monotonic() - t0
        st = mock_stats(port)
        first_ms = (first[0] - t0) * 1000 if first[0] is not None else -1
        print("first_ms=%.1f wall=%.3f rc=%d events=%d unique=%d "
              "hwm_kb=%d anon_peak_kb=%d file_peak_kb=%d map_peak_kb=%d "
              "user=%.3f sys=%.3f" %
              (first_ms, wall, sh.returncode, st["events_accepted"],
               st["unique_ids"], peak["VmHWM"],
               peak["RssAnon"], peak["RssFile"], map_peak,
               ru.ru_utime if ru else 0, ru.ru_stime if ru else 0))
        return 0
    finally:
        stop(sh, signal.SIGKILL)
        stop(mock)


# ---- pace: a producer at a fixed rate ------------------------------------------

def cmd_pace(args):
    rate, secs = float(args[0]), float(args[1])
    n = int(rate * secs)
    out = sys.stdout.buffer
    m0 = time.monotonic()
    for i in range(n):
        d = m0 + i / rate - time.monotonic()
        if d > 0:
            time.sleep(d)
        now = time.time()
        iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
        out.write(('{"__time":"%s.%03dZ","id":%d,"t":"%.3f",'
                   '"channel":"#en.wikipedia","user":"GELongstreet%04d",'
                   '"page":"Battle_of_Gettysburg","added":%d,"deleted":%d,'
                   '"isRobot":false,"comment":"typo fix"}\n' %
                   (iso, int(now * 1000) % 1000, i, now * 1000, i % 9973,
                    i % 500, i % 37)).encode())
        out.flush()
    return 0


# ---- receive: arrival time of each event ----------------------------------------

class Recv:
    lock = threading.Lock()
    lat = []
    ids = set()
    requests = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        now = time.time() * 1000
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
        lat, ids = [], []
        for line in body.split(b"\n"):
            if line.strip():
                ev = json.loads(line)
                lat.append(now - float(ev["t"]))
                ids.append(ev["id"])
        with Recv.lock:
            Recv.lat.extend(lat)
            Recv.ids.update(ids)
            Recv.requests += 1
        reply = json.dumps({"accepted": len(lat), "dropped": 0}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *a):
        pass


def pct(v, p):
    return v[min(len(v) - 1, int(p / 100.0 * len(v)))] if v else -1


def cmd_receive(args):
    portfile, expect, timeout = args[0], int(args[1]), float(args[2])
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(portfile + ".tmp", portfile)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    end = time.monotonic() + timeout
    while not done.is_set() and time.monotonic() < end:
        with Recv.lock:
            if len(Recv.ids) >= expect:
                break
        done.wait(0.05)
    srv.shutdown()
    with Recv.lock:
        v = sorted(Recv.lat)
        print("%d %d %d %.1f %.1f %.1f" % (len(v), len(Recv.ids),
                                           Recv.requests, pct(v, 50),
                                           pct(v, 99), v[-1] if v else -1))
    return 0


def main():
    cmds = {"run": cmd_run, "stats": cmd_stats, "reset": cmd_reset,
            "start": cmd_start, "pace": cmd_pace, "receive": cmd_receive}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        return 2
    return cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
