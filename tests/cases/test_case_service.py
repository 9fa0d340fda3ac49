"""Drafts, materials, submission and the timeline, on PostgreSQL and SQLite."""

from __future__ import annotations

import asyncio
import re

import pytest

from backend.cases import states as st
from backend.cases import timeline
from backend.cases.numbering import parse_number
from backend.cases.schemas import Label
from backend.cases.tables import CaseEvent, CaseItem
from backend.identity.actor import Actor
from backend.jobs.tables import Job
from backend.lib.problems import ProblemError
from tests.cases.support import (
    BASE_ANSWERS,
    HAPPY_USCC,
    TINY_PDF,
    complete_draft,
)


async def test_draft_is_prefilled_from_the_registration_record(platform, applicant):
    view = await platform.cases.create_draft(applicant, HAPPY_USCC)
    assert view.status == st.DRAFT and view.number is None
    assert view.enterprise_name == "福州榕鑫贸易有限公司"
    assert view.form_data["uscc"] == HAPPY_USCC
    assert view.form_data["legal_rep_name"] == "林晓燕"
    assert [a["account_type"] for a in view.form_data["bank_accounts"]][-1] == "basic"  # basic account last
    assert view.plan is None and {p["field"] for p in view.plan_problems} >= {"answers.route"}
    assert [e.type for e in view.timeline] == [st.CASE_CREATED]


@pytest.mark.parametrize(
    ("uscc", "status", "code"),
    [
        ("91350102MA0102003X", 422, "invalid_uscc"),
        ("91350102MA0Y999928", 404, "enterprise_not_found"),
    ],
)
async def test_bad_or_unknown_codes_are_distinct_errors(platform, applicant, uscc, status, code):
    with pytest.raises(ProblemError) as caught:
        await platform.cases.create_draft(applicant, uscc)
    assert (caught.value.status, caught.value.code) == (status, code)


async def test_only_people_on_the_record_may_start_a_case(platform):
    with pytest.raises(ProblemError) as caught:
        await platform.cases.create_draft(Actor(id="P999"), HAPPY_USCC)
    assert caught.value.status == 403


async def test_stale_version_is_a_conflict_and_nothing_is_lost(platform, applicant):
    view = await platform.cases.create_draft(applicant, HAPPY_USCC)
    saved = await platform.cases.update_draft(
        applicant,
        view.id,
        answers={"route": "general"},
        form_data={"contact_phone": "13800000000"},
        version=view.version,
    )
    with pytest.raises(ProblemError) as caught:
        await platform.cases.update_draft(
            applicant, view.id, answers=None, form_data={"contact_phone": "13900000000"}, version=view.version
        )
    assert caught.value.code == "version_conflict"
    again = await platform.cases.view(applicant, view.id)
    assert again.form_data["contact_phone"] == "13800000000" and again.version == saved.version


async def test_incomplete_application_lists_every_missing_piece(platform, applicant):
    view = await platform.cases.create_draft(applicant, HAPPY_USCC)
    await platform.cases.update_draft(applicant, view.id, answers=BASE_ANSWERS, form_data=None, version=None)
    with pytest.raises(ProblemError) as caught:
        await platform.cases.submit(applicant, view.id, "key-1")
    assert caught.value.code == "case_incomplete"
    fields = {e.field for e in caught.value.errors}
    assert any(f.startswith("form_data.") for f in fields)
    assert any(f.startswith("materials.") for f in fields)


async def test_uploads_are_judged_by_content(platform, applicant):
    view = await platform.cases.create_draft(applicant, HAPPY_USCC)
    with pytest.raises(ProblemError) as caught:
        await platform.cases.add_material(applicant, view.id, "x", "photo.pdf", b"<svg onload=alert(1)></svg>")
    assert caught.value.status == 415
    with pytest.raises(ProblemError) as caught:
        await platform.cases.add_material(
            applicant,
            view.id,
            "x",
            "a.pdf",
            TINY_PDF.replace(b"/Type/Catalog", b"/Type/Catalog/OpenAction<</JS(app.alert(1))>>"),
        )
    assert caught.value.code == "unsafe_material"


