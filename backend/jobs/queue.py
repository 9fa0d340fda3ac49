"""The queue: enqueue, claim, finish, retry and dead-letter jobs, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

import msgspec
from piccolo.engine.postgres import PostgresEngine
from piccolo.query.functions.aggregate import Count

from backend.db import raw
from backend.jobs.tables import Job
from backend.jobs.waker import Waker
from backend.lib.clock import Clock

BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 300.0


class RetryLater(Exception):
    """A handler's way to say "not now": retried with backoff (or after ``delay`` seconds)."""

    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.delay = delay


class PermanentFailure(Exception):
    """A handler's way to say "never": the job is dead-lettered at once."""


class JobContext(msgspec.Struct, frozen=True):
    """What a handler receives."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    worker: str = ""  # the worker holding the lease (``Queue.complete_sql``)


_JITTER = random.Random()  # noqa: S311  # jitter spreads retries; it is not a secret


def backoff_seconds(attempts: int, rng: random.Random = _JITTER) -> float:
    """Capped exponential backoff with equal jitter: half fixed, half random."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


class Queue:
    """Table-backed job queue; ``notify`` wakes the workers after a commit."""

    def __init__(self, waker: Waker, clock: Clock) -> None:
        self.waker = waker
        self.clock = clock

    async def enqueue(
        self,
        kind: str,
        payload: dict[str, Any] | None = None,
        *,
        delay_seconds: float = 0,
        dedupe_key: str | None = None,
        max_attempts: int = 12,
    ) -> None:
        """Write a job row; inside a transaction it commits (or not) with the caller's change.

        A ``dedupe_key`` makes the enqueue idempotent: a second job with the same key is
        not created. Call ``notify`` after the surrounding transaction commits.
        """
        await self.enqueue_many(
            kind, [(payload or {}, dedupe_key)], delay_seconds=delay_seconds, max_attempts=max_attempts
        )

    async def enqueue_many(
        self,
        kind: str,
        jobs: list[tuple[dict[str, Any], str | None]],
        *,
        delay_seconds: float = 0,
        max_attempts: int = 12,
    ) -> None:
        """``enqueue`` for several ``(payload, dedupe_key)`` jobs of one kind, in one statement."""
        if jobs:
            sql, values = self.enqueue_sql(kind, jobs, delay_seconds=delay_seconds, max_attempts=max_attempts)
            await raw(Job, sql, *values)

    def enqueue_sql(
        self,
        kind: str,
        jobs: list[tuple[dict[str, Any], str | None]],
        *,
        delay_seconds: float = 0,
        max_attempts: int = 12,
    ) -> tuple[str, list[Any]]:
        """``enqueue_many``'s statement and values, to run with another (``timeline.append(along=...)``).
        Raw: Piccolo's insert building cost more than the insert (jobs are written on every send and outcome)."""
        now = self.clock.now_ms()
        values: list[Any] = []
        for payload, key in jobs:
            values += [
                kind,
                msgspec.json.encode(payload).decode(),
                max_attempts,
                now + int(delay_seconds * 1000),
                key,
                now,
            ]
        sql = (
            "INSERT INTO job (kind, payload, status, attempts, max_attempts, run_at, locked_by, locked_until, "  # noqa: S608 - placeholders only
            "last_error, dedupe_key, created_at) VALUES "
            + ", ".join(["({}, {}, 'pending', 0, {}, {}, NULL, 0, '', {}, {})"] * len(jobs))
            + " ON CONFLICT (dedupe_key) DO NOTHING"
        )
        return sql, values

    async def notify(self) -> None:
        """Wake the workers (in this process, or every process through Redis)."""
        await self.waker.notify()

    async def claim(self, worker_id: str, kinds: Iterable[str], limit: int, lease_seconds: float) -> list[JobContext]:
        """Take up to ``limit`` due jobs of ``kinds``: pending ones first, then ones whose lease ran out.

        One statement, each condition on its own partial index (pending by ``run_at``, running
        by ``locked_until``; one condition over both walked every finished job): the second
        branch is read only when the first leaves room, and two statements cost a round trip
        per claim for a lease that runs out once in a long while.
        """
        kinds = list(kinds)
        if not kinds or limit <= 0:
            return []
        now = self.clock.now_ms()
        lock = " FOR UPDATE SKIP LOCKED" if isinstance(Job._meta.db, PostgresEngine) else ""
        kind_list = ", ".join("{}" for _ in kinds)

        def due(name: str, condition: str, order: str) -> str:
            # Only our constant text below (conditions, columns, placeholders); the values are bound.
            return (
                f"SELECT id FROM (SELECT id FROM job WHERE {condition} AND kind IN ({kind_list}) "  # noqa: S608 - see above
                f"ORDER BY {order} LIMIT {{}}{lock}) AS {name}"
            )

        pending = due("pending", "status = 'pending' AND run_at <= {}", "run_at")
        expired = due("expired", "status = 'running' AND locked_until <= {}", "locked_until")
        # The jobs are picked once, in a materialized CTE. As ``WHERE id IN (subquery)`` the planner
        # may run the subquery again for every row of the table (a nested-loop semi join, chosen when
        # the statistics say the table is nearly empty), and each run locked and returned another
        # job: a claim for one took every due job (tests/jobs/test_queue.py).
        rows = await raw(
            Job,
            f"WITH picked AS MATERIALIZED ({pending} UNION ALL {expired} LIMIT {{}}) "  # noqa: S608 - ours
            "UPDATE job SET status = 'running', attempts = attempts + 1, locked_by = {}, locked_until = {} "
            "WHERE id IN (SELECT id FROM picked) RETURNING id, kind, payload, attempts, max_attempts",
            now,
            *kinds,
            limit,
            now,
            *kinds,
            limit,
            limit,
            worker_id,
            now + int(lease_seconds * 1000),
        )
        return [
            JobContext(
                id=row["id"],
                kind=row["kind"],
                payload=msgspec.json.decode(row["payload"]),
                attempts=row["attempts"],
                max_attempts=row["max_attempts"],
                worker=worker_id,
            )
            for row in rows
        ]

    def complete_sql(self, job: JobContext, worker_id: str | None = None) -> tuple[str, list[Any]]:
        """The statement marking ``job`` done while its lease is still held, and its values: a
        handler may run it with its own writes (``timeline.append(along=...)``) and return
        True, so the worker does not spend a round trip on it afterwards."""
        return (
            "UPDATE job SET status = 'done', finished_at = {}, locked_by = NULL, last_error = '' "
            "WHERE id = {} AND locked_by = {}",
            [self.clock.now_ms(), job.id, worker_id or job.worker],
        )

    async def complete(self, job: JobContext, worker_id: str) -> None:
        sql, values = self.complete_sql(job, worker_id)
        await raw(Job, sql, *values)

    async def fail(
        self, job: JobContext, worker_id: str, error: str, *, permanent: bool = False, delay: float | None = None
    ) -> str:
        """Record a failed attempt: retry later, or dead-letter after the last one. Returns the new status."""
        now = self.clock.now_ms()
        if permanent or job.attempts >= job.max_attempts:
            status, run_at = "dead", now
        else:
            status = "pending"
            run_at = now + int(1000 * (delay if delay is not None else backoff_seconds(job.attempts)))
        await Job.update(
            {
                Job.status: status,
                Job.run_at: run_at,
                Job.locked_by: None,
                Job.locked_until: 0,
                Job.last_error: error[:2000],
            }
        ).where((Job.id == job.id) & (Job.locked_by == worker_id))
        return status

    async def redrive(self, job_id: int) -> bool:
        """Send a dead-lettered job round again with fresh attempts."""
        rows = (
            await Job.update(
                {Job.status: "pending", Job.attempts: 0, Job.run_at: self.clock.now_ms(), Job.last_error: ""}
            )
            .where((Job.id == job_id) & (Job.status == "dead"))
            .returning(Job.id)
        )
        if rows:
            await self.notify()
        return bool(rows)

    async def next_due_ms(self, kinds: Iterable[str]) -> int | None:
        """When the next job of ``kinds`` becomes claimable, if any is waiting (on the partial indexes)."""
        kinds = list(kinds)
        if not kinds:
            return None
        kind_list = ", ".join("{}" for _ in kinds)
        rows = await raw(
            Job,
            f"SELECT (SELECT MIN(run_at) FROM job WHERE status = 'pending' AND kind IN ({kind_list})) AS pending, "  # noqa: S608 - placeholders only
            f"(SELECT MIN(locked_until) FROM job WHERE status = 'running' AND kind IN ({kind_list})) AS running",
            *kinds,
            *kinds,
        )
        due = [int(v) for v in (rows[0]["pending"], rows[0]["running"]) if v is not None] if rows else []
        return min(due) if due else None

    async def counts(self) -> dict[str, int]:
        """Jobs by status, for readiness and the back office."""
        rows = await Job.select(Job.status, Count(Job.id, alias="n")).group_by(Job.status)
        return {row["status"]: row["n"] for row in rows}
