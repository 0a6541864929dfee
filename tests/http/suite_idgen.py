"""POST /: every rule of doc/api.md (POST /) through lighttpd, nginx and CGI.

Loaded by run.py (`python3 tests/http/run.py suite_idgen`).  prepare()
makes the keys, cases() is the request table sent through every front
end, scenarios() changes keys while the pool runs (rotate, suspend,
resume) and checks what every front end sees on the next request.
"""
import hashlib
import json
import os
import re
import time
import urllib.parse

import harness
from harness import EPOCH_MS, UUID4

JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
TOK = {}                        # username -> token, filled by prepare()

DEFAULT_ALPHA = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
UUID7 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
LICENSE = re.compile(r"[0-9A-Z]{5}(?:-[0-9A-Z]{5}){4}")
HEX = re.compile(r"[0-9a-f]*")
UNI_ALPHA = "\u03b1\u03b2\u03b3\u00e9\u4e2d\U0001F600\U0001F680"   # 2-, 3- and 4-byte UTF-8
BIG_ALPHA = "".join(chr(0x4e00 + i) for i in range(256))           # 256 unique, 3 bytes each


# -- keys ----------------------------------------------------------------------
def prepare(stack):
    # CGI mode reads its configuration from the environment harness.cgi() copies.
    os.environ["IDMINT_CONF"] = stack.conf
    for name in ("igbob", "igalice", "igsusp", "igrot", "igsr", "igcount"):
        TOK[name] = harness.ctl(stack.db, "add", name)
    harness.ctl(stack.db, "suspend", "igsusp")


# -- checking helpers ----------------------------------------------------------
def headers_ok(r):
    return (r.headers.get("content-type") == "application/json; charset=utf-8"
            and r.headers.get("cache-control") == "no-store")


def err(msg):
    return lambda r: r.json == {"error": msg}


def the_id(r):
    """The id of a {"id": "..."} answer with nothing else in it, else None."""
    if isinstance(r.json, dict) and set(r.json) == {"id"} and isinstance(r.json["id"], str):
        return r.json["id"]
    return None


def id_match(rx):
    return lambda r: the_id(r) is not None and rx.fullmatch(the_id(r)) is not None


def now_ms():
    return int(time.time() * 1000)


def uuid_ok(r, version):
    i = the_id(r)
    if i is None or not (UUID4 if version == 4 else UUID7).fullmatch(i):
        return False
    if version == 7:   # the first 48 bits are the Unix time in ms
        return abs(int(i[:8] + i[9:13], 16) - now_ms()) < 120000
    return True


def nanoid_ok(r, n, alphabet=None):
    i = the_id(r)
    return (i is not None and len(i) == n
            and set(i) <= (DEFAULT_ALPHA if alphabet is None else set(alphabet)))


def digits_ok(r, n):
    i = the_id(r)
    return i is not None and len(i) == n and re.fullmatch(r"[0-9]+", i) is not None


def words_ok(r, n, style):
    i = the_id(r)
    if i is None:
        return False
    if style == "slug":
        return re.fullmatch(r"[a-z]+(?:-[a-z]+){%d}" % (n - 1), i) is not None
    if style == "title":
        return re.fullmatch(r"[A-Z][a-z]*(?: [A-Z][a-z]*){%d}" % (n - 1), i) is not None
    return re.fullmatch(r"(?:[A-Z][a-z]*){%d}" % n, i) is not None


def snowflake_ok(r):
    i = the_id(r)
    if i is None or not re.fullmatch(r"[1-9][0-9]*", i) or int(i) >= 2 ** 63:
        return False
    v = int(i)
    # 41 bits of ms since the epoch, 10 of worker id (node 0: slot < 32), 12 of sequence
    return abs((v >> 22) + EPOCH_MS - now_ms()) < 120000 and (v >> 12) & 0x3ff < 32


def cuid_ok(r, n):
    i = the_id(r)
    return i is not None and re.fullmatch(r"[a-z][0-9a-z]{%d}" % (n - 1), i) is not None


# Pure-Python X25519 and Ed25519 public keys, to prove the keypairs match.
P25519 = 2 ** 255 - 19


def _inv(x):
    return pow(x, P25519 - 2, P25519)


_D = -121665 * _inv(121666) % P25519