async def test_a_wrong_file_comes_off_a_draft_and_the_timeline_keeps_its_hash(platform, applicant):
    view = await complete_draft(platform, applicant)
    code = next(m.code for m in (await platform.cases.view(applicant, view.id)).materials)
    wrong = await platform.cases.add_material(applicant, view.id, code, "错的.pdf", TINY_PDF + b"\n% wrong")
    with pytest.raises(ProblemError) as caught:
        await platform.cases.remove_material(Actor(id="P999"), view.id, wrong.id)  # not theirs: not even there
    assert caught.value.status == 404
    await platform.cases.remove_material(applicant, view.id, wrong.id)
    after = await platform.cases.view(applicant, view.id)
    assert wrong.id not in {m.id for m in after.materials} and code in {m.code for m in after.materials}
    removed = [e for e in after.timeline if e.type == st.MATERIAL_REMOVED]
    assert [e.data for e in removed] == [{"code": code, "sha256": wrong.sha256}]
    assert after.timeline_intact
    with pytest.raises(ProblemError) as caught:
        await platform.cases.remove_material(applicant, view.id, wrong.id)
    assert (caught.value.status, caught.value.code) == (404, "material_not_found")
    # once submitted, the materials are the record: another file is added instead
    await platform.cases.submit(applicant, view.id, "remove-then-submit")
    kept = (await platform.cases.view(applicant, view.id)).materials[0]
    with pytest.raises(ProblemError) as caught:
        await platform.cases.remove_material(applicant, view.id, kept.id)
    assert (caught.value.status, caught.value.code) == (409, "case_not_editable")


async def test_submit_once_numbers_the_case_and_queues_the_first_items(platform, applicant):
    view = await complete_draft(platform, applicant)
    submitted = await platform.cases.submit(applicant, view.id, "submit-key-1")
    assert submitted.status == st.SUBMITTED
    assert re.fullmatch(r"ZX\d{8}-\d{6}-\d", submitted.number) and parse_number(submitted.number) == submitted.number
    by_code = {}
    for item in submitted.items:
        by_code.setdefault(item.code, []).append(item)
    assert by_code["TAX-UNIFIED"][0].status == st.QUEUED and by_code["TAX-UNIFIED"][0].due_on
    assert by_code["REG-COMPANY"][0].status == st.WAITING
    assert by_code["REG-COMPANY"][0].depends_on == [by_code["TAX-UNIFIED"][0].ref]
    banks = by_code["BANK"]
    assert len(banks) == 3 and banks[-1].account["kind"] == "basic"
    assert set(banks[-1].depends_on) >= {b.ref for b in banks[:-1]}  # the basic account closes last
    assert await Job.count().where(Job.kind == "cases.send") == 1
    # the answer is built from what the submission wrote: exactly what reading the case shows
    assert submitted == await platform.cases.view(applicant, view.id)
    # the same key again, or a second submit: the same case, nothing doubled
    again = await platform.cases.submit(applicant, view.id, "submit-key-1")
    assert again.number == submitted.number
    assert await CaseItem.count() == len(submitted.items)
    assert await Job.count().where(Job.kind == "cases.send") == 1


async def test_concurrent_submits_make_one_case(platform, applicant):
    view = await complete_draft(platform, applicant)
    results = await asyncio.gather(
        *(platform.cases.submit(applicant, view.id, f"k-{n}") for n in range(5)), return_exceptions=True
    )
    numbers = {r.number for r in results if not isinstance(r, Exception)}
    assert len(numbers) == 1
    assert await CaseItem.count() == len(
        results[0].items
        if not isinstance(results[0], Exception)
        else next(r for r in results if not isinstance(r, Exception)).items
    )


