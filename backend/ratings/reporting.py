"""Reporting to the provincial 好差评 system (国办发〔2019〕51号: every rating, in real time).

Every rating event (a rating, each step of a bad rating's follow-up, an appeal and its
re-review) writes one ``RatingPush`` row and one ``ratings.report`` job *in the transaction
that makes the event* (outbox): a committed rating is always reported, an aborted one never.

Delivery (``deliver_job``) keeps a chain in order: before sending its own report, a job sends
every earlier undelivered report of the same chain, oldest first, and stops at the first that
cannot be delivered now; so while the system is down reports wait, and when it is back they
arrive in order. Each report's ``message_id`` is its ``Idempotency-Key``: two jobs sending the
same report (a lease that ran out, a redrive) reach the system as one message.

Errors: network trouble and 5xx/429 are retried (``RetryLater``, the queue's capped
exponential backoff with jitter, up to ``MAX_ATTEMPTS``: about 3 hours of outage) and then the
job is dead-lettered and the report marked ``failed`` (staff see it and may re-drive the job);
a refusal by the system (422 with reasons) is a result: the report is ``failed`` with the
reasons, and the chain goes on. Other 4xx (our key not registered ...) dead-letter at once.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec

from backend.connectors.base import PermanentError, TransientError
from backend.connectors.haochaping import AppealData, FollowUpData, RatingData, RatingReport
from backend.jobs import JobContext, PermanentFailure, RetryLater
from backend.jobs.queue import backoff_seconds
from backend.ratings.standard import LEVELS
from backend.ratings.tables import RatingPush

log = logging.getLogger("backend.ratings.reporting")

REPORT_JOB = "ratings.report"
SYSTEM = "haochaping"
#: With the queue's backoff (capped at 5 minutes), about 3 hours before a report is dead-lettered.
MAX_ATTEMPTS = 40
#: How long a job waits when no 好差评 system is configured (a deployment still being set up).
UNCONFIGURED_DELAY = 600.0
SOURCE = "fj-yjs"  # the platform as the provincial system knows it (企业注销“一件事”)
CST = timezone(timedelta(hours=8))


def cst_iso(ms: int) -> str:
    """Epoch milliseconds as ISO 8601 in China Standard Time."""
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(CST).isoformat(timespec="seconds")


def rating_data(r: dict[str, Any]) -> RatingData:
    """A rating row as the report's ``rating`` part."""
    return RatingData(
        rating_id=r["public_id"],
        kind=r["kind"],
        level=r["level"],
        level_name=LEVELS[r["level"]][0],
        rated_at=cst_iso(r["created_at"]),
        channel=r["channel"],
        indicators=msgspec.json.decode(r["indicators"]) if isinstance(r["indicators"], str) else list(r["indicators"]),
        comment=r["comment"],
        item_code=r["item_code"],
        case_number=r["case_public_id"],
        agency_system=r["system"],
        hall=r["hall"],
        region=r["region"],
        supersedes=r["supersedes"],
    )


def follow_up_data(f: dict[str, Any], *, step: str = "", note: str = "", status: str | None = None) -> FollowUpData:
    """A follow-up row (as it is after the step) as the report's ``follow_up`` part."""
    return FollowUpData(
        follow_up_id=f["public_id"],
        status=status or f["status"],
        note=note,
        visit_due_on=f["visit_due_on"],
        rectify_due_on=f["rectify_due_on"],
        step=step,
        re_rating_id=f.get("re_rating_id") or "",
    )


def appeal_data(a: dict[str, Any]) -> AppealData:
    """An appeal row as the report's ``appeal`` part."""
    return AppealData(
        appeal_id=a["public_id"],
        ground=a["ground"],
        status=a["status"],
        reason=a["reason"],
        decision=a.get("decision") or "",
    )


