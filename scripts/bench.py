"""The figures behind scripts/bench (run that, not this).

1. In process: IDs per second per flavour, Hashids encodes/decodes per
   second, whole requests per second, and callgrind's instruction counts
   (repeatable whatever else the machine is doing) per generated ID and
   per request: everyday requests, /v1/decode of a 4,096-character hash
   against a short one, and each route at its worst (the README's "Cost
   per request").
2. Through nginx to a multiwatch pool of 16 workers (keep-alive), with wrk
   on loopback, bounded in time: a do-nothing route, an authenticated
   call with counting on and off, the limiter's cost, and metrics on
   against off.
3. Cluster mode against a single machine, same run: one node with its
   sync process and a private PostgreSQL, 16 workers behind nginx, and
   the same without the cluster setting, side by side (a wrk on each at
   once); the sync process's CPU share under that load; and callgrind's
   instructions per request with cluster mode off and on.  (IDMINT_BENCH_ONLY=process, nginx or cluster
   runs one part.)

With IDMINT_BENCH_BASE (scripts/bench --against REV) a second build is
measured beside this one: its callgrind counts in a column of their own,
and its pool's wrk runs alternating with this one's.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(top, "tests", "http"))
import servers  # noqa: E402

build = sys.argv[1]
SECONDS = int(os.environ.get("IDMINT_BENCH_SECONDS", "5"))
gen = os.path.join(build, "tests/bench/bench_gen")
hid = os.path.join(build, "tests/bench/bench_hashids")
srv = os.path.join(build, "tests/bench/bench_serve")
BASE = os.environ.get("IDMINT_BENCH_BASE")
BASE_REV = os.environ.get("IDMINT_BENCH_BASE_REV", "base")


def section(title):
    print("\n== " + title, flush=True)


def callgrind_instr(argv, env=None):
    with tempfile.NamedTemporaryFile() as out:
        p = subprocess.run(["valgrind", "--tool=callgrind",
                            "--callgrind-out-file=" + out.name] + argv,
                           capture_output=True, text=True,
                           env=dict(os.environ, **(env or {})))
    m = re.search(r"Collected : (\d+)", p.stderr)
    return int(m.group(1)) if m else None


# Each route at its worst: tests/bench/bench_serve.c says what each is.
WORST = ["healthz", "meta", "encode-max", "encode-hex-max", "decode-max",
         "decode-hex-max", "sqids-encode-max", "sqids-decode-max",
         "snowflake-parse", "snowflake-info", "post-string", "post-members",
         "post-batch-max"]


def in_process():
    section("in process: IDs per second (bench_gen)")
    subprocess.run([gen], check=True)
    section("in process: Hashids per second (bench_hashids)")
    subprocess.run([hid], check=True)
    section("in process: whole requests through serve(), no FastCGI hop (bench_serve)")
    subprocess.run([srv], check=True)
    kinds = ["healthz", "encode", "encode-limited", "decode-hex", "post-nanoid"]
    section("callgrind: instructions per request through serve()")
    per = per_call("request", [srv], kinds + ["post-nanoid-100", "sqids-encode",
                                              "sqids-decode", "snowflake-parse"],
                   5000, {"post-nanoid-100": 200})
    if per.get("post-nanoid") and per.get("post-nanoid-100"):
        section("callgrind: instructions per ID, POST / nanoid (21), one per request "
                "and count=100")
        print("%-16s %8.0f instructions/ID" % ("one", per["post-nanoid"]))
        print("%-16s %8.0f instructions/ID   (%.1fx fewer)" % (
            "count=100", per["post-nanoid-100"] / 100,
            per["post-nanoid"] / (per["post-nanoid-100"] / 100)))
    section("callgrind: /v1/decode of a 4,096-character hash against o2fXhV")
    got = per_call("request", [srv], ["decode-short", "decode-long",
                                      "decode-cap"], 50,
                   {"decode-short": 5000})
    for kind in ("decode-long", "decode-cap"):
        if got.get(kind) and got.get("decode-short"):
            print("%-16s %8.1f times decode-short" %
                  (kind, got[kind] / got["decode-short"]))
    section("callgrind: each route at its worst (README: Cost per request)")
    per_call("request", [srv], WORST, 10, {"post-batch-max": 2})
    section("callgrind: instructions per request, metrics = on (bench_serve reads IDMINT_*)")
    per_call("request", [srv], kinds, 5000, env={"IDMINT_METRICS": "on"})
    section("callgrind: instructions per generated ID")
    per_call("ID", [gen], ["uuid", "uuid7", "nanoid", "2fa", "license",
                           "words", "snowflake", "cuid", "keypair"], 20000,
             {"keypair": 500})


def per_call(unit, argv, kinds, n, counts=None, env=None):
    """Instructions per call: a run of n calls less a run of none, for this
    build and, with BASE, for the base build too (same program path)."""
    builds = [("this", build)] + ([(BASE_REV, BASE)] if BASE else [])
    out = {}
    if BASE:
        print("%-16s %14s %14s %8s" % ("", "this", BASE_REV, "ratio"))
    for kind in kinds:
        count = (counts or {}).get(kind, n)
        got = []
        for _, b in builds:
            prog = [os.path.join(b, os.path.relpath(argv[0], build))]
            base = callgrind_instr(prog + ["--once", kind, "0"], env)
            full = callgrind_instr(prog + ["--once", kind, str(count)], env)
            got.append(None if base is None or full is None
                       else (full - base) / count)
        if None in got:
            print("%-16s callgrind failed" % kind)
            continue
        out[kind] = got[0]
        if BASE and got[1] < 100:       # a kind the base does not have (it stops at once)
            print("%-16s %14.0f %14s" % (kind, got[0], "-"))
        elif BASE:
            print("%-16s %14.0f %14.0f %8.3f" % (kind, got[0], got[1],
                                                   got[0] / got[1]))
        else:
            print("%-16s %8.0f instructions/%s" % (kind, got[0], unit))
    return out


def wrk(url, headers=(), script=None):
    argv = ["wrk", "-t1", "-c32", "-d%ds" % SECONDS, "--latency"]
    for h in headers:
        argv += ["-H", h]
    if script:
        argv += ["-s", script]
    p = subprocess.run(argv + [url], capture_output=True, text=True,
                       timeout=SECONDS + 30)
    m = re.search(r"Requests/sec:\s+([\d.]+)", p.stdout)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", p.stdout)
    total = re.search(r"(\d+) requests in", p.stdout)
    return (float(m.group(1)) if m else 0.0,
            int(non2xx.group(1)) if non2xx else 0,
            int(total.group(1)) if total else 0)


def ctl(stack, *args):
    ctlbin = os.path.join(os.path.dirname(stack.binary), "idmintctl")
    return subprocess.run([ctlbin, "-d", stack.db] + list(args), check=True,
                          capture_output=True, text=True).stdout.strip()


def start_stack(binary, counting, ctlbin=None, metrics=False):
    # 16 workers, nginx keeping 8 connections: no kept connection ever
    # waits for a worker (the measured set-up in doc/design.md).  The
    # metrics line only when on: an older build (--against) has no such
    # setting.
    stack = servers.Stack(binary, workers=16, keepalive=8,
                          conf="count_usage = %s\nlog_level = warn\n%s"
                          % (counting, "metrics = on\n" if metrics else ""))
    stack.tokens = {
        "unlimited": ctl(stack, "add", "unl"),
        "mega": ctl(stack, "add", "meg", "--plan", "mega"),
        "high": ctl(stack, "add", "hi", "--rate", "1000000",
                    "--quota", "1000000000000"),
    }
    stack.start_pool()
    stack.base = stack.nginx()
    stack.lua = {}
    for name, extra in (("lua", {}), ("lua100", {"count": 100})):
        stack.lua[name] = os.path.join(stack.dir, name + ".lua")
        with open(stack.lua[name], "w") as f:
            f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = '
                    '"application/json"\nwrk.body = \'%s\'\n' % json.dumps(
                        dict({"username": "unl", "token": stack.tokens["unlimited"],
                              "type": "nanoid", "length": 21}, **extra)))
    return stack


ROUNDS = int(os.environ.get("IDMINT_BENCH_ROUNDS", "3"))


def through_nginx():
    """Both pools run at once and the runs alternate, ROUNDS times, so a
    noisy neighbour hits both sides of each ratio alike; medians shown."""
    binary = os.path.join(build, "src/idmint")
    on = start_stack(binary, "yes")
    off = start_stack(binary, "no")
    met = start_stack(binary, "yes", metrics=True)
    old = start_stack(os.path.join(BASE, "src/idmint"), "yes") if BASE else None
    runs = {}
    try:
        enc = "/v1/encode?numbers=1,2,3"
        plan = [
            ("healthz", on, "/healthz", None, None),
            ("healthz, metrics on", met, "/healthz", None, None),
            ("encode unlimited, counting on", on, enc, "unlimited", None),
            ("encode unlimited, metrics on", met, enc, "unlimited", None),
            ("encode unlimited, counting off", off, enc, "unlimited", None),
            ("encode limiter on, never refusing", on, enc, "high", None),
            ("encode mega (50/s: mostly 429)", on, enc, "mega", None),
            ("POST / nanoid, counting on", on, "/", None, "lua"),
            ("POST / nanoid, metrics on", met, "/", None, "lua"),
            ("POST / nanoid, counting off", off, "/", None, "lua"),
            ("POST / nanoid count=100, counting on", on, "/", None, "lua100"),
        ]
        if old:
            plan += [
                ("encode unlimited, counting on, " + BASE_REV, old, enc,
                 "unlimited", None),
                ("POST / nanoid, counting on, " + BASE_REV, old, "/", None,
                 "lua"),
            ]
        for _ in range(ROUNDS):
            for name, st, path, key, script in plan:
                hdr = ["X-Api-Key: " + st.tokens[key]] if key else []
                runs.setdefault(name, []).append(
                    wrk(st.base + path, hdr, st.lua[script] if script else None))
        # The metrics pool's own account of the load, for the record.
        text = subprocess.run(["curl", "-s", met.base + "/metrics"],
                              capture_output=True, text=True, timeout=30).stdout
        runs["_metrics"] = [l for l in text.splitlines() if l.startswith((
            'idmint_requests_total{route="encode",class="2xx"}',
            'idmint_requests_total{route="idgen",class="2xx"}',
            "idmint_request_duration_seconds_count"))]
    finally:
        on.stop_all()
        off.stop_all()
        met.stop_all()
        if old:
            old.stop_all()
    return {k: v if k.startswith("_") else sorted(v)[len(v) // 2]
            for k, v in runs.items()}


def report(results):
    section("through nginx (keepalive 8), 16 workers, wrk -t1 -c32 -d%ds, median of %d (requests/s)" % (SECONDS, ROUNDS))
    for name, v in results.items():
        if name.startswith("_"):
            continue
        rps, non2xx, total = v
        print("%-40s %10.0f   (%d requests, %d not 2xx)" % (name, rps, total, non2xx))
    r = results
    def ratio(a, b):
        if r.get(a) and r.get(b) and r[b][0] > 0:
            print("%-60s %.3f" % (a + " / " + b, r[a][0] / r[b][0]))
    section("ratios, same run")
    ratio("healthz, metrics on", "healthz")
    ratio("encode unlimited, metrics on", "encode unlimited, counting on")
    ratio("POST / nanoid, metrics on", "POST / nanoid, counting on")
    ratio("encode unlimited, counting on", "encode unlimited, counting off")
    ratio("POST / nanoid, counting on", "POST / nanoid, counting off")
    ratio("encode limiter on, never refusing", "encode unlimited, counting on")
    ratio("encode mega (50/s: mostly 429)", "encode unlimited, counting on")
    ratio("encode unlimited, counting on", "healthz")
    ratio("POST / nanoid, counting on", "healthz")
    if BASE:
        ratio("encode unlimited, counting on",
              "encode unlimited, counting on, " + BASE_REV)
        ratio("POST / nanoid, counting on",
              "POST / nanoid, counting on, " + BASE_REV)
    one, batch = r.get("POST / nanoid, counting on"), r.get("POST / nanoid count=100, counting on")
    if one and batch and one[0] > 0:
        section("IDs per second through nginx, POST / nanoid (21), counting on")
        print("%-40s %10.0f IDs/s" % ("one per request", one[0]))
        print("%-40s %10.0f IDs/s" % ("count=100", batch[0] * 100))
        print("%-60s %.1f" % ("count=100 / one per request (IDs/s)", batch[0] * 100 / one[0]))
    section("the metrics pool's /metrics after the runs (excerpt)")
    for line in r.get("_metrics", []):
        print(line)


def cpu_s(pid):
    """User + system CPU seconds of pid so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cluster():
    """A node in cluster mode (its sync process, a private PostgreSQL)
    against the same pool without the cluster setting, with a key that has
    a rate and a quota (so the cluster's reads are on the path) and
    snowflakes (the leased node id).  The two run side by side, a wrk on
    each at the same moment, so whatever else loads the machine loads both
    alike; ROUNDS pairs, median ratio."""
    binary = os.path.join(build, "src/idmint")
    ctlbin = os.path.join(build, "src/idmintctl")
    off = servers.Stack(binary, workers=16, keepalive=8, conf="log_level = warn\n")
    on = None
    runs, sync_cpu = {}, []
    try:
        off.tokens = {"high": ctl(off, "add", "hi", "--rate", "1000000",
                                  "--quota", "1000000000000"),
                      "unl": ctl(off, "add", "unl")}
        off.start_pool()
        off.base = off.nginx()
        on = servers.Cluster(binary, ctlbin, names=("a",), workers=16, keepalive=8,
                             conf="log_level = warn\n", access_log=False)
        on.base = on.start()
        a = on.nodes[0]
        on.tokens = {"high": a.ctl("add", "hi", "--rate", "1000000", "--quota",
                                   "1000000000000").stdout.strip(),
                     "unl": a.ctl("add", "unl").stdout.strip()}
        servers.wait_for(lambda: subprocess.run(
            ["curl", "-fs", "-o", "/dev/null", "-H", "X-Api-Key: " + on.tokens["high"],
             on.base + "/v1/encode?numbers=1"]).returncode == 0, "the key on the node", 15)
        for st in (off, on):
            st.lua = os.path.join(st.dir, "snow.lua")
            with open(st.lua, "w") as f:
                f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = '
                        '"application/json"\nwrk.body = \'%s\'\n' % json.dumps(
                            {"username": "unl", "token": st.tokens["unl"],
                             "type": "snowflake"}))
        plan = [("encode, rate and quota", "/v1/encode?numbers=1,2,3", "high", False),
                ("POST / snowflake", "/", None, True)]
        for _ in range(ROUNDS):
            for name, path, key, lua in plan:
                got = {}

                def one(label, st):
                    hdr = ["X-Api-Key: " + st.tokens[key]] if key else []
                    got[label] = wrk(st.base + path, hdr, st.lua if lua else None)
                c0, t0 = cpu_s(a.sync.pid), time.monotonic()
                ts = [threading.Thread(target=one, args=x) for x in
                      (("off", off), ("on", on))]
                for t in ts:
                    t.start()
                for t in ts:
                    t.join()
                sync_cpu.append((cpu_s(a.sync.pid) - c0) / (time.monotonic() - t0))
                runs.setdefault(name, []).append((got["off"], got["on"]))
    finally:
        off.stop_all()
        if on is not None:
            on.stop_all()
    section("cluster mode: one node, sync process and PostgreSQL on, against off, "
            "side by side (wrk -t1 -c32 -d%ds each, %d pairs, requests/s)"
            % (SECONDS, ROUNDS))
    for name, _, _, _ in plan:
        pairs = runs[name]
        ratios = sorted(p[1][0] / p[0][0] for p in pairs if p[0][0] > 0)
        med = sorted(pairs, key=lambda p: p[1][0] / p[0][0] if p[0][0] else 0)[
            len(pairs) // 2]
        print("%-28s off %9.0f   on %9.0f   on/off %.3f (median; %s)   (%d not 2xx)" % (
            name, med[0][0], med[1][0], ratios[len(ratios) // 2] if ratios else 0,
            " ".join("%.3f" % r for r in ratios),
            sum(p[0][1] + p[1][1] for p in pairs)))
    sync_cpu.sort()
    print("%-28s %.2f%% of one core (median over the runs; max %.2f%%)" % (
        "sync process CPU", 100 * sync_cpu[len(sync_cpu) // 2], 100 * sync_cpu[-1]))
    section("callgrind: instructions per request through serve(), cluster mode off "
            "and on (bench_serve, BENCH_CLUSTER)")
    off_env = {k: v for k, v in os.environ.items() if k != "BENCH_CLUSTER"}
    on_env = dict(off_env, BENCH_CLUSTER="1")
    for kind in ("encode-limited", "post-snowflake", "post-nanoid"):
        got = []
        for env in (off_env, on_env):
            base = callgrind_instr([srv, "--once", kind, "0"], env)
            full = callgrind_instr([srv, "--once", kind, "5000"], env)
            got.append(None if base is None or full is None else (full - base) / 5000)
        if None in got:
            print("%-16s callgrind failed" % kind)
        else:
            print("%-16s off %8.0f   on %8.0f   on/off %.3f" % (kind, got[0], got[1],
                                                               got[1] / got[0]))


if __name__ == "__main__":
    only = os.environ.get("IDMINT_BENCH_ONLY", "")
    if only in ("", "process"):
        in_process()
    if only in ("", "nginx"):
        report(through_nginx())
    if only in ("", "cluster"):
        cluster()