def _ed_add(p, q):
    P = P25519
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = t1 * 2 * _D * t2 % P
    d = z1 * 2 * z2 % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _ed_base():
    P = P25519
    y = 4 * _inv(5) % P
    x2 = (y * y - 1) * _inv(_D * y * y + 1) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * pow(2, (P - 1) // 4, P) % P
    if x & 1:
        x = P - x
    return (x, y, 1, x * y % P)


def ed25519_public(seed):
    """RFC 8032 5.1.5: the public key of a 32-byte seed."""
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a = (a & ((1 << 254) - 8)) | 1 << 254
    q, pt = (0, 1, 1, 0), _ed_base()
    while a:
        if a & 1:
            q = _ed_add(q, pt)
        pt = _ed_add(pt, pt)
        a >>= 1
    zi = _inv(q[2])
    x, y = q[0] * zi % P25519, q[1] * zi % P25519
    return (y | (x & 1) << 255).to_bytes(32, "little")


def x25519_public(sk):
    """RFC 7748 5: X25519(sk, 9)."""
    P = P25519
    k = int.from_bytes(sk, "little")
    k = (k & ~7 & ~(1 << 255)) | 1 << 254
    x1, x2, z2, x3, z3, swap = 9, 1, 0, 9, 1, 0
    for t in reversed(range(255)):
        kt = (k >> t) & 1
        swap ^= kt
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = kt
        a, b = x2 + z2, x2 - z2
        aa, bb = a * a % P, b * b % P
        e = aa - bb
        c, d = x3 + z3, x3 - z3
        da, cb = d * a % P, c * b % P
        x3 = (da + cb) ** 2 % P
        z3 = x1 * (da - cb) ** 2 % P
        x2 = aa * bb % P
        z2 = e * (aa + 121665 * e) % P
    if swap:
        x2, z2 = x3, z3
    return (x2 * _inv(z2) % P).to_bytes(32, "little")


def keypair_ok(r, algorithm):
    j = r.json
    if not isinstance(j, dict) or set(j) != {"id", "privateID"}:
        return False
    pub, sk = j["id"], j["privateID"]
    if not (HEX.fullmatch(pub) and HEX.fullmatch(sk) and len(pub) == 64):
        return False
    if algorithm == "ed25519":
        # libsodium's layout: 32-byte seed, then the public key
        return (len(sk) == 128 and sk[64:] == pub
                and ed25519_public(bytes.fromhex(sk[:64])).hex() == pub)
    return len(sk) == 64 and x25519_public(bytes.fromhex(sk)).hex() == pub


def type_echo(sent):
    """The message for an unknown type: cut to 64 bytes, never inside a
    UTF-8 character (so nothing is added in its place)."""
    raw = sent.encode() if isinstance(sent, str) else sent
    whole = raw[:64].decode("utf-8", "ignore")

    def pred(r):
        if not (isinstance(r.json, dict) and set(r.json) == {"error"}):
            return False
        if any(b < 0x20 for b in r.body):       # control characters escaped
            return False
        return r.json["error"] == "ID Type %s not supported." % whole
    return pred


# -- the table -------------------------------------------------------------------
def jb(obj, ascii_only=True):
    return json.dumps(obj, ensure_ascii=ascii_only).encode()


def fb(pairs):
    return urllib.parse.urlencode(pairs).encode()


def cred(user="igbob", **kw):
    d = {"username": user, "token": TOK[user]}
    d.update(kw)
    return d


def fcred(user="igbob", *pairs):
    return [("username", user), ("token", TOK[user])] + list(pairs)


def cases(stack):
    rows = []

    def add(name, body, status, pred, headers=JSON, method="POST", path="/"):
        def p(r, pred=pred):
            return headers_ok(r) and pred(r)
        rows.append(("idgen: " + name, method, path, body, dict(headers), status, p))

    def j(name, obj, status, pred, **kw):
        add(name + " (json)", jb(obj), status, pred, **kw)

    def f(name, pairs, status, pred, **kw):
        add(name + " (form)", fb(pairs), status, pred, headers=FORM, **kw)

    bad_len = "Length must be a whole number of at least %d"
    too_large = err("Length too large, please use a smaller number")
    need_len = err("Please specify the length")

    # 1. body shape: content type, JSON
    ok_body = jb(cred(type="uuid"))
    for ct in ("text/plain", "multipart/form-data; boundary=x", "application/jsonx",
               "application/json-patch+json", "text/json", "application/xml"):
        add("415 " + ct, ok_body, 415, err("Unsupported Content-Type"),
            headers={"Content-Type": ct})
    add("415 before credentials", b"{}", 415, err("Unsupported Content-Type"),
        headers={"Content-Type": "text/plain"})
    for ct in ("application/json; charset=utf-8", "Application/JSON",
               "application/json;charset=UTF-8"):
        add("200 with " + ct, ok_body, 200, lambda r: uuid_ok(r, 4),
            headers={"Content-Type": ct})
    add("200 with no Content-Type: read as JSON", ok_body, 200,
        lambda r: uuid_ok(r, 4), headers={})
    add("no Content-Type, broken JSON", b"username=igbob", 400,
        err("Invalid JSON body"), headers={})
    add("200 form with charset", fb(fcred("igbob", ("type", "uuid"))), 200,
        lambda r: uuid_ok(r, 4),
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"})
    add("JSON with trailing whitespace", ok_body + b" \r\n\t", 200, lambda r: uuid_ok(r, 4))
    # Only top-level scalars are read: a nested value is refused before
    # any parser spends memory on it (json-c took ~36 times a body's size).
    nested = err("Invalid JSON body: field values must be strings, numbers, booleans or null")
    for what, val in (("an array", b"[]"), ("an object", b'{"b":1}'),
                      ("an array nested 63 levels deep", b"[" * 63 + b"]" * 63)):
        add("400 a field holding " + what, ok_body[:-1] + b',"a":' + val + b"}", 400,
            nested)
    for what, body in (("empty body", b""), ("broken", b"{"), ("broken 2", b'{"username":}'),
                       ("trailing comma", b'{"username":"igbob",}'),
                       ("trailing comma in an array", b'{"a":[1,],"type":"uuid"}'),
                       ("comment", b'{/* c */"username":"igbob"}'),
                       ("True", b'{"a":True}'), ("leading zero", b'{"a":01}'),
                       ("array", b'[{"username":"igbob"}]'), ("string", b'"uuid"'),
                       ("number", b"123"), ("null", b"null"), ("true", b"true"),
                       ("trailing garbage", ok_body + b" x"),
                       ("two objects", ok_body + b"{}"),
                       ("form body sent as JSON", fb(fcred("igbob", ("type", "uuid")))),
                       ("single quotes", b"{'username':'igbob'}"),
                       ("NaN", b'{"a":NaN,"type":"uuid"}'),
                       ("-Infinity", b'{"a":-Infinity}'),
                       ("raw tab in a string", b'{"a":"x\ty"}'),
                       ("invalid UTF-8 in a string", b'{"a":"\xff"}')):
        add("400 invalid JSON: " + what, body, 400, err("Invalid JSON body"))

    for what, obj in (("array token", {"username": "igbob", "token": [TOK["igbob"]], "type": "uuid"}),
                      ("object username", {"username": {"a": 1}, "token": TOK["igbob"], "type": "uuid"}),
                      ("type {}", {"username": "igbob", "token": TOK["igbob"], "type": {}}),
                      ("type [1, 2]", {"username": "igbob", "token": TOK["igbob"], "type": [1, 2]})):
        j("400 nested: " + what, obj, 400, nested)

    # 2. credentials present
    provide = err("Please provide a username and token")
    t = TOK["igbob"]
    for what, obj in (("no fields", {}), ("no token", {"username": "igbob", "type": "uuid"}),
                      ("no username", {"token": t, "type": "uuid"}),
                      ("empty username", {"username": "", "token": t, "type": "uuid"}),
                      ("empty token", {"username": "igbob", "token": "", "type": "uuid"}),
                      ("numeric username", {"username": 5, "token": t, "type": "uuid"}),
                      ("null token", {"username": "igbob", "token": None, "type": "uuid"}),
                      ("bool token", {"username": "igbob", "token": True, "type": "uuid"}),
                      ("missing, and no type", {"username": "igbob"}),
                      ("missing, and unknown type", {"type": "nope"})):
        j("401 provide: " + what, obj, 401, provide)
    f("401 provide: no token", [("username", "igbob"), ("type", "uuid")], 401, provide)
    f("401 provide: empty token", [("username", "igbob"), ("token", ""), ("type", "uuid")],
      401, provide)
    f("401 provide: empty username", [("username", ""), ("token", t), ("type", "uuid")],
      401, provide)
    add("401 provide: credentials in the query are not read", jb({"type": "uuid"}), 401,
        provide, path="/?" + urllib.parse.urlencode({"username": "igbob", "token": t}))
    add("401 provide: credentials in headers are not read", jb({"type": "uuid"}), 401,
        provide, headers={"Content-Type": "application/json", "X-Oanor-Key": t,
                          "Authorization": "Bearer " + t})

    # 3. credentials valid
    invalid = err("Invalid username or token")
    for what, obj in (("unknown user", {"username": "ignobody", "token": t}),
                      ("wrong token", {"username": "igbob", "token": t[:-1] + ("A" if t[-1] != "A" else "B")}),
                      ("another key's token", {"username": "igalice", "token": t}),
                      ("suspended key", cred("igsusp")),
                      ("token with a space", {"username": "igbob", "token": t + " "}),
                      ("username with a space", {"username": "igbob ", "token": t}),
                      ("prefix of the token", {"username": "igbob", "token": t[:10]}),
                      ("wrong token, no type", {"username": "igbob", "token": "idm_x"}),
                      ("wrong token, bad options", {"username": "igbob", "token": "idm_x",
                                                    "type": "nanoid", "length": 0})):
        obj = dict(obj)
        obj.setdefault("type", "uuid")
        if what == "wrong token, no type":
            del obj["type"]
        j("401 invalid: " + what, obj, 401, invalid)
    f("401 invalid: suspended key", fcred("igsusp", ("type", "uuid")), 401, invalid)
    f("401 invalid: wrong token", [("username", "igbob"), ("token", t + "x"), ("type", "uuid")],
      401, invalid)
    for u in ("IGBOB", "IgBob"):
        j("username case: " + u, {"username": u, "token": t, "type": "uuid"}, 200,
          lambda r: uuid_ok(r, 4))
        f("username case: " + u, [("username", u), ("token", t), ("type", "uuid")], 200,
          lambda r: uuid_ok(r, 4))
    j("another key works", cred("igalice", type="license"), 200, id_match(LICENSE))

    # 5. type
    spec_type = err("Please specify the type")
    j("400 no type", cred(), 400, spec_type)
    j("400 null type", cred(type=None), 400, spec_type)
    # A type that is not a string is echoed as its JSON text, as written.
    for raw in (b"true", b"1.5", b"1e2", b"-0", b"99999999999999999999"):
        add("unknown type as JSON %s" % raw.decode(),
            b'{"username":"igbob","token":"' + TOK["igbob"].encode() +
            b'","type":' + raw + b"}", 400,
            err("ID Type %s not supported." % raw.decode()))
    j("400 empty type", cred(type=""), 400, spec_type)
    j("400 no type, bad options", cred(length=0, version=9), 400, spec_type)
    f("400 no type", fcred(), 400, spec_type)
    f("400 empty type", fcred("igbob", ("type", "")), 400, spec_type)
    j("unknown type", cred(type="nope"), 400, err("ID Type nope not supported."))
    j("unknown type, bad options", cred(type="nope", length=0), 400,
      err("ID Type nope not supported."))
    j("unknown type as a JSON number", cred(type=5), 400, err("ID Type 5 not supported."))
    j("unknown type holding a NUL", cred(type="words\u0000x"), 400,
      err("ID Type words\u0000x not supported."))
    for ty in ("UUID", "Uuid", "uuid ", " uuid", "uuids", "WORD", "2FA", "nano", "\u00fcuid"):
        j("type matched exactly: %r" % ty, cred(type=ty), 400, type_echo(ty))
    long_type = "t" * 200
    j("200-char type is cut to 64 bytes", cred(type=long_type), 400,
      err("ID Type %s not supported." % ("t" * 64)))
    hostile = 'x"y\\z\n\r\t\u0001</script><b>\'&\u00e9\u4e2d\U0001F600'
    j("hostile type echoed, JSON-escaped", cred(type=hostile), 400,
      err("ID Type %s not supported." % hostile))
    add("hostile type echoed, raw UTF-8 in (json)", jb(cred(type=hostile), False), 400,
        err("ID Type %s not supported." % hostile))
    f("hostile type echoed", fcred("igbob", ("type", hostile)), 400,
      err("ID Type %s not supported." % hostile))
    long_hostile = '"\\\n</script>' * 20
    j("long hostile type cut to 64 bytes", cred(type=long_hostile), 400,
      err("ID Type %s not supported." % long_hostile[:64]))
    j("long non-ASCII type cut to 64 bytes", cred(type="\u00e9" * 100), 400,
      err("ID Type %s not supported." % ("\u00e9" * 32)))
    j("64-byte cut inside a character", cred(type="a" + "\u00e9" * 100), 400,
      type_echo("a" + "\u00e9" * 100))
    j("64-byte cut inside an emoji", cred(type="ab" + "\U0001F600" * 40), 400,
      type_echo("ab" + "\U0001F600" * 40))
    f("invalid UTF-8 type", fcred("igbob", ("type", b"\xff\xfe<x>")), 400,
      lambda r: r.json is not None and r.json["error"].startswith("ID Type ")
      and r.json["error"].endswith("<x> not supported."))

    # unknown fields are ignored
    j("unknown fields ignored", cred(type="uuid", foo=1.5, bar="x", baz=None, qux=True,
                                     length="abc", alphabet="a"), 200, lambda r: uuid_ok(r, 4))
    f("unknown fields ignored", fcred("igbob", ("type", "license"), ("zzz", "1"),
                                      ("length", "x")), 200, id_match(LICENSE))

    # 6. uuid
    for what, extra, v in (("default", {}, 4), ("version 4", {"version": 4}, 4),
                           ("version \"4\"", {"version": "4"}, 4),
                           ("version 7", {"version": 7}, 7),
                           ("version \"7\"", {"version": "7"}, 7)):
        j("uuid " + what, cred(type="uuid", **extra), 200, lambda r, v=v: uuid_ok(r, v))
    f("uuid default", fcred("igbob", ("type", "uuid")), 200, lambda r: uuid_ok(r, 4))
    f("uuid version 4", fcred("igbob", ("type", "uuid"), ("version", "4")), 200,
      lambda r: uuid_ok(r, 4))
    f("uuid version 7", fcred("igbob", ("type", "uuid"), ("version", "7")), 200,
      lambda r: uuid_ok(r, 7))
    bad_version = err("UUID version must be 4 or 7")
    for v in (5, 1, 0, -4, 4.5, "5", "v7", "", "4 ", True, 47):
        j("uuid version %r" % (v,), cred(type="uuid", version=v), 400, bad_version)
    j("uuid version [4]", cred(type="uuid", version=[4]), 400, nested)
    for v in ("5", "", "v4", "4.0", "x"):
        f("uuid version %r" % v, fcred("igbob", ("type", "uuid"), ("version", v)), 400,
          bad_version)

    # nanoid
    j("nanoid length 21", cred(type="nanoid", length=21), 200, lambda r: nanoid_ok(r, 21))
    j("nanoid length \"16\"", cred(type="nanoid", length="16"), 200, lambda r: nanoid_ok(r, 16))
    f("nanoid length 16", fcred("igbob", ("type", "nanoid"), ("length", "16")), 200,
      lambda r: nanoid_ok(r, 16))
    j("nanoid length 1", cred(type="nanoid", length=1), 200, lambda r: nanoid_ok(r, 1))
    j("nanoid length 256", cred(type="nanoid", length=256), 200, lambda r: nanoid_ok(r, 256))
    j("nanoid length 256, alphabet abc: all three drawn", cred(type="nanoid", length=256,
      alphabet="abc"), 200, lambda r: nanoid_ok(r, 256, "abc") and set(the_id(r)) == set("abc"))
    j("nanoid alphabet of 3", cred(type="nanoid", length=40, alphabet="x-_"), 200,
      lambda r: nanoid_ok(r, 40, "x-_"))
    j("nanoid Unicode alphabet", cred(type="nanoid", length=64, alphabet=UNI_ALPHA), 200,
      lambda r: nanoid_ok(r, 64, UNI_ALPHA))
    add("nanoid Unicode alphabet, raw UTF-8 (json)",
        jb(cred(type="nanoid", length=64, alphabet=UNI_ALPHA), False), 200,
        lambda r: nanoid_ok(r, 64, UNI_ALPHA))
    f("nanoid Unicode alphabet", fcred("igbob", ("type", "nanoid"), ("length", "64"),
                                       ("alphabet", UNI_ALPHA)), 200,
      lambda r: nanoid_ok(r, 64, UNI_ALPHA))
    j("nanoid alphabet of 256 characters (768 bytes)", cred(type="nanoid", length=256,
      alphabet=BIG_ALPHA), 200, lambda r: nanoid_ok(r, 256, BIG_ALPHA))
    j("nanoid no length", cred(type="nanoid"), 400, need_len)
    j("nanoid no length, with alphabet", cred(type="nanoid", alphabet="abc"), 400, need_len)
    f("nanoid no length", fcred("igbob", ("type", "nanoid")), 400, need_len)
    for v in (0, -1, 1.5, "1.5", "abc", True, False, "", "-1", " 5", "5 ", "+5", "0x10",
              "1e2", "0"):
        j("nanoid length %r" % (v,), cred(type="nanoid", length=v), 400, err(bad_len % 1))
    for v in ([5], {"n": 5}):
        j("nanoid length %r" % (v,), cred(type="nanoid", length=v), 400, nested)
    for v in ("", "abc", "-3", "0", "1.5", " 5"):
        f("nanoid length %r" % v, fcred("igbob", ("type", "nanoid"), ("length", v)), 400,
          err(bad_len % 1))
    for v in (257, "257", 1000000, 2 ** 62, "99999999999999999999999"):
        j("nanoid length %r" % (v,), cred(type="nanoid", length=v), 400, too_large)
    f("nanoid length 257", fcred("igbob", ("type", "nanoid"), ("length", "257")), 400, too_large)
    alen = err("Alphabet length must be between 3 and 256 characters")
    for what, a in (("2", "ab"), ("empty", ""), ("257", BIG_ALPHA + "x"),
                    ("2 non-ASCII (4 bytes)", "\u00e9\u00e8"),
                    ("2 emoji (8 bytes)", "\U0001F600\U0001F680")):
        j("nanoid alphabet length " + what, cred(type="nanoid", length=5, alphabet=a), 400, alen)
    f("nanoid alphabet length 2", fcred("igbob", ("type", "nanoid"), ("length", "5"),
                                        ("alphabet", "ab")), 400, alen)
    f("nanoid alphabet length 257", fcred("igbob", ("type", "nanoid"), ("length", "5"),
                                          ("alphabet", BIG_ALPHA + "\u00e9")), 400, alen)
    rep = err("Alphabet must not repeat a character")
    for what, a in (("ASCII", "abca"), ("non-ASCII", "\u00e9ab\u00e9"),
                    ("emoji", "\U0001F600xy\U0001F600"), ("at the end", BIG_ALPHA[:255] + "\u4e00")):
        j("nanoid alphabet repeat " + what, cred(type="nanoid", length=5, alphabet=a), 400, rep)
    f("nanoid alphabet repeat", fcred("igbob", ("type", "nanoid"), ("length", "5"),
                                      ("alphabet", "xyzx")), 400, rep)
    bad_utf8 = err("Alphabet must be valid UTF-8")
    for what, a in (("0xFF", b"\xffabc"), ("0xFE 0xFF", b"ab\xfe\xffc"),
                    ("truncated", b"abc\xc3"), ("lone continuation", b"ab\x80c"),
                    ("overlong", b"\xc0\xafabc"), ("surrogate", b"\xed\xa0\x80abc"),
                    ("past U+10FFFF", b"\xf4\x90\x80\x80abc")):
        f("nanoid alphabet invalid UTF-8 " + what, fcred("igbob", ("type", "nanoid"),
          ("length", "5"), ("alphabet", a)), 400, bad_utf8)
    # In JSON, a \u escape of a lone UTF-16 surrogate is not valid Unicode.
    pre = b'{"username":"igbob","token":"' + TOK["igbob"].encode() + \
        b'","type":"nanoid","length":5,"alphabet":'
    for what, lit in (("lone high", b'"ab\\ud800c"'), ("lone low", b'"ab\\udc00c"'),
                      ("high at the end", b'"abc\\uD83D"'),
                      ("two highs", b'"ab\\ud83d\\ud83dc"'),
                      ("beside U+FFFD", b'"a\\ufffd\\ud800"')):
        add("nanoid alphabet JSON surrogate " + what, pre + lit + b"}", 400, bad_utf8)
    add("nanoid alphabet JSON surrogate pair is fine",
        pre + b'"ab\\ud83d\\ude00"}', 200,
        lambda r: nanoid_ok(r, 5, "ab\U0001F600"))

    # 2fa
    j("2fa default", cred(type="2fa"), 200, lambda r: digits_ok(r, 6))
    j("2fa length 8", cred(type="2fa", length=8), 200, lambda r: digits_ok(r, 8))
    j("2fa length \"8\"", cred(type="2fa", length="8"), 200, lambda r: digits_ok(r, 8))
    f("2fa default", fcred("igbob", ("type", "2fa")), 200, lambda r: digits_ok(r, 6))
    f("2fa length 8", fcred("igbob", ("type", "2fa"), ("length", "8")), 200,
      lambda r: digits_ok(r, 8))
    j("2fa length 1", cred(type="2fa", length=1), 200, lambda r: digits_ok(r, 1))
    j("2fa length 256: every digit drawn", cred(type="2fa", length=256), 200,
      lambda r: digits_ok(r, 256) and set(the_id(r)) == set("0123456789"))
    for v in (0, -1, "abc", 2.5, ""):
        j("2fa length %r" % (v,), cred(type="2fa", length=v), 400, err(bad_len % 1))
    j("2fa length 257", cred(type="2fa", length=257), 400, too_large)
    f("2fa length 257", fcred("igbob", ("type", "2fa"), ("length", "257")), 400, too_large)

    # license
    j("license", cred(type="license"), 200, id_match(LICENSE))
    f("license", fcred("igbob", ("type", "license")), 200, id_match(LICENSE))
    j("license ignores length", cred(type="license", length=3), 200, id_match(LICENSE))

    # words
    j("words default: 3, slug", cred(type="words"), 200, lambda r: words_ok(r, 3, "slug"))
    j("word alias", cred(type="word"), 200, lambda r: words_ok(r, 3, "slug"))
    f("word alias", fcred("igbob", ("type", "word")), 200, lambda r: words_ok(r, 3, "slug"))
    for style in ("slug", "title", "formal"):
        j("words 5 " + style, cred(type="words", length=5, style=style), 200,
          lambda r, s=style: words_ok(r, 5, s))
        j("words \"4\" " + style, cred(type="word", length="4", style=style), 200,
          lambda r, s=style: words_ok(r, 4, s))
        f("words 4 " + style, fcred("igbob", ("type", "words"), ("length", "4"),
                                    ("style", style)), 200, lambda r, s=style: words_ok(r, 4, s))
    j("words 1", cred(type="words", length=1), 200, lambda r: words_ok(r, 1, "slug"))
    j("words 16 title", cred(type="words", length=16, style="title"), 200,
      lambda r: words_ok(r, 16, "title"))
    j("words 17", cred(type="words", length=17), 400, too_large)
    f("words 17", fcred("igbob", ("type", "word"), ("length", "17")), 400, too_large)
    for v in (0, -2, "x", 1.5):
        j("words length %r" % (v,), cred(type="words", length=v), 400, err(bad_len % 1))
    bad_style = err("Style must be one of slug, title, formal")
    for s in ("Title", "SLUG", "kebab", "", " slug", 1, None):
        j("words style %r" % (s,), cred(type="words", style=s), 400, bad_style)
    f("words style kebab", fcred("igbob", ("type", "words"), ("style", "kebab")), 400, bad_style)
    f("words style empty", fcred("igbob", ("type", "words"), ("style", "")), 400, bad_style)

    # snowflake
    j("snowflake", cred(type="snowflake"), 200, snowflake_ok)
    f("snowflake", fcred("igbob", ("type", "snowflake")), 200, snowflake_ok)

    # keypair
    j("keypair default ed25519", cred(type="keypair"), 200, lambda r: keypair_ok(r, "ed25519"))
    j("keypair ed25519", cred(type="keypair", algorithm="ed25519"), 200,
      lambda r: keypair_ok(r, "ed25519"))
    j("keypair x25519", cred(type="keypair", algorithm="x25519"), 200,
      lambda r: keypair_ok(r, "x25519"))
    f("keypair default", fcred("igbob", ("type", "keypair")), 200,
      lambda r: keypair_ok(r, "ed25519"))
    f("keypair x25519", fcred("igbob", ("type", "keypair"), ("algorithm", "x25519")), 200,
      lambda r: keypair_ok(r, "x25519"))
    # The spec names no message for a bad algorithm: this is the code's.
    bad_alg = err("Algorithm must be ed25519 or x25519")
    for a in ("rsa", "Ed25519", "X25519", "", "ed448", 25519, None):
        j("keypair algorithm %r" % (a,), cred(type="keypair", algorithm=a), 400, bad_alg)
    f("keypair algorithm rsa", fcred("igbob", ("type", "keypair"), ("algorithm", "rsa")),
      400, bad_alg)

    # cuid
    j("cuid default 24", cred(type="cuid"), 200, lambda r: cuid_ok(r, 24))
    j("cuid length 2", cred(type="cuid", length=2), 200, lambda r: cuid_ok(r, 2))
    j("cuid length 32", cred(type="cuid", length=32), 200, lambda r: cuid_ok(r, 32))
    j("cuid length \"10\"", cred(type="cuid", length="10"), 200, lambda r: cuid_ok(r, 10))
    f("cuid default", fcred("igbob", ("type", "cuid")), 200, lambda r: cuid_ok(r, 24))
    f("cuid length 10", fcred("igbob", ("type", "cuid"), ("length", "10")), 200,
      lambda r: cuid_ok(r, 10))
    for v in (1, 0, -5, "1", "abc", 2.0001):
        j("cuid length %r" % (v,), cred(type="cuid", length=v), 400, err(bad_len % 2))
    j("cuid length 33", cred(type="cuid", length=33), 400, too_large)
    f("cuid length 33", fcred("igbob", ("type", "cuid"), ("length", "33")), 400, too_large)
    f("cuid length 1", fcred("igbob", ("type", "cuid"), ("length", "1")), 400, err(bad_len % 2))

    # other methods on /
    for m in ("PUT", "DELETE", "PATCH"):
        add("405 " + m, ok_body, 405,
            lambda r: r.json == {"error": "Method not allowed"} and r.headers.get("allow") == "POST",
            method=m)
    return rows


# -- scenarios: keys changed while the pool runs ---------------------------------
def scenarios(stack, fronts, check):
    def post(front, obj):
        body = jb(obj)
        if front == "cgi":
            return harness.cgi("POST", "/", body, JSON)
        return harness.request(fronts[front], "POST", "/", body, JSON)

    where = list(fronts) + ["cgi"]
    # Several requests per front end, so that more than one worker answers.
    reps = dict({fr: 8 for fr in fronts}, cgi=1)

    def expect(user, token, status, what):
        for fr in where:
            for i in range(reps[fr]):
                r = post(fr, {"username": user, "token": token, "type": "uuid"})
                ok = r.status == status and headers_ok(r) and (
                    uuid_ok(r, 4) if status == 200 else
                    r.json == {"error": "Invalid username or token"})
                check(ok, "idgen scenario: %s via %s (#%d): %d %r" % (what, fr, i, r.status, r.body[:200]))
                if not ok:
                    break

    # Rotation: the old token is refused and the new one works at once.
    old = TOK["igrot"]
    expect("igrot", old, 200, "token before rotation")
    new = harness.ctl(stack.db, "rotate", "igrot")
    check(new != old and new.startswith("idm_"), "idgen scenario: rotate prints a new token")
    expect("igrot", old, 401, "old token after rotation")
    expect("igrot", new, 200, "new token after rotation")
    TOK["igrot"] = new

    # Suspend, then resume.
    expect("igsr", TOK["igsr"], 200, "active key")
    harness.ctl(stack.db, "suspend", "igsr")
    expect("igsr", TOK["igsr"], 401, "suspended key")
    harness.ctl(stack.db, "resume", "igsr")
    expect("igsr", TOK["igsr"], 200, "resumed key")
    harness.ctl(stack.db, "resume", "igsusp")
    expect("igsusp", TOK["igsusp"], 200, "key suspended at start, resumed")
    harness.ctl(stack.db, "suspend", "igsusp")
    expect("igsusp", TOK["igsusp"], 401, "key suspended again")

    # Only a 200 counts toward the key's usage.
    c = cred("igcount")
    sent = [(dict(c, type="uuid"), 200), (dict(c, type="word"), 200),
            (dict(c, type="nanoid", length=8), 200), (dict(c), 400),
            (dict(c, type="nanoid"), 400), (dict(c, type="bogus"), 400),
            (dict(c, type="uuid", version=5), 400), (dict(c, token="idm_wrong"), 401)]
    for i, (obj, st) in enumerate(sent):
        r = post(where[i % 2], obj)
        check(r.status == st, "idgen scenario: usage request %d: %d" % (i, r.status))
    u = json.loads(harness.ctl(stack.db, "--json", "usage", "igcount"))
    check(u.get("month_total") == 3 and u.get("all_time") == 3,
          "idgen scenario: only the three 200s are counted: %r" % u)

    # Snowflakes never repeat and follow the clock; v7 UUIDs sort by time.
    flakes, stamps = [], []
    for i in range(40):
        r = post(where[i % 2], cred(type="snowflake"))
        if not (r.status == 200 and snowflake_ok(r)):
            check(False, "idgen scenario: snowflake %d: %d %r" % (i, r.status, r.body))
            break
        flakes.append(int(the_id(r)))
        r = post(where[i % 2], cred(type="uuid", version=7))
        if not (r.status == 200 and uuid_ok(r, 7)):
            check(False, "idgen scenario: uuid v7 %d: %d %r" % (i, r.status, r.body))
            break
        stamps.append(int(the_id(r)[:8] + the_id(r)[9:13], 16))
    check(len(set(flakes)) == len(flakes) == 40, "idgen scenario: 40 distinct snowflakes")
    check([f >> 22 for f in flakes] == sorted(f >> 22 for f in flakes),
          "idgen scenario: snowflake times never go back")
    check(stamps == sorted(stamps) and len(stamps) == 40,
          "idgen scenario: uuid v7 times never go back")
