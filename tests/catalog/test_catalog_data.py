"""The shipped catalog data: canonical codes, routing as data, and strict validation at load."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from backend.catalog.loader import DATA_DIR, Catalog, CatalogError, get_catalog, get_divisions, route_for
from backend.lib.problems import ProblemError

BRIEF_ITEMS = [
    "TAX-UNIFIED", "TAX-INDIVIDUAL",
    "REG-COMPANY", "REG-COMPANY-BRANCH", "REG-NONCORP", "REG-NONCORP-BRANCH", "REG-PARTNERSHIP",
    "REG-PARTNERSHIP-BRANCH", "REG-SOLE", "REG-SOLE-BRANCH", "REG-FOREIGN", "REG-COOP", "REG-COOP-BRANCH",
    "REG-INDIVIDUAL",
    "CUSTOMS", "SI-PENSION", "SI-UNEMPLOYMENT", "BANK", "SEAL",
]  # fmt: skip
ENTITY_TO_REG = {
    "company": "REG-COMPANY", "company_branch": "REG-COMPANY-BRANCH", "noncorp": "REG-NONCORP",
    "noncorp_branch": "REG-NONCORP-BRANCH", "partnership": "REG-PARTNERSHIP",
    "partnership_branch": "REG-PARTNERSHIP-BRANCH", "sole": "REG-SOLE", "sole_branch": "REG-SOLE-BRANCH",
    "foreign": "REG-FOREIGN", "coop": "REG-COOP", "coop_branch": "REG-COOP-BRANCH", "individual": "REG-INDIVIDUAL",
}  # fmt: skip
CUSTOMS_BY_PREFECTURE = {
    "350100": "customs-fz", "350300": "customs-fz", "350400": "customs-fz", "350700": "customs-fz",
    "350900": "customs-fz", "350128": "customs-fz",
    "350200": "customs-xm", "350500": "customs-xm", "350600": "customs-xm", "350800": "customs-xm",
}  # fmt: skip


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return get_catalog()


def test_items_are_the_19_canonical_codes(catalog):
    assert list(catalog.items) == BRIEF_ITEMS


def test_every_item_is_bilingual_with_department_system_days_and_basis(catalog):
    for item in catalog.items.values():
        assert item.name.zh and item.name.en
        assert item.department in catalog.departments
        assert item.system in catalog.systems
        assert item.promised_days >= 1
        assert item.legal_basis


def test_entity_types_map_to_one_registration_item_and_their_tax_item(catalog):
    assert {c: et.registration_item for c, et in catalog.entity_types.items()} == ENTITY_TO_REG
    for code, et in catalog.entity_types.items():
        assert et.tax_item == ("TAX-INDIVIDUAL" if code == "individual" else "TAX-UNIFIED")


def test_business_systems_have_stable_codes(catalog):
    assert set(catalog.systems) == {
        "etax", "xm-tax", "amr", "customs-fz", "customs-xm", "si-pension", "si-unemployment", "ytz-bank",
        "seal-security", "seal-online",
    }  # fmt: skip
    assert set(catalog.offices) == {"customs-fz", "customs-xm"}
    assert catalog.items["SEAL"].also_systems == ["seal-online"]


@pytest.mark.parametrize(("region", "office"), sorted(CUSTOMS_BY_PREFECTURE.items()))
def test_customs_routing_is_data(catalog, region, office):
    rule = route_for(catalog.routing["customs"], region)
    assert rule.office == office and rule.system == office


def test_xiamen_taxpayers_route_to_xiamen_tax_system(catalog):
    assert route_for(catalog.routing["tax"], "350203").system == "xm-tax"
    assert route_for(catalog.routing["tax"], "350102").system == "etax"


def test_default_jurisdiction_is_fujian_without_xiamen(catalog):
    j = catalog.default_jurisdiction
    assert j.serves("350102") and j.serves("350128") and j.serves("350982")
    assert not j.serves("350203") and not j.serves("350200")
    assert not j.serves("110105")


def test_divisions_cover_fujian_prefectures():
    divs = get_divisions()
    prefectures = [d.code for d in divs.all() if d.level == "prefecture"]
    assert prefectures == ["350100", "350200", "350300", "350400", "350500", "350600", "350700", "350800", "350900"]
    assert divs.get("350128").name.startswith("平潭")
    assert divs.current_code("350427") == "350405"  # 沙县 became 沙县区
    assert sum(1 for d in divs.all() if d.level == "county") > 80


def test_every_question_required_by_the_issue_exists(catalog):
    from backend.catalog.loader import REQUIRED_ANSWER_KEYS

    for key in REQUIRED_ANSWER_KEYS:
        assert catalog.questions[key].required


def test_catalog_is_cached(catalog):
    assert get_catalog() is catalog
    assert get_catalog("2026.1") is catalog


def test_unknown_version_is_a_problem():
    with pytest.raises(ProblemError) as info:
        get_catalog("1999.1")
    assert info.value.code == "unknown_catalog_version"


@pytest.mark.slow  # a fresh interpreter as a child process
def test_importing_the_package_reads_nothing():
    code = (
        "import backend.catalog as c, backend.catalog.loader as l;"
        "assert l._load.cache_info().currsize == 0 and l.get_divisions.cache_info().currsize == 0;"
        "assert l.available_versions.cache_info().currsize == 0"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])


def _broken_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    target = tmp_path / "2026.1"
    shutil.copytree(DATA_DIR / "2026.1", target)
    path = target / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("matters.yaml", 'legal_basis: ["D Art. 46", P1, P3]', 'legal_basis: ["Z Art. 1"]', "unknown source"),
        ("matters.yaml", "system: etax", "system: nope", "unknown system"),
        ("matters.yaml", "promised_days: 10", "promised_days: -1", "Expected `int` >= 0"),
        ("form.yaml", 'example: "91350102MA2Y0001X6"', 'example: "91350102MA2Y0001X7"', "example invalid"),
        ("materials.yaml", "matters: [registration]", "matters: [nothing]", "unknown matter"),
        ("rules.yaml", "key: on_abnormal_list", "key: not_a_question", "unknown condition key"),
        ("questions.yaml", "type: boolean", "type: yesno", "Invalid enum value"),
        ("entity_types.yaml", "registration_item: REG-COOP,", "registration_item: REG-COMPANY,", "shared"),
    ],
)
def test_invalid_data_fails_at_load_with_a_precise_message(tmp_path, file, old, new, message):
    with pytest.raises(CatalogError, match=message.replace("(", r"\(")):
        Catalog(_broken_copy(tmp_path, file, old, new))


def test_a_condition_test_needs_exactly_one_operator(tmp_path):
    broken = _broken_copy(tmp_path, "rules.yaml", "{key: on_abnormal_list, eq: true}", "{key: on_abnormal_list}")
    with pytest.raises(CatalogError, match="exactly one of eq/in/gte"):
        Catalog(broken)
