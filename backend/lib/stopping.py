"""Stopping on SIGTERM while a process is still waiting to start.

A process that starts while PostgreSQL is unreachable waits for it (``backend.db.start``).
uvicorn holds SIGTERM until the app's startup is over, and a worker installs its own handler
only once it runs, so an orchestrator's or systemd's SIGTERM used to wait for the database, or
for the SIGKILL at the end of the grace period. Nothing is open yet that needs closing, so
during such a wait SIGTERM (or SIGINT) ends the process at once, with status 0.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator

log = logging.getLogger("backend")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextlib.contextmanager
def exit_on_stop_signal(waiting_for: str) -> Iterator[None]:
    """Within this block, SIGTERM or SIGINT ends the process at once (status 0); the previous handlers after."""
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield
        return

    def stop(signum: int, _frame: object) -> None:
        log.info("stopped before starting", extra={"waiting_for": waiting_for, "signal": signal.Signals(signum).name})
        for handler in logging.getLogger().handlers:
            with contextlib.suppress(Exception):
                handler.flush()
        sys.stderr.flush()
        os._exit(0)  # no pool, no job, no connection is open yet: nothing to finish or close

    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
