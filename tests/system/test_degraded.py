"""Stores and live-update channels keep working through a Redis outage (a real redis-server,
stopped and started again), and use Redis again once it is back."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from litestar.stores.redis import RedisStore
from redis.asyncio import Redis

from backend.system.degraded import FallbackStore, ResilientRedisChannels
from tests.servers import RedisServer

pytestmark = [pytest.mark.redis]


def client(server: RedisServer) -> Redis:
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return Redis.from_url(server.url, socket_connect_timeout=1, retry=Retry(NoBackoff(), 1))


async def test_store_falls_back_to_this_process_and_returns_to_redis(own_redis):
    redis = client(own_redis)
    store = FallbackStore(RedisStore(redis, namespace="t"), "t")
    try:
        await store.set("a", b"1")
        assert await redis.get("t:a") == b"1"  # shared through Redis while it is up
        own_redis.stop()
        await store.set("b", b"2", expires_in=60)  # no error: kept in this process
        assert await store.get("b") == b"2" and await store.exists("b")
        own_redis.start()
        store.breaker.down_until = 0  # skip the short wait before Redis is tried again
        await store.set("c", b"3")
        assert await redis.get("t:c") == b"3" and not store.breaker.down
    finally:
        await redis.aclose()


async def test_channels_survive_an_outage_and_deliver_again(own_redis):
    redis = client(own_redis)
    channels = ResilientRedisChannels(redis)
    received: list[bytes] = []

    async def consume() -> None:
        async for _, data in channels.stream_events():
            received.append(data)

    async def until(predicate, timeout: float = 15.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            assert asyncio.get_running_loop().time() < deadline, "condition not met"
            await asyncio.sleep(0.05)

    consumer = asyncio.create_task(consume())
    try:
        await channels.subscribe(["case:x"])

        async def publish_until_received(data: bytes) -> None:
            deadline = asyncio.get_running_loop().time() + 15
            while data not in received:
                assert asyncio.get_running_loop().time() < deadline, "never delivered"
                channels.publish_breaker.down_until = 0
                await channels.publish(data, ["case:x"])
                await asyncio.sleep(0.2)

        await publish_until_received(b"before")
        own_redis.stop()
        await channels.publish(b"lost", ["case:x"])  # dropped with a warning, never raised
        await until(lambda: channels.down)
        own_redis.start()
        await until(lambda: not channels.down)  # re-subscribed on its own
        await publish_until_received(b"after")
        assert b"lost" not in received
    finally:
        consumer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await consumer
        await channels.on_shutdown()
        await redis.aclose()
