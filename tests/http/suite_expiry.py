"""Keys that expire (idmintctl add --expires, expire): through lighttpd,
nginx, Apache and CGI, an expired key gets exactly the answer a suspended
key gets, on POST / and on /v1, and works again once its expiry moves.

Loaded by run.py (`python3 tests/http/run.py suite_expiry`).
"""
import json
import os
import time

import harness
from servers import wait_for

JSON = {"Content-Type": "application/json"}
TOK = {}


def prepare(stack):
    # CGI mode reads its configuration from the environment harness.cgi() copies.
    os.environ["IDMINT_CONF"] = stack.conf
    for name in ("exfar", "exnow", "exsoon", "exsusp"):
        TOK[name] = harness.ctl(stack.db, "add", name, "--expires",
                                "2099-01-01" if name == "exfar" else "1h")
    harness.ctl(stack.db, "suspend", "exsusp")


def post(send, user):
    body = json.dumps({"username": user, "token": TOK[user], "type": "uuid"}).encode()
    return send("POST", "/", body, JSON)


def get(send, user):
    return send("GET", "/v1/snowflake/info", None, {"X-Api-Key": TOK[user]})


def same_refusal(a, b):
    """Two refusals alike: status, headers but the request's own, and body
    (for /v1, all but the envelope's time and request id)."""
    def shape(r):
        j = r.json
        if isinstance(j, dict) and "meta" in j:
            j = dict(j, meta=None)
        hd = {k: v for k, v in r.headers.items() if k not in ("date", "x-request-id")}
        return r.status, hd, j
    return shape(a) == shape(b)


def scenarios(stack, fronts, check):
    sends = dict({fr: harness.via_http(base) for fr, base in fronts.items()}, cgi=harness.via_cgi)

    def each(what, user, status):
        for fr, send in sends.items():
            for r, route in ((post(send, user), "POST /"), (get(send, user), "/v1")):
                check(r.status == status, "expiry: %s via %s, %s: %d %r"
                      % (what, fr, route, r.status, r.body[:200]))

    each("a key that expires in 2099", "exfar", 200)
    each("a key that expires in an hour", "exnow", 200)
    harness.ctl(stack.db, "expire", "exnow", "now")
    each("the key expired now", "exnow", 401)
    for fr, send in sends.items():
        for call, route in ((post, "POST /"), (get, "/v1")):
            a, b = call(send, "exnow"), call(send, "exsusp")
            check(a.status == 401 and same_refusal(a, b),
                  "expiry: %s via %s: expired and suspended answer alike: %d %r / %d %r"
                  % (route, fr, a.status, a.body[:200], b.status, b.body[:200]))
    harness.ctl(stack.db, "expire", "exnow", "never")
    each("the expiry removed", "exnow", 200)

    # An expiry reached by the clock, not by idmintctl: two seconds ahead.
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2))
    harness.ctl(stack.db, "expire", "exsoon", at)
    nginx = sends["nginx"]
    try:
        wait_for(lambda: post(nginx, "exsoon").status == 401, "the expiry", 10)
        late = False
    except RuntimeError:
        late = True
    check(not late, "expiry: a key past its expiry (%s) is refused within 10 s" % at)
    r = post(nginx, "exsoon")
    check(r.status == 401 and r.json == {"error": "Invalid username or token"},
          "expiry: past its time, refused as a bad token: %d %r" % (r.status, r.body))
    k = json.loads(harness.ctl(stack.db, "--json", "show", "exsoon"))
    check(k.get("status") == "expired" and k.get("expires") == at,
          "expiry: idmintctl shows it expired: %r" % k)
