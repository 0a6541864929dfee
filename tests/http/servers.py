"""Real web servers in front of a real idmint pool, on loopback only.

Each server gets its own temporary directory and a free port on
127.0.0.1; readiness is polled with a bound, never waited for with a
sleep.  Everything started here is stopped by stop_all().
"""
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MULTIWATCH = shutil.which("multiwatch") or "/usr/bin/multiwatch"


class Resp:
    """An HTTP answer: status, headers by lower-case name, body, and the
    body parsed as JSON (None when it is not JSON)."""
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, what, timeout=15.0):
    """Poll pred() until it is true, for at most `timeout` seconds."""
    end = time.monotonic() + timeout
    delay = 0.005
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
    raise RuntimeError("timed out waiting for " + what)


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def unix_open(path):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


class Stack:
    def __init__(self, binary, workers=4, conf="", keepalive=2):
        self.binary = binary
        self.dir = tempfile.mkdtemp(prefix="idmint-http-")
        self.db = os.path.join(self.dir, "db")
        self.sock = os.path.join(self.dir, "idmint.sock")
        self.conf = os.path.join(self.dir, "idmint.conf")
        with open(self.conf, "w") as f:
            f.write("db = %s\nlog_level = info\nlog = %s/idmint.log\nflush_ms = 50\n%s"
                    % (self.db, self.dir, conf))
        self.env = dict(os.environ, IDMINT_CONF=self.conf)
        self.workers = workers
        self.keepalive = keepalive      # nginx's kept FastCGI connections
        self.procs = []
        self.pidfile = os.path.join(self.dir, "pool.pid")
        self.pool_pids = []

    # -- the FastCGI pool -------------------------------------------------
    def start_pool(self):
        """The default pool (README, etc/): spawn-fcgi makes the socket and
        multiwatch keeps `workers` workers alive on it.  pool_pids holds
        multiwatch's pid; returns once every worker is past start-up."""
        log = open(os.path.join(self.dir, "pool.err"), "ab")
        subprocess.run(["spawn-fcgi", "-s", self.sock, "-P", self.pidfile, "--",
                        MULTIWATCH, "-f", str(self.workers), "--", self.binary],
                       env=self.env, check=True, stdout=subprocess.DEVNULL,
                       stderr=log)
        wait_for(lambda: unix_open(self.sock), "the idmint pool")
        with open(self.pidfile) as f:
            self.pool_pids = [int(x) for x in f.read().split()]
        wait_for(lambda: len(self.workers_ready()) == self.workers,
                 "%d workers to start" % self.workers, 60)

    def workers_now(self):
        """The supervisor's children: the workers, live or starting."""
        return children(self.pool_pids[0]) if self.pool_pids else []

    def workers_ready(self):
        return [p for p in self.workers_now() if worker_ready(p)]

    def stop_pool(self):
        stop_pids(self.pool_pids)
        self.pool_pids = []
        if os.path.exists(self.sock):
            os.unlink(self.sock)

    # -- front ends ---------------------------------------------------------
    def render(self, name, out_dir=None, **kw):
        """Fill in the template `name`; written to out_dir (the stack's own
        directory by default) without its .in."""
        with open(os.path.join(HERE, name)) as f:
            text = f.read()
        for k, v in kw.items():
            text = text.replace("@" + k + "@", str(v))
        out = os.path.join(out_dir or self.dir, name.replace(".in", ""))
        with open(out, "w") as f:
            f.write(text)
        return out

    def start(self, argv, port, what):
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(self.dir, what + ".err"), "ab"))
        self.procs.append(p)
        try:
            wait_for(lambda: port_open(port) or p.poll() is not None, what)
        except RuntimeError:
            p.kill()
            raise
        if p.poll() is not None:
            raise RuntimeError("%s exited: see %s/%s.err" % (what, self.dir, what))
        return "http://127.0.0.1:%d" % port

    def lighttpd(self):
        port = free_port()
        conf = self.render("lighttpd.conf.in", PORT=port, DIR=self.dir, SOCK=self.sock)
        return self.start(["lighttpd", "-D", "-f", conf], port, "lighttpd")

    def nginx(self, home=None, sock=None, keepalive=None, what="nginx"):
        """nginx in front of the stack's pool; or, given them, in front of
        another pool's socket, with a directory and a name of its own."""
        home = home or self.dir
        port = free_port()
        os.makedirs(os.path.join(home, "nginx"), exist_ok=True)
        # As root, nginx's workers would drop to nobody and lose the socket.
        user = "user root root;" if os.geteuid() == 0 else ""
        conf = self.render("nginx.conf.in", out_dir=home, PORT=port, DIR=home,
                           SOCK=sock or self.sock, USERLINE=user,
                           KEEPALIVE=self.keepalive if keepalive is None else keepalive)
        return self.start(["nginx", "-e", os.path.join(home, "nginx.err"),
                           "-p", home, "-c", conf], port, what)

    def apache(self):
        port = free_port()
        mods = "/usr/lib/apache2/modules"
        user = ""
        if os.geteuid() == 0:
            # Apache will not serve as root: its children run as www-data,
            # who must reach the socket.
            user = "User www-data\nGroup www-data"
            os.chmod(self.dir, 0o711)
            os.chmod(self.sock, 0o666)
        conf = self.render("apache.conf.in", PORT=port, DIR=self.dir,
                           SOCK=self.sock, MODS=mods, USERLINE=user)
        return self.start(["apache2", "-f", conf, "-DFOREGROUND"], port, "apache")

    def stop_all(self, keep=False):
        for p in self.procs:
            stop_proc(p)
        self.procs = []
        if self.pool_pids:
            self.stop_pool()
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def stop_proc(p):
    """SIGTERM a child we started, SIGKILL it after 10 s, and reap it."""
    if p is None or p.poll() is not None:
        return
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def signal_pid(pid, sig):
    """Send sig to pid, if it is still there."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def stop_pids(pids, force=False):
    """SIGTERM processes by pid and wait up to 10 s for each to go.  One
    that stays is SIGKILLed when force, else an exception."""
    for pid in pids:
        signal_pid(pid, signal.SIGTERM)
    for pid in pids:
        try:
            wait_for(lambda: not pid_alive(pid), "worker %d to stop" % pid, 10)
        except RuntimeError:
            if not force:
                raise
            signal_pid(pid, signal.SIGKILL)


class Lock:
    """An exclusive flock(2) on path, held for a with block: for tests of
    machine-wide things (a system user, an installed package) that two
    test runs on one machine must not do at once."""

    def __init__(self, path, timeout=900):
        self.path, self.timeout, self.f = path, timeout, None

    def __enter__(self):
        self.f = open(self.path, "a")

        def take():
            try:
                fcntl.flock(self.f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                return False
        wait_for(take, "the lock " + self.path, self.timeout)
        return self

    def __exit__(self, *a):
        fcntl.flock(self.f, fcntl.LOCK_UN)
        self.f.close()


def ctl_run(ctlbin, db, *args, check=True):
    """Run idmintctl on a store; its CompletedProcess, or (when check) an
    exception with its stderr if it failed."""
    p = subprocess.run([ctlbin, "-d", db] + list(args), capture_output=True,
                       text=True, timeout=30)
    if check and p.returncode != 0:
        raise RuntimeError("idmintctl %s: %s" % (" ".join(args), p.stderr))
    return p


def ctl(ctlbin, db, *args):
    """Run idmintctl on a store; its stdout, or an exception with stderr."""
    return ctl_run(ctlbin, db, *args).stdout.strip()


def children(pid):
    """The pids whose parent is pid (alive, not zombies)."""
    try:    # the kernel's own list, where it keeps one (CONFIG_PROC_CHILDREN)
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split() if pid_alive(int(x))]
    except OSError:
        pass
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                rest = f.read().rsplit(") ", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(rest[1]) == pid and rest[0] != "Z":
            out.append(int(d))
    return out


def worker_ready(pid):
    """Is the worker past start-up (store and shared table open)?  It
    catches its stop signals only from then on: SigCgt in its status, which
    idmint-reload(8) reads too."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    except (OSError, ValueError, IndexError):
        pass
    return False


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (our own child) counts as gone.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False
