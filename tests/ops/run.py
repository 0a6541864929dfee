#!/usr/bin/env python3
"""idmint as an operator runs it: a supervised pool, rolling restarts,
the systemd units, and scripts/run.

    python3 tests/ops/run.py [SUITE ...]

Each SUITE is a module here (suite_*.py) with a run(check) function; the
default is every one.  Prints "N passed, N failed" and exits non-zero on
any failure.  The helpers and counters are the HTTP tests' (tests/http).
Every process a test starts is stopped before it ends.
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "http"))
import harness  # noqa: E402

SUITES = ["suite_pool", "suite_systemd", "suite_run"]


def main():
    for name in sys.argv[1:] or SUITES:
        t = time.monotonic()
        try:
            __import__(name).run(harness.check)
        except Exception as e:  # noqa: BLE001 -- a suite that dies fails
            harness.check(False, "%s: %r" % (name, e))
        print("ops: %s took %.1f s" % (name, time.monotonic() - t), flush=True)
    print("%d passed, %d failed" % (harness.passed, harness.failed))
    return 1 if harness.failed else 0


if __name__ == "__main__":
    sys.exit(main())
