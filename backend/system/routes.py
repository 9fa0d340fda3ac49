"""``/healthz`` says the process is alive; ``/readyz`` says it can reach what it needs."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import msgspec
from litestar import get

from backend import integration
from backend.db import ping
from backend.lib.problems import ProblemError
from backend.platform import PlatformDep


class Health(msgspec.Struct):
    status: Literal["ok"]
    mode: Literal["embedded", "production"]


class Readiness(msgspec.Struct):
    status: Literal["ready", "degraded"]
    checks: dict[str, str]


@get(
    "/healthz",
    summary="Liveness",
    description="200 while the process is running. Does not touch the database.",
    tags=["system"],
)
async def health(platform: PlatformDep) -> Health:
    return Health(status="ok", mode=platform.settings.mode)


async def _check(name: str, probe) -> tuple[str, str]:
    try:
        await asyncio.wait_for(probe, timeout=2.0)
        return name, "ok"
    except Exception as exc:
        return name, f"unavailable: {type(exc).__name__}"


@get(
    "/readyz",
    summary="Readiness",
    description=(
        "200 `ready` when the database and Redis answer; 200 `degraded` when only Redis is down "
        "(the API still serves everything); 503 problem `not_ready` when the database is down."
    ),
    tags=["system"],
)
async def ready(platform: PlatformDep) -> Readiness:
    """Readiness for the load balancer.

    Only the database makes an API process unready. Redis carries wake-ups, live updates and
    shared rate-limit counters, all of which degrade (timers, polling, per-process limits:
    ``backend.system.degraded``); and since every API process shares the one Redis, answering
    503 for it would take the whole service out of rotation over something it can work without.
    So a Redis outage answers 200 with ``status: degraded`` and the failing check, for
    monitoring to alert on.
    """
    probes = [_check("database", ping(platform.engine))]
    if platform.redis is not None:
        probes.append(_check("redis", platform.redis.ping()))
    checks = dict(await asyncio.gather(*probes))
    if platform.redis is None:
        checks["redis"] = "not_configured"
    if checks["database"] != "ok":
        raise ProblemError(
            503, "not_ready", "; ".join(f"{k}: {v}" for k, v in checks.items()), headers={"Retry-After": "5"}
        )
    return Readiness(status="degraded" if checks["redis"].startswith("unavailable") else "ready", checks=checks)


@get(
    "/.well-known/jwks.json",
    summary="The platform's public signing keys",
    description=(
        "The JWKS agencies verify the platform's signed requests with (`X-Signature`): ES256 keys "
        "(`crv` P-256) and SM2 keys (`crv` SM2, `alg` SM2SM3) for the systems that sign 国密; of each, the "
        "current key, the next one during a rotation and the previous one until it is retired. Re-fetch it "
        "when a signature names an unknown `kid`."
    ),
    tags=["system"],
    sync_to_thread=False,
)
def platform_jwks(platform: PlatformDep) -> dict[str, Any]:
    """Public halves of every signing key agencies should accept now."""
    return integration.platform_jwks(platform.settings)
