"""The append-only, hash-chained timeline of a case.

Each event's hash is taken over the previous hash and the event's canonical JSON, so a
changed, removed or reordered event breaks the chain from that point on. The hash function is
SHA-256 or SM3 (国密, GB/T 32905; ``TIMELINE_HASH``); each event records its own (``hash_alg``),
so a deployment moving to SM3 keeps its older chains verifiable: verification uses each event's.
"""

from __future__ import annotations

from typing import Any

import msgspec
from piccolo.engine.postgres import PostgresEngine

from backend.cases.tables import CaseEvent
from backend.db import raw
from backend.lib.gmcrypto import digest as hex_digest

HASH_ALGORITHMS = ("sha256", "sm3")
_hash_alg = "sha256"  # what new events use in this process (the composition root sets TIMELINE_HASH)


def use_hash(algorithm: str) -> None:
    """Hash new events with ``algorithm`` (sha256 | sm3) from now on."""
    global _hash_alg
    if algorithm not in HASH_ALGORITHMS:
        raise ValueError(f"TIMELINE_HASH must be one of {HASH_ALGORITHMS}, not {algorithm!r}")
    _hash_alg = algorithm


def current_hash() -> str:
    """The hash function new events use."""
    return _hash_alg


def event_hash(
    prev_hash: str,
    case_id: int,
    seq: int,
    type_: str,
    item_ref: str | None,
    actor: str,
    system: str,
    message: str,
    data: str,
    at: int,
    alg: str = "sha256",
) -> str:
    """The hex hash (``alg``: sha256 | sm3) of one event chained to ``prev_hash``."""
    canonical = msgspec.json.encode([prev_hash, case_id, seq, type_, item_ref or "", actor, system, message, data, at])
    return hex_digest(alg, canonical)


_INSERT = (
    "INSERT INTO case_event (case_file, seq, type, item_ref, actor, system, message, data, at, prev_hash, hash, "
    "hash_alg) VALUES "
)
_ROW = "(" + ", ".join(["{}"] * 12) + ")"


async def append(
    case_id: int,
    type_: str,
    *,
    at: int,
    item_ref: str | None = None,
    actor: str = "",
    system: str = "",
    message: str = "",
    data: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    along: list[tuple[str, list[Any]]] | None = None,
) -> dict[str, Any]:
    """Append one event (call inside the transaction that made the change; the case row is locked).

    ``after`` is the event this transaction appended last, when there is one: it saves reading it back.
    ``along``: the change itself (statements with ``{}`` placeholders, and their values), made in
    the same statement on PostgreSQL: fewer round trips on the paths that run for every agency message.
    """
    return (
        await append_many(
            case_id,
            [dict(type_=type_, item_ref=item_ref, actor=actor, system=system, message=message, data=data)],
            at=at,
            after=after,
            along=along,
        )
    )[0]


async def append_many(
    case_id: int,
    entries: list[dict[str, Any]],
    *,
    at: int,
    after: dict[str, Any] | None = None,
    along: list[tuple[str, list[Any]]] | None = None,
) -> list[dict[str, Any]]:
    """Append several events in one statement, chained in order (``entries``: ``append``'s keyword
    arguments; ``along`` as for ``append``)."""
    if not entries:
        return []
    last = (
        after
        or await CaseEvent.select(CaseEvent.seq, CaseEvent.hash)
        .where(CaseEvent.case_file == case_id)
        .order_by(CaseEvent.seq, ascending=False)
        .first()
    )
    values, events = [], []
    alg = _hash_alg
    for entry in entries:
        type_, item_ref, actor, system, message, data = (
            entry["type_"],
            entry.get("item_ref"),
            entry.get("actor", ""),
            entry.get("system", ""),
            entry.get("message", ""),
            entry.get("data") or {},
        )
        seq = (last["seq"] + 1) if last else 1
        prev = last["hash"] if last else ""
        body = msgspec.json.encode(data).decode()
        digest = event_hash(prev, case_id, seq, type_, item_ref, actor, system, message, body, at, alg)
        values += [case_id, seq, type_, item_ref, actor, system, message, body, at, prev, digest, alg]
        last = {
            "seq": seq,
            "type": type_,
            "item_ref": item_ref,
            "actor": actor,
            "system": system,
            "message": message,
            "data": data,
            "at": at,
            "hash": digest,
            "hash_alg": alg,
        }
        events.append(last)
    sql = _INSERT + ", ".join([_ROW] * len(events))  # raw: Piccolo's insert building cost more than the insert
    if along:
        if isinstance(CaseEvent._meta.db, PostgresEngine):
            ctes = ", ".join(f"along{n} AS ({statement})" for n, (statement, _) in enumerate(along))
            sql, values = f"WITH {ctes} {sql}", [*(value for _, args in along for value in args), *values]
        else:
            for statement, args in along:
                await raw(CaseEvent, statement, *args)
    await raw(CaseEvent, sql, *values)
    return events


def as_rows(case_id: int, events: list[dict[str, Any]], after: dict[str, Any] | None) -> list[dict[str, Any]]:
    """``append_many``'s events as their stored rows (``verify_rows``); ``after``: the event before them."""
    rows, prev = [], after["hash"] if after else ""
    for event in events:
        rows.append(
            {**event, "case_file": case_id, "data": msgspec.json.encode(event["data"]).decode(), "prev_hash": prev}
        )
        prev = event["hash"]
    return rows


async def verify(case_id: int) -> tuple[bool, int | None]:
    """(True, None) if the chain is intact, else (False, the first bad sequence number)."""
    return verify_rows(case_id, await CaseEvent.select().where(CaseEvent.case_file == case_id).order_by(CaseEvent.seq))


def verify_rows(case_id: int, rows: list[dict[str, Any]]) -> tuple[bool, int | None]:
    """``verify`` over rows already read (every column, in ``seq`` order)."""
    prev = ""
    for expected_seq, row in enumerate(rows, start=1):
        digest = event_hash(
            prev,
            case_id,
            row["seq"],
            row["type"],
            row["item_ref"],
            row["actor"],
            row["system"],
            row["message"],
            row["data"],
            row["at"],
            row.get("hash_alg") or "sha256",
        )
        if row["seq"] != expected_seq or row["prev_hash"] != prev or row["hash"] != digest:
            return False, row["seq"]
        prev = row["hash"]
    return True, None
