"""The composition root: the only place that builds the Litestar app and wires everything.

Importing this module connects to nothing; ``create_app`` builds an app whose lifespan
opens the database pool and Redis, and (in embedded mode) runs the worker in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import msgspec
from litestar import Litestar, Request
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.datastructures import State
from litestar.di import Provide
from litestar.response.file import ASGIFileResponse
from litestar.static_files import create_static_files_router
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from litestar.stores.registry import StoreRegistry

from backend import cases, db, identity
from backend.cases import Actor
from backend.identity.principal import ACCESS_COOKIE, CSRF_HEADER
from backend.integration import build_embedded_simulators, build_platform_connectors, build_push_connectors
from backend.jobs import MemoryWaker, Queue, RedisWaker, Worker
from backend.lib.apidocs import ScriptlessSwaggerPlugin
from backend.lib.clock import Clock, SystemClock
from backend.lib.headers import security_headers_middleware
from backend.lib.jsonbody import BoundedJsonRequest
from backend.lib.logging import configure_logging, request_id_middleware
from backend.lib.metrics import metrics_middleware
from backend.lib.openapi import ContractConfig, operation_facts, security_schemes
from backend.lib.problems import EXCEPTION_HANDLERS
from backend.lib.warmup import warm_up
from backend.platform import Platform, PlatformDep
from backend.registration import default_directory
from backend.settings import ROOT, Settings, get_settings
from backend.system.degraded import FallbackStore, ResilientRedisChannels, outage_exception_handlers

log = logging.getLogger("backend")


async def load_holiday_imports(platform) -> None:
    """Put the administrators' holiday arrangement imports in force in this process."""
    from backend.administration.holidays import refresh

    try:
        await refresh(platform)
    except Exception:  # an unmigrated database: the shipped calendar stays in force
        log.exception("holiday imports not loaded; the shipped calendar is in force")


async def follow_holiday_imports(platform, stop: asyncio.Event) -> None:
    """Keep this process's calendar in step with imports another process made (an admin's import)."""
    from backend.administration.holidays import follow_imports

    try:
        await follow_imports(platform, stop)
    except Exception:  # an unmigrated database: the calendar loaded at start stays in force
        log.exception("holiday imports not followed")


API_VERSION = "0.1.0"


def job_handlers(platform: Platform) -> dict:
    """Every bounded context's background job handlers, by job kind."""
    from backend import identity, ratings

    handlers: dict = {}
    handlers.update(platform.job_handlers)
    handlers.update(identity.JOB_HANDLERS(platform))
    handlers.update(ratings.JOB_HANDLERS(platform))
    return handlers


def build_platform(settings: Settings, clock: Clock | None = None) -> Platform:
    """Create (without connecting) the engine, Redis client, queue and clock."""
    redis = None
    if settings.redis_url:
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialWithJitterBackoff

        # Few, quick retries: during a Redis outage every caller degrades (backend.system.degraded)
        # instead of waiting seconds on redis-py's default ten retries.
        redis = Redis.from_url(
            settings.redis_url,
            health_check_interval=10,
            socket_connect_timeout=2,
            socket_timeout=5,
            retry=Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.1), 2),
        )
    waker = RedisWaker(redis) if redis is not None else MemoryWaker()
    clock = clock or SystemClock()
    platform = Platform(
        settings=settings,
        engine=db.make_engine(settings),
        queue=Queue(waker, clock),
        clock=clock,
        redis=redis,
        connectors=build_platform_connectors(settings),
        push_systems=build_push_connectors(settings),
        registration=default_directory(settings),
    )
    cases.configure(platform)
    return platform


CASE_CHANGES = "cases:changed"
"""The channel every API process follows to drop a changed case's cached status (``CaseService.forget``)."""


def channel_publisher(
    publish_many: Callable[[list[tuple[bytes, str]]], Awaitable[None] | None],
) -> Callable[[str, list[dict]], Awaitable[None]]:
    """Case events → the ``case:<id>`` channel (live views), then the case's id → ``CASE_CHANGES``;
    ``publish_many`` sends (data, channel) messages in order (one Redis round trip, or the memory channels)."""

    async def send(public_id: str, events: list[dict]) -> None:
        result = publish_many(
            [*((msgspec.json.encode(e), f"case:{public_id}") for e in events), (public_id.encode(), CASE_CHANGES)]
        )
        if result is not None:
            await result

    return send


