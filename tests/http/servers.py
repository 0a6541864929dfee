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
        return launch(argv, port, what, self.dir, self.procs)

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
        return self.start(nginx_argv(home, conf), port, what)

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


def launch(argv, port, what, errdir, procs):
    """Start a server that listens on port (stderr to errdir/what.err),
    add it to procs, and wait until it accepts connections."""
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(errdir, what + ".err"), "ab"))
    procs.append(p)
    try:
        wait_for(lambda: port_open(port) or p.poll() is not None, what)
    except RuntimeError:
        p.kill()
        raise
    if p.poll() is not None:
        raise RuntimeError("%s exited: see %s/%s.err" % (what, errdir, what))
    return "http://127.0.0.1:%d" % port


def nginx_argv(home, conf):
    return ["nginx", "-e", os.path.join(home, "nginx.err"), "-p", home, "-c", conf]


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


PG_BIN = os.environ.get("IDMINT_PG_BIN", "/usr/lib/postgresql/15/bin")


class Postgres:
    """A private PostgreSQL in a temporary directory, for cluster mode: unix
    socket only (listen_addresses=''), no fsync.  The server refuses to
    run as root, so as root it runs as nobody, in a directory nobody owns.
    It is our child, started through setpriv --pdeathsig: if the process
    that started it dies, however, the server gets SIGINT (a fast
    shutdown) and goes too.  stop() and start() again keep the data."""

    def __init__(self, base=None):
        self.dir = tempfile.mkdtemp(prefix="idmint-pg-", dir=base)
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "postgres.log")
        self.proc = None
        self.drop = []
        if os.geteuid() == 0:
            os.chown(self.dir, 65534, 65534)
            self.drop = ["--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        os.chmod(self.dir, 0o700)
        self.conninfo = "host=%s dbname=postgres user=idmint" % self.dir
        self.run([os.path.join(PG_BIN, "initdb"), "-D", self.data, "-U", "idmint",
                  "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"])

    def run(self, argv, **kw):
        return subprocess.run(["setpriv"] + self.drop + argv, check=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              timeout=120, **kw)

    def start(self):
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(
            ["setpriv"] + self.drop + ["--pdeathsig", "INT",
             os.path.join(PG_BIN, "postgres"), "-D", self.data,
             "-c", "listen_addresses=", "-c", "unix_socket_directories=" + self.dir,
             "-c", "fsync=off", "-c", "full_page_writes=off",
             "-c", "synchronous_commit=off", "-c", "max_connections=60"],
            stdout=log, stderr=log)
        log.close()
        sock = os.path.join(self.dir, ".s.PGSQL.5432")
        wait_for(lambda: self.ready(sock) or self.proc.poll() is not None,
                 "PostgreSQL to accept connections", 30)
        if self.proc.poll() is not None:
            raise RuntimeError("PostgreSQL exited: see " + self.log)

    def ready(self, sock):
        if not os.path.exists(sock):
            return False
        p = subprocess.run([os.path.join(PG_BIN, "pg_isready"), "-q", "-h", self.dir,
                            "-U", "idmint", "-d", "postgres"], timeout=10)
        return p.returncode == 0

    def stop(self, mode=signal.SIGINT):
        """SIGINT: a fast shutdown; SIGQUIT: an immediate one (a crash)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(mode)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def psql(self, sql):
        """One query's rows, as lists of strings (psql, unaligned)."""
        p = subprocess.run(["psql", "-X", "-qAt", "-F", "\t", "-h", self.dir, "-U", "idmint",
                            "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql],
                           capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            raise RuntimeError("psql: %s" % p.stderr)
        return [l.split("\t") for l in p.stdout.splitlines() if l]

    def close(self, keep=False):
        self.stop()
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)


class Node:
    """One node of a cluster: a store, a spawn-fcgi pool on a socket of its
    own, and its sync process (idmint --sync), all with one config."""

    def __init__(self, cluster, name, workers, conf):
        self.cluster = cluster
        self.name = name
        self.dir = os.path.join(cluster.dir, name)
        os.makedirs(self.dir)
        self.db = os.path.join(self.dir, "db")
        self.sock = os.path.join(self.dir, "idmint.sock")
        self.conf = os.path.join(self.dir, "idmint.conf")
        self.log = os.path.join(self.dir, "idmint.log")
        with open(self.conf, "w") as f:
            f.write("db = %s\nlog = %s\nlog_level = info\nflush_ms = 50\n"
                    "cluster = %s\nnode_name = %s\n%s"
                    % (self.db, self.log, cluster.pg.conninfo, name, conf))
        self.env = dict(os.environ, IDMINT_CONF=self.conf)
        self.env.pop("IDMINT_DB", None)
        self.workers = workers
        self.pool_pids = []
        self.sync = None

    def start_sync(self):
        self.sync = subprocess.Popen([self.cluster.binary, "--sync"], env=self.env,
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "sync.err"), "ab"))

    def start_pool(self, sock=None, n=None):
        """spawn-fcgi -F n on sock (the node's own by default); its pids."""
        sock = sock or self.sock
        pidfile = sock + ".pid"
        with open(os.path.join(self.dir, "pool.err"), "ab") as log:
            subprocess.run(["spawn-fcgi", "-s", sock, "-F", str(n or self.workers),
                            "-P", pidfile, "--", self.cluster.binary], env=self.env,
                           check=True, stdout=subprocess.DEVNULL, stderr=log, timeout=30)
        wait_for(lambda: unix_open(sock), "the pool of node " + self.name)
        with open(pidfile) as f:
            pids = [int(x) for x in f.read().split()]
        self.pool_pids += pids
        return pids

    def ctl(self, *args, check=True):
        """idmintctl with this node's config: its CompletedProcess."""
        p = subprocess.run([self.cluster.ctlbin] + list(args), env=self.env,
                           capture_output=True, text=True, timeout=60)
        if check and p.returncode != 0:
            raise RuntimeError("idmintctl %s: %s" % (" ".join(args), p.stderr))
        return p

    def stop(self):
        stop_pids(self.pool_pids, force=True)
        self.pool_pids = []
        stop_proc(self.sync)


