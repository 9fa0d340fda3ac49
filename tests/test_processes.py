"""Production mode: API and workers as separate processes on PostgreSQL and Redis."""

from __future__ import annotations

import httpx
import pytest

from tests.servers import PlatformProcess

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_api_and_workers_run_as_separate_processes_and_stop_cleanly(pg_url, redis_url, artifacts_dir):
    settings = dict(database_url=pg_url, redis_url=redis_url, api_processes="2", worker_idle_seconds="1")
    api = PlatformProcess("api", artifacts_dir, **settings)
    workers = [PlatformProcess("worker", artifacts_dir, **settings) for _ in range(2)]
    api.start()
    try:
        for worker in workers:
            worker.start()  # returns once the worker has started
        assert httpx.get(api.url + "/healthz").json()["mode"] == "production"
        assert httpx.get(api.url + "/readyz").json()["checks"] == {"database": "ok", "redis": "ok"}
        # production API processes do not run a worker of their own
        assert "worker started" not in api.log()
    finally:
        codes = [p.stop() for p in [*workers, api]]
    assert codes == [0, 0, 0], [p.log()[-2000:] for p in [*workers, api]]
    assert all("worker stopped" in w.log() for w in workers)
