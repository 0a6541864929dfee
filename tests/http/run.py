#!/usr/bin/env python3
"""idmint through real web servers and through CGI mode.

The same table of requests is sent through lighttpd, nginx and Apache in
front of a multiwatch pool of real workers, and through the binary run as
a CGI program.  Prints "N passed, N failed" and exits non-zero on any
failure.

    python3 tests/http/run.py [SUITE ...]

Each SUITE is a module here (suite_*.py) that imports harness for the
helpers and the counters, and may define:
  prepare(stack)                  before the pool starts (keys, config);
  cases(stack)                    a table of rows, sent through every front
                                  end and in CGI mode (see harness.run_table);
  scenarios(stack, fronts, check) anything else, once the tables are done.
"""
import json
import os
import time
import re
import signal
import socket
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import openapi  # noqa: E402
import servers  # noqa: E402
from harness import BIN, check, cgi, run_table, via_cgi, via_http  # noqa: E402


# The runner's own table, sent before each suite's: (name, method, path,
# body, headers, status, check(resp)).
def base_cases():
    big = b'{"username":"' + b"x" * 70000 + b'"}'
    return [
        ("healthz", "GET", "/healthz", None, {}, 200,
         lambda r: r.json == harness.HEALTHZ),
        ("headers", "GET", "/healthz", None, {}, 200,
         lambda r: r.headers.get("content-type") == "application/json; charset=utf-8"
         and r.headers.get("cache-control") == "no-store"),
        ("404 plain", "GET", "/nothing-here", None, {}, 404,
         lambda r: r.json == {"error": "Not found"}),
        ("404 v1 envelope", "GET", "/v1/nothing", None, {}, 404,
         lambda r: r.json["message"] == "Not found" and r.json["success"] is False
         and r.json["data"] is None and r.json["status"] == "error"
         and r.headers.get("x-request-id") == r.json["meta"]["request_id"]),
        ("405 on /", "GET", "/", None, {}, 405,
         lambda r: r.json == {"error": "Method not allowed"}
         and r.headers.get("allow") == "POST"),
        ("405 on /v1/encode", "POST", "/v1/encode", b"", {}, 405,
         lambda r: r.json["message"] == "Method not allowed"
         and r.headers.get("allow") == "GET"),
        ("405 on /healthz", "DELETE", "/healthz", None, {}, 405,
         lambda r: r.headers.get("allow") == "GET"),
        ("413 body over 64 KiB", "POST", "/", big,
         {"Content-Type": "application/json"}, 413,
         lambda r: r.json == {"error": "Request body too large"}),
        ("the OpenAPI document, as in doc/", "GET", "/openapi.json", None, {}, 200,
         lambda r: r.body == DOC and r.headers.get("content-type") ==
         "application/json; charset=utf-8" and r.json["info"]["version"] == VERSION),
        ("405 on /openapi.json", "POST", "/openapi.json", b"", {}, 405,
         lambda r: r.headers.get("allow") == "GET"),
        ("metrics off: 404, as for no such path", "GET", "/metrics", None, {}, 404,
         lambda r: r.json == {"error": "Not found"}),
        ("metrics off: other methods 404 too", "POST", "/metrics", b"", {}, 404,
         lambda r: r.json == {"error": "Not found"}),
    ]


with open(openapi.DOC, "rb") as _f:
    DOC = _f.read()
VERSION = subprocess.run([BIN, "-V"], capture_output=True, text=True).stdout.split()[-1]


def test_cgi_protocol(stack):
    r = cgi("GET", "/healthz", env_extra={"IDMINT_CONF": stack.conf})
    check(r.rc == 0, "cgi: exit status 0, got %d" % r.rc)
    check(r.first_line == "Status: 200 OK", "cgi: first line is the Status line: %r" % r.first_line)
    check(r.headers.get("content-length") == str(len(r.body)), "cgi: Content-Length matches")
    r = cgi("POST", "/", b"{}", {"Content-Type": "application/json"},
            env_extra={"CONTENT_LENGTH": "9", "IDMINT_CONF": stack.conf})
    check(r.status == 400 and r.json == {"error": "Request body shorter than Content-Length"},
          "cgi: body cut short is 400: %d %r" % (r.status, r.body))
    r = cgi("POST", "/", b"{}", {"Content-Type": "application/json"},
            env_extra={"CONTENT_LENGTH": "99999999999999999999999", "IDMINT_CONF": stack.conf})
    check(r.status == 413 and r.json == {"error": "Request body too large"},
          "cgi: a Content-Length past 2^64 is too large, not junk: %d %r" % (r.status, r.body))
    r = cgi("POST", "/", b"{}", {"Content-Type": "application/json"},
            env_extra={"CONTENT_LENGTH": "2x", "IDMINT_CONF": stack.conf})
    check(r.status == 400 and r.json == {"error": "Invalid Content-Length"},
          "cgi: junk Content-Length is 400")
    bad = stack.conf + ".bad"
    with open(bad, "w") as f:
        f.write("db = /tmp\nmax_bodyy = 1\n")
    r = subprocess.run([BIN, "-t"], env=dict(os.environ, IDMINT_CONF=bad),
                       capture_output=True, timeout=10)
    check(r.returncode == 1 and (bad + ":2: unknown setting \"max_bodyy\"").encode() in r.stderr,
          "config error names file, line and setting: %r" % r.stderr)


