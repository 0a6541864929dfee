"""Cluster mode: three nodes on one private PostgreSQL, behind one nginx.

Each node has its own store, its own spawn-fcgi pool of four workers and
its own sync process (idmint --sync); nginx has the three sockets in one
upstream, round robin, and logs which node answered each request.  The
PostgreSQL is Debian's, in a temporary directory, unix socket only
(servers.Postgres).  Then every scenario of doc/cluster.md:

  keys        added, rotated, suspended, expired, re-planned on one node:
              in force on all three within 2 s;
  counting    3,000 calls: the cluster's sum is exactly 3,000, each node's
              share what nginx saw it serve; no worker connects to
              PostgreSQL (only the three sync processes do);
  quota       a quota-5 key hammered through all three: at most 5 plus
              the stated bound ((nodes - 1) x quota), and nothing more
              once a sync interval has passed;
  rate        a rate-limited key at full speed: close to its rate in
              total, not three times it;
  snowflakes  60,000 over the three: no duplicate, three node ids;
  outage      PostgreSQL stopped under load: no 5xx, no request slower
              than before; started again: the sum is exact within 5 s;
  workers     kill -9 of a worker in every node: no count lost;
  lease       a node's sync killed: its workers stop minting before its
              lease expires, and a new node gets the id only after it.

Standard library only; loads are bounded in requests and time.
IDMINT_CLUSTER_ONLY=s_keys,s_quota runs only those scenarios (the set-up
is the same).
"""
import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter

import harness
import servers
import suite_load as load
from harness import BIN, CTL

SYNC_MS = 300
LEASE_MS = 3000
NODE_BITS = 2
SLOT_BITS = 10 - NODE_BITS
WORKERS = 4
SNOWFLAKES = int(os.environ.get("IDMINT_CLUSTER_SNOWFLAKES", "60000"))
CONF = "sync_ms = %d\nlease_ms = %d\nnode_bits = %d\n" % (SYNC_MS, LEASE_MS, NODE_BITS)
PROPAGATION = 2.0       # seconds a key change may take to reach every node
CONVERGE = 5.0          # seconds the counts may take after an outage


def cases(stack):
    return []


# ---- requests ---------------------------------------------------------------

class Answer:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body


def fcgi(sock, method, path, body=b"", headers=None):
    """One request straight to a node's workers over FastCGI."""
    path, _, query = path.partition("?")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "REQUEST_METHOD": method,
           "PATH_INFO": path, "QUERY_STRING": query, "SERVER_PROTOCOL": "HTTP/1.1"}
    for k, v in (headers or {}).items():
        env["HTTP_" + k.upper().replace("-", "_")] = v
    if body:
        env["CONTENT_TYPE"] = "application/json"
        env["CONTENT_LENGTH"] = str(len(body))
    p = subprocess.run(["cgi-fcgi", "-bind", "-connect", sock], env=env, input=body,
                       capture_output=True, timeout=15)
    head, _, rest = p.stdout.partition(b"\r\n\r\n")
    lines = head.decode(errors="replace").split("\r\n")
    status = int(lines[0].split()[1]) if lines[0].startswith("Status: ") else 0
    hdrs = {l.split(": ", 1)[0].lower(): l.split(": ", 1)[1] for l in lines[1:] if ": " in l}
    return Answer(status, hdrs, rest)


def meta(node, token):
    return fcgi(node.sock, "GET", "/v1/meta", headers={"X-Api-Key": token})


def post(user, token, typ):
    body = json.dumps({"username": user, "token": token, "type": typ}).encode()
    return ("POST", "/", body, {"Content-Type": "application/json"})


def snowflake_of(node, user, token):
    """(status, id or None) of one snowflake straight from node."""
    a = fcgi(node.sock, *post(user, token, "snowflake")[:3])
    if a.status != 200:
        return a.status, None
    return 200, int(json.loads(a.body)["id"])


def node_id_of(v):
    return ((v >> 12) & 0x3ff) >> SLOT_BITS