class Cluster:
    """A private PostgreSQL, N nodes, and one nginx in front with the
    nodes' sockets in one upstream, round robin (access log: upstream and
    status of every request)."""

    def __init__(self, binary, ctlbin, names=("a", "b", "c"), workers=4, conf="",
                 keepalive=2, access_log=True):
        self.binary = binary
        self.access_log = access_log
        self.ctlbin = ctlbin
        self.dir = tempfile.mkdtemp(prefix="idmint-cluster-")
        self.procs = []
        self.keepalive = keepalive
        self.pg = Postgres()
        self.nodes = []
        self.conf = conf
        self.pg.start()
        for name in names:
            self.add_node(name, workers)

    def add_node(self, name, workers):
        n = Node(self, name, workers, self.conf)
        self.nodes.append(n)
        return n

    def start(self, port=None):
        self.nodes[0].ctl("cluster", "init")
        for n in self.nodes:
            n.start_sync()
            n.start_pool()
        return self.nginx(port)

    def nginx(self, port=None):
        port = port or free_port()
        os.makedirs(os.path.join(self.dir, "nginx"), exist_ok=True)
        with open(os.path.join(HERE, "nginx-cluster.conf.in")) as f:
            text = f.read()
        user = "user root root;" if os.geteuid() == 0 else ""
        ups = "".join("\t\tserver unix:%s max_fails=0;\n" % n.sock
                      for n in self.nodes)
        self.access = os.path.join(self.dir, "access.log")
        log = "access_log %s upstream;" % self.access if self.access_log else "access_log off;"
        for k, v in {"PORT": port, "DIR": self.dir, "USERLINE": user, "SERVERS": ups,
                     "KEEPALIVE": self.keepalive, "ACCESSLOG": log}.items():
            text = text.replace("@" + k + "@", str(v))
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(text)
        self.base = launch(nginx_argv(self.dir, conf), port, "nginx", self.dir, self.procs)
        self.port = port
        return self.base

    def served(self):
        """Requests per node and status, from nginx's access log:
        {node name: Counter({status: n})}."""
        from collections import Counter
        by_sock = {n.sock: n.name for n in self.nodes}
        out = {n.name: Counter() for n in self.nodes}
        with open(self.access) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2 and parts[0].startswith("unix:"):
                    name = by_sock.get(parts[0][5:])
                    if name is not None:
                        out[name][int(parts[1])] += 1
        return out

    def stop_all(self, keep=False):
        for p in self.procs:
            stop_proc(p)
        self.procs = []
        for n in self.nodes:
            n.stop()
        self.pg.close(keep)
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)
