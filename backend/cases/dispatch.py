"""Orchestration: send each item when its dependencies are done, apply what agencies answer.

- ``cases.send`` (job): build the item's submission and call its connector with the key
  ``<item ref>#<generation>`` (the same on every retry, so an agency never acts twice).
  Network errors and 5xx retry with backoff; a business rejection is a result; the last
  failed attempt marks the item 推送失败 for staff to re-drive.
- callbacks: verified by the connector (JWS, freshness), refused if replayed (``jti``),
  stored raw and applied once per ``event_id``; an outcome older than what the item has
  already seen (``sequence``), or not a legal transition, is recorded but changes nothing.
- ``cases.poll`` (job): asks the agency for the status of items whose callbacks may have
  been lost, so an outage or a lost callback still ends with every case complete.
- When an item completes, the items that depended on it are queued (registration's
  result is pushed to customs, social insurance, bank and seal); when it is refused,
  the items that depended on it stop.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from datetime import datetime
from typing import Any

import msgspec
from piccolo.engine.postgres import PostgresEngine

from backend.cases import ports, timeline
from backend.cases import states as st
from backend.cases.common import NOTICE_END_JOB, POLL_JOB, SEND_JOB, _json, _load, cst_date, update_sql
from backend.cases.materials import check_upload
from backend.cases.service import CaseService
from backend.cases.tables import CallbackInbox, CallbackNonce, CaseFile, CaseItem
from backend.catalog import get_catalog
from backend.catalog.formschema import field_schema
from backend.connectors.base import (
    BatchAnswer,
    CallbackRejected,
    CallbackResult,
    EventAnswer,
    PermanentError,
    Submission,
    TransientError,
)
from backend.db import raw
from backend.jobs import JobContext, PermanentFailure, RetryLater
from backend.jobs.queue import backoff_seconds
from backend.lib import metrics
from backend.lib.problems import ProblemError

log = logging.getLogger("backend.dispatch")


def observe_callback_lag(system: str, occurred_at: str, now_ms: int) -> None:
    """Record how long an agency's event took to reach us (its clock against ours; never negative)."""
    try:
        occurred = datetime.fromisoformat(occurred_at).timestamp()
    except (TypeError, ValueError):
        return
    metrics.CALLBACK_LAG.labels(system).observe(max(0.0, now_ms / 1000 - occurred))


WAKE_ON_OUTCOME = st.ITEM_OUTCOME.format(outcome="correction_requested")  # the applicant is notified (a delivery job)
OUTCOME_STATE = {
    "accepted": st.ACCEPTED,
    "in_progress": st.IN_PROGRESS,
    "completed": st.COMPLETED,
    "rejected": st.REJECTED,
    "correction_requested": st.CORRECTION,
    "received": st.SENT,
}


def _item_maps(catalog_version: str, item_code: str) -> dict[str, str]:
    """Form key → the field name in this item's interface standard (from the catalog's ``maps``)."""
    catalog = get_catalog(catalog_version)
    item = catalog.items.get(item_code)
    if item is None:
        return {}
    out = {}
    for field in catalog.fields.values():
        name = field.maps.get(item.code) or field.maps.get(item.matter)
        if name:
            out[field.key] = name
    return out


def project_form(catalog_version: str, item_code: str, form: dict[str, Any]) -> dict[str, Any]:
    """The merged form as this item's agency names its fields (表单整合: each field entered once)."""
    return {name: form[key] for key, name in _item_maps(catalog_version, item_code).items() if key in form}


def form_corrections(catalog_version: str, item_code: str, corrections) -> list[dict[str, Any]]:
    """An agency's correction request in the applicant's terms: its field names become form keys."""

    catalog = get_catalog(catalog_version)
    reverse = {name: key for key, name in _item_maps(catalog_version, item_code).items()}
    out = []
    for c in corrections:
        entry = msgspec.to_builtins(c)
        if c.kind == "field" and c.name in reverse:
            entry = {**entry, "name": reverse[c.name], "agency_name": c.name}
        if c.kind == "field" and entry["name"] in catalog.fields:
            field = catalog.fields[entry["name"]]
            entry.update(label={"zh": field.title.zh, "en": field.title.en}, schema=field_schema(field))
        elif c.kind == "material" and c.name in catalog.materials:
            name = catalog.materials[c.name].name
            entry.update(label={"zh": name.zh, "en": name.en})
        out.append(entry)
    return out


LAST_EVENT_OF_CASE = "(SELECT case_file, seq, hash FROM case_event WHERE case_file = {case} ORDER BY seq DESC LIMIT 1)"
"""The timeline's last event of case ``{case}`` (a subquery), read once however many items join it."""


