"""测试问题反馈: the trial's problem reports (work plan: 上线试行 — 各单位开展测试, 收集汇总测试问题反馈,
指定专门技术人员及时对接处理).

Staff (agency or window, province, city or county) file a problem: page, step, expected, actual and
an optional screenshot. The platform team (administrators) triages it (severity, assignee) and moves
it new → triaged → in_progress → fixed; the reporter then confirms it or reopens it (reopened →
in_progress again). Every change is an event (who, when, what). Who may see and do what is decided
in ``_visible`` and ``_require_*`` only.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from typing import Any

from piccolo.columns.base import Column

from backend.cases.materials import check_upload, sniff
from backend.catalog import get_catalog
from backend.catalog.loader import get_divisions
from backend.db import writing_transaction
from backend.feedback.schemas import EventView, ReportView
from backend.feedback.tables import FeedbackEvent, FeedbackReport, FeedbackScreenshot
from backend.identity.actor import Actor, is_admin, require_admin
from backend.lib.problems import ProblemError

STATUSES = ("new", "triaged", "in_progress", "fixed", "confirmed", "reopened")
SEVERITIES = ("blocker", "major", "minor", "cosmetic")
REPORTER_ROLES = frozenset({"agency_staff", "window_staff", "admin"})
MAX_SCREENSHOT_BYTES = 2 * 1024 * 1024
MAX_PAGE = 500
MAX_TEXT = 4000
# The platform team's moves (triage is its own action: new|reopened → triaged).
TEAM_MOVES = {
    ("triaged", "in_progress"),
    ("reopened", "in_progress"),
    ("in_progress", "fixed"),
}
TRIAGEABLE = ("new", "triaged", "in_progress", "reopened")


def _now(platform) -> int:
    return platform.clock.now_ms()


def agency_of(actor: Actor) -> str:
    """The unit a reporter files for: their business system, else their service hall, else the platform."""
    if actor.agencies:
        return sorted(actor.agencies)[0]
    if actor.hall:
        return actor.hall
    return "platform" if is_admin(actor) else ""


def agency_name(code: str) -> dict[str, str]:
    """What people read for an agency code: the business system's name, or the hall's division."""

    system = get_catalog().systems.get(code)
    if system is not None:
        return {"zh-CN": system.name.zh, "en": system.name.en}
    if code.startswith("hall-"):
        division = get_divisions().by_code.get(code.removeprefix("hall-"))
        if division is not None:
            return {"zh-CN": f"{division.name}政务服务大厅", "en": f"{division.name_en} service hall"}
    if code == "platform":
        return {"zh-CN": "平台技术团队", "en": "Platform team"}
    return {"zh-CN": code, "en": code}


def level_of(region: str) -> str:
    """省/市/县 from a GB/T 2260 prefix: 35 → province, 3501 or 350100 → city, 350128 → county."""
    if len(region) <= 2:
        return "province"
    if len(region) <= 4 or region.endswith("00"):
        return "city"
    return "county"


def _require_reporter(actor: Actor) -> None:
    if actor.kind == "system" or not (REPORTER_ROLES & actor.roles) or not agency_of(actor):
        raise ProblemError(
            403,
            "feedback_staff_only",
            "只有试运行单位的工作人员可以反馈测试问题。 Only trial staff may report problems.",
        )


def _require_team(actor: Actor) -> None:
    require_admin(actor, "仅平台管理员可以执行该操作。 Administrators only.")


def _visible(actor: Actor, row: dict[str, Any]) -> bool:
    """Admins see every report; staff see their own agency's."""
    return is_admin(actor) or (bool(REPORTER_ROLES & actor.roles) and row["agency"] == agency_of(actor))


def _not_found() -> ProblemError:
    return ProblemError(404, "feedback_not_found", "未找到该问题反馈。 No such problem report.")