async def test_a_draft_changed_while_it_is_checked_is_not_submitted(platform, applicant, monkeypatch):
    view = await complete_draft(platform, applicant)
    service = platform.cases
    check = service.requirements

    async def changed_meanwhile(actor, row, **kwargs):
        outcome = await check(actor, row, **kwargs)
        await service.update_draft(
            applicant, view.id, answers=None, form_data={"contact_phone": "13900000000"}, version=None
        )  # another device
        return outcome

    monkeypatch.setattr(service, "requirements", changed_meanwhile)
    with pytest.raises(ProblemError) as refused:
        await service.submit(applicant, view.id, "changed-1")
    assert refused.value.status == 409 and refused.value.code == "version_conflict"
    monkeypatch.setattr(service, "requirements", check)
    assert (await service.view(applicant, view.id)).status == st.DRAFT and await CaseItem.count() == 0
    # checked again: the new text has not been signed (before the 409, it went in unsigned)
    with pytest.raises(ProblemError) as incomplete:
        await service.submit(applicant, view.id, "changed-1")
    assert "signatures_missing" in {e.code for e in incomplete.value.errors}


async def test_withdrawal_before_acceptance(platform, applicant):
    view = await complete_draft(platform, applicant)
    assert view.can_withdraw is False  # a draft is not withdrawn, it is left to expire
    submitted = await platform.cases.submit(applicant, view.id, "w-1")
    assert submitted.can_withdraw is True  # what the case page offers: the backend's rule
    withdrawn = await platform.cases.withdraw(applicant, view.id, "改为普通注销")
    assert withdrawn.status == st.CASE_WITHDRAWN and withdrawn.can_withdraw is False
    assert {i.status for i in withdrawn.items} == {st.WITHDRAWN}
    # the timeline names what the applicant sees, in both languages, the matter named
    labelled = {e.type: e.label for e in withdrawn.timeline if e.label}
    assert labelled[st.CASE_WITHDRAWN_EVENT].zh == "撤回申请"
    item = withdrawn.items[0]
    assert any(e.label == Label(f"{item.name.zh}：已撤回", f"{item.name.en}: withdrawn") for e in withdrawn.timeline)
    assert all(e.label is None for e in withdrawn.timeline if e.type == st.CASE_CREATED)


def test_withdrawal_is_offered_until_an_agency_takes_up_an_item():
    assert st.may_withdraw(st.SUBMITTED, [st.QUEUED, st.SENT, st.WAITING, st.DISPATCH_FAILED])
    assert not st.may_withdraw(st.SUBMITTED, [st.SENT, st.ACCEPTED])
    assert not st.may_withdraw(st.ACTION_REQUIRED, [st.CORRECTION])
    assert not st.may_withdraw(st.DRAFT, [])
    assert not st.may_withdraw(st.CASE_WITHDRAWN, [st.WITHDRAWN])


def test_every_labelled_event_type_is_a_known_type():
    assert set(st.EVENT_LABELS) <= set(st.EVENT_TYPES)
    assert len(set(st.EVENT_TYPES)) == len(st.EVENT_TYPES)


async def test_tampering_with_the_timeline_shows(platform, applicant):
    view = await complete_draft(platform, applicant)
    await platform.cases.submit(applicant, view.id, "t-1")
    case_id = (await CaseEvent.select(CaseEvent.case_file).first())["case_file"]
    assert await timeline.verify(case_id) == (True, None)
    await CaseEvent.update({CaseEvent.message: "edited"}).where((CaseEvent.case_file == case_id) & (CaseEvent.seq == 2))
    assert await timeline.verify(case_id) == (False, 2)
    assert (await platform.cases.view(applicant, view.id)).timeline_intact is False


