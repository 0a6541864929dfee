"""POST / with `count`: batches of IDs (doc/api.md) through lighttpd, nginx,
Apache and CGI: the {"ids":[...]} shape, order within a batch, the count
errors, and, once the tables are done, quotas and rates with batches and
concurrent batches counted exactly across the pool.

Loaded by run.py (`python3 tests/http/run.py suite_batch`).
"""
import json
import os
import re
import threading
import urllib.parse

import harness

JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
TOK = {}
UUID7 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
E_MIN = "Count must be a whole number of at least 1"
E_MAX = "Count too large, please use a smaller number"


def prepare(stack):
    # CGI mode reads its configuration from the environment harness.cgi() copies.
    os.environ["IDMINT_CONF"] = stack.conf
    for name, plan in (("bkey", []), ("bquota", ["--rate", "0", "--quota", "30"]),
                       ("brate", ["--rate", "5", "--quota", "0"]), ("bload", [])):
        TOK[name] = harness.ctl(stack.db, "add", name, *plan)


def body(user="bkey", **kw):
    d = {"username": user, "token": TOK[user]}
    d.update(kw)
    return json.dumps(d).encode()


def ids(r, n, rx=None):
    """The answer is {"ids": [n distinct strings]}, each matching rx."""
    j = r.json
    return (isinstance(j, dict) and set(j) == {"ids"} and isinstance(j["ids"], list)
            and len(j["ids"]) == n and len(set(j["ids"])) == n
            and all(isinstance(i, str) and (rx is None or rx.fullmatch(i)) for i in j["ids"]))


def keypairs(r, n):
    j = r.json
    return (isinstance(j, dict) and set(j) == {"ids", "privateIDs"} and len(j["ids"]) == n
            and len(j["privateIDs"]) == n and len(set(j["ids"])) == n
            # An Ed25519 secret key in libsodium's layout ends with its public key.
            and all(p[64:] == i and re.fullmatch(r"[0-9a-f]{128}", p)
                    for i, p in zip(j["ids"], j["privateIDs"])))


def cases(stack):
    rows = []

    def add(name, data, status, pred, headers=JSON):
        rows.append(("batch: " + name, "POST", "/", data, headers, status, pred))

    add("uuid v7, in order", body(type="uuid", version=7, count=100), 200,
        lambda r: ids(r, 100, UUID7) and r.json["ids"] == sorted(r.json["ids"]))
    add("snowflakes strictly increasing", body(type="snowflake", count=300), 200,
        lambda r: ids(r, 300, re.compile(r"[1-9][0-9]*"))
        and all(int(a) < int(b) for a, b in zip(r.json["ids"], r.json["ids"][1:])))
    add("keypair", body(type="keypair", count=3), 200, lambda r: keypairs(r, 3))
    add("nanoid with its options", body(type="nanoid", length=12, alphabet="abc", count="25"), 200,
        lambda r: ids(r, 25, re.compile(r"[abc]{12}")))
    add("1,000 licenses", body(type="license", count=1000), 200,
        lambda r: ids(r, 1000, re.compile(r"[0-9A-Z]{5}(-[0-9A-Z]{5}){4}")))
    add("count 1 is a batch of one", body(type="cuid", count=1), 200, lambda r: ids(r, 1))
    add("no count: one ID, as before", body(type="2fa"), 200,
        lambda r: set(r.json) == {"id"} and re.fullmatch(r"[0-9]{6}", r.json["id"]))
    form = urllib.parse.urlencode({"username": "bkey", "token": TOK["bkey"], "type": "words",
                                   "count": "0004"}).encode()
    add("form body", form, 200, lambda r: ids(r, 4, re.compile(r"[a-z]+(-[a-z]+){2}")), FORM)
    for bad, msg in (("0", E_MIN), ('"-5"', E_MIN), ("2.5", E_MIN), ('""', E_MIN), ("null", E_MIN),
                     ("1001", E_MAX), ('"99999999999999999999"', E_MAX),
                     ("[3]", "Invalid JSON body: field values must be strings, numbers, "
                      "booleans or null")):
        add("count " + bad, b'{"username":"bkey","token":"%s","type":"uuid","count":%s}'
            % (TOK["bkey"].encode(), bad.encode()), 400, lambda r, m=msg: r.json == {"error": m})
    add("bad count after a bad type", body(type="ulid", count=0), 400,
        lambda r: r.json == {"error": "ID Type ulid not supported."})
    add("bad count before the type's options", body(type="nanoid", count=0), 400,
        lambda r: r.json == {"error": E_MIN})
    add("bad count, bad token: 401 first", body(token="idm_x", count=0), 401,
        lambda r: r.json == {"error": "Invalid username or token"})
    return rows


def post(base, data):
    return harness.request(base, "POST", "/", data, JSON)


def usage(stack, user):
    return json.loads(harness.ctl(stack.db, "--json", "usage", user))


def scenarios(stack, fronts, check):
    nginx = fronts["nginx"]
    # A quota of 30: a batch of 25 leaves 5; 6 more are refused whole.
    r = post(nginx, body("bquota", type="uuid", count=25))
    check(r.status == 200 and ids(r, 25) and r.headers.get("ratelimit-remaining") == "5",
          "batch: 25 of a quota of 30: %d %r %r" % (r.status, r.headers, r.body[:100]))
    r = post(nginx, body("bquota", type="uuid", count=6))
    check(r.status == 429 and r.json == {"error": "Monthly quota exceeded"}
          and r.headers.get("ratelimit-remaining") == "5" and int(r.headers.get("retry-after", 0)) >= 1,
          "batch: 6 more are refused whole, 5 said to be left: %d %r %r" % (r.status, r.headers, r.body))
    r = post(fronts["lighttpd"], body("bquota", type="uuid", count=5))
    check(r.status == 200 and ids(r, 5) and r.headers.get("ratelimit-remaining") == "0",
          "batch: the last 5 pass: %d %r" % (r.status, r.body[:100]))
    r = post(fronts["apache"], body("bquota", type="uuid"))
    check(r.status == 429, "batch: then even one is refused: %d" % r.status)
    u = usage(stack, "bquota")
    check(u.get("month_total") == 30, "batch: every ID counted as a call: %r" % u)

    # One request spends one unit of rate, whatever its size.
    r = post(nginx, body("brate", type="snowflake", count=500))
    check(r.status == 200 and ids(r, 500) and r.headers.get("ratelimit-limit") == "5"
          and r.headers.get("ratelimit-remaining") == "4",
          "batch: 500 IDs spend one request of 5/s: %d %r" % (r.status, r.headers))

    # Batches racing over the pool: every ID distinct, every one counted.
    got, errors = [], []

    def worker(base):
        for _ in range(10):
            r = post(base, body("bload", type="snowflake", count=50))
            (got.extend(r.json["ids"]) if r.status == 200 and ids(r, 50)
             else errors.append((r.status, r.body[:100])))

    threads = [threading.Thread(target=worker, args=(fronts[fr],))
               for fr in ("nginx", "lighttpd", "apache", "nginx", "lighttpd", "apache")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(not errors and len(got) == 3000 and len(set(got)) == 3000,
          "batch: 60 concurrent batches of 50 snowflakes, all distinct: %d ids, %d distinct, %r"
          % (len(got), len(set(got)), errors[:3]))
    u = usage(stack, "bload")
    check(u.get("month_total") == 3000, "batch: 3,000 IDs counted: %r" % u)