def until_all(nodes, pred, bound):
    """Seconds until pred(node) holds on every node (polled in turn), or
    None past bound."""
    t0 = time.monotonic()
    left = list(nodes)
    while left and time.monotonic() - t0 < bound:
        left = [n for n in left if not pred(n)]
    return time.monotonic() - t0 if not left else None


def known(node, token):
    """Does node know the key?  /v1/encode without numbers: 400 after the
    key is found (counted nowhere), 401 before."""
    return fcgi(node.sock, "GET", "/v1/encode", headers={"X-Api-Key": token}).status \
        in (400, 429)


def add_key(cl, name, *opts):
    """A key added on the first node, once every node has it: its token."""
    tok = cl.nodes[0].ctl("add", name, *opts).stdout.strip()
    until_all(cl.nodes[:3], lambda n: known(n, tok), 10)
    return tok


def usage(cl, name):
    return json.loads(cl.nodes[1].ctl("usage", name, "--json", "--by-node").stdout)


def until_usage(cl, name, pred, bound):
    """Seconds until pred(cluster usage of name) holds, or None; and the
    last usage read."""
    t0 = time.monotonic()
    u = usage(cl, name)
    while not pred(u) and time.monotonic() - t0 < bound:
        time.sleep(0.05)
        u = usage(cl, name)
    return (time.monotonic() - t0 if pred(u) else None), u


def by_node(u):
    return {n["node"]: n["month"] for n in u.get("nodes", [])}


def sync_apps(cl):
    """application_name of every client connected to PostgreSQL but us."""
    rows = cl.pg.psql("SELECT application_name FROM pg_stat_activity WHERE "
                      "backend_type = 'client backend' AND pid <> pg_backend_pid()")
    return sorted(r[0] for r in rows)


class Load:
    """nthreads keep-alive clients sending req(t, i) through nginx until
    stop() (or cap requests each); every answer as (phase, seconds,
    status) in log, a connection error as its name."""

    def __init__(self, cl, req, nthreads, cap=100000):
        self.port, self.req, self.cap = cl.port, req, cap
        self.log = []
        self.phase = "before"
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.errors = []
        self.th = threading.Thread(target=lambda: self.errors.extend(
            load.run_threads(nthreads, self.worker, 90)), daemon=True)
        self.th.start()

    def worker(self, t):
        c = load.Client(self.port)
        i = 0
        while not self.done.is_set() and i < self.cap:
            t0 = time.monotonic()
            try:
                st = c.call(*self.req(t, i)).status
            except OSError as e:
                st = type(e).__name__
                c = load.Client(self.port)
            with self.lock:
                self.log.append((self.phase, time.monotonic() - t0, st))
            i += 1
        c.close()

    def count(self, status=200):
        with self.lock:
            return sum(1 for e in self.log if e[2] == status)

    def stop(self):
        self.done.set()
        self.th.join(60)
        return list(self.log)


# ---- 0. structure: only the sync process and idmintctl use libpq -------------

def s_structure(cl, check):
    objdir = os.path.dirname(BIN)
    objs = sorted(f for f in os.listdir(objdir) if f.endswith(".o"))
    p = subprocess.run(["nm", "-A"] + objs, cwd=objdir, capture_output=True, text=True)
    users = {}
    for line in p.stdout.splitlines():
        f, _, rest = line.partition(":")
        sym = rest.split()[-1] if rest.split() else ""
        if " U " in rest and (sym.startswith("PQ") or sym.startswith("pg_")):
            users.setdefault(f, set()).add(sym[:2])
    libpq = sorted(f for f, s in users.items() if "PQ" in s)
    pg = sorted(f for f, s in users.items() if "pg" in s and not f.startswith("pg"))
    check(objs and "pg.o" in libpq and all(f.startswith("pg") for f in libpq),
          "structure: only pg*.o call libpq: %r" % libpq)
    check(set(pg) <= {"sync.o", "ctl_cluster.o", "idmintctl.o"} and "sync.o" in pg,
          "structure: only the sync process and idmintctl call pg*.c: %r" % pg)
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src")
    text = {f: open(os.path.join(src, f), errors="replace").read()
            for f in os.listdir(src) if f.endswith((".c", ".h"))}

    def including(line):
        return sorted(f for f, t in text.items() if line in t)
    check(including("#include <libpq-fe.h>") == ["pg_int.h"] and
          including('#include "pg_int.h"') == ["pg.c", "pg_keys.c", "pg_nodes.c"],
          "structure: only pg*.c see libpq-fe.h, through pg_int.h: %r %r"
          % (including("#include <libpq-fe.h>"), including('#include "pg_int.h"')))


