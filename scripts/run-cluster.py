"""scripts/run --cluster: a private PostgreSQL and three idmint nodes (each
with its own store, a pool of two workers and its sync process) behind
one nginx on 127.0.0.1:PORT, round robin, in the foreground.  Everything
lives in temporary directories and goes when it stops; Ctrl-C (or
SIGTERM) stops everything it started.

    python3 scripts/run-cluster.py IDMINT IDMINTCTL PORT   (scripts/run does this)
"""
import os
import signal
import sys
import time

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(top, "tests", "http"))
import servers  # noqa: E402

binary, ctlbin, port = sys.argv[1], sys.argv[2], int(sys.argv[3])


def stop(sig, frame):
    raise KeyboardInterrupt


def main():
    # Both, explicitly: a shell may have started us with SIGINT ignored.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    cl = None
    try:
        print("starting PostgreSQL and three nodes ...", flush=True)
        cl = servers.Cluster(binary, ctlbin, workers=2, keepalive=1)
        base = cl.start(port)
        a = cl.nodes[0]
        token = a.ctl("add", "demo", "--label", "scripts/run --cluster demo key").stdout.strip()
        conf = a.conf
        print("""
idmint is serving on %(base)s/ as a cluster: nodes a, b, c behind one nginx
(round robin), each with its own store and sync process; PostgreSQL at
%(pg)s.  Directories: %(dir)s, %(pgdir)s (removed when it stops).

Mint an ID with the demo key:
  curl -s -X POST %(base)s/ -H 'Content-Type: application/json' \\
    -d '{"username":"demo","token":"%(token)s","type":"snowflake"}'

The cluster, as node a sees it (any node's configuration will do):
  IDMINT_CONF=%(conf)s %(ctl)s cluster status
  IDMINT_CONF=%(conf)s %(ctl)s usage demo --by-node

Press Ctrl-C to stop.""" % {"base": base, "pg": cl.pg.conninfo, "dir": cl.dir,
                             "pgdir": cl.pg.dir, "token": token, "conf": conf,
                             "ctl": ctlbin}, flush=True)
        while all(p.poll() is None for p in cl.procs) and \
                all(n.sync.poll() is None for n in cl.nodes):
            time.sleep(0.5)
        print("scripts/run: a process of the cluster exited; see", cl.dir, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if cl is not None:
            cl.stop_all()
        print("\nstopped.")


if __name__ == "__main__":
    sys.exit(main())
