"""Rate limits on the identity routes hold: after the limit a 429 problem with ``Retry-After``,
in embedded mode (memory store) and in production mode (Redis store, shared by every API process).

Each test gets an app of its own: exhausting a limit on the shared platform would lock the other
security tests out of ``/sandbox/token``.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
import redis
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.identity.routes import AUTH_RATE_LIMIT
from backend.identity.sandbox import SANDBOX_TOKEN_RATE_LIMIT
from backend.settings import load_settings
from tests.servers import PlatformProcess, clear_rate_limits, run_migrations, wait_for

LIMIT = AUTH_RATE_LIMIT.rate_limit[1]


def assert_limited(response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "rate_limited"
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60


async def test_sandbox_token_and_auth_limits_in_embedded_mode(tmp_path):
    url = "sqlite:///" + str(tmp_path / "platform.sqlite")  # a database of its own: nothing else's jobs in it
    run_migrations(database_url=url)
    settings = load_settings(
        env={}, database_url=url, data_dir=str(tmp_path), test_env=True, connector_base_url="http://127.0.0.1:9/sim"
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        assert SANDBOX_TOKEN_RATE_LIMIT.rate_limit[1] == LIMIT
        answers = [
            (await client.post("/sandbox/token", json={"persona": "tester-qa"})).status_code for _ in range(LIMIT)
        ]
        assert answers == [200] * LIMIT
        assert_limited(await client.post("/sandbox/token", json={"persona": "admin-platform"}))
        # the limit is per route group: the auth routes count on their own
        answers = [
            (await client.post("/auth/refresh", json={"refresh_token": "guess"})).status_code for _ in range(LIMIT)
        ]
        assert set(answers) == {401}
        assert_limited(await client.post("/auth/refresh", json={"refresh_token": "guess"}))
        assert_limited(await client.get("/auth/login"))


@pytest.mark.redis
@pytest.mark.postgres
async def test_auth_limit_is_shared_by_api_processes_through_redis(pg_url, redis_url, tmp_path, artifacts_dir):
    """Two API processes on one Redis: the count is shared, and holds under a concurrent burst of guesses."""
    clear_rate_limits(redis_url)
    common = dict(database_url=pg_url, redis_url=redis_url, data_dir=str(tmp_path), log_format="json")
    processes = [PlatformProcess("api", artifacts_dir, **common) for _ in range(2)]
    for process in processes:
        process.start(wait=False)
    try:
        for process in processes:
            wait_for(lambda p=process: httpx.get(p.url + "/healthz", timeout=1).status_code == 200, "api", 60)
        async with (
            httpx.AsyncClient(base_url=processes[0].url) as first,
            httpx.AsyncClient(base_url=processes[1].url) as second,
        ):
            answers = [
                (await (first if n % 2 else second).post("/auth/refresh", json={"refresh_token": "guess"})).status_code
                for n in range(LIMIT)
            ]
            assert set(answers) == {401}
            assert_limited(await first.post("/auth/refresh", json={"refresh_token": "guess"}))
            assert_limited(await second.post("/auth/refresh", json={"refresh_token": "guess"}))
            assert redis.Redis.from_url(redis_url).keys("yjs:identity_auth_rate_limit*"), "the count lives in Redis"

            clear_rate_limits(redis_url)  # a fresh window, then a burst from both processes at once
            burst = await asyncio.gather(
                *(
                    c.post("/auth/refresh", json={"refresh_token": "guess"})
                    for _ in range(LIMIT)
                    for c in (first, second)
                )
            )
            got_through = sum(1 for r in burst if r.status_code != 429)
            for response in burst:
                if response.status_code == 429:
                    assert_limited(response)
            assert got_through <= LIMIT, f"{got_through} guesses passed a limit of {LIMIT} per minute"
    finally:
        for process in processes:
            process.stop()
        clear_rate_limits(redis_url)
