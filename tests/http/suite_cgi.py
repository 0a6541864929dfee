"""idmint started by Apache itself, as the web server's own user owning the
store, loopback only:
- as a plain CGI program (mod_cgid), the way shared hosting runs it: the
  binary in a cgi-bin, the store named by SetEnv;
- as FastCGI under mod_fcgid, which starts and stops the workers itself,
  mounted at the root of the site.

Loaded by run.py (`python3 tests/http/run.py suite_cgi`).
"""
import json
import os
import pwd
import shutil
import subprocess
import tempfile

import harness
import servers

COMMON = """ServerRoot "{d}"
ServerName localhost
Listen 127.0.0.1:{port}
PidFile "{d}/apache.pid"
ErrorLog "{d}/apache.err"
LogLevel warn
{user}
LoadModule mpm_event_module {mods}/mod_mpm_event.so
LoadModule authz_core_module {mods}/mod_authz_core.so
LoadModule authz_host_module {mods}/mod_authz_host.so
LoadModule alias_module {mods}/mod_alias.so
LoadModule env_module {mods}/mod_env.so
Mutex file:{d}
DefaultRuntimeDir "{d}"
StartServers 1
ServerLimit 1
ThreadsPerChild 8
"""

CGID = """LoadModule cgid_module {mods}/mod_cgid.so
ScriptSock "{d}/cgid.sock"
ScriptAlias /cgi-bin/idmint "{d}/cgi-bin/idmint"
SetEnv IDMINT_DB "{d}/db"
SetEnv IDMINT_CONF /dev/null
<Directory "{d}/cgi-bin">
    Require all granted
    CGIPassAuth On
</Directory>
"""

# As etc/apache/idmint-fcgid.conf, with this test's paths.
FCGID = """LoadModule fcgid_module {mods}/mod_fcgid.so
FcgidIPCDir "{d}/fcgid"
FcgidProcessTableFile "{d}/fcgid/table"
FcgidMaxProcessesPerClass 4
FcgidInitialEnv IDMINT_DB "{d}/db"
FcgidInitialEnv IDMINT_CONF /dev/null
AliasMatch "^(/.*)?$" "{d}/cgi-bin/idmint$1"
<Directory "{d}/cgi-bin">
    <Files "idmint">
        SetHandler fcgid-script
        Options +ExecCGI
        AcceptPathInfo On
        Require all granted
        CGIPassAuth On
    </Files>
</Directory>
<Location "/metrics">
    Require ip 127.0.0.1 ::1
</Location>
"""


def scenarios(stack, fronts, check):
    for mode, extra, prefix in (("apache CGI", CGID, "/cgi-bin/idmint"),
                                ("apache mod_fcgid", FCGID, "")):
        run_mode(mode, extra, prefix, check)


def run_mode(mode, extra, prefix, check):
    d = tempfile.mkdtemp(prefix="idmint-cgi-")
    os.chmod(d, 0o755)
    db = os.path.join(d, "db")
    os.makedirs(os.path.join(d, "cgi-bin"))
    os.makedirs(os.path.join(d, "fcgid"))
    shutil.copy(harness.BIN, os.path.join(d, "cgi-bin", "idmint"))
    token = harness.ctl(db, "add", "cgiuser")
    user = ""
    if os.geteuid() == 0:
        # Apache runs CGI programs as its own user, who must own the store.
        user = "User www-data\nGroup www-data"
        pw = pwd.getpwnam("www-data")
        os.chown(os.path.join(d, "fcgid"), pw.pw_uid, pw.pw_gid)
        for root, dirs, files in os.walk(db):
            for n in [root] + [os.path.join(root, f) for f in files]:
                os.chown(n, pw.pw_uid, pw.pw_gid)
    port = servers.free_port()
    conf = os.path.join(d, "apache.conf")
    with open(conf, "w") as f:
        f.write((COMMON + extra).format(d=d, port=port, user=user,
                                        mods="/usr/lib/apache2/modules"))
    p = subprocess.Popen(["apache2", "-f", conf, "-DFOREGROUND"],
                         stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(d, "apache.start"), "ab"))
    try:
        servers.wait_for(lambda: servers.port_open(port) or p.poll() is not None,
                         mode)
        _checks(mode, "http://127.0.0.1:%d" % port, prefix, token, db, check)
    finally:
        servers.stop_proc(p)
        shutil.rmtree(d, ignore_errors=True)


def _checks(mode, base, prefix, token, db, check):
    def req(method, path, body=None, headers=None, source=None):
        try:
            return harness.request(base, method, path, body, headers, mount=prefix,
                                   source=source)
        except Exception as e:  # a cut answer is a failure, not a crash
            return harness.Resp(0, [], repr(e).encode())

    r = req("GET", prefix + "/healthz")
    check(r.status == 200 and r.json == harness.HEALTHZ,
          mode + ": healthz: %d %r" % (r.status, r.body[:200]))
    r = req("GET", prefix + "/nowhere")
    check(r.status == 404 and r.json == {"error": "Not found"}, mode + ": 404")
    if "fcgid" in mode:
        # As the example: /metrics for loopback clients only (and off here).
        r = req("GET", prefix + "/metrics", source="127.0.0.2")
        check(r.status == 403, mode + ": /metrics refuses 127.0.0.2: %d" % r.status)
        r = req("GET", prefix + "/metrics")
        check(r.status == 404 and r.json == {"error": "Not found"},
              mode + ": /metrics from 127.0.0.1 reaches idmint (off: 404): %d" % r.status)
    root = prefix or "/"
    r = req("GET", root)
    check(r.status == 405 and r.headers.get("allow") == "POST",
          mode + ": GET on the root is 405 with Allow: POST")
    big = b'{"username":"' + b"x" * 70000 + b'"}'
    r = req("POST", root, big, {"Content-Type": "application/json"})
    check(r.status == 413 and r.json == {"error": "Request body too large"},
          mode + ": 413")
    ok = 0
    for t in ("uuid", "nanoid", "snowflake", "snowflake"):
        body = json.dumps({"username": "CGIUSER", "token": token, "type": t,
                           "length": 12}).encode()
        r = req("POST", root, body, {"Content-Type": "application/json"})
        good = r.status == 200 and isinstance((r.json or {}).get("id"), str)
        check(good, mode + ": POST %s: %d %r" % (t, r.status, r.body[:200]))
        ok += good
    r = req("GET", prefix + "/v1/encode?numbers=1,2,3",
            headers={"Authorization": "Bearer " + token})
    check(r.status == 200 and r.json["data"]["hash"] == "o2fXhV",
          mode + ": Bearer token passed through: %d %r" % (r.status, r.body[:200]))
    ok += r.status == 200
    r = req("GET", prefix + "/v1/encode?numbers=1", headers={"X-Api-Key": "idm_nope"})
    check(r.status == 401 and r.json["message"] == "Missing or invalid x-oanor-key header",
          mode + ": unknown token is 401")
    # Each CGI process flushes its count as it exits: all are in the store.
    use = json.loads(harness.ctl(db, "--json", "usage", "cgiuser"))
    types = {t["type"]: t["month"] for t in use.get("types", [])}
    check(use.get("month_total") == ok and types.get("snowflake") == 2,
          mode + ": usage counts every 200 (%d): %s" % (ok, json.dumps(use)[:300]))
