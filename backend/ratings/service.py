"""好差评: ratings per matter and per visit, the follow-up of bad ratings in working days,
appeals and re-review, and reports.

A bad rating (不满意, 非常不满意) opens a follow-up in the same transaction, with deadlines
from the holiday calendar: 回访 by the end of the next working day, 整改 and the reply to
the applicant within 10 working days (Fujian's 好差评 measures; ``standard.py``).
Deadline jobs (``ratings.deadline``) mark a step overdue when its day has passed without
it. After the reply the applicant may rate once more (that rating is final and closes the
follow-up). Staff may appeal a malicious or mistaken rating; an administrator's upheld
re-review invalidates it (excluded from reports).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from typing import Any, Literal

from backend.cases import states as st
from backend.cases.common import _json, _load, cst_date
from backend.cases.tables import CaseItem
from backend.db import stored, writing_transaction
from backend.identity.actor import Actor, is_admin, require_admin
from backend.jobs import RetryLater
from backend.lib.problems import ProblemError
from backend.ratings import reporting
from backend.ratings.schemas import AppealView, FollowUpEventView, FollowUpView, RatingView, VisitTokenView
from backend.ratings.standard import (
    BAD_LEVELS,
    DEFAULT_LEVEL,
    DEFAULT_RATING_AFTER_DAYS,
    FUJIAN_SOURCE,
    INDICATORS,
    LEVELS,
    RECTIFY_DAYS,
    SATISFIED_LEVELS,
    VISIT_DAYS,
)
from backend.ratings.tables import Appeal, FollowUp, FollowUpEvent, Rating, VisitToken

DEADLINE_JOB = "ratings.deadline"
CST = timezone(timedelta(hours=8))
CLOSED_ITEM_STATES = (st.COMPLETED, st.REJECTED)
VISIT_TOKEN_TTL_MS = 24 * 3_600_000
"""How long a visit's rating token lasts: the visitor rates at the end of the visit or later that day."""


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _invalid_visit_token() -> ProblemError:
    return ProblemError(
        422,
        "invalid_visit_token",
        "评价凭证无效或已过期，请在办事结束时评价。 The rating token is unknown or has expired.",
        field="visit_token",
    )


def end_of_day_ms(day: date) -> int:
    """The first millisecond after ``day`` in China Standard Time."""
    return int(datetime(day.year, day.month, day.day, tzinfo=CST).timestamp() * 1000) + 86_400_000


def _new_id() -> str:
    return uuid.uuid4().hex


def _check_indicators(indicators: list[str]) -> list[str]:
    unknown = [i for i in indicators if i not in INDICATORS]
    if unknown:
        raise ProblemError(
            422, "unknown_indicator", f"未知的评价指标：{', '.join(unknown)}。 Unknown indicator.", field="indicators"
        )
    return sorted(set(indicators))


