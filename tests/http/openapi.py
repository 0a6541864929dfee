"""Every answer the HTTP tests received, checked against doc/openapi.json.

harness.RECEIVED holds them (harness.keep); at the end of the run they go
to one node process (tests/openapi/check.mjs: the document against the
OpenAPI 3.1 schema, then each answer's status, headers and body with
Ajv).  The npm packages it needs are pinned in tests/openapi/package.json
and package-lock.json and installed with `npm ci` into the build tree
(build/node-openapi), once per change of the lock file.

A few deliberately wrong copies of real answers go along, and each must
be caught: that is what shows the check can fail.
"""
import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import harness

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(TOP, "doc", "openapi.json")
PKG = os.path.join(TOP, "tests", "openapi")
# A directory of its own: `npm ci` empties node_modules first, so it must
# not share build/node with the Sqids suite's `npm install`.
NODE_DIR = os.environ.get("IDMINT_OPENAPI_NODE_DIR") or os.path.join(os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(harness.BIN)))), "node-openapi")


def install():
    """npm ci into NODE_DIR unless the lock file is the one installed.
    Returns None, or why it failed."""
    with open(os.path.join(PKG, "package-lock.json"), "rb") as f:
        want = hashlib.sha256(f.read()).hexdigest()
    stamp = os.path.join(NODE_DIR, ".idmint-lock")
    try:
        with open(stamp) as f:
            if f.read() == want:
                return None
    except OSError:
        pass
    os.makedirs(NODE_DIR, exist_ok=True)
    for n in ("package.json", "package-lock.json"):
        shutil.copy(os.path.join(PKG, n), NODE_DIR)
    p = subprocess.run(["npm", "ci", "--prefix", NODE_DIR, "--no-audit", "--no-fund",
                        "--loglevel=error"], capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        return "npm ci in %s: %s" % (NODE_DIR, (p.stderr or p.stdout)[-600:])
    with open(stamp, "w") as f:
        f.write(want)
    return None


def routes(check_fn, conf):
    """The document and the route table name the same paths: each row of
    ROUTES in src/router.h is documented, and each documented operation
    reaches a route (in CGI mode, with metrics on: anything but 404)."""
    with open(DOC) as f:
        doc = json.load(f)
    with open(os.path.join(TOP, "src", "router.h")) as f:
        table = re.findall(r'^\s*R\(\w+,\s*"[^"]*",\s*"([^"]*)"', f.read(), re.M)
    check_fn(table and set(table) == set(doc["paths"]),
             "openapi: documented paths are the route table's: undocumented %r, "
             "not in the table %r" % (sorted(set(table) - set(doc["paths"])),
                                      sorted(set(doc["paths"]) - set(table))))
    for path, item in sorted(doc["paths"].items()):
        for method in sorted(m for m in item if not m.startswith("x-")):
            r = harness.cgi(method.upper(), path, env_extra={
                "IDMINT_CONF": conf, "IDMINT_METRICS": "on"})
            check_fn(r.status not in (0, 404, 405) and r.rc == 0,
                     "openapi: %s %s reaches a route: %d %r"
                     % (method.upper(), path, r.status, r.body[:100]))


def _headers(h):
    if isinstance(h, bytes):        # raw header lines (suite_load's RawClient)
        h = [tuple(l.split(": ", 1)) for l in h.decode("latin-1").split("\r\n") if ": " in l]
    return [[k, v] for k, v in h]


def _record(i, rec):
    method, path, query, status, headers, body = rec
    return json.dumps({"id": i, "method": method, "path": path, "query": query,
                       "status": status, "headers": _headers(headers),
                       "body": (body or b"").decode("latin-1")})


# ---- wrong on purpose ------------------------------------------------------------
def _json_body(rec, f):
    j = json.loads(rec[5])
    f(j)
    return rec[:5] + (json.dumps(j).encode(),)


def _without(rec, name):
    return rec[:4] + ([h for h in _headers(rec[4]) if h[0].lower() != name],) + rec[5:]


def _with_header(rec, name, value):
    return rec[:4] + ([h for h in _headers(rec[4]) if h[0].lower() != name.lower()]
                      + [[name, value]],) + rec[5:]


# (what, which real answer, how it is made wrong)
MUTANTS = [
    ("a status the document does not give", lambda r: r[0] == "POST" and r[3] == 200,
     lambda r: r[:3] + (201,) + r[4:]),
    ("the envelope without `success`", lambda r: r[1] == "/v1/encode" and r[3] == 200,
     lambda r: _json_body(r, lambda j: j.pop("success"))),
    ("a number where the id is a string", lambda r: r[0] == "POST" and r[3] == 200,
     lambda r: _json_body(r, lambda j: j.update(id=5))),
    ("a field the schema does not have", lambda r: r[1] == "/v1/decode" and r[3] == 200,
     lambda r: _json_body(r, lambda j: j["data"].update(extra=1))),
    ("a 429 without Retry-After", lambda r: r[3] == 429,
     lambda r: _without(r, "retry-after")),
    ("a 405 without Allow", lambda r: r[3] == 405, lambda r: _without(r, "allow")),
    ("a /v1 answer without X-Request-Id", lambda r: r[1].startswith("/v1/") and r[3] == 200,
     lambda r: _without(r, "x-request-id")),
    ("RateLimit-Remaining that is not a number", lambda r: r[1] == "/v1/meta" and r[3] == 200,
     lambda r: _with_header(r, "RateLimit-Remaining", "lots")),
    ("a plain 404 in the envelope's shape", lambda r: r[3] == 404 and not r[1].startswith("/v1"),
     lambda r: r[:5] + (b'{"data":null,"success":false}',)),
    ("healthz as HTML", lambda r: r[1] == "/healthz" and r[3] == 200,
     lambda r: _with_header(r, "Content-Type", "text/html")),
    ("a success message of another endpoint", lambda r: r[1] == "/v1/decode-hex" and r[3] == 200,
     lambda r: _json_body(r, lambda j: j.update(message="Decode a hashid"))),
]


def check(check_fn, limit=60):
    """Check every kept answer and the wrong copies.  Adds a failure per
    distinct undescribed answer (method, path, status, why), with a count."""
    err = install()
    if err:
        check_fn(False, "openapi: " + err)
        return
    t0 = time.monotonic()
    real = harness.RECEIVED
    wrong = []
    # A run of a few suites may lack some kinds of answer to spoil; the
    # base table alone gives 404, 405 and healthz.
    for what, pick, spoil in MUTANTS:
        src = next((r for r in real if pick(r)), None)
        if src is not None:
            wrong.append((what, spoil(copy.deepcopy(src))))
    check_fn(len(wrong) >= 3, "openapi: answers to spoil on purpose: %d" % len(wrong))
    # Streamed to node as they are written; its answer goes to a file,
    # so that neither side waits for the other.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen(["node", os.path.join(PKG, "check.mjs"), NODE_DIR, DOC, "-"],
                             stdin=subprocess.PIPE, stdout=out, stderr=err, text=True)
        try:
            for i, rec in enumerate(real + [rec for _, rec in wrong]):
                p.stdin.write(_record(i, rec) + "\n")
            p.stdin.close()
        except BrokenPipeError:
            pass                # node stopped early: its output says why
        rc = p.wait(600)
        out.seek(0)
        err.seek(0)
        lines, stderr = out.read().splitlines(), err.read()
    check_fn(rc == 0 and lines and lines[0].startswith("document: valid"),
             "openapi: doc/openapi.json is a valid OpenAPI 3.1 document: %s %s"
             % ((lines or [""])[0], stderr[-800:]))
    if rc != 0 or not lines or not lines[-1].startswith("checked "):
        return
    failed, groups = set(), {}
    for l in lines[1:-1]:
        f = l.split("\t")
        if len(f) != 8 or f[0] != "FAIL":
            continue
        i = int(f[1])
        failed.add(i)
        if i < len(real):
            groups.setdefault("%s %s -> %s: %s" % (f[2], f[3], f[5], f[6]), []).append(
                f[3] + ("?" + f[4] if f[4] else "") + (" " + f[7] if f[7] else ""))
    for j, (what, _) in enumerate(wrong):
        check_fn(len(real) + j in failed, "openapi: caught a wrong answer on purpose: " + what)
    # One failure per distinct answer not described, with how often.
    for n, (key, seen) in enumerate(sorted(groups.items(), key=lambda kv: -len(kv[1]))):
        if n == limit:
            check_fn(False, "openapi: and %d more kinds of answer not described"
                     % (len(groups) - limit))
            break
        check_fn(False, "openapi: not described: %s (%d answer%s, e.g. %s)"
                 % (key, len(seen), "" if len(seen) == 1 else "s", seen[0][:300]))
    print("openapi: %s; %d received, %d wrong on purpose, all caught: %s; %.1f s"
          % (lines[-1], len(real), len(wrong), "yes" if all(
              len(real) + j in failed for j in range(len(wrong))) else "NO",
             time.monotonic() - t0))
