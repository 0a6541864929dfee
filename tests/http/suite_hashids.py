"""GET /v1/*: doc/api.md (/v1) through lighttpd, nginx (and any other front
end run.py starts) and CGI: authentication, the envelope, every endpoint,
the reference vectors, every parameter error and limit.

Loaded by run.py (`python3 tests/http/run.py suite_hashids`).
"""
import datetime
import http.client
import os
import re
import time
import urllib.parse

import harness
from harness import UUID4, verdict

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = [os.path.join(HERE, "..", "vectors", f) for f in ("hashids.tsv", "hashids-extra.tsv")]
TOK = {}
EDGE = []       # rows a front end may refuse itself: run per front by scenarios()
URL_MAX = 8000  # about the default request-line limit of nginx, lighttpd, Apache

STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
MESSAGE = {"encode": "Encode integers to a hashid", "encode-hex": "Encode hex to a hashid",
           "decode": "Decode a hashid", "decode-hex": "Decode a hashid to hex", "meta": "Meta"}
ENDPOINTS = ["/v1/encode", "/v1/encode-hex", "/v1/decode", "/v1/decode-hex", "/v1/meta",
             "/v1/sqids/encode", "/v1/sqids/decode", "/v1/snowflake/parse", "/v1/snowflake/info"]
UNAUTH = "Missing or invalid x-oanor-key header"
E_NUMBERS = "numbers must be comma-separated whole numbers of at least 0"
E_HEX = "hex must be hexadecimal digits (0-9, a-f, A-F)"
E_MINLEN = "min_length must be a whole number from 0 to 1000"
E_ALPHA16 = "Hashids: alphabet must contain at least 16 unique characters, provided: "


# -- keys ----------------------------------------------------------------------
def prepare(stack):
    # CGI mode reads its configuration from the environment harness.cgi() copies.
    os.environ["IDMINT_CONF"] = stack.conf
    for name in ("hxkey", "hxsusp", "hxrot"):
        TOK[name] = harness.ctl(stack.db, "add", name)
    harness.ctl(stack.db, "suspend", "hxsusp")


def auth(user="hxkey"):
    return {"X-Oanor-Key": TOK[user]}


