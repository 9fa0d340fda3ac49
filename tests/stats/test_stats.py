"""数据汇聚 matches the cases in the database: the test recomputes every figure from raw rows
with its own code (its own working-day count, median and nearest-rank percentile)."""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from datetime import date, timedelta

import msgspec
import pytest

from backend.cases import states as st
from backend.cases.common import cst_date
from backend.cases.tables import CaseFile, CaseItem
from backend.catalog import get_catalog
from backend.identity.actor import Actor
from backend.stats.service import city_of, compute, public_figures, to_csv
from backend.workbench import admin
from backend.workbench.service import Workbench
from tests.cases.support import BASE_ANSWERS, TINY_PDF, form_from_examples, materials_to_upload, sign_and_verify_face
from tests.workbench.support import ADMIN, STAFF_AMR, STAFF_ETAX, item_by_code, run_jobs

CASES = [  # (uscc, person, channel)
    ("91350102MA0102003U", "P002", "pwa"),
    ("91350102MA0102003U", "P002", "kiosk"),
    ("91350922MA402222XP", "P090", "pwa"),
    ("92350104MA3004863P", "P068", "window"),
]


async def submit(platform, uscc, person, channel, key):
    actor = Actor(id=person)
    view = await platform.cases.create_draft(actor, uscc, channel)
    answers = dict(BASE_ANSWERS)
    view = await platform.cases.update_draft(actor, view.id, answers=answers, form_data=None, version=view.version)
    if view.plan is None:  # e.g. an individual business has no general route: take the simplified one
        view = await platform.cases.update_draft(
            actor, view.id, answers={"route": "simplified"}, form_data=None, version=view.version
        )
    view = await platform.cases.update_draft(
        actor, view.id, answers=None, form_data=form_from_examples(view.plan, view.form_data), version=view.version
    )
    for code in materials_to_upload(view.plan):
        await platform.cases.add_material(actor, view.id, code, f"{code}.pdf", TINY_PDF)
    await sign_and_verify_face(platform, actor, view.id)
    await platform.cases.submit(actor, view.id, key)
    return actor, view.id


def working_days(cal, start: date, end: date) -> int:
    n, d = 0, start
    while d < end:
        d += timedelta(days=1)
        n += cal.is_working_day(d)
    return n


def median(xs):
    s = sorted(xs)
    return None if not s else (s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2)


def p90(xs):
    s = sorted(xs)
    return None if not s else s[math.ceil(0.9 * len(s)) - 1]


