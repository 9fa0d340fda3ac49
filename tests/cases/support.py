"""Helpers for case tests: complete a draft the way an applicant would."""

from __future__ import annotations

from typing import Any

HAPPY_USCC = "91350102MA0102003U"  # 福州榕鑫贸易有限公司: general route, every item applies and completes
HAPPY_PERSON = "P002"  # its legal representative

TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)

BASE_ANSWERS = {
    "route": "general",
    "under_investigation_or_litigation": False,
    "revoked_or_closed": False,
    "unpaid_penalties": False,
    "listed_company": False,
}


def form_from_examples(plan: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """Fill every required field the prefill left empty with the schema's own example."""
    out: dict[str, Any] = {}
    for key in plan["form"].get("required", []):
        if current.get(key) in (None, "", []):
            out[key] = plan["form"]["properties"][key]["examples"][0]
    return out


def materials_to_upload(plan: dict[str, Any]) -> list[str]:
    return [m["code"] for m in plan["materials"] if not m["waived"] and not m["physical"] and not m.get("online")]


async def sign_and_verify_face(platform, actor, case_id: str) -> None:
    """Every required signer signs through the test environment's provider; the applicant verifies their face."""
    from urllib.parse import parse_qs, urlsplit

    from backend.identity import get_identity, start_face_verification
    from backend.identity.face import accept_face_result
    from backend.identity.sandbox import sandbox_face_result, sandbox_signature
    from backend.identity.signing import accept_signature

    identity = get_identity(platform)
    created = await platform.cases.start_signing(actor, case_id)
    for link in created.requests:
        q = {k: v[0] for k, v in parse_qs(urlsplit(link.sign_url).query).items()}
        await accept_signature(
            platform, sandbox_signature(identity, q["request_id"], q["signer"], q["nonce"], q["sha256"])
        )
    started = await start_face_verification(platform, actor.id, "submit", case_id)
    nonce = parse_qs(urlsplit(started.provider_url).query)["nonce"][0]
    await accept_face_result(platform, sandbox_face_result(identity, started.verification_id, nonce, "passed"))


async def complete_draft(platform, actor, uscc=HAPPY_USCC):
    """A draft ready to submit: answers, form, materials, every signature and the face check."""
    view = await platform.cases.create_draft(actor, uscc)
    view = await platform.cases.update_draft(actor, view.id, answers=BASE_ANSWERS, form_data=None, version=view.version)
    assert view.plan is not None, view.plan_problems
    view = await platform.cases.update_draft(
        actor, view.id, answers=None, form_data=form_from_examples(view.plan, view.form_data), version=view.version
    )
    for code in materials_to_upload(view.plan):
        await platform.cases.add_material(actor, view.id, code, f"{code}.pdf", TINY_PDF)
    await sign_and_verify_face(platform, actor, view.id)
    return view
