"""Finding 12: patterns and sizes were not enforced as written.

- ``catalog/formschema.py`` matched ``pattern`` with Python's ``re.search``, where ``$`` also
  matches before a final newline: ``"12345678\\n"`` passed ``^[0-9]{8,32}$``. Patterns are now
  matched with JSON Schema's own (ECMA-262) semantics through jsonschema-rs, and ``format: date``
  is ``YYYY-MM-DD`` only.
- Drafts stored megabyte values in 50-character fields until submission. Saving a draft
  (``PATCH /api/v1/cases/{id}``) now enforces types, maximum lengths and array lengths, and
  refuses unknown fields, with one error per field (422 ``draft_invalid``); nothing is saved.
"""

from __future__ import annotations

import pytest

from backend.catalog import get_catalog, plan, validate_submission
from backend.catalog.formschema import check
from backend.catalog.testing import FULL_ANSWERS
from backend.lib.problems import ProblemError
from tests.cases.support import BASE_ANSWERS, form_from_examples
from tests.security.support import bearer, session_token

USCC = "91350128MA0428396P"  # 平潭, its legal representative below
APPLICANT = "applicant-p010"


def _full_plan_form() -> dict:
    catalog = get_catalog()
    return msgspec_builtins(plan(catalog, "company", "350102", FULL_ANSWERS).form)


def msgspec_builtins(value):
    import msgspec

    return msgspec.to_builtins(value)


def _errors_of(form: dict, data: dict) -> dict[str, str]:
    with pytest.raises(ProblemError) as raised:
        validate_submission(form, data)
    return {e.field: e.code for e in raised.value.errors}


@pytest.mark.parametrize("trailing", ["\n", "\r\n"])
def test_finding12_a_trailing_newline_does_not_pass_an_anchored_pattern(trailing):
    assert check({"type": "string", "pattern": "^[0-9]{8,32}$"}, "12345678" + trailing)
    assert not check({"type": "string", "pattern": "^[0-9]{8,32}$"}, "12345678")
    form = _full_plan_form()
    data = form_from_examples({"form": form}, {})
    validate_submission(form, data)  # the examples pass
    data["bank_accounts"][0]["account_number"] += trailing
    data["legal_rep_id_number"] += trailing
    assert set(_errors_of(form, data)) == {"bank_accounts[0].account_number", "legal_rep_id_number"}


def test_finding12_patterns_use_json_schema_semantics_not_python_re():
    # Python's \\d matches any Unicode digit; JSON Schema's (ECMA-262) only 0-9
    assert check({"type": "string", "pattern": "^\\d{6}$"}, "٣٥٠١٠٢")
    assert not check({"type": "string", "pattern": "^\\d{6}$"}, "350102")


@pytest.mark.parametrize("value", ["20260101", "2026-W01-1", "2026-02-30", "2026-01-01\n"])
def test_finding12_dates_are_yyyy_mm_dd_only(value):
    assert check({"type": "string", "format": "date"}, value)


@pytest.fixture(scope="module")
async def draft(live):
    token = await session_token(live.client, APPLICANT)
    created = await live.client.post("/api/v1/cases", json={"uscc": USCC}, headers=bearer(token))
    assert created.status_code == 201, created.text
    view = created.json()
    answered = await live.client.patch(
        f"/api/v1/cases/{view['id']}", json={"answers": BASE_ANSWERS, "version": view["version"]}, headers=bearer(token)
    )
    assert answered.status_code == 200, answered.text
    yield token, answered.json()
    await live.client.post(f"/api/v1/cases/{view['id']}/withdraw", headers=bearer(token))


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"form_data": {"legal_rep_name": "林" * 200_000}}, {"form_data.legal_rep_name": "invalid_value"}),
        ({"form_data": {"legal_rep_id_number": "3" * 100_000}}, {"form_data.legal_rep_id_number": "invalid_value"}),
        (
            {"form_data": {"bank_accounts": [{"bank_name": "x", "account_number": "1" * 50_000}]}},
            {"form_data.bank_accounts[0].account_number": "invalid_value"},
        ),
        (
            {"form_data": {"bank_accounts": [{"bank_name": "x"}] * 5_000}},
            {"form_data.bank_accounts": "invalid_value"},
        ),
        ({"form_data": {"seal_count": "many"}}, {"form_data.seal_count": "invalid_value"}),
        ({"form_data": {"no_such_field": "x"}}, {"form_data.no_such_field": "unknown_field"}),
        ({"answers": {"route": "g" * 100_000}}, {"answers.route": "invalid_answer"}),
        ({"answers": {"no_such_question": True}}, {"answers.no_such_question": "unknown_answer"}),
        ({"answers": {"route": {"nested": "object"}}}, {"answers.route": "invalid_answer"}),
    ],
    ids=[
        "long-name",
        "long-id-number",
        "long-account",
        "many-rows",
        "type",
        "unknown",
        "long-answer",
        "unknown-answer",
        "object-answer",
    ],
)
async def test_finding12_saving_a_draft_enforces_sizes_per_field(live, draft, body, fields):
    token, before = draft
    answer = await live.client.patch(f"/api/v1/cases/{before['id']}", json=body, headers=bearer(token))
    assert answer.status_code == 422, (answer.status_code, answer.text[:300])
    problem = answer.json()
    assert problem["code"] == "draft_invalid", problem
    assert {e["field"]: e["code"] for e in problem["errors"]} == fields
    after = (await live.client.get(f"/api/v1/cases/{before['id']}", headers=bearer(token))).json()
    assert after["version"] == before["version"] and after["form_data"] == before["form_data"]  # nothing saved
    assert after["answers"] == before["answers"]


async def test_finding12_a_draft_within_limits_still_saves_and_clears(live, draft):
    token, view = draft
    answer = await live.client.patch(
        f"/api/v1/cases/{view['id']}",
        json={"form_data": {"legal_rep_name": "林晓明", "contact_phone": None}},
        headers=bearer(token),
    )
    assert answer.status_code == 200, answer.text
    saved = answer.json()
    assert saved["form_data"]["legal_rep_name"] == "林晓明" and saved["form_data"].get("contact_phone") is None


# --- the same class elsewhere: "$" with re.match / re.search, and Python's Unicode "\d" ---------


async def test_finding12_wire_patterns_refuse_a_trailing_newline(live):
    owner = bearer(live.tokens["owner"])
    answer = await live.client.post("/api/v1/cases", json={"uscc": USCC, "channel": "pwa\n"}, headers=owner)
    assert answer.status_code == 400, answer.text  # msgspec's pattern (re.search) took "pwa\n" for "pwa"
    assert "channel" in answer.text
    admin = bearer(live.tokens["admin"])
    registration = {
        "terminal_id": "kiosk-new\n",
        "name": "x",
        "hall": "hall-3501",
        "region": "350102",
        "public_jwk": {},
    }
    answer = await live.client.post("/api/v1/kiosk/terminals", json=registration, headers=admin)
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_terminal_id", answer.text


def test_finding12_no_wire_pattern_ends_in_a_bare_dollar():
    """msgspec matches ``Meta(pattern=...)`` with ``re.search``: a bare ``$`` lets a final newline in."""
    import pathlib
    import re

    bare = []
    for path in pathlib.Path("backend").rglob("*.py"):
        for match in re.finditer(r'pattern=r?"([^"]*)"', path.read_text()):
            if match[1].endswith("$") and not match[1].endswith("(?!\\n)$") and not match[1].endswith("(?!\\\\n)$"):
                bare.append(f"{path}: {match[1]}")
    assert not bare, bare
