"""TRUSTED_PROXIES: the API believes X-Forwarded-For only from the proxies named there.

Behind a proxy every request comes from the proxy's address: unless its forwarded header is
believed, every citizen shares one rate-limit bucket on /auth. From anyone else, the header is a
forgery that would let a guesser pick a fresh bucket for each try. (127.0.0.2 plays the proxy:
all of 127.0.0.0/8 is loopback on Linux.)"""

from __future__ import annotations

import httpx
import pytest

from tests.servers import PlatformProcess, clear_rate_limits

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

LIMIT = 60  # backend.identity.routes.AUTH_RATE_LIMIT: per client and minute


def statuses(url: str, source: str, count: int) -> list[int]:
    """``count`` refresh attempts from ``source``, each claiming a different forwarded address."""
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(base_url=url, transport=transport, timeout=30) as client:
        return [
            client.post("/auth/refresh", headers={"X-Forwarded-For": f"203.0.113.{n % 250 + 1}"}).status_code
            for n in range(count)
        ]


@pytest.fixture(scope="module")
def api(pg_url, redis_url, tmp_path_factory, artifacts_dir):
    process = PlatformProcess(
        "api",
        artifacts_dir,
        database_url=pg_url,
        redis_url=redis_url,
        data_dir=str(tmp_path_factory.mktemp("proxies")),
        trusted_proxies="127.0.0.2/32",
    )
    process.start()
    yield process
    process.stop()


@pytest.fixture(autouse=True)
def fresh_buckets(redis_url):
    clear_rate_limits(redis_url)
    yield
    clear_rate_limits(redis_url)


def test_a_trusted_proxy_gives_each_client_its_own_bucket(api):
    assert 429 not in statuses(api.url, "127.0.0.2", LIMIT + 5)


def test_a_forged_forwarded_address_from_anyone_else_is_ignored(api):
    assert statuses(api.url, "127.0.0.1", LIMIT + 5)[-1] == 429


def test_an_address_that_is_not_one_is_refused_with_the_settings_name():
    from backend.settings import load_settings

    with pytest.raises(SystemExit, match="TRUSTED_PROXIES"):
        _ = load_settings(env={"TRUSTED_PROXIES": "10.0.0.0/8, nginx"}).trusted_proxy_networks
