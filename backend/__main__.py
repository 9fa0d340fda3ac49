"""Command line: ``python -m backend {run,api,worker,migrate,keys}``.

- ``run``: apply migrations, then serve the whole platform in one process (embedded mode
  by default: SQLite, in-process worker, simulated agency systems). ``make run`` calls it.
- ``api``: serve the API only (``API_PROCESSES`` uvicorn processes); production.
- ``worker``: run a background worker process; start as many as needed. ``worker --check``:
  the worker's health check (its heartbeat file is fresh).
- ``migrate``: apply Piccolo migrations to ``DATABASE_URL`` (or the embedded SQLite file).
- ``keys``: create and rotate the shared key files (``python -m backend keys --help``).

In production mode every role first checks its settings (``backend.preflight``) and exits
with one line per unsafe or missing setting before binding a port.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from typing import Any

from backend.lib.warmup import SERVER_PROCESS
from backend.settings import get_settings

log = logging.getLogger("backend")


def migrate() -> None:
    """Apply every pending migration of every app.

    Started before its database is up (a compose file or systemd starting everything at once),
    it waits for it as the API does, a warning per attempt, and stops at once on SIGTERM."""
    os.environ.setdefault("PICCOLO_CONF", "backend.piccolo_conf")
    from backend import db
    from backend.lib.logging import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    db.wait_until_reachable(settings)

    applied = asyncio.run(db.migrate())
    log.info("migrations done", extra={"applied": len(applied)})
    asyncio.run(seed_reference_data())


async def seed_reference_data() -> None:
    """Records every deployment starts with (idempotent): one integration record per business system."""
    from backend import db
    from backend.integrations import seed
    from backend.lib.clock import SystemClock

    settings = get_settings()
    engine = db.make_engine(settings)
    db.bind(engine)
    await db.start(engine, settings)
    try:
        async with db.one_migrate_at_a_time(engine):  # two migrates at once would both add the same record
            await seed(SystemClock().now_ms())
    finally:
        await db.stop(engine)


def serve(*, factory: bool) -> None:
    import uvicorn

    settings = get_settings()
    common: dict[str, Any] = dict(
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=3,
        # Forwarded headers only from TRUSTED_PROXIES (nginx): otherwise every citizen behind the
        # proxy shares one rate-limit bucket, or anyone reaching the API directly picks their own.
        proxy_headers=bool(settings.trusted_proxy_networks),
        forwarded_allow_ips=settings.trusted_proxy_networks or None,
    )
    if factory:
        from backend.db import wait_until_reachable
        from backend.lib.logging import configure_logging

        configure_logging(settings.log_level, settings.log_format)
        wait_until_reachable(settings)
        uvicorn.run("backend.app:create_app", factory=True, workers=settings.api_processes, **common)
    else:
        from backend.app import create_app

        app = create_app(settings)
        print(
            f"\n  企业注销“一件事” ({settings.mode}) on {settings.base_url}\n"
            f"  PWA {settings.base_url}/   kiosk {settings.base_url}/kiosk/   API docs {settings.base_url}/schema\n",
            file=sys.stderr,
        )
        uvicorn.run(app, **common)


async def run_worker() -> None:
    from backend import db
    from backend.app import build_platform, channel_publisher, make_worker
    from backend.lib.logging import configure_logging
    from backend.lib.stopping import exit_on_stop_signal

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    if settings.metrics_port:
        from backend.lib.metrics import serve_worker_metrics

        serve_worker_metrics(settings)
    platform = build_platform(settings)
    db.bind(platform.engine)
    with exit_on_stop_signal("start"):  # until the loop's own handlers below: nothing to finish yet
        await db.start(platform.engine, settings)
        from backend.app import load_holiday_imports, warm_up

        warm_up(platform)
        await load_holiday_imports(platform)
    channels = None
    if platform.redis is not None:  # live updates reach the API processes' subscribers through Redis
        from backend.system.degraded import ResilientRedisChannels

        channels = ResilientRedisChannels(platform.redis)  # while Redis is down, events are dropped at once
        await channels.on_startup()
        platform.cases.publish = channel_publisher(channels.publish_many)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    heartbeat = asyncio.create_task(beat(settings.heartbeat_path, stop))
    from backend.app import follow_holiday_imports

    calendar = asyncio.create_task(follow_holiday_imports(platform, stop))  # due dates follow an admin's import
    try:
        await make_worker(platform).run(stop)
    finally:
        heartbeat.cancel()
        calendar.cancel()
        if channels is not None:
            await channels.on_shutdown()
        for connector in platform.connectors.values():
            await connector.aclose()
        if hasattr(platform.registration, "aclose"):
            await platform.registration.aclose()
        await db.stop(platform.engine)
        if platform.redis is not None:
            await platform.redis.aclose()


HEARTBEAT_SECONDS = 10.0
HEARTBEAT_STALE_SECONDS = 60.0


async def beat(path, stop: asyncio.Event) -> None:
    """Touch ``path`` every few seconds while this worker's event loop runs (its health check)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while not stop.is_set():
        path.touch()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), HEARTBEAT_SECONDS)
    path.unlink(missing_ok=True)  # stopped: no longer healthy


def check_worker() -> int:
    """``worker --check``: 0 when this host's worker touched its heartbeat within the last minute."""
    import time

    path = get_settings().heartbeat_path
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        print(f"unhealthy: no heartbeat at {path}", file=sys.stderr)
        return 1
    if age > HEARTBEAT_STALE_SECONDS:
        print(f"unhealthy: last heartbeat {age:.0f}s ago ({path})", file=sys.stderr)
        return 1
    print(f"healthy: heartbeat {age:.0f}s ago")
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m backend", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["run", "api", "worker", "migrate", "keys"])
    parser.add_argument("--check", action="store_true", help="worker: exit 0 if a running worker's heartbeat is fresh")
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.command == "keys":
        from backend.keys import main as keys_main

        raise SystemExit(keys_main(args.arguments))
    if args.arguments not in ([], ["--check"]):
        parser.error(f"unexpected arguments: {' '.join(args.arguments)}")
    if args.check or args.arguments == ["--check"]:
        if args.command != "worker":
            parser.error("--check applies to the worker (the API has /healthz)")
        raise SystemExit(check_worker())
    from backend.preflight import refuse_unsafe_settings

    settings = get_settings()  # a bad setting or unreadable NAME_FILE exits here, with its name
    refuse_unsafe_settings(settings, "api" if args.command == "run" else args.command)
    from backend.lib.metrics_mode import prepare_process_metrics

    prepare_process_metrics(settings, args.command)  # before anything imports prometheus_client
    os.environ[SERVER_PROCESS] = "1"  # inherited by uvicorn's worker processes (see backend.lib.warmup)
    if args.command == "migrate":
        migrate()
    elif args.command == "run":
        migrate()
        serve(factory=False)
    elif args.command == "api":
        serve(factory=True)
    else:
        run_loop(run_worker())


def run_loop(main_coroutine) -> None:
    """Run a server process's main coroutine on uvloop (as uvicorn does for the API) when installed."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is in the lock file; other platforms may lack it
        asyncio.run(main_coroutine)
    else:
        uvloop.run(main_coroutine)


if __name__ == "__main__":
    main()