# ---- 0b. the sync process refuses what would break the cluster ----------------------

def sync_once(env, what):
    """Run idmint --sync until it exits (bounded): (exit status, its log)."""
    log = os.path.join(env["_DIR"], what + ".log")
    env = dict(env, IDMINT_LOG=log)
    del env["_DIR"]
    try:
        rc = subprocess.run([BIN, "--sync"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, timeout=20).returncode
    except subprocess.TimeoutExpired:
        rc = -999
    with open(log) as f:
        return rc, f.read()


def s_refusals(cl, check):
    a = cl.nodes[0]
    base = dict(a.env, _DIR=cl.dir)
    p = subprocess.run([BIN, "--sync"], env=dict(a.env, IDMINT_CLUSTER="",
                       IDMINT_LOG="stderr"), capture_output=True, text=True, timeout=20)
    check(p.returncode == 1 and "--sync needs the cluster setting" in p.stderr,
          "sync: refused without the cluster setting: %d %r" % (p.returncode, p.stderr))
    p = subprocess.run([BIN, "-t", "--sync"], env=dict(a.env, IDMINT_LOG="stderr"),
                       capture_output=True, text=True, timeout=20)
    check(p.returncode == 0, "idmint -t --sync: %r" % p.stderr)
    other = os.path.join(cl.dir, "other-db")
    rc, log = sync_once(dict(base, IDMINT_DB=other), "taken")
    check(rc == 1 and 'node name "a" belongs to another store' in log,
          "sync: a name that belongs to another store is refused: %d %r" % (rc, log))
    rc, log = sync_once(dict(base, IDMINT_DB=other + "2", IDMINT_NODE_NAME="z",
                             IDMINT_NODE_BITS="3"), "layout")
    check(rc == 1 and "node_bits 2" in log and "this node has 3" in log,
          "sync: another snowflake layout is refused: %d %r" % (rc, log))
    rc, log = sync_once(dict(base, IDMINT_NODE_NAME="y"), "renamed")
    check(rc == 1 and 'holds the counts of node "a", not of "y"' in log,
          "sync: a store that synced as one name is refused another: %d %r" % (rc, log))


# ---- 1. keys everywhere within 2 s ---------------------------------------------

def s_keys(cl, check):
    a, b, c = cl.nodes[:3]
    every = cl.nodes[:3]
    took = {}

    def step(what, node, args, pred):
        node.ctl(*args)
        took[what] = t = until_all(every, pred, 10)
        check(t is not None and t <= PROPAGATION,
              "keys: %s on %s, in force on all three within 2 s: %s s" % (what, node.name, t))
    tok = a.ctl("add", "ck_keys", "--label", "cluster test").stdout.strip()
    took["add"] = t = until_all(every, lambda n: meta(n, tok).status == 200, 10)
    check(t is not None and t <= PROPAGATION,
          "keys: added on a, works on all three within 2 s: %s s" % t)
    new = b.ctl("rotate", "ck_keys").stdout.strip()
    took["rotate"] = t = until_all(every, lambda n: meta(n, tok).status == 401 and
                                   meta(n, new).status == 200, 10)
    check(t is not None and t <= PROPAGATION,
          "keys: rotated on b, old token refused and new one good everywhere "
          "within 2 s: %s s" % t)
    step("suspend", c, ["suspend", "ck_keys"], lambda n: meta(n, new).status == 401)
    step("resume", a, ["resume", "ck_keys"], lambda n: meta(n, new).status == 200)
    step("expire", a, ["expire", "ck_keys", "now"], lambda n: meta(n, new).status == 401)
    step("unexpire", b, ["expire", "ck_keys", "never"], lambda n: meta(n, new).status == 200)
    step("plan free", b, ["plan", "ck_keys", "free"],
         lambda n: meta(n, new).headers.get("ratelimit-limit") == "2")
    step("remove", c, ["remove", "ck_keys"], lambda n: meta(n, new).status == 401)
    print("cluster: keys: seconds until in force on every node: %s"
          % ", ".join("%s %.2f" % (k, v or -1) for k, v in took.items()))

    # idmintctl in cluster mode reads PostgreSQL, never a node's store.
    p = a.ctl("add", "ck_keys", check=False)
    check(p.returncode == 0, "keys: a removed name can be added again: %s" % p.stderr)
    p = b.ctl("add", "ck_keys", check=False)
    check(p.returncode == 1 and p.stderr.strip() ==
          'idmintctl: a key named "ck_keys" already exists',
          "keys: a name taken on another node is taken: %r" % p.stderr)
    lst = json.loads(c.ctl("--json", "list").stdout)
    check("ck_keys" in {k["name"] for k in lst}, "keys: list on c shows it: %r" % lst)
    cl.pg.psql("CHECKPOINT")
    p = subprocess.run(["grep", "-rlF", "-e", tok, "-e", new, cl.pg.dir],
                       capture_output=True, text=True)
    check(p.returncode == 1 and p.stdout == "",
          "keys: no token in PostgreSQL's files, only hashes: %r" % p.stdout)

    # cluster init again: nothing changes; status: three live nodes.
    tables = cl.pg.psql("SELECT tablename FROM pg_tables WHERE schemaname = 'idmint' "
                        "ORDER BY 1")
    p = a.ctl("cluster", "init", check=False)
    check(p.returncode == 0 and "nothing to do" in p.stdout,
          "cluster init twice: nothing to do: %r" % p.stdout)
    check(cl.pg.psql("SELECT tablename FROM pg_tables WHERE schemaname = 'idmint' "
                     "ORDER BY 1") == tables and
          cl.pg.psql("SELECT version FROM idmint.meta") == [["1"]],
          "cluster init twice: same tables, version 1: %r" % tables)
    st = json.loads(a.ctl("--json", "cluster", "status").stdout)
    ids = [n["node_id"] for n in st["nodes"]]
    check([n["name"] for n in st["nodes"]] == ["a", "b", "c"] and
          all(n["live"] for n in st["nodes"]) and None not in ids and
          len(set(ids)) == 3 and all(n["lease_left_ms"] > 0 for n in st["nodes"]),
          "cluster status: three live nodes, three node ids leased: %r" % st)
    txt = a.ctl("cluster", "status").stdout
    check(txt.splitlines()[0].split() == ["NODE", "ID", "LEASE", "LAST", "SYNC",
                                          "KEYS", "STATE"] and txt.count(" live") == 3,
          "cluster status (text): %r" % txt)


# ---- 2. counting exactly, and no worker on PostgreSQL ----------------------------

def s_counting(cl, check):
    tok = add_key(cl, "ck_count")
    before = cl.served()
    n, nthreads = 3000, 8
    t0 = time.monotonic()
    ld = Load(cl, lambda t, i: post("ck_count", tok, "uuid") if (i + t) % 2 else
              ("GET", "/v1/encode?numbers=%d" % i, None, {"X-Api-Key": tok}),
              nthreads, cap=n // nthreads)
    servers.wait_for(lambda: len(ld.log) >= n // 3, "load on ck_count", 60)
    apps = sync_apps(cl)                    # under load
    ld.th.join(120)
    statuses = Counter(e[2] for e in ld.stop())
    load.figures("cluster counting, 3 nodes, 8 threads", n, time.monotonic() - t0)
    check(not ld.errors, "counting: client errors: %r" % ld.errors[:3])
    check(statuses == Counter({200: n}), "counting: all 200: %r" % dict(statuses))
    after = cl.served()
    served = {k: after[k][200] - before[k][200] for k in after}
    print("cluster: counting: served per node %r" % served)
    check(sum(served.values()) == n and all(v > 0 for v in served.values()),
          "counting: nginx spread the calls over the three: %r" % served)
    took, u = until_usage(cl, "ck_count", lambda u: u["month_total"] >= n, CONVERGE)
    print("cluster: counting: the sum reached %d after %s s" % (u["month_total"], took))
    time.sleep(2 * SYNC_MS / 1000.0)    # and stays there: nothing counted twice
    u = usage(cl, "ck_count")
    check(u["month_total"] == n and u["all_time"] == n,
          "counting: the cluster's usage is exactly %d: %r" % (n, u))
    check(by_node(u) == served, "counting: per node as served: %r, served %r"
          % (by_node(u), served))
    check(apps == ["idmint-sync a", "idmint-sync b", "idmint-sync c"],
          "no worker connects to PostgreSQL: under load, its only clients are "
          "the three sync processes: %r" % apps)
    text = cl.nodes[0].ctl("usage", "ck_count", "--by-node").stdout
    check(all(any(l.split()[:2] == [k, str(v)] for l in text.splitlines())
              for k, v in served.items()),
          "usage --by-node (text) shows each node's share: %r" % text)


# ---- 3. quota across nodes ------------------------------------------------------------

def s_quota(cl, check):
    tok = add_key(cl, "ck_quota", "--rate", "0", "--quota", "5")
    nodes = len(cl.nodes)
    bound = 5 + (nodes - 1) * 5
    reqs = [post("ck_quota", tok, "uuid") for _ in range(60)]
    out, span = load.burst(cl.port, reqs)
    done = time.monotonic()
    st = Counter(r.status for r in out)
    print("cluster: quota 5 hammered by 60 at once: %r in %.2f s" % (dict(st), span))
    check(set(st) <= {200, 429} and 5 <= st[200] <= bound,
          "quota: 5 to %d of 60 admitted (5 plus (nodes - 1) x quota): %r" % (bound, st))
    # One sync interval (plus scheduling slack), then nothing more anywhere.
    time.sleep(max(0.0, done + SYNC_MS / 1000.0 + 0.5 - time.monotonic()))
    c = load.Client(cl.port)
    later = [c.call(*post("ck_quota", tok, "uuid")).status for _ in range(30)]
    c.close()
    check(later == [429] * 30, "quota: after one sync interval no call is "
          "admitted on any node: %r" % Counter(later))
    took, u = until_usage(cl, "ck_quota", lambda u: u["month_total"] == st[200], CONVERGE)
    check(took is not None, "quota: the cluster counted exactly the %d admitted: %r"
          % (st[200], u))


# ---- 4. rate across nodes ------------------------------------------------------------

def s_rate(cl, check):
    rate = 30
    tok = add_key(cl, "ck_rate", "--rate", str(rate), "--quota", "0")
    t0 = time.monotonic()
    ld = Load(cl, lambda t, i: post("ck_rate", tok, "uuid"), 8)
    time.sleep(3.0)                 # at full speed, for three seconds
    st = Counter(e[2] for e in ld.stop())
    took = time.monotonic() - t0
    errs = ld.errors
    want = rate * took + rate       # the rate, plus one second's burst
    print("cluster: rate %d/s at full speed for %.2f s: %r, about %.0f expected"
          % (rate, took, dict(st), want))
    check(not errs and set(st) <= {200, 429}, "rate: only 200 and 429: %r %r" % (st, errs))
    check(0.7 * want <= st[200] <= 1.3 * want,
          "rate: %d passed in %.2f s at %d/s over 3 nodes, want about %.0f, "
          "not 3 times it" % (st[200], took, rate, want))


# ---- 5. snowflakes -----------------------------------------------------------------

def s_snowflakes(cl, check):
    tok = add_key(cl, "ck_snow")
    method, path, body, headers = post("ck_snow", tok, "snowflake")
    req = (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           b"Content-Length: %d\r\n\r\n" % len(body)) + body
    nthreads = 12
    per = [[] for _ in range(nthreads)]
    bad = []
    t_end = time.monotonic() + 90

    def worker(t):
        c = load.RawClient(cl.port, req)
        for _ in range(t, SNOWFLAKES, nthreads):
            if time.monotonic() > t_end:
                break
            status, b = c.call()
            v = b[7:-2]
            if status == 200 and v.isdigit():
                per[t].append(int(v))
            elif len(bad) < 5:
                bad.append((status, b[:100]))
        c.close()
    t0 = time.monotonic()
    errs = load.run_threads(nthreads, worker, 120)
    allv = [v for lst in per for v in lst]
    load.figures("cluster snowflakes, 3 nodes", len(allv), time.monotonic() - t0)
    ids = Counter(node_id_of(v) for v in allv)
    print("cluster: snowflakes per node id: %r" % dict(ids))
    leased = {n["node_id"] for n in
              json.loads(cl.nodes[0].ctl("--json", "cluster", "status").stdout)["nodes"]}
    check(not errs and not bad, "snowflakes: all 200: %r %r" % (errs[:2], bad[:2]))
    check(len(allv) == SNOWFLAKES, "snowflakes: got %d of %d" % (len(allv), SNOWFLAKES))
    check(len(set(allv)) == len(allv),
          "snowflakes: %d duplicates in %d" % (len(allv) - len(set(allv)), len(allv)))
    check(len(ids) == 3 and set(ids) == leased,
          "snowflakes: three node ids, the leased ones: %r, leased %r" % (ids, leased))


# ---- 6. PostgreSQL stopped under load --------------------------------------------------

def s_outage(cl, check):
    tok = add_key(cl, "ck_down", "--rate", "100000", "--quota", "1000000000")
    snow = add_key(cl, "ck_down_snow")
    ld = Load(cl, lambda t, i: post("ck_down", tok, "uuid") if (i + t) % 2 else
              ("GET", "/v1/encode?numbers=%d" % i, None, {"X-Api-Key": tok}), 4)
    time.sleep(2.0)                 # load before: the yardstick
    ld.phase = "down"
    cl.pg.stop()
    t_down = time.monotonic()
    c = load.Client(cl.port)
    sf = [c.call(*post("ck_down_snow", snow, "snowflake")).status for _ in range(3)]
    c.close()
    time.sleep(max(0.0, t_down + 2.0 - time.monotonic()))
    ld.phase = "up"
    cl.pg.start()
    t_up = time.monotonic()
    time.sleep(1.0)
    entries = ld.stop()
    ok = Counter(e[2] for e in entries)
    seen = ok[200]
    lat = {p: sorted(e[1] for e in entries if e[0] == p) for p in ("before", "down", "up")}

    def q(p, f):
        v = lat[p]
        return v[min(len(v) - 1, int(f * len(v)))] if v else 0.0
    print("cluster: outage: %r; latency before p99 %.1f ms max %.1f ms; down p99 %.1f ms "
          "max %.1f ms (%d, %d, %d requests)" % (
              dict(ok), q("before", .99) * 1e3, q("before", 1) * 1e3,
              q("down", .99) * 1e3, q("down", 1) * 1e3,
              len(lat["before"]), len(lat["down"]), len(lat["up"])))
    check(set(ok) == {200} and len(lat["down"]) > 0,
          "outage: every request a 200, PostgreSQL down or not: %r" % dict(ok))
    check(sf == [200, 200, 200], "outage: snowflakes go on while the lease lasts: %r" % sf)
    # A request waiting on PostgreSQL would wait a query timeout (1 s) or
    # for ever; noise on a shared machine is far below that.
    check(q("down", 1) <= max(2 * q("before", 1), 0.5),
          "outage: no request slower than without PostgreSQL: max %.3f s down, "
          "%.3f s before" % (q("down", 1), q("before", 1)))
    took, u = until_usage(cl, "ck_down", lambda u: u["month_total"] == seen, 30)
    since_up = time.monotonic() - t_up
    print("cluster: outage: counts exact %.2f s after PostgreSQL came back" % since_up)
    check(took is not None and since_up <= CONVERGE,
          "outage: started again, the sum is exact (%d) within 5 s: %d after %.2f s"
          % (seen, u["month_total"], since_up))
    for n in cl.nodes:
        with open(n.log) as f:
            text = f.read()
        check(text.count("serving on with what the store holds") == 1 and
              text.count("connected to PostgreSQL") == 2,
              "outage: node %s logged one line going down and one coming back, "
              "not one per retry" % n.name)


# ---- 7. kill -9 of a worker in every node ----------------------------------------------

def s_workers(cl, check):
    tok = add_key(cl, "ck_kill")
    ld = Load(cl, lambda t, i: post("ck_kill", tok, "uuid"), 8, cap=3000)
    killed = 0
    for n in cl.nodes[:3]:
        mark = ld.count() + 300
        servers.wait_for(lambda: ld.count() >= mark, "load before a kill", 30)
        victim = n.pool_pids.pop(0)
        os.kill(victim, signal.SIGKILL)
        killed += 1
    mark = ld.count() + 300
    servers.wait_for(lambda: ld.count() >= mark, "load after the kills", 30)
    seen = Counter(e[2] for e in ld.stop())
    others = {k: v for k, v in seen.items() if k != 200}
    print("cluster: kill -9 of a worker per node: %r" % dict(seen))
    check(set(others) <= {502} and sum(others.values()) <= 2 * killed,
          "workers: only requests in flight fail: %r" % others)
    took, u = until_usage(cl, "ck_kill", lambda u: u["month_total"] >= seen[200], CONVERGE)
    time.sleep(2 * SYNC_MS / 1000.0)
    u = usage(cl, "ck_kill")
    check(seen[200] <= u["month_total"] <= seen[200] + killed,
          "workers: the cluster's sum %d, 200s seen %d, %d killed: no count lost"
          % (u["month_total"], seen[200], killed))


# ---- 8. a sync process killed: its lease ------------------------------------------------

def lease_row(cl, node_id):
    r = cl.pg.psql("SELECT node, extract(epoch FROM taken), extract(epoch FROM expires) "
                   "FROM idmint.leases WHERE id = %d" % node_id)
    return r[0][0], float(r[0][1]), float(r[0][2])


def s_lease(cl, check):
    a = cl.nodes[0]
    tok = add_key(cl, "ck_lease")
    held = {int(r[0]): r[1] for r in cl.pg.psql(
        "SELECT id, node FROM idmint.leases WHERE expires > now()")}
    ida = [i for i, n in held.items() if n == "a"][0]
    # Every other id held for an hour: only a's can free up.
    cl.pg.psql("INSERT INTO idmint.leases (id, node, taken, expires) SELECT g, 'held', "
               "now(), now() + interval '1 hour' FROM generate_series(0, %d) g "
               "WHERE g NOT IN (%s) ON CONFLICT (id) DO UPDATE SET node = 'held', "
               "expires = now() + interval '1 hour'"
               % ((1 << NODE_BITS) - 1, ",".join(str(i) for i in held)))
    e = cl.add_node("e", 1)
    e.start_sync()
    e.start_pool()
    servers.wait_for(lambda: e.sync is not None and
                     "ck_lease" in e.ctl("--json", "list").stdout and
                     meta(e, tok).status == 200, "node e to mirror the keys", 15)
    st, _ = snowflake_of(e, "ck_lease", tok)
    check(st == 503, "lease: with every id held, a new node mints no snowflake: %d" % st)
    a.sync.kill()
    a.sync.wait()
    _, _, expiry = lease_row(cl, ida)
    last_ok = last_id = first_503 = None
    t_stop = time.time() + LEASE_MS / 1000.0 + 5
    refusals = 0
    while time.time() < t_stop and refusals < 3:
        t = time.time()
        st, v = snowflake_of(a, "ck_lease", tok)
        if st == 200:
            last_ok, last_id, refusals = t, v, 0
        else:
            first_503 = first_503 or t
            refusals += 1
        time.sleep(0.05)
    print("cluster: lease: a's sync killed; its last snowflake %.2f s before its "
          "lease expired, then 503" % (expiry - (last_ok or 0)))
    check(last_ok is not None and first_503 is not None and refusals >= 3 and
          last_ok < expiry and first_503 < expiry,
          "lease: a's workers stop minting before the lease expires: last 200 at %s, "
          "first 503 at %s, expiry %s" % (last_ok, first_503, expiry))
    st = fcgi(a.sock, *post("ck_lease", tok, "uuid")[:3]).status
    check(st == 200, "lease: a's workers serve everything else: %d" % st)
    first = None
    t_stop = expiry + 10
    while time.time() < t_stop:
        st, v = snowflake_of(e, "ck_lease", tok)
        if st == 200:
            first = (time.time(), v)
            break
        time.sleep(0.05)
    node, taken, _ = lease_row(cl, ida)
    print("cluster: lease: e took id %d at +%.2f s after a's expiry" % (ida, taken - expiry))
    check(first is not None and node == "e" and taken >= expiry and first[0] >= expiry,
          "lease: the new node gets a's id only after its lease expired: taken %.3f, "
          "expiry %.3f" % (taken, expiry))
    check(first is not None and node_id_of(first[1]) == ida and first[1] > last_id,
          "lease: its snowflakes carry the id and come after a's last: %r" % (first,))

    # A sync process stopped by SIGTERM gives its id back at once, its
    # workers told first.
    b = cl.nodes[1]
    idb = [int(r[0]) for r in cl.pg.psql("SELECT id FROM idmint.leases WHERE node = 'b' "
                                         "AND expires > now()")]
    t = time.time()
    b.sync.terminate()
    rc = b.sync.wait(30)
    st, _ = snowflake_of(b, "ck_lease", tok)
    row = cl.pg.psql("SELECT extract(epoch FROM expires - now()), minted_until FROM "
                     "idmint.leases WHERE node = 'b'")
    check(rc == 0 and len(idb) == 1 and st == 503 and float(row[0][0]) <= 0 and
          int(row[0][1]) >= int(t * 1000),
          "lease: SIGTERM: exit 0, workers stop, the id is free, with the last "
          "snowflake time recorded: rc %d, %d, %r" % (rc, st, row))


# ---- the whole -------------------------------------------------------------------------

def scenarios(stack, fronts, check):
    t0 = time.monotonic()
    cl = servers.Cluster(BIN, CTL, workers=WORKERS, conf=CONF)
    try:
        cl.start()
        print("cluster: PostgreSQL and three nodes up in %.1f s" % (time.monotonic() - t0))
        only = os.environ.get("IDMINT_CLUSTER_ONLY", "").split(",")
        for f in (s_structure, s_refusals, s_keys, s_counting, s_quota, s_rate, s_snowflakes,
                  s_outage, s_workers, s_lease):
            if only != [""] and f.__name__ not in only:
                continue
            t = time.monotonic()
            try:
                f(cl, check)
            except Exception as e:  # noqa: BLE001 -- a scenario that dies fails
                check(False, "%s: %r" % (f.__name__, e))
            print("cluster: %s took %.1f s" % (f.__name__, time.monotonic() - t))
    finally:
        cl.stop_all(keep=harness.failed > 0)
        if harness.failed:
            print("cluster: logs kept in", cl.dir, cl.pg.dir)
    print("cluster: all scenarios %.1f s" % (time.monotonic() - t0))