def _text(value: str, field: str, limit: int, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ProblemError(422, "feedback_field_required", "请填写此项。 This field is required.", field=field)
    if len(value) > limit:
        raise ProblemError(422, "feedback_field_too_long", f"不能超过 {limit} 个字。 Too long.", field=field)
    return value


def check_screenshot(content: bytes) -> str:
    """The screenshot's media type (PNG or JPEG, sniffed, size-capped, checked like materials)."""
    if len(content) > MAX_SCREENSHOT_BYTES:
        raise ProblemError(
            413,
            "screenshot_too_large",
            f"截图不能超过 {MAX_SCREENSHOT_BYTES // (1024 * 1024)} MB。 The screenshot is too large.",
            field="screenshot",
        )
    if sniff(content) not in ("image/png", "image/jpeg"):
        raise ProblemError(
            415, "unsupported_screenshot", "截图仅支持 PNG、JPEG。 Screenshots must be PNG or JPEG.", field="screenshot"
        )
    return check_upload(content, "screenshot")


def _view(row: dict[str, Any], events: list[dict[str, Any]] | None = None) -> ReportView:
    return ReportView(
        id=row["public_id"],
        agency=row["agency"],
        agency_name=agency_name(row["agency"]),
        level=row["level"],
        region=row["region"],
        reporter_id=row["reporter_id"],
        reporter_name=row["reporter_name"],
        page=row["page"],
        step=row["step"],
        expected=row["expected"],
        actual=row["actual"],
        status=row["status"],
        severity=row["severity"],
        assignee=row["assignee"],
        has_screenshot=bool(row["screenshot_type"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        events=[
            EventView(
                action=e["action"],
                actor_id=e["actor_id"],
                actor_name=e["actor_name"],
                from_status=e["from_status"],
                to_status=e["to_status"],
                detail=json.loads(e["detail"] or "{}"),
                at=e["at"],
            )
            for e in events or []
        ],
    )


class Feedback:
    """The trial's problem reports over the platform (clock, engine)."""

    def __init__(self, platform) -> None:
        self.platform = platform

    async def _event(self, report_id: str, actor: Actor, action: str, before: str, after: str, detail: dict) -> None:
        await FeedbackEvent.insert(
            FeedbackEvent(
                report_id=report_id,
                action=action,
                actor_id=actor.id,
                actor_name=actor.name,
                from_status=before,
                to_status=after,
                detail=json.dumps(detail, ensure_ascii=False),
                at=_now(self.platform),
            )
        )

    async def _row(self, actor: Actor, report_id: str) -> dict[str, Any]:
        row = await FeedbackReport.select().where(FeedbackReport.public_id == report_id).first()
        if row is None or not _visible(actor, row):
            raise _not_found()
        return row

    async def file(
        self,
        actor: Actor,
        page: str,
        step: str,
        expected: str,
        actual: str,
        screenshot: bytes | None = None,
        idempotency_key: str = "",
    ) -> ReportView:
        """File a problem for the reporter's agency; level and region come from the session.

        A retry with the same ``Idempotency-Key`` returns the report the first attempt filed."""
        _require_reporter(actor)
        key = (idempotency_key or "").strip()
        if len(key) > 100:
            raise ProblemError(
                422, "invalid_idempotency_key", "幂等键过长。 The Idempotency-Key is too long.", field="Idempotency-Key"
            )
        client_key = f"{actor.id}:{key}" if key else None
        if client_key and (earlier := await self._by_key(client_key)):
            return await self.get(actor, earlier)
        fields = {
            "page": _text(page, "page", MAX_PAGE),
            "step": _text(step, "step", MAX_TEXT),
            "expected": _text(expected, "expected", MAX_TEXT),
            "actual": _text(actual, "actual", MAX_TEXT),
        }
        media_type = check_screenshot(screenshot) if screenshot else ""
        region = actor.regions[0] if actor.regions else ""
        now, public_id = _now(self.platform), uuid.uuid4().hex
        try:
            await self._insert(actor, public_id, region, fields, media_type, screenshot, client_key, now)
        except Exception:
            # a concurrent retry with the same key won the unique client_key: answer with its report
            if client_key and (earlier := await self._by_key(client_key)):
                return await self.get(actor, earlier)
            raise
        return await self.get(actor, public_id)

    async def _insert(self, actor, public_id, region, fields, media_type, screenshot, client_key, now) -> None:
        async with writing_transaction(self.platform.engine):
            await FeedbackReport.insert(
                FeedbackReport(
                    public_id=public_id,
                    agency=agency_of(actor),
                    level=level_of(region) if region else "province",
                    region=region,
                    reporter_id=actor.id,
                    reporter_name=actor.name,
                    status="new",
                    screenshot_type=media_type,
                    client_key=client_key,
                    created_at=now,
                    updated_at=now,
                    **fields,
                )
            )
            if media_type:
                await FeedbackScreenshot.insert(
                    FeedbackScreenshot(report_id=public_id, media_type=media_type, content=screenshot)
                )
            await self._event(public_id, actor, "filed", "", "new", {"screenshot": bool(media_type)})

    async def _by_key(self, client_key: str) -> str | None:
        row = (
            await FeedbackReport.select(FeedbackReport.public_id).where(FeedbackReport.client_key == client_key).first()
        )
        return row["public_id"] if row else None

    async def get(self, actor: Actor, report_id: str) -> ReportView:
        """One report with its history."""
        row = await self._row(actor, report_id)
        events = await FeedbackEvent.select().where(FeedbackEvent.report_id == report_id).order_by(FeedbackEvent.id)
        return _view(row, events)

    async def screenshot(self, actor: Actor, report_id: str) -> tuple[str, bytes]:
        """(media type, bytes) of the report's screenshot."""
        await self._row(actor, report_id)
        shot = await FeedbackScreenshot.select().where(FeedbackScreenshot.report_id == report_id).first()
        if shot is None:
            raise ProblemError(404, "screenshot_not_found", "该反馈没有截图。 This report has no screenshot.")
        return shot["media_type"], bytes(shot["content"])

    async def list(self, actor: Actor, status: str | None = None, agency: str | None = None) -> list[ReportView]:
        """Reports the caller may see, newest first, optionally by status and (admins) agency."""
        _require_reporter(actor)
        if status is not None and status not in STATUSES:
            raise ProblemError(422, "invalid_feedback_status", "未知的状态。 Unknown status.", field="status")
        query = FeedbackReport.select().order_by(FeedbackReport.id, ascending=False)
        if not is_admin(actor):
            query = query.where(FeedbackReport.agency == agency_of(actor))
        elif agency:
            query = query.where(FeedbackReport.agency == agency)
        if status:
            query = query.where(FeedbackReport.status == status)
        return [_view(r) for r in await query]

    async def stats(self, actor: Actor) -> dict[str, Any]:
        """Counts by agency and status (admins: every agency; staff: their own)."""
        _require_reporter(actor)
        query = FeedbackReport.select(FeedbackReport.agency, FeedbackReport.status)
        if not is_admin(actor):
            query = query.where(FeedbackReport.agency == agency_of(actor))
        rows = await query
        by_status = Counter(r["status"] for r in rows)
        agencies: dict[str, Counter] = {}
        for r in rows:
            agencies.setdefault(r["agency"], Counter())[r["status"]] += 1
        return {
            "total": len(rows),
            "by_status": {s: by_status.get(s, 0) for s in STATUSES},
            "by_agency": [
                {
                    "agency": a,
                    "agency_name": agency_name(a),
                    "total": sum(c.values()),
                    "by_status": {s: c.get(s, 0) for s in STATUSES},
                }
                for a, c in sorted(agencies.items())
            ],
        }

    async def _move(
        self, actor: Actor, row: dict[str, Any], after: str, action: str, changes: dict[Column | str, Any], note: str
    ) -> ReportView:
        before = row["status"]
        async with writing_transaction(self.platform.engine):
            # compare-and-set on the status: two concurrent moves cannot both apply
            updated = (
                await FeedbackReport.update({"status": after, "updated_at": _now(self.platform), **changes})
                .where((FeedbackReport.public_id == row["public_id"]) & (FeedbackReport.status == before))
                .returning(FeedbackReport.id)
            )
            if not updated:
                raise _illegal(before, after)
            await self._event(row["public_id"], actor, action, before, after, {**changes, "note": note})
        return await self.get(actor, row["public_id"])

    async def triage(self, actor: Actor, report_id: str, severity: str, assignee: str, note: str = "") -> ReportView:
        """Set severity and the team member who fixes it; a new or reopened report becomes triaged."""
        _require_team(actor)
        row = await self._row(actor, report_id)
        if severity not in SEVERITIES:
            raise ProblemError(422, "invalid_severity", "未知的严重程度。 Unknown severity.", field="severity")
        assignee = _text(assignee, "assignee", 80)
        if row["status"] not in TRIAGEABLE:
            raise _illegal(row["status"], "triaged")
        after = "triaged" if row["status"] in ("new", "reopened") else row["status"]
        return await self._move(
            actor,
            row,
            after,
            "triaged",
            {"severity": severity, "assignee": assignee},
            _text(note, "note", MAX_TEXT, required=False),
        )

    async def move(self, actor: Actor, report_id: str, status: str, note: str = "") -> ReportView:
        """The platform team's progress: triaged|reopened → in_progress → fixed."""
        _require_team(actor)
        row = await self._row(actor, report_id)
        if status not in STATUSES:
            raise ProblemError(422, "invalid_feedback_status", "未知的状态。 Unknown status.", field="status")
        if (row["status"], status) not in TEAM_MOVES:
            raise _illegal(row["status"], status)
        return await self._move(actor, row, status, "status", {}, _text(note, "note", MAX_TEXT, required=False))

    async def confirm(self, actor: Actor, report_id: str, note: str = "") -> ReportView:
        """The reporter confirms the fix."""
        row = await self._reporters(actor, report_id)
        if row["status"] != "fixed":
            raise _illegal(row["status"], "confirmed")
        return await self._move(actor, row, "confirmed", "confirmed", {}, _text(note, "note", MAX_TEXT, required=False))

    async def reopen(self, actor: Actor, report_id: str, note: str) -> ReportView:
        """The reporter says the fix does not work (a reason is required)."""
        row = await self._reporters(actor, report_id)
        note = _text(note, "note", MAX_TEXT)
        if row["status"] != "fixed":
            raise _illegal(row["status"], "reopened")
        return await self._move(actor, row, "reopened", "reopened", {}, note)

    async def _reporters(self, actor: Actor, report_id: str) -> dict[str, Any]:
        row = await self._row(actor, report_id)
        if row["reporter_id"] != actor.id:
            raise ProblemError(
                403, "not_the_reporter", "只有提交人可以确认或重新打开。 Only the reporter may confirm or reopen."
            )
        return row


def _illegal(before: str, after: str) -> ProblemError:
    """409 for a move the state machine does not have (the statuses stay out of what people read)."""
    del before, after
    return ProblemError(
        409,
        "illegal_feedback_transition",
        "当前状态不能进行该操作。 This move is not allowed from the current status.",
    )
