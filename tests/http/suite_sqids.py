"""GET /v1/sqids/*: doc/api.md (Sqids) through lighttpd, nginx, Apache and
CGI: the envelope, every parameter error, the reference implementations'
test cases (tests/vectors/sqids*.jsonl), and thousands of random cases
cross-checked against the npm package sqids, the reference, which this
suite installs into the build tree (build/node) with npm.

Loaded by run.py (`python3 tests/http/run.py suite_sqids`).  IDMINT_SEED
replays a run's random cases (the seed is printed); IDMINT_SQIDS_CASES
sets how many (default 1000).
"""
import json
import os
import random
import subprocess
import urllib.parse

import harness
from harness import verdict
from suite_hashids import KeepAlive, envelope_ok

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = [os.path.join(HERE, "..", "vectors", f) for f in ("sqids.jsonl", "sqids-extra.jsonl")]
SQIDS_VERSION = "0.3.0"          # the reference, pinned
NODE_DIR = os.environ.get("IDMINT_NODE_DIR") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(harness.BIN))), "node")
DEFAULT_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
TOK = {}
MESSAGE = {"encode": "Encode integers to a sqid", "decode": "Decode a sqid"}


# -- keys and the reference --------------------------------------------------------
def npm_sqids():
    """The path of the reference package, installed with npm if missing."""
    pkg = os.path.join(NODE_DIR, "node_modules", "sqids")
    try:
        with open(os.path.join(pkg, "package.json")) as f:
            if json.load(f)["version"] == SQIDS_VERSION:
                return pkg
    except (OSError, ValueError, KeyError):
        pass
    os.makedirs(NODE_DIR, exist_ok=True)
    subprocess.run(["npm", "install", "--prefix", NODE_DIR, "--no-audit", "--no-fund",
                    "--loglevel=error", "sqids@" + SQIDS_VERSION],
                   check=True, timeout=300, stdout=subprocess.DEVNULL)
    return pkg


def prepare(stack):
    os.environ["IDMINT_CONF"] = stack.conf
    TOK["sqkey"] = harness.ctl(stack.db, "add", "sqkey")


def auth():
    return {"X-Api-Key": TOK["sqkey"]}


def query(params):
    return "&".join("%s=%s" % (k, urllib.parse.quote(v, safe="")) for k, v in params)


def params(alphabet, min_length, blocklist):
    p = []
    if alphabet is not None:
        p.append(("alphabet", alphabet))
    if min_length:
        p.append(("min_length", str(min_length)))
    if blocklist is not None:
        p.append(("blocklist", ",".join(blocklist)))
    return p


def encode_path(numbers, alphabet=None, min_length=0, blocklist=None):
    return "/v1/sqids/encode?" + query([("numbers", ",".join(map(str, numbers)))] +
                                       params(alphabet, min_length, blocklist))


def decode_path(sid, alphabet=None, min_length=0, blocklist=None):
    return "/v1/sqids/decode?" + query([("id", sid)] + params(alphabet, min_length, blocklist))


# -- what the answers must be --------------------------------------------------------
def ok(endpoint, pred):
    return lambda r: envelope_ok(r) and r.json["message"] == MESSAGE[endpoint] and pred(r.json["data"])


def fail(msg):
    return lambda r: envelope_ok(r) and r.json["message"] == msg and r.json["data"] is None


def echoes(d, alphabet, min_length, blocklist):
    """data ends with the options: min_length, then alphabet and blocklist as sent."""
    tail = {"min_length": min_length}
    if alphabet is not None:
        tail["alphabet"] = alphabet
    if blocklist is not None:
        tail["blocklist"] = ",".join(blocklist)
    return all(d.get(k) == v for k, v in tail.items()) and set(d) - {"id", "numbers", "valid"} == set(tail)