async def record(
    platform,
    type_: str,
    chain: str,
    at: int,
    *,
    rating: RatingData | None = None,
    follow_up: FollowUpData | None = None,
    appeal: AppealData | None = None,
) -> str:
    """Write one report and its delivery job (call inside the transaction making the event)."""
    previous = await RatingPush.count().where(RatingPush.chain == chain)
    message_id = uuid.uuid4().hex
    report = RatingReport(
        message_id=message_id,
        type=type_,  # type: ignore[arg-type]
        rating_id=chain,
        sequence=previous + 1,
        occurred_at=cst_iso(at),
        source=SOURCE,
        rating=rating,
        follow_up=follow_up,
        appeal=appeal,
    )
    await RatingPush.insert(
        RatingPush(
            message_id=message_id,
            chain=chain,
            sequence=previous + 1,
            type=type_,
            body=msgspec.json.encode(report).decode(),
            created_at=at,
        )
    )
    await platform.queue.enqueue(
        REPORT_JOB, {"message_id": message_id}, dedupe_key=f"rating-report:{message_id}", max_attempts=MAX_ATTEMPTS
    )
    return message_id


async def deliver_job(platform, job: JobContext) -> None:
    """Deliver a report after every earlier undelivered report of its chain (see the module docstring)."""
    row = (
        await RatingPush.select(RatingPush.id, RatingPush.chain, RatingPush.status)
        .where(RatingPush.message_id == job.payload["message_id"])
        .first()
    )
    if row is not None and row["status"] == "failed" and job.attempts == 1:
        # a dead-lettered report re-driven by staff (a fresh job never finds its report failed)
        await RatingPush.update({RatingPush.status: "pending"}).where(RatingPush.id == row["id"])
        row["status"] = "pending"
    if row is None or row["status"] != "pending":
        return
    client = platform.push_systems.get(SYSTEM)
    if client is None:
        raise RetryLater("no 好差评 system configured (RATINGS_SYSTEM_URL)", delay=UNCONFIGURED_DELAY)
    due = (
        await RatingPush.select(RatingPush.id, RatingPush.message_id, RatingPush.body)
        .where((RatingPush.chain == row["chain"]) & (RatingPush.id <= row["id"]) & (RatingPush.status == "pending"))
        .order_by(RatingPush.id)
    )
    for report in due:
        await _deliver_one(platform, client, job, report, last=report["id"] == row["id"])


async def _deliver_one(platform, client, job: JobContext, report: dict[str, Any], *, last: bool) -> None:
    now = platform.clock.now_ms()
    message = msgspec.json.decode(report["body"], type=RatingReport)
    where = (RatingPush.id == report["id"]) & (RatingPush.status == "pending")
    try:
        ack = await client.push(message)
    except TransientError as exc:
        final = last and job.attempts >= job.max_attempts
        await RatingPush.update(
            {
                RatingPush.attempts: RatingPush.attempts + 1,
                RatingPush.last_error: str(exc)[:2000],
                **({RatingPush.status: "failed"} if final else {}),
            }
        ).where(where)
        # the queue's backoff, stretched to the system's Retry-After (never shortened by it)
        raise RetryLater(
            f"好差评 system: {exc}", delay=max(exc.retry_after or 0, backoff_seconds(job.attempts))
        ) from exc
    except PermanentError as exc:
        await RatingPush.update(
            {RatingPush.attempts: RatingPush.attempts + 1, RatingPush.status: "failed", RatingPush.last_error: str(exc)}
        ).where(where)
        log.error("rating report refused", extra={"message_id": message.message_id, "code": exc.code})
        raise PermanentFailure(str(exc)) from exc
    if ack.status == "rejected":
        reasons = "; ".join(f"{r.code}: {r.message}" for r in ack.reasons)
        await RatingPush.update(
            {RatingPush.attempts: RatingPush.attempts + 1, RatingPush.status: "failed", RatingPush.last_error: reasons}
        ).where(where)
        log.error("rating report rejected", extra={"message_id": message.message_id, "reasons": reasons})
        return
    await RatingPush.update(
        {
            RatingPush.attempts: RatingPush.attempts + 1,
            RatingPush.status: "delivered",
            RatingPush.receipt: ack.receipt or "",
            RatingPush.delivered_at: now,
            RatingPush.last_error: "",
        }
    ).where(where)


async def delivery_counts() -> dict[str, int]:
    """Reports by delivery state: delivered, pending (waiting or retrying) and failed."""
    from piccolo.query.functions.aggregate import Count

    rows = await RatingPush.select(RatingPush.status, Count(RatingPush.id, alias="n")).group_by(RatingPush.status)
    counts = {"delivered": 0, "pending": 0, "failed": 0}
    counts.update({r["status"]: r["n"] for r in rows})
    return counts
