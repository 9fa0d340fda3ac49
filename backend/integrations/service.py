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
    ContactFields,
    ContactView,
    IntegrationFields,
    IntegrationView,
)
from backend.integrations.tables import Contact, Integration
from backend.lib.exports import csv_bytes, xlsx_row
from backend.lib.problems import ProblemError

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


# ---- what the admin routes do (the routes check the caller and parse; these read and write) -------


async def integrations() -> list[IntegrationView]:
    """Every integration record, by system code."""
    return [view(r) for r in await Integration.select().order_by(Integration.system)]


async def export_integrations(fmt: str) -> tuple[bytes, str, str]:
    """The request forms as (content, media type, file name)."""
    return export(await Integration.select().order_by(Integration.system), "integrations", fmt)


async def change_integration(system: str, data: IntegrationFields, now_ms: int) -> IntegrationView:
    """Change the given fields of ``system``'s record (404 ``integration_not_found``)."""
    rows = (
        await Integration.update(changes_of(Integration, data, now_ms))
        .where(Integration.system == system)
        .returning(*Integration.all_columns())
    )
    if not rows:
        raise ProblemError(
            404, "integration_not_found", "没有该系统的对接登记。 No integration record for that system."
        )
    return view(rows[0])


async def contacts() -> list[ContactView]:
    """The contact list, by matter."""
    return [ContactView(**r) for r in await Contact.select().order_by(Contact.matter, Contact.id)]


async def export_contacts(fmt: str) -> tuple[bytes, str, str]:
    """The contact list as (content, media type, file name)."""
    return export(await Contact.select().order_by(Contact.matter, Contact.id), "contacts", fmt)


async def add_contact(data: ContactFields, now_ms: int) -> ContactView:
    """A new contact line (422 ``missing_field`` without matter, system and responsible unit)."""
    missing = [f for f in ("matter", "system", "responsible_unit") if getattr(data, f) is None]
    if missing:
        raise ProblemError(
            422,
            "missing_field",
            "请填写事项、业务系统和责任单位。 Matter, system and responsible unit are required.",
            field=missing[0],
        )
    rows = await Contact.insert(
        Contact(**{k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}, updated_at=now_ms)
    ).returning(*Contact.all_columns())
    return ContactView(**rows[0])


async def change_contact(contact_id: int, data: ContactFields, now_ms: int) -> ContactView:
    """Change the given fields of a contact line (404 ``contact_not_found``)."""
    rows = (
        await Contact.update(changes_of(Contact, data, now_ms))
        .where(Contact.id == contact_id)
        .returning(*Contact.all_columns())
    )
    if not rows:
        raise ProblemError(404, "contact_not_found", "没有该联络人记录。 No such contact.")
    return ContactView(**rows[0])


async def remove_contact(contact_id: int) -> None:
    """Remove a contact line (nothing if there is none)."""
    await Contact.delete().where(Contact.id == contact_id)
