"""``GET /metrics``: Prometheus text for the process counters plus gauges read from the database.

The gauges (job queue depth and dead jobs by kind, case items by state) cost two grouped
counts on indexed columns; each API process recomputes them at most every
``METRICS_CACHE_SECONDS`` and concurrent scrapes share one computation, so a scraper (or
several) never turns into a query per scrape per process.
"""

from __future__ import annotations

import asyncio
import time
import weakref

from litestar import Response, get
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from backend.cases.tables import CaseItem
from backend.jobs.tables import Job
from backend.lib import metrics
from backend.platform import PlatformDep


class _StateGauges:
    """The database's view, cached per process."""

    def __init__(self) -> None:
        self.at = -1e9
        self.lock = asyncio.Lock()
        self.queue: dict[str, int] = {}
        self.dead: dict[str, int] = {}
        self.items: dict[str, int] = {}
        self.body = b""

    async def text(self, ttl: float) -> bytes:
        if time.monotonic() - self.at < ttl:
            return self.body
        async with self.lock:  # scrapes arriving together wait for one refresh
            if time.monotonic() - self.at >= ttl:
                await self._refresh()
                self.at = time.monotonic()
        return self.body

    async def _refresh(self) -> None:
        jobs = await Job.raw(
            "SELECT kind, status, COUNT(*) AS n FROM job "
            "WHERE status IN ('pending', 'running', 'dead') GROUP BY kind, status"
        )
        items = await CaseItem.raw("SELECT status, COUNT(*) AS n FROM case_item GROUP BY status")
        queue: dict[str, int] = {}
        dead: dict[str, int] = {}
        for row in jobs:
            target = dead if row["status"] == "dead" else queue
            target[row["kind"]] = target.get(row["kind"], 0) + int(row["n"])
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Families(queue, dead, {row["status"]: int(row["n"]) for row in items}))
        self.body = generate_latest(registry)


class _Families:
    def __init__(self, queue: dict[str, int], dead: dict[str, int], items: dict[str, int]) -> None:
        self.queue, self.dead, self.items = queue, dead, items

    def collect(self):
        depth = GaugeMetricFamily("yjs_job_queue_depth", "Jobs waiting or running, by kind", labels=["kind"])
        for kind, n in sorted(self.queue.items()):
            depth.add_metric([kind], n)
        dead = GaugeMetricFamily(
            "yjs_jobs_dead", "Jobs that exhausted their attempts (staff can re-drive them)", labels=["kind"]
        )
        for kind, n in sorted(self.dead.items()):
            dead.add_metric([kind], n)
        items = GaugeMetricFamily("yjs_case_items", "Case items by state", labels=["state"])
        for state, n in sorted(self.items.items()):
            items.add_metric([state], n)
        return [depth, dead, items]


_GAUGES: dict[int, _StateGauges] = {}


async def metrics_text(platform) -> bytes:
    """Every metric this API process reports, database gauges included (cached)."""
    gauges = _GAUGES.get(id(platform))
    if gauges is None:
        gauges = _GAUGES[id(platform)] = _StateGauges()
        weakref.finalize(platform, _GAUGES.pop, id(platform), None)
    return metrics.exposition() + await gauges.text(platform.settings.metrics_cache_seconds)


@get("/metrics", include_in_schema=False)
async def prometheus_metrics(platform: PlatformDep) -> Response[bytes]:
    """Prometheus scrape endpoint (not public: nginx allows only the monitoring network)."""
    return Response(await metrics_text(platform), media_type=metrics.CONTENT_TYPE_LATEST)
