"""GET /metrics through a real web server in front of several workers.

A store and a pool of their own (`metrics = on`, flushes a minute apart)
behind an nginx of their own: a known burst of requests, sent at once from
many threads, must move every counter by exactly what the answers the
client saw say, over all the workers together (and CGI runs on the same
store count too).  The text is read with Prometheus's own parser (Debian's
python3-prometheus-client, run by the Debian Python it belongs to).

Then the shipped examples in etc/ (nginx, lighttpd, Apache mod_proxy_fcgi)
are run as they are, on this pool: /metrics answers a client on 127.0.0.1
and refuses one on 127.0.0.2 (also loopback, so nothing leaves the machine),
while the rest of the API answers both.
"""
import json
import os
import subprocess
import time
import urllib.parse
from collections import Counter

import harness
import servers
import suite_load
from suite_load import Client, Pool

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEBIAN_PYTHON = "/usr/bin/python3"
PROMPARSE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "promparse.py")
ROUTES = {"/": "idgen", "/healthz": "healthz", "/openapi.json": "openapi",
          "/metrics": "metrics", "/v1/encode": "encode", "/v1/encode-hex": "encode-hex",
          "/v1/decode": "decode", "/v1/decode-hex": "decode-hex", "/v1/meta": "meta"}
TYPES = {"word": "words"}
FAMILIES = {
    "idmint_requests": "counter", "idmint_ids_minted": "counter",
    "idmint_v1_calls": "counter", "idmint_unauthorized": "counter",
    "idmint_limit_refusals": "counter", "idmint_server_errors": "counter",
    "idmint_request_duration_seconds": "histogram",
    "idmint_shared_table_cells": "gauge", "idmint_shared_table_cells_used": "gauge",
    "idmint_usage_pending_calls": "gauge", "idmint_usage_last_flush_age_seconds": "gauge",
    "idmint_usage_flushes": "counter", "idmint_usage_sync_commits": "counter",
    "idmint_usage_lost_calls": "counter", "idmint_snowflake_slots": "gauge",
    "idmint_snowflake_slots_held": "gauge", "idmint_snowflake_clock_back": "counter",
    "idmint_build_info": "gauge",
}
TOK = {}


def parse(text):
    """{(sample name, sorted labels): value} and {family: type}, by the
    prometheus_client parser; an exception if it cannot read the text."""
    p = subprocess.run([DEBIAN_PYTHON, PROMPARSE], input=text, capture_output=True,
                       text=True, timeout=30)
    if p.returncode != 0:
        raise RuntimeError("prometheus_client: " + p.stderr.strip())
    samples, types = {}, {}
    for f in json.loads(p.stdout)["families"]:
        types[f["name"]] = f["type"]
        for name, labels, value in f["samples"]:
            samples[(name, tuple(sorted(labels.items())))] = value
    return samples, types


def scrape(c):
    r = c.call("GET", "/metrics")
    if r.status != 200:
        raise RuntimeError("GET /metrics: %d %r" % (r.status, r.body[:200]))
    return parse(r.body.decode())


