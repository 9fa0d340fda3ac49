"""The case backend (一次提交、一网查看): drafts, submission, orchestrated dispatch, results.

``configure(platform)`` wires the service and the dispatcher onto a platform; routes are
in ``backend.cases.routes.ROUTES``; background work is in the dispatcher's handlers.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from backend.cases.service import EXPIRY_JOB, Actor, Capacity, CaseService, actor_of


def _use_identity(platform, service: CaseService) -> None:
    """Acting capacity (registration record or 授权委托) and the identity gate (face, signatures).

    The capacity is asked afresh on every access (``CaseService._authorize``, the case context's one
    access decision): a revoked or expired mandate ends the agent's access at once, and a mandate
    for some items (``ActingCapacity.covers``) reaches only those items.
    """
    from backend.identity.bridge import may_person_act_for

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
    from backend.lib.workdays import WorkCalendar, default_calendar
    from backend.notifications import DELIVER_JOB, SMS_JOB, deliver_job, deliver_sms_job, notify

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
    platform.notify_applicant = partial(notify, platform)
    _use_identity(platform, service)

    async def expiry(job) -> None:
        await service.expire_drafts_job(job.payload["case"])

    async def deliver(job) -> None:
        await deliver_job(platform, job)

    async def deliver_sms(job) -> None:
        await deliver_sms_job(platform, job)

    platform.job_handlers.update(dispatcher.handlers())
    platform.job_handlers[EXPIRY_JOB] = expiry
    platform.job_handlers[DELIVER_JOB] = deliver
    platform.job_handlers[SMS_JOB] = deliver_sms


__all__ = ["Actor", "CaseService", "configure"]
