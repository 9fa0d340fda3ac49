"""Ready a process for steady work before it takes any: load what every request reads, then
move the long-lived objects out of the garbage collector's way."""

from __future__ import annotations

import gc
import os

SERVER_PROCESS = "BACKEND_SERVER_PROCESS"  # set by ``python -m backend``: this process serves until it exits


def warm_up() -> None:
    """Load the catalog and the division table, then ``gc.freeze()`` everything alive so far.

    A full collection otherwise walks every long-lived object (the app, the catalog, the
    division table ...) and pauses the event loop for tens of milliseconds: exactly the
    requests that land in the latency tail. Frozen objects are never collected; what requests
    allocate still is. Only in server processes: a test session builds many apps in one process.
    """
    from backend.catalog import get_catalog, get_divisions

    get_catalog()
    get_divisions()
    if os.environ.get(SERVER_PROCESS):
        gc.collect()
        gc.freeze()