# -- the envelope ------------------------------------------------------------------
def envelope_ok(r):
    """Every response: the five fields, meta, headers, success agreeing with status."""
    j = r.json
    if not (isinstance(j, dict) and set(j) == {"data", "meta", "status", "message", "success"}):
        return False
    m = j["meta"]
    if not (isinstance(m, dict) and set(m) == {"timestamp", "request_id"}
            and isinstance(m["timestamp"], str) and STAMP.fullmatch(m["timestamp"])
            and isinstance(m["request_id"], str) and UUID4.fullmatch(m["request_id"])):
        return False
    t = datetime.datetime.strptime(m["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")
    t = t.replace(tzinfo=datetime.timezone.utc).timestamp()
    if abs(t - time.time()) > 120:
        return False
    if (r.headers.get("x-request-id") != m["request_id"]
            or r.headers.get("content-type") != "application/json; charset=utf-8"
            or r.headers.get("cache-control") != "no-store"):
        return False
    good = r.status == 200
    return (j["success"] is good and j["status"] == ("ok" if good else "error")
            and isinstance(j["message"], str)
            and (isinstance(j["data"], dict) if good else j["data"] is None))


def fail(msg):
    return lambda r: r.json["message"] == msg and r.json["data"] is None


def ok(endpoint, data):
    """data: the exact `data` object, or a predicate on it."""
    def pred(r):
        if r.json["message"] != MESSAGE[endpoint]:
            return False
        return data(r.json["data"]) if callable(data) else r.json["data"] == data
    return pred


def d_encode(h, numbers, salt="", ml=0, alphabet=None):
    d = {"hash": h, "salt": salt, "numbers": numbers, "min_length": ml}
    if alphabet is not None:
        d["alphabet"] = alphabet
    return d


def d_encode_hex(hx, h, salt="", ml=0, alphabet=None):
    d = {"hex": hx, "hash": h, "salt": salt, "min_length": ml}
    if alphabet is not None:
        d["alphabet"] = alphabet
    return d


def d_decode(h, valid, numbers, salt="", ml=0, alphabet=None):
    d = {"hash": h, "salt": salt, "valid": valid, "numbers": numbers, "min_length": ml}
    if alphabet is not None:
        d["alphabet"] = alphabet
    return d


def d_decode_hex(h, valid, hx, salt="", ml=0, alphabet=None):
    d = {"hex": hx, "hash": h, "salt": salt, "valid": valid, "min_length": ml}
    if alphabet is not None:
        d["alphabet"] = alphabet
    return d


def query(params):
    """params: a list of (name, value); values str or bytes, percent-encoded
    whole (a space is %20, '+' is %2B)."""
    return "&".join("%s=%s" % (k, urllib.parse.quote(v, safe="")) for k, v in params)


def common(salt, ml, alphabet, with_ml=False):
    p = []
    if salt:
        p.append(("salt", salt))
    if ml or with_ml:
        p.append(("min_length", str(ml)))
    if alphabet:
        p.append(("alphabet", alphabet))
    return p


# -- the reference vectors ---------------------------------------------------------
def load_vectors():
    rows = []
    for path in VECTORS:
        with open(path, encoding="utf-8") as f:
            for i, line in enumerate(f):
                cols = line.rstrip("\n").split("\t")
                if i == 0 or len(cols) < 6:
                    continue
                rows.append((os.path.basename(path), i + 1, cols))
    return rows


def vector_requests(fname, lineno, cols):
    """The requests that check one vector: [(what, path, query, status, pred)]."""
    kind, salt, ml, alphabet, inp, exp = cols[:6]
    ml = int(ml)
    alpha = alphabet or None
    c = common(salt, ml, alphabet, with_ml=lineno % 2 == 1)
    what = "vector %s:%d %s %r" % (fname, lineno, kind, inp[:40])
    out = []
    if ml > 1000:
        # a vector beyond our limit (ours, not the library's): refused
        ep, p = ("/v1/decode", "hash") if kind.startswith("decode") else ("/v1/encode", "numbers")
        out.append((what + " past the min_length limit", ep, query([(p, "1")] + c), 400,
                    fail(E_MINLEN)))
    elif kind == "encode":
        nums = [int(x) for x in inp.split(",")]
        out.append((what, "/v1/encode", query([("numbers", inp)] + c), 200,
                    ok("encode", d_encode(exp, nums, salt, ml, alpha))))
        out.append((what + " decoded", "/v1/decode", query([("hash", exp)] + c), 200,
                    ok("decode", d_decode(exp, True, nums, salt, ml, alpha))))
    elif kind == "decode":
        nums = [int(x) for x in exp.split(",")]
        out.append((what, "/v1/decode", query([("hash", inp)] + c), 200,
                    ok("decode", d_decode(inp, True, nums, salt, ml, alpha))))
    elif kind == "encode_empty":
        out.append((what, "/v1/encode", query([("numbers", inp)] + c), 400,
                    fail("numbers is required" if inp == "" else E_NUMBERS)))
    elif kind == "encode_hex":
        out.append((what, "/v1/encode-hex", query([("hex", inp)] + c), 200,
                    ok("encode-hex", d_encode_hex(inp, exp, salt, ml, alpha))))
        out.append((what + " decoded", "/v1/decode-hex", query([("hash", exp)] + c), 200,
                    ok("decode-hex", d_decode_hex(exp, True, inp.lower(), salt, ml, alpha))))
    elif kind == "encode_hex_empty":
        out.append((what, "/v1/encode-hex", query([("hex", inp)] + c), 400,
                    fail("hex is required" if inp == "" else E_HEX)))
    elif kind == "decode_hex":
        out.append((what, "/v1/decode-hex", query([("hash", inp)] + c), 200,
                    ok("decode-hex", d_decode_hex(inp, True, exp, salt, ml, alpha))))
    elif kind == "decode_hex_empty":
        if inp == "":
            out.append((what, "/v1/decode-hex", query([("hash", inp)] + c), 400,
                        fail("hash is required")))
        else:
            out.append((what, "/v1/decode-hex", query([("hash", inp)] + c), 200,
                        ok("decode-hex", d_decode_hex(inp, False, None, salt, ml, alpha))))
    elif kind in ("decode_empty", "decode_throws"):
        if inp == "":
            out.append((what, "/v1/decode", query([("hash", inp)] + c), 400,
                        fail("hash is required")))
        else:
            out.append((what, "/v1/decode", query([("hash", inp)] + c), 200,
                        ok("decode", d_decode(inp, False, [], salt, ml, alpha))))
            out.append((what + " as hex", "/v1/decode-hex", query([("hash", inp)] + c), 200,
                        ok("decode-hex", d_decode_hex(inp, False, None, salt, ml, alpha))))
    elif kind == "alphabet_error":
        for ep, p in (("/v1/encode", "numbers"), ("/v1/decode", "hash")):
            out.append((what + " " + ep, ep, query([(p, "1")] + c), 400, fail(exp)))
    elif kind == "alphabet_ok":
        def enc_ok(d, alphabet=alphabet):
            return (set(d) == {"hash", "salt", "numbers", "min_length", "alphabet"}
                    and d["numbers"] == [1, 2, 3] and d["alphabet"] == alphabet
                    and len(d["hash"]) > 0 and set(d["hash"]) <= set(alphabet))
        out.append((what, "/v1/encode", query([("numbers", "1,2,3")] + c), 200,
                    ok("encode", enc_ok)))
    else:
        raise RuntimeError("unknown vector kind %r at %s:%d" % (kind, fname, lineno))
    return out


def sample(rows):
    """From hashids.tsv: every row that is not a plain encode, every encode
    with non-ASCII, a salt with a space or a number past 2^53, and every 8th
    other; from hashids-extra.tsv: every decode and every 10th row."""
    out = []
    for n, (fname, lineno, cols) in enumerate(rows):
        kind, salt, ml, alphabet, inp = cols[:5]
        special = (any(ord(ch) > 127 for ch in "".join(cols[1:6])) or " " in salt
                   or any(len(x) > 16 for x in inp.split(",")))
        if fname == "hashids.tsv":
            pick = kind != "encode" or (special and n % 2 == 0) or n % 8 == 0
        else:
            pick = kind == "decode" or n % 10 == 0
        if pick:
            out.append((fname, lineno, cols))
    return out


# -- the table -------------------------------------------------------------------
def cases(stack):
    rows = []

    edge = []

    def add(name, path, status, pred, headers=None, method="GET", body=None, raw=False):
        """raw: bytes in the query that a front end may refuse on its own
        (control characters, invalid UTF-8); such rows, and any longer
        than a front end's default request line, run in scenarios()."""
        def p(r, pred=pred):
            return envelope_ok(r) and pred(r)
        row = ("hashids: " + name, method, path, body,
               dict(auth() if headers is None else headers), status, p)
        (edge if raw or len(path) > URL_MAX else rows).append(row)

    def g(name, endpoint, params, status, pred, headers=None, raw=False):
        q = params if isinstance(params, str) else query(params)
        add(name, "/v1/" + endpoint + ("?" + q if q else ""), status, pred, headers, raw=raw)

    t = TOK["hxkey"]
    meta_ok = ok("meta", lambda d: d["endpoints"] == len(ENDPOINTS)
                 and d["paths"] == ENDPOINTS)
    enc123 = ok("encode", d_encode("o2fXhV", [1, 2, 3]))

    # authentication
    for what, h in (("X-Oanor-Key", {"X-Oanor-Key": t}), ("x-oanor-key", {"x-oanor-key": t}),
                    ("X-Api-Key", {"X-Api-Key": t}), ("Authorization: Bearer",
                                                      {"Authorization": "Bearer " + t}),
                    ("Authorization: bearer", {"Authorization": "bearer " + t})):
        g("auth " + what, "meta", "", 200, meta_ok, h)
        g("auth " + what + " on encode", "encode", "numbers=1,2,3", 200, enc123, h)
    unauth = fail(UNAUTH)
    ts = TOK["hxsusp"]
    for what, h in (("no key", {}), ("unknown X-Oanor-Key", {"X-Oanor-Key": "idm_nope"}),
                    ("empty X-Oanor-Key", {"X-Oanor-Key": ""}),
                    ("unknown X-Api-Key", {"X-Api-Key": t + "x"}),
                    ("unknown Bearer", {"Authorization": "Bearer " + t[:-2]}),
                    ("Basic scheme", {"Authorization": "Basic " + t}),
                    ("bare token in Authorization", {"Authorization": t}),
                    ("empty Bearer", {"Authorization": "Bearer "}),
                    ("suspended X-Oanor-Key", {"X-Oanor-Key": ts}),
                    ("suspended X-Api-Key", {"X-Api-Key": ts}),
                    ("suspended Bearer", {"Authorization": "Bearer " + ts}),
                    ("key in the query only", {})):
        q = "key=" + t if "query" in what else ""
        g("401 " + what, "meta", q, 401, unauth, h)
    for ep, q in (("encode", "numbers=1"), ("encode-hex", "hex=ff"), ("decode", "hash=gY"),
                  ("decode-hex", "hash=gY")):
        g("401 no key on " + ep, ep, q, 401, unauth, {})
        g("401 suspended on " + ep, ep, q, 401, unauth, {"X-Oanor-Key": ts})
    g("401 comes before parameter errors", "encode", "", 401, unauth, {})
    g("401 comes before a repeated parameter", "encode", "numbers=1&numbers=2", 401, unauth, {})

    # meta
    # endpoints is a number, as the hosted API sends it; the list is paths
    g("meta", "meta", "", 200, ok("meta", lambda d: set(d) == {"name", "note", "source",
                                                              "endpoints", "paths",
                                                              "limits"}
                                  and all(isinstance(d[k], str) and d[k] for k in
                                          ("name", "note", "source"))
                                  and d["endpoints"] == len(ENDPOINTS) and d["paths"] == ENDPOINTS
                                  and d["limits"] == {"numbers": 100, "digits": 100,
                                                      "hex": 1200, "hash": 4096,
                                                      "decoded_digits": 1000, "salt": 1024,
                                                      "min_length": 1000, "alphabet": 1024}))
    g("meta ignores parameters", "meta", "salt=x&numbers=abc", 200, meta_ok)

    # every endpoint's success
    g("encode", "encode", "numbers=1,2,3", 200, enc123)
    g("encode one number", "encode", "numbers=0", 200, ok("encode", d_encode("gY", [0])))
    g("encode spaces around items (%20)", "encode", query([("numbers", " 1 , 2 ,3 ")]), 200,
      enc123)
    g("encode spaces around items (+)", "encode", "numbers=+1+,+2+,3", 200, enc123)
    g("encode leading zeros", "encode", "numbers=001,02,3", 200, enc123)
    g("encode 00", "encode", "numbers=00", 200, ok("encode", d_encode("gY", [0])))
    g("encode salt with a space (+)", "encode", "numbers=1,2,3&salt=My+Project", 200,
      ok("encode", d_encode("Z4UrtW", [1, 2, 3], "My Project")))
    g("encode salt with a space (%20)", "encode", "numbers=1,2,3&salt=My%20Project", 200,
      ok("encode", d_encode("Z4UrtW", [1, 2, 3], "My Project")))
    g("encode %2B is a plus, not a space", "encode", "numbers=1,2,3&salt=My%2BProject", 200,
      ok("encode", lambda d: d["salt"] == "My+Project" and d["hash"] != "Z4UrtW"))
    g("encode salt e vs e-acute differ", "encode", query([("numbers", "1,2,3"), ("salt", "\u00e9")]),
      200, ok("encode", d_encode("0Esafo", [1, 2, 3], "\u00e9")))
    g("encode salt e", "encode", "numbers=1,2,3&salt=e", 200,
      ok("encode", lambda d: d["salt"] == "e" and d["hash"] not in ("0Esafo", "o2fXhV")))
    g("encode min_length", "encode", "numbers=1&min_length=10", 200,
      ok("encode", d_encode("VolejRejNm", [1], "", 10)))
    g("encode number past 2^64", "encode", "numbers=18446744073709551616,7&salt=%C3%A9", 200,
      ok("encode", d_encode("GAMQay9qa2LwBfO", [18446744073709551616, 7], "\u00e9")))
    g("encode with alphabet echoes it", "encode",
      query([("numbers", "1,2,3"), ("alphabet", "abcdefghijklmnopqrstuvwxyz")]), 200,
      ok("encode", d_encode("mdfphx", [1, 2, 3], "", 0, "abcdefghijklmnopqrstuvwxyz")))
    g("encode alphabet with duplicates is echoed as given", "encode",
      query([("numbers", "1,2,3"), ("alphabet", "abcdefghijklmnopqrstuvwxyzabc")]), 200,
      ok("encode", d_encode("mdfphx", [1, 2, 3], "", 0, "abcdefghijklmnopqrstuvwxyzabc")))
    spaced = "abcdefghijklmnop qrst"
    g("encode alphabet with a space", "encode", query([("numbers", "1,2,3"), ("alphabet", spaced)]),
      200, ok("encode", lambda d: d["alphabet"] == spaced and d["numbers"] == [1, 2, 3]
              and set(d["hash"]) <= set(spaced)))
    g("encode-hex", "encode-hex", "hex=deadbeef", 200,
      ok("encode-hex", d_encode_hex("deadbeef", "wpVL4j9g")))
    g("encode-hex upper case echoed as sent", "encode-hex", "hex=F", 200,
      ok("encode-hex", d_encode_hex("F", "XW")))
    g("decode", "decode", "hash=o2fXhV", 200, ok("decode", d_decode("o2fXhV", True, [1, 2, 3])))
    g("decode with salt and min_length", "decode", "hash=B063l9JmZg0EsafokqG78WNLd&salt=%C3%A9"
      "&min_length=25", 200, ok("decode", d_decode("B063l9JmZg0EsafokqG78WNLd", True, [1, 2, 3],
                                                   "\u00e9", 25)))
    g("decode big numbers are JSON numbers", "decode", "hash=GAMQay9qa2LwBfO&salt=%C3%A9", 200,
      ok("decode", d_decode("GAMQay9qa2LwBfO", True, [18446744073709551616, 7], "\u00e9")))
    g("decode-hex", "decode-hex", "hash=wpVL4j9g", 200,
      ok("decode-hex", d_decode_hex("wpVL4j9g", True, "deadbeef")))
    g("decode-hex answers lower case", "decode-hex", "hash=XW", 200,
      ok("decode-hex", d_decode_hex("XW", True, "f")))
    g("decode-hex with alphabet echoes it", "decode-hex",
      "hash=0dbq3jwa8p4b3gk6gb8bv21goerm96&salt=this+is+my+salt&min_length=30"
      "&alphabet=xzal86grmb4jhysfoqp3we7291kuct5iv0nd", 200,
      ok("decode-hex", d_decode_hex("0dbq3jwa8p4b3gk6gb8bv21goerm96", True, "deadbeef",
                                    "this is my salt", 30, "xzal86grmb4jhysfoqp3we7291kuct5iv0nd")))

    # valid:false, never an error
    for what, q, h, salt, ml in (
            ("wrong salt", "hash=o2fXhV&salt=x", "o2fXhV", "x", 0),
            ("salt e for a hash made with e-acute", "hash=0Esafo&salt=e", "0Esafo", "e", 0),
            ("min_length 0 for a hash made with 10", "hash=VolejRejNm", "VolejRejNm", "", 0),
            ("min_length 10 for a hash made with 0", "hash=jR&min_length=10", "jR", "", 10),
            ("foreign character", "hash=o2fX-hV", "o2fX-hV", "", 0),
            ("foreign non-ASCII character", "hash=o2f%C3%A9XhV", "o2f\u00e9XhV", "", 0),
            ("trailing space", "hash=jR%20", "jR ", "", 0),
            ("tampered", "hash=o2fXhW", "o2fXhW", "", 0),
            ("tampered, swapped", "hash=o2fhXV", "o2fhXV", "", 0),
            ("two hashes joined", "hash=o2fXhVo2fXhV", "o2fXhVo2fXhV", "", 0),
            ("one guard character", "hash=a", "a", "", 0),
            ("hash with & and =", "hash=" + urllib.parse.quote("a&b=c", safe=""), "a&b=c", "", 0)):
        g("decode invalid: " + what, "decode", q, 200,
          ok("decode", d_decode(h, False, [], salt, ml)))
        g("decode-hex invalid: " + what, "decode-hex", q, 200,
          ok("decode-hex", d_decode_hex(h, False, None, salt, ml)))
    g("decode-hex invalid: wrong salt for a hex hash", "decode-hex", "hash=wpVL4j9g&salt=x", 200,
      ok("decode-hex", d_decode_hex("wpVL4j9g", False, None, "x")))
    g("decode invalid: foreign to a custom alphabet", "decode",
      "hash=a1bcdef&min_length=6&alphabet=abcdefghjklmnpqrstuvwxyz23456789", 200,
      ok("decode", d_decode("a1bcdef", False, [], "", 6, "abcdefghjklmnpqrstuvwxyz23456789")))

    # numbers
    for q in ("", "numbers", "numbers=", "salt=x"):
        g("numbers missing: %r" % q, "encode", q, 400, fail("numbers is required"))
    for v in ("abc", "-1", "1,-2,3", "1.5", "1,,2", "1,", ",1", "1 2", "0x10", "+1", "1e3",
              "Infinity", "NaN", " ", ",", "\u0661", "1;2", "1\t2", "1\x002"):
        g("numbers %r" % v, "encode", [("numbers", v)], 400, fail(E_NUMBERS),
          raw=v in ("1\t2", "1\x002"))
    g("numbers: 101 numbers", "encode", "numbers=" + ",".join(["1"] * 101), 400,
      fail("numbers must hold at most 100 numbers"))
    g("numbers: 101 digits", "encode", "numbers=" + "1" * 101, 400,
      fail("numbers must have at most 100 digits each"))
    g("numbers: 101 digits among others", "encode", "numbers=1,2," + "9" * 101, 400,
      fail("numbers must have at most 100 digits each"))
    g("numbers: 100 numbers", "encode", "numbers=" + ",".join(str(i) for i in range(100)), 200,
      ok("encode", lambda d: d["numbers"] == list(range(100)) and len(d["hash"]) > 100))
    g("numbers: 100 digits", "encode", "numbers=" + "9" * 100, 200,
      ok("encode", lambda d: d["numbers"] == [int("9" * 100)] and d["hash"]))
    g("numbers: 100 digits with leading zeros", "encode", "numbers=" + "0" * 99 + "1", 200,
      ok("encode", lambda d: d["numbers"] == [1] and d["hash"] == "jR"))

    # hex
    for q in ("", "hex=", "hash=ff"):
        g("hex missing: %r" % q, "encode-hex", q, 400, fail("hex is required"))
    for v in ("xyz", "0x1f", "12 34", "-1", "ff\u00e9", "g", "ab\x00cd", "+ff", "ab\ncd"):
        g("hex %r" % v, "encode-hex", [("hex", v)], 400, fail(E_HEX), raw="\x00" in v or "\n" in v)
    g("hex: 1201 digits", "encode-hex", "hex=" + "f" * 1201, 400,
      fail("hex must have at most 1200 digits"))
    g("hex: 1200 digits", "encode-hex", "hex=" + "aB" * 600, 200,
      ok("encode-hex", lambda d: d["hex"] == "aB" * 600 and len(d["hash"]) > 600))

    # hash
    for ep in ("decode", "decode-hex"):
        for q in ("", "hash=", "numbers=1"):
            g("hash missing on %s: %r" % (ep, q), ep, q, 400, fail("hash is required"))
        g("hash: 4097 bytes on " + ep, ep, "hash=" + "a" * 4097, 400,
          fail("hash must be at most 4096 bytes"))
        g("hash: 2049 two-byte characters on " + ep, ep, query([("hash", "\u00e9" * 2049)]), 400,
          fail("hash must be at most 4096 bytes"))
        g("hash: 4096 bytes on " + ep, ep, "hash=" + "a" * 4096, 200,
          ok(ep, lambda d: d["valid"] is False and d["hash"] == "a" * 4096))
        # 44^3950 - 1, which hashids.js decodes: past the 1,000-digit cap
        g("hash: a number past the cap on " + ep, ep, "hash=X" + "m" * 3950, 200,
          ok(ep, lambda d: d["valid"] is False and len(d["hash"]) == 3951))

    # salt, min_length, alphabet on every endpoint that takes them
    for ep, p in (("encode", "numbers=1"), ("encode-hex", "hex=ff"), ("decode", "hash=gY"),
                  ("decode-hex", "hash=gY")):
        g("salt: 1025 bytes on " + ep, ep, p + "&salt=" + "s" * 1025, 400,
          fail("salt must be at most 1024 bytes"))
        g("salt: 513 two-byte characters on " + ep, ep, p + "&" + query([("salt", "\u00e9" * 513)]),
          400, fail("salt must be at most 1024 bytes"))
        g("salt: 1024 bytes on " + ep, ep, p + "&" + query([("salt", "\u00e9" * 512)]), 200,
          ok(ep, lambda d: d["salt"] == "\u00e9" * 512))
        for what, v in (("0xFF", "%FF"), ("truncated", "ab%C3"), ("lone continuation", "%80"),
                        ("overlong", "%C0%AF"), ("surrogate", "%ED%A0%80")):
            g("salt invalid UTF-8 %s on %s" % (what, ep), ep, p + "&salt=" + v, 400,
              fail("salt must be valid UTF-8"), raw=True)
        for v in ("-1", "1001", "abc", "", "1.5", "%205", "%2B5", "1e3", "99999999999999999999"):
            g("min_length %r on %s" % (v, ep), ep, p + "&min_length=" + v, 400, fail(E_MINLEN))
        g("alphabet: 15 unique on " + ep, ep, p + "&alphabet=abcdefghijklmno", 400,
          fail(E_ALPHA16 + "abcdefghijklmno"))
        g("alphabet: 15 unique after duplicates on " + ep, ep, p + "&alphabet=abcdecfghijklbmnoa",
          400, fail(E_ALPHA16 + "abcdefghijklmno"))
        # The library's text names the characters, a NUL among them.
        g("alphabet: 15 unique, one of them NUL, on " + ep, ep,
          p + "&alphabet=%00abcdefghijklmn", 400,
          fail(E_ALPHA16 + "\u0000abcdefghijklmn"), raw=True)
        g("alphabet: 1025 characters on " + ep, ep,
          p + "&alphabet=" + "0123456789abcdef" * 64 + "x", 400,
          fail("alphabet must be at most 1024 characters"))
        g("alphabet invalid UTF-8 on " + ep, ep, p + "&alphabet=" + "0123456789abcdef%FF", 400,
          fail("alphabet must be valid UTF-8"), raw=True)
        g("alphabet truncated UTF-8 on " + ep, ep, p + "&alphabet=" + "0123456789abcdef%E4%B8", 400,
          fail("alphabet must be valid UTF-8"), raw=True)
        g("repeated salt on " + ep, ep, p + "&salt=a&salt=a", 400,
          fail("parameter salt is given more than once"))
    g("min_length 1000", "encode", "numbers=1&min_length=1000", 200,
      ok("encode", lambda d: len(d["hash"]) == 1000 and d["min_length"] == 1000))
    g("min_length 0", "encode", "numbers=1&min_length=0", 200, ok("encode", d_encode("jR", [1])))
    g("min_length 007", "encode", "numbers=1&min_length=007", 200,
      ok("encode", lambda d: d["min_length"] == 7 and len(d["hash"]) == 7))
    a1024 = "0123456789abcdef" * 64
    g("alphabet: 1024 characters", "encode", "numbers=1,2,3&alphabet=" + a1024, 200,
      ok("encode", lambda d: d["alphabet"] == a1024 and set(d["hash"]) <= set(a1024)))
    wide = "".join(chr(0x100 + i) for i in range(1024))     # 2048 bytes
    g("alphabet: 1024 two-byte characters", "encode",
      "numbers=1,2,3&" + query([("alphabet", wide)]), 200,
      ok("encode", lambda d: d["alphabet"] == wide and set(d["hash"]) <= set(wide)))
    g("alphabet: 1025 two-byte characters", "encode",
      "numbers=1,2,3&" + query([("alphabet", wide + "\u00e9")]), 400,
      fail("alphabet must be at most 1024 characters"))
    emoji15 = "\U0001F600\U0001F601\U0001F602\U0001F923\U0001F603\U0001F604\U0001F605" \
              "\U0001F606\U0001F609\U0001F60A\U0001F60B\U0001F60E\U0001F60D\U0001F618\U0001F970"
    g("alphabet: 15 emoji", "encode", "numbers=1&" + query([("alphabet", emoji15)]), 400,
      fail(E_ALPHA16 + emoji15))

    # limits at the boundary that need more than a default request line
    big = ",".join(str(10 ** 99 + i) for i in range(100))          # 100 numbers, 100 digits
    g("numbers: 100 numbers of 100 digits", "encode", "numbers=" + big, 200,
      ok("encode", lambda d: d["numbers"] == [10 ** 99 + i for i in range(100)]
         and len(d["hash"]) > 100 * 50))
    g("numbers: 100 numbers of 100 digits, one of 101", "encode", "numbers=" + big + "0", 400,
      fail("numbers must have at most 100 digits each"))
    g("numbers: 101 numbers of 100 digits", "encode", "numbers=" + big + "," + "9" * 100, 400,
      fail("numbers must hold at most 100 numbers"))
    emoji_hash = "\U0001F600" * 1024                                  # 4096 bytes
    g("hash: 4096 bytes of emoji", "decode", query([("hash", emoji_hash)]), 200,
      ok("decode", d_decode(emoji_hash, False, [])))
    g("hash: 4097 bytes of emoji and one", "decode", query([("hash", emoji_hash + "a")]), 400,
      fail("hash must be at most 4096 bytes"))
    emoji_alpha = "".join(chr(0x1F000 + i) for i in range(1024))     # 1024 characters, 4096 bytes
    g("alphabet: 1024 four-byte characters", "encode",
      "numbers=1,2,3&" + query([("alphabet", emoji_alpha)]), 200,
      ok("encode", lambda d: d["alphabet"] == emoji_alpha and set(d["hash"]) <= set(emoji_alpha)))
    g("salt: 1024 bytes of emoji, with min_length 1000 and a 1024-character alphabet", "encode",
      "numbers=1,2,3&min_length=1000&" + query([("salt", "\U0001F511" * 256),
                                                ("alphabet", emoji_alpha)]), 200,
      ok("encode", lambda d: len(d["hash"]) == 1000 and d["salt"] == "\U0001F511" * 256))

    # a parameter given twice
    for ep, q, name in (("encode", "numbers=1&numbers=2", "numbers"),
                        ("encode", "numbers=1&numbers=1", "numbers"),
                        ("encode", "numbers=1&min_length=1&min_length=1", "min_length"),
                        ("encode", "alphabet=abcdefghijklmnop&numbers=1&alphabet=abcdefghijklmnop",
                         "alphabet"),
                        ("encode-hex", "hex=ff&hex=ff", "hex"),
                        ("decode", "hash=gY&hash=gY", "hash"),
                        ("decode", "hash=gY&hash=", "hash"),
                        ("decode-hex", "salt=&hash=gY&salt=", "salt")):
        g("repeated %s on %s" % (name, ep), ep, q, 400,
          fail("parameter %s is given more than once" % name))

    # other paths and methods
    for path in ("/v1/nothing", "/v1/", "/v1/encode/", "/v1/ENCODE", "/v1/meta/x",
                 "/v1/decodehex", "/v1/encode-hex/1"):
        for h in ({}, auth()):
            add("404 %s %s" % (path, "with key" if h else "without key"), path, 404,
                fail("Not found"), headers=h)
    for m, ep in (("POST", "decode"), ("PUT", "meta"), ("DELETE", "encode-hex"),
                  ("PATCH", "decode-hex"), ("POST", "encode")):
        for h in ({}, auth()):
            add("405 %s /v1/%s %s" % (m, ep, "with key" if h else "without key"),
                "/v1/" + ep + "?numbers=1", 405,
                lambda r: fail("Method not allowed")(r) and r.headers.get("allow") == "GET",
                headers=h, method=m, body=b"")

    # Past max_query (64 KiB) idmint refuses a query string, or a header it
    # reads, itself: a local process that reaches the socket is not held
    # to the web server's limits.  (Front ends refuse these first.)
    g("414 a query string past max_query", "encode", "numbers=1&salt=" + "s" * 70000,
      414, fail("Query string too long"), raw=True)
    g("414 a key header past max_query", "encode", "numbers=1", 414,
      fail("Request header too long"), {"X-Api-Key": "k" * 70000}, raw=True)

    # the reference vectors, a sample through every front end and CGI
    for fname, lineno, cols in sample(load_vectors()):
        for what, path, q, status, pred in vector_requests(fname, lineno, cols):
            add(what, path + "?" + q, status, pred)
    EDGE[:] = edge
    return rows


# -- scenarios ---------------------------------------------------------------------
class KeepAlive:
    """One kept connection to a front end, reopened if the server closes it."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port, self.c = u.hostname, u.port, None

    def send(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            if self.c is None:
                self.c = http.client.HTTPConnection(self.host, self.port, timeout=10)
            try:
                self.c.request(method, path, body=body, headers=headers or {})
                r = self.c.getresponse()
                out = harness.Resp(r.status, r.getheaders(), r.read())
                harness.keep(method, path, r.status, r.getheaders(), out.body)
                if r.will_close:
                    self.close()
                return out
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt:
                    raise

    def close(self):
        if self.c is not None:
            self.c.close()
        self.c = None


def scenarios(stack, fronts, check):
    conns = {fr: KeepAlive(base) for fr, base in fronts.items()}
    sends = dict({fr: c.send for fr, c in conns.items()}, cgi=harness.via_cgi)

    # Rows a front end may refuse on its own: exact through CGI; through a
    # front end, exact unless the front end itself refused the request.
    refused = {}
    for name, method, path, body, headers, status, pred in EDGE:
        for fr, send in sends.items():
            r = send(method, path, body, headers)
            if fr != "cgi" and r.json is None and r.status in (400, 414, 431):
                refused.setdefault(fr, []).append("%s (%d)" % (name, r.status))
                continue
            check(verdict(r, status, pred), "%s: %s: got %d %r" % (fr, name, r.status, r.body[:300]))
    for fr, names in sorted(refused.items()):
        print("note: %s refused %d of %d requests itself (URL over its request-line limit, "
              "or bytes it rejects), e.g. %s" % (fr, len(names), len(EDGE), names[0]))

    # Every reference vector through every front end (CGI sees a sample).
    h = auth()
    for fr, send in sends.items():
        if fr == "cgi":
            continue
        for fname, lineno, cols in load_vectors():
            for what, path, q, status, pred in vector_requests(fname, lineno, cols):
                r = send("GET", path + "?" + q, None, h)
                check(verdict(r, status, lambda r, p=pred: envelope_ok(r) and p(r)),
                      "%s: hashids: all vectors: %s: got %d %r" % (fr, what, r.status, r.body[:300]))

    # request_id is fresh for every response, success or error.
    ids = []
    for fr, send in sends.items():
        for path, hd in (("/v1/meta", h), ("/v1/meta", {}), ("/v1/encode?numbers=x", h),
                         ("/v1/nope", {}), ("/v1/meta", h)):
            r = send("GET", path, None, hd)
            if envelope_ok(r):
                ids.append(r.json["meta"]["request_id"])
            else:
                check(False, "%s: hashids: envelope on %s: %d %r" % (fr, path, r.status, r.body))
    check(len(ids) == 5 * len(sends) and len(set(ids)) == len(ids),
          "hashids: request_id differs on every response: %d of %d distinct"
          % (len(set(ids)), len(ids)))

    # Rotation, suspension and resumption, seen on the next request everywhere.
    def expect(token, status, what):
        for fr, send in sends.items():
            for i in range(1 if fr == "cgi" else 8):
                hd = ({"X-Oanor-Key": token}, {"X-Api-Key": token},
                      {"Authorization": "Bearer " + token})[i % 3]
                r = send("GET", "/v1/encode?numbers=1,2,3", None, hd)
                good = verdict(r, status, lambda r: envelope_ok(r) and (
                    enc_ok(r) if status == 200 else fail(UNAUTH)(r)))
                check(good, "%s: hashids scenario: %s (#%d, %s): %d %r"
                      % (fr, what, i, list(hd)[0], r.status, r.body[:200]))
                if not good:
                    break

    enc_ok = ok("encode", d_encode("o2fXhV", [1, 2, 3]))
    old = TOK["hxrot"]
    expect(old, 200, "token before rotation")
    new = harness.ctl(stack.db, "rotate", "hxrot")
    check(new != old, "hashids scenario: rotate gives a new token")
    expect(old, 401, "old token after rotation")
    expect(new, 200, "new token after rotation")
    TOK["hxrot"] = new
    harness.ctl(stack.db, "suspend", "hxrot")
    expect(new, 401, "suspended key")
    harness.ctl(stack.db, "resume", "hxrot")
    expect(new, 200, "resumed key")
    for c in conns.values():
        c.close()
