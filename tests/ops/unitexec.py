"""Run a service unit's commands the way systemd would, on a machine where
systemd is not PID 1 (test machines and containers): ExecStartPre= and
then ExecStart=, as the unit's User= and Group= (no supplementary
groups), with UMask=, Environment= and the environment systemd gives a
system service, working directory /, standard input the listening unix
socket of its .socket unit (made as SocketUser=, SocketGroup=,
SocketMode=, like systemd, in a directory of DirectoryMode=), and
standard output and error to a file (the journal's stand-in).
StateDirectory= and RuntimeDirectory= are made as systemd makes them.

What this cannot do is the sandbox (ProtectSystem=, SystemCallFilter=,
...): systemd-analyze verify checks those options parse, and only a
machine running systemd applies them.
"""
import grp
import os
import pwd
import shlex
import socket
import subprocess


def parse_unit(path):
    """{key: [values]} of a unit file, over all sections."""
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;[" or "=" not in line:
                continue
            k, v = line.split("=", 1)
            out.setdefault(k.strip(), []).append(v.strip())
    return out


def one(unit, key, default=None):
    return unit.get(key, [default])[-1]


def make_dir(path, uid, gid, mode):
    os.makedirs(path, exist_ok=True)
    os.chown(path, uid, gid)
    os.chmod(path, mode)


def listen(sock_unit, path=None, dir_owner=None):
    """The socket of a .socket unit: bound, listening, owned and moded as
    it says.  path overrides ListenStream= (tests in a temporary
    directory); returns (socket, path)."""
    path = path or one(sock_unit, "ListenStream")
    user = one(sock_unit, "SocketUser", "root")
    group = one(sock_unit, "SocketGroup", "root")
    d = os.path.dirname(path)
    if not os.path.isdir(d):
        os.makedirs(d)
        os.chmod(d, int(one(sock_unit, "DirectoryMode", "0755"), 8))
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(socket.SOMAXCONN)
    os.chown(path, pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid)
    os.chmod(path, int(one(sock_unit, "SocketMode", "0666"), 8))
    return s, path


def service_env(unit, extra=None):
    """The environment systemd gives a system service running as User=."""
    pw = pwd.getpwnam(one(unit, "User", "root"))
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "USER": pw.pw_name, "LOGNAME": pw.pw_name, "HOME": pw.pw_dir,
           "SHELL": pw.pw_shell, "LANG": "C.UTF-8"}
    for line in unit.get("Environment", []):
        for kv in shlex.split(line):
            k, v = kv.split("=", 1)
            env[k] = v
    env.update(extra or {})
    return env


def command(unit, key, replace=None):
    """The argv of ExecStart= (or another Exec key), with paths replaced
    as `make install` would for another prefix (replace: {old: new})."""
    argv = shlex.split(one(unit, key))
    return [(replace or {}).get(a, a) for a in argv]


def directories(unit, state_root="/var/lib", run_root="/run"):
    """StateDirectory= and RuntimeDirectory=, made for User= and Group=."""
    pw = pwd.getpwnam(one(unit, "User", "root"))
    gid = grp.getgrnam(one(unit, "Group", pw.pw_name)).gr_gid
    made = []
    for key, root in (("StateDirectory", state_root), ("RuntimeDirectory", run_root)):
        name = one(unit, key)
        if name:
            path = os.path.join(root, name)
            make_dir(path, pw.pw_uid, gid, int(one(unit, key + "Mode", "0755"), 8))
            made.append(path)
    return made


def popen_args(unit, sock, env, log):
    pw = pwd.getpwnam(one(unit, "User", "root"))
    return dict(stdin=sock.fileno(), stdout=log, stderr=subprocess.STDOUT,
                env=env, cwd="/", user=pw.pw_uid,
                group=grp.getgrnam(one(unit, "Group", pw.pw_name)).gr_gid,
                extra_groups=[], umask=int(one(unit, "UMask", "0022"), 8))


def start(unit, sock, env, log_path, replace=None):
    """ExecStartPre= (must exit 0), then ExecStart= in the background:
    (ExecStartPre's CompletedProcess, ExecStart's Popen)."""
    log = open(log_path, "ab")
    kw = popen_args(unit, sock, env, log)
    pre = None
    if "ExecStartPre" in unit:
        pre = subprocess.run(command(unit, "ExecStartPre", replace), timeout=60, **kw)
        if pre.returncode != 0:
            log.close()
            return pre, None
    p = subprocess.Popen(command(unit, "ExecStart", replace), **kw)
    log.close()
    return pre, p


def reload(unit, sock, env, main_pid, replace=None):
    """ExecReload= with $MAINPID, as the unit's user: its CompletedProcess."""
    argv = [str(main_pid) if a == "$MAINPID" else a
            for a in command(unit, "ExecReload", replace)]
    kw = popen_args(unit, sock, env, subprocess.PIPE)
    kw["stderr"] = subprocess.PIPE
    return subprocess.run(argv, text=True, timeout=600, **kw)
