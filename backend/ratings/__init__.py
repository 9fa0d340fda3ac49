"""好差评 (service ratings): 一事一评 and 一次一评, follow-up of bad ratings in working days,
appeals and re-review, reports. ``ROUTES`` and ``JOB_HANDLERS(platform)`` for the composition root."""

from __future__ import annotations

from typing import Any


def JOB_HANDLERS(platform) -> dict[str, Any]:  # noqa: N802 - mirrors identity's JOB_HANDLERS(platform)
    """``ratings.deadline`` (marks follow-up steps overdue) and ``ratings.report`` (delivers to the 好差评 system)."""
    from backend.ratings.reporting import REPORT_JOB, deliver_job
    from backend.ratings.service import DEADLINE_JOB, Ratings

    service = Ratings(platform)

    async def report(job) -> None:
        await deliver_job(platform, job)

    return {DEADLINE_JOB: service.deadline_job, REPORT_JOB: report}


def __getattr__(name: str):
    if name == "ROUTES":
        from backend.ratings.routes import ROUTES

        return ROUTES
    raise AttributeError(name)
