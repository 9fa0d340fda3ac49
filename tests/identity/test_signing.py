"""E-signature by every signer (signed callbacks; hash, forgery, expiry, replay refused), the
submission gate (signatures + face verification), e-seal verification, e-licence, PDF."""

from __future__ import annotations

import base64
import hashlib
import io
import uuid
from urllib.parse import parse_qs, urlsplit

import pikepdf
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from backend.identity import (
    SignerRef,
    create_signing,
    get_identity,
    render_pdf,
    require_all_signed,
    require_face_verified,
    signing_status,
)
from backend.identity.config import SANDBOX_SEAL_KEY, SANDBOX_SIGN_KEY
from backend.identity.sandbox import sandbox_face_result, sandbox_seal, sandbox_signature
from backend.identity.signing import SEAL_TYP, SIGNATURE_TYP, seal_provider_issuer, sign_provider_base
from backend.lib.problems import ProblemError
from tests.identity.conftest import bearer, in_app, token_for

USCC = "91350104MA02041309"  # simplified route: investors P004 (legal rep) and P005 sign the commitment


def _doc(reference: str) -> bytes:
    return render_pdf(
        "全体投资人承诺书",
        [f"企业：福州测试有限公司（{USCC}）", f"业务编号：{reference}", "本企业申请简易注销登记，全体投资人承诺……"],
    )


async def _create(client, reference: str | None = None):
    reference = reference or f"case-{uuid.uuid4().hex[:12]}"
    created = await in_app(
        client,
        create_signing,
        client.platform,
        _doc(reference),
        "全体投资人承诺书",
        [SignerRef("P004"), "P005"],
        reference,
    )
    return reference, created


def _link(created, person_id: str) -> dict[str, str]:
    link = next(r for r in created.requests if r.person_id == person_id)
    return {k: v[0] for k, v in parse_qs(urlsplit(link.sign_url).query).items()}


async def _callback(client, token: str):
    return await client.post("/api/v1/signatures/callback", json={"jws": token})


async def test_every_signer_signs_on_their_phone(any_api):
    reference, created = await _create(any_api)
    assert created.sha256 == hashlib.sha256(_doc(reference)).hexdigest()
    assert {r.name for r in created.requests} == {
        "张少华",
        next(r.name for r in created.requests if r.person_id == "P005"),
    }
    status = await in_app(any_api, signing_status, any_api.platform, reference)
    assert not status.complete and len(status.missing) == 2

    link = _link(created, "P004")
    page = await any_api.get("/sandbox/sign/session", params=link)
    assert page.status_code == 200 and created.sha256 in page.text and "刷脸并签署" in page.text
    signed = await any_api.post(
        "/sandbox/sign/session",
        data={
            "request_id": link["request_id"],
            "signer": link["signer"],
            "nonce": link["nonce"],
            "sha256": link["sha256"],
            "decision": "signed",
        },
    )
    assert signed.status_code == 200 and "已签署" in signed.text
    with pytest.raises(ProblemError) as missing:
        await in_app(any_api, require_all_signed, any_api.platform, reference)
    assert missing.value.code == "signatures_missing" and "张少华" not in missing.value.detail

    link5 = _link(created, "P005")
    identity = get_identity(any_api.platform)
    assert (
        await _callback(
            any_api, sandbox_signature(identity, link5["request_id"], link5["signer"], link5["nonce"], link5["sha256"])
        )
    ).status_code == 200
    done = await in_app(any_api, require_all_signed, any_api.platform, reference)
    assert done.complete and done.missing == []


async def test_callback_for_another_hash_is_refused(api):
    reference, created = await _create(api)
    identity = get_identity(api.platform)
    link = _link(created, "P004")
    other = hashlib.sha256(b"a different document").hexdigest()
    response = await _callback(
        api, sandbox_signature(identity, link["request_id"], link["signer"], link["nonce"], other)
    )
    assert response.status_code == 409 and response.json()["code"] == "callback_hash_mismatch"
    other_signer = await _callback(
        api, sandbox_signature(identity, link["request_id"], "P005", link["nonce"], link["sha256"])
    )
    assert other_signer.status_code == 409 and other_signer.json()["code"] == "callback_signer_mismatch"
    no_face = await _callback(
        api,
        sandbox_signature(
            identity, link["request_id"], link["signer"], link["nonce"], link["sha256"], face_verified=False
        ),
    )
    assert no_face.status_code == 409
    status = await in_app(api, signing_status, api.platform, reference)
    assert all(s.status == "pending" for s in status.documents[0].signers)