class Ratings:
    """The 好差评 service (routes, the deadline job and tests call this)."""

    def __init__(self, platform) -> None:
        self.platform = platform

    @property
    def calendar(self):
        return self.platform.cases.calendar

    def now(self) -> int:
        return self.platform.clock.now_ms()

    # ------------------------------------------------------------------ rating

    async def rate_matter(
        self, actor: Actor, case_id: str, item_ref: str, level: int, indicators: list[str], comment: str = ""
    ) -> RatingView:
        """一事一评: the applicant rates one closed item of their case, once."""
        # 404 unless the actor may see the case; the case's access decision says for which items
        case, access = await self.platform.cases.case_access(actor, case_id, "rate")
        if actor.kind == "staff" or access.staff:
            raise ProblemError(403, "applicants_only", "评价由申请人本人作出。 Only the applicant may rate.")
        item = await CaseItem.select().where((CaseItem.ref == item_ref) & (CaseItem.case_file == case["id"])).first()
        if item is None:
            raise ProblemError(404, "item_not_found", "找不到该事项。 No such item.", field="item_ref")
        if not access.covers(item["code"]):  # an agent rates only the items their mandate covers
            raise ProblemError(
                403,
                "mandate_scope",
                "您的授权委托不包括该事项。 Your mandate does not cover this item.",
                field="item_ref",
            )
        if item["status"] not in CLOSED_ITEM_STATES:
            raise ProblemError(
                409, "item_not_closed", "事项办结后才能评价。 Rate an item once it is closed.", field="item_ref"
            )
        return await self._create(
            "matter",
            item_ref,
            actor,
            level,
            indicators,
            comment,
            case_public_id=case["public_id"],
            item_code=item["code"],
            system=item["system"],
            region=item["region"] or case["region"],
            channel=case["channel"],
        )

    async def issue_visit_token(
        self, *, visit_ref: str, hall: str, region: str, channel: Literal["window", "kiosk"], rater_id: str
    ) -> VisitTokenView:
        """A one-time rating token for a real visit (a kiosk session, a window service record).

        One token per visit: asking again replaces an unspent token (the earlier one stops
        working); a visit already rated gets none. Only the token's SHA-256 is stored.
        """
        token = secrets.token_urlsafe(32)
        now = self.now()
        expires_at = now + VISIT_TOKEN_TTL_MS
        visit_key = f"{hall}:{channel}:{visit_ref}"[:120]
        async with writing_transaction(self.platform.engine):
            row = (
                await VisitToken.select(VisitToken.id, VisitToken.used_at)
                .where(VisitToken.visit_key == visit_key)
                .first()
            )
            if row is not None and row["used_at"] is not None:
                raise ProblemError(409, "already_rated", "本次服务已评价过。 This visit has been rated already.")
            token_hash = _token_hash(token)
            if row is None:
                await VisitToken.insert(
                    VisitToken(
                        visit_key=visit_key,
                        visit_ref=visit_ref[:100],
                        hall=hall[:40],
                        region=region[:12],
                        channel=channel,
                        rater_id=rater_id[:64],
                        token_hash=token_hash,
                        issued_at=now,
                        expires_at=expires_at,
                    )
                )
            else:
                await VisitToken.update(
                    {VisitToken.token_hash: token_hash, VisitToken.issued_at: now, VisitToken.expires_at: expires_at}
                ).where(VisitToken.id == row["id"])
        return VisitTokenView(visit_token=token, expires_at=expires_at, channel=channel)

    async def rate_visit(
        self, actor: Actor, visit_token: str, level: int, indicators: list[str], comment: str = ""
    ) -> RatingView:
        """一次一评: one rating per hall visit or kiosk session, spending the token that visit issued.

        A forged, unknown, expired or someone else's token is a 422 ``invalid_visit_token``, a spent
        one a 409 ``already_rated``; neither records anything nor opens a follow-up.
        """
        if actor.kind == "staff":
            raise ProblemError(403, "applicants_only", "评价由办事人本人作出。 Only the visitor may rate.")
        visit = await VisitToken.select().where(VisitToken.token_hash == _token_hash(visit_token)).first()
        if visit is None or visit["expires_at"] <= self.now() or visit["rater_id"] != actor.id:
            raise _invalid_visit_token()
        if visit["used_at"] is not None:
            raise ProblemError(409, "already_rated", "本次服务已评价过。 This visit has been rated already.")
        return await self._create(
            "visit",
            f"{visit['hall']}:{visit['visit_ref']}",
            actor,
            level,
            indicators,
            comment,
            visit_token_id=visit["id"],
            hall=visit["hall"],
            region=visit["region"],
            channel=visit["channel"],
        )

    async def _create(
        self,
        kind: str,
        subject_key: str,
        actor: Actor,
        level: int,
        indicators: list[str],
        comment: str,
        *,
        supersedes: str = "",
        visit_token_id: int | None = None,
        **fields: Any,
    ) -> RatingView:
        if level not in LEVELS:
            raise ProblemError(422, "invalid_level", "评价等级为1至5。 Level must be 1 to 5.", field="level")
        indicators = _check_indicators(indicators)
        now = self.now()
        public_id = _new_id()
        async with writing_transaction(self.platform.engine):
            if not supersedes:
                earlier = (
                    await Rating.select(Rating.id)
                    .where((Rating.kind == kind) & (Rating.subject_key == subject_key) & (Rating.supersedes == ""))
                    .first()
                )
                if earlier is not None:
                    raise ProblemError(409, "already_rated", "该事项（本次服务）已评价过。 Already rated.")
            if visit_token_id is not None:
                # spent here, in the rating's own transaction: two taps with one token make one rating
                spent = (
                    await VisitToken.update({VisitToken.used_at: now, VisitToken.rating_id: public_id})
                    .where((VisitToken.id == visit_token_id) & VisitToken.used_at.is_null())
                    .returning(VisitToken.id)
                )
                if not spent:
                    raise ProblemError(409, "already_rated", "本次服务已评价过。 This visit has been rated already.")
            await Rating.insert(
                Rating(
                    public_id=public_id,
                    kind=kind,
                    subject_key=subject_key,
                    rater_id=actor.id,
                    level=level,
                    indicators=_json(indicators),
                    comment=comment[:1000],
                    supersedes=supersedes,
                    created_at=now,
                    **fields,
                )
            )
            row = stored(await Rating.select().where(Rating.public_id == public_id).first())  # written above
            await reporting.record(
                self.platform, "rating.created", supersedes or public_id, now, rating=reporting.rating_data(row)
            )
            if level in BAD_LEVELS and not supersedes:
                await self._open_follow_up(
                    public_id, fields.get("system", ""), fields.get("hall", ""), fields.get("region", ""), now
                )
        await self.platform.queue.notify()
        return await self.rating(public_id)

    async def _open_follow_up(self, rating_id: str, system: str, hall: str, region: str, now: int) -> str:
        today = cst_date(now)
        visit_due = self.calendar.add(today, VISIT_DAYS)
        rectify_due = self.calendar.add(today, RECTIFY_DAYS)
        fid = _new_id()
        await FollowUp.insert(
            FollowUp(
                public_id=fid,
                rating_id=rating_id,
                system=system,
                hall=hall,
                region=region,
                opened_on=today.isoformat(),
                visit_due_on=visit_due.isoformat(),
                rectify_due_on=rectify_due.isoformat(),
                created_at=now,
            )
        )
        await FollowUpEvent.insert(
            FollowUpEvent(
                follow_up_id=fid, type="opened", message=f"回访期限 {visit_due}，整改及答复期限 {rectify_due}", at=now
            )
        )
        f = stored(await FollowUp.select().where(FollowUp.public_id == fid).first())  # written above
        await reporting.record(
            self.platform, "follow_up.opened", rating_id, now, follow_up=reporting.follow_up_data(f, step="opened")
        )
        for step, due in (("visit", visit_due), ("rectify", rectify_due)):
            await self.platform.queue.enqueue(
                DEADLINE_JOB,
                {"follow_up": fid, "step": step},
                delay_seconds=(end_of_day_ms(due) - now) / 1000,
                dedupe_key=f"rating-deadline:{fid}:{step}",
            )
        return fid

    # ------------------------------------------------------------------ follow-up

    def _may_handle(self, actor: Actor, f: dict[str, Any], *, admin: bool = True) -> bool:
        if admin and is_admin(actor):
            return True
        if f["system"]:
            return (
                "agency_staff" in actor.roles and f["system"] in actor.agencies and actor.in_region(f["region"] or "")
            )
        return "window_staff" in actor.roles and bool(actor.hall) and actor.hall == f["hall"]

    async def _follow_up_row(self, actor: Actor | None, fid: str) -> dict[str, Any]:
        f = await FollowUp.select().where(FollowUp.public_id == fid).first()
        if f is None:
            raise ProblemError(404, "follow_up_not_found", "找不到该差评整改记录。 No such follow-up.")
        if actor is not None and not self._may_handle(actor, f):
            raise ProblemError(403, "outside_scope", "该差评不属于您所在部门或大厅。 Outside your agency or hall.")
        return f

    async def _step(
        self, actor: Actor, fid: str, *, expect: tuple[str, ...], status: str, changes: dict, event: str, message: str
    ) -> FollowUpView:
        f = await self._follow_up_row(actor, fid)
        now = self.now()
        async with writing_transaction(self.platform.engine):
            moved = (
                await FollowUp.update({FollowUp.status: status, **changes})
                .where((FollowUp.id == f["id"]) & FollowUp.status.is_in(list(expect)))
                .returning(FollowUp.id)
            )
            if not moved:
                raise ProblemError(
                    409,
                    "step_not_allowed",
                    f"整改记录当前为“{f['status']}”，不能执行该步骤。 Not allowed in the follow-up's state.",
                )
            await FollowUpEvent.insert(
                FollowUpEvent(follow_up_id=fid, type=event, actor=actor.id, message=message[:2000], at=now)
            )
            await reporting.record(
                self.platform,
                f"follow_up.{event}",
                f["rating_id"],
                now,
                follow_up=reporting.follow_up_data(f, step=event, note=message[:2000], status=status),
            )
        await self.platform.queue.notify()
        return await self.follow_up(actor, fid)

    async def record_visit(self, actor: Actor, fid: str, note: str) -> FollowUpView:
        """回访: staff contacted the applicant."""
        return await self._step(
            actor,
            fid,
            expect=("open",),
            status="visited",
            changes={FollowUp.visited_at: self.now(), FollowUp.visit_note: note},
            event="visited",
            message=note,
        )

    async def record_rectification(self, actor: Actor, fid: str, note: str) -> FollowUpView:
        """整改: what was fixed."""
        return await self._step(
            actor,
            fid,
            expect=("visited",),
            status="rectified",
            changes={FollowUp.rectified_at: self.now(), FollowUp.rectification: note},
            event="rectified",
            message=note,
        )

    async def reply(self, actor: Actor, fid: str, message: str) -> FollowUpView:
        """答复: the applicant is told what was done and may rate again."""
        view = await self._step(
            actor,
            fid,
            expect=("rectified",),
            status="replied",
            changes={FollowUp.replied_at: self.now(), FollowUp.reply: message},
            event="replied",
            message=message,
        )
        if self.platform.notify_applicant:
            rating = stored(  # the follow-up's rating, just shown in ``view``
                await Rating.select(Rating.rater_id, Rating.case_public_id)
                .where(Rating.public_id == view.rating.id)
                .first()
            )
            async with writing_transaction(self.platform.engine):  # the notification, its text and its job together
                await self.platform.notify_applicant(
                    rating["rater_id"], "rating_reply", {"follow_up": fid, "case": rating["case_public_id"]}
                )
            await self.platform.queue.notify()  # its text message
        return view

    async def rate_again(
        self, actor: Actor, fid: str, level: int, indicators: list[str], comment: str = ""
    ) -> RatingView:
        """The applicant's second (final) rating after the reply; it replaces the bad one and closes the follow-up."""
        f = await self._follow_up_row(None, fid)
        old = stored(
            await Rating.select().where(Rating.public_id == f["rating_id"]).first()
        )  # a follow-up names an existing rating
        if old["rater_id"] != actor.id:
            raise ProblemError(404, "follow_up_not_found", "找不到该差评整改记录。 No such follow-up.")
        if f["status"] != "replied":
            raise ProblemError(
                409, "not_replied_yet", "收到整改答复后才能再次评价。 You can rate again after the reply."
            )
        fields = {k: old[k] for k in ("case_public_id", "item_code", "system", "hall", "region", "channel")}
        view = await self._create(
            old["kind"], old["subject_key"], actor, level, indicators, comment, supersedes=old["public_id"], **fields
        )
        now = self.now()
        async with writing_transaction(self.platform.engine):
            await Rating.update({Rating.status: "superseded"}).where(Rating.id == old["id"])
            await FollowUp.update(
                {FollowUp.status: "closed", FollowUp.re_rating_id: view.id, FollowUp.closed_at: now}
            ).where(FollowUp.id == f["id"])
            await FollowUpEvent.insert(
                FollowUpEvent(follow_up_id=fid, type="re_rated", actor=actor.id, message=LEVELS[level][0], at=now)
            )
            closed = {**f, "re_rating_id": view.id}
            await reporting.record(
                self.platform,
                "follow_up.closed",
                f["rating_id"],
                now,
                follow_up=reporting.follow_up_data(closed, step="re_rated", status="closed"),
            )
        await self.platform.queue.notify()
        return await self.rating(view.id)

    async def deadline_job(self, job) -> None:
        """Mark a follow-up step overdue once its working-day deadline has passed undone."""
        fid, step = job.payload["follow_up"], job.payload["step"]
        f = await FollowUp.select().where(FollowUp.public_id == fid).first()
        if f is None or f["status"] in ("closed", "void"):
            return
        due = date.fromisoformat(f["visit_due_on"] if step == "visit" else f["rectify_due_on"])
        now = self.now()
        if now < end_of_day_ms(due):
            raise RetryLater("deadline not reached", delay=(end_of_day_ms(due) - now) / 1000)
        done = f["visited_at"] is not None if step == "visit" else f["replied_at"] is not None
        flag = FollowUp.visit_overdue if step == "visit" else FollowUp.rectify_overdue
        if done or f[flag._meta.name]:
            return
        async with writing_transaction(self.platform.engine):
            await FollowUp.update({flag: True}).where(FollowUp.id == f["id"])
            label = "回访" if step == "visit" else "整改答复"
            await FollowUpEvent.insert(
                FollowUpEvent(follow_up_id=fid, type=f"{step}_overdue", message=f"{label}已超过期限 {due}", at=now)
            )
            await reporting.record(
                self.platform,
                "follow_up.overdue",
                f["rating_id"],
                now,
                follow_up=reporting.follow_up_data(f, step=f"{step}_overdue"),
            )
        await self.platform.queue.notify()

    # ------------------------------------------------------------------ appeals

    async def appeal(self, actor: Actor, rating_id: str, ground: str, reason: str) -> AppealView:
        """申诉: the handling staff contest a malicious or mistaken rating."""
        r = await Rating.select().where(Rating.public_id == rating_id).first()
        if r is None:
            raise ProblemError(404, "rating_not_found", "找不到该评价。 No such rating.")
        scope = {"system": r["system"], "hall": r["hall"], "region": r["region"]}
        if not self._may_handle(actor, scope, admin=False):
            raise ProblemError(
                403, "outside_scope", "只有承办部门或大厅可以申诉。 Only the handling agency or hall may appeal."
            )
        if r["status"] != "valid":
            raise ProblemError(409, "not_appealable", "该评价当前不能申诉。 This rating cannot be appealed now.")
        now = self.now()
        aid = _new_id()
        async with writing_transaction(self.platform.engine):
            await Appeal.insert(
                Appeal(
                    public_id=aid, rating_id=rating_id, ground=ground, reason=reason, filed_by=actor.id, filed_at=now
                )
            )
            await Rating.update({Rating.status: "under_appeal"}).where(Rating.id == r["id"])
            filed = stored(await Appeal.select().where(Appeal.public_id == aid).first())  # written above
            await reporting.record(
                self.platform, "appeal.filed", r["supersedes"] or rating_id, now, appeal=reporting.appeal_data(filed)
            )
        await self.platform.queue.notify()
        return await self._appeal(aid)

    async def review(self, actor: Actor, appeal_id: str, uphold: bool, decision: str) -> AppealView:
        """复核 by an administrator: an upheld appeal invalidates the rating and voids its follow-up."""
        require_admin(actor, "复核由管理员作出。 Administrators review appeals.")
        a = await Appeal.select().where(Appeal.public_id == appeal_id).first()
        if a is None:
            raise ProblemError(404, "appeal_not_found", "找不到该申诉。 No such appeal.")
        if a["filed_by"] == actor.id:
            raise ProblemError(
                403, "reviewer_conflict", "申诉人不能复核自己的申诉。 You cannot review your own appeal."
            )
        now = self.now()
        async with writing_transaction(self.platform.engine):
            moved = (
                await Appeal.update(
                    {
                        Appeal.status: "upheld" if uphold else "dismissed",
                        Appeal.reviewer: actor.id,
                        Appeal.decision: decision,
                        Appeal.decided_at: now,
                    }
                )
                .where((Appeal.id == a["id"]) & (Appeal.status == "pending"))
                .returning(Appeal.id)
            )
            if not moved:
                raise ProblemError(409, "appeal_decided", "该申诉已复核。 Already reviewed.")
            await Rating.update({Rating.status: "invalidated" if uphold else "valid"}).where(
                Rating.public_id == a["rating_id"]
            )
            rated = stored(
                await Rating.select(Rating.supersedes).where(Rating.public_id == a["rating_id"]).first()
            )  # an appeal names an existing rating
            chain = rated["supersedes"] or a["rating_id"]
            decided = stored(await Appeal.select().where(Appeal.id == a["id"]).first())  # updated above
            await reporting.record(self.platform, "appeal.decided", chain, now, appeal=reporting.appeal_data(decided))
            if uphold:
                for f in await FollowUp.select().where(
                    (FollowUp.rating_id == a["rating_id"]) & FollowUp.status.not_in(["closed", "void"])
                ):
                    await FollowUp.update({FollowUp.status: "void", FollowUp.closed_at: now}).where(
                        FollowUp.public_id == f["public_id"]
                    )
                    await FollowUpEvent.insert(
                        FollowUpEvent(
                            follow_up_id=f["public_id"], type="voided", actor=actor.id, message=decision, at=now
                        )
                    )
                    await reporting.record(
                        self.platform,
                        "follow_up.voided",
                        chain,
                        now,
                        follow_up=reporting.follow_up_data(f, step="voided", status="void"),
                    )
        await self.platform.queue.notify()
        return await self._appeal(appeal_id)

    # ------------------------------------------------------------------ reading

    async def rating(self, rating_id: str) -> RatingView:
        r = await Rating.select().where(Rating.public_id == rating_id).first()
        if r is None:
            raise ProblemError(404, "rating_not_found", "找不到该评价。 No such rating.")
        f = await FollowUp.select(FollowUp.public_id).where(FollowUp.rating_id == rating_id).first()
        return self._rating_view(r, f["public_id"] if f else None)

    @staticmethod
    def _rating_view(r: dict[str, Any], follow_up_id: str | None = None) -> RatingView:
        zh, en = LEVELS[r["level"]]
        return RatingView(
            id=r["public_id"],
            kind=r["kind"],
            level=r["level"],
            level_label={"zh-CN": zh, "en": en},
            indicators=_load(r["indicators"], []),
            comment=r["comment"],
            status=r["status"],
            case_id=r["case_public_id"],
            item_code=r["item_code"],
            system=r["system"],
            hall=r["hall"],
            channel=r["channel"],
            created_at=r["created_at"],
            supersedes=r["supersedes"],
            follow_up_id=follow_up_id,
        )

    async def mine(self, actor: Actor) -> list[RatingView]:
        rows = (
            await Rating.select()
            .where(Rating.rater_id == actor.id)
            .order_by(Rating.created_at, ascending=False)
            .limit(500)
        )
        fus = {
            f["rating_id"]: f["public_id"]
            for f in await FollowUp.select(FollowUp.rating_id, FollowUp.public_id).where(
                FollowUp.rating_id.is_in([r["public_id"] for r in rows] or [""])
            )
        }
        return [self._rating_view(r, fus.get(r["public_id"])) for r in rows]

    async def follow_up(self, actor: Actor | None, fid: str) -> FollowUpView:
        f = await self._follow_up_row(actor, fid)
        r = stored(
            await Rating.select().where(Rating.public_id == f["rating_id"]).first()
        )  # a follow-up names an existing rating
        events = await FollowUpEvent.select().where(FollowUpEvent.follow_up_id == fid).order_by(FollowUpEvent.id)
        return FollowUpView(
            id=fid,
            rating=self._rating_view(r, fid),
            status=f["status"],
            opened_on=f["opened_on"],
            visit_due_on=f["visit_due_on"],
            rectify_due_on=f["rectify_due_on"],
            visited_at=f["visited_at"],
            visit_note=f["visit_note"],
            rectified_at=f["rectified_at"],
            rectification=f["rectification"],
            replied_at=f["replied_at"],
            reply=f["reply"],
            visit_overdue=f["visit_overdue"],
            rectify_overdue=f["rectify_overdue"],
            re_rating_id=f["re_rating_id"],
            events=[
                FollowUpEventView(type=e["type"], actor=e["actor"], message=e["message"], at=e["at"]) for e in events
            ],
        )

    async def follow_ups(self, actor: Actor, *, open_only: bool = True) -> list[FollowUpView]:
        query = FollowUp.select().order_by(FollowUp.visit_due_on)
        if open_only:
            query = query.where(FollowUp.status.not_in(["closed", "void"]))
        rows = [f for f in await query.limit(1000) if self._may_handle(actor, f)]
        return [await self.follow_up(None, f["public_id"]) for f in rows]

    async def _appeal(self, aid: str) -> AppealView:
        a = stored(await Appeal.select().where(Appeal.public_id == aid).first())  # written or checked by the caller
        return AppealView(
            id=a["public_id"],
            rating_id=a["rating_id"],
            ground=a["ground"],
            reason=a["reason"],
            filed_by=a["filed_by"],
            status=a["status"],
            reviewer=a["reviewer"],
            decision=a["decision"],
            filed_at=a["filed_at"],
            decided_at=a["decided_at"],
        )

    async def appeals(self, actor: Actor, status: str | None = "pending") -> list[AppealView]:
        require_admin(actor)
        query = Appeal.select(Appeal.public_id).order_by(Appeal.filed_at)
        if status:
            query = query.where(Appeal.status == status)
        return [await self._appeal(a["public_id"]) for a in await query.limit(500)]


