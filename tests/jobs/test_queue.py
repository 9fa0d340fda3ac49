"""The job queue on both engines: claims, retries, dead letters, leases, concurrent workers."""

from __future__ import annotations

import asyncio
import collections

import pytest

from backend import db
from backend.jobs import JobContext, MemoryWaker, PermanentFailure, Queue, RedisWaker, RetryLater, Worker
from backend.jobs.queue import backoff_seconds
from backend.jobs.tables import Job
from backend.lib.clock import VirtualClock
from backend.settings import load_settings


@pytest.fixture(params=["sqlite", "postgres"])
async def engine(request):
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    settings = load_settings(env={}, database_url=url)
    engine = db.make_engine(settings)
    db.bind(engine)
    await db.start(engine, settings)
    await Job.delete(force=True)
    yield engine
    await db.stop(engine)


@pytest.fixture
def clock():
    return VirtualClock(start_ms=1_800_000_000_000)


@pytest.fixture
def queue(engine, clock):
    return Queue(MemoryWaker(), clock)


async def test_claim_runs_each_due_job_once_in_order(queue, clock):
    await queue.enqueue("demo", {"n": 1})
    await queue.enqueue("demo", {"n": 2}, delay_seconds=10)
    await queue.enqueue("other", {"n": 3})

    first = await queue.claim("w1", ["demo"], 10, lease_seconds=60)
    assert [job.payload for job in first] == [{"n": 1}]
    assert first[0].attempts == 1
    assert await queue.claim("w2", ["demo"], 10, lease_seconds=60) == []

    clock.advance(10)
    second = await queue.claim("w2", ["demo"], 10, lease_seconds=60)
    assert [job.payload for job in second] == [{"n": 2}]


async def test_counts_jobs_by_status(queue):
    # counts() once called a column method Piccolo does not have and raised AttributeError.
    await queue.enqueue("demo", {"n": 1})
    await queue.enqueue("demo", {"n": 2})
    await queue.claim("w1", ["demo"], 1, lease_seconds=60)
    assert await queue.counts() == {"pending": 1, "running": 1}


async def test_a_claim_takes_no_more_jobs_than_its_limit_whatever_the_plan(queue):
    # With statistics that say the table is nearly empty (an ANALYZE after a quiet spell), PostgreSQL
    # ran the claim's ``id IN (… LIMIT n FOR UPDATE SKIP LOCKED)`` once per row of the table, and a
    # claim for one job took both (the test above failed that way now and then in full runs).
    for n in range(500):
        await queue.enqueue("other", {"n": n})
    await Job.delete(force=True)
    await Job.raw("ANALYZE job")
    for n in range(3):
        await queue.enqueue("demo", {"n": n})
    claimed = await queue.claim("w1", ["demo"], 1, lease_seconds=60)
    assert [job.payload for job in claimed] == [{"n": 0}]
    assert await queue.counts() == {"pending": 2, "running": 1}


async def test_dedupe_key_makes_enqueue_idempotent(queue):
    for _ in range(3):
        await queue.enqueue("demo", {"n": 1}, dedupe_key="case-1:TAX-UNIFIED:submit")
    assert await Job.count().where(Job.dedupe_key == "case-1:TAX-UNIFIED:submit") == 1


async def test_failure_backs_off_then_dead_letters_then_redrives(queue, clock):
    await queue.enqueue("demo", {}, max_attempts=2)
    [job] = await queue.claim("w1", ["demo"], 1, 60)
    assert await queue.fail(job, "w1", "HTTP 503") == "pending"
    assert await queue.claim("w1", ["demo"], 1, 60) == []  # backing off

    clock.advance(backoff_seconds(1) + 1)
    [job] = await queue.claim("w1", ["demo"], 1, 60)
    assert job.attempts == 2
    assert await queue.fail(job, "w1", "HTTP 503") == "dead"
    row = await Job.select().where(Job.id == job.id).first()
    assert row["status"] == "dead" and row["last_error"] == "HTTP 503"

    assert await queue.redrive(job.id) is True
    [again] = await queue.claim("w1", ["demo"], 1, 60)
    assert again.id == job.id and again.attempts == 1


async def test_expired_lease_lets_another_worker_take_over(queue, clock):
    await queue.enqueue("demo", {})
    [job] = await queue.claim("dead-worker", ["demo"], 1, lease_seconds=30)
    assert await queue.claim("w2", ["demo"], 1, 30) == []
    clock.advance(31)
    [taken] = await queue.claim("w2", ["demo"], 1, 30)
    assert taken.id == job.id and taken.attempts == 2
    # the first worker's late completion must not clobber the new owner's lease
    await queue.complete(job, "dead-worker")
    assert (await Job.select(Job.status).where(Job.id == job.id).first())["status"] == "running"