async def test_forged_expired_and_replayed_signatures_are_refused(api, clock):
    reference, created = await _create(api)
    identity = get_identity(api.platform)
    link = _link(created, "P004")
    kid = identity.signing_key(SANDBOX_SIGN_KEY).kid
    now = identity.now_s()
    claims = {
        "iss": sign_provider_base(identity),
        "aud": identity.base_url,
        "iat": now,
        "exp": now + 60,
        "jti": "f1",
        "request_id": link["request_id"],
        "signer": "P004",
        "nonce": link["nonce"],
        "document_sha256": link["sha256"],
        "decision": "signed",
        "face_verified": True,
    }
    forged = jwt.encode(
        {"alg": "ES256", "kid": kid, "typ": SIGNATURE_TYP}, claims, ECKey.generate_key("P-256", private=True)
    )
    assert (await _callback(api, forged)).status_code == 401
    expiring = sandbox_signature(identity, link["request_id"], link["signer"], link["nonce"], link["sha256"], ttl_s=30)
    clock.advance(31)
    expired = await _callback(api, expiring)
    assert expired.status_code == 401 and expired.json()["code"] == "callback_expired"
    wrong_nonce = await _callback(
        api, sandbox_signature(identity, link["request_id"], link["signer"], "nope", link["sha256"])
    )
    assert wrong_nonce.status_code == 409
    assert all(
        s.status == "pending" for s in (await in_app(api, signing_status, api.platform, reference)).documents[0].signers
    )

    good = sandbox_signature(identity, link["request_id"], link["signer"], link["nonce"], link["sha256"])
    assert (await _callback(api, good)).status_code == 200
    replay = await _callback(api, good)
    assert replay.status_code == 409 and replay.json()["code"] == "callback_replayed"
    decline_after = await _callback(
        api, sandbox_signature(identity, link["request_id"], link["signer"], link["nonce"], link["sha256"], "declined")
    )
    assert decline_after.status_code == 409
    signers = {
        s.person_id: s.status for s in (await in_app(api, signing_status, api.platform, reference)).documents[0].signers
    }
    assert signers == {"P004": "signed", "P005": "pending"}


async def test_submission_blocked_until_all_signatures_and_face_verification(api):
    """The gate the case backend runs before submission: face verification of the applicant and every signature."""
    reference, created = await _create(api)
    identity = get_identity(api.platform)

    async def gate() -> None:
        await require_face_verified(api.platform, "P004", "submit", reference, 1800)
        await require_all_signed(api.platform, reference)

    with pytest.raises(ProblemError) as first:
        await in_app(api, gate)
    assert first.value.code == "face_verification_required"

    tokens = await token_for(api, "applicant-p004")
    started = (
        await api.post(
            "/api/v1/face-verifications", json={"purpose": "submit", "reference": reference}, headers=bearer(tokens)
        )
    ).json()
    q = {k: v[0] for k, v in parse_qs(urlsplit(started["provider_url"]).query).items()}
    assert (
        await api.post(
            "/api/v1/face-verifications/callback",
            json={"jws": sandbox_face_result(identity, q["verification_id"], q["nonce"], "passed")},
        )
    ).status_code == 200
    with pytest.raises(ProblemError) as second:
        await in_app(api, gate)
    assert second.value.code == "signatures_missing"

    for person in ("P004", "P005"):
        link = _link(created, person)
        assert (
            await _callback(
                api, sandbox_signature(identity, link["request_id"], link["signer"], link["nonce"], link["sha256"])
            )
        ).status_code == 200
    await in_app(api, gate)  # passes


