"""The case backend (一次提交、一网查看): drafts, submission, orchestrated dispatch, results.

``configure(platform)`` wires the service and the dispatcher onto a platform; routes are
in ``backend.cases.routes.ROUTES``; background work is in the dispatcher's handlers.
"""

from __future__ import annotations

from pathlib import Path

from backend.cases.common import EXPIRY_JOB, Capacity
from backend.cases.service import CaseService
from backend.identity.actor import Actor, actor_of
from backend.identity.bridge import may_person_act_for
from backend.lib.workdays import WorkCalendar, default_calendar


def _use_identity(platform, service: CaseService) -> None:
    """Acting capacity (registration record or 授权委托) and the identity gate (face, signatures).

    The capacity is asked afresh on every access (``CaseService._authorize``, the case context's one
    access decision): a revoked or expired mandate ends the agent's access at once, and a mandate
    for some items (``ActingCapacity.covers``) reaches only those items.
    """

    async def capacity_for(actor: Actor, uscc: str) -> Capacity | None:
        capacity = await may_person_act_for(platform, actor.id, uscc)
        if capacity is None:
            return None
        if capacity.covers(None):
            return Capacity()
        return Capacity(whole_case=False, items=tuple(code for code in capacity.items if capacity.covers(code)))

    service.capacity_for = capacity_for

    async def case_reader_guard(principal, reference: str, action: str) -> None:
        # a signing reference is "<case public id>.<suffix>": the case's own rule decides, and audits staff
        await service.case_for(actor_of(principal), reference.split(".", 1)[0], action)

    platform.case_reader_guard = case_reader_guard

    async def staff_reach_enterprise(principal, uscc: str) -> bool:
        return await service.staff_reach_enterprise(actor_of(principal), uscc)

    platform.staff_reach_enterprise = staff_reach_enterprise
    service.gates.append(service._identity_gate)


def configure(platform) -> None:
    """Attach the case service, dispatcher and their job handlers to ``platform``."""
    from backend.cases.dispatch import Dispatcher

    settings = platform.settings
    calendar = (
        WorkCalendar.from_file(Path(settings.holiday_calendar)) if settings.holiday_calendar else default_calendar()
    )
    service = CaseService(
        platform,
        calendar,
        draft_ttl_days=settings.draft_ttl_days,
        draft_warning_days=settings.draft_warning_days,
        poll_seconds=settings.poll_seconds,
        status_cache_seconds=settings.status_cache_seconds,
    )
    dispatcher = Dispatcher(service, callback_base_url=settings.base_url)
    platform.cases = service
    platform.dispatcher = dispatcher
    _use_identity(platform, service)

    async def expiry(job) -> None:
        await service.expire_drafts_job(job.payload["case"])

    platform.job_handlers.update(dispatcher.handlers())
    platform.job_handlers[EXPIRY_JOB] = expiry


__all__ = ["CaseService", "configure"]
