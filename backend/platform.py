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
    connectors: dict[str, Any] = field(default_factory=dict)  # business system code -> Connector
    registration: Any = None  # backend.registration.RegistrationDirectory
    cases: Any = None  # backend.cases.service.CaseService
    dispatcher: Any = None  # backend.cases.dispatch.Dispatcher
    notify_applicant: Any = None  # async (person_id, kind, data) -> None
    # async (principal, signing reference, action) -> None: 404/403 unless the case's access rule lets
    # the caller read that case's application (the case context plugs it in; it audits staff)
    case_reader_guard: Any = None
    # async (principal, uscc) -> bool: whether agency staff reach a case of that enterprise (cases)
    staff_reach_enterprise: Any = None
    # async (sid) -> None: tells every API process that a platform session ended (identity calls it;
    # the composition root sends it over the channels: Redis in production, memory embedded)
    announce_session_end: Any = None
    push_systems: dict[str, Any] = field(default_factory=dict)  # 好差评 / SMS code -> PushConnector

    def __post_init__(self) -> None:
        from backend.cases import timeline

        timeline.use_hash(self.settings.timeline_hash)  # new events hash with TIMELINE_HASH (sha256 | sm3)


PlatformDep = NamedDependency[Platform]
"""Route parameter type: ``platform: PlatformDep`` injects the running platform."""