def fcgi_healthz(sock):
    """One request straight over FastCGI with cgi-fcgi: proves the worker
    is past start-up (its signal handlers are in place)."""
    env = dict(os.environ, REQUEST_METHOD="GET", PATH_INFO="/healthz")
    p = subprocess.run(["cgi-fcgi", "-bind", "-connect", sock], env=env,
                       capture_output=True, timeout=10)
    harness.keep_cgi("GET", "/healthz", "", p.stdout)
    return json.dumps(harness.HEALTHZ, separators=(",", ":")).encode() in p.stdout


def fcgi_record(rtype, content, rid=1):
    return struct.pack(">BBHHBB", 1, rtype, rid, len(content), 0, 0) + content


def fcgi_stdout(data):
    """The FCGI_STDOUT content of a stream of FastCGI records."""
    out, i = b"", 0
    while i + 8 <= len(data):
        _, rtype, _, n, pad, _ = struct.unpack(">BBHHBB", data[i:i + 8])
        if rtype == 6:
            out += data[i + 8:i + 8 + n]
        i += 8 + n + pad
    return out


def fcgi_params(env):
    out = b""
    for k, v in env.items():
        k, v = k.encode(), v.encode()
        for n in (len(k), len(v)):
            out += bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)
        out += k + v
    return out


