"""The integration registry is seeded from the catalog and exports the request form."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from backend import db
from backend.integrations import seed
from backend.integrations.service import export
from backend.integrations.tables import Contact, Integration
from backend.settings import load_settings


@pytest.fixture(params=["sqlite", "postgres"])
async def engine(request):
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    settings = load_settings(env={}, database_url=url)
    engine = db.make_engine(settings)
    db.bind(engine)
    await db.start(engine, settings)
    await Integration.delete(force=True)
    await Contact.delete(force=True)
    yield engine
    await db.stop(engine)


async def test_seed_lists_every_business_system_once(engine):
    assert await seed(1) == 10
    assert await seed(2) == 0
    rows = {r["system"]: r for r in await Integration.select()}
    assert rows["customs-xm"]["docking_mode"] == "双向接口" and rows["customs-xm"]["level"] == "国家级"
    assert "清税" in rows["xm-tax"]["item_names"]


async def test_exports_open_in_spreadsheets(engine):
    await seed(1)
    rows = await Integration.select().order_by(Integration.system)
    content, media_type, filename = export(rows, "integrations", "csv")
    assert content.startswith("\ufeff".encode()) and media_type.startswith("text/csv") and filename.endswith(".csv")
    table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert table[0][:3] == ["系统代码", "省份", "填报部门"] and len(table) == 11
    content, media_type, _ = export(rows, "integrations", "xlsx")
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet.title == "系统对接需求" and sheet.max_row == 11
    assert sheet["A2"].value == "amr"