def follow_case_changes(channels: ChannelsPlugin, platform: Platform) -> tuple[Callable, Callable]:
    """(startup, shutdown) hooks: forget the cached status of cases other processes changed."""
    following: list[asyncio.Task] = []

    async def start() -> None:
        subscriber = await channels.subscribe([CASE_CHANGES])

        async def run() -> None:
            async for public_id in subscriber.iter_events():
                platform.cases.forget(public_id.decode())

        following.append(asyncio.create_task(run()))

    async def stop() -> None:
        for task in following:
            task.cancel()

    return start, stop


def follow_session_ends(channels: ChannelsPlugin, platform: Platform) -> tuple[Callable, Callable]:
    """(startup, shutdown) hooks: refuse the access tokens of sessions other processes ended (logout,
    refresh-token reuse, kiosk timeout) at once, rather than when this process's check of them lapses."""
    from backend.identity.sessions import SESSIONS_ENDED, session_ended

    following: list[asyncio.Task] = []

    async def start() -> None:
        subscriber = await channels.subscribe([SESSIONS_ENDED])

        async def run() -> None:
            async for sid in subscriber.iter_events():
                session_ended(identity.get_identity(platform), sid.decode())

        following.append(asyncio.create_task(run()))

    async def stop() -> None:
        for task in following:
            task.cancel()

    return start, stop


async def provide_actor(request: Request, platform: PlatformDep) -> Actor:
    """The acting person or staff member, from the identity context's principal (401 without one).

    It names ``platform`` so Litestar resolves the two one after the other: dependencies of one
    level are resolved concurrently in an anyio task group, which costs more than both together.
    """
    from backend.cases.service import actor_of
    from backend.identity import provide_principal

    return actor_of(await provide_principal(request))


