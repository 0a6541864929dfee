"""The systemd units (etc/systemd): they say what the README promises,
systemd-analyze verify accepts them, and the service's own command
lines, run as its user with a listening socket on standard input the way
systemd passes it, serve requests through nginx.

The test machines do not run systemd as PID 1, so systemd itself never
starts these units here: unitexec.py runs ExecStartPre= and ExecStart=
as systemd would, and systemd-analyze verify (which works offline)
checks every option parses.  The sandboxing options are checked for
presence and printed with systemd-analyze's exposure score; only a
machine running systemd applies them.  The Debian package test
(suite_deb.py) does the same against the installed units.
"""
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time

import harness
import servers
import unitexec

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNITS = os.path.join(TOP, "etc", "systemd")
RELOAD = os.path.join(TOP, "src", "idmint-reload")
LOCK = "/run/lock/idmint-ops-test.lock"     # the idmint user is machine-wide

# What the units must say: issue #11's list, and what makes them work.
WANT_SERVICE = {
    "User": "idmint", "Group": "idmint", "StandardInput": "socket",
    "StandardOutput": "journal", "StandardError": "journal",
    "StateDirectory": "idmint", "StateDirectoryMode": "0700",
    "RuntimeDirectory": "idmint", "RuntimeDirectoryPreserve": "yes",
    "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
    "PrivateTmp": "yes", "PrivateDevices": "yes",
    "RestrictAddressFamilies": "AF_UNIX", "SystemCallFilter": "@system-service",
    "MemoryDenyWriteExecute": "yes", "Restart": "on-failure", "KillMode": "mixed",
    "ExecStart": "/usr/bin/multiwatch -f 16 -- /usr/bin/idmint",
    "ExecStartPre": "/usr/bin/idmint -t",
    "ExecReload": "/usr/sbin/idmint-reload $MAINPID",
}
WANT_SYNC = {
    "User": "idmint", "Group": "idmint", "StateDirectory": "idmint",
    "ExecStart": "/usr/bin/idmint --sync", "ExecStartPre": "/usr/bin/idmint -t",
    "PartOf": "idmint.service", "NoNewPrivileges": "yes", "ProtectSystem": "strict",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6", "Restart": "on-failure",
    "KillSignal": "SIGTERM",
}
WANT_SOCKET = {"ListenStream": "/run/idmint/idmint.sock", "SocketUser": "idmint",
               "SocketGroup": "www-data", "SocketMode": "0660", "Accept": "no"}


def check_keys(check, unit, want, what):
    bad = {k: unit.get(k) for k, v in want.items() if unitexec.one(unit, k) != v}
    check(not bad, "%s: says what it must: %r" % (what, bad))


def verify(check, socket_path, service_path, what, env=None, also=()):
    """systemd-analyze verify: exit 0 and not a word (warnings too)."""
    p = subprocess.run(["systemd-analyze", "verify", socket_path, service_path] + list(also),
                       capture_output=True, text=True, timeout=120, env=env)
    check(p.returncode == 0 and not (p.stdout + p.stderr).strip(),
          "%s: systemd-analyze verify: rc %d %s" % (what, p.returncode,
                                                    (p.stdout + p.stderr)[-600:]))
    p = subprocess.run(["systemd-analyze", "security", "--offline=true", service_path],
                       capture_output=True, text=True, timeout=120, env=env)
    m = re.search(r"Overall exposure level for \S+: ([\d.]+ \w+)", p.stdout)
    print("ops: %s: systemd-analyze security: exposure %s"
          % (what, m.group(1) if m else "not reported (%s)" % p.stderr.strip()[-200:]))


def installed_units(tmp):
    """The units as `make install` writes them for this build (its paths
    instead of /usr/bin and /usr/sbin), and their manual pages on a
    MANPATH, so that verify finds every Documentation= page."""
    # The unit's user runs them: copies in a directory it can reach (the
    # checkout may sit under a private one, as `mktemp -d` makes it).
    os.chmod(tmp, 0o755)
    bindir = os.path.join(tmp, "bin")
    os.makedirs(bindir)
    os.chmod(bindir, 0o755)
    repl = {}
    for unit_path, ours in (("/usr/bin/idmint", harness.BIN),
                            ("/usr/sbin/idmint-reload", RELOAD),
                            ("/usr/sbin/idmintctl", harness.CTL)):
        repl[unit_path] = os.path.join(bindir, os.path.basename(ours))
        shutil.copy2(ours, repl[unit_path])
        os.chmod(repl[unit_path], 0o755)
    for name in ("idmint.service", "idmint.socket", "idmint-sync.service"):
        with open(os.path.join(UNITS, name)) as f:
            text = f.read()
        for a, b in repl.items():
            text = text.replace(a, b)
        with open(os.path.join(tmp, name), "w") as f:
            f.write(text)
    for page in os.listdir(os.path.join(TOP, "man")):
        d = os.path.join(tmp, "man", "man" + page.rsplit(".", 1)[1])
        os.makedirs(d, exist_ok=True)
        os.symlink(os.path.join(TOP, "man", page), os.path.join(d, page))
    return repl


class TempUser:
    """The unit's user, made for the test when the machine has none, and
    removed after it (the machine is left as it was)."""

    def __init__(self, name):
        self.name, self.made = name, False

    def __enter__(self):
        try:
            pwd.getpwnam(self.name)
        except KeyError:
            subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                            "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
                            self.name], check=True, timeout=60)
            self.made = True
        return pwd.getpwnam(self.name)

    def __exit__(self, *a):
        if self.made:
            subprocess.run(["userdel", self.name], timeout=60)
            subprocess.run(["groupdel", self.name], stderr=subprocess.DEVNULL, timeout=60)


