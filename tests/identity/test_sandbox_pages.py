"""The test environment's provider pages answer scripts: with ``Accept: application/json`` the
persona picker, the face page and the signing page say what they offer and how to post a choice,
and posting that choice works as the page's buttons do (backend/sandbox/README.md)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from litestar.testing import AsyncTestClient

from tests.identity.conftest import TEST_BASE, bearer, build_identity_app
from tests.identity.test_face import _start
from tests.identity.test_signing import _create, _link

JSON = {"Accept": "application/json"}


@pytest.fixture
async def api(sqlite_settings, clock, tmp_path):
    """Identity on SQLite (embedded mode, test environment on)."""
    app = build_identity_app(sqlite_settings, clock=clock, keys_file=str(tmp_path / "keys.json"))
    async with AsyncTestClient(app=app, base_url=TEST_BASE) as client:
        client.follow_redirects = False
        client.platform = app.state["platform"]  # type: ignore[attr-defined]
        yield client


async def _choose(client, page: dict, value: str):
    """Post a choice the way the JSON page says to."""
    assert page["post"]["method"] == "POST"
    assert page["post"]["content_type"] == "application/x-www-form-urlencoded"
    assert value in {c["value"] for c in page["choices"]}, page["choices"]
    return await client.post(page["post"]["url"], data={**page["fields"], page["choice"]: value}, headers=JSON)


async def test_the_persona_picker_lists_personas_and_a_choice_logs_in(api):
    authorize = (await api.get("/auth/login")).headers["location"]
    html = await api.get(authorize)
    assert html.headers["content-type"].startswith("text/html")  # browsers still get the page
    answer = await api.get(authorize, headers=JSON)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    page = answer.json()
    assert page["choice"] == "persona" and page["fields"]["code_challenge"]
    assert "applicant-p002" in {c["value"] for c in page["choices"]}
    assert all(c["label"] and c["kind"] for c in page["choices"])
    chosen = await _choose(api, page, "applicant-p002")
    assert chosen.status_code == 303
    query = parse_qs(urlsplit(chosen.headers["location"]).query)
    assert query["code"] and query["state"] == [page["fields"]["state"]]
    back = await api.get(chosen.headers["location"])
    assert back.status_code == 302 and (await api.get("/api/v1/me")).json()["name"] == "林晓燕"


async def test_a_bad_login_request_answers_json_to_a_script(api):
    refused = await api.get("/sandbox/oidc/authorize", params={"client_id": "nobody"}, headers=JSON)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_request"


async def test_the_face_page_offers_pass_or_fail(api):
    tokens, body, query = await _start(api)
    page = (await api.get(urlsplit(body["provider_url"]).path, params=query, headers=JSON)).json()
    assert page["choice"] == "decision" and [c["value"] for c in page["choices"]] == ["passed", "failed"]
    assert page["fields"] == {"verification_id": query["verification_id"], "nonce": query["nonce"]}
    decided = await _choose(api, page, "passed")
    assert decided.status_code == 200 and decided.json()["outcome"] == "通过"
    status = await api.get(f"/api/v1/face-verifications/{body['verification_id']}", headers=bearer(tokens))
    assert status.json()["status"] == "passed"


async def test_the_signing_page_offers_sign_or_decline(api):
    _reference, created = await _create(api)
    link = _link(created, "P004")
    page = (await api.get("/sandbox/sign/session", params=link, headers=JSON)).json()
    assert [c["value"] for c in page["choices"]] == ["signed", "declined"]
    assert page["fields"]["sha256"] == created.sha256
    signed = await _choose(api, page, "signed")
    assert signed.status_code == 200 and signed.json()["outcome"] == "已签署"
