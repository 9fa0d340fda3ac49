"""Degraded operation: what the API does while Redis or the database is unreachable.

Redis carries nothing the platform cannot lose (the database is the record; see
docs/architecture.md), so a Redis outage must degrade the service, never break it:

- **stores** (rate limits, caches): ``FallbackStore`` answers from a per-process memory
  store while Redis fails. Rate limits keep holding, per process instead of per
  deployment (fail-open only by the factor of API processes), and a warning is logged.
- **channels** (live updates): ``ResilientRedisChannels`` drops publishes it cannot send
  (the timeline in the database is the record; clients that miss an event see it on their
  next read), keeps the channels subscribers want, and re-subscribes when Redis returns.
  Litestar's own Redis backend lets the plugin's publish and subscribe tasks die on the
  first connection error, after which live updates never work again in that process.
- **wake-ups**: ``backend.jobs.RedisWaker`` already logs and lets workers run on timers.

A database outage cannot be degraded around: the API answers ``503 database_unavailable``
(problem details with ``Retry-After``) instead of a 500 with a stack trace in the log,
and workers back off and reconnect (``backend.jobs.worker``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Iterable
from datetime import timedelta
from typing import Any

from litestar import Request, Response
from litestar.channels.backends.base import ChannelsBackend
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore

from backend.lib.problems import Problem, problem_response

log = logging.getLogger("backend.degraded")

#: How long a component that saw Redis fail skips it before trying again (fail fast meanwhile).
REDIS_RETRY_AFTER_SECONDS = 1.0


def redis_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean "Redis is unreachable" (not a programming error)."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError, OSError)


class _Breaker:
    """Remembers a failure for a moment so that every request does not wait on a dead Redis."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.down_until = 0.0
        self.down = False

    @property
    def open(self) -> bool:
        return time.monotonic() < self.down_until

    def failed(self, exc: BaseException) -> None:
        if not self.down:
            log.warning("redis unavailable: degraded", extra={"component": self.what, "error": repr(exc)})
        self.down = True
        self.down_until = time.monotonic() + REDIS_RETRY_AFTER_SECONDS

    def succeeded(self) -> None:
        if self.down:
            log.warning("redis available again", extra={"component": self.what})
        self.down = False
        self.down_until = 0.0


class FallbackStore(Store):
    """A Redis store that falls back to a per-process memory store while Redis is down."""

    __slots__ = ("primary", "fallback", "breaker")

    def __init__(self, primary: Store, name: str) -> None:
        self.primary = primary
        self.fallback = MemoryStore()
        self.breaker = _Breaker(f"store:{name}")

    async def _call(self, method: str, *args: Any) -> Any:
        if not self.breaker.open:
            try:
                result = await getattr(self.primary, method)(*args)
            except redis_errors() as exc:
                self.breaker.failed(exc)
            else:
                self.breaker.succeeded()
                return result
        return await getattr(self.fallback, method)(*args)

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        await self._call("set", key, value, expires_in)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        return await self._call("get", key, renew_for)

    async def delete(self, key: str) -> None:
        await self._call("delete", key)

    async def delete_all(self) -> None:
        await self._call("delete_all")

    async def exists(self, key: str) -> bool:
        return await self._call("exists", key)

    async def expires_in(self, key: str) -> int | None:
        return await self._call("expires_in", key)


