"""Ready a process for steady work before it takes any: load what every request reads, then
move the long-lived objects out of the garbage collector's way."""

from __future__ import annotations

import gc
import os

SERVER_PROCESS = "BACKEND_SERVER_PROCESS"  # set by ``python -m backend``: this process serves until it exits


def warm_up(platform=None) -> None:
    """Load the catalog, the division table, the registration records when they are local (the
    test environment's fixtures) and the modules a send imports, then ``gc.freeze()`` everything
    alive so far. The fixtures (0.4 s) and the workbench's import (0.4 s) used to land on a
    worker's first send: the dispatch-lag benchmark's worst case.

    A full collection otherwise walks every long-lived object (the app, the catalog, the
    division table ...) and pauses the event loop for tens of milliseconds: exactly the
    requests that land in the latency tail. Frozen objects are never collected; what requests
    allocate still is. Only in server processes: a test session builds many apps in one process.
    """
    from backend.catalog import get_catalog, get_divisions

    get_catalog()
    get_divisions()
    preload = getattr(getattr(platform, "registration", None), "preload", None)
    if preload is not None:
        preload()
    import backend.workbench.connector  # noqa: F401 - what a send imports (Dispatcher.connector)

    if os.environ.get(SERVER_PROCESS):
        gc.collect()
        gc.freeze()
