"""The integration registry is seeded from the catalog and exports the request form."""

from __future__ import annotations

import csv
import io

import msgspec
import pytest
from openpyxl import load_workbook

from backend import db
from backend.integrations import seed
from backend.integrations.schemas import IntegrationFields
from backend.integrations.service import changes_of, export, view
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
    assert "清税" in rows["xm-tax"]["item_names"]


# The work plan's 附件2 (福州海关) and 附件3 (厦门海关), field by field.
CUSTOMS_FORMS = {
    "province": ("福建", "福建"),
    "filing_department": ("福州海关", "厦门海关"),
    "ministry": ("海关总署", "海关总署"),
    "system_name": ("行政相对人管理系统3.0", "行政相对人管理系统3.0"),
    "access_address": ("/", "/"),
    "deployment_environment": ("其他", "其他"),
    "data_storage": ("集中存储", "集中存储"),
    "deployment_mode": ("部委统建", "部委统建"),
    "docking_mode": ("双向接口", "双向接口"),
    "item_names": ("海关报关单位备案注销", "海关报关单位备案注销"),
    "result_needed": ("是", "是"),
    "result_name": ("海关报关单位备案注销", "海关报关单位备案注销"),
    "result_data_items": (
        "企业是否注销、市场监管局-企业注销登记结果（是否已在工商注销）",
        "企业是否注销、市场监管局-企业注销登记结果（是否已在工商注销）",
    ),
    "result_type": ("其他", "其他"),
    "level": ("分级管理", "分级管理"),
    "served_party": ("法人", "法人"),
    "annual_volume": (1500, 3000),
}


@pytest.mark.parametrize("field", sorted(CUSTOMS_FORMS))
async def test_customs_records_are_the_work_plans_forms(engine, field):
    await seed(1)
    rows = {r["system"]: r for r in await Integration.select()}
    assert (rows["customs-fz"][field], rows["customs-xm"][field]) == CUSTOMS_FORMS[field]


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


LEVEL_CHOICES = [
    (["镇（乡、街道）级", "村（社区）级"], "镇（乡、街道）级；村（社区）级"),
    (["村（社区）级", "省级", "县级"], "省级；县级；村（社区）级"),  # stored in the form's order
    (["国家级", "省级", "市级", "县级", "镇（乡、街道）级", "村（社区）级", "分级管理"], None),
]


@pytest.mark.parametrize(("levels", "stored"), LEVEL_CHOICES)
async def test_level_is_a_multi_select_of_the_forms_choices(engine, levels, stored):
    """填表说明 16: 事项行使层级 is multi-select: 国家级 … 镇（乡、街道）级、村（社区）级 and 分级管理."""
    await seed(1)
    fields = msgspec.json.decode(msgspec.json.encode({"level": levels}), type=IntegrationFields)
    rows = (
        await Integration.update(changes_of(Integration, fields, 2))
        .where(Integration.system == "customs-fz")
        .returning(*Integration.all_columns())
    )
    if stored:
        assert rows[0]["level"] == stored
    assert sorted(view(rows[0]).level) == sorted(levels)


@pytest.mark.parametrize("bad", [["乡级"], ["村级"], [], "分级管理"])
def test_level_outside_the_choices_is_refused(bad):
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(msgspec.json.encode({"level": bad}), type=IntegrationFields)