class ResilientRedisChannels(ChannelsBackend):
    """Litestar channels over Redis pub/sub that survive Redis outages (see the module doc)."""

    def __init__(self, redis: Any, *, key_prefix: str = "LITESTAR_CHANNELS") -> None:
        self._redis = redis
        self._wanted: set[str] = set()
        self._pubsub: Any = None
        self._subscribed: set[str] = set()
        self._changed: asyncio.Event | None = None
        self.publish_breaker = _Breaker("channels:publish")
        self.stream_breaker = _Breaker("channels:subscribe")

    def _event(self) -> asyncio.Event:
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    async def on_startup(self) -> None:
        pass

    async def on_shutdown(self) -> None:
        await self._drop_pubsub()

    async def _drop_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        self._subscribed = set()
        if pubsub is not None:
            # Closing a broken connection may fail; it is gone either way.
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def _sync_subscriptions(self) -> None:
        """Make Redis hold exactly the channels local subscribers want."""
        if self._pubsub is None:
            self._pubsub = self._redis.pubsub()
        add, remove = self._wanted - self._subscribed, self._subscribed - self._wanted
        if add:
            await self._pubsub.subscribe(*add)
            self._subscribed |= add
        if remove:
            await self._pubsub.unsubscribe(*remove)
            self._subscribed -= remove

    @property
    def down(self) -> bool:
        """True from a failed Redis call until the stream loop reaches Redis again."""
        return self.stream_breaker.down

    async def subscribe(self, channels: Iterable[str]) -> None:
        """Returns once Redis holds the subscription (at most ~0.2 s), so a subscriber that reads a
        snapshot next misses nothing published after it; while Redis is down, at once."""
        channels = set(channels)
        self._wanted.update(channels)
        self._event().set()  # the stream loop subscribes (now, or when Redis is back)
        deadline = time.monotonic() + 1.0
        # A bounded poll (noqa): the wait also ends when Redis goes down, which no single event marks.
        while not self.down and not channels <= self._subscribed and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        self._wanted.difference_update(channels)
        self._event().set()

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        await self.publish_many([(data, channel) for channel in set(channels)])

    async def publish_many(self, messages: list[tuple[bytes, str]]) -> None:
        """(data, channel) messages, in order, in one round trip: what one change publishes."""
        if self.publish_breaker.open:
            return  # dropped: live updates are best effort, the timeline is the record
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for data, channel in messages:
                    pipe.publish(channel, data)
                await pipe.execute()
        except redis_errors() as exc:
            self.publish_breaker.failed(exc)
            self.stream_breaker.failed(exc)  # the stream loop notices Redis is back
        else:
            self.publish_breaker.succeeded()

    async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
        delay = 0.2
        while True:
            try:
                if self._wanted != self._subscribed:
                    await self._sync_subscriptions()
                if not self._subscribed:
                    if self.down:
                        await self._redis.ping()
                        self.stream_breaker.succeeded()
                    changed = self._event()
                    changed.clear()
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(changed.wait(), timeout=1.0)
                    continue
                message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
                self.stream_breaker.succeeded()
                delay = 0.2
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis gone: start over with a fresh connection
                self.stream_breaker.failed(exc)
                await self._drop_pubsub()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            if message is None or message.get("type") != "message":
                continue
            channel = message["channel"].decode() if isinstance(message["channel"], bytes) else message["channel"]
            if channel in self._wanted:
                yield channel, message["data"]

    async def get_history(self, channel: str, limit: int | None = None) -> list[bytes]:
        """Part of Litestar's backend interface; pub/sub keeps no history (as Litestar's own
        ``RedisChannelsPubSubBackend``), and nothing here asks for it: clients read the timeline."""
        raise NotImplementedError("pub/sub keeps no history")


def database_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean "the database is unreachable" (restarting, network, pool)."""
    errors: list[type[BaseException]] = [ConnectionError]
    try:
        import asyncpg

        errors += [
            asyncpg.PostgresConnectionError,
            asyncpg.exceptions.OperatorInterventionError,
            asyncpg.InterfaceError,
            # a connection the server ended mid-transaction (a restart): asyncpg is still consuming
            # the server's error when the next statement (often COMMIT) starts, "cannot switch to state"
            asyncpg.exceptions.InternalClientError,
        ]
    except ImportError:  # embedded mode without asyncpg installed
        pass
    return tuple(errors)


def handle_database_unavailable(request: Request, exc: Exception) -> Response:
    """503 ``database_unavailable``: the client may retry; what was saved is safe."""

    log.warning("database unavailable", extra={"path": request.url.path, "error": repr(exc)})
    return problem_response(
        request,
        Problem(
            type="/problems/database-unavailable",
            title="Service Unavailable",
            status=503,
            code="database_unavailable",
            detail=(
                "系统暂时无法访问数据库，请稍后重试；已保存的内容不会丢失。 "
                "The database is briefly unavailable; please retry. Nothing you saved is lost."
            ),
        ),
        {"Retry-After": "5"},
    )


def outage_exception_handlers() -> dict[Any, Any]:
    """Exception handlers for the composition root: database outages answer 503, not 500."""
    return {error: handle_database_unavailable for error in database_errors()}