async def test_signature_status_route_for_signers_and_staff(api):
    reference, created = await _create(api)
    signer = await token_for(api, "applicant-p004")
    outsider = await token_for(api, "applicant-p002")
    staff = await token_for(api, "window-fuzhou")
    mine = await api.get("/api/v1/signatures", params={"reference": reference}, headers=bearer(signer))
    assert mine.status_code == 200
    people = [s["person_id"] for s in mine.json()["documents"][0]["signers"]]
    assert "P004" in people and "***" in people  # the co-signer's id is not shown to others
    assert (
        await api.get("/api/v1/signatures", params={"reference": reference}, headers=bearer(outsider))
    ).status_code == 403
    # staff read it only where the case's access rule lets them (tests/security/test_finding07_*): no case here
    assert (
        await api.get("/api/v1/signatures", params={"reference": reference}, headers=bearer(staff))
    ).status_code == 404
    pdf = await api.get(f"/api/v1/signing-documents/{created.document_id}", headers=bearer(signer))
    assert (
        pdf.status_code == 200
        and pdf.content.startswith(b"%PDF-")
        and pdf.headers["x-content-sha256"] == created.sha256
    )
    assert (
        await api.get(f"/api/v1/signing-documents/{created.document_id}", headers=bearer(outsider))
    ).status_code == 403


async def test_seal_verification(any_api):
    identity = get_identity(any_api.platform)
    document = render_pdf("准予注销登记通知书", ["福州测试有限公司：", "经审查，准予注销登记。"])
    seal = sandbox_seal(identity, document, "福建省市场监督管理局", "11350000003591026L")
    viewer = await token_for(any_api, "applicant-p002")

    async def check(doc: bytes, seal_jws: str) -> dict:
        response = await any_api.post(
            "/api/v1/seals/verify",
            json={"document_base64": base64.b64encode(doc).decode(), "seal": seal_jws},
            headers=bearer(viewer),
        )
        assert response.status_code == 200, response.text
        return response.json()

    ok = await check(document, seal)
    assert (
        ok["valid"] and ok["holder"] == "福建省市场监督管理局" and ok["sha256"] == hashlib.sha256(document).hexdigest()
    )
    tampered = await check(document + b"%", seal)
    assert not tampered["valid"] and "篡改" in tampered["reason"]
    now = identity.now_s()
    forged = jwt.encode(
        {"alg": "ES256", "kid": identity.signing_key(SANDBOX_SEAL_KEY).kid, "typ": SEAL_TYP},
        {
            "iss": seal_provider_issuer(identity),
            "iat": now,
            "jti": "x",
            "sha256": hashlib.sha256(document).hexdigest(),
            "holder": "伪造单位",
        },
        ECKey.generate_key("P-256", private=True),
    )
    assert not (await check(document, forged))["valid"]


async def test_licence_prefill(any_api):
    legal = await token_for(any_api, "applicant-p002")
    licence = await any_api.get("/api/v1/enterprises/91350102MA0102003U/licence", headers=bearer(legal))
    assert licence.status_code == 200, licence.text
    body = licence.json()
    assert (
        body["name"] == "福州榕鑫贸易有限公司"
        and body["legal_representative"] == "林晓燕"
        and body["verified"]
        and body["waives_material"] == "business_licence"
    )
    assert (await any_api.get(f"/api/v1/enterprises/{USCC}/licence", headers=bearer(legal))).status_code == 403
    staff = await token_for(any_api, "window-fuzhou")  # agency staff: only enterprises with a case of theirs
    invalid = await any_api.get("/api/v1/enterprises/91350102MA0102003X/licence", headers=bearer(staff))
    assert invalid.status_code == 422 and invalid.json()["code"] == "invalid_uscc"
    from backend.lib.validators import make_uscc

    unknown = make_uscc("9", "1", "350102", "MA9XXXXX")
    missing = await any_api.get(f"/api/v1/enterprises/{unknown}/licence", headers=bearer(staff))
    assert missing.status_code == 404 and missing.json()["code"] == "licence_not_found"


def test_pdf_is_deterministic_and_well_formed():
    doc = render_pdf("注销登记申请书", ["第一行 line one", "长" * 200])
    assert doc == render_pdf("注销登记申请书", ["第一行 line one", "长" * 200])
    with pikepdf.open(io.BytesIO(doc)) as pdf:
        assert not pdf.get_warnings() and pdf.check_pdf_syntax() == []
        fonts = pdf.pages[0].Resources.Font
        assert all(f.Subtype == "/Type0" and f.DescendantFonts[0].FontDescriptor.FontFile2 for f in fonts.values())
    many = render_pdf("长文件", [f"第{i}行" for i in range(120)])
    assert len(pikepdf.open(io.BytesIO(many)).pages) >= 3
