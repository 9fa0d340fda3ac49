"""Wake-ups: workers sleep until told there is work (or until the next job falls due).

Embedded mode wakes the in-process worker directly; production publishes on a Redis
channel every worker process listens to. A lost wake-up only costs latency: workers also
wake at the next due time and at an idle timeout, so nothing depends on delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger("backend.jobs")
CHANNEL = "jobs:wake"


class Waker(Protocol):
    async def notify(self) -> None: ...

    async def listen(self, poke: Callable[[], None]) -> None:
        """Call ``poke`` on every notification until cancelled."""
        ...


class MemoryWaker:
    """Wake-ups within one process."""

    def __init__(self) -> None:
        self._listeners: set[Callable[[], None]] = set()

    async def notify(self) -> None:
        for poke in list(self._listeners):
            poke()

    async def listen(self, poke: Callable[[], None]) -> None:
        self._listeners.add(poke)
        try:
            await asyncio.Event().wait()
        finally:
            self._listeners.discard(poke)


class RedisWaker:
    """Wake-ups across processes through Redis pub/sub; survives Redis outages."""

    def __init__(self, redis) -> None:  # redis.asyncio.Redis
        self.redis = redis

    async def notify(self) -> None:
        try:
            await self.redis.publish(CHANNEL, b"1")
        except Exception as exc:  # Redis down: workers still wake on their timers
            log.warning("wake-up not published", extra={"error": repr(exc)})

    async def listen(self, poke: Callable[[], None]) -> None:
        delay = 0.5
        lost = False
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                if lost:
                    log.warning("wake-up channel back", extra={"channel": CHANNEL})
                delay = 0.5
                lost = False
                poke()  # after (re)connecting, look for work missed meanwhile
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        poke()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("wake-up channel lost; retrying", extra={"error": repr(exc), "retry_in": delay})
                lost = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
            finally:
                with contextlib.suppress(Exception):  # closing a broken connection may fail; it is gone anyway
                    await pubsub.aclose()