def v(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def family(path):
    return "v1" if path == "/v1" or path.startswith("/v1/") else \
        "idgen" if path == "/" else "plain"


def status_class(st):
    return "%dxx" % (st // 100)


# ---- the burst --------------------------------------------------------------------

def post(user, typ, form=False, token=None, **extra):
    fields = dict({"username": user, "token": token or TOK[user], "type": typ}, **extra)
    if form:
        return ("POST", "/", urllib.parse.urlencode(fields).encode(),
                {"Content-Type": "application/x-www-form-urlencoded"})
    return ("POST", "/", json.dumps(fields).encode(), {"Content-Type": "application/json"})


def get(path, token=None, how=0):
    h = {} if token is None else [{"X-Oanor-Key": token}, {"X-Api-Key": token},
                                  {"Authorization": "Bearer " + token}][how % 3]
    return ("GET", path, None, h)


def burst_requests():
    o = TOK["m_open"]
    reqs = ([post("m_open", "uuid") for _ in range(40)]
            + [post("m_open", "uuid", count=3) for _ in range(5)]
            + [post("m_open", "snowflake") for _ in range(24)]
            + [post("m_open", "word", form=True) for _ in range(10)]
            + [get("/v1/encode?numbers=%d,7" % i, o, i) for i in range(30)]
            + [get("/v1/decode?hash=o2fXhV", o, i) for i in range(10)]
            + [get("/v1/meta", "idm_wrong") for _ in range(5)]
            + [post("m_open", "uuid", token="idm_wrong") for _ in range(5)]
            + [post("m_open", "nope") for _ in range(7)]
            + [get("/v1/encode?numbers=x", o) for _ in range(3)]
            + [get("/nope") for _ in range(6)] + [get("/v1/nope") for _ in range(4)]
            + [("DELETE", "/healthz", None, {}) for _ in range(3)]
            + [get("/healthz") for _ in range(8)]
            + [post("m_rate", "2fa") for _ in range(8)])
    # Spread over the threads so that every worker gets some of each.
    return [reqs[i] for i in sorted(range(len(reqs)), key=lambda i: (i * 7919) % len(reqs))]


def send_all(port, reqs, nthreads=8):
    out = [None] * len(reqs)

    def worker(t):
        c = Client(port)
        for i in range(t, len(reqs), nthreads):
            out[i] = c.call(*reqs[i])
        c.close()
    errs = suite_load.run_threads(nthreads, worker, 60)
    if errs:
        raise RuntimeError("; ".join(errs[:3]))
    return out


def fields(body):
    """The fields of a POST / body, JSON or form."""
    if body.startswith(b"{"):
        return json.loads(body)
    return {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}


def expected(reqs, out):
    """What the answers say the counters must have moved by."""
    want = Counter()
    for (method, path, body, headers), r in zip(reqs, out):
        p = path.split("?")[0]
        want[("idmint_requests_total", (("class", status_class(r.status)),
                                        ("route", ROUTES.get(p, "unknown"))))] += 1
        want[("idmint_request_duration_seconds_count", (("family", family(p)),))] += 1
        if r.status == 200 and p == "/":
            f = fields(body)
            want[("idmint_ids_minted_total", (("type", TYPES.get(f["type"], f["type"])),))] += \
                int(f.get("count", 1))
        elif r.status == 200 and p.startswith("/v1/"):
            want[("idmint_v1_calls_total", (("endpoint", ROUTES[p]),))] += 1
        elif r.status == 401:
            want[("idmint_unauthorized_total", ())] += 1
        elif r.status == 429:
            why = (r.json.get("error") or r.json.get("message") or "")
            want[("idmint_limit_refusals_total",
                  (("limit", "quota" if "quota" in why else "rate"),))] += 1
        elif r.status >= 500:
            want[("idmint_server_errors_total", ())] += 1
    return want


def counted(reqs, out):
    """(user, type) of every call usage counts (a 200 of POST / or /v1)."""
    got = Counter()
    for (method, path, body, headers), r in zip(reqs, out):
        p = path.split("?")[0]
        if r.status != 200 or not (p == "/" or p.startswith("/v1/")):
            continue
        if p == "/":
            f = fields(body)
            got[(f["username"], TYPES.get(f["type"], f["type"]))] += int(f.get("count", 1))
        else:
            got[("m_open", ROUTES[p])] += 1
    return got


def s_counters(stack, own, pool, check):
    c = Client(pool.port)
    # A fresh table: the first answer takes the first flush turn, after
    # which nothing is flushed for a minute.
    c.call("GET", "/healthz")
    before, types = scrape(c)
    bad = {n: t for n, t in types.items() if FAMILIES.get(n) != t}
    check(not bad and set(types) == set(FAMILIES),
          "metrics: the families and their types: wrong %r, missing %r"
          % (bad, set(FAMILIES) - set(types)))
    check(all(k[0].startswith("idmint_") for k in before),
          "metrics: every sample is named idmint_*")
    # CGI runs on the same store count into the same table (and flush it
    # as they exit: so before the burst, whose calls stay pending).
    env = {"IDMINT_CONF": own["conf"]}
    cg = [harness.cgi("GET", "/healthz", env_extra=env),
          harness.cgi("POST", "/", post("m_open", "cuid")[2],
                      {"Content-Type": "application/json"}, env_extra=env)]
    check([r.status for r in cg] == [200, 200] and all(r.rc == 0 for r in cg),
          "metrics: CGI requests: %r" % [(r.status, r.rc) for r in cg])
    reqs = burst_requests()
    out = send_all(pool.port, reqs)
    # m_quota may make 3 calls a month: three pass, the rest are refused.
    seq = [post("m_quota", "license") for _ in range(5)]
    out_q = [c.call(*q) for q in seq]
    check([r.status for r in out_q] == [200] * 3 + [429] * 2,
          "metrics: quota 3: %r" % [r.status for r in out_q])
    after, _ = scrape(c)

    all_reqs = reqs + seq + [get("/healthz"), post("m_open", "cuid")] + [get("/metrics")]
    all_out = out + out_q + cg + [harness.Resp(200, [], b"")]
    want = expected(all_reqs, all_out)
    wrong = {}
    for key in set(want) | {k for k in after if k[0] in (
            "idmint_requests_total", "idmint_ids_minted_total", "idmint_v1_calls_total",
            "idmint_unauthorized_total", "idmint_limit_refusals_total",
            "idmint_server_errors_total", "idmint_request_duration_seconds_count")}:
        d = after.get(key, 0) - before.get(key, 0)
        if d != want.get(key, 0):
            wrong[key] = (d, want.get(key, 0))
    st = Counter(r.status for r in all_out)
    print("metrics: burst of %d through nginx, 4 workers, 8 threads, + %d quota + 2 CGI: %s"
          % (len(reqs), len(seq), dict(st)))
    check(not wrong, "metrics: counters moved by exactly what the answers say: "
          "(moved, should) %r" % dict(list(wrong.items())[:8]))
    check(st[429] >= 3 and st[401] == 10 and st[404] == 10,
          "metrics: the burst had its refusals: %r" % dict(st))
    ids = {(int(r.json["id"]) >> 12) & 0x3ff for q, r in zip(reqs, out)
           if r.status == 200 and b'"snowflake"' in (q[2] or b"")}
    check(len(ids) >= 2, "metrics: several workers served the burst: worker ids %r" % ids)
    check_histogram(after, before, check)
    check_gauges(stack, own, c, after, counted(all_reqs, all_out), check)
    c.close()


def check_histogram(after, before, check):
    for fam in ("plain", "idgen", "v1"):
        le = sorted(((float(dict(k[1])["le"]), v) for k, v in after.items()
                     if k[0] == "idmint_request_duration_seconds_bucket"
                     and dict(k[1])["family"] == fam))
        count = v(after, "idmint_request_duration_seconds_count", family=fam)
        check(le and all(a[1] <= b[1] for a, b in zip(le, le[1:])) and le[-1][0] == float("inf")
              and le[-1][1] == count,
              "metrics: %s buckets rise to +Inf = count %r: %r" % (fam, count, le))
        s0 = v(before, "idmint_request_duration_seconds_sum", family=fam)
        s1 = v(after, "idmint_request_duration_seconds_sum", family=fam)
        check(s1 > s0, "metrics: %s duration sum grows: %r -> %r" % (fam, s0, s1))


def check_gauges(stack, own, c, after, calls, check):
    # A fresh table: two keys with a quota (a cell each), one with a rate.
    used = {k: v(after, "idmint_shared_table_cells_used", kind=k)
            for k in ("count", "quota", "rate")}
    check(used == {"count": len(calls), "quota": 2, "rate": 1},
          "metrics: table fill %r, want %d count cells (%r), 2 quota, 1 rate"
          % (used, len(calls), sorted(calls)))
    check(v(after, "idmint_shared_table_cells", kind="count") > used["count"],
          "metrics: table capacity")
    # The CGI run flushed its call as it exited; the rest wait.
    pend = v(after, "idmint_usage_pending_calls")
    check(pend == sum(calls.values()) - 1,
          "metrics: pending %r, want %d" % (pend, sum(calls.values()) - 1))
    check(v(after, "idmint_snowflake_slots_held") == 4,
          "metrics: 4 workers hold 4 snowflake slots: %r" % v(after, "idmint_snowflake_slots_held"))
    check(0 <= v(after, "idmint_usage_last_flush_age_seconds") < 120,
          "metrics: age of the last flush %r" % v(after, "idmint_usage_last_flush_age_seconds"))
    harness.ctl(own["db"], "usage", "m_open")   # flushes everything
    s, _ = scrape(c)
    check(v(s, "idmint_usage_pending_calls") == 0,
          "metrics: nothing pending after idmintctl flushed: %r"
          % v(s, "idmint_usage_pending_calls"))
    use = json.loads(harness.ctl(own["db"], "--json", "usage", "m_open"))
    got = {t["type"]: t["month"] for t in use["types"]}
    want = {t: n for (u, t), n in calls.items() if u == "m_open"}
    check(got == want, "metrics: the store agrees: %r, counted %r" % (got, want))


# ---- the shipped examples ---------------------------------------------------------

def fetch(port, path, source):
    return harness.request("http://127.0.0.1:%d" % port, "GET", path, source=source)


def example(name):
    with open(os.path.join(TOP, "etc", name)) as f:
        return f.read()


def start_nginx(own, sock, port):
    conf = example("nginx/idmint.conf").replace(
        "listen 127.0.0.1:8080;", "listen 127.0.0.1:%d;" % port).replace(
        "/run/idmint/idmint.sock", sock).replace(
        "include fastcgi_params;", "include /etc/nginx/fastcgi_params;")
    d = own["dir"]
    user = "user root root;" if os.geteuid() == 0 else ""
    path = os.path.join(d, "ex-nginx.conf")
    with open(path, "w") as f:
        f.write("daemon off;\n%s\nworker_processes 1;\npid %s/ex-nginx.pid;\n"
                "error_log %s/ex-nginx.err;\nevents { worker_connections 64; }\n"
                "http {\naccess_log off;\nclient_body_temp_path %s/tmp;\n"
                "fastcgi_temp_path %s/tmp;\n%s\n}\n"
                % (user, d, d, d, d, conf))
    os.makedirs(os.path.join(d, "tmp"), exist_ok=True)
    return ["nginx", "-e", os.path.join(d, "ex-nginx.err"), "-p", d, "-c", path]


def start_lighttpd(own, sock, port):
    d = own["dir"]
    path = os.path.join(d, "ex-lighttpd.conf")
    with open(path, "w") as f:
        f.write('server.modules = ( )\nserver.bind = "127.0.0.1"\nserver.port = %d\n'
                'server.document-root = "%s"\nserver.pid-file = "%s/ex-lighttpd.pid"\n'
                'server.errorlog = "%s/ex-lighttpd.err"\n%s'
                % (port, d, d, d, example("lighttpd/idmint.conf").replace(
                    "/run/idmint/idmint.sock", sock)))
    return ["lighttpd", "-D", "-f", path]


def start_apache(own, sock, port):
    d = own["dir"]
    mods = "/usr/lib/apache2/modules"
    vhost = example("apache/idmint-proxy-fcgi.conf").replace(
        "127.0.0.1:8080", "127.0.0.1:%d" % port).replace("/run/idmint/idmint.sock", sock)
    user = ""
    if os.geteuid() == 0:
        # Apache's children run as www-data, who must reach the socket.
        user = "User www-data\nGroup www-data"
        os.chmod(sock, 0o666)
    path = os.path.join(d, "ex-apache.conf")
    with open(path, "w") as f:
        f.write('ServerRoot "%s"\nServerName localhost\nListen 127.0.0.1:%d\n'
                'PidFile "%s/ex-apache.pid"\nErrorLog "%s/ex-apache.err"\nLogLevel warn\n%s\n'
                % (d, port, d, d, user)
                + "".join("LoadModule %s_module %s/mod_%s.so\n" % (m, mods, m) for m in (
                    "mpm_event", "authz_core", "authz_host", "setenvif", "proxy",
                    "proxy_fcgi"))
                + 'Mutex file:%s\nDefaultRuntimeDir "%s"\nStartServers 1\nServerLimit 1\n'
                  'ThreadsPerChild 4\n%s' % (d, d, vhost))
    return ["apache2", "-f", path, "-DFOREGROUND"]


def s_examples(stack, own, pool, check):
    for name, start in (("nginx", start_nginx), ("lighttpd", start_lighttpd),
                        ("apache", start_apache)):
        port = servers.free_port()
        argv = start(own, pool.sock, port)
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(own["dir"], "ex-%s.start" % name), "ab"))
        try:
            servers.wait_for(lambda: servers.port_open(port) or p.poll() is not None,
                             "etc/ example for " + name)
            here = fetch(port, "/metrics", "127.0.0.1")
            there = fetch(port, "/metrics", "127.0.0.2")
            health = fetch(port, "/healthz", "127.0.0.2")
            check(here.status == 200 and here.body.startswith(b"# HELP idmint_"),
                  "etc/ %s: /metrics answers 127.0.0.1: %d %r" % (name, here.status, here.body[:80]))
            check(there.status == 403,
                  "etc/ %s: /metrics refuses 127.0.0.2: %d %r" % (name, there.status, there.body[:80]))
            check(health.status == 200,
                  "etc/ %s: the rest answers 127.0.0.2: %d" % (name, health.status))
        finally:
            servers.stop_proc(p)


def scenarios(stack, fronts, check):
    d = os.path.join(stack.dir, "metrics")
    own = {"dir": d, "db": os.path.join(d, "db"), "conf": os.path.join(d, "idmint.conf")}
    os.makedirs(d, exist_ok=True)
    with open(own["conf"], "w") as f:
        f.write("db = %s\nlog_level = info\nlog = %s/idmint.log\nflush_ms = 60000\n"
                "metrics = on\n" % (own["db"], d))
    for name, opts in (("m_open", []), ("m_rate", ["--plan", "free"]),
                       ("m_quota", ["--rate", "0", "--quota", "3"])):
        TOK[name] = harness.ctl(own["db"], "add", name, *opts)
    pool = Pool(stack, "metrics-pool", 4, env=dict(stack.env, IDMINT_CONF=own["conf"]))
    t0 = time.monotonic()
    try:
        pool.start(keepalive=2)
        for f in (s_counters, s_examples):
            try:
                f(stack, own, pool, check)
            except Exception as e:  # noqa: BLE001 -- a scenario that dies fails
                check(False, "%s: %r" % (f.__name__, e))
    finally:
        pool.stop()
    print("metrics: scenarios took %.1f s" % (time.monotonic() - t0))
