"""Load and fault tests: counting, limits and snowflakes through real
worker processes, with workers killed under load.

Every scenario runs on a spawn-fcgi pool of its own (same store, same
config as the stack's pool: IDMINT_CONF=stack.conf) behind an nginx of
its own, so that no other suite's idle connections pin its workers, and
so that killing workers does not hurt the suites that run after this one.
These pools are not supervised, on purpose: a killed worker stays dead,
so the survivors' counts and slots can be checked.  The supervised pool
(multiwatch) under the same faults is tests/ops/suite_pool.py.

Why not the stack's nginx: a worker serves one FastCGI connection at a
time, and with `keepalive N` plus `fastcgi_keep_conn on` nginx keeps up
to N idle connections open, each pinning a worker.  With N >= workers,
concurrent requests sent on new connections wait in the listen backlog
behind idle kept connections until nginx times out (60 s); our nginx
therefore keeps fewer connections than the pool has workers, as
etc/nginx/idmint.conf says to.

Loopback only; readiness is polled with a bound; the only sleeps pace
the rate tests.  Standard library only: threads and http.client, plus a
bare keep-alive socket client for the 200,000 snowflakes (RawClient).
IDMINT_LOAD_SNOWFLAKES sets their number.
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from collections import Counter

import harness
import servers
from harness import EPOCH_MS

TOKENS = {}         # key name -> token
SNOWFLAKES = int(os.environ.get("IDMINT_LOAD_SNOWFLAKES", "200000"))
SNOWFLAKE_SECONDS = 50.0    # a bound on the snowflake run, whatever the count

KEYS = [
    ("ld_count", []),
    ("ld_kill", ["--rate", "0", "--quota", "1000000"]),
    ("ld_rate", ["--plan", "free"]),
    ("ld_paced", ["--plan", "free"]),
    ("ld_quota", ["--rate", "0", "--quota", "5"]),
    ("ld_plan", []),
    ("ld_snow", []),
    ("ld_shm", []),
]


def usage_of(stack, name):
    """This month's and all-time counts; idmintctl flushes pending counts."""
    return json.loads(harness.ctl(stack.db, "usage", name, "--json"))


def prepare(stack):
    for name, opts in KEYS:
        TOKENS[name] = harness.ctl(stack.db, "add", name, *opts)


def cases(stack):
    return []


# ---- a pool and an nginx of our own ---------------------------------------

class Pool:
    """spawn-fcgi -F N on a socket of its own, same store and config."""

    def __init__(self, stack, tag, workers, env=None):
        self.stack = stack
        self.env = env or stack.env       # another config: another store
        self.dir = os.path.join(stack.dir, tag)
        os.makedirs(os.path.join(self.dir, "nginx"), exist_ok=True)
        self.tag = tag
        self.sock = os.path.join(self.dir, "idmint.sock")
        self.workers = workers
        self.pids = []
        self.nginx_proc = None

    def spawn(self, sock, n):
        """Start n workers on sock; returns their pids."""
        pidfile = sock + ".pid"
        with open(os.path.join(self.dir, "pool.err"), "ab") as log:
            subprocess.run(["spawn-fcgi", "-s", sock, "-F", str(n), "-P", pidfile,
                            "--", self.stack.binary], env=self.env, check=True,
                           stdout=subprocess.DEVNULL, stderr=log, timeout=30)
        servers.wait_for(lambda: servers.unix_open(sock), "pool " + sock)
        with open(pidfile) as f:
            pids = [int(x) for x in f.read().split()]
        self.pids += pids
        return pids

    def start(self, keepalive):
        self.spawn(self.sock, self.workers)
        # Fewer kept connections than live workers (see the top).
        base = self.stack.nginx(self.dir, self.sock, keepalive, "nginx-" + self.tag)
        self.nginx_proc = self.stack.procs[-1]
        self.port = urllib.parse.urlsplit(base).port
        return self.port

    def stop(self):
        servers.stop_proc(self.nginx_proc)
        servers.stop_pids(self.pids, force=True)
        self.pids = []


# ---- clients -----------------------------------------------------------------

Resp = servers.Resp