async def unrated_defaults(now_ms: int, since_ms: int | None = None, until_ms: int | None = None) -> list[dict]:
    """Closed items nobody rated within 7 natural days: they count as 满意 (Fujian's measures).

    Worked out when reports are read rather than stored, so a late real rating simply takes
    their place. Each row looks like a rating (level, system, region, kind ``matter``).
    """
    cutoff = now_ms - DEFAULT_RATING_AFTER_DAYS * 86_400_000
    query = CaseItem.select(CaseItem.ref, CaseItem.system, CaseItem.region, CaseItem.closed_at).where(
        CaseItem.status.is_in(list(CLOSED_ITEM_STATES)) & (CaseItem.closed_at <= cutoff)
    )
    rated = {r["subject_key"] for r in await Rating.select(Rating.subject_key).where(Rating.kind == "matter")}
    out = []
    for item in await query:
        if item["ref"] in rated or item["closed_at"] is None:
            continue
        # the default is dated when the 7 days ran out; the period filter applies to that date
        at = item["closed_at"] + DEFAULT_RATING_AFTER_DAYS * 86_400_000
        if (since_ms is not None and at < since_ms) or (until_ms is not None and at >= until_ms):
            continue
        out.append(
            {"level": DEFAULT_LEVEL, "system": item["system"], "region": item["region"], "hall": "", "kind": "matter"}
        )
    return out


