"""HTTP routes of 好差评 (thin over ``Ratings``)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from backend.identity import provide_principal
from backend.identity.actor import ActorDep, require_admin
from backend.lib.problems import ProblemError
from backend.platform import PlatformDep
from backend.ratings.schemas import (
    AppealCreate,
    AppealDecision,
    AppealView,
    FollowUpView,
    MatterRatingCreate,
    RatingView,
    ReRating,
    StepNote,
    VisitRatingCreate,
    VisitTokenView,
)
from backend.ratings.service import Ratings, indicator_list, report
from backend.ratings.standard import LEVELS


class RatingController(Controller):
    """好差评 — 一事一评, 一次一评, follow-up of bad ratings, appeals and reports."""

    path = "/api/v1/ratings"
    tags = ["ratings"]

    @get("/scale", summary="The five levels and the indicators")
    async def scale(self) -> dict[str, Any]:
        return {
            "levels": [{"level": k, "zh-CN": v[0], "en": v[1]} for k, v in sorted(LEVELS.items(), reverse=True)],
            "indicators": indicator_list(),
        }

    @post("/matters", summary="一事一评: rate one closed item of my case")
    async def rate_matter(
        self, platform: PlatformDep, actor: ActorDep, data: JSONBody[MatterRatingCreate]
    ) -> RatingView:
        return await Ratings(platform).rate_matter(
            actor, data.case_id, data.item_ref, data.level, data.indicators, data.comment
        )

    @post("/visits", summary="一次一评: rate one hall visit or kiosk session with the one-time token the visit issued")
    async def rate_visit(self, platform: PlatformDep, actor: ActorDep, data: JSONBody[VisitRatingCreate]) -> RatingView:
        return await Ratings(platform).rate_visit(actor, data.visit_token, data.level, data.indicators, data.comment)

    @post("/visit-tokens", summary="The kiosk session's one-time token to rate this visit (kiosk sessions only)")
    async def kiosk_visit_token(self, platform: PlatformDep, request: Request) -> VisitTokenView:

        principal = await provide_principal(request)
        if principal.auth_method != "kiosk" or not principal.session_id or not principal.person_id:
            raise ProblemError(
                403, "kiosk_session_required", "只有自助终端的办事会话可以领取评价凭证。 Only a kiosk session may ask."
            )
        return await Ratings(platform).issue_visit_token(
            visit_ref=principal.session_id,
            hall=principal.hall or principal.terminal_id or "kiosk",
            region="",
            channel="kiosk",
            rater_id=principal.person_id,
        )

    @get("/mine", summary="My ratings (with their follow-ups)")
    async def mine(self, platform: PlatformDep, actor: ActorDep) -> list[RatingView]:
        return await Ratings(platform).mine(actor)

    @get("/follow-ups", summary="Bad ratings to follow up in my agency or hall (admins: all)")
    async def follow_ups(
        self, platform: PlatformDep, actor: ActorDep, open_only: FromQuery[bool] = True
    ) -> list[FollowUpView]:
        return await Ratings(platform).follow_ups(actor, open_only=open_only)

    @get("/follow-ups/{fid:str}", summary="One follow-up with its history")
    async def follow_up(self, platform: PlatformDep, actor: ActorDep, fid: FromPath[str]) -> FollowUpView:
        return await Ratings(platform).follow_up(actor, fid)

    @post("/follow-ups/{fid:str}/visit", status_code=200, summary="回访 (within 1 working day)")
    async def visit(
        self, platform: PlatformDep, actor: ActorDep, fid: FromPath[str], data: JSONBody[StepNote]
    ) -> FollowUpView:
        return await Ratings(platform).record_visit(actor, fid, data.note)

    @post("/follow-ups/{fid:str}/rectification", status_code=200, summary="整改 (within 10 working days, Fujian)")
    async def rectify(
        self, platform: PlatformDep, actor: ActorDep, fid: FromPath[str], data: JSONBody[StepNote]
    ) -> FollowUpView:
        return await Ratings(platform).record_rectification(actor, fid, data.note)

    @post("/follow-ups/{fid:str}/reply", status_code=200, summary="答复 the applicant, who may rate again")
    async def reply(
        self, platform: PlatformDep, actor: ActorDep, fid: FromPath[str], data: JSONBody[StepNote]
    ) -> FollowUpView:
        return await Ratings(platform).reply(actor, fid, data.note)

    @post("/follow-ups/{fid:str}/re-rating", summary="The applicant rates again after the reply (final)")
    async def re_rate(
        self, platform: PlatformDep, actor: ActorDep, fid: FromPath[str], data: JSONBody[ReRating]
    ) -> RatingView:
        return await Ratings(platform).rate_again(actor, fid, data.level, data.indicators, data.comment)

    @post("/{rating_id:str}/appeals", summary="申诉: contest a malicious or mistaken rating")
    async def appeal(
        self, platform: PlatformDep, actor: ActorDep, rating_id: FromPath[str], data: JSONBody[AppealCreate]
    ) -> AppealView:
        return await Ratings(platform).appeal(actor, rating_id, data.ground, data.reason)

    @get("/appeals", summary="Appeals to re-review (administrators)")
    async def appeals(
        self, platform: PlatformDep, actor: ActorDep, status: FromQuery[str | None] = "pending"
    ) -> list[AppealView]:
        return await Ratings(platform).appeals(actor, status)

    @post("/appeals/{appeal_id:str}/review", status_code=200, summary="复核: uphold (invalidate the rating) or dismiss")
    async def review(
        self, platform: PlatformDep, actor: ActorDep, appeal_id: FromPath[str], data: JSONBody[AppealDecision]
    ) -> AppealView:
        return await Ratings(platform).review(actor, appeal_id, data.uphold, data.decision)

    @get("/report", summary="好差评 report: levels, satisfaction, by agency and hall, follow-up timeliness")
    async def report(
        self,
        platform: PlatformDep,
        actor: ActorDep,
        since: FromQuery[int | None] = None,
        until: FromQuery[int | None] = None,
    ) -> dict[str, Any]:
        require_admin(actor)
        return await report(since, until, now_ms=platform.clock.now_ms())


ROUTES: list[Any] = [RatingController]