async def test_statistics_match_the_database(platform):
    wb = Workbench(platform)
    for system in ("etax", "amr"):
        await admin.set_mode(platform, ADMIN, system, "manual")
    cases = []
    for n, (uscc, person, channel) in enumerate(CASES):
        cases.append(await submit(platform, uscc, person, channel, f"stats-{n}"))
    await run_jobs(platform)

    async def tax_of(i):
        actor, case_id = cases[i]
        return item_by_code(await platform.cases.view(actor, case_id, with_plan=False), "TAX-")

    await wb.approve(STAFF_ETAX, (await tax_of(0)).ref, "清税证明.pdf", TINY_PDF)  # same day
    platform.clock.advance(5 * 86400)  # Tue 2026-12-01
    await wb.approve(STAFF_ETAX, (await tax_of(1)).ref, "清税证明.pdf", TINY_PDF)
    await run_jobs(platform)
    platform.clock.advance(14 * 86400)  # Tue 2026-12-15
    await wb.refuse(STAFF_ETAX, (await tax_of(2)).ref, "存在欠税")
    actor, case_id = cases[0]
    reg = item_by_code(await platform.cases.view(actor, case_id, with_plan=False), "REG-")
    await wb.approve(STAFF_AMR, reg.ref, "通知书.pdf", TINY_PDF)
    platform.clock.advance(20 * 86400)  # 2027-01-04: case 3's tax item is long overdue
    today = cst_date(platform.clock.now_ms())

    cal = platform.cases.calendar
    figures = await compute(cal, today=today)
    assert msgspec.json.decode(msgspec.json.encode(figures)) == figures  # plain JSON

    # --- recompute from raw rows
    case_rows = [c for c in await CaseFile.select() if c["submitted_at"] is not None]
    item_rows = [
        i for i in await CaseItem.select() if i["code"] != "NOTICE" and i["case_file"] in {c["id"] for c in case_rows}
    ]
    catalog = get_catalog()
    v = figures["volumes"]
    assert v["cases"] == len(case_rows) == len(CASES)
    assert v["items"] == len(item_rows)
    assert v["by_channel"] == dict(Counter(c["channel"] for c in case_rows)) == {"pwa": 2, "kiosk": 1, "window": 1}
    assert v["by_entity_type"] == dict(Counter(c["entity_type"] for c in case_rows))
    # 平潭 (350128) is reported apart from 福州; every other county under its prefecture
    units = Counter(c["region"] if c["region"] == "350128" else c["region"][:4] + "00" for c in case_rows)
    assert v["by_region"] == dict(units)
    assert v["by_matter"] == dict(Counter(catalog.items[i["code"]].matter for i in item_rows))
    assert v["by_status"] == dict(Counter(c["status"] for c in case_rows))

    on_time_total = due_total = 0
    for code in {i["code"] for i in item_rows}:
        rows = [i for i in item_rows if i["code"] == code]
        closed = [i for i in rows if i["status"] in ("completed", "rejected")]
        days = [working_days(cal, cst_date(i["queued_at"]), cst_date(i["closed_at"])) for i in closed]
        due = [i for i in closed if i["due_on"]]
        on_time = sum(cst_date(i["closed_at"]).isoformat() <= i["due_on"] for i in due)
        on_time_total += on_time
        due_total += len(due)
        got = figures["items"][code]
        assert (got["total"], got["closed"], got["median_days"], got["p90_days"]) == (
            len(rows),
            len(closed),
            median(days),
            p90(days),
        ), code
        assert (got["on_time"], got["with_deadline"]) == (on_time, len(due)), code
        assert got["open_overdue"] == sum(
            1 for i in rows if i["status"] not in st.ITEM_TERMINAL and i["due_on"] and today.isoformat() > i["due_on"]
        ), code
    assert figures["sla"] == {
        "on_time": on_time_total,
        "with_deadline": due_total,
        "compliance": round(on_time_total / due_total, 4),
    }

    # the scenario itself, so the comparison is not vacuous
    tax_codes = [c for c in figures["items"] if c.startswith("TAX-")]
    closed_tax_days = sorted(d for c in tax_codes for d in [figures["items"][c]["median_days"]] if d is not None)
    assert closed_tax_days and figures["items"]["TAX-UNIFIED"]["closed"] == 3
    assert figures["items"]["TAX-UNIFIED"]["p90_days"] == working_days(cal, date(2026, 11, 26), date(2026, 12, 15))
    assert sum(v["open_overdue"] for v in figures["items"].values()) >= 1

    # trend: cases submitted per day over the last 30 days
    trend = {row["day"]: row for row in figures["trend"]}
    assert len(trend) == 30 and max(trend) == today.isoformat()
    assert sum(r["submitted"] for r in figures["trend"]) == sum(
        1 for c in case_rows if (today - cst_date(c["submitted_at"])).days < 30
    )

    # CSV export carries the same numbers
    rows = list(csv.DictReader(io.StringIO(to_csv(figures, "items").lstrip("\ufeff"))))
    assert {r["item_code"]: int(r["closed"]) for r in rows} == {c: v["closed"] for c, v in figures["items"].items()}
    volumes = list(csv.reader(io.StringIO(to_csv(figures, "volumes").lstrip("\ufeff"))))
    assert ["channel", "kiosk", "1"] in volumes

    # the public figures hold aggregates only
    public = msgspec.json.encode(public_figures(figures)).decode()
    for c in case_rows:
        assert (
            c["public_id"] not in public
            and c["uscc"] not in public
            and (c["number"] or "#") not in public
            and c["enterprise_name"] not in public
        )
    assert "by_region" not in public and "by_entity_type" not in public


async def test_a_period_filter_counts_only_cases_submitted_in_it(platform):
    for system in ("etax", "amr"):
        await admin.set_mode(platform, ADMIN, system, "manual")
    await submit(platform, *CASES[0], "p-1")
    platform.clock.advance(3 * 86400)
    await submit(platform, *CASES[2], "p-2")
    today = cst_date(platform.clock.now_ms())
    cal = platform.cases.calendar
    assert (await compute(cal, today=today))["volumes"]["cases"] == 2
    assert (await compute(cal, since=today, today=today))["volumes"]["cases"] == 1
    assert (await compute(cal, until=today - timedelta(days=1), today=today))["volumes"]["by_region"] == {"350100": 1}


@pytest.mark.parametrize(
    ("region", "unit", "why"),
    [
        ("350102", "350100", "鼓楼区 counts under 福州市"),
        ("350128", "350128", "平潭综合实验区 counts apart from 福州 (the work plan names it apart)"),
        ("350181", "350100", "福清市 counts under 福州市"),
        ("350784", "350700", "retired 建阳市 on an old record counts under 南平市"),
        ("350822", "350800", "retired 永定县 on an old record counts under 龙岩市"),
    ],
)
def test_reporting_units(region, unit, why):
    assert city_of(region) == unit, why