async def test_a_claim_takes_due_jobs_before_expired_leases_within_its_limit(queue, clock):
    await queue.enqueue("demo", {"n": "abandoned"})
    [abandoned] = await queue.claim("dead-worker", ["demo"], 1, lease_seconds=30)
    clock.advance(31)
    await queue.enqueue("demo", {"n": "new"})
    await queue.enqueue("demo", {"n": "later"}, delay_seconds=60)

    [first] = await queue.claim("w2", ["demo"], 1, 30)
    assert first.payload == {"n": "new"}  # the limit filled by a pending job: the expired lease waits
    assert (await Job.select(Job.locked_by).where(Job.id == abandoned.id).first())["locked_by"] == "dead-worker"

    await queue.enqueue("demo", {"n": "newer"})
    claimed = await queue.claim("w3", ["demo"], 5, 30)
    assert {job.payload["n"]: job.attempts for job in claimed} == {
        "newer": 1,
        "abandoned": 2,
    }  # never the one due later
    assert await queue.claim("w4", ["demo"], 5, 30) == []


def test_backoff_is_capped_and_jittered():
    import random

    rng = random.Random(7)
    values = [backoff_seconds(n, rng) for n in range(1, 30)]
    assert all(0 < v <= 300 for v in values)
    assert values[0] <= 1 and values[-1] >= 150
    assert len({round(v, 6) for v in values[-10:]}) > 1


async def test_workers_share_jobs_without_running_any_twice(engine, request):
    """Four workers on one database handle 120 jobs, each exactly once."""
    from backend.lib.clock import SystemClock

    waker = MemoryWaker()
    queue = Queue(waker, SystemClock())
    seen: collections.Counter = collections.Counter()
    total = 120

    async def handler(job: JobContext) -> None:
        seen[job.payload["n"]] += 1
        await asyncio.sleep(0)

    for n in range(total):
        await queue.enqueue("count", {"n": n})
    stop = asyncio.Event()
    workers = [Worker(queue, {"count": handler}, concurrency=4, idle_seconds=0.2) for _ in range(4)]
    tasks = [asyncio.create_task(w.run(stop)) for w in workers]
    for _ in range(200):
        if await Job.count().where(Job.status == "done") == total:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*tasks)
    assert await Job.count().where(Job.status == "done") == total
    assert sorted(seen) == list(range(total)) and set(seen.values()) == {1}


async def test_worker_retries_and_dead_letters_by_outcome(engine):
    from backend.lib.clock import SystemClock

    queue = Queue(MemoryWaker(), SystemClock())
    calls: collections.Counter = collections.Counter()

    async def flaky(job: JobContext) -> None:
        calls[job.kind] += 1
        if job.attempts < 2:
            raise RetryLater("agency busy", delay=0)

    async def broken(job: JobContext) -> None:
        calls[job.kind] += 1
        raise PermanentFailure("malformed payload")

    await queue.enqueue("flaky", {})
    await queue.enqueue("broken", {})
    stop = asyncio.Event()
    task = asyncio.create_task(Worker(queue, {"flaky": flaky, "broken": broken}, idle_seconds=0.1).run(stop))
    for _ in range(100):
        statuses = {r["kind"]: r["status"] for r in await Job.select(Job.kind, Job.status)}
        if statuses == {"flaky": "done", "broken": "dead"}:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await task
    assert statuses == {"flaky": "done", "broken": "dead"}
    assert calls == {"flaky": 2, "broken": 1}


@pytest.mark.redis
async def test_redis_wakes_a_sleeping_worker_in_another_process(pg_url, redis_url):
    """A notify published through Redis wakes a worker long before its idle timeout."""
    from redis.asyncio import Redis

    from backend.lib.clock import SystemClock

    settings = load_settings(env={}, database_url=pg_url)
    engine = db.make_engine(settings)
    db.bind(engine)
    await db.start(engine, settings)
    await Job.delete(force=True)
    publisher, subscriber = Redis.from_url(redis_url), Redis.from_url(redis_url)
    done = asyncio.Event()

    async def handler(job: JobContext) -> None:
        done.set()

    worker_queue = Queue(RedisWaker(subscriber), SystemClock())
    api_queue = Queue(RedisWaker(publisher), SystemClock())
    stop = asyncio.Event()
    task = asyncio.create_task(Worker(worker_queue, {"wake": handler}, idle_seconds=60).run(stop))
    await asyncio.sleep(0.5)  # the worker is now asleep with nothing due
    await api_queue.enqueue("wake", {})
    await api_queue.notify()
    await asyncio.wait_for(done.wait(), timeout=5)
    stop.set()
    await task
    await publisher.aclose()
    await subscriber.aclose()
    await db.stop(engine)