class Client:
    """One keep-alive HTTP connection; reconnects after an error."""

    def __init__(self, port, timeout=15):
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def connect(self):
        self.c.connect()

    def call(self, method, path, body=None, headers=None):
        try:
            self.c.request(method, path, body=body, headers=headers or {})
            r = self.c.getresponse()
            data = r.read()
        except (http.client.HTTPException, OSError):
            self.c.close()
            raise
        if r.will_close:
            self.c.close()
        harness.keep(method, path, r.status, r.getheaders(), data)
        return Resp(r.status, r.getheaders(), data)

    def close(self):
        self.c.close()


def post_idgen(user, typ, form=False, extra=None):
    """(method, path, body, headers) for POST /."""
    fields = {"username": user, "token": TOKENS[user], "type": typ}
    fields.update(extra or {})
    if form:
        return ("POST", "/", urllib.parse.urlencode(fields).encode(),
                {"Content-Type": "application/x-www-form-urlencoded"})
    return ("POST", "/", json.dumps(fields).encode(),
            {"Content-Type": "application/json"})


def get_v1(user, endpoint, query="", how=0):
    tok = TOKENS[user]
    hdr = [{"X-Oanor-Key": tok}, {"X-Api-Key": tok},
           {"Authorization": "Bearer " + tok}][how % 3]
    return ("GET", "/v1/" + endpoint + ("?" + query if query else ""), None, hdr)


# Every successful request of the mix, with the type it counts under.
POST_MIX = [
    ("uuid", "uuid", {}), ("uuid", "uuid", {"version": 7}),
    ("nanoid", "nanoid", {"length": 21}), ("2fa", "2fa", {}),
    ("license", "license", {}), ("words", "words", {"style": "title"}),
    ("word", "words", {}), ("snowflake", "snowflake", {}),
    ("cuid", "cuid", {}), ("keypair", "keypair", {}),
]
V1_MIX = [
    ("encode", "numbers=1,2,3&salt=load"), ("encode-hex", "hex=deadbeef"),
    ("decode", "hash=o2fXhV&salt=load"), ("decode-hex", "hash=kRNrpKlJ"),
    ("meta", ""),
]


