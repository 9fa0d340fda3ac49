"""The worker: claims due jobs, runs their handlers, records the outcome, sleeps until woken."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping

from backend.jobs.queue import JobContext, PermanentFailure, Queue, RetryLater
from backend.lib import metrics

log = logging.getLogger("backend.jobs")

# A handler returns True when its own transaction marked the job done (``Queue.complete_sql``).
Handler = Callable[[JobContext], Awaitable[bool | None]]

# How long a worker trusts what it last learnt of the next job due later. A busy worker goes
# to sleep after every empty claim (every wake-up reaches every worker); asking each time walked
# the index entries of every job just finished (dead until vacuumed or noticed): the costliest
# statement per agency submission in the pipeline benchmark. Jobs queued for now wake the workers.
DUE_RECHECK_SECONDS = 1.0


class Worker:
    """Runs up to ``concurrency`` jobs at once; any number of workers may share one database."""

    def __init__(
        self,
        queue: Queue,
        handlers: Mapping[str, Handler],
        *,
        concurrency: int = 16,
        lease_seconds: float = 60.0,
        idle_seconds: float = 30.0,
        worker_id: str | None = None,
    ) -> None:
        self.queue = queue
        self.handlers = dict(handlers)
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self.idle_seconds = idle_seconds
        self.id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._poke = asyncio.Event()
        self._inflight: set[asyncio.Task] = set()
        self._next_due: int | None = None  # the queue's next due time, as last read ...
        self._due_read_at = -DUE_RECHECK_SECONDS  # ... at this time.monotonic()

    def poke(self) -> None:
        """Look for work now."""
        self._poke.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set, then let running jobs finish."""
        listener = asyncio.create_task(self.queue.waker.listen(self.poke))
        log.info("worker started", extra={"worker": self.id, "kinds": sorted(self.handlers)})
        try:
            while not stop.is_set():
                self._poke.clear()
                # Claim once, then sleep: a claim that filled fewer slots than were free found nothing
                # else due (claiming again at once cost a statement for nothing), and one that filled
                # them all waits for a slot (``_finished``).
                for job in await self._claim_safely():
                    task = asyncio.create_task(self._run(job))
                    self._inflight.add(task)
                    task.add_done_callback(self._finished)
                await self._sleep(stop)
        finally:
            listener.cancel()
            if self._inflight:
                await asyncio.gather(*self._inflight, return_exceptions=True)
            log.info("worker stopped", extra={"worker": self.id})

    def _finished(self, task: asyncio.Task) -> None:
        """A job ended: look for more once half the slots are free (or none is busy), so a busy
        worker claims in batches, not one query per finished job; new work still wakes it at once."""
        self._inflight.discard(task)
        if not self._inflight or self.concurrency - len(self._inflight) >= max(1, self.concurrency // 2):
            self._poke.set()

    async def _claim_safely(self) -> list[JobContext]:
        free = self.concurrency - len(self._inflight)
        try:
            return await self.queue.claim(self.id, self.handlers, free, self.lease_seconds)
        except Exception as exc:  # database restarting: back off and try again
            log.warning("claim failed", extra={"worker": self.id, "error": repr(exc)})
            await asyncio.sleep(1.0)
            return []

    async def _sleep(self, stop: asyncio.Event) -> None:
        """Until poked, stopped, the next job due later (read at most once a second, so a job
        queued for later by another process waits at most that much longer), or idle_seconds."""
        timeout = self.idle_seconds
        if len(self._inflight) < self.concurrency:
            age = time.monotonic() - self._due_read_at
            if age >= DUE_RECHECK_SECONDS or (
                self._next_due is not None and self._next_due <= self.queue.clock.now_ms()
            ):
                try:
                    self._next_due = await self.queue.next_due_ms(self.handlers)
                    self._due_read_at = time.monotonic()
                except Exception:
                    self._next_due, self._due_read_at = None, -DUE_RECHECK_SECONDS
            else:
                timeout = min(timeout, DUE_RECHECK_SECONDS - age)
            if self._next_due is not None:
                timeout = min(timeout, max(0.0, (self._next_due - self.queue.clock.now_ms()) / 1000))
        if timeout <= 0:
            return
        stopper = asyncio.create_task(stop.wait())
        poked = asyncio.create_task(self._poke.wait())
        try:
            await asyncio.wait({stopper, poked}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
            poked.cancel()

    async def _run(self, job: JobContext) -> None:
        handler = self.handlers[job.kind]
        extra = {"worker": self.id, "job": job.id, "kind": job.kind, "attempt": job.attempts}
        try:
            if job.attempts > job.max_attempts:
                raise PermanentFailure("lease expired on the last attempt")
            completed = await handler(job)
        except PermanentFailure as exc:
            await self._record_failure(job, repr(exc), permanent=True, extra=extra)
        except RetryLater as exc:
            await self._record_failure(job, str(exc), delay=exc.delay, extra=extra)
        except Exception as exc:
            await self._record_failure(job, repr(exc), extra=extra)
        else:
            metrics.JOBS_FINISHED.labels(job.kind, "done").inc()
            if completed is True:
                return
            try:
                await self.queue.complete(job, self.id)
            except Exception as exc:  # the lease will expire and the job run again; handlers are idempotent
                log.warning("completion not recorded", extra={**extra, "error": repr(exc)})

    async def _record_failure(
        self, job: JobContext, error: str, *, permanent: bool = False, delay: float | None = None, extra: dict
    ) -> None:
        try:
            status = await self.queue.fail(job, self.id, error, permanent=permanent, delay=delay)
        except Exception as exc:
            log.warning("failure not recorded", extra={**extra, "error": repr(exc)})
            return
        self._due_read_at = -DUE_RECHECK_SECONDS  # a retry may now be the next job due
        metrics.JOBS_FINISHED.labels(job.kind, "dead" if status == "dead" else "retry").inc()
        level = logging.ERROR if status == "dead" else logging.WARNING
        log.log(level, "job failed", extra={**extra, "error": error, "status": status})
