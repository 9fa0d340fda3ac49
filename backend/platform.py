"""The running platform's shared resources, built once by the composition root (backend.app)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar.di import NamedDependency
from piccolo.engine.base import Engine

from backend.jobs import Queue
from backend.lib.clock import Clock
from backend.settings import Settings


@dataclass
class Platform:
    """What routes, services and workers need: settings, database, Redis, queue, clock."""

    settings: Settings
    engine: Engine
    queue: Queue
    clock: Clock
    redis: Any = None  # redis.asyncio.Redis in production, None embedded
    job_handlers: dict[str, Any] = field(default_factory=dict)


PlatformDep = NamedDependency[Platform]
"""Route parameter type: ``platform: PlatformDep`` injects the running platform."""
