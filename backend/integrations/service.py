"""Seeding, listing, changing and exporting integration and contact records."""

from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import Any

import msgspec

from backend.catalog import get_catalog
from backend.integrations.schemas import (
    CONTACT_HEADERS,
    INTEGRATION_HEADERS,
    LEVEL_SEPARATOR,
    LEVELS,
    IntegrationFields,
    IntegrationView,
)
from backend.integrations.tables import Integration
from backend.lib.exports import csv_bytes, xlsx_row

WORK_PLAN_REQUESTS = Path(__file__).parent / "data" / "work_plan_requests.yaml"
_LEVEL = {"national_vertical": "国家级", "provincial": "省级", "city": "市级"}
_DEPLOYMENT = {"national_vertical": "部委统建", "provincial": "分级部署", "city": "分级部署"}


def _systems_of(catalog, item) -> set[str]:
    """Every system that may handle ``item``: its own, routed ones, and additional ones."""
    systems = {item.system, *item.also_systems}
    if item.routing:
        systems |= {rule.system for rule in catalog.routing[item.routing].rules if rule.system}
    return systems


class _WorkPlanRequests(msgspec.Struct, forbid_unknown_fields=True):
    source: str
    requests: dict[str, IntegrationFields]


@functools.cache
def work_plan_requests() -> dict[str, IntegrationFields]:
    """The work plan's filled request forms (附件2/附件3), by business system code."""
    return msgspec.yaml.decode(WORK_PLAN_REQUESTS.read_bytes(), type=_WorkPlanRequests).requests


def store_level(levels: list[str]) -> str:
    """A multi-select level as stored: the choices in the form's order, joined by ；."""
    return LEVEL_SEPARATOR.join(x for x in LEVELS if x in levels)


def view(row: dict[str, Any]) -> IntegrationView:
    """A stored record as the API shows it (the level as a list)."""
    return IntegrationView(**{**row, "level": [x for x in row["level"].split(LEVEL_SEPARATOR) if x]})


async def seed(now_ms: int) -> int:
    """One integration record per catalog business system that has none yet; returns how many were added.

    Systems the work plan filed a request form for (the two customs offices) get its values
    exactly; the others get values derived from the catalog, for the teams to complete.
    """
    catalog = get_catalog()
    existing = {r["system"] for r in await Integration.select(Integration.system)}
    planned = work_plan_requests()
    added = 0
    for system in catalog.systems.values():
        if system.code in existing:
            continue
        if system.code in planned:
            values = msgspec.structs.asdict(planned[system.code])
            values = {k: v for k, v in values.items() if v is not None}
            values["level"] = store_level(values.get("level", []))
            await Integration.insert(Integration(system=system.code, updated_at=now_ms, **values))
            added += 1
            continue
        items = [i for i in catalog.items.values() if system.code in _systems_of(catalog, i)]
        await Integration.insert(
            Integration(
                system=system.code,
                filing_department=catalog.departments[system.department].name.zh,
                system_name=system.name.zh,
                ministry=catalog.departments[system.department].name.zh if system.kind == "national_vertical" else "",
                deployment_mode=_DEPLOYMENT.get(system.kind, "其他"),
                docking_mode="双向接口" if system.interface == "two_way" else "单向接口",
                item_names="、".join(i.name.zh for i in items),
                level=_LEVEL.get(system.kind, "分级管理"),
                scenario="企业注销登记“一件事”",
                updated_at=now_ms,
            )
        )
        added += 1
    return added


def export_csv(rows: list[dict[str, Any]], headers: dict[str, str]) -> bytes:
    """UTF-8 with a BOM, so spreadsheet programs open the Chinese headers correctly."""
    return csv_bytes(headers.values(), ([row.get(key, "") for key in headers] for row in rows))


def export_xlsx(rows: list[dict[str, Any]], headers: dict[str, str], title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    xlsx_row(sheet, headers.values())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        xlsx_row(sheet, [row.get(key, "") for key in headers])
    for column in sheet.columns:
        width = max(len(str(c.value or "")) for c in column)
        sheet.column_dimensions[column[0].column_letter].width = min(60, max(10, width * 2))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export(rows: list[dict[str, Any]], kind: str, fmt: str) -> tuple[bytes, str, str]:
    headers, title = (
        (INTEGRATION_HEADERS, "系统对接需求") if kind == "integrations" else (CONTACT_HEADERS, "专班联络清单")
    )
    if fmt == "xlsx":
        return (
            export_xlsx(rows, headers, title),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            f"{title}.xlsx",
        )
    return export_csv(rows, headers), "text/csv; charset=utf-8", f"{title}.csv"


def changes_of(table, fields: msgspec.Struct, now_ms: int) -> dict[Any, Any]:
    values = {
        getattr(table, k): (store_level(v) if k == "level" else v)
        for k, v in msgspec.structs.asdict(fields).items()
        if v is not None
    }
    values[table.updated_at] = now_ms
    return values
