"""Prepare cases through the public API (as a script would, with a bearer token), so the
browser tests can start where they need to: a submitted case awaiting corrections, etc."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import httpx

from tests.cases.support import TINY_PDF

PDF = TINY_PDF  # one page: a PDF without pages is refused as damaged


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def _client(base: str, person: str) -> httpx.Client:
    token = (
        httpx.post(base + "/sandbox/token", json={"persona": f"person-{person}"})
        .raise_for_status()
        .json()["access_token"]
    )
    return httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {token}"})


def withdraw_open_drafts(base: str, person: str, uscc: str) -> int:
    """Withdraw ``person``'s unsubmitted drafts for ``uscc``, so a walk that starts a new application
    starts it (the PWA resumes an open draft instead). Earlier tests on the same server, or earlier
    runs against a deployment (``make e2e BASE_URL=…``), leave drafts behind. Returns how many."""
    with _client(base, person) as http:
        drafts = [c for c in http.get("/api/v1/cases").raise_for_status().json() if c["status"] == "draft"]
        for case in drafts:
            if case["uscc"] == uscc:
                http.post(f"/api/v1/cases/{case['id']}/withdraw", json={}).raise_for_status()
        return sum(case["uscc"] == uscc for case in drafts)


def prepared_draft(base: str, person: str, uscc: str, route: str, *, materials: bool = True) -> dict:
    """A draft with every answer, form field and material (``materials=False``: none uploaded yet),
    ready to be signed."""
    with _client(base, person) as http:
        view = http.post("/api/v1/cases", json={"uscc": uscc}).raise_for_status().json()
        catalog = http.get("/api/v1/catalog").raise_for_status().json()
        kinds = {q["key"]: q["type"] for q in catalog["questions"]}
        for _ in range(5):
            missing = [
                p["field"].removeprefix("answers.")
                for p in view.get("plan_problems", [])
                if p["code"] == "missing_answer"
            ]
            if not missing:
                break
            answers = {k: route if k == "route" else 0 if kinds.get(k) == "count" else False for k in missing}
            view = (
                http.patch(f"/api/v1/cases/{view['id']}", json={"answers": answers, "version": view["version"]})
                .raise_for_status()
                .json()
            )
        form = view["plan"]["form"]
        data = dict(view["form_data"])
        for key in form.get("required", []):
            if key not in data:
                data[key] = form["properties"][key]["examples"][0]
        view = (
            http.patch(f"/api/v1/cases/{view['id']}", json={"form_data": data, "version": view["version"]})
            .raise_for_status()
            .json()
        )
        for m in view["plan"]["materials"] if materials else []:
            if not m["waived"] and not m["physical"]:
                http.post(
                    f"/api/v1/cases/{view['id']}/materials",
                    data={"code": m["code"]},
                    files={"file": (f"{m['code']}.pdf", PDF, "application/pdf")},
                ).raise_for_status()
        return view


def sign(base: str, sign_url: str) -> None:
    """The signer approves on the sandbox signing provider (as its page's form does); a short link
    (``/s/<code>``, what the co-signers' QR codes carry) is followed to the provider's page first."""
    if urlparse(sign_url).path.startswith("/s/"):
        answer = httpx.get(sign_url, follow_redirects=False)
        assert answer.status_code in (302, 303, 307), answer.text
        sign_url = answer.headers["location"]
    q = _query(sign_url)
    httpx.post(
        base + "/sandbox/sign/session",
        data={k: q[k] for k in ("request_id", "signer", "nonce", "sha256")} | {"decision": "signed"},
    ).raise_for_status()


def submitted_case(base: str, person: str, uscc: str, route: str) -> dict:
    """Log in as ``person``, fill every answer, field, material, signature and face check, and submit."""
    view = prepared_draft(base, person, uscc, route)
    with _client(base, person) as http:
        signing = http.post(f"/api/v1/cases/{view['id']}/signatures").raise_for_status().json()
        for request in signing["requests"]:
            sign(base, request["sign_url"])
        face = (
            http.post("/api/v1/face-verifications", json={"purpose": "submit", "reference": view["id"]})
            .raise_for_status()
            .json()
        )
        q = _query(face["provider_url"])
        http.post(
            "/sandbox/face/session",
            data={"verification_id": q["verification_id"], "nonce": q["nonce"], "decision": "passed"},
        ).raise_for_status()
        return (
            http.post(f"/api/v1/cases/{view['id']}/submit", headers={"Idempotency-Key": f"setup-{view['id']}"})
            .raise_for_status()
            .json()
        )


def wait_for_item_status(base: str, person: str, case_id: str, status: str) -> dict:
    """The case view once one of its items reached ``status`` (the simulated agencies answer in the
    background, within seconds); polls the API for 30 s at most."""
    with _client(base, person) as http:
        for _ in range(60):
            view = http.get(f"/api/v1/cases/{case_id}").raise_for_status().json()
            if any(i["status"] == status for i in view["items"]):
                return view
            time.sleep(0.5)
    raise AssertionError(f"no item reached {status}")