def nginx_as_www_data(stack, sock):
    """nginx whose workers run as www-data, as Debian's do: they reach the
    socket through its group only (SocketGroup=www-data, mode 0660)."""
    port = servers.free_port()
    os.makedirs(os.path.join(stack.dir, "nginx"), exist_ok=True)
    conf = stack.render("nginx.conf.in", PORT=port, DIR=stack.dir, SOCK=sock,
                        USERLINE="user www-data www-data;", KEEPALIVE=2)
    return stack.start(["nginx", "-e", os.path.join(stack.dir, "nginx.err"),
                        "-p", stack.dir, "-c", conf], port, "nginx")


def uid_of(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[2])     # the effective uid
    return -1


def serve_through_nginx(check, unit, sock_unit, pw, env_extra, repl, what, store):
    """Start the unit's commands on a socket made as the socket unit says,
    mint an ID through nginx, stop it as systemd would (SIGTERM to the
    main process: KillMode=mixed), and check nothing is left.  store is
    the db directory (the configuration's)."""
    stack = servers.Stack(harness.BIN)
    os.chmod(stack.dir, 0o711)
    run_dir = os.path.join(stack.dir, "run")
    sock, path = unitexec.listen(sock_unit, os.path.join(run_dir, "idmint.sock"))
    env = unitexec.service_env(unit, env_extra)
    log = os.path.join(stack.dir, "journal.log")
    p = None
    try:
        # The socket unit keeps its own copy open, as this test does.
        pre, p = unitexec.start(unit, sock, env, log, repl)
        check(pre is None or pre.returncode == 0, "%s: ExecStartPre (idmint -t) "
              "exits 0 as %s" % (what, pw.pw_name))
        if p is None:
            return
        n = int(unitexec.command(unit, "ExecStart")[2])
        servers.wait_for(lambda: len([c for c in servers.children(p.pid)
                                      if servers.worker_ready(c)]) == n,
                         "%d workers" % n, 120)
        kids = servers.children(p.pid)
        check(len(kids) == n and {uid_of(c) for c in kids} == {pw.pw_uid}
              and uid_of(p.pid) == pw.pw_uid,
              "%s: multiwatch and its %d workers run as %s" % (what, n, pw.pw_name))
        base = nginx_as_www_data(stack, path)
        r = harness.request(base, "GET", "/healthz")
        check(r.status == 200 and r.json == harness.HEALTHZ,
              "%s: /healthz through nginx: %d %r" % (what, r.status, r.body[:200]))
        ctl = repl["/usr/sbin/idmintctl"]
        token = subprocess.run(["runuser", "-u", pw.pw_name, "--", ctl, "-d",
                                store, "add", "unit_user"], capture_output=True,
                               text=True, timeout=60, env=env).stdout.strip()
        body = json.dumps({"username": "unit_user", "token": token, "type": "uuid"})
        r = harness.request(base, "POST", "/", body, {"Content-Type": "application/json"})
        check(r.status == 200 and harness.UUID4.fullmatch(r.json.get("id", "")),
              "%s: mint a UUID through nginx: %d %r" % (what, r.status, r.body[:200]))
        st = os.stat(os.path.join(store, "data.mdb"))
        check(st.st_uid == pw.pw_uid and st.st_mode & 0o077 == 0,
              "%s: the store is the unit user's, private: %o" % (what, st.st_mode))
    finally:
        servers.stop_proc(p)        # SIGTERM to multiwatch alone
        left = servers.children(p.pid) if p else []
        check(p is None or (p.returncode == 0 and not left),
              "%s: SIGTERM to the main process stops the pool (rc %r, left %r)"
              % (what, p and p.returncode, left))
        for c in left:
            servers.signal_pid(c, signal.SIGKILL)
        sock.close()
        stack.stop_all(keep=harness.failed > 0)


def s_units(check):
    service = unitexec.parse_unit(os.path.join(UNITS, "idmint.service"))
    sock_unit = unitexec.parse_unit(os.path.join(UNITS, "idmint.socket"))
    check_keys(check, service, WANT_SERVICE, "idmint.service")
    check_keys(check, sock_unit, WANT_SOCKET, "idmint.socket")
    check_keys(check, unitexec.parse_unit(os.path.join(UNITS, "idmint-sync.service")),
               WANT_SYNC, "idmint-sync.service")
    tmp = tempfile.mkdtemp(prefix="idmint-units-")
    try:
        repl = installed_units(tmp)
        verify(check, os.path.join(tmp, "idmint.socket"), os.path.join(tmp, "idmint.service"),
               "units as installed", dict(os.environ, MANPATH=os.path.join(tmp, "man")),
               also=[os.path.join(tmp, "idmint-sync.service")])
        if os.geteuid() != 0:
            print("ops: units: not root, so the service cannot run as its user here; "
                  "CI runs as root")
            return
        with servers.Lock(LOCK), TempUser(unitexec.one(service, "User")) as pw:
            db = os.path.join(tmp, "db")
            unitexec.make_dir(db, pw.pw_uid, pw.pw_gid, 0o700)
            os.chmod(tmp, 0o711)
            conf = os.path.join(tmp, "idmint.conf")
            with open(conf, "w") as f:
                f.write("db = %s\nlog_level = info\n" % db)
            # The unit's environment, plus where this test's settings are
            # and what the sanitizers of a test build want.
            extra = {"IDMINT_CONF": conf}
            extra.update({k: v for k, v in os.environ.items() if k.endswith("SAN_OPTIONS")})
            serve_through_nginx(check, service, sock_unit, pw, extra, repl,
                                "ExecStart as %s" % pw.pw_name, db)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(check):
    t = time.monotonic()
    s_units(check)
    print("ops: units took %.1f s" % (time.monotonic() - t))