def make_worker(platform: Platform) -> Worker:
    s = platform.settings
    return Worker(
        platform.queue,
        job_handlers(platform),
        concurrency=s.worker_concurrency,
        lease_seconds=s.worker_lease_seconds,
        idle_seconds=s.worker_idle_seconds,
    )


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Litestar:
    """Build the API app (and, in embedded mode, its in-process worker)."""
    settings = settings or get_settings()
    platform = build_platform(settings, clock)
    simulators = (
        build_embedded_simulators(settings) if settings.test_env_enabled and not settings.connector_base_url else {}
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        db.bind(platform.engine)
        await db.start(platform.engine, settings)
        warm_up(platform)
        await load_holiday_imports(platform)
        await platform.queue.enqueue(
            identity.PURGE_JOB, {}, dedupe_key="identity.purge:bootstrap"
        )  # re-schedules itself
        stop = asyncio.Event()
        calendar_task = asyncio.create_task(follow_holiday_imports(platform, stop))
        worker_task = None
        if settings.run_worker_in_process:
            worker_task = asyncio.create_task(make_worker(platform).run(stop))
        log.info("platform started", extra={"mode": settings.mode, "worker_in_process": worker_task is not None})
        for code, setting in (("haochaping", "RATINGS_SYSTEM_URL"), ("sms", "SMS_GATEWAY_URL")):
            if code not in platform.push_systems:  # reports and texts wait in their outbox until it is set
                log.warning("outside system not configured", extra={"system": code, "setting": setting})
        try:
            yield
        finally:
            stop.set()
            calendar_task.cancel()
            if worker_task is not None:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(worker_task, timeout=10)
            for connector in [*platform.connectors.values(), *platform.push_systems.values()]:
                await connector.aclose()
            if hasattr(platform.registration, "aclose"):
                await platform.registration.aclose()
            if simulators:
                from backend.sandbox.mount import close_simulators

                await close_simulators(simulators)
            await db.stop(platform.engine)
            if platform.redis is not None:
                await platform.redis.aclose()

    if platform.redis is not None:  # both degrade to this process alone while Redis is down
        channels_backend: ChannelsBackend = ResilientRedisChannels(platform.redis)
        stores = StoreRegistry(
            default_factory=lambda name: FallbackStore(RedisStore(platform.redis, namespace=f"yjs:{name}"), name)
        )
    else:
        channels_backend = MemoryChannelsBackend()
        stores = StoreRegistry(default_factory=lambda name: MemoryStore())

    from backend.administration import ROUTES as ADMINISTRATION_ROUTES
    from backend.cases.routes import ROUTES as CASE_ROUTES
    from backend.catalog import ROUTES as CATALOG_ROUTES
    from backend.feedback import ROUTES as FEEDBACK_ROUTES
    from backend.integrations import ROUTES as INTEGRATION_ROUTES
    from backend.links import ROUTES as LINK_ROUTES
    from backend.notifications import ROUTES as NOTIFICATION_ROUTES
    from backend.ratings import ROUTES as RATING_ROUTES
    from backend.stats import ROUTES as STATS_ROUTES
    from backend.system import ROUTES as SYSTEM_ROUTES
    from backend.workbench import ROUTES as WORKBENCH_ROUTES

    route_handlers: list = [
        *SYSTEM_ROUTES,
        *CATALOG_ROUTES,
        *CASE_ROUTES,
        *LINK_ROUTES,
        *NOTIFICATION_ROUTES,
        *INTEGRATION_ROUTES,
        *identity.ROUTES,
        *WORKBENCH_ROUTES,
        *RATING_ROUTES,
        *STATS_ROUTES,
        *ADMINISTRATION_ROUTES,
        *FEEDBACK_ROUTES,
    ]
    state: dict = {"platform": platform}
    if settings.test_env_enabled:
        from backend.cases.routes import SANDBOX_ROUTES as CASE_SANDBOX_ROUTES
        from backend.devicebridge import SANDBOX_ROUTES as DEVICE_SANDBOX_ROUTES
        from backend.sandbox.mount import sandbox_state, simulator_mounts
        from backend.sandbox.routes import SANDBOX_ROUTES

        route_handlers += [*SANDBOX_ROUTES, *CASE_SANDBOX_ROUTES, *identity.SANDBOX_ROUTES, *DEVICE_SANDBOX_ROUTES]
        if simulators:
            route_handlers += simulator_mounts(simulators)
            state.update(sandbox_state(simulators))
    route_handlers += static_routes()
    channels_plugin = ChannelsPlugin(backend=channels_backend, arbitrary_channels_allowed=True)

    def publish_in_memory(messages: list[tuple[bytes, str]]) -> None:
        for data, channel in messages:
            channels_plugin.publish(data, [channel])

    publish = (
        channels_backend.publish_many if isinstance(channels_backend, ResilientRedisChannels) else publish_in_memory
    )
    platform.cases.publish = channel_publisher(publish)
    follow_start, follow_stop = follow_case_changes(channels_plugin, platform)
    sessions_start, sessions_stop = follow_session_ends(channels_plugin, platform)

    async def announce_session_end(sid: str) -> None:
        from backend.identity.sessions import SESSIONS_ENDED

        result = publish([(sid.encode(), SESSIONS_ENDED)])
        if result is not None:
            await result

    platform.announce_session_end = announce_session_end

    openapi_config = ContractConfig(
        title="企业注销登记“一件事”平台 API",
        version=API_VERSION,
        description="Apply once, six agencies, every result in one place. Errors are RFC 9457 problem details.",
        path="/schema",
        create_examples=False,  # generated examples are random strings that fit no schema; Structs carry real ones
        render_plugins=[
            ScriptlessSwaggerPlugin(
                js_url="/vendor/swagger-ui/swagger-ui-bundle.js",
                css_url="/vendor/swagger-ui/swagger-ui.css",
                standalone_preset_js_url="/vendor/swagger-ui/swagger-ui-standalone-preset.js",
                favicon="<link rel='icon' type='image/svg+xml' href='/icons/icon.svg'>",  # ours, not a CDN's
            )
        ],
        security_schemes=security_schemes(ACCESS_COOKIE, CSRF_HEADER),
    )
    app = Litestar(
        route_handlers=route_handlers,
        dependencies={
            "platform": Provide(lambda: platform, use_cache=True, sync_to_thread=False),
            "actor": Provide(provide_actor),
            **identity.IDENTITY_DEPENDENCIES,
        },
        exception_handlers={**EXCEPTION_HANDLERS, **outage_exception_handlers()},
        plugins=[channels_plugin],
        stores=stores,
        lifespan=[lifespan],
        on_startup=[follow_start, sessions_start],  # after the lifespans: the channels plugin is one of them
        on_shutdown=[follow_stop, sessions_stop],
        request_max_body_size=settings.max_body_bytes,
        request_class=BoundedJsonRequest,  # every JSON body depth-checked before it is decoded
        openapi_config=openapi_config,
        state=State(state),
        logging_config=None,  # configure_logging owns the root logger (JSON, masked)
        debug=False,
    )
    openapi_config.facts = lambda: operation_facts(app)
    # Outermost, so that even routing errors (404, 405) carry a request ID, security headers, and are
    # logged and counted.
    app.asgi_handler = request_id_middleware(
        metrics_middleware(
            security_headers_middleware(app.asgi_handler, https=settings.base_url.startswith("https://"))
        )
    )
    # Last: building the mounted simulator apps configures Litestar's default logging.
    configure_logging(settings.log_level, settings.log_format)
    return app


def _index_head(directory: Path, name: str, cache_control):
    """``HEAD`` of a front end's start page (Litestar's html mode answers only ``GET /``: 405 to
    uptime checks and link checkers that ask with HEAD)."""
    from litestar import head
    from litestar.file_system import BaseLocalFileSystem
    from litestar.static_files.base import StaticFiles

    # a handler's ASGI file response does not get the router's Cache-Control: it is set here
    files = StaticFiles(
        is_html_mode=True,
        directories=[directory],
        file_system=BaseLocalFileSystem(),
        headers={cache_control.HEADER_NAME: cache_control.to_header()},
    )

    @head("/", name=f"{name}/index-head", include_in_schema=False)
    async def index_head() -> ASGIFileResponse:
        return await files.handle(path="/", is_head_response=True)

    return index_head


def static_routes() -> list:
    """The front ends: the PWA at ``/``, the kiosk at ``/kiosk/``, the back office at ``/staff/``, shared
    code at ``/shared/``."""
    from litestar.datastructures import CacheControlHeader

    from backend.lib.compress import GZIP
    from backend.lib.revalidate import RevalidateMiddleware

    # Pages, scripts and styles go out gzip-compressed (a third of their size on a phone's
    # connection; nginx in infra/ passes them through), and are revalidated on every use
    # (no-cache + 304: backend/lib/revalidate.py).
    middleware = [RevalidateMiddleware, GZIP]
    common: dict[str, Any] = dict(
        include_in_schema=False, middleware=middleware, cache_control=CacheControlHeader(no_cache=True)
    )
    routes = [create_static_files_router(path="/shared", directories=[ROOT / "shared"], name="shared", **common)]
    for path, name in (("/kiosk", "kiosk"), ("/staff", "staff"), ("/", "pwa")):
        router = create_static_files_router(path=path, directories=[ROOT / name], html_mode=True, name=name, **common)
        router.register(_index_head(ROOT / name, name, common["cache_control"]))
        routes.append(router)
    swagger = ROOT / "node_modules" / "swagger-ui-dist"
    if swagger.is_dir():  # API docs assets come from npm (package.json), never from a CDN
        routes.insert(
            0,
            create_static_files_router(
                path="/vendor/swagger-ui", directories=[swagger], include_in_schema=False, name="swagger"
            ),
        )
    # the QR encoder of shared/qr.js (npm, package.json): revalidated like /shared, which imports it
    qr = ROOT / "node_modules" / "qrcode-generator" / "dist"
    if qr.is_dir():
        routes.insert(
            0, create_static_files_router(path="/vendor/qrcode-generator", directories=[qr], name="qrcode", **common)
        )
    return routes
