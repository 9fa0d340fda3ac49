"""Durable background jobs: a table-backed queue, a worker, and wake-ups.

Work is written as rows (in the same transaction as the change that causes it, so nothing
is lost between "saved" and "queued"), claimed by any number of workers (row locks with
``SKIP LOCKED`` on PostgreSQL, a single atomic UPDATE on SQLite), retried with capped
exponential backoff and jitter, and dead-lettered after its last attempt. A lease lets
another worker take over a job whose worker died (SIGKILL) mid-run.
"""

from backend.jobs.queue import JobContext, PermanentFailure, Queue, RetryLater
from backend.jobs.waker import MemoryWaker, RedisWaker, Waker
from backend.jobs.worker import Worker

__all__ = [
    "JobContext",
    "MemoryWaker",
    "PermanentFailure",
    "Queue",
    "RedisWaker",
    "RetryLater",
    "Waker",
    "Worker",
]
