"""The Debian package, from build to purge, on this machine:

1. dpkg-buildpackage -us -uc -b on a copy of the source (the tree and
   build/ stay as they are), without the test step (scripts/test runs
   the tests) and without a debug-symbols package;
2. lintian: no error (its warnings are printed), run while 3-6 go on;
3. dpkg -i: the idmint user, /var/lib/idmint (0700, the user's),
   /etc/idmint/idmint.conf as a conffile, the units (socket and service
   enabled, nothing started), the examples, the manual pages;
4. systemd-analyze verify on the installed units;
5. idmintctl add as the idmint user; the installed service's
   ExecStartPre= and ExecStart= run as systemd would (unitexec.py) on
   /run/idmint/idmint.sock, behind nginx configured by the installed
   example, and an ID minted through it;
6. dpkg --purge: no idmint user or group, no /var/lib/idmint, no
   /etc/idmint, no unit or enablement link left: the machine as it was.

It needs root, and a machine without idmint installed; it holds a lock
so that two test runs on one machine take turns.
"""
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time

import harness
import servers
import unitexec
from suite_systemd import LOCK, uid_of, verify

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNITDIR = "/lib/systemd/system"
EXAMPLES = "/usr/share/doc/idmint/examples"
LEFTOVERS = ["/var/lib/idmint", "/etc/idmint", "/run/idmint",
             UNITDIR + "/idmint.service", UNITDIR + "/idmint.socket",
             UNITDIR + "/idmint-sync.service",
             "/etc/systemd/system/sockets.target.wants/idmint.socket",
             "/etc/systemd/system/multi-user.target.wants/idmint.service",
             "/var/lib/systemd/deb-systemd-helper-enabled/idmint.socket.dsh-also",
             "/var/lib/systemd/deb-systemd-helper-enabled/idmint.service.dsh-also",
             "/usr/bin/idmint", "/usr/sbin/idmintctl", "/usr/sbin/idmint-reload"]


def sh(argv, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 300)
    return subprocess.run(argv, **kw)


def installed():
    p = sh(["dpkg-query", "-W", "-f=${Status}", "idmint"])
    return p.returncode == 0 and "installed" in p.stdout and "not-installed" not in p.stdout


def has_user(name):
    return sh(["getent", "passwd", name]).returncode == 0


def has_group(name):
    return sh(["getent", "group", name]).returncode == 0


def machine_state():
    """What this test may change, as it is now."""
    return {"package": installed(), "user": has_user("idmint"),
            "group": has_group("idmint"),
            "files": [p for p in LEFTOVERS if os.path.lexists(p)]}


def source_copy(dst):
    """The source as git has it (tracked files and new ones not ignored),
    without build/ or run/: a copy for dpkg-buildpackage to work in."""
    p = sh(["git", "-C", TOP, "ls-files", "-z", "--cached", "--others",
            "--exclude-standard"])
    if p.returncode == 0 and p.stdout:
        names = [n for n in p.stdout.split("\0") if n]
    else:
        names = [os.path.relpath(os.path.join(d, f), TOP)
                 for d, ds, fs in os.walk(TOP) for f in fs
                 if not os.path.relpath(d, TOP).split(os.sep)[0] in ("build", "run", ".git")]
    for n in names:
        src = os.path.join(TOP, n)
        if not os.path.isfile(src):
            continue            # deleted in the work tree
        os.makedirs(os.path.dirname(os.path.join(dst, n)), exist_ok=True)
        shutil.copy2(src, os.path.join(dst, n))


def build(check, tmp):
    src = os.path.join(tmp, "idmint")
    source_copy(src)
    env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck noddebs parallel=%d" % os.cpu_count(),
               DEB_BUILD_PROFILES="nocheck")
    for k in [k for k in env if k.endswith("SAN_OPTIONS")]:
        del env[k]
    t = time.monotonic()
    p = sh(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src, env=env, timeout=900)
    debs = [f for f in os.listdir(tmp) if f.startswith("idmint_") and f.endswith(".deb")]
    print("ops: deb: dpkg-buildpackage took %.1f s: %s" % (time.monotonic() - t, debs))
    check(p.returncode == 0 and len(debs) == 1,
          "deb: dpkg-buildpackage -us -uc -b builds one package: rc %d %s"
          % (p.returncode, (p.stdout + p.stderr)[-1500:]))
    return os.path.join(tmp, debs[0]) if len(debs) == 1 else None