# -- the table, through every front end and CGI ------------------------------------------
def cases(stack):
    h = auth()
    rows = []

    def g(name, path, status, pred, headers=None):
        rows.append(("sqids: " + name, "GET", path, None, h if headers is None else headers,
                     status, pred))

    g("encode", encode_path([1, 2, 3]), 200, ok("encode", lambda d: d == {
        "id": "86Rf07", "numbers": [1, 2, 3], "min_length": 0}))
    g("decode", decode_path("86Rf07"), 200, ok("decode", lambda d: d == {
        "id": "86Rf07", "valid": True, "numbers": [1, 2, 3], "min_length": 0}))
    g("spaces and leading zeros", "/v1/sqids/encode?numbers=+001,%202+,3", 200,
      ok("encode", lambda d: d["id"] == "86Rf07" and d["numbers"] == [1, 2, 3]))
    g("2^64 - 1", encode_path([2 ** 64 - 1]), 200,
      ok("encode", lambda d: d["numbers"] == [2 ** 64 - 1] and len(d["id"]) > 10))
    g("default blocklist", encode_path([4572721]), 200, ok("encode", lambda d: d["id"] == "JExTR"))
    g("empty blocklist", encode_path([4572721], blocklist=[]), 200,
      ok("encode", lambda d: d["id"] == "aho1e" and d["blocklist"] == ""))
    g("given blocklist", encode_path([100000], blocklist=["ArUO"]), 200,
      ok("encode", lambda d: d["id"] == "QyG4" and echoes(d, None, 0, ["ArUO"])))
    g("options echoed", encode_path([1, 2, 3], "ABCDEFGHIJKLMNOPQRSTUVWXYZ", 10, ["sxnzkl"]), 200,
      ok("encode", lambda d: len(d["id"]) == 10 and d["id"][:6] == "IBSHOZ"
         and echoes(d, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", 10, ["sxnzkl"])))
    g("min_length 255", encode_path([0], min_length=255), 200,
      ok("encode", lambda d: len(d["id"]) == 255))
    g("decode a blocked ID: its numbers, not valid", decode_path("aho1e"), 200,
      ok("decode", lambda d: d["numbers"] == [4572721] and d["valid"] is False))
    g("decode padding without min_length: not valid", decode_path("86Rf07x"), 200,
      ok("decode", lambda d: d["numbers"] == [1, 2, 3] and d["valid"] is False))
    g("decode with its min_length: valid", decode_path("86Rf07xd4z", min_length=10), 200,
      ok("decode", lambda d: d["numbers"] == [1, 2, 3] and d["valid"] is True))
    g("decode a stranger", decode_path("*"), 200,
      ok("decode", lambda d: d == {"id": "*", "valid": False, "numbers": [], "min_length": 0}))
    g("decode past 2^64 - 1", decode_path("0J4AEXRN106Z0"), 200,
      ok("decode", lambda d: d["numbers"] == [] and d["valid"] is False))
    g("no numbers", "/v1/sqids/encode", 400, fail("numbers is required"))
    g("empty numbers", "/v1/sqids/encode?numbers=", 400, fail("numbers is required"))
    g("no id", "/v1/sqids/decode?alphabet=abc", 400, fail("id is required"))
    g("a sign", "/v1/sqids/encode?numbers=-1", 400,
      fail("numbers must be comma-separated whole numbers of at least 0"))
    g("trailing comma", "/v1/sqids/encode?numbers=1,", 400,
      fail("numbers must be comma-separated whole numbers of at least 0"))
    g("2^64", encode_path([2 ** 64]), 400, fail("numbers must each be at most 18446744073709551615"))
    g("101 numbers", encode_path([0] * 101), 400, fail("numbers must hold at most 100 numbers"))
    g("long id", decode_path("a" * 4097), 400, fail("id must be at most 4096 bytes"))
    g("multibyte alphabet", encode_path([1], "\u00eb1092"), 400,
      fail("Alphabet cannot contain multibyte characters"))
    # lighttpd refuses some such URLs with an HTML 400 of its own.
    g("alphabet not UTF-8", "/v1/sqids/encode?numbers=1&alphabet=ab%FF", 400,
      lambda r: fail("alphabet must be valid UTF-8")(r) or r.json is None)
    g("short alphabet", encode_path([1], "ab"), 400, fail("Alphabet length must be at least 3"))
    g("empty alphabet", encode_path([1], ""), 400, fail("Alphabet length must be at least 3"))
    g("repeated character", encode_path([1], "aabcdefg"), 400,
      fail("Alphabet must contain unique characters"))
    g("min_length 256", encode_path([1], min_length=256), 400,
      fail("min_length must be a whole number from 0 to 255"))
    g("empty min_length", "/v1/sqids/encode?numbers=1&min_length=", 400,
      fail("min_length must be a whole number from 0 to 255"))
    g("every ID blocked", encode_path([0], "abc", 3, ["cab", "abc", "bca"]), 400,
      fail("Reached max attempts to re-generate the ID"))
    g("blocklist not UTF-8", "/v1/sqids/encode?numbers=1&blocklist=%C3", 400,
      lambda r: fail("blocklist must be valid UTF-8")(r) or r.json is None)
    g("parameter twice", "/v1/sqids/decode?id=a&id=b", 400,
      fail("parameter id is given more than once"))
    g("no key", encode_path([1]), 401, fail("Missing or invalid x-oanor-key header"), headers={})
    rows.append(("sqids: POST", "POST", "/v1/sqids/encode", b"", h, 405,
                 lambda r: r.headers.get("allow") == "GET" and fail("Method not allowed")(r)))
    return rows


# -- front ends that refuse a URL themselves --------------------------------------------
class Sender:
    """Sends through the front ends in turn.  lighttpd refuses some URLs
    (control characters such as %00 to %1F, bytes that are not UTF-8) with
    an HTML 400 of its own: such a request goes through nginx instead,
    which passes it, and is counted."""

    def __init__(self, sends):
        self.sends, self.fronts, self.refused = sends, list(sends), {}

    def get(self, i, path):
        fr = self.fronts[i % len(self.fronts)]
        r = self.sends[fr]("GET", path, None, auth())
        if r.json is None and r.status == 400 and fr != "nginx":
            self.refused[fr] = self.refused.get(fr, 0) + 1
            r = self.sends["nginx"]("GET", path, None, auth())
        return r

    def note(self):
        for fr, n in sorted(self.refused.items()):
            print("note: %s refused %d sqids requests itself (control characters or bytes "
                  "that are not UTF-8 in the URL); nginx answered them" % (fr, n))


# -- the vectors ----------------------------------------------------------------------
def vector_rows():
    for path in VECTORS:
        with open(path, encoding="utf-8") as f:
            for i, line in enumerate(f, 1):
                yield "%s:%d" % (os.path.basename(path), i), json.loads(line)


def check_vector(send, where, v, check):
    a, ml, bl = v["alphabet"], v["min_length"], v["blocklist"]
    if v["op"] == "error":
        r = send(encode_path(v["numbers"], a, ml, bl))
        check(verdict(r, 400, fail(v["error"])), "%s: %s: %d %r" % (where, v["source"], r.status, r.body[:200]))
        return
    sid = v.get("id")
    if v["op"] in ("both", "encode", "roundtrip"):
        r = send(encode_path(v["numbers"], a, ml, bl))
        good = verdict(r, 200, ok("encode", lambda d: sid is None or d["id"] == sid))
        check(good, "%s: %s: encode: %d %r" % (where, v["source"], r.status, r.body[:300]))
        if good:
            sid = r.json["data"]["id"]
    if v["op"] in ("both", "decode", "roundtrip") and sid is not None:
        r = send(decode_path(sid, a, ml, bl))
        check(verdict(r, 200, ok("decode", lambda d: d["numbers"] == v["numbers"])),
              "%s: %s: decode %r: %d %r" % (where, v["source"], sid, r.status, r.body[:300]))


# -- random cases against the reference ------------------------------------------------
def random_alphabet(rng):
    """None (the default), or ASCII of 3 to 128 characters; 1 in 25 breaks a rule."""
    x = rng.random()
    if x < 0.3:
        return None
    if x < 0.34:
        return rng.choice(["ab", "abca", "ab\u00e9cd", "\u00e9\u00e8\u00ea", "xyzx" + DEFAULT_ALPHABET[:5]])
    pool = [chr(c) for c in range(128)] if rng.random() < 0.2 else [chr(c) for c in range(32, 127)]
    n = rng.choice([3, 3, 4, 5, 7, 10, 16, 26, 36, 62, 95, rng.randint(3, len(pool))])
    return "".join(rng.sample(pool, min(n, len(pool))))


def random_number(rng):
    x = rng.random()
    if x < 0.3:
        return rng.randint(0, 10)
    if x < 0.5:
        return rng.choice([2 ** 53 - 1, 2 ** 53 - 2, 2 ** 32, 2 ** 32 - 1, 2 ** 31, 61, 62, 63])
    return rng.getrandbits(rng.randint(1, 53)) % (2 ** 53)


def random_case(rng):
    alphabet = random_alphabet(rng)
    letters = alphabet if alphabet is not None and len(alphabet) >= 3 else DEFAULT_ALPHABET
    x = rng.random()
    blocklist, derive = None, None
    if x < 0.1:
        blocklist = []
    elif x < 0.5:
        blocklist = []
        derive = {"at": rng.random(), "len": rng.random(), "upper": rng.random() < 0.3,
                  "kelvin": rng.random() < 0.3}
    elif x < 0.65:
        blocklist = ["".join(rng.choice(letters) for _ in range(rng.randint(1, 6)))
                     for _ in range(rng.randint(1, 5))]
        if rng.random() < 0.3:
            blocklist.append(rng.choice(["\u212aill", "\u0130ndex", "\U0001F600ab", "\u00c9t\u00e9"]))
    return {
        "alphabet": alphabet,
        "min_length": 0 if rng.random() < 0.5 else rng.choice([rng.randint(1, 20), rng.randint(0, 255)]),
        "blocklist": blocklist,
        "derive": derive,
        "numbers": [random_number(rng) for _ in range(rng.choice([1, 1, 2, 3, rng.randint(1, 10)]))],
        "mutate": [[rng.choice(["replace", "insert", "delete", "truncate"]), rng.random(), rng.random()]
                   for _ in range(2)],
        "strings": ["".join(rng.choice(letters) for _ in range(rng.randint(1, 12)))],
    }


def cross_check(sender, check):
    seed = int(os.environ.get("IDMINT_SEED") or random.SystemRandom().randrange(2 ** 32))
    n = int(os.environ.get("IDMINT_SQIDS_CASES") or 1000)
    print("sqids: %d random cases against sqids %s (seed %d, IDMINT_SEED replays)"
          % (n, SQIDS_VERSION, seed))
    rng = random.Random(seed)
    cs = [random_case(rng) for _ in range(n)]
    p = subprocess.run(["node", os.path.join(HERE, "sqids_ref.js"), npm_sqids()],
                       input=json.dumps(cs).encode(), capture_output=True, timeout=120)
    check(p.returncode == 0, "sqids: the reference ran: %r" % p.stderr[-500:])
    answers = json.loads(p.stdout) if p.returncode == 0 else []
    counts = {"encode": 0, "error": 0, "decode": 0, "blocked": 0}
    for i, (c, a) in enumerate(zip(cs, answers)):
        a_, ml, bl = c["alphabet"], c["min_length"], a["blocklist"]
        what = "sqids: random case %d (seed %d): %r" % (i, seed, c)
        r = sender.get(i, encode_path(c["numbers"], a_, ml, bl))
        if a["error"] is not None:
            counts["error"] += 1
            check(verdict(r, 400, fail(a["error"])), "%s: wanted %r: %d %r" % (what, a["error"], r.status, r.body[:300]))
            continue
        counts["encode"] += 1
        counts["blocked"] += c["derive"] is not None
        check(verdict(r, 200, ok("encode", lambda d: d["id"] == a["id"] and d["numbers"] == c["numbers"])),
              "%s: wanted %r: %d %r" % (what, a["id"], r.status, r.body[:300]))
        for dcd in a["decodes"]:
            r = sender.get(i, decode_path(dcd["id"], a_, ml, bl))
            counts["decode"] += 1
            if dcd["numbers"] is None:       # past 2^53: the reference cannot say
                check(verdict(r, 200, ok("decode", lambda d: d["id"] == dcd["id"])), "%s: decode %r: %d %r"
                      % (what, dcd["id"], r.status, r.body[:300]))
                continue
            check(verdict(r, 200, ok("decode", lambda d: d["numbers"] == dcd["numbers"]
                                     and d["valid"] is dcd["valid"])),
                  "%s: decode %r: wanted %r: %d %r" % (what, dcd["id"], dcd, r.status, r.body[:300]))
    check(len(answers) == n and counts["encode"] > n // 2 and counts["error"] > 0,
          "sqids: the random cases cover encodes and errors: %r" % counts)
    print("sqids: %(encode)d encodes (%(blocked)d with a word cut from the ID), %(error)d errors, "
          "%(decode)d decodes agree with the reference" % counts)


def blocklist_is_the_packages(check):
    """data/sqids-blocklist.txt, compiled in, is the package's default list."""
    p = subprocess.run(["node", "-e", "console.log(JSON.stringify("
                        "[...require(process.argv[1]).defaultOptions.blocklist]))", npm_sqids()],
                       capture_output=True, timeout=60)
    with open(os.path.join(HERE, "..", "..", "data", "sqids-blocklist.txt")) as f:
        ours = f.read().split()
    check(p.returncode == 0 and json.loads(p.stdout) == ours,
          "sqids: data/sqids-blocklist.txt is sqids %s's default blocklist (%d words)"
          % (SQIDS_VERSION, len(ours)))


def scenarios(stack, fronts, check):
    blocklist_is_the_packages(check)
    conns = {fr: KeepAlive(base) for fr, base in fronts.items()}
    sender = Sender({fr: c.send for fr, c in conns.items()})
    for i, fr in enumerate(sender.fronts):
        for where, v in vector_rows():
            check_vector(lambda path, i=i: sender.get(i, path), "%s: sqids: %s" % (fr, where), v, check)
    cross_check(sender, check)
    sender.note()
    for c in conns.values():
        c.close()
