"""Prometheus metrics (prometheus-client): what each process counts, and how it is exposed.

- Every API process counts requests by route template and status, with a latency histogram
  (``metrics_middleware``); connectors count agency calls and errors per system and time them.
- ``GET /metrics`` on the API (kept out of the OpenAPI document; nginx keeps it off the public
  internet) serves those plus gauges read from the database (queue depth, dead jobs, items by
  state, callback lag: ``backend.system.metrics``), recomputed at most every
  ``METRICS_CACHE_SECONDS`` per process so scrapes never flood the database.
- ``API_PROCESSES`` > 1: uvicorn's processes share prometheus-client's multiprocess files
  (``PROMETHEUS_MULTIPROC_DIR``, default ``<DATA_DIR>/metrics``, emptied when the API starts),
  so any process answering a scrape reports the sum of all.
- ``python -m backend worker`` with ``METRICS_PORT`` serves its own registry on that port
  (jobs and agency calls happen there in production).

The mode is chosen from the environment when prometheus-client is first imported, hence
``backend.lib.metrics_mode.prepare_process_metrics`` runs before anything imports this module.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

    from backend.settings import Settings

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "yjs_http_requests", "HTTP requests answered, by route template and status", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "yjs_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template",
    ["method", "route"],
    buckets=_LATENCY_BUCKETS,
)
AGENCY_CALLS = Counter(
    "yjs_agency_calls", "Calls to agency systems, by system, operation and outcome", ["system", "operation", "outcome"]
)
AGENCY_ERRORS = Counter(
    "yjs_agency_call_errors", "Failed calls to agency systems (network, 5xx, bad signature ...)", ["system", "code"]
)
AGENCY_LATENCY = Histogram(
    "yjs_agency_call_duration_seconds", "Duration of calls to agency systems", ["system"], buckets=_LATENCY_BUCKETS
)
CALLBACK_LAG = Histogram(
    "yjs_callback_lag_seconds",
    "From an agency's event (occurred_at) to the platform applying its callback",
    ["system"],
    buckets=(0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0),
)
JOBS_FINISHED = Counter("yjs_jobs_finished", "Background jobs run, by kind and outcome", ["kind", "outcome"])

UNMATCHED_ROUTE = "<unmatched>"  # 404s: one label, not one per probed path


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def exposition() -> bytes:
    """This process's metrics (all API processes' in multiprocess mode) in the text format."""
    if multiprocess():
        from prometheus_client import multiprocess as mp

        registry = CollectorRegistry()
        mp.MultiProcessCollector(registry)
        return generate_latest(registry)
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY)


def metrics_middleware(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: count and time every HTTP request by its route template (never the raw path)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, send_with_status)
        finally:
            key = (str(scope.get("method", "")), scope.get("path_template") or UNMATCHED_ROUTE, status)
            series = children.get(key)
            if series is None:
                method, route, code = key
                series = children[key] = (
                    HTTP_REQUESTS.labels(method, route, str(code)),
                    HTTP_LATENCY.labels(method, route),
                )
            series[0].inc()
            series[1].observe(time.perf_counter() - started)

    # Labelled children looked up once per (method, route, status): ``labels()`` takes a lock and
    # builds tuples on every call, which is most of the cost of counting a request.
    children: dict[tuple[str, str, int], tuple] = {}
    return middleware


def serve_worker_metrics(settings: Settings) -> None:
    """Serve this worker's metrics on ``METRICS_PORT`` (a daemon thread; it ends with the process)."""
    start_http_server(settings.metrics_port, addr=settings.host)


__all__ = [
    "AGENCY_CALLS",
    "AGENCY_ERRORS",
    "AGENCY_LATENCY",
    "CALLBACK_LAG",
    "CONTENT_TYPE_LATEST",
    "HTTP_LATENCY",
    "HTTP_REQUESTS",
    "JOBS_FINISHED",
    "exposition",
    "metrics_middleware",
    "serve_worker_metrics",
]
