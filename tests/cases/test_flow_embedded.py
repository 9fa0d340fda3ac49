"""One submission, every matter, in embedded mode: the real worker, connectors and simulators."""

from __future__ import annotations

import httpx
import pytest

from backend.cases import states as st
from backend.cases.tables import CaseEvent, CaseFile
from backend.identity.actor import Actor
from backend.lib.problems import ProblemError
from backend.sandbox.mount import SIMULATORS_STATE_KEY
from tests.cases.live import serve_platform, wait_until
from tests.cases.support import TINY_PDF, complete_draft

pytestmark = pytest.mark.slow  # a live platform

CORRECTION_USCC = "91350902MA33022893"  # the registration system asks for a correction once


async def closed_view(platform, actor, case_id, timeout=60):
    async def closed():
        view = await platform.cases.view(actor, case_id, with_plan=False)
        return view if view.status in (st.CASE_COMPLETED, st.CASE_REFUSED, st.ACTION_REQUIRED) else None

    return await wait_until(closed, timeout)


@pytest.mark.parametrize(
    "overrides",
    [
        # the specs' own choice: customs and social insurance sign SM2, the others ES256
        pytest.param({}, id="es256-and-sm2"),
        # every system (agencies, 好差评, SMS) on SM2, the timeline on SM3
        pytest.param({"signature_algorithms": "*=SM2", "timeline_hash": "sm3"}, id="all-sm2-sm3"),
    ],
)
async def test_every_item_completes_in_order_with_results(tmp_path, overrides):
    async with serve_platform(tmp_path, **overrides) as app:
        platform = app.state.platform
        actor = Actor(id="P002")
        draft = await complete_draft(platform, actor)
        await platform.cases.submit(actor, draft.id, "flow-1")
        view = await closed_view(platform, actor, draft.id)
        assert view.status == st.CASE_COMPLETED, [(i.code, i.status, i.message) for i in view.items]
        by_code = {i.code: i for i in view.items}
        assert {"TAX-UNIFIED", "REG-COMPANY", "CUSTOMS", "SI-PENSION", "SI-UNEMPLOYMENT", "BANK", "SEAL"} <= set(
            by_code
        )
        # tax before registration; registration before everything pushed from its result
        assert by_code["TAX-UNIFIED"].closed_at <= by_code["REG-COMPANY"].sent_at
        for code in ("CUSTOMS", "SI-PENSION", "SEAL"):
            assert by_code["REG-COMPANY"].closed_at <= by_code[code].sent_at
        banks = [i for i in view.items if i.code == "BANK"]
        assert banks[-1].account["kind"] == "basic" and all(b.closed_at <= banks[-1].sent_at for b in banks[:-1])
        assert all(i.documents for i in view.items), "every item returns its result document"
        assert view.timeline_intact
        engines = app.state[SIMULATORS_STATE_KEY]
        assert sum(e.stats.duplicates for e in engines.values()) == 0
        # every answer and callback was verified with the algorithm of its system, every request too
        algs = {code: engine.alg for code, engine in engines.items()}
        if overrides:
            assert set(algs.values()) == {"SM2SM3"}
        else:
            assert {algs[c] for c in ("customs-fz", "customs-xm", "si-pension", "si-unemployment")} == {"SM2SM3"}
            assert {algs[c] for c in ("etax", "amr", "ytz-bank", "seal-security")} == {"ES256"}
        assert {code: c.alg for code, c in platform.connectors.items()} == {c: algs[c] for c in platform.connectors}
        assert sum(e.stats.rejected_requests for e in engines.values()) == 0
        async with httpx.AsyncClient(base_url=platform.settings.base_url) as http:
            published = (await http.get("/.well-known/jwks.json")).json()["keys"]
        assert {(k["crv"], k["alg"]) for k in published} == {("P-256", "ES256"), ("SM2", "SM2SM3")}
        case_pk = (await CaseFile.select(CaseFile.id).where(CaseFile.public_id == draft.id).first())["id"]
        hashes = await CaseEvent.select(CaseEvent.hash_alg).where(CaseEvent.case_file == case_pk)
        assert {h["hash_alg"] for h in hashes} == {overrides.get("timeline_hash", "sha256")}