def one_worker(stack, name):
    """A single worker of the stack's binary and config on a socket of its
    own, in the foreground of spawn-fcgi: (process, socket)."""
    sock = os.path.join(stack.dir, name)
    p = subprocess.Popen(["spawn-fcgi", "-n", "-s", sock, "--", BIN], env=stack.env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    servers.wait_for(lambda: servers.unix_open(sock), "single worker")
    return p, sock


def exit_status(p):
    """p's exit status within 10 s; else it is killed and this is -999."""
    try:
        return p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        return -999


def in_read(pid):
    """Is the process blocked in read(2)?  (/proc/PID/syscall: number 0.)"""
    try:
        with open("/proc/%d/syscall" % pid) as f:
            return f.read().split()[0] == "0"
    except (OSError, IndexError):
        return False


def test_request_in_hand(stack):
    """SIGTERM while a worker waits for the rest of a body: it still reads
    it, answers in full, then exits 0."""
    p, sock = one_worker(stack, "hand.sock")
    body = b'{"username":"","token":""}'
    c = socket.socket(socket.AF_UNIX)
    c.settimeout(10)
    c.connect(sock)
    c.sendall(fcgi_record(1, struct.pack(">HB5x", 1, 0)) +
              fcgi_record(4, fcgi_params({"REQUEST_METHOD": "POST", "PATH_INFO": "/",
                                          "CONTENT_TYPE": "application/json",
                                          "CONTENT_LENGTH": str(len(body))})) +
              fcgi_record(4, b"") + fcgi_record(5, body[:5]))
    try:
        servers.wait_for(lambda: in_read(p.pid), "the worker to wait for the body", 10)
        p.send_signal(signal.SIGTERM)
        c.sendall(fcgi_record(5, body[5:]) + fcgi_record(5, b""))
        data = b""
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
    except (OSError, RuntimeError) as e:
        data = repr(e).encode()
    c.close()
    rc = exit_status(p)
    harness.keep_cgi("POST", "/", "", fcgi_stdout(data))
    check(b"Status: 401" in data and b"Please provide a username and token" in data,
          "SIGTERM mid-body: the request in hand is answered in full: %r" % data[:300])
    check(rc == 0, "SIGTERM mid-body: then the worker exits 0, got %d" % rc)


def test_sigterm(stack):
    """SIGTERM and SIGUSR1 stop a worker, which exits 0."""
    p, sock = one_worker(stack, "one.sock")
    check(fcgi_healthz(sock), "cgi-fcgi straight to a worker")
    for sig in (signal.SIGTERM,):
        p.send_signal(sig)
        rc = exit_status(p)
        check(rc == 0, "worker exits 0 on %s, got %d" % (sig.name, rc))
    p, sock2 = one_worker(stack, "two.sock")
    check(fcgi_healthz(sock2), "cgi-fcgi straight to a worker")
    p.send_signal(signal.SIGUSR1)
    rc = exit_status(p)
    check(rc == 0, "worker exits 0 on SIGUSR1, got %d" % rc)
    # spawn-fcgi drops the workers' stderr: `log = FILE` keeps their lines.
    with open(os.path.join(stack.dir, "idmint.log")) as f:
        lines = f.read().splitlines()
    check(any(re.match(r"idmint\[%d\]: info: stopping$" % p.pid, l) for l in lines),
          "the worker's own line is in the log file: %r" % lines[-3:])


def test_stop_in_accept(stack):
    """A stop signal that lands just before the blocking accept(2) (another
    worker took the connection that woke this one) stops the worker at
    once; it used to wait there for the next connection."""
    shim = os.path.join(stack.dir, "shim_accept.so")
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "shim_accept.c")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", shim, src, "-ldl"], check=True)
    sock = os.path.join(stack.dir, "race.sock")
    env = dict(stack.env, LD_PRELOAD=shim,
               ASAN_OPTIONS="verify_asan_link_order=0:" + os.environ.get("ASAN_OPTIONS", ""))
    p = subprocess.Popen(["spawn-fcgi", "-n", "-s", sock, "--", BIN], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        servers.wait_for(lambda: os.path.exists(sock), "the worker's socket")
        time.sleep(0.3)            # past start-up, into its wait
        c = socket.socket(socket.AF_UNIX)
        c.connect(sock)            # wakes it; the shim takes this one
        rc = p.wait(5)
        c.close()
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
        rc = -999 if rc != 0 else rc
    check(rc == 0, "a stop signal just before accept stops the worker at once: exit %d" % rc)


def test_web_server_addrs(stack):
    """On a TCP socket, FCGI_WEB_SERVER_ADDRS names the addresses a
    connection may come from, as libfcgi checks it: idmint accepts
    connections itself, so it checks the list itself."""
    for allowed, want in (("10.9.9.9", False), ("10.9.9.9, 127.0.0.1", True)):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        env = dict(stack.env, FCGI_WEB_SERVER_ADDRS=allowed)
        p = subprocess.Popen(["spawn-fcgi", "-n", "-a", "127.0.0.1", "-p", str(port), "--", BIN],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            def up():
                try:
                    socket.create_connection(("127.0.0.1", port), 1).close()
                    return True
                except OSError:
                    return False
            servers.wait_for(up, "the TCP worker")
            q = subprocess.run(["cgi-fcgi", "-bind", "-connect", "127.0.0.1:%d" % port],
                               env={"REQUEST_METHOD": "GET", "PATH_INFO": "/healthz",
                                    "QUERY_STRING": "", "PATH": os.environ["PATH"]},
                               capture_output=True, timeout=15)
            answered = b'"status":"ok"' in q.stdout
            check(answered == want, "FCGI_WEB_SERVER_ADDRS=%r: a connection from 127.0.0.1 %s "
                  "(got %r)" % (allowed, "is served" if want else "is closed unanswered",
                                q.stdout[:120]))
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def main():
    extra = []
    for mod in sys.argv[1:]:
        extra.append(__import__(mod))
    # The npm packages first: without them the run could not end well.
    err = openapi.install()
    if err:
        print("FAIL: openapi: " + err)
        return 1
    stack = servers.Stack(BIN)
    try:
        for m in extra:
            if hasattr(m, "prepare"):
                m.prepare(stack)
        stack.start_pool()
        fronts = {"lighttpd": stack.lighttpd(), "nginx": stack.nginx(),
                  "apache": stack.apache()}
        for name, base in fronts.items():
            run_table(name, via_http(base), base_cases())
            for m in extra:
                if hasattr(m, "cases"):
                    run_table(name, via_http(base), m.cases(stack))
        run_table("cgi", via_cgi, base_cases())
        for m in extra:
            if hasattr(m, "cases"):
                run_table("cgi", via_cgi, m.cases(stack))
        test_cgi_protocol(stack)
        openapi.routes(check, stack.conf)
        for m in extra:
            if hasattr(m, "scenarios"):
                m.scenarios(stack, fronts, check)
        stack.stop_all(keep=True)
        stack.procs = []
        test_sigterm(stack)
        test_request_in_hand(stack)
        test_stop_in_accept(stack)
        test_web_server_addrs(stack)
    finally:
        stack.stop_all(keep=harness.failed > 0)
        if harness.failed:
            print("logs kept in", stack.dir)
    # Every answer received above, held to doc/openapi.json.
    openapi.check(check)
    print("%d passed, %d failed" % (harness.passed, harness.failed))
    return 1 if harness.failed else 0


if __name__ == "__main__":
    sys.exit(main())
