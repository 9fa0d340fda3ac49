"""数据汇聚: volumes, durations against the promised time, SLA compliance, satisfaction, trends.

Everything is computed from the case tables (and 好差评's), so the figures always match the
cases in the database. Durations are in working days (holiday calendar) from the day an
item was queued to the day it closed; percentiles use the nearest-rank method. Reads only;
at provincial volume this belongs in a nightly roll-up table (see the package README).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from backend.cases import states as st
from backend.cases.common import cst_date
from backend.cases.tables import CaseFile, CaseItem
from backend.catalog import get_catalog
from backend.lib.exports import SafeCsvWriter
from backend.lib.workdays import WorkCalendar
from backend.ratings.service import end_of_day_ms
from backend.ratings.service import report as rating_report

NOTICE = "NOTICE"


def nearest_rank(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile by nearest rank (the smallest value with at least p% of values at or below it)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


#: Reported as units of their own besides the prefectures: 平潭综合实验区 (GB/T 2260 350128, 平潭县
#: under 福州市) is a province-level pilot zone that the work plan names apart (平潭综合实验区行政审批局).
SEPARATE_UNITS = frozenset({"350128"})


def city_of(region: str) -> str:
    """The reporting unit of a GB/T 2260 code: its prefecture (first four digits + 00), or 平潭 apart.

    Retired codes (350784 建阳市, 350822 永定县 …) on old records fall in their prefecture too.
    """
    if region in SEPARATE_UNITS:
        return region
    return region[:4] + "00" if len(region) >= 4 else region


async def compute(
    calendar: WorkCalendar, *, since: date | None = None, until: date | None = None, today: date, trend_days: int = 30
) -> dict[str, Any]:
    """All figures for cases submitted in [since, until] (CST dates, inclusive)."""
    catalog = get_catalog()
    cases = [
        c
        for c in await CaseFile.select(
            CaseFile.id,
            CaseFile.entity_type,
            CaseFile.region,
            CaseFile.channel,
            CaseFile.status,
            CaseFile.submitted_at,
            CaseFile.closed_at,
        ).where(CaseFile.submitted_at.is_not_null())
        if (since is None or cst_date(c["submitted_at"]) >= since)
        and (until is None or cst_date(c["submitted_at"]) <= until)
    ]
    ids = {c["id"] for c in cases}
    items = [
        i
        for i in await CaseItem.select(
            CaseItem.case_file,
            CaseItem.code,
            CaseItem.system,
            CaseItem.status,
            CaseItem.promised_days,
            CaseItem.due_on,
            CaseItem.queued_at,
            CaseItem.closed_at,
        )
        if i["case_file"] in ids and i["code"] != NOTICE
    ]

    def matter_of(code: str) -> str:
        spec = catalog.items.get(code)
        return spec.matter if spec else code

    volumes = {
        "cases": len(cases),
        "items": len(items),
        "by_matter": dict(sorted(Counter(matter_of(i["code"]) for i in items).items())),
        "by_item": dict(sorted(Counter(i["code"] for i in items).items())),
        "by_entity_type": dict(sorted(Counter(c["entity_type"] for c in cases).items())),
        "by_region": dict(sorted(Counter(city_of(c["region"]) for c in cases).items())),
        "by_channel": dict(sorted(Counter(c["channel"] for c in cases).items())),
        "by_status": dict(sorted(Counter(c["status"] for c in cases).items())),
    }

    per_item: dict[str, dict[str, Any]] = {}
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for i in items:
        grouped[i["code"]].append(i)
    on_time_all = due_all = 0
    for code, rows in sorted(grouped.items()):
        closed = [
            i
            for i in rows
            if i["status"] in (st.COMPLETED, st.REJECTED) and i["queued_at"] is not None and i["closed_at"] is not None
        ]
        days = [calendar.between(cst_date(i["queued_at"]), cst_date(i["closed_at"])) for i in closed]
        with_due = [i for i in closed if i["due_on"]]
        on_time = sum(cst_date(i["closed_at"]) <= date.fromisoformat(i["due_on"]) for i in with_due)
        open_overdue = sum(
            1
            for i in rows
            if i["status"] not in st.ITEM_TERMINAL and i["due_on"] and today > date.fromisoformat(i["due_on"])
        )
        on_time_all += on_time
        due_all += len(with_due)
        spec = catalog.items.get(code)
        per_item[code] = {
            "name": {"zh-CN": spec.name.zh, "en": spec.name.en} if spec else {"zh-CN": code, "en": code},
            "promised_days": spec.promised_days if spec else None,
            "total": len(rows),
            "closed": len(closed),
            "median_days": statistics.median(days) if days else None,
            "p90_days": nearest_rank(days, 90),
            "on_time": on_time,
            "with_deadline": len(with_due),
            "sla_compliance": round(on_time / len(with_due), 4) if with_due else None,
            "open_overdue": open_overdue,
        }

    trend_start = today - timedelta(days=trend_days - 1)
    submitted = Counter(cst_date(c["submitted_at"]) for c in cases)
    closed_cases = Counter(cst_date(c["closed_at"]) for c in cases if c["closed_at"] is not None)
    trend = [
        {
            "day": (trend_start + timedelta(days=n)).isoformat(),
            "submitted": submitted.get(trend_start + timedelta(days=n), 0),
            "closed": closed_cases.get(trend_start + timedelta(days=n), 0),
        }
        for n in range(trend_days)
    ]

    try:
        # unrated items count as 满意 after 7 days (Fujian's 好差评 measures), as of the end of today
        satisfaction = await rating_report(now_ms=end_of_day_ms(today))
    except Exception:  # noqa: BLE001 - ratings not installed: statistics still answer
        satisfaction = None

    return {
        "period": {
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "today": today.isoformat(),
        },
        "volumes": volumes,
        "items": per_item,
        "sla": {
            "on_time": on_time_all,
            "with_deadline": due_all,
            "compliance": round(on_time_all / due_all, 4) if due_all else None,
        },
        "trend": trend,
        "satisfaction": satisfaction,
    }


def public_figures(figures: dict[str, Any]) -> dict[str, Any]:
    """What the transparency page shows: aggregates only — no case, person, enterprise or small region cells."""
    sat = figures.get("satisfaction") or {}
    return {
        "period": figures["period"],
        "cases": figures["volumes"]["cases"],
        "by_matter": figures["volumes"]["by_matter"],
        "by_channel": figures["volumes"]["by_channel"],
        "items": {
            code: {k: v[k] for k in ("name", "promised_days", "closed", "median_days", "p90_days", "sla_compliance")}
            for code, v in figures["items"].items()
        },
        "sla": figures["sla"],
        "trend": figures["trend"],
        "satisfaction": {
            "total": sat.get("total", 0),
            "satisfaction": sat.get("satisfaction"),
            "by_level": sat.get("by_level", {}),
            "level_labels": sat.get("level_labels", {}),
        },
    }


CSV_SECTIONS = ("items", "volumes", "trend")


def to_csv(figures: dict[str, Any], section: str) -> str:
    """One section as CSV (UTF-8 with BOM so spreadsheet programs read the Chinese)."""
    import io

    out = io.StringIO()
    w = SafeCsvWriter(out)  # catalog names and recorded keys: never a live formula
    if section == "items":
        w.writerow(
            [
                "item_code",
                "事项",
                "promised_days",
                "total",
                "closed",
                "median_days",
                "p90_days",
                "on_time",
                "with_deadline",
                "sla_compliance",
                "open_overdue",
            ]
        )
        for code, v in figures["items"].items():
            w.writerow(
                [
                    code,
                    v["name"]["zh-CN"],
                    v["promised_days"],
                    v["total"],
                    v["closed"],
                    v["median_days"],
                    v["p90_days"],
                    v["on_time"],
                    v["with_deadline"],
                    v["sla_compliance"],
                    v["open_overdue"],
                ]
            )
    elif section == "volumes":
        w.writerow(["dimension", "key", "count"])
        for dim in ("by_matter", "by_item", "by_entity_type", "by_region", "by_channel", "by_status"):
            for key, count in figures["volumes"][dim].items():
                w.writerow([dim.removeprefix("by_"), key, count])
    else:
        w.writerow(["day", "submitted", "closed"])
        for row in figures["trend"]:
            w.writerow([row["day"], row["submitted"], row["closed"]])
    return "\ufeff" + out.getvalue()
