"""Finding 9 (low): deeply nested JSON gave a 500.

A thousand nested arrays sent to ``POST /api/v1/plans`` raised ``RecursionError`` in the JSON
decoder. Every JSON body is now depth-checked in one place (``backend.lib.jsonbody``) before it is
decoded: the app's request class for every ``JSONBody`` parameter, and the routes that decode raw
bytes themselves (token refresh, signing callbacks, agency callbacks). Each answers 400
``json_too_deep``, a problem document, never a 500.
"""

from __future__ import annotations

import pytest

from backend.lib.jsonbody import MAX_DEPTH, too_deep
from tests.security.support import bearer

DEEP = "[" * 1000 + "]" * 1000
# past the limit but shallow enough for the decoder: it would decode and overflow what walks it next
PAST_LIMIT = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)


def _problem(answer, status: int = 400, code: str = "json_too_deep") -> dict:
    assert answer.status_code == status, (answer.status_code, answer.text[:300])
    assert answer.headers["content-type"].startswith("application/problem+json"), answer.headers
    problem = answer.json()
    assert problem["code"] == code, problem
    return problem


@pytest.mark.parametrize("nested", [DEEP, PAST_LIMIT], ids=["1000-deep", "limit+1"])
async def test_finding09_nested_json_to_plans_is_a_400_problem(live, nested):
    whole = await live.client.post("/api/v1/plans", content=nested, headers={"Content-Type": "application/json"})
    _problem(whole)
    inside = '{"entity_type": "company", "region": "350102", "answers": {"x": ' + nested + "}}"
    _problem(await live.client.post("/api/v1/plans", content=inside, headers={"Content-Type": "application/json"}))


async def test_finding09_every_json_entry_point_refuses_deep_nesting(live):
    owner = live.tokens["owner"]
    headers = {"Content-Type": "application/json"}
    body = '{"refresh_token": "x", "extra": ' + DEEP + "}"
    _problem(await live.client.post("/auth/refresh", content=body, headers=headers))
    patch = '{"form_data": {"x": ' + DEEP + "}}"
    answer = await live.client.patch(
        "/api/v1/cases/DR-0000-000000", content=patch, headers={**headers, **bearer(owner)}
    )
    _problem(answer)
    answer = await live.client.post("/api/v1/mandates", content=DEEP, headers={**headers, **bearer(owner)})
    _problem(answer)


async def test_finding09_a_body_at_the_limit_still_reaches_validation(live):
    nested = "[" * (MAX_DEPTH - 3) + "]" * (MAX_DEPTH - 3)
    inside = '{"entity_type": "company", "region": "350102", "answers": {"x": ' + nested + "}}"
    answer = await live.client.post("/api/v1/plans", content=inside, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text[:300]  # an unknown answer, not a refused body


def test_finding09_depth_counts_brackets_outside_strings_only():
    assert not too_deep('{"a": "' + "[" * 100 + '\\"[[[["}')
    assert not too_deep(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH)
    assert too_deep(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    assert too_deep('{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1))
    assert not too_deep("[" + ",".join(["[[1]]"] * 10_000) + "]")  # wide is fine


async def test_finding09_a_signed_agency_callback_nested_too_deeply_is_refused(live):
    from backend.connectors.signing import SIGNATURE_HEADER
    from backend.sandbox.mount import SIMULATORS_STATE_KEY

    body = ('{"system": "amr", "item_ref": "x", "extra": ' + DEEP + "}").encode()
    signature, _ = live.app.state[SIMULATORS_STATE_KEY]["amr"].signer.sign(body)
    answer = await live.client.post(
        "/api/v1/callbacks/amr", content=body, headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature}
    )
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])
    assert answer.headers["content-type"].startswith("application/problem+json")
