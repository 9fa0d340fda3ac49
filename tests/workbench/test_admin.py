"""Administration API: dead-lettered dispatches (inspect, re-drive), catalog versions and diff, jurisdiction."""

from __future__ import annotations

import pytest

from backend.cases import states as st
from backend.cases.tables import CaseItem
from backend.catalog import get_catalog
from backend.jobs.tables import Job
from backend.lib.problems import ProblemError
from backend.workbench import admin
from tests.cases.support import complete_draft
from tests.workbench.support import ADMIN, APPLICANT, STAFF_AMR, item_by_code, run_jobs


async def test_dead_letters_are_listed_and_redriven(platform):
    # the tax system has no reachable API in this test platform: delivery fails for good
    await Job.delete(force=True)
    draft = await complete_draft(platform, APPLICANT)
    await platform.cases.submit(APPLICANT, draft.id, "dead-1")
    await Job.update({Job.max_attempts: 1}).where(Job.kind == "cases.send")
    await run_jobs(platform)
    tax = item_by_code(await platform.cases.view(APPLICANT, draft.id, with_plan=False), "TAX-")
    assert tax.status == st.DISPATCH_FAILED
    with pytest.raises(ProblemError) as caught:
        await admin.dead_letters(STAFF_AMR)
    assert caught.value.status == 403
    letters = await admin.dead_letters(ADMIN)
    kinds = {(d.kind, d.ref) for d in letters}
    assert ("item", tax.ref) in kinds and ("job", tax.ref) in kinds
    # switch the system to manual and re-drive: the item reaches the workbench
    await admin.set_mode(platform, ADMIN, "etax", "manual")
    await admin.redrive_item(platform, ADMIN, tax.ref)
    await run_jobs(platform)
    row = await CaseItem.select(CaseItem.status, CaseItem.reference).where(CaseItem.ref == tax.ref).first()
    assert row["status"] == st.SENT and row["reference"].startswith("MANUAL-")
    assert await admin.dead_letters(ADMIN) == []
    await Job.update({Job.status: "dead"}).where(Job.kind == "cases.poll")
    job = next(d for d in await admin.dead_letters(ADMIN) if d.kind == "job")
    assert await admin.redrive_job(platform, ADMIN, job.job_id)
    with pytest.raises(ProblemError):
        await admin.redrive_job(platform, ADMIN, job.job_id)  # no longer dead


def test_catalog_versions_diff_and_jurisdiction():
    versions = admin.catalog_versions()
    current = get_catalog().version
    assert any(v["version"] == current and v["current"] for v in versions)
    same = admin.catalog_diff(current, current)
    assert all(not (s["added"] or s["removed"] or s["changed"]) for s in same["sections"].values())
    j = admin.jurisdiction()
    assert "35" in j["include"] and any(e["prefix"] == "3502" for e in j["exclude"])  # Xiamen runs its own platform