async def test_a_chain_moving_from_sha256_to_sm3_stays_verifiable(platform, applicant):
    view = await complete_draft(platform, applicant)  # written with the default, SHA-256
    timeline.use_hash("sm3")  # the deployment moves to TIMELINE_HASH=sm3
    try:
        await platform.cases.submit(applicant, view.id, "sm3-1")
    finally:
        timeline.use_hash(platform.settings.timeline_hash)
    case_id = (await CaseEvent.select(CaseEvent.case_file).first())["case_file"]
    rows = (
        await CaseEvent.select(CaseEvent.seq, CaseEvent.hash_alg)
        .where(CaseEvent.case_file == case_id)
        .order_by(CaseEvent.seq)
    )
    algs = [r["hash_alg"] for r in rows]
    first_sm3 = algs.index("sm3")
    assert first_sm3 > 0 and set(algs[:first_sm3]) == {"sha256"} and set(algs[first_sm3:]) == {"sm3"}
    assert await timeline.verify(case_id) == (True, None)
    assert (await platform.cases.view(applicant, view.id)).timeline_intact
    # each event is checked with its own function: relabelling one breaks the chain right there
    seq = rows[first_sm3]["seq"]
    await CaseEvent.update({CaseEvent.hash_alg: "sha256"}).where(
        (CaseEvent.case_file == case_id) & (CaseEvent.seq == seq)
    )
    assert await timeline.verify(case_id) == (False, seq)


async def test_draft_expiry_warns_then_expires_in_virtual_time(platform, applicant):
    view = await platform.cases.create_draft(applicant, HAPPY_USCC)
    platform.clock.advance(26 * 86400)
    await platform.cases.expire_drafts_job(view.id)
    warned = await platform.cases.view(applicant, view.id)
    assert warned.status == st.DRAFT and warned.timeline[-1].type == st.CASE_EXPIRY_WARNED
    platform.clock.advance(5 * 86400)
    await platform.cases.expire_drafts_job(view.id)
    assert (await platform.cases.view(applicant, view.id)).status == st.EXPIRED


async def test_a_submitted_cases_view_is_kept_until_it_changes(platform, applicant, monkeypatch):
    """The case page's read: kept like the status (shared by whoever may see it, checked on every
    read), and forgotten the moment the case changes."""
    monkeypatch.setattr(platform.cases, "status_cache_seconds", 60)
    view = await complete_draft(platform, applicant)
    await platform.cases.submit(applicant, view.id, "v-1")
    first = await platform.cases.view(applicant, view.id)
    assert await platform.cases.view(applicant, view.id) is first
    with pytest.raises(ProblemError) as refused:
        await platform.cases.view(Actor(id="P004"), view.id)  # kept, but still not for strangers
    assert refused.value.status == 404
    await platform.cases.withdraw(applicant, view.id, "改为普通注销")
    after = await platform.cases.view(applicant, view.id)
    assert after is not first and after.status == st.CASE_WITHDRAWN


async def test_a_kept_view_is_renewed_in_the_background_before_it_lapses(platform, applicant, monkeypatch):
    """Past half its lifetime a kept view is read again once, in the background: readers get the kept
    one meanwhile, never a rebuild of their own; a change during the renewal is not overwritten."""
    import asyncio
    import time

    monkeypatch.setattr(platform.cases, "status_cache_seconds", 60)
    view = await complete_draft(platform, applicant)
    await platform.cases.submit(applicant, view.id, "v-1")
    first = await platform.cases.view(applicant, view.id)
    expires, row, kept, encoded = platform.cases._view_cache[view.id]
    platform.cases._view_cache[view.id] = (time.monotonic() + 10, row, kept, encoded)  # 10 s of 60 left
    reads = [platform.cases.view(applicant, view.id) for _ in range(5)]
    assert all(v is first for v in await asyncio.gather(*reads))  # the kept view, at once
    assert list(platform.cases._view_refreshing) == [view.id]  # one renewal for all five
    await platform.cases._view_refreshing[view.id]
    renewed = platform.cases._view_cache[view.id]
    assert renewed[0] > time.monotonic() + 50 and renewed[2] is not first  # read again, kept anew

    platform.cases._view_cache[view.id] = (time.monotonic() + 10, *renewed[1:])
    await platform.cases.view(applicant, view.id)  # starts a renewal ...
    renewal = platform.cases._view_refreshing[view.id]
    await platform.cases.withdraw(applicant, view.id, "改为普通注销")  # ... the case changes meanwhile
    await renewal
    after = await platform.cases.view(applicant, view.id)
    assert after.status == st.CASE_WITHDRAWN
