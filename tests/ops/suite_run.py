"""scripts/run on a terminal (a pty), ended every way it can end: Ctrl-C,
lighttpd killed, SIGTERM, SIGHUP and SIGKILL to the script.  Each time,
nothing it started may outlive it: every process that carries this
test's mark in its environment (lighttpd, spawn-fcgi's multiwatch, the
workers, and anything they start) must be gone within 20 s.

scripts/run is given the test build's binaries (IDMINT_BIN,
IDMINTCTL_BIN), a run directory and a port of its own, so it neither
builds nor touches run/ or port 8080.  While it runs (the first time),
the pool is checked to be supervised: a worker killed with SIGKILL comes
back.
"""
import os
import pty
import select
import signal
import tempfile
import time
import uuid

import harness
import servers

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN = os.environ.get("IDMINT_RUN_SCRIPT") or os.path.join(TOP, "scripts", "run")
MARK = "IDMINT_OPS_MARK"


def marked(mark):
    """Every live process whose environment holds our mark."""
    want = ("%s=%s" % (MARK, mark)).encode()
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open("/proc/%s/environ" % d, "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if want in env and servers.pid_alive(int(d)):
            out.append(int(d))
    return out


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


class Term:
    """scripts/run in a session of its own on a pty, like a terminal."""

    def __init__(self, rundir):
        self.mark = uuid.uuid4().hex
        self.port = servers.free_port()
        env = dict(os.environ, IDMINT_PORT=str(self.port), IDMINT_RUN_DIR=rundir,
                   IDMINT_BIN=harness.BIN, IDMINTCTL_BIN=harness.CTL)
        env[MARK] = self.mark
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve("/bin/sh", ["sh", RUN], env)
        self.out = b""
        self.status = None

    def read(self, secs):
        """Read what the terminal shows for up to secs (less at EOF)."""
        end = time.monotonic() + secs
        while time.monotonic() < end:
            r, _, _ = select.select([self.fd], [], [], max(0, end - time.monotonic()))
            if not r:
                break
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            self.out += chunk

    def wait_for_text(self, text, secs):
        end = time.monotonic() + secs
        while text not in self.out and time.monotonic() < end and self.alive():
            self.read(0.2)
        return text in self.out

    def alive(self):
        if self.status is None:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.status = st
        return self.status is None

    def wait_exit(self, secs):
        end = time.monotonic() + secs
        while self.alive() and time.monotonic() < end:
            self.read(0.1)
        self.read(0.2)
        return not self.alive()

    def close(self):
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


def ended(check, how, end, meanwhile=None):
    """Start scripts/run, run meanwhile(check, term), end it with
    end(term), check nothing is left."""
    rundir = tempfile.mkdtemp(prefix="idmint-run-")
    t = Term(rundir)
    left = []
    try:
        up = t.wait_for_text(b"Press Ctrl-C to stop.", 120)
        check(up, "run: %s: scripts/run comes up: %r" % (how, t.out[-600:]))
        if not up:
            return
        pids = marked(t.mark)
        names = sorted(comm(p) for p in pids)
        check(names.count("idmint") == 4 and "lighttpd" in names and "multiwatch" in names,
              "run: %s: lighttpd, multiwatch and 4 workers: %r" % (how, names))
        r = harness.request("http://127.0.0.1:%d" % t.port, "GET", "/healthz")
        check(r.status == 200, "run: %s: serves /healthz" % how)
        if meanwhile:
            meanwhile(check, t)
        end(t)
        check(t.wait_exit(30), "run: %s: the script exits" % how)
        try:
            servers.wait_for(lambda: not marked(t.mark), "everything to stop", 20)
        except RuntimeError:
            pass
        left = marked(t.mark)
        check(not left, "run: %s: nothing it started outlives it: %r"
              % (how, [(p, comm(p)) for p in left]))
    finally:
        for p in left:
            servers.signal_pid(p, signal.SIGKILL)
        t.close()
        servers.shutil.rmtree(rundir, ignore_errors=True)


def ctrl_c(t):
    os.write(t.fd, b"\x03")


def kill_lighttpd(t):
    for p in marked(t.mark):
        if comm(p) == "lighttpd":
            os.kill(p, signal.SIGKILL)


def signal_script(sig):
    return lambda t: os.kill(t.pid, sig)


def worker_comes_back(check, t):
    """While scripts/run serves: SIGKILL a worker, multiwatch replaces it."""
    def workers():
        return [p for p in marked(t.mark) if comm(p) == "idmint"]
    first = workers()
    os.kill(first[0], signal.SIGKILL)
    try:
        servers.wait_for(lambda: first[0] not in workers() and len(
            [p for p in workers() if servers.worker_ready(p)]) == 4,
            "the worker to come back", 20)
    except RuntimeError:
        pass
    now = workers()
    check(len(now) == 4 and first[0] not in now,
          "run: a killed worker comes back: %r -> %r" % (first, now))


def run(check):
    for how, end, meanwhile in [
            ("Ctrl-C", ctrl_c, worker_comes_back),
            ("lighttpd killed", kill_lighttpd, None),
            ("SIGTERM to the script", signal_script(signal.SIGTERM), None),
            ("SIGHUP to the script", signal_script(signal.SIGHUP), None),
            ("SIGKILL to the script", signal_script(signal.SIGKILL), None)]:
        t0 = time.monotonic()
        ended(check, how, end, meanwhile)
        print("ops: run: %s: %.1f s" % (how, time.monotonic() - t0), flush=True)
