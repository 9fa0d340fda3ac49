"""The environment variable that marks a server process (``python -m backend`` sets it; uvicorn's
worker processes inherit it): only there does ``backend.app.warm_up`` freeze the long-lived objects
out of the garbage collector's way, and ``backend.db`` tunes for serving."""

from __future__ import annotations

SERVER_PROCESS = "BACKEND_SERVER_PROCESS"  # set by ``python -m backend``: this process serves until it exits