def lintian_start(deb):
    return subprocess.Popen(["lintian", "--fail-on", "error", deb],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def lintian_end(check, p):
    out, err = p.communicate(timeout=600)
    tags = [l for l in out.splitlines() if l[:2] in ("E:", "W:")]
    print("ops: deb: lintian: %d warnings%s" % (
        len([t for t in tags if t.startswith("W:")]),
        "".join("\n  " + t for t in tags)))
    check(p.returncode == 0 and not [t for t in tags if t.startswith("E:")],
          "deb: lintian finds no error: rc %d %s %s" % (p.returncode, out[-800:], err[-300:]))


def check_installed(check):
    st = os.stat("/var/lib/idmint")
    check(has_user("idmint") and st.st_uid == uid_of_user("idmint")
          and st.st_mode & 0o777 == 0o700,
          "deb: the idmint user and /var/lib/idmint, 0700, its own: %o" % st.st_mode)
    conff = sh(["dpkg-query", "-W", "-f=${Conffiles}", "idmint"]).stdout
    check("/etc/idmint/idmint.conf" in conff, "deb: /etc/idmint/idmint.conf is a conffile")
    for path in ["/usr/bin/idmint", "/usr/sbin/idmintctl", "/usr/sbin/idmint-reload",
                 UNITDIR + "/idmint.service", UNITDIR + "/idmint.socket",
                 UNITDIR + "/idmint-sync.service",
                 EXAMPLES + "/nginx/idmint.conf", EXAMPLES + "/lighttpd/idmint.conf",
                 EXAMPLES + "/apache/idmint-proxy-fcgi.conf",
                 "/usr/share/man/man8/idmint.8.gz", "/usr/share/man/man8/idmint-reload.8.gz",
                 "/usr/share/man/man5/idmint.conf.5.gz"]:
        check(os.path.exists(path), "deb: installs %s" % path)
    check(os.path.islink("/etc/systemd/system/sockets.target.wants/idmint.socket"),
          "deb: the socket is enabled")
    check(not os.path.lexists("/etc/systemd/system/multi-user.target.wants/idmint-sync.service"),
          "deb: the cluster sync process is installed but not enabled")
    running = [p for p in map(int, filter(str.isdigit, os.listdir("/proc")))
               if os.path.exists("/proc/%d/exe" % p)
               and servers.pid_alive(p) and exe(p) == "/usr/bin/idmint"]
    check(not running, "deb: nothing started on install: %r" % running)


def uid_of_user(name):
    return pwd.getpwnam(name).pw_uid


def exe(pid):
    try:
        return os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return ""


def nginx_from_example(tmp, sock_path):
    """nginx (workers as www-data) with the installed example's server
    block, on a free port instead of 8080."""
    port = servers.free_port()
    with open(EXAMPLES + "/nginx/idmint.conf") as f:
        site = f.read()
    check_sock = "unix:%s;" % sock_path in site
    site = site.replace("listen 127.0.0.1:8080;", "listen 127.0.0.1:%d;" % port)
    site = site.replace("include fastcgi_params;", "include /etc/nginx/fastcgi_params;")
    with open(os.path.join(tmp, "site.conf"), "w") as f:
        f.write(site)
    os.makedirs(os.path.join(tmp, "nginx"), exist_ok=True)
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write("daemon off;\nuser www-data www-data;\nworker_processes 1;\n"
                "pid %(d)s/nginx.pid;\nerror_log %(d)s/nginx.err;\n"
                "events { worker_connections 64; }\nhttp {\n\taccess_log off;\n"
                "\tclient_body_temp_path %(d)s/nginx/body;\n"
                "\tfastcgi_temp_path %(d)s/nginx/fastcgi;\n"
                "\tproxy_temp_path %(d)s/nginx/proxy;\n"
                "\tuwsgi_temp_path %(d)s/nginx/uwsgi;\n"
                "\tscgi_temp_path %(d)s/nginx/scgi;\n"
                "\tinclude %(d)s/site.conf;\n}\n" % {"d": tmp})
    p = subprocess.Popen(["nginx", "-e", os.path.join(tmp, "nginx.err"), "-p", tmp,
                          "-c", conf], stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(tmp, "nginx.out"), "ab"))
    servers.wait_for(lambda: servers.port_open(port) or p.poll() is not None, "nginx")
    return p, "http://127.0.0.1:%d" % port, check_sock