def with_last_event(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with ``last_event`` for ``timeline.append(after=...)``: None when the timeline is empty."""
    row["last_event"] = {"seq": row["last_seq"], "hash": row["last_hash"]} if row["last_seq"] is not None else None
    return row


def _item_and_case(
    case_columns: list[str], *, last_event: str = "", join: str = "JOIN case_file f ON f.id = i.case_file"
) -> str:
    """SQL: items with their case's ``case_columns`` prefixed ``f_`` (``_split``) and, under the case
    lock, the timeline's last event (``with_last_event``) of case ``last_event`` (SQL). Sends and
    callbacks read these thousands of times a minute, and building the query with Piccolo cost
    more than running it."""
    columns = ", ".join(f'f."{c}" AS "f_{c}"' for c in case_columns)
    if not last_event:
        return f"SELECT i.*, {columns} FROM case_item i {join}"  # noqa: S608 - our column names; values bound
    return (
        f"SELECT i.*, {columns}, e.seq AS f_last_seq, e.hash AS f_last_hash FROM case_item i {join} "  # noqa: S608 - as above
        f"LEFT JOIN {LAST_EVENT_OF_CASE.format(case=last_event)} e ON e.case_file = f.id"
    )


CASE_OF_ITEM = "(SELECT case_file FROM case_item WHERE ref = {})"
# Every item of the case of item {ref}, that one with its whole case (the others with NULLs
# there): a send reads what its prerequisites produced in the same round trip.
ITEM_CASE_AND_SIBLINGS = (
    _item_and_case(
        [c._meta.db_column_name for c in CaseFile._meta.columns if c._meta.name != "id"],
        join="LEFT JOIN case_file f ON f.id = i.case_file AND i.ref = {}",
    )
    + f" WHERE i.case_file = {CASE_OF_ITEM}"
)
# Every item of the case of item {ref} with that case and its timeline's last event ({ref} twice).
ITEM_AND_CASE_LOCKED = (
    _item_and_case(["public_id", "catalog_version", "status", "created_by", "uscc"], last_event=CASE_OF_ITEM)
    + f" WHERE i.case_file = {CASE_OF_ITEM} ORDER BY i.id"
)


_Locked = tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]
"""(case with its timeline's last event, item, the case's items) as ``Dispatcher._locked_item`` reads them."""


def _split(row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(case, item) from an ``ITEM_CASE_AND_SIBLINGS`` or ``ITEM_AND_CASE_LOCKED`` row."""
    item = {k: v for k, v in row.items() if not k.startswith("f_")}
    case = {k[2:]: v for k, v in row.items() if k.startswith("f_")} | {"id": item["case_file"]}
    return case, item


LOCK_CASE_OF_ITEM = f"SELECT id FROM case_file WHERE id = {CASE_OF_ITEM} FOR UPDATE"  # noqa: S608 - constant SQL
# The replay check, the inbox row and the lock on the item's case (``_locked_item``), in one statement.
STORE_CALLBACK_PG = (
    "WITH nonce AS (INSERT INTO callback_nonce (jti, expires_at) VALUES ({}, {}) ON CONFLICT DO NOTHING RETURNING id), "  # noqa: S608 - constant SQL, values bound
    "inbox AS (INSERT INTO callback_inbox (key, system, body, received_at, applied) "
    "SELECT {}::varchar, {}::varchar, {}::text, {}::bigint, true WHERE EXISTS (SELECT 1 FROM nonce) "
    "ON CONFLICT DO NOTHING RETURNING id), "
    f"locked AS ({LOCK_CASE_OF_ITEM}) "
    "SELECT (SELECT count(*) FROM nonce) AS fresh, (SELECT id FROM inbox) AS stored, "
    "(SELECT count(*) FROM locked) AS locked"
)


# A batch's event (lean form) or an answer's 受理 event: the inbox row and the lock on the item's case,
# in one statement (the batch's token was checked once for the whole batch).
async def _store_event_sqlite(key: str, system: str, body: str, now: int) -> int | None:
    """The inbox row of one event on SQLite (None when it was stored already; SQLite's write
    transaction serialises the case, so no lock is taken)."""
    stored = await raw(
        CallbackInbox,
        "INSERT INTO callback_inbox (key, system, body, received_at, applied) VALUES ({}, {}, {}, {}, 1) "
        "ON CONFLICT DO NOTHING RETURNING id",
        key,
        system,
        body,
        now,
    )
    return stored[0]["id"] if stored else None


STORE_EVENT_PG = (
    "WITH inbox AS (INSERT INTO callback_inbox (key, system, body, received_at, applied) "  # noqa: S608 - constant SQL, values bound
    "VALUES ({}, {}, {}, {}, true) ON CONFLICT DO NOTHING RETURNING id), "
    f"locked AS ({LOCK_CASE_OF_ITEM}) "
    "SELECT (SELECT id FROM inbox) AS stored, (SELECT count(*) FROM locked) AS locked"
)


def retry_delay(exc: TransientError, job: JobContext) -> float:
    """An agency's ``Retry-After`` is a floor, not the schedule: the backoff still grows, so an
    outage longer than a dozen quick retries does not use up every attempt (推送失败)."""
    return max(exc.retry_after or 0.0, backoff_seconds(job.attempts))


class Dispatcher:
    """Sends items and applies outcomes; the service does the case-level bookkeeping."""

    def __init__(self, service: CaseService, *, callback_base_url: str) -> None:
        self.service = service
        self.platform = service.platform
        self.callback_base_url = callback_base_url.rstrip("/")

    def handlers(self) -> dict[str, Any]:
        return {SEND_JOB: self.send_job, POLL_JOB: self.poll_job, NOTICE_END_JOB: self.notice_end_job}

    async def notice_end_job(self, job: JobContext) -> None:
        await self.service.end_notice(job.payload["ref"])

    def connector(self, system: str):
        """The system's connector: its API, or the manual workbench while it is not integrated."""
        return ports.connector(self.platform, system)

    # ------------------------------------------------------------------ sending

    async def build_submission(
        self, item: dict[str, Any], case: dict[str, Any], siblings: list[dict[str, Any]]
    ) -> Submission:
        """The item's submission; ``siblings``: the case's other items (``code``, ``reference``,
        ``closed_at``, ``result``, ``status``), whose results go to the items that waited for them."""
        record = await self.service._record(case["uscc"])
        form = _load(case["form_data"], {})
        applicant = record.party(case["created_by"]) or next(
            (p for p in record.parties if p.role == "legal_rep"), record.parties[0]
        )
        payload: dict[str, Any] = {
            "enterprise_name": record.name,
            "entity_type": record.entity_type,
            "route": case["route"],
            "applicant": {
                "name": applicant.name,
                "id_number": applicant.id_number,
                "role": applicant.role,
                "phone": applicant.phone,
            },
            "fields": project_form(case["catalog_version"], item["code"], form),
            "tax_registration_region": case["region"],
        }
        for s in siblings if _load(item["depends_on"], []) else ():
            if s["status"] != st.COMPLETED:
                continue
            if s["code"].startswith("TAX-"):
                payload["tax_clearance_reference"] = s["reference"]
            if s["code"].startswith("REG-"):
                payload["registration_result"] = {
                    "reference": s["reference"],
                    "deregistered_on": cst_date(s["closed_at"]).isoformat(),
                    "documents": _load(s["result"], {}).get("documents", []),
                }
        if case["route"] == "simplified":
            payload["investors_commitment"] = bool(form.get("investors_commitment", True))
        if record.customs_code:
            payload["customs_code"] = record.customs_code
        seals = [s.seal_no for s in record.seals if s.system == item["system"]]
        if seals:
            payload["seal_numbers"] = seals
        account = _load(item["account"], None)
        if account and "account_no" in account:  # a SEAL item keeps its seals there, for the case view
            payload["account"] = account
        return Submission(
            case_number=case["number"],
            item_code=item["code"],
            item_ref=item["ref"],
            uscc=case["uscc"],
            region=case["region"],
            payload=payload,
            callback_url=f"{self.callback_base_url}/api/v1/callbacks/{item['system']}",
            idempotency_key=f"{item['ref']}#{item['generation']}",
        )

    async def send_job(self, job: JobContext) -> bool:
        ref, generation = job.payload["ref"], job.payload["generation"]
        rows = await raw(CaseItem, ITEM_CASE_AND_SIBLINGS, ref, ref)
        item = next((row for row in rows if row["ref"] == ref), None)
        if item is None or item["status"] != st.QUEUED or item["generation"] != generation:
            if (
                item is not None
                and item["generation"] == generation
                and item["status"] in (st.SENT, st.ACCEPTED, st.IN_PROGRESS)
            ):
                # Sent, and a callback got here first, while the worker that sent it died before
                # recording the answer: make sure the item is still polled, or a lost final
                # callback would leave it open for ever (the dedupe key makes this a no-op otherwise).
                await self.platform.queue.enqueue(
                    POLL_JOB,
                    {"ref": ref, "round": 1},
                    delay_seconds=self.service.poll_seconds,
                    dedupe_key=f"poll:{ref}:{generation}:1",
                )
            return False  # already sent, withdrawn or superseded: nothing to do
        case, item = _split(item)
        if item["system"] == "platform":  # a timed stage the platform runs itself
            await self.service.start_notice(item, case)
            return False
        connector = self.connector(item["system"])
        submission = await self.build_submission(item, case, [row for row in rows if row["ref"] != ref])
        try:
            if generation > 1 and item["reference"]:
                ack = await connector.resubmit(item["reference"], submission)
            else:
                ack = await connector.submit(submission)
        except TransientError as exc:
            if job.attempts >= job.max_attempts:
                await self._dispatch_failed(item, case, f"{exc.code}: {exc}")
            raise RetryLater(f"{item['system']}: {exc}", delay=retry_delay(exc, job)) from exc
        except PermanentError as exc:
            await self._dispatch_failed(item, case, f"{exc.code}: {exc}")
            raise PermanentFailure(str(exc)) from exc
        return await self._record_ack(item, case, ack, job)

    async def _record_ack(self, item: dict[str, Any], case: dict[str, Any], ack, job: JobContext) -> bool:
        """Record the agency's answer; True when the send job was marked done with it (the usual case)."""
        now = self.service.clock.now_ms()
        events: list[dict[str, Any]] = []
        completed = False
        async with self.service.transaction():
            locked, current, siblings = await self._locked_item(item["ref"])
            last_event = locked["last_event"]
            if ack.status == "rejected":
                if current["status"] == st.QUEUED:
                    reasons = [msgspec.to_builtins(r) for r in ack.reasons]
                    await CaseItem.update(
                        {
                            CaseItem.status: st.REJECTED,
                            CaseItem.reasons: _json(reasons),
                            CaseItem.closed_at: now,
                            CaseItem.updated_at: now,
                            CaseItem.reference: ack.reference,
                        }
                    ).where(CaseItem.id == item["id"])
                    events.append(
                        await timeline.append(
                            case["id"],
                            st.ITEM_OUTCOME.format(outcome="rejected"),
                            at=now,
                            item_ref=item["ref"],
                            actor=item["system"],
                            system=item["system"],
                            message="; ".join(r.message for r in ack.reasons),
                            data={"reasons": reasons, "synchronous": True},
                            after=last_event,
                        )
                    )
                    current["status"] = st.REJECTED  # ``current`` is one of ``siblings``
                    await self._stop_dependents(case["id"], item["ref"], now, events, siblings)
            else:
                changes: dict[str, Any] = {"reference": current["reference"] or ack.reference, "updated_at": now}
                poll = self.platform.queue.enqueue_sql(
                    POLL_JOB,
                    [({"ref": item["ref"], "round": 1}, f"poll:{item['ref']}:{item['generation']}:1")],
                    delay_seconds=self.service.poll_seconds,
                )
                if current["status"] == st.QUEUED:
                    changes.update(status=st.SENT, sent_at=now)
                    completed = bool(
                        job.worker
                    )  # a job run by a worker (not a test calling the handler) is marked done here
                    along = [
                        update_sql("case_item", item["id"], changes),
                        poll,
                        *([self.platform.queue.complete_sql(job)] if completed else []),
                    ]
                    events.append(
                        await timeline.append(
                            case["id"],
                            st.ITEM_SENT,
                            at=now,
                            item_ref=item["ref"],
                            actor="platform",
                            system=item["system"],
                            data={"reference": ack.reference, "duplicate": ack.duplicate},
                            after=last_event,
                            along=along,
                        )
                    )
                else:
                    for sql, values in (update_sql("case_item", item["id"], changes), poll):
                        await raw(CaseItem, sql, *values)
                if ack.event is not None:  # lean form: 受理 reported in the answer, applied as its callback would be
                    known = None
                    if events and ack.event.item_ref == item["ref"]:
                        # what this transaction just wrote, so the event needs no second locked read
                        current.update(changes)
                        known = ({**locked, "last_event": events[-1]}, current, siblings)
                    events += await self._apply_answer_event(ack.event, item["system"], now, known=known)
            if ack.status == "rejected":  # 待推送 → 已推送 never changes the case's own status
                await self.service._refresh_case_status(
                    case["id"], now, events, statuses=[i["status"] for i in siblings], current=locked["status"]
                )
        await self._wake_workers(events)
        await self.service._announce(case["public_id"], events)
        return completed

    async def _dispatch_failed(self, item: dict[str, Any], case: dict[str, Any], error: str) -> None:
        now = self.service.clock.now_ms()
        async with self.service.transaction():
            await self.service._lock(case["id"])
            updated = (
                await CaseItem.update(
                    {CaseItem.status: st.DISPATCH_FAILED, CaseItem.message: error[:1000], CaseItem.updated_at: now}
                )
                .where((CaseItem.id == item["id"]) & (CaseItem.status == st.QUEUED))
                .returning(CaseItem.id)
            )
            events = (
                [
                    await timeline.append(
                        case["id"],
                        st.ITEM_DISPATCH_FAILED,
                        at=now,
                        item_ref=item["ref"],
                        system=item["system"],
                        message=error[:500],
                    )
                ]
                if updated
                else []
            )
        log.error("item dispatch failed", extra={"item": item["ref"], "system": item["system"], "error": error})
        await self.service._announce(case["public_id"], events)

    # ------------------------------------------------------------------ outcomes

    async def _apply_answer_event(
        self, event: CallbackResult, system: str, now: int, *, known: _Locked | None = None
    ) -> list[dict[str, Any]]:
        """Apply the 受理 event an agency gave in its synchronous answer (lean form), once per
        ``event_id`` as a callback would be (an idempotent replay of the answer repeats it), inside
        the caller's transaction, which holds the case's lock."""
        stored = await self._store_event(
            f"{system}:{event.event_id}", system, msgspec.json.encode(event).decode(), now, event.item_ref
        )
        if stored is None:
            return []
        outcome, _, events = await self._apply(event, now, source="answer", locked=True, known=known)
        if outcome != "applied":
            await CallbackInbox.update({CallbackInbox.applied: False}).where(CallbackInbox.id == stored)
        return events

    async def _store_event(self, key: str, system: str, body: str, now: int, item_ref: str) -> int | None:
        """The inbox row of one event (None when it was stored already) and, on PostgreSQL, the
        lock on ``item_ref``'s case (``_locked_item(locked=True)`` follows), in one statement."""
        if isinstance(self.platform.engine, PostgresEngine):
            return (await raw(CallbackInbox, STORE_EVENT_PG, key, system, body, now, item_ref))[0]["stored"]
        return await _store_event_sqlite(key, system, body, now)

    async def receive_callback(self, system: str, headers: dict[str, str], body: bytes) -> str | BatchAnswer:
        """Verify, store and apply one agency callback; returns applied | duplicate | ignored, or for
        a batch (lean form) a ``BatchAnswer`` with one of those (or refused | retry) per event."""
        connector = self.platform.connectors.get(system)
        if connector is None:
            raise ProblemError(404, "unknown_system", "未知的业务系统。 Unknown business system.")
        token: dict[str, Any] = {}

        def remember(jti: str, expires_at: float) -> bool:
            token.update(jti=jti, exp=expires_at)
            return False

        try:
            results, batch = await connector.verify_callbacks(headers, body, remember)
        except CallbackRejected as exc:
            raise ProblemError(401, "callback_rejected", f"回调未通过验证：{exc.code}。 Callback rejected.") from exc
        now = self.service.clock.now_ms()
        if batch:
            return await self._receive_batch(system, results, f"{system}:{token['jti']}", int(token["exp"] * 1000), now)
        result = results[0]
        async with self.service.transaction():  # an unknown item is refused inside it (404), and nothing is kept
            fresh, stored = await self._store_callback(
                f"{system}:{token['jti']}",
                int(token["exp"] * 1000),
                f"{system}:{result.event_id}",
                system,
                body.decode("utf-8", "replace"),
                now,
                result.item_ref,
            )
            if not fresh:
                raise ProblemError(401, "callback_replayed", "回调令牌已使用过。 Callback token already used.")
            if stored is None:
                return "duplicate"
            outcome, public_id, events = await self._apply(result, now, source="callback", locked=True)
            if outcome != "applied":
                await CallbackInbox.update({CallbackInbox.applied: False}).where(CallbackInbox.id == stored)
        if outcome == "applied":
            observe_callback_lag(system, result.occurred_at, now)
        await self._wake_workers(events)
        await self.service._announce(public_id, events)
        return outcome

    async def _receive_batch(
        self, system: str, results: list[CallbackResult], jti: str, expires_at: int, now: int
    ) -> BatchAnswer:
        """Settle each event of a batch on its own (its own transaction, inbox row and answer): one
        event's failure neither undoes nor blocks the others. The token is spent once, first."""
        async with self.service.transaction():
            fresh = await raw(
                CallbackNonce,
                "INSERT INTO callback_nonce (jti, expires_at) VALUES ({}, {}) ON CONFLICT DO NOTHING RETURNING id",
                jti,
                expires_at,
            )
        if not fresh:
            raise ProblemError(401, "callback_replayed", "回调令牌已使用过。 Callback token already used.")
        answers = []
        for result in results:
            answers.append(await self._receive_event(system, result, now))
        return BatchAnswer(results=answers)

    async def _receive_event(self, system: str, result: CallbackResult, now: int) -> EventAnswer:
        """Store and apply one event of a batch; a refusal is this event's answer, not the batch's."""
        if result.system != system:  # each event is authorized against the system that signed the batch
            return EventAnswer(event_id=result.event_id, status="refused", code="wrong_system")
        try:
            async with self.service.transaction():
                stored = await self._store_event(
                    f"{system}:{result.event_id}", system, msgspec.json.encode(result).decode(), now, result.item_ref
                )
                if stored is None:
                    return EventAnswer(event_id=result.event_id, status="duplicate")
                outcome, public_id, events = await self._apply(result, now, source="callback", locked=True)
                if outcome != "applied":
                    await CallbackInbox.update({CallbackInbox.applied: False}).where(CallbackInbox.id == stored)
        except ProblemError as exc:  # unknown item, an item routed to another system: nothing kept
            return EventAnswer(event_id=result.event_id, status="refused", code=exc.code)
        except Exception:  # a passing failure on our side (the database): the agency sends this event again
            log.exception("batch event not applied", extra={"system": system, "item": result.item_ref})
            return EventAnswer(event_id=result.event_id, status="retry", code="internal_error")
        if outcome == "applied":
            observe_callback_lag(system, result.occurred_at, now)
        await self._wake_workers(events)
        await self.service._announce(public_id, events)
        return EventAnswer(event_id=result.event_id, status=outcome)  # type: ignore[arg-type]

    async def _store_callback(
        self, jti: str, expires_at: int, key: str, system: str, body: str, now: int, item_ref: str
    ) -> tuple[bool, int | None]:
        """(the token was not used before, the inbox row's id or None when this event was stored
        already): the replay check and the inbox, and on PostgreSQL the lock on ``item_ref``'s
        case as well (``_locked_item(locked=True)`` follows), in one statement."""
        if isinstance(self.platform.engine, PostgresEngine):
            row = (await raw(CallbackInbox, STORE_CALLBACK_PG, jti, expires_at, key, system, body, now, item_ref))[0]
            return bool(row["fresh"]), row["stored"]
        if not await raw(
            CallbackNonce,
            "INSERT INTO callback_nonce (jti, expires_at) VALUES ({}, {}) ON CONFLICT DO NOTHING RETURNING id",
            jti,
            expires_at,
        ):
            return False, None
        return True, await _store_event_sqlite(key, system, body, now)

    async def _wake_workers(self, events: list[dict[str, Any]]) -> None:
        """Wake the workers when these changes queued work for now (items released, a correction
        or the case's closing to notify about: deliveries and texts); a wake-up makes every worker
        query for work, so none is sent for nothing. Delayed jobs (polls) are found by the workers' timers."""
        if any(e["type"] in (st.ITEM_QUEUED, WAKE_ON_OUTCOME, st.CASE_CLOSED) for e in events):
            await self.platform.queue.notify()

    async def _locked_item(self, ref: str, *, locked: bool = False) -> _Locked:
        """(case, item, the case's items) for an item ref, with the case row locked (as
        ``CaseService._lock``) and the timeline's last event; 404 ``unknown_item`` when there is
        no such item. The items' ``status`` is updated in place as the caller moves them.

        Two statements, not one ``SELECT ... FOR UPDATE``: a statement that waited for the lock
        re-reads the locked row but still sees other tables as they were when it began, so the
        timeline's last event would miss the one the previous lock holder appended (duplicate
        ``seq``, found by the fault suite's concurrent callbacks). ``locked``: the caller's earlier
        statement took the lock (a callback's ``STORE_CALLBACK_PG``).
        """
        if isinstance(self.platform.engine, PostgresEngine) and not locked:
            await raw(CaseFile, LOCK_CASE_OF_ITEM, ref)
        rows = await raw(CaseItem, ITEM_AND_CASE_LOCKED, ref, ref)
        split = [_split(row) for row in rows]
        item = next((i for _, i in split if i["ref"] == ref), None)
        if item is None:
            raise ProblemError(404, "unknown_item", "回调所指事项不存在。 The callback names an unknown item.")
        case = with_last_event(split[0][0])
        return case, item, [i for _, i in split]

    async def _apply(
        self, result: CallbackResult, now: int, *, source: str, locked: bool = False, known: _Locked | None = None
    ) -> tuple[str, str, list[dict[str, Any]]]:
        """Move an item by an agency outcome (inside the caller's transaction; ``locked``: the
        caller holds the case's lock already; ``known``: what ``_locked_item`` would read, as the
        caller holding the lock has it, for the item the outcome names).

        Returns (applied | ignored, the case's public id, the timeline events to announce).
        """
        events: list[dict[str, Any]] = []
        case, item, siblings = known or await self._locked_item(result.item_ref, locked=locked)
        if item["system"] != result.system:
            # A system speaks only for the items routed to it: one agency's genuine signature
            # must not move (or attach documents to) another agency's item. The caller's
            # transaction rolls back, so nothing of this message is kept.
            log.warning(
                "callback names an item routed to another system",
                extra={"system": result.system, "item": item["ref"], "routed_to": item["system"], "source": source},
            )
            raise ProblemError(403, "item_not_routed_to_system", "该事项不由发送回调的业务系统办理。", field="item_ref")
        case_id = case["id"]
        case_catalog_version = case["catalog_version"]
        new = OUTCOME_STATE[result.outcome]
        stale = result.sequence and result.sequence <= item["last_sequence"]
        if stale or item["status"] == new or not st.can_move(item["status"], new):
            events.append(
                await timeline.append(
                    case_id,
                    st.ITEM_IGNORED,
                    at=now,
                    item_ref=item["ref"],
                    actor=result.system,
                    system=result.system,
                    data={
                        "outcome": result.outcome,
                        "sequence": result.sequence,
                        "status": item["status"],
                        "source": source,
                    },
                    after=case["last_event"],
                )
            )
            if result.sequence > item["last_sequence"]:
                await CaseItem.update({CaseItem.last_sequence: result.sequence}).where(CaseItem.id == item["id"])
            return "ignored", case["public_id"], events
        changes: dict[str, Any] = {
            "status": new,
            "updated_at": now,
            "last_sequence": max(result.sequence, item["last_sequence"]),
            "message": result.message,
        }
        if not item["reference"]:
            changes["reference"] = result.reference
        if new in (st.ACCEPTED, st.IN_PROGRESS) and item["accepted_at"] is None:
            changes["accepted_at"] = now
        if new == st.SENT or item["sent_at"] is None:
            changes["sent_at"] = item["sent_at"] or now
        if new == st.CORRECTION:
            changes["corrections"] = _json(form_corrections(case_catalog_version, item["code"], result.corrections))
        if new == st.REJECTED:
            changes["reasons"] = _json([msgspec.to_builtins(r) for r in result.reasons])
        if new in st.ITEM_TERMINAL:
            changes["closed_at"] = now
        along = []  # the item's update goes first (below), with the result's documents
        if new == st.COMPLETED:
            documents, values = [], []
            for d in result.documents:
                content = base64.b64decode(d.content_base64) if d.content_base64 else None
                if content is not None and hashlib.sha256(content).hexdigest() != d.sha256:
                    log.warning("result document hash mismatch", extra={"item": item["ref"], "document": d.name})
                    continue
                media_type = d.media_type
                if content is not None:
                    # What the applicant downloads is checked as their own uploads are (finding 11's
                    # class): a document with script, markup or active content, or of another type
                    # than a PDF or image, is kept from them and logged; the outcome still stands.
                    try:
                        media_type = check_upload(content, field="documents")
                    except ProblemError as refused:
                        log.warning(
                            "result document refused",
                            extra={
                                "item": item["ref"],
                                "document": d.name,
                                "system": result.system,
                                "code": refused.code,
                            },
                        )
                        continue
                documents.append({"name": d.name, "sha256": d.sha256})
                values += [case_id, item["ref"], d.name, media_type, d.sha256, content, d.url or "", now]
            if documents:
                along.append(
                    (
                        "INSERT INTO case_document (case_file, item_ref, name, media_type, sha256, content, url, at) "  # noqa: S608 - placeholders only
                        "VALUES " + ", ".join(["({}, {}, {}, {}, {}, {}, {}, {})"] * len(documents)),
                        values,
                    )
                )
            changes["result"] = _json(
                {"reference": result.reference, "message": result.message, "documents": documents}
            )
        events.append(
            await timeline.append(
                case_id,
                st.ITEM_OUTCOME.format(outcome=result.outcome),
                at=now,
                item_ref=item["ref"],
                actor=result.system,
                system=result.system,
                message=result.message,
                data={
                    "reference": result.reference,
                    "sequence": result.sequence,
                    "source": source,
                    "reasons": [msgspec.to_builtins(r) for r in result.reasons],
                    "corrections": [msgspec.to_builtins(c) for c in result.corrections],
                },
                after=case["last_event"],
                along=[update_sql("case_item", item["id"], changes), *along],
            )
        )
        item["status"] = new  # ``item`` is one of ``siblings``
        if new == st.COMPLETED:
            await self._release_dependents(case_id, now, events, siblings)
        elif new == st.REJECTED:
            await self._stop_dependents(case_id, item["ref"], now, events, siblings)
        await self.service._refresh_case_status(
            case_id, now, events, statuses=[i["status"] for i in siblings], current=case["status"]
        )
        if new == st.CORRECTION and self.platform.notify_applicant:
            person = await self.service.applicant_to_notify(case["created_by"], case["uscc"])
            if person:
                await self.platform.notify_applicant(
                    person, "correction_requested", {"case": case["public_id"], "item": item["code"]}
                )
        elif new in st.ITEM_TERMINAL and self.platform.notify_applicant:
            # the applicant hears once, when the case's last item closes (completed or refused)
            closed_as = st.case_status([i["status"] for i in siblings])
            if closed_as != case["status"] and closed_as in (st.CASE_COMPLETED, st.CASE_REFUSED):
                kind = "case_closed" if closed_as == st.CASE_COMPLETED else "case_refused"
                person = await self.service.applicant_to_notify(case["created_by"], case["uscc"])
                if person:
                    await self.platform.notify_applicant(person, kind, {"case": case["public_id"]})
        return "applied", case["public_id"], events

    async def _release_dependents(
        self, case_id: int, now: int, events: list[dict[str, Any]], items: list[dict[str, Any]] | None = None
    ) -> None:
        """Queue the items whose prerequisites are all complete (``items``: the case's if read already;
        updated in place)."""
        if items is None:
            items = await CaseItem.select(
                CaseItem.ref,
                CaseItem.status,
                CaseItem.depends_on,
                CaseItem.system,
                CaseItem.generation,
                CaseItem.promised_days,
            ).where(CaseItem.case_file == case_id)
        done = {i["ref"] for i in items if i["status"] == st.COMPLETED}
        ready = [i for i in items if i["status"] == st.WAITING and set(_load(i["depends_on"], [])) <= done]
        if ready:
            events += await self.service._queue_items(case_id, ready, now, after=events[-1] if events else None)
        for i in ready:
            i["status"] = st.QUEUED

    async def _stop_dependents(
        self, case_id: int, ref: str, now: int, events: list[dict[str, Any]], items: list[dict[str, Any]] | None = None
    ) -> None:
        """Items that can never start because ``ref`` was refused (transitively; ``items`` as for
        ``_release_dependents``)."""
        if items is None:
            items = await CaseItem.select(CaseItem.ref, CaseItem.status, CaseItem.depends_on, CaseItem.system).where(
                CaseItem.case_file == case_id
            )
        stopped = {ref}
        changed = True
        while changed:
            changed = False
            for i in items:
                if i["ref"] not in stopped and i["status"] == st.WAITING and stopped & set(_load(i["depends_on"], [])):
                    stopped.add(i["ref"])
                    changed = True
                    await CaseItem.update(
                        {CaseItem.status: st.CANCELLED, CaseItem.closed_at: now, CaseItem.updated_at: now}
                    ).where(CaseItem.ref == i["ref"])
                    events.append(
                        await timeline.append(
                            case_id,
                            st.ITEM_CANCELLED,
                            at=now,
                            item_ref=i["ref"],
                            system=i["system"],
                            data={"because": ref},
                            after=events[-1] if events else None,
                        )
                    )
                    i["status"] = st.CANCELLED

    # ------------------------------------------------------------------ polling

    async def poll_job(self, job: JobContext) -> None:
        """Ask the agency where an item stands (a safety net for lost callbacks)."""
        ref, round_ = job.payload["ref"], job.payload.get("round", 1)
        item = await CaseItem.select().where(CaseItem.ref == ref).first()
        if item is None or item["status"] not in (st.SENT, st.ACCEPTED, st.IN_PROGRESS) or not item["reference"]:
            return
        connector = self.connector(item["system"])
        try:
            status = await connector.query(reference=item["reference"])
        except TransientError as exc:
            raise RetryLater(str(exc), delay=retry_delay(exc, job)) from exc
        now = self.service.clock.now_ms()
        if (
            status.status in OUTCOME_STATE
            and OUTCOME_STATE[status.status] != item["status"]
            and status.status != "received"
        ):
            result = CallbackResult(
                event_id=f"poll:{ref}:{round_}",
                reference=status.reference,
                item_ref=ref,
                item_code=item["code"],
                system=item["system"],
                outcome=status.status,
                sequence=0,
                occurred_at="",
                message=status.message,
                reasons=status.reasons,
                corrections=status.corrections,
                documents=status.documents,
            )
            async with self.service.transaction():
                _, public_id, events = await self._apply(result, now, source="poll")
            await self._wake_workers(events)
            await self.service._announce(public_id, events)
        fresh = await CaseItem.select(CaseItem.status, CaseItem.generation).where(CaseItem.ref == ref).first()
        # Items are never deleted; were this one gone, there would be nothing left to poll (as above).
        if fresh is not None and fresh["status"] in (st.SENT, st.ACCEPTED, st.IN_PROGRESS):
            delay = min(self.service.poll_seconds * (2 ** min(round_, 5)), 6 * 3600)
            await self.platform.queue.enqueue(
                POLL_JOB,
                {"ref": ref, "round": round_ + 1},
                delay_seconds=delay,
                dedupe_key=f"poll:{ref}:{fresh['generation']}:{round_ + 1}",
            )
