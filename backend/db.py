"""Database engines: SQLite in embedded mode, PostgreSQL in production.

Piccolo binds every table to an engine; ``bind`` points all of our tables at the engine
of one app, so a process (or a test) can choose its database explicitly.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from string import Formatter
from typing import Any

import asyncpg
from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType
from piccolo.query.methods.raw import Raw
from piccolo.querystring import QueryString
from piccolo.table import Table

from backend.lib.stopping import exit_on_stop_signal
from backend.lib.warmup import SERVER_PROCESS
from backend.settings import Settings

log = logging.getLogger("backend.db")


def make_engine(settings: Settings) -> Engine:
    """Create (but do not connect) the engine the settings ask for."""
    if settings.is_postgres:
        # asyncpg reads the URL as libpq does: ?host=/run/postgresql (a Unix socket), sslmode, ...
        return _Postgres(config={"dsn": settings.database_url}, log_queries=False)
    path = settings.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    # A generous busy timeout; writers also use IMMEDIATE transactions: SQLite has one writer, and a
    # deferred transaction that upgrades to a write fails with "database is locked" under concurrency.
    return _SQLite(path=str(path), timeout=30)


class _EndsWhateverHappens:
    """Piccolo's transaction exit, except that the connection is given back (PostgreSQL's pool) or
    closed (SQLite), and forgotten as the task's current transaction, even when COMMIT or ROLLBACK
    fails. Piccolo did both only after they succeeded: a connection lost mid-transaction (a restart,
    a failover) stayed checked out for good and the task's next query ran on it; a worker leaked its
    whole pool in a PostgreSQL restart and then waited forever for a connection (tests/test_db.py).

    A failed ROLLBACK leaves the connection in no known state, so it is closed, not reused, and the
    error that caused the rollback is the one raised. A failed COMMIT is raised: the work is not saved.
    """

    _parent: Any  # Piccolo's transaction attributes and methods, which the subclasses below inherit
    _committed: bool
    _rolled_back: bool
    context: Any
    engine: Any
    connection: Any
    commit: Callable[[], Awaitable[None]]
    rollback: Callable[[], Awaitable[None]]
    _give_back: Callable[[bool], Awaitable[None]]  # each engine's: the connection back to its pool, or closed

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        if self._parent:
            return exception is None
        healthy = True
        try:
            if exception is None:
                if not self._committed and not self._rolled_back:
                    healthy = False
                    await self.commit()
                    healthy = True
            elif not self._rolled_back:
                try:
                    await self.rollback()
                except Exception as exc:
                    healthy = False
                    log.warning("rollback failed; the connection is closed", extra={"error": repr(exc)})
        finally:
            try:
                await self._give_back(healthy)
            finally:
                self.engine.current_transaction.reset(self.context)
        return exception is None


class _PostgresTransaction(_EndsWhateverHappens, PostgresTransaction):
    async def _give_back(self, healthy: bool) -> None:
        if not healthy:
            self.connection.terminate()  # the pool sees it closed and connects afresh next time
        if self.engine.pool:
            await self.engine.pool.release(self.connection)
        elif healthy:
            await self.connection.close()


class _SQLiteTransaction(_EndsWhateverHappens, SQLiteTransaction):
    async def _give_back(self, healthy: bool) -> None:
        await self.connection.close()


class _Postgres(PostgresEngine):
    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return _PostgresTransaction(engine=self, allow_nested=allow_nested)


class _SQLite(SQLiteEngine):
    def transaction(
        self, transaction_type: TransactionType = TransactionType.deferred, allow_nested: bool = True
    ) -> SQLiteTransaction:
        return _SQLiteTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)


class SQL(QueryString):
    """A raw statement, as ``Table.raw`` takes it (``{}`` for each value), compiled once per text.

    Piccolo parses a raw template again on every run, one object per placeholder; for the
    statements a submission or a callback writes (a case's items, events and jobs in one) that
    was ~9% of the API's CPU. Values that are themselves queries take Piccolo's way.
    """

    __slots__ = ()

    def compile_string(self, engine_type: str = "postgres") -> tuple[str, list[Any]]:
        if any(isinstance(arg, QueryString) for arg in self.args):
            return super().compile_string(engine_type)
        return _compiled(self.template, len(self.args), engine_type), list(self.args)


@functools.lru_cache(maxsize=1024)
def _compiled(template: str, values: int, engine_type: str) -> str:
    """``template`` with its first ``values`` placeholders numbered (``$1`` ...) or ``?`` (SQLite)."""
    numbered = engine_type in ("postgres", "cockroach")
    parts = [literal for literal, *_ in Formatter().parse(template)]
    return "".join(
        part + ((f"${n}" if numbered else "?") if n <= values else "") for n, part in enumerate(parts, start=1)
    )


def raw(table: type, sql: str, *values: Any) -> Raw:
    """``table.raw(sql, *values)`` with the template compiled once (``SQL``)."""
    return Raw(table=table, querystring=SQL(sql, *values))


PICCOLO_APPS = [
    "backend.jobs.piccolo_app",
    "backend.cases.piccolo_app",
    "backend.notifications.piccolo_app",
    "backend.integrations.piccolo_app",
    "backend.identity.piccolo_app",
    "backend.workbench.piccolo_app",
    "backend.ratings.piccolo_app",
    "backend.administration.piccolo_app",
    "backend.feedback.piccolo_app",
    "backend.links.piccolo_app",
]
"""Every context's Piccolo app, by module name (``backend.piccolo_conf`` registers them for the CLI).
Named, not imported: Piccolo imports them when the registry is built, so the database layer reaches the
contexts' tables without depending on the contexts (docs/architecture.md, "Dependency graph")."""


@functools.cache
def app_registry() -> AppRegistry:
    """The registry of every context's Piccolo app (built on first use: it imports them)."""
    return AppRegistry(apps=PICCOLO_APPS)


def table_classes() -> list[type[Table]]:
    """Every table of every app in the registry."""
    tables: list[type[Table]] = []
    for app_config in app_registry().app_configs.values():
        tables.extend(app_config.table_classes)
    return tables


def bind(engine: Engine) -> None:
    """Point every table at ``engine``."""
    for table in table_classes():
        table._meta.db = engine


async def _keep_session(connection) -> None:
    """Connections go back to the pool without asyncpg's reset query (RESET ALL, UNLISTEN, CLOSE ALL ...):
    we keep no session state, and an open transaction is still rolled back. One round trip less per query."""


# PostgreSQL not there (yet): starting, restarting, shutting down, full. A wrong password or
# database name is not among them: that fails at once.
UNREACHABLE = (OSError, TimeoutError, asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError)


async def start(engine: Engine, settings: Settings, *, retry_seconds: float = 5.0) -> None:
    """Open the pool (PostgreSQL) or set the journal mode (SQLite).

    A process that starts while PostgreSQL is unreachable waits for it (retrying with backoff up
    to ``retry_seconds`` apart, a warning each time) instead of exiting: a worker started during
    a database restart is still there when it is back (tests/faults/test_database_restart.py)."""
    if not isinstance(engine, PostgresEngine):
        await engine.run_ddl("PRAGMA journal_mode=WAL")
        return
    delay = 0.2
    try:
        await engine.start_connection_pool(min_size=1, max_size=settings.db_pool_size, reset=_keep_session)
        return
    except UNREACHABLE as exc:
        first = exc
    # Waiting: a server process stops at once on SIGTERM meanwhile (backend.lib.stopping).
    waiting = exit_on_stop_signal("database") if os.environ.get(SERVER_PROCESS) else contextlib.nullcontext()
    with waiting:
        log.warning("database unreachable at start; retrying", extra={"error": repr(first), "retry_in_s": delay})
        while True:
            await asyncio.sleep(delay)
            delay = min(delay * 2, retry_seconds)
            try:
                await engine.start_connection_pool(min_size=1, max_size=settings.db_pool_size, reset=_keep_session)
                return
            except UNREACHABLE as exc:
                log.warning("database unreachable at start; retrying", extra={"error": repr(exc), "retry_in_s": delay})


def wait_until_reachable(settings: Settings, *, retry_seconds: float = 5.0) -> None:
    """Block until PostgreSQL accepts a connection (no-op on SQLite); SIGTERM meanwhile ends the process.

    The API's supervisor calls it before uvicorn starts: uvicorn holds SIGTERM until its app has
    started, so an API that waited for the database inside its startup could not be stopped."""
    if not settings.is_postgres:
        return

    async def probe() -> None:
        connection = await asyncpg.connect(settings.database_url, timeout=5)
        await connection.close()

    delay = 0.2
    with exit_on_stop_signal("database"):
        while True:
            try:
                asyncio.run(probe())
                return
            except (*UNREACHABLE, asyncpg.PostgresError) as exc:
                log.warning("database unreachable at start; retrying", extra={"error": repr(exc), "retry_in_s": delay})
            time.sleep(delay)
            delay = min(delay * 2, retry_seconds)


# Any fixed number: the key of the advisory lock that lets one ``migrate`` at a time apply a migration.
_MIGRATION_LOCK = 0x6D696772


@contextlib.asynccontextmanager
async def one_migrate_at_a_time(engine: Engine) -> AsyncIterator[None]:
    """A write transaction that waits for any other ``migrate`` process's (PostgreSQL)."""
    async with writing_transaction(engine):
        if isinstance(engine, PostgresEngine):
            await engine.run_ddl(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        yield


async def migrate() -> list[str]:
    """Apply every pending migration of every app, in Piccolo's order; the IDs applied.

    Each migration is applied and recorded in one transaction (Piccolo's ``forwards`` committed
    them apart, so a ``migrate`` stopped between the two left tables the next run created again and
    failed on; tests/test_stopping.py). On PostgreSQL an advisory lock held by that transaction lets
    two ``migrate`` processes started at once (two replicas, a deploy retried) take turns: the second
    finds each migration recorded and skips it.
    """
    from piccolo.apps.migrations.auto.migration_manager import MigrationManager
    from piccolo.apps.migrations.commands.base import BaseMigrationManager
    from piccolo.apps.migrations.tables import Migration

    engine = Migration._meta.db
    manager = BaseMigrationManager()
    async with one_migrate_at_a_time(engine):
        await manager.create_migration_table()
    applied: list[str] = []
    for app_name in manager.get_sorted_app_names():
        app = manager.get_app_config(app_name)
        modules = manager.get_migration_modules(app.resolved_migrations_folder_path)
        ran = set(await Migration.get_migrations_which_ran(app_name=app_name))
        for migration_id in sorted(set(manager.get_migration_ids(modules)) - ran):
            async with one_migrate_at_a_time(engine):
                if migration_id in await Migration.get_migrations_which_ran(app_name=app_name):
                    continue  # another migrate applied it while this one waited
                step = await modules[migration_id].forwards()
                if isinstance(step, MigrationManager):
                    with contextlib.redirect_stdout(io.StringIO()):  # its progress lines; ours is the log below
                        await step.run()  # Piccolo's own transaction joins this one
                await Migration.insert(Migration(name=migration_id, app_name=app_name))
            log.info("migration applied", extra={"app": app_name, "migration": migration_id})
            applied.append(migration_id)
    return applied


async def stop(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()


async def ping(engine: Engine) -> None:
    """Raise if the database does not answer a trivial query."""
    await engine.run_ddl("SELECT 1")


def writing_transaction(engine: Engine):
    """A transaction for writes: IMMEDIATE on SQLite so concurrent writers queue, not fail."""
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


def stored(row: dict[str, Any] | None) -> dict[str, Any]:
    """``row`` from ``.first()`` where it must exist: just written or locked in this transaction,
    or named by a foreign key. A missing one is a defect, not something a user can cause."""
    assert row is not None, "a row that must exist is missing"
    return row
