"""Forged, expired, tampered and replayed callbacks are refused through the public routes of the
real app, and change nothing: not the item, not the timeline, not the callback inbox.

What this adds to the tests that already exist (and does not repeat them):
- tests/connectors/test_security.py proves ``Connector.verify_callback`` in isolation; here the
  same attacks go through ``POST /api/v1/callbacks/{system}`` into the dispatcher, against an
  item that a genuine callback would really move, and the stored state is compared before and after.
- tests/identity/test_face.py and test_signing.py prove the face and e-signature callbacks on an
  identity-only app with a virtual clock; here they go through the composed platform, with the
  token the provider really delivered captured and replayed, and with a backdated token.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import msgspec
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from backend.cases.tables import CallbackInbox, CallbackNonce, CaseItem
from backend.connectors.base import CallbackResult
from backend.connectors.signing import SIGNATURE_HEADER, Signer, generate_signing_key
from backend.sandbox.mount import SIMULATORS_STATE_KEY
from backend.sandbox.simulator import FaultConfig
from tests.cases.support import BASE_ANSWERS, form_from_examples
from tests.security.support import OTHER_USCC, bearer, ready_draft, session_token, submit

SLOW = 3_600_000  # ms: the simulated agency accepts the item and then takes an hour


@pytest.fixture(scope="module")
async def open_item(live):
    """An item the registration authority (amr) has in hand, not finished: a callback would move it."""
    engines = live.app.state[SIMULATORS_STATE_KEY]
    engines["amr"].faults = FaultConfig(processing_ms=SLOW)
    token = await session_token(live.client, "applicant-p002")
    try:
        case_id = await ready_draft(live.client, token, OTHER_USCC)
        await submit(live.client, token, case_id, f"callbacks-{case_id}")
        deadline = time.monotonic() + 60
        while True:
            view = (await live.client.get(f"/api/v1/cases/{case_id}", headers=bearer(token))).json()
            amr = next(i for i in view["items"] if i["system"] == "amr")
            if amr["status"] == "in_progress":  # where it stays for the hour: polling finds nothing to change
                break
            assert time.monotonic() < deadline, amr
            await asyncio.sleep(0.3)
        yield {"case_id": case_id, "item": amr, "token": token}
    finally:
        engines["amr"].faults = FaultConfig()


async def snapshot(item_ref: str) -> dict:
    """Everything a callback could change: the item, the callbacks stored, the tokens spent.

    (Not the timeline's length: the platform's own polling may append to it meanwhile.)
    """
    item = (
        await CaseItem.select(
            CaseItem.status, CaseItem.last_sequence, CaseItem.message, CaseItem.reference, CaseItem.closed_at
        )
        .where(CaseItem.ref == item_ref)
        .first()
    )
    return {
        "item": item,
        "inbox": await CallbackInbox.count().where(CallbackInbox.system == "amr"),
        "nonces": await CallbackNonce.count().where(CallbackNonce.jti.like("amr:%")),
    }


def event(item: dict, outcome: str = "completed", sequence: int = 90) -> bytes:
    return msgspec.json.encode(
        CallbackResult(
            event_id=f"evt-{uuid.uuid4().hex}",
            reference=item["reference"] or "R",
            item_ref=item["ref"],
            item_code=item["code"],
            system="amr",
            outcome=outcome,
            sequence=sequence,
            occurred_at="2026-11-26T08:00:00+08:00",
            message="办结",
        )
    )


async def post_callback(live, system: str, body: bytes, signature: str | None):
    headers = {"Content-Type": "application/json", **({SIGNATURE_HEADER: signature} if signature else {})}
    return await live.client.post(f"/api/v1/callbacks/{system}", content=body, headers=headers)


async def test_forged_expired_tampered_and_misdirected_agency_callbacks_change_nothing(live, open_item):
    item = open_item["item"]
    signer = live.app.state[SIMULATORS_STATE_KEY]["amr"].signer
    body = event(item)
    before = await snapshot(item["ref"])
    genuine, _ = signer.sign(body)

    attempts = {
        "unsigned": await post_callback(live, "amr", body, None),
        "garbage signature": await post_callback(live, "amr", body, "not.a.jws"),
        "forged (same kid, other key)": await post_callback(
            live, "amr", body, Signer(generate_signing_key(signer.kid)).sign(body)[0]
        ),
        "expired": await post_callback(live, "amr", body, signer.sign(body, now=time.time() - 900)[0]),
        "issued in the future": await post_callback(live, "amr", body, signer.sign(body, now=time.time() + 900)[0]),
        "tampered body": await post_callback(live, "amr", body.replace(b'"completed"', b'"rejected"'), genuine),
        "another system's route": await post_callback(live, "etax", body, signer.sign(body)[0]),
    }
    for name, response in attempts.items():
        assert response.status_code == 401, (name, response.status_code, response.text)
        assert (
            response.headers["content-type"].startswith("application/problem+json")
            and response.json()["code"] == "callback_rejected"
        ), name
    assert (await post_callback(live, "no-such-system", body, genuine)).status_code == 404
    assert await snapshot(item["ref"]) == before


async def test_a_replayed_agency_callback_is_refused_and_a_redelivered_event_applies_once(live, open_item):
    item = open_item["item"]
    signer = live.app.state[SIMULATORS_STATE_KEY]["amr"].signer
    body = event(item, outcome="rejected", sequence=50)
    signature, _ = signer.sign(body)
    first = await post_callback(live, "amr", body, signature)
    assert first.status_code == 200 and first.json()["status"] == "applied", first.text
    after_first = await snapshot(item["ref"])
    assert after_first["item"]["status"] == "rejected" and after_first["item"]["last_sequence"] == 50

    replay = await post_callback(live, "amr", body, signature)  # the captured request, byte for byte
    assert replay.status_code == 401 and replay.json()["code"] == "callback_replayed", replay.text
    redelivered = await post_callback(live, "amr", body, signer.sign(body)[0])  # same event, freshly signed
    assert redelivered.status_code == 200 and redelivered.json()["status"] == "duplicate", redelivered.text
    stale = event(item, outcome="completed", sequence=10)  # genuine but older: never moves state
    answer = await post_callback(live, "amr", stale, signer.sign(stale)[0])
    assert answer.status_code == 200 and answer.json()["status"] == "ignored", answer.text
    final = await snapshot(item["ref"])
    assert (
        final["item"] == after_first["item"] and final["inbox"] == after_first["inbox"] + 1
    )  # the redelivery was stored, not applied


# ---- identity providers: face verification and e-signature --------------------------------------


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _provider_token(key, typ: str, claims: dict) -> str:
    return jwt.encode({"alg": "ES256", "kid": key.kid, "typ": typ}, claims, key)


async def test_face_results_forged_backdated_or_replayed_are_refused(live):
    from backend.identity import get_identity
    from backend.identity.config import SANDBOX_FACE_KEY
    from backend.identity.face import FACE_RESULT_TYP, face_provider_base

    identity = get_identity(live.platform)
    token = live.tokens["owner"]
    started = await live.client.post(
        "/api/v1/face-verifications", json={"purpose": "submit", "reference": "security-face"}, headers=bearer(token)
    )
    assert started.status_code == 201, started.text
    q = _query(started.json()["provider_url"])
    status_url = f"/api/v1/face-verifications/{q['verification_id']}"
    key = identity.signing_key(SANDBOX_FACE_KEY)
    now = int(time.time())
    claims = {
        "iss": face_provider_base(identity),
        "aud": identity.base_url,
        "verification_id": q["verification_id"],
        "nonce": q["nonce"],
        "result": "passed",
        "score": 97,
        "liveness": True,
    }

    def callback(jws: str):
        return live.client.post("/api/v1/face-verifications/callback", json={"jws": jws})

    impostor = ECKey.generate_key("P-256", parameters={"kid": key.kid}, private=True)
    forged = await callback(
        _provider_token(impostor, FACE_RESULT_TYP, {**claims, "iat": now, "exp": now + 60, "jti": uuid.uuid4().hex})
    )
    assert forged.status_code == 401 and forged.json()["code"] == "callback_invalid", forged.text
    expired = await callback(
        _provider_token(key, FACE_RESULT_TYP, {**claims, "iat": now - 600, "exp": now - 540, "jti": uuid.uuid4().hex})
    )
    assert expired.status_code == 401 and expired.json()["code"] == "callback_expired", expired.text
    assert (await live.client.get(status_url, headers=bearer(token))).json()["status"] == "pending"

    delivered = await live.client.post(
        "/sandbox/face/session",
        data={"verification_id": q["verification_id"], "nonce": q["nonce"], "decision": "failed"},
        headers={"Accept": "application/json"},
    )
    assert delivered.status_code == 200, delivered.text
    captured = delivered.json()["result"]  # the provider's genuine, signed message
    replayed = await callback(captured)
    assert replayed.status_code == 409 and replayed.json()["code"] == "callback_replayed", replayed.text
    overturn = await callback(
        _provider_token(key, FACE_RESULT_TYP, {**claims, "iat": now, "exp": now + 60, "jti": uuid.uuid4().hex})
    )
    assert overturn.status_code == 409, overturn.text  # a recorded result stays recorded
    assert (await live.client.get(status_url, headers=bearer(token))).json()["status"] == "failed"


async def test_signature_callbacks_forged_backdated_or_replayed_are_refused(live):
    from backend.identity import get_identity
    from backend.identity.config import SANDBOX_SIGN_KEY
    from backend.identity.signing import SIGNATURE_TYP, sign_provider_base

    identity = get_identity(live.platform)
    token = await session_token(live.client, "applicant-p002")
    created = await live.client.post("/api/v1/cases", json={"uscc": OTHER_USCC}, headers=bearer(token))
    case_id = created.json()["id"]
    view = (
        await live.client.patch(f"/api/v1/cases/{case_id}", json={"answers": BASE_ANSWERS}, headers=bearer(token))
    ).json()
    view = (
        await live.client.patch(
            f"/api/v1/cases/{case_id}",
            json={"form_data": form_from_examples(view["plan"], view["form_data"])},
            headers=bearer(token),
        )
    ).json()
    signing = await live.client.post(f"/api/v1/cases/{case_id}/signatures", headers=bearer(token))
    assert signing.status_code == 201, signing.text
    link = _query(signing.json()["requests"][0]["sign_url"])
    key = identity.signing_key(SANDBOX_SIGN_KEY)
    now = int(time.time())
    claims = {
        "iss": sign_provider_base(identity),
        "aud": identity.base_url,
        "request_id": link["request_id"],
        "signer": link["signer"],
        "nonce": link["nonce"],
        "document_sha256": link["sha256"],
        "decision": "signed",
        "face_verified": True,
    }

    async def signer_status() -> str:
        status = (await live.client.get(f"/api/v1/cases/{case_id}/signatures", headers=bearer(token))).json()
        return next(
            s["status"] for d in status["documents"] for s in d["signers"] if s["request_id"] == link["request_id"]
        )

    def callback(jws: str):
        return live.client.post(
            "/api/v1/signatures/callback", content=jws, headers={"Content-Type": "application/jose"}
        )

    forged = await callback(
        _provider_token(
            ECKey.generate_key("P-256", parameters={"kid": key.kid}, private=True),
            SIGNATURE_TYP,
            {**claims, "iat": now, "exp": now + 60, "jti": uuid.uuid4().hex},
        )
    )
    assert forged.status_code == 401, forged.text
    expired = await callback(
        _provider_token(key, SIGNATURE_TYP, {**claims, "iat": now - 600, "exp": now - 540, "jti": uuid.uuid4().hex})
    )
    assert expired.status_code == 401 and expired.json()["code"] == "callback_expired", expired.text
    other_document = await callback(
        _provider_token(
            key,
            SIGNATURE_TYP,
            {**claims, "document_sha256": "0" * 64, "iat": now, "exp": now + 60, "jti": uuid.uuid4().hex},
        )
    )
    assert other_document.status_code == 409 and other_document.json()["code"] == "callback_hash_mismatch", (
        other_document.text
    )
    assert await signer_status() == "pending"

    form = {k: link[k] for k in ("request_id", "signer", "nonce", "sha256")} | {"decision": "signed"}
    delivered = await live.client.post("/sandbox/sign/session", data=form, headers={"Accept": "application/json"})
    assert delivered.status_code == 200, delivered.text
    replayed = await callback(delivered.json()["result"])
    assert replayed.status_code == 409 and replayed.json()["code"] == "callback_replayed", replayed.text
    declined = await callback(
        _provider_token(
            key, SIGNATURE_TYP, {**claims, "decision": "declined", "iat": now, "exp": now + 60, "jti": uuid.uuid4().hex}
        )
    )
    assert declined.status_code == 409, declined.text
    assert await signer_status() == "signed"
