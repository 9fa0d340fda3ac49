"""Loading and indexing the versioned catalog data; nothing is read until first use.

``get_catalog(version)`` decodes the YAML files of ``data/<version>/`` into msgspec Structs
(type validation), checks every cross-reference (codes, legal-basis source ids, examples
against their own constraints) and caches one indexed :class:`Catalog` per version.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from backend.catalog import schemas as s
from backend.lib.problems import ProblemError

DATA_DIR = Path(__file__).parent / "data"
DIVISIONS_FILE = DATA_DIR / "divisions" / "fujian.yaml"
_VERSION_RE = re.compile(r"\d{4}\.\d+", re.ASCII)
T = TypeVar("T")

#: Answer keys the issue requires every plan request to carry.
REQUIRED_ANSWER_KEYS = (
    "route",
    "has_customs_filing",
    "si_pension",
    "si_unemployment",
    "bank_accounts",
    "has_seals_on_file",
    "active_branches",
    "on_abnormal_list",
    "equity_pledged_or_frozen",
    "has_outward_investments",
    "under_investigation_or_litigation",
    "revoked_or_closed",
    "unpaid_penalties",
    "listed_company",
)
#: Keys the engine adds to the planning context besides the answers.
CONTEXT_KEYS = ("entity_type", "route", "is_branch")


class CatalogError(Exception):
    """The data files of a catalog version are invalid (raised at load, never at request time)."""


def _decode(path: Path, type_: type[T]) -> T:
    try:
        return msgspec.yaml.decode(path.read_bytes(), type=type_)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise CatalogError(f"{path.parent.name}/{path.name}: {exc}") from exc


# --------------------------------------------------------------------------- divisions


class Divisions:
    """GB/T 2260 divisions of Fujian, indexed by code."""

    def __init__(self, data: s.DivisionsFile) -> None:
        self.edition = data.edition
        province = s.Division(
            code=data.province["code"], name=data.province["name"], name_en=data.province["name_en"], level="province"
        )
        self.by_code: dict[str, s.Division] = {province.code: province}
        for d in data.divisions:
            if d.code in self.by_code:
                raise CatalogError(f"divisions: duplicate code {d.code}")
            self.by_code[d.code] = d
        self.retired = {r.code: r for r in data.retired}
        for r in data.retired:
            if r.replaced_by not in self.by_code:
                raise CatalogError(f"divisions: {r.code} replaced by unknown {r.replaced_by}")
        for d in self.by_code.values():
            parent = self.parent(d.code)
            if d.level != "province" and parent not in self.by_code:
                raise CatalogError(f"divisions: {d.code} has no parent {parent}")

    def current_code(self, code: str) -> str | None:
        """The current code for ``code`` (retired codes map to their successor), or None."""
        if code in self.by_code:
            return code
        r = self.retired.get(code)
        return r.replaced_by if r else None

    def get(self, code: str) -> s.Division:
        return self.by_code[code]

    @staticmethod
    def parent(code: str) -> str | None:
        if code.endswith("0000"):
            return None
        if code.endswith("00"):
            return code[:2] + "0000"
        return code[:4] + "00"

    def prefecture(self, code: str) -> s.Division | None:
        """The prefecture-level city containing ``code`` (itself if it is one)."""
        if code.endswith("0000"):
            return None
        return self.by_code.get(code[:4] + "00")

    def all(self) -> list[s.Division]:
        return list(self.by_code.values())


@functools.cache
def get_divisions() -> Divisions:
    """The Fujian division table (loaded once)."""
    return Divisions(_decode(DIVISIONS_FILE, s.DivisionsFile))


# --------------------------------------------------------------------------- catalog


class Catalog:
    """One catalog version, indexed by code. Immutable after construction."""

    def __init__(self, version_dir: Path) -> None:
        meta = _decode(version_dir / "catalog.yaml", s.CatalogMeta)
        org = _decode(version_dir / "organisation.yaml", s.Organisation)
        mf = _decode(version_dir / "matters.yaml", s.MattersFile)
        et = _decode(version_dir / "entity_types.yaml", s.EntityTypesFile)
        qf = _decode(version_dir / "questions.yaml", s.QuestionsFile)
        rf = _decode(version_dir / "rules.yaml", s.Rules)
        form = _decode(version_dir / "form.yaml", s.Form)
        mat = _decode(version_dir / "materials.yaml", s.Materials)
        if meta.version != version_dir.name:
            raise CatalogError(f"catalog.yaml says version {meta.version}, folder is {version_dir.name}")
        self.meta = meta
        self.version = meta.version
        self.sources = _index(meta.sources, "id", "sources")
        self.jurisdictions = _index(meta.jurisdictions, "code", "jurisdictions")
        self.departments = _index(org.departments, "code", "departments")
        self.systems = _index(org.systems, "code", "systems")
        self.offices = _index(org.offices, "code", "offices")
        self.matters = _index(sorted(mf.matters, key=lambda m: m.order), "code", "matters")
        self.items = _index(mf.items, "code", "items")
        self.entity_types = _index(et.entity_types, "code", "entity_types")
        self.questions = _index(qf.questions, "key", "questions")
        self.rules = _index(rf.rules, "code", "rules")
        self.dependencies = rf.dependencies
        self.routing = _index(rf.routing, "code", "routing")
        self.periods = rf.periods
        self.steps = rf.steps
        self.form = form
        self.fields = _index(form.fields, "key", "form fields")
        self.materials = _index(mat.materials, "code", "materials")
        self.items_by_matter: dict[str, list[s.Item]] = {m: [] for m in self.matters}
        for item in self.items.values():
            self.items_by_matter.setdefault(item.matter, []).append(item)
        self._check()

    @property
    def default_jurisdiction(self) -> s.Jurisdiction:
        return self.jurisdictions[self.meta.default_jurisdiction]

    # Cross-reference checks: a broken data file fails at load with a precise message.
    def _check(self) -> None:
        errs: list[str] = []

        def need(cond: bool, msg: str) -> None:
            if not cond:
                errs.append(msg)

        def basis(where: str, refs: list[str]) -> None:
            for ref in refs:
                need(ref.split(" ", 1)[0] in self.sources, f"{where}: unknown source in legal basis {ref!r}")

        def cond_keys(where: str, cond: s.Condition | None) -> None:
            for t in (*cond.all, *cond.any) if cond else ():
                need(t.key in self.questions or t.key in CONTEXT_KEYS, f"{where}: unknown condition key {t.key!r}")
                operators = sum(x is not None for x in (t.eq, t.in_, t.gte))
                need(operators == 1, f"{where}: test on {t.key!r} needs exactly one of eq/in/gte")

        need(self.meta.default_jurisdiction in self.jurisdictions, "default_jurisdiction unknown")
        basis("engine", ["FJ", "R Art. 32", "R Art. 33", "D Art. 48"])  # cited by engine/guide defaults
        for j in self.jurisdictions.values():
            for ex in j.exclude:
                basis(f"jurisdiction {j.code}", ex.legal_basis)
        need(len(self.items) == 19, f"expected 19 items, found {len(self.items)}")
        need(len(self.entity_types) == 12, f"expected 12 entity types, found {len(self.entity_types)}")
        for sysm in self.systems.values():
            need(sysm.department in self.departments, f"system {sysm.code}: unknown department")
        for off in self.offices.values():
            need(off.system in self.systems, f"office {off.code}: unknown system")
        for item in self.items.values():
            w = f"item {item.code}"
            need(item.matter in self.matters, f"{w}: unknown matter")
            need(item.department in self.departments, f"{w}: unknown department")
            need(all(x in self.systems for x in (item.system, *item.also_systems)), f"{w}: unknown system")
            need(item.routing is None or item.routing in self.routing, f"{w}: unknown routing table")
            need(item.quantity_from is None or item.quantity_from in self.questions, f"{w}: unknown quantity_from")
            need((item.applies.by == "condition") == (item.applies.when is not None), f"{w}: condition mismatch")
            basis(w, [*item.legal_basis, *item.time_basis])
            cond_keys(w, item.applies.when)
        reg_items = set()
        for et in self.entity_types.values():
            w = f"entity type {et.code}"
            reg, tax = self.items.get(et.registration_item), self.items.get(et.tax_item)
            need(reg is not None and reg.matter == "registration", f"{w}: registration item invalid")
            need(tax is not None and tax.matter == "tax", f"{w}: tax item invalid")
            need(et.registration_item not in reg_items, f"{w}: registration item shared")
            reg_items.add(et.registration_item)
            basis(w, et.legal_basis)
        for key in REQUIRED_ANSWER_KEYS:
            need(key in self.questions and self.questions[key].required, f"question {key} missing or optional")
        for q in self.questions.values():
            need(q.type != "choice" or bool(q.options), f"question {q.key}: choice without options")
            need(q.required or q.default is not None, f"question {q.key}: optional without default")
            need(all(e in self.entity_types for e in q.only_for or ()), f"question {q.key}: unknown entity type")
            basis(f"question {q.key}", q.legal_basis)
        for r in self.rules.values():
            basis(f"rule {r.code}", r.legal_basis)
            cond_keys(f"rule {r.code}", r.when)
        for d in self.dependencies:
            need(d.matter in self.matters and d.after in self.matters, f"dependency {d.matter}: unknown matter")
            basis(f"dependency {d.matter}", d.legal_basis)
            cond_keys(f"dependency {d.matter}", d.when)
        for t in self.routing.values():
            basis(f"routing {t.code}", t.legal_basis)
            for rule in t.rules:
                need(rule.system is None or rule.system in self.systems, f"routing {t.code}: unknown system")
                need(rule.office is None or rule.office in self.offices, f"routing {t.code}: unknown office")
        for p in self.periods:
            basis(f"period {p.code}", p.legal_basis)
            need(all(m in self.matters for m in p.blocks), f"period {p.code}: blocks an unknown matter")
            cond_keys(f"period {p.code}", p.when)
        for st in self.steps:
            basis(f"step {st.code}", st.legal_basis)
            cond_keys(f"step {st.code}", st.when)
        from backend.catalog.formschema import check, field_schema

        for f in self.form.fields:
            w = f"form field {f.key}"
            for target in f.maps:
                need(target in self.items or target in self.matters, f"{w}: maps unknown item/matter {target}")
            need(f.count_from is None or f.count_from in self.questions, f"{w}: unknown count_from")
            cond_keys(w, f.when)
            example_errs = check(field_schema(f), f.example)
            need(not example_errs, f"{w}: example invalid: {example_errs}")
        for m in self.materials.values():
            w = f"material {m.code}"
            need(bool(m.matters or m.items), f"{w}: needed by nothing")
            need(all(x in self.matters for x in m.matters), f"{w}: unknown matter")
            need(all(x in self.items for x in m.items), f"{w}: unknown item")
            cond_keys(w, m.when)
            basis(w, [*m.legal_basis, *m.zero_visit_basis])
            need(m.zero_visit is None or m.physical, f"{w}: zero_visit on a material that is not physical")
            for wv in m.waivers:
                need(wv.matter is None or wv.matter in self.matters, f"{w}: waiver matter unknown")
                need((wv.source == "item_result") == (wv.matter is not None), f"{w}: item_result needs a matter")
                cond_keys(w, wv.when)
                basis(w, wv.legal_basis)
        # Every prefecture must route to a customs office and a tax system.
        for div in get_divisions().all():
            if div.level == "prefecture":
                for table in self.routing.values():
                    need(route_for(table, div.code) is not None, f"routing {table.code}: nothing for {div.code}")
        if errs:
            raise CatalogError(f"catalog {self.version}: " + "; ".join(errs))

    def items_for(self, matter_or_item: str) -> list[s.Item]:
        """Items named by an item code or a matter code."""
        if matter_or_item in self.items:
            return [self.items[matter_or_item]]
        return self.items_by_matter.get(matter_or_item, [])


def route_for(table: s.RoutingTable, region: str) -> s.RoutingRule | None:
    """The routing rule with the longest prefix matching ``region``."""
    best: tuple[int, s.RoutingRule] | None = None
    for rule in table.rules:
        for p in rule.prefixes:
            if region.startswith(p) and (best is None or len(p) > best[0]):
                best = (len(p), rule)
    return best[1] if best else None


def _index(rows: list[Any], key: str, what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for row in rows:
        k = getattr(row, key)
        if k in out:
            raise CatalogError(f"{what}: duplicate {k}")
        out[k] = row
    return out


@functools.cache
def available_versions() -> tuple[str, ...]:
    """Catalog versions shipped, oldest first."""
    found = [p.name for p in DATA_DIR.iterdir() if p.is_dir() and _VERSION_RE.fullmatch(p.name)]
    return tuple(sorted(found, key=lambda v: tuple(int(x) for x in v.split("."))))


@functools.cache
def _load(version: str) -> Catalog:
    return Catalog(DATA_DIR / version)


def get_catalog(version: str | None = None, *, field: str = "catalog_version") -> Catalog:
    """The catalog of ``version`` (default: the latest), loaded once and cached.

    Raises ``ProblemError(422, "unknown_catalog_version")`` for a version not shipped.
    """
    versions = available_versions()
    if version is None:
        if not versions:
            raise CatalogError("no catalog version found")
        version = versions[-1]
    elif version not in versions:
        raise ProblemError(
            422,
            "unknown_catalog_version",
            f"事项目录版本 {version} 不存在，可用版本：{', '.join(versions)}。 Unknown catalog version.",
            field=field,
        )
    return _load(version)


def validate_division(value: str, field: str = "region") -> str:
    """Return the current GB/T 2260 code of a Fujian division (retired codes are mapped forward).

    Raises ``region_outside_fujian`` for well-formed codes of other provinces and
    ``unknown_region`` for anything else not in the shipped data.
    """
    v = str(value).strip()
    if not re.fullmatch(r"[1-8][0-9]{5}", v):
        raise ProblemError(
            422, "unknown_region", f"行政区划代码应为6位数字。 Unknown division code {value!r}.", field=field
        )
    if not v.startswith("35"):
        raise ProblemError(
            422,
            "region_outside_fujian",
            "本平台只办理福建省内企业的注销，请向企业登记所在地的省级平台申请。"
            " This platform serves enterprises registered in Fujian only.",
            field=field,
        )
    divisions = get_divisions()  # the data loads on first use
    code = divisions.current_code(v)
    if code is None:
        raise ProblemError(
            422,
            "unknown_region",
            f"未找到行政区划代码 {v}，请从列表中选择企业住所所在的县（市、区）。 Unknown division code.",
            field=field,
        )
    return code