async def test_a_correction_touches_only_its_item(tmp_path):
    async with serve_platform(tmp_path) as app:
        platform = app.state.platform
        actor = Actor(id="P071")
        draft = await complete_draft(platform, actor, uscc=CORRECTION_USCC)
        await platform.cases.submit(actor, draft.id, "corr-1")
        view = await closed_view(platform, actor, draft.id)
        assert view.status == st.ACTION_REQUIRED
        reg = next(i for i in view.items if i.code.startswith("REG-"))
        assert reg.status == st.CORRECTION and reg.corrections
        tax_before = next(i for i in view.items if i.code.startswith("TAX-"))
        fields = {c["name"]: "已按要求补正" for c in reg.corrections if c["kind"] == "field"}
        files = [c["name"] for c in reg.corrections if c["kind"] == "material"]
        assert files == ["liquidation_report"]
        # the file asked for must come first; the one uploaded before the request is what was refused
        with pytest.raises(ProblemError) as refused:
            await platform.cases.correct(actor, draft.id, reg.code, fields, "已补正")
        assert (refused.value.status, refused.value.code) == (422, "correction_file_missing")
        assert [e.field for e in refused.value.errors] == ["materials.liquidation_report"]
        assert "清算报告" in refused.value.detail and "liquidation_report" not in refused.value.detail
        view = await platform.cases.view(actor, draft.id, with_plan=False)
        assert next(i for i in view.items if i.ref == reg.ref).status == st.CORRECTION  # nothing was sent
        for name in files:
            await platform.cases.add_material(actor, draft.id, name, "fix.pdf", TINY_PDF)
        await platform.cases.correct(actor, draft.id, reg.code, fields, "已补正")
        view = await closed_view(platform, actor, draft.id)
        assert view.status == st.CASE_COMPLETED
        tax_after = next(i for i in view.items if i.code.startswith("TAX-"))
        assert tax_after.closed_at == tax_before.closed_at  # untouched
        # the applicant heard of the correction and of the completion in the app and by text, once each
        sms = app.state[SIMULATORS_STATE_KEY]["sms"]

        phone = (await platform.registration.person("P071")).phone

        async def texts():  # co-signers got a "signature requested" text each, when the draft was signed
            kinds = sorted(m["message"]["template"] for m in sms.received if m["message"]["phone"] == phone)
            return kinds if len(kinds) >= 2 else None

        assert await wait_until(texts, 30) == ["case_closed", "correction_requested"]
        assert sms.stats.duplicates == 0


async def test_an_agency_outage_heals_without_a_manual_step(tmp_path):
    async with serve_platform(tmp_path) as app:
        platform = app.state.platform
        engines = app.state[SIMULATORS_STATE_KEY]
        engines["etax"].faults = type(engines["etax"].faults)(down=True)
        actor = Actor(id="P002")
        draft = await complete_draft(platform, actor)
        await platform.cases.submit(actor, draft.id, "outage-1")

        async def tax_retried():
            view = await platform.cases.view(actor, draft.id, with_plan=False)
            from backend.jobs.tables import Job

            job = await Job.select(Job.attempts).where(Job.kind == "cases.send").first()
            return job and job["attempts"] >= 2 and view

        view = await wait_until(tax_retried, 30)
        assert next(i for i in view.items if i.code.startswith("TAX-")).status == st.QUEUED
        engines["etax"].faults = type(engines["etax"].faults)()  # the agency is back
        from backend.jobs.tables import Job

        await Job.update({Job.run_at: 0}).where(Job.status == "pending")  # skip the rest of the backoff
        await platform.queue.notify()
        view = await closed_view(platform, actor, draft.id)
        assert view.status == st.CASE_COMPLETED


async def test_precheck_asks_every_agency_and_says_what_blocks(tmp_path):
    async with serve_platform(tmp_path) as app:
        platform = app.state.platform
        actor = Actor(
            id="P082"
        )  # 91350524MA3724801K: tax arrears, pending customs declarations, social insurance arrears
        draft = await platform.cases.create_draft(actor, "91350524MA3724801K")
        from tests.cases.support import BASE_ANSWERS

        await platform.cases.update_draft(actor, draft.id, answers=BASE_ANSWERS, form_data=None, version=None)
        report = await platform.cases.precheck(actor, draft.id)
        assert report.ready is False and not report.unreachable_systems
        blocked_by = {(b.agency.code, b.code) for b in report.blockers if b.source == "agency" and b.agency}
        systems = {system for system, _ in blocked_by}
        assert {"etax", "customs-xm", "si-pension"} & systems, blocked_by
        assert any(code == "tax_arrears" for _, code in blocked_by)


async def test_a_dead_lettered_item_is_redriven_by_staff_and_completes(tmp_path):
    from backend.jobs.tables import Job

    async with serve_platform(tmp_path) as app:
        platform = app.state.platform
        engines = app.state[SIMULATORS_STATE_KEY]
        engines["etax"].faults = type(engines["etax"].faults)(down=True)
        actor = Actor(id="P002")
        draft = await complete_draft(platform, actor)
        await platform.cases.submit(actor, draft.id, "dead-1")
        await Job.update({Job.max_attempts: 2, Job.run_at: 0}).where(Job.kind == "cases.send")

        async def failed():
            await Job.update({Job.run_at: 0}).where((Job.kind == "cases.send") & (Job.status == "pending"))
            await platform.queue.notify()
            view = await platform.cases.view(actor, draft.id, with_plan=False)
            tax = next(i for i in view.items if i.code.startswith("TAX-"))
            return tax if tax.status == st.DISPATCH_FAILED else None

        tax = await wait_until(failed, 30)
        assert await Job.count().where((Job.kind == "cases.send") & (Job.status == "dead")) == 1
        engines["etax"].faults = type(engines["etax"].faults)()
        await platform.cases.redrive(Actor(id="admin", kind="staff", roles=frozenset({"admin"})), tax.ref)
        view = await closed_view(platform, actor, draft.id)
        assert view.status == st.CASE_COMPLETED
        assert sum(e.stats.duplicates for e in engines.values()) == 0
