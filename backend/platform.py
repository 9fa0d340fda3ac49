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
    # Seams a lower context declares and the composition root (backend.app.wire) fills with a higher
    # context's code, so that the lower one never imports the higher (docs/architecture.md,
    # "Dependency graph"). Their shapes are the Protocols in backend.cases.ports and backend.identity.ports.
    current_catalog_version: Any = None  # cases.ports.CatalogVersionSource (administration's publication)
    connector_for: Any = None  # cases.ports.ConnectorSource (the workbench's mode-aware connector)
    staff_claims_overlay: Any = None  # identity.ports.StaffClaimsOverlay (administration's staff directory)


PlatformDep = NamedDependency[Platform]
"""Route parameter type: ``platform: PlatformDep`` injects the running platform."""


def live_updates_available(channels: Any) -> bool:
    """False while the channels backend knows Redis is down (SSE answers 503 so clients poll)."""
    backend = getattr(channels, "_backend", None)  # ChannelsPlugin keeps its backend private
    return not getattr(backend, "down", False)
