"""A test hook for crash tests: the process stops itself at a named point. Off unless asked for.

With the environment variable MONITOR_CRASH_POINT=decided, the first Document whose alert decisions
are made stops the process right there, before its alerts are enqueued: it logs `crashpoint.reached`
and sends itself SIGSTOP, for a test to SIGKILL it in that state (tests/crashrig.py). The other
moments a crash test needs are reached from outside (a held page, frozen workers). Not for production.
"""

from __future__ import annotations

import os
import signal
import threading

import structlog

log = structlog.get_logger("monitor.crashpoint")

ENV = "MONITOR_CRASH_POINT"


def reached(point: str, **fields: object) -> None:
    """Stop the process here when MONITOR_CRASH_POINT names `point`."""
    if os.environ.get(ENV) == point:
        log.warning("crashpoint.reached", point=point, **fields)
        # To this thread: it stops before the call returns (a signal to the process may be taken by
        # another thread, and this one would run on a little). It waits here should it ever go on.
        signal.pthread_kill(threading.get_ident(), signal.SIGSTOP)
        threading.Event().wait()