def serve(check, tmp):
    """The installed service's commands, exactly, behind nginx."""
    service = unitexec.parse_unit(UNITDIR + "/idmint.service")
    sock_unit = unitexec.parse_unit(UNITDIR + "/idmint.socket")
    env = unitexec.service_env(service)
    p = ng = sock = None
    try:
        unitexec.directories(service)
        sock, path = unitexec.listen(sock_unit)
        token = sh(["runuser", "-u", "idmint", "--", "/usr/sbin/idmintctl", "add",
                    "deb_test"], env=env).stdout.strip()
        check(token.startswith("idm_"), "deb: idmintctl add as the idmint user")
        # The socket unit keeps its own copy open, as this test does.
        pre, p = unitexec.start(service, sock, env, os.path.join(tmp, "journal.log"))
        check(pre is not None and pre.returncode == 0,
              "deb: ExecStartPre (idmint -t) exits 0 as idmint")
        if p is None:
            return
        n = int(unitexec.command(service, "ExecStart")[2])
        servers.wait_for(lambda: len([c for c in servers.children(p.pid)
                                      if servers.worker_ready(c)]) == n, "the pool", 60)
        kids = servers.children(p.pid)
        check({uid_of(c) for c in kids} == {uid_of_user("idmint")} and
              {exe(c) for c in kids} == {"/usr/bin/idmint"},
              "deb: %d workers of /usr/bin/idmint run as idmint" % n)
        ng, base, same_sock = nginx_from_example(tmp, path)
        check(same_sock, "deb: the nginx example points at the socket unit's path")
        body = json.dumps({"username": "deb_test", "token": token, "type": "uuid"})
        r = harness.request(base, "POST", "/", body, {"Content-Type": "application/json"})
        check(r.status == 200 and r.json and harness.UUID4.fullmatch(r.json.get("id", "")),
              "deb: an ID minted through nginx: %d %r" % (r.status, r.body[:200]))
        r = harness.request(base, "GET", "/healthz")
        check(r.status == 200 and r.json and r.json.get("version") == harness.HEALTHZ["version"],
              "deb: /healthz reports the package's version: %r" % r.body[:100])
        # systemctl reload: the unit's ExecReload, as idmint, whose workers
        # are not dumpable (idmint-reload reads only what it may).
        t = time.monotonic()
        rl = unitexec.reload(service, sock, env, p.pid)
        print("ops: deb: ExecReload (idmint-reload) of %d workers as idmint: %.1f s"
              % (n, time.monotonic() - t))
        check(rl.returncode == 0 and rl.stdout.count("replaced by") == n,
              "deb: ExecReload as idmint replaces the %d workers: rc %d %r %r"
              % (n, rl.returncode, rl.stdout[-300:], rl.stderr[-300:]))
        r = harness.request(base, "POST", "/", body, {"Content-Type": "application/json"})
        check(r.status == 200, "deb: an ID minted after the reload: %d" % r.status)
    finally:
        servers.stop_proc(p)
        if p is not None:
            check(p.returncode == 0 and not servers.children(p.pid),
                  "deb: SIGTERM to the main process stops the pool: %r" % p.returncode)
        servers.stop_proc(ng)
        if sock is not None:
            sock.close()
        shutil.rmtree("/run/idmint", ignore_errors=True)


def install_serve_purge(check, tmp, deb):
    """Under the lock: the machine must not have idmint already, and is
    left as it was found."""
    before = machine_state()
    if before["package"] or before["user"] or before["files"]:
        check(False, "deb: this machine already has idmint installed or its files: "
              "%r; dpkg --purge idmint first" % before)
        return
    try:
        t = time.monotonic()
        p = sh(["dpkg", "-i", deb])
        check(p.returncode == 0, "deb: dpkg -i: %s" % (p.stdout + p.stderr)[-800:])
        print("ops: deb: dpkg -i took %.1f s" % (time.monotonic() - t))
        if p.returncode == 0:
            t = time.monotonic()
            check_installed(check)
            verify(check, UNITDIR + "/idmint.socket", UNITDIR + "/idmint.service",
                   "installed units")
            serve(check, tmp)
            print("ops: deb: checks and serving took %.1f s" % (time.monotonic() - t))
    finally:
        if installed():
            t = time.monotonic()
            p = sh(["dpkg", "--purge", "idmint"])
            check(p.returncode == 0, "deb: dpkg --purge: %s" % (p.stdout + p.stderr)[-800:])
            print("ops: deb: dpkg --purge took %.1f s" % (time.monotonic() - t))
        after = machine_state()
        check(after == before, "deb: the machine as it was: %r, was %r" % (after, before))


def run(check):
    if os.geteuid() != 0:
        check(False, "deb: needs root (CI runs as root)")
        return
    tmp = tempfile.mkdtemp(prefix="idmint-deb-")
    os.chmod(tmp, 0o755)
    lint = None
    try:
        deb = build(check, tmp)         # in tmp only: no lock needed
        if deb is None:
            return
        lint = lintian_start(deb)
        with servers.Lock(LOCK):
            install_serve_purge(check, tmp, deb)
        t = time.monotonic()
        lintian_end(check, lint)
        print("ops: deb: waited %.1f s more for lintian" % (time.monotonic() - t))
    finally:
        if lint is not None and lint.poll() is None:
            lint.kill()
            lint.wait()
        shutil.rmtree(tmp, ignore_errors=True)
