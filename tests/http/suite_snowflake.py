"""GET /v1/snowflake/parse and /v1/snowflake/info (doc/api.md) through
lighttpd, nginx, Apache and CGI: the layout, known snowflakes taken apart,
the errors, and snowflakes minted by the pool read back.

Loaded by run.py (`python3 tests/http/run.py suite_snowflake`).
"""
import json
import os
import time
import urllib.parse

import harness
from harness import EPOCH_MS, verdict
from suite_hashids import envelope_ok

TOK = {}
RUNS_OUT_MS = EPOCH_MS + 2 ** 41        # the first ms the 41-bit field cannot hold


def prepare(stack):
    # CGI mode reads its configuration from the environment harness.cgi() copies.
    os.environ["IDMINT_CONF"] = stack.conf
    TOK["sfkey"] = harness.ctl(stack.db, "add", "sfkey")


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


def ok(message, pred):
    return lambda r: envelope_ok(r) and r.json["message"] == message and pred(r.json["data"])


def fail(msg):
    return lambda r: envelope_ok(r) and r.json["message"] == msg and r.json["data"] is None


def parsed(sid):
    """The data the parse of sid must hold, computed here from the layout."""
    v = int(sid)
    ms = EPOCH_MS + (v >> 22)
    worker = (v >> 12) & 0x3ff
    return {"id": str(v), "timestamp": iso(ms), "timestamp_ms": ms, "worker_id": worker,
            "node_id": worker >> 5, "slot": worker & 31, "sequence": v & 0xfff}


def cases(stack):
    h = {"X-Api-Key": TOK["sfkey"]}
    rows = []

    def g(name, path, status, pred, headers=h):
        rows.append(("snowflake: " + name, "GET", path, None, headers, status, pred))

    layout = {"epoch": "2010-11-04T01:42:54.657Z", "epoch_ms": EPOCH_MS,
              "bits": {"time": 41, "node": 5, "slot": 5, "sequence": 12}, "node_id": 0,
              "runs_out": "2080-07-10T17:30:30.209Z", "runs_out_ms": RUNS_OUT_MS}
    g("info", "/v1/snowflake/info", 200, ok("Snowflake layout", lambda d: set(d) == set(layout) | {
        "days_left"} and all(d[k] == v for k, v in layout.items())
        and abs(d["days_left"] - (RUNS_OUT_MS - time.time() * 1000) / 86400000) < 2))
    for sid in ("1541815603606036480", "0", "4194303", "9223372036854775807", "00042"):
        g("parse " + sid, "/v1/snowflake/parse?id=" + sid, 200,
          ok("Parse a snowflake", lambda d, s=sid: d == parsed(s)))
    for q, msg in (("", "id is required"), ("id=", "id is required"),
                   ("id=9223372036854775808", "id must be a whole number from 0 to 9223372036854775807"),
                   ("id=-1", "id must be a whole number from 0 to 9223372036854775807"),
                   ("id=1e5", "id must be a whole number from 0 to 9223372036854775807"),
                   ("id=1&id=2", "parameter id is given more than once")):
        g("parse ?" + q, "/v1/snowflake/parse?" + q, 400, fail(msg))
    g("info: a parameter twice", "/v1/snowflake/info?x=1&x=2", 400,
      fail("parameter x is given more than once"))
    g("no key", "/v1/snowflake/info", 401, fail("Missing or invalid x-oanor-key header"), {})
    return rows


def scenarios(stack, fronts, check):
    """A snowflake minted by the pool reads back as now, this node, a slot."""
    h = {"X-Api-Key": TOK["sfkey"]}
    for fr, base in fronts.items():
        body = json.dumps({"username": "sfkey", "token": TOK["sfkey"], "type": "snowflake",
                           "count": 5}).encode()
        r = harness.request(base, "POST", "/", body, {"Content-Type": "application/json"})
        if not (r.status == 200 and r.json and len(r.json.get("ids", [])) == 5):
            check(False, "%s: snowflake: mint: %d %r" % (fr, r.status, r.body[:200]))
            continue
        for sid in r.json["ids"]:
            p = harness.request(base, "GET", "/v1/snowflake/parse?id=" + urllib.parse.quote(sid),
                                None, h)
            check(verdict(p, 200, ok("Parse a snowflake", lambda d: d == parsed(sid)
                                     and abs(d["timestamp_ms"] - time.time() * 1000) < 120000
                                     and d["node_id"] == 0)),
                  "%s: snowflake: parse %s: %d %r" % (fr, sid, p.status, p.body[:300]))
