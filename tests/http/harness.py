"""What run.py and every suite share: the binaries under test, the pass and
fail counters, and the ways to send a request (through a front end or to
the binary run as a CGI program) and check its answer.

Suites import this module (`import harness`); run.py starts the servers,
calls each suite and prints the counters.
"""
import http.client
import os
import re
import subprocess
import urllib.parse

import servers

BIN = os.environ.get("IDMINT_BIN") or os.path.abspath("src/idmint")
CTL = os.environ.get("IDMINTCTL_BIN") or os.path.join(os.path.dirname(BIN), "idmintctl")

def version_of(binary):
    """The version `binary -V` prints; /healthz reports the same."""
    p = subprocess.run([binary, "-V"], capture_output=True, text=True, timeout=10)
    return p.stdout.split()[-1] if p.returncode == 0 and p.stdout else None


HEALTHZ = {"status": "ok", "version": version_of(BIN)}
EPOCH_MS = 1288834974657        # the default snowflake epoch (idgen.md)
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")

# Read them as harness.passed and harness.failed: check() rebinds them.
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


Resp = servers.Resp


# -- idmintctl on a store ------------------------------------------------------
def ctl(db, *args):
    """idmintctl's stdout, stripped; an exception with its stderr on failure."""
    return servers.ctl(CTL, db, *args)


def ctl_run(db, *args, check=True):
    """idmintctl's CompletedProcess; an exception on failure when check."""
    return servers.ctl_run(CTL, db, *args, check=check)


# -- every response, for the OpenAPI check -----------------------------------------
# Each way a test receives an answer keeps it here: (method, path, query,
# status, headers, body), headers a list of (name, value) or the raw header
# lines as bytes.  run.py checks them all against doc/openapi.json at the
# end (see openapi.py).  list.append is atomic, so client threads need no lock.
RECEIVED = []


def keep(method, target, status, headers, body, mount=""):
    """Keep one answer; target is the path and query as sent, mount the
    prefix the web server strips before idmint sees the path."""
    path, _, query = target.partition("?")
    if mount and path.startswith(mount):
        path = path[len(mount):]
    RECEIVED.append((method, path, query, status, headers, body))


def keep_cgi(method, path, query, out):
    """Keep an answer in CGI form (Status line, headers, blank line, body);
    returns (status, headers, body, first line)."""
    head, _, rest = out.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines[0].startswith("Status: ") else 0
    hdrs = [tuple(l.split(": ", 1)) for l in lines[1:] if ": " in l]
    RECEIVED.append((method, path, query, status, hdrs, rest))
    return status, hdrs, rest, lines[0]


# -- sending requests ----------------------------------------------------------
def request(base, method, path, body=None, headers=None, mount="", source=None):
    """One request on a connection of its own; source: the client's
    address (another loopback address than 127.0.0.1, say)."""
    u = urllib.parse.urlsplit(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10,
                                   source_address=(source, 0) if source else None)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    out = Resp(r.status, r.getheaders(), r.read())
    c.close()
    keep(method, path, r.status, r.getheaders(), out.body, mount)
    return out


def cgi(method, path, body=b"", headers=None, query="", env_extra=None):
    """Run the binary as a CGI program, as a web server would."""
    env = dict(os.environ)
    env.update({"GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": method,
                "PATH_INFO": path, "QUERY_STRING": query,
                "SCRIPT_NAME": "/cgi-bin/idmint", "SERVER_PROTOCOL": "HTTP/1.1"})
    if body:
        env["CONTENT_LENGTH"] = str(len(body))
    for k, v in (headers or {}).items():
        if k.lower() == "content-type":
            env["CONTENT_TYPE"] = v
        else:
            env["HTTP_" + k.upper().replace("-", "_")] = v
    env.update(env_extra or {})
    p = subprocess.run([BIN], input=body, env=env, capture_output=True, timeout=20)
    status, hdrs, rest, first = keep_cgi(method, env["PATH_INFO"],
                                         env["QUERY_STRING"], p.stdout)
    r = Resp(status, hdrs, rest)
    r.first_line = first
    r.rc = p.returncode
    r.stderr = p.stderr
    return r


def via_http(base):
    """A send(method, path, body, headers) through the front end at base."""
    def send(method, path, body, headers):
        q = ""
        if "?" in path:
            path, q = path.split("?", 1)
        return request(base, method, path + ("?" + q if q else ""), body, headers)
    return send


def via_cgi(method, path, body=None, headers=None):
    """send(method, path, body, headers) in CGI mode; path may hold a query."""
    q = ""
    if "?" in path:
        path, q = path.split("?", 1)
    return cgi(method, path, body or b"", headers, q)


# -- checking answers ----------------------------------------------------------
def verdict(r, status, pred):
    """The status is as expected and pred(r) holds (an exception is a no)."""
    try:
        return r.status == status and pred(r)
    except Exception:
        return False


# A table row: (name, method, path, body, headers, status, check(resp)).
def run_table(name, send, cases):
    for (cname, method, path, body, headers, status, pred) in cases:
        try:
            r = send(method, path, body, headers)
        except Exception as e:  # a dead server is a failure, not a crash
            check(False, "%s: %s: %r" % (name, cname, e))
            continue
        ok = verdict(r, status, pred)
        # In CGI mode the process must also exit cleanly (no sanitizer
        # report, no leak found at exit).
        rc = getattr(r, "rc", 0)
        check(ok and rc == 0, "%s: %s: got %d %r (exit %d%s)" % (
            name, cname, r.status, r.body[:300], rc,
            ": " + r.stderr[-300:].decode(errors="replace") if rc else ""))