def mixed(user, i):
    """The i-th request of the mix: (method, path, body, headers, type)."""
    if i % 3 == 2:
        ep, q = V1_MIX[(i // 3) % len(V1_MIX)]
        return get_v1(user, ep, q, i // 7) + (ep,)
    typ, counted, extra = POST_MIX[i % len(POST_MIX)]
    return post_idgen(user, typ, form=(i // 5) % 2 == 1, extra=extra) + (counted,)


def good(r, path):
    if r.status != 200 or r.json is None:
        return False
    if path.startswith("/v1/"):
        return r.json.get("success") is True
    return isinstance(r.json.get("id"), str)


def run_threads(n, target, bound):
    """Run target(i) on n threads; join within bound seconds."""
    errors = []

    def wrap(i):
        try:
            target(i)
        except Exception as e:  # noqa: BLE001 -- reported as a failure
            errors.append("thread %d: %r" % (i, e))
    ts = [threading.Thread(target=wrap, args=(i,), daemon=True) for i in range(n)]
    for t in ts:
        t.start()
    end = time.monotonic() + bound
    for t in ts:
        t.join(max(0.0, end - time.monotonic()))
    if any(t.is_alive() for t in ts):
        errors.append("threads still running after %.0f s" % bound)
    return errors


def burst(port, reqs, bound=30):
    """Send every request at once, each on its own connection opened
    beforehand.  Returns (responses in order, span in seconds)."""
    clients = [Client(port) for _ in reqs]
    for c in clients:
        c.connect()
    out = [None] * len(reqs)
    times = [None] * len(reqs)
    gate = threading.Barrier(len(reqs))

    def one(i):
        gate.wait(10)
        t0 = time.monotonic()
        out[i] = clients[i].call(*reqs[i][:4])
        times[i] = (t0, time.monotonic())
    errs = run_threads(len(reqs), one, bound)
    for c in clients:
        c.close()
    if errs:
        raise RuntimeError("; ".join(errs[:3]))
    span = max(t[1] for t in times) - min(t[0] for t in times)
    return out, span


def figures(what, n, secs):
    print("load: %s: %d requests in %.2f s, %.0f requests/s"
          % (what, n, secs, n / secs if secs > 0 else 0))


def rate_headers_ok(r, limit):
    h = r.headers
    try:
        return (h.get("ratelimit-limit") == str(limit)
                and int(h["ratelimit-remaining"]) >= 0
                and int(h["ratelimit-reset"]) >= 0)
    except (KeyError, ValueError):
        return False


def refusal_ok(r, path, message):
    """429 in the route's own shape, with Retry-After >= 1."""
    try:
        ra = int(r.headers.get("retry-after", "0"))
    except ValueError:
        ra = 0
    if r.status != 429 or ra < 1 or r.json is None:
        return False
    if path.startswith("/v1/"):
        j = r.json
        return (j.get("success") is False and j.get("status") == "error"
                and j.get("data") is None and j.get("message") == message)
    return r.json == {"error": message}


# ---- 1. counting exactness ------------------------------------------------------

def s_counting(stack, pool, check):
    n, nthreads = 4000, 16
    lock = threading.Lock()
    sent = Counter()
    statuses = Counter()
    bad = []

    def worker(t):
        c = Client(pool.port)
        my_sent, my_status = Counter(), Counter()
        for i in range(t, n, nthreads):
            method, path, body, headers, typ = mixed("ld_count", i)
            r = c.call(method, path, body, headers)
            my_status[r.status] += 1
            if good(r, path):
                my_sent[typ] += 1
            elif len(bad) < 5:
                bad.append((path, r.status, r.body[:200]))
        c.close()
        with lock:
            sent.update(my_sent)
            statuses.update(my_status)
    t0 = time.monotonic()
    errs = run_threads(nthreads, worker, 60)
    figures("counting, 16 threads, mixed POST / and /v1", n, time.monotonic() - t0)
    check(not errs, "counting: client errors: %s" % errs[:3])
    check(statuses == Counter({200: n}) and not bad,
          "counting: every call is a 200: %r %r" % (dict(statuses), bad))
    u = usage_of(stack, "ld_count")
    got = {t["type"]: t["month"] for t in u["types"]}
    check(u["month_total"] == n and u["all_time"] == n,
          "counting: usage says %d this month, %d all time, sent %d"
          % (u["month_total"], u["all_time"], n))
    check(got == dict(sent), "counting: per type %r, sent %r" % (got, dict(sent)))


# ---- 3. rate limits ----------------------------------------------------------------

def s_rate(stack, pool, check):
    # 20 at once on a fresh key of plan free (2/s: a burst of 2, then one
    # every 0.5 s).  Half POST /, half /v1, to see both refusal shapes.
    reqs = [post_idgen("ld_rate", "uuid") if i % 2 == 0 else
            get_v1("ld_rate", "encode", "numbers=%d" % i, i) for i in range(20)]
    out, span = burst(pool.port, reqs)
    figures("rate burst, plan free", len(out), span)
    ok200 = [r for r in out if r.status == 200]
    most = 2 + int(span / 0.5)      # GCRA lets one more in per 0.5 s elapsed
    check(2 <= len(ok200) <= most,
          "rate: %d of 20 passed in %.3f s, want 2..%d: %r"
          % (len(ok200), span, most, Counter(r.status for r in out)))
    check(all(r.status in (200, 429) for r in out),
          "rate: only 200 and 429: %r" % Counter(r.status for r in out))
    bad = [(q[1], r.status, r.headers.get("retry-after"), r.body[:120])
           for q, r in zip(reqs, out)
           if r.status == 429 and not refusal_ok(r, q[1], "Rate limit exceeded")]
    check(not bad, "rate: 429 shape and Retry-After >= 1: %r" % bad[:3])
    check(all(rate_headers_ok(r, 2) for r in out),
          "rate: RateLimit-Limit 2 / -Remaining / -Reset on every response: %r"
          % [(r.status, r.headers.get("ratelimit-limit")) for r in out][:5])

    # Paced at the rate: never refused.  One connection, sends on a fixed
    # schedule of one every 0.505 s (a pacing sleep, not a readiness wait).
    c = Client(pool.port)
    statuses, t0 = [], time.monotonic()
    for i in range(8):
        delay = t0 + i * 0.505 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        r = c.call(*post_idgen("ld_paced", "2fa") if i % 2 else
                   get_v1("ld_paced", "meta", "", i))
        statuses.append((r.status, r.headers.get("ratelimit-limit")))
    c.close()
    figures("rate paced at 2/s", 8, time.monotonic() - t0)
    check(all(s == (200, "2") for s in statuses),
          "rate: paced at 2/s never refused: %r" % statuses)


# ---- 4. quota ------------------------------------------------------------------------

def s_quota(stack, pool, check):
    c = Client(pool.port)
    fails = [c.call(*post_idgen("ld_quota", "nope")),
             c.call(*post_idgen("ld_quota", "")),
             c.call(*get_v1("ld_quota", "encode", "numbers=abc")),
             c.call(*post_idgen("ld_quota", "nanoid", extra={"length": 0}))]
    fails += [c.call(*post_idgen("ld_quota", "nope")) for _ in range(4)]
    c.close()
    check([r.status for r in fails] == [400] * len(fails),
          "quota: the 400s first: %r" % [(r.status, r.body[:80]) for r in fails])
    check(fails[0].json == {"error": "ID Type nope not supported."},
          "quota: unknown type message: %r" % fails[0].body)
    u = usage_of(stack, "ld_quota")
    check(u["month_total"] == 0, "quota: 400s are not counted: %r" % u)
    show = json.loads(harness.ctl(stack.db, "--json", "show", "ld_quota"))
    check(show.get("used") == 0 and show.get("remaining") == 5,
          "quota: 400s do not spend quota: %r" % show)

    reqs = [post_idgen("ld_quota", "license") if i % 2 else
            get_v1("ld_quota", "decode", "hash=abc", i) for i in range(12)]
    out, span = burst(pool.port, reqs)
    figures("quota burst, quota 5", len(out), span)
    st = Counter(r.status for r in out)
    check(st == Counter({200: 5, 429: 7}), "quota: exactly five 200s of 12: %r" % st)
    bad = [(q[1], r.body[:120]) for q, r in zip(reqs, out)
           if r.status == 429 and not refusal_ok(r, q[1], "Monthly quota exceeded")]
    check(not bad, "quota: 429 says Monthly quota exceeded, Retry-After >= 1: %r" % bad[:3])
    check(all(rate_headers_ok(r, 5) for r in out),
          "quota: RateLimit-Limit 5 on every response: %r"
          % [r.headers.get("ratelimit-limit") for r in out])
    c = Client(pool.port)
    r = c.call(*post_idgen("ld_quota", "nope"))
    c.close()
    check(refusal_ok(r, "/", "Monthly quota exceeded"),
          "quota: spent, even a bad type is 429: %d %r" % (r.status, r.body))
    u = usage_of(stack, "ld_quota")
    check(u["month_total"] == 5, "quota: usage says 5: %r" % u)


# ---- 5. a plan change mid-traffic ------------------------------------------------

def s_plan(stack, pool, check):
    log = []        # (t0, t1, path, Resp)
    lock = threading.Lock()
    stop = threading.Event()

    def worker(t):
        c = Client(pool.port)
        i = 0
        while not stop.is_set() and i < 20000:
            req = (post_idgen("ld_plan", "license") if (i + t) % 2 else
                   get_v1("ld_plan", "encode", "numbers=%d" % i, i))
            t0 = time.monotonic()
            r = c.call(*req)
            with lock:
                log.append((t0, time.monotonic(), req[1], r))
            i += 1
        c.close()
    th = threading.Thread(target=lambda: run_threads(4, worker, 30), daemon=True)
    t_begin = time.monotonic()
    th.start()
    servers.wait_for(lambda: len(log) >= 50, "traffic on ld_plan", 15)
    a0 = time.monotonic()
    harness.ctl(stack.db, "plan", "ld_plan", "free")
    a1 = time.monotonic()
    # At least a second on free (a bound on a poll, not a sleep): the
    # burst, then the refill of one every 0.5 s.
    servers.wait_for(lambda: time.monotonic() > a1 + 1.0 and
                     sum(1 for e in log if e[0] > a1 and e[3].status == 429) >= 20,
                     "429s after the plan change", 15)
    b0 = time.monotonic()
    harness.ctl(stack.db, "plan", "ld_plan", "unlimited")
    b1 = time.monotonic()
    servers.wait_for(lambda: sum(1 for e in log if e[0] > b1) >= 50,
                     "traffic after going back to unlimited", 15)
    stop.set()
    th.join(30)
    with lock:
        entries = list(log)
    figures("plan change mid-traffic, 4 threads", len(entries), time.monotonic() - t_begin)
    before = [e for e in entries if e[1] < a0]
    during = [e for e in entries if e[0] > a1 and e[1] < b0]
    after = [e for e in entries if e[0] > b1]
    # An unlimited key states the ceiling no plan can pass (1,000,000/s).
    check(before and all(e[3].status == 200 and
                         e[3].headers.get("ratelimit-limit") == "1000000"
                         for e in before),
          "plan: unlimited before: 200s with RateLimit-Limit: 1000000: %r"
          % Counter(e[3].status for e in before))
    st = Counter(e[3].status for e in during)
    check(during and all(e[3].headers.get("ratelimit-limit") == "2" for e in during),
          "plan: after `plan free` every response says RateLimit-Limit: 2: %r"
          % Counter(e[3].headers.get("ratelimit-limit") for e in during))
    most = 2 + int((b0 - a1) / 0.5) + 1
    print("load: plan: on free for %.2f s: %s" % (b0 - a1, dict(st)))
    check(set(st) <= {200, 429} and st[429] > 0 and st[200] <= most,
          "plan: on free, at most %d of %d pass in %.2f s: %r"
          % (most, len(during), b0 - a1, st))
    bad = [(e[2], e[3].body[:100]) for e in during
           if e[3].status == 429 and not refusal_ok(e[3], e[2], "Rate limit exceeded")]
    check(not bad, "plan: 429 shapes: %r" % bad[:3])
    check(after and all(e[3].status == 200 and
                        e[3].headers.get("ratelimit-limit") == "1000000"
                        for e in after),
          "plan: back to unlimited, all 200 again: %r" % Counter(e[3].status for e in after))


# ---- 6. snowflakes -------------------------------------------------------------------

def worker_of(v):
    return (v >> 12) & 0x3ff


class RawClient:
    """A bare HTTP/1.1 keep-alive client for the snowflake run: one request
    prepared once, a status line and Content-Length read back.  http.client
    parses every header set with the email package, which caps a Python
    client at about 4,000 requests/s on this machine; this one does about
    12,000/s, so 200,000 snowflakes fit in well under a minute."""

    def __init__(self, port, request):
        self.port = port
        self.request = request
        self.method, self.path = request.split(b" ", 2)[:2]
        self.method, self.path = self.method.decode(), self.path.decode()
        self.s = self.f = None

    def close(self):
        if self.s is not None:
            self.f.close()
            self.s.close()
        self.s = self.f = None

    def call(self):
        """(status, body) of one more request; reconnects when nginx
        closes a connection (keepalive_requests)."""
        if self.s is None:
            self.s = socket.create_connection(("127.0.0.1", self.port), timeout=15)
            self.f = self.s.makefile("rb")
        self.s.sendall(self.request)
        line = self.f.readline()
        if not line.startswith(b"HTTP/1.1 "):
            self.close()
            raise RuntimeError("bad status line %r" % line[:80])
        status, length, close = int(line[9:12]), None, False
        head = []
        while True:
            h = self.f.readline()
            if h == b"\r\n":
                break
            head.append(h)
            if not h:
                self.close()
                raise RuntimeError("connection closed in the headers")
            name, _, value = h.partition(b":")
            name = name.lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        if length is None:
            self.close()
            raise RuntimeError("no Content-Length")
        body = self.f.read(length)
        if close:
            self.close()
        harness.keep(self.method, self.path, status, b"".join(head), body)
        return status, body


def snowflake_request():
    method, path, body, headers = post_idgen("ld_snow", "snowflake")
    return (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % len(body)) + body


def snowflakes_through(port, n, nthreads, bound):
    """n snowflakes on nthreads keep-alive connections.  Returns (per
    thread lists of values in arrival order, bad responses, seconds)."""
    per = [[] for _ in range(nthreads)]
    bad = []
    end = time.monotonic() + bound
    req = snowflake_request()

    def worker(t):
        c = RawClient(port, req)
        out = per[t]
        for _ in range(t, n, nthreads):
            if time.monotonic() > end:
                break
            status, body = c.call()
            v = body[7:-2]          # {"id":"<digits>"}
            if status == 200 and body.startswith(b'{"id":"') and \
                    body.endswith(b'"}') and v.isdigit():
                out.append(int(v))
            elif len(bad) < 5:
                bad.append((status, body[:100]))
        c.close()
    t0 = time.monotonic()
    errs = run_threads(nthreads, worker, bound + 20)
    return per, bad + errs, time.monotonic() - t0


def fcgi_snowflake(sock):
    """One snowflake straight from the worker(s) on sock, over FastCGI."""
    body = json.dumps({"username": "ld_snow", "token": TOKENS["ld_snow"],
                       "type": "snowflake"}).encode()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "REQUEST_METHOD": "POST",
           "PATH_INFO": "/", "CONTENT_TYPE": "application/json",
           "CONTENT_LENGTH": str(len(body)), "SERVER_PROTOCOL": "HTTP/1.1"}
    p = subprocess.run(["cgi-fcgi", "-bind", "-connect", sock], env=env, input=body,
                       capture_output=True, timeout=10)
    harness.keep_cgi("POST", "/", "", p.stdout)
    head, _, rest = p.stdout.partition(b"\r\n\r\n")
    if not head.startswith(b"Status: 200"):
        raise RuntimeError("fcgi snowflake: %r" % p.stdout[:200])
    return int(json.loads(rest)["id"])


def ids_seen(port, want, n=3000, nthreads=8):
    """The worker ids that answer through port: stop once `want` are seen."""
    ids = set()
    req = post_idgen("ld_snow", "snowflake")
    stop = threading.Event()

    def worker(t):
        c = Client(port)
        for _ in range(n // nthreads):
            if stop.is_set():
                break
            r = c.call(*req)
            if r.status == 200:
                ids.add(worker_of(int(r.json["id"])))
                if len(ids) >= want:
                    stop.set()
        c.close()
    run_threads(nthreads, worker, 30)
    return ids


def s_snowflakes(stack, pool, check):
    nthreads = 16
    t_lo = time.time()
    per, bad, secs = snowflakes_through(pool.port, SNOWFLAKES, nthreads, SNOWFLAKE_SECONDS)
    t_hi = time.time()
    allv = [v for lst in per for v in lst]
    figures("snowflakes, %d threads, %d workers" % (nthreads, pool.workers), len(allv), secs)
    if len(allv) < SNOWFLAKES:
        print("load: snowflakes: stopped by the %.0f s bound at %d of %d"
              % (SNOWFLAKE_SECONDS, len(allv), SNOWFLAKES))
    check(not bad, "snowflakes: all 200 with a decimal id: %r" % bad[:3])
    check(len(allv) >= min(SNOWFLAKES, 10000), "snowflakes: got %d" % len(allv))
    check(len(set(allv)) == len(allv),
          "snowflakes: %d duplicates in %d" % (len(allv) - len(set(allv)), len(allv)))
    wids = Counter(worker_of(v) for v in allv)
    print("load: snowflakes per worker id: %s" % dict(sorted(wids.items())))
    check(1 <= len(wids) <= pool.workers,
          "snowflakes: %d workers, %d worker ids: %r" % (pool.workers, len(wids), wids))
    # Each thread waits for a response before it sends again, so the IDs one
    # worker gave one thread were made in that order: strictly increasing.
    nonmono = 0
    for lst in per:
        last = {}
        for v in lst:
            w = worker_of(v)
            if w in last and v <= last[w]:
                nonmono += 1
            last[w] = v
    check(nonmono == 0, "snowflakes: %d out of order within a worker" % nonmono)
    # The time bits are the wall clock of the run.
    lo = (int(t_lo * 1000) - 1000 - EPOCH_MS) << 22
    hi = (int(t_hi * 1000) + 1000 - EPOCH_MS) << 22
    check(all(lo <= v < hi for v in allv), "snowflakes: time bits within the run")

    # A worker restarted.  spawn-fcgi will not start a worker on a socket
    # that is still served ("socket is already in use"), so the new worker
    # gets a socket of its own: same store, same config, and we talk
    # FastCGI to it straight.  What matters is the slot lease: the new
    # process must not hold the worker id of any live one.
    before = set(wids)
    victim = pool.pids[0]
    os.kill(victim, signal.SIGTERM)
    servers.wait_for(lambda: not servers.pid_alive(victim), "worker %d to stop" % victim, 10)
    pool.pids.remove(victim)
    live = ids_seen(pool.port, 3)
    check(len(live) == 3 and live <= before,
          "restart: the 3 live workers have 3 of the old ids: %r of %r" % (live, before))
    sock2 = os.path.join(pool.dir, "restart.sock")
    pool.spawn(sock2, 1)
    new = {worker_of(fcgi_snowflake(sock2)) for _ in range(3)}
    print("load: restart: live worker ids %s, killed worker's %s, new worker's %s"
          % (sorted(live), sorted(before - live), sorted(new)))
    check(len(new) == 1 and not (new & live),
          "restart: the new worker's id %r is none of the live %r" % (new, live))
    # And once more with the pool still live: the three and the new one
    # still mint disjoint values.
    per, bad, secs = snowflakes_through(pool.port, 2000, 8, 20)
    more = [v for lst in per for v in lst] + [fcgi_snowflake(sock2) for _ in range(5)]
    check(not bad and len(set(more)) == len(more) and not (set(more) & set(allv)),
          "restart: no duplicate after the restart")


# ---- 2. kill -9 under load -------------------------------------------------------

def s_kill(stack, check):
    pool = Pool(stack, "kill", 4)
    # Two workers will die: keep one connection, fewer than the two left.
    port = pool.start(keepalive=1)
    try:
        seen = Counter()
        lock = threading.Lock()
        stop = threading.Event()
        errors = Counter()
        cap = 4000

        def worker(t):
            c = Client(port)
            i = 0
            while not stop.is_set() and i < cap:
                method, path, body, headers, _ = mixed("ld_kill", i * 8 + t)
                try:
                    r = c.call(method, path, body, headers)
                    st = r.status if (r.status != 200 or good(r, path)) else -200
                except (http.client.HTTPException, OSError) as e:
                    st = type(e).__name__
                with lock:
                    seen[st] += 1
                i += 1
            c.close()

        def ok200():
            with lock:
                return seen[200]
        th = threading.Thread(target=lambda: errors.update(
            {e: 1 for e in run_threads(8, worker, 60)}), daemon=True)
        t0 = time.monotonic()
        th.start()
        killed = []
        for victim in list(pool.pids[:2]):
            mark = ok200() + 400
            servers.wait_for(lambda: ok200() >= mark, "load before a kill", 30)
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
            pool.pids.remove(victim)
        mark = ok200() + 600
        servers.wait_for(lambda: ok200() >= mark, "load after the kills", 30)
        stop.set()
        th.join(60)
        secs = time.monotonic() - t0
        total = sum(seen.values())
        figures("kill -9 of %d of 4 workers under load, 8 threads" % len(killed), total, secs)
        print("load: kill -9: responses %s" % dict(seen))
        check(not errors, "kill: client threads: %r" % list(errors)[:3])
        others = {k: v for k, v in seen.items() if k != 200}
        # A worker killed mid-request costs that one request: nginx answers
        # 502.  One or two per kill (one in flight, or a kept connection
        # nginx was about to reuse); nothing else may fail.
        check(set(others) <= {502} and sum(others.values()) <= 2 * len(killed),
              "kill: only the requests in flight fail: %r" % others)
        u = usage_of(stack, "ld_kill")
        print("load: kill -9: 200s seen %d, usage counted %d" % (seen[200], u["month_total"]))
        # A 200 counts when the handler finishes, before the answer is
        # written: a worker killed between the two has counted a call whose
        # 200 nobody saw.  Hence at most one extra per killed worker; fewer
        # than the 200s seen would be a lost count.
        check(seen[200] <= u["month_total"] <= seen[200] + len(killed),
              "kill: usage %d, 200s seen %d, %d workers killed"
              % (u["month_total"], seen[200], len(killed)))
        check(u["all_time"] == u["month_total"], "kill: all-time equals month: %r" % u)
        show = json.loads(harness.ctl(stack.db, "--json", "show", "ld_kill"))
        check(show.get("used") == u["month_total"]
              and show.get("remaining") == 1000000 - u["month_total"],
              "kill: quota used/remaining agree with usage: %r" % show)
        # The survivors go on serving, and a later request counts.
        c = Client(port)
        r = c.call(*post_idgen("ld_kill", "uuid"))
        c.close()
        check(r.status == 200, "kill: survivors serve: %d" % r.status)
        check(usage_of(stack, "ld_kill")["month_total"] == u["month_total"] + 1,
              "kill: counting goes on after the kills")
    finally:
        pool.stop()
    # The store opens clean after the crashes.
    p = subprocess.run(["mdb_stat", "-e", stack.db], capture_output=True, text=True,
                       timeout=30)
    check(p.returncode == 0 and "Environment Info" in p.stdout,
          "kill: mdb_stat -e: rc %d %s" % (p.returncode, p.stderr))
    p = subprocess.run(["mdb_stat", "-a", stack.db], capture_output=True, text=True,
                       timeout=30)
    check(p.returncode == 0, "kill: mdb_stat -a walks every db: %s" % p.stderr)
    p = harness.ctl_run(stack.db, "--json", "list", check=False)
    names = {k["name"] for k in json.loads(p.stdout)} if p.returncode == 0 else set()
    check({n for n, _ in KEYS} <= names, "kill: idmintctl list after the crashes: %s"
          % p.stderr)


def s_shm_replaced(stack, check):
    """The shared table's file deleted under a running pool (an operator,
    a cleanup job), then CGI requests, which make a new table, alternate
    with pool requests that still count in the old one, a second apart,
    as the audit reproduced it (234 calls stored as 870).  Both tables
    flush the same slot numbers; the store must hold exactly the calls
    answered 200, once the workers have stopped and flushed."""
    pool = Pool(stack, "shm", 2)
    port = pool.start(keepalive=1)
    seen = Counter()
    env = {"IDMINT_CONF": stack.conf}
    try:
        c = Client(port)

        def through_pool(n):
            for _ in range(n):
                seen[c.call(*post_idgen("ld_shm", "uuid")).status] += 1
        through_pool(20)
        os.unlink(os.path.join(stack.db, "idmint.shm"))
        for _ in range(5):
            m, path, body, headers = post_idgen("ld_shm", "license")
            r = harness.cgi(m, path, body, headers, env_extra=env)
            if r.status != 200:
                print("load: shm replaced: CGI answered %d %r" % (r.status, r.body[:200]))
            seen[r.status] += 1
            through_pool(10)
            time.sleep(1.1)         # past the once-a-second look at the path
        c.close()
    finally:
        pool.stop()                 # SIGTERM: each worker flushes as it goes
    u = usage_of(stack, "ld_shm")
    print("load: shared table deleted under the pool: answers %s, usage %d"
          % (dict(seen), u["month_total"]))
    check(set(seen) == {200} and u["month_total"] == seen[200],
          "shm replaced: usage %d, 200s %d (%r)" % (u["month_total"], seen[200], dict(seen)))


# ---- the whole ---------------------------------------------------------------------

def scenarios(stack, fronts, check):
    t0 = time.monotonic()
    pool = Pool(stack, "load", 4)
    try:
        pool.start(keepalive=2)
        for f in (s_counting, s_rate, s_quota, s_plan, s_snowflakes):
            t = time.monotonic()
            try:
                f(stack, pool, check)
            except Exception as e:  # noqa: BLE001 -- a scenario that dies fails
                check(False, "%s: %r" % (f.__name__, e))
            print("load: %s took %.1f s" % (f.__name__, time.monotonic() - t))
    finally:
        pool.stop()
    t = time.monotonic()
    try:
        s_kill(stack, check)
    except Exception as e:  # noqa: BLE001
        check(False, "s_kill: %r" % e)
    print("load: s_kill took %.1f s" % (time.monotonic() - t))
    t = time.monotonic()
    try:
        s_shm_replaced(stack, check)
    except Exception as e:  # noqa: BLE001
        check(False, "s_shm_replaced: %r" % e)
    print("load: s_shm_replaced took %.1f s" % (time.monotonic() - t))
    print("load: all scenarios %.1f s" % (time.monotonic() - t0))
