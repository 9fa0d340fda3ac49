"""The case backend (一次提交、一网查看): drafts, submission, orchestrated dispatch, results.

``configure(platform)`` wires the service and the dispatcher onto a platform; routes are
in ``backend.cases.routes.ROUTES``; background work is in the dispatcher's handlers.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from backend.cases.service import EXPIRY_JOB, Actor, CaseService


def _use_identity(platform, service: CaseService) -> None:
    """Acting capacity (registration record or 授权委托) and the identity gate (face, signatures)."""
    from backend.identity.bridge import may_person_act_for

    async def may_act_for(actor: Actor, uscc: str) -> bool:
        return await may_person_act_for(platform, actor.id, uscc) is not None

    service.may_act_for = may_act_for
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