async def report(since_ms: int | None = None, until_ms: int | None = None, now_ms: int | None = None) -> dict[str, Any]:
    """好差评 figures: counts per level, satisfaction, by system and hall, follow-up timeliness.

    Counts the ratings in force: ``valid`` and ``under_appeal``; superseded first ratings and
    ratings invalidated on re-review are left out. With ``now_ms``, closed items left unrated
    for 7 natural days count as 满意 (``defaulted``), as Fujian's 好差评 measures say.
    """
    query = Rating.select()
    if since_ms is not None:
        query = query.where(Rating.created_at >= since_ms)
    if until_ms is not None:
        query = query.where(Rating.created_at < until_ms)
    rows = [r for r in await query if r["status"] in ("valid", "under_appeal")]
    defaults = await unrated_defaults(now_ms, since_ms, until_ms) if now_ms is not None else []
    rows = [*rows, *defaults]
    levels = Counter(r["level"] for r in rows)
    total = len(rows)

    def group(key: str) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for r in rows:
            if not r[key]:
                continue
            g = out.setdefault(r[key], {"total": 0, "satisfied": 0, "bad": 0})
            g["total"] += 1
            g["satisfied"] += r["level"] in SATISFIED_LEVELS
            g["bad"] += r["level"] in BAD_LEVELS
        for g in out.values():
            g["satisfaction"] = round(g["satisfied"] / g["total"], 4) if g["total"] else None
        return out

    delivery = await reporting.delivery_counts()
    follow_ups = await FollowUp.select()
    counted = [f for f in follow_ups if f["status"] != "void"]
    replied = [f for f in counted if f["replied_at"] is not None]
    return {
        "total": total,
        "by_level": {str(level): levels.get(level, 0) for level in sorted(LEVELS, reverse=True)},
        "level_labels": {str(k): {"zh-CN": v[0], "en": v[1]} for k, v in LEVELS.items()},
        "satisfaction": round(sum(levels[k] for k in SATISFIED_LEVELS) / total, 4) if total else None,
        "bad": sum(levels[k] for k in BAD_LEVELS),
        "by_kind": dict(Counter(r["kind"] for r in rows)),
        "by_system": group("system"),
        "by_hall": group("hall"),
        "defaulted": len(defaults),
        "rules": {
            "rectify_working_days": RECTIFY_DAYS,
            "default_after_days": DEFAULT_RATING_AFTER_DAYS,
            "default_level": DEFAULT_LEVEL,
            "source": FUJIAN_SOURCE,
        },
        "follow_ups": {
            "total": len(counted),
            "open": sum(f["status"] not in ("closed", "replied") for f in counted),
            "visited_on_time": sum(f["visited_at"] is not None and not f["visit_overdue"] for f in counted),
            "visit_overdue": sum(bool(f["visit_overdue"]) for f in counted),
            "replied_on_time": sum(not f["rectify_overdue"] for f in replied),
            "rectify_overdue": sum(bool(f["rectify_overdue"]) for f in counted),
            "re_rated": sum(bool(f["re_rating_id"]) for f in counted),
        },
        # reports to the provincial 好差评 system (every event, not only ratings in force)
        "reporting": delivery,
    }


def indicator_list() -> list[dict[str, str]]:
    return [{"code": k, "zh-CN": zh, "en": en, "polarity": p} for k, (zh, en, p) in INDICATORS.items()]
