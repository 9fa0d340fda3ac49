"""``/healthz`` says the process is alive; ``/readyz`` says it can reach what it needs."""

from __future__ import annotations

import asyncio
from typing import Literal

import msgspec
from litestar import get

from backend.db import ping
from backend.lib.problems import ProblemError
from backend.platform import PlatformDep


class Health(msgspec.Struct):
    status: Literal["ok"]
    mode: Literal["embedded", "production"]


class Readiness(msgspec.Struct):
    status: Literal["ready"]
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
    description="200 when the database (and Redis, in production) answer; 503 problem `not_ready` otherwise.",
    tags=["system"],
)
async def ready(platform: PlatformDep) -> Readiness:
    probes = [_check("database", ping(platform.engine))]
    if platform.redis is not None:
        probes.append(_check("redis", platform.redis.ping()))
    checks = dict(await asyncio.gather(*probes))
    if platform.redis is None:
        checks["redis"] = "not_configured"
    if any(value.startswith("unavailable") for value in checks.values()):
        raise ProblemError(503, "not_ready", "; ".join(f"{k}: {v}" for k, v in checks.items()))
    return Readiness(status="ready", checks=checks)

