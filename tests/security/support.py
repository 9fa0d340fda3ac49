"""What the security tests share: personas per role, and an applicant's whole journey over HTTP.

Everything here goes through the public routes with Bearer tokens from ``POST /sandbox/token``,
the way a script (or an attacker) would, so the tests prove the platform's answers, not the
services' internals.
"""

from __future__ import annotations

import asyncio
import re
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.cases.support import BASE_ANSWERS, TINY_PDF, form_from_examples, materials_to_upload
from tests.http import bearer, session_token

# The case every role is tried against: 宁德 (3509), so that AMR staff of 福州 (3501) are out of region.
CASE_USCC = "91350922MA402222XP"
CASE_OWNER = "person-P090"  # its legal representative
OTHER_USCC = "91350102MA0102003U"  # 福州榕鑫贸易有限公司, the stranger's own enterprise

# role → sandbox persona (None: no credentials at all)
PERSONAS: dict[str, str | None] = {
    "anonymous": None,
    "owner": CASE_OWNER,
    "stranger": "applicant-p002",  # an applicant who may not act for CASE_USCC
    "agency_staff": "staff-amr",  # AMR, whole province: the case has an AMR item
    "agency_other": "staff-xm-tax",  # 厦门 tax: no item of the case
    "region_other": "staff-amr-fuzhou",  # AMR, but only 福州
    "window_staff": "window-fuzhou",
    "admin": "admin-platform",
    "kiosk_terminal": "kiosk-fz-01",
    "tester": "tester-qa",
}
ROLES = tuple(PERSONAS)

# Full 18-character identifiers of this province: resident ID numbers (35xxxx...) and USCCs (9x35...).
FULL_IDENTIFIER = re.compile(r"(?<![0-9A-Z])(?:9[1-3]35|35\d{2})[0-9A-Z]{14}(?![0-9A-Z])")


async def tokens_for_roles(client: httpx.AsyncClient) -> dict[str, str | None]:
    return {role: (await session_token(client, persona) if persona else None) for role, persona in PERSONAS.items()}


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def ready_draft(client: httpx.AsyncClient, token: str, uscc: str, answers: dict | None = None) -> str:
    """A draft ready to submit, made over HTTP: answers (``BASE_ANSWERS`` unless given), form,
    materials, signatures, face check."""
    auth = bearer(token)
    created = await client.post("/api/v1/cases", json={"uscc": uscc}, headers=auth)
    assert created.status_code == 201, created.text
    view = created.json()
    case_id = view["id"]
    response = await client.patch(
        f"/api/v1/cases/{case_id}", json={"answers": answers or BASE_ANSWERS, "version": view["version"]}, headers=auth
    )
    assert response.status_code == 200, response.text
    view = response.json()
    assert view.get("plan"), view
    response = await client.patch(
        f"/api/v1/cases/{case_id}",
        json={"form_data": form_from_examples(view["plan"], view["form_data"]), "version": view["version"]},
        headers=auth,
    )
    assert response.status_code == 200, response.text
    for code in materials_to_upload(view["plan"]):
        response = await client.post(
            f"/api/v1/cases/{case_id}/materials",
            data={"code": code},
            files={"file": (f"{code}.pdf", TINY_PDF, "application/pdf")},
            headers=auth,
        )
        assert response.status_code == 201, response.text
    signing = await client.post(f"/api/v1/cases/{case_id}/signatures", headers=auth)
    assert signing.status_code == 201, signing.text
    for link in signing.json()["requests"]:
        q = _query(link["sign_url"])
        form = {
            "request_id": q["request_id"],
            "signer": q["signer"],
            "nonce": q["nonce"],
            "sha256": q["sha256"],
            "decision": "signed",
        }
        signed = await client.post("/sandbox/sign/session", data=form, headers={"Accept": "application/json"})
        assert signed.status_code == 200, signed.text
    face = await client.post(
        "/api/v1/face-verifications", json={"purpose": "submit", "reference": case_id}, headers=auth
    )
    assert face.status_code == 201, face.text
    q = _query(face.json()["provider_url"])
    decided = await client.post(
        "/sandbox/face/session",
        data={"verification_id": q["verification_id"], "nonce": q["nonce"], "decision": "passed"},
        headers={"Accept": "application/json"},
    )
    assert decided.status_code == 200, decided.text
    return case_id


async def submit(client: httpx.AsyncClient, token: str, case_id: str, key: str) -> dict:
    response = await client.post(f"/api/v1/cases/{case_id}/submit", headers={**bearer(token), "Idempotency-Key": key})
    assert response.status_code == 200, response.text
    return response.json()


async def wait_for_status(
    client: httpx.AsyncClient, token: str, case_id: str, statuses: set[str], timeout: float = 60
) -> dict:
    """Poll the case until its status is one of ``statuses``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        view = (await client.get(f"/api/v1/cases/{case_id}", headers=bearer(token))).json()
        if view.get("status") in statuses:
            return view
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(
                f"case {case_id} still {view.get('status')!r} after {timeout}s: "
                f"{[(i['code'], i['status']) for i in view.get('items', [])]}"
            )
        await asyncio.sleep(0.3)
