"""msgspec Structs for the catalog: the data files (validated at load) and the API wire shapes.

Every human-readable text is a :class:`Text` ``{"zh-CN": ..., "en": ...}``: Chinese first,
English second, one shape everywhere (data files, plans, guides, the catalog endpoint).
Legal basis entries are strings ``"<source id> <locator>"`` such as ``"R Art. 33"``, where
the source id is declared in ``catalog.yaml`` (ids follow ``shared/domain/rules.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct, field

ItemCode = Annotated[str, Meta(pattern=r"^[A-Z][A-Z0-9-]*(?!\n)$", max_length=40)]
Code = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_-]*(?!\n)$", max_length=60)]
Prefix = Annotated[str, Meta(pattern=r"^35[0-9]{0,4}(?!\n)$")]
Days = Annotated[int, Meta(ge=0, le=400)]
Route = Literal["simplified", "general"]
ROUTES_ALL: tuple[str, ...] = ("simplified", "general")


class Text(Struct, frozen=True, forbid_unknown_fields=True):
    """A bilingual text: zh-CN (primary) and English."""

    zh: str = field(name="zh-CN")
    en: str


# --------------------------------------------------------------------------- conditions


class Test(Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """One test on the planning context (answers plus ``entity_type``, ``route``, ``is_branch``).

    Exactly one of ``eq``/``in``/``gte`` should be given; ``eq`` compares exactly.
    """

    key: str
    eq: Any = None
    in_: list[Any] | None = field(default=None, name="in")
    gte: int | None = None
    negate: bool = False

    def check(self, ctx: Mapping[str, Any]) -> bool:
        value = ctx.get(self.key)
        if self.in_ is not None:
            ok = value in self.in_
        elif self.gte is not None:
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= self.gte
        else:
            ok = value == self.eq
        return ok != self.negate


class Condition(Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """All of ``all`` hold and, if ``any`` is given, at least one of ``any`` holds."""

    all: list[Test] = []
    any: list[Test] = []

    def holds(self, ctx: Mapping[str, Any]) -> bool:
        return all(t.check(ctx) for t in self.all) and (not self.any or any(t.check(ctx) for t in self.any))

    def keys(self) -> set[str]:
        return {t.key for t in (*self.all, *self.any)}


# --------------------------------------------------------------------------- data files


class Source(Struct, frozen=True, forbid_unknown_fields=True):
    """A legal or documentary source cited by rules (ids as in rules.md: R, D, C, G5, P4 ...)."""

    id: str
    title: str
    url: str | None = None


class JurisdictionExclusion(Struct, frozen=True, forbid_unknown_fields=True):
    prefix: Prefix
    message: Text
    apply_at: Text
    legal_basis: list[str] = []


class Jurisdiction(Struct, frozen=True, forbid_unknown_fields=True):
    """The divisions a deployment serves: ``include`` prefixes minus ``exclude`` prefixes."""

    code: Code
    name: Text
    include: list[Prefix]
    exclude: list[JurisdictionExclusion] = []

    def exclusion_for(self, region: str) -> JurisdictionExclusion | None:
        for ex in self.exclude:
            if region.startswith(ex.prefix):
                return ex
        return None

    def serves(self, region: str) -> bool:
        inside = any(region.startswith(p) for p in self.include)
        return inside and self.exclusion_for(region) is None


class CatalogMeta(Struct, frozen=True, forbid_unknown_fields=True):
    """``catalog.yaml``: the version's identity, sources and default jurisdiction."""

    version: str
    effective_from: str
    title: Text
    sources: list[Source]
    jurisdictions: list[Jurisdiction]
    default_jurisdiction: Code


class Department(Struct, frozen=True, forbid_unknown_fields=True):
    code: Code
    name: Text


class System(Struct, frozen=True, forbid_unknown_fields=True):
    """A business system (业务系统) an item is sent to."""

    code: Code
    name: Text
    department: Code
    kind: Literal["national_vertical", "provincial", "city"]
    interface: Literal["two_way", "one_way", "table", "manual"]


class Office(Struct, frozen=True, forbid_unknown_fields=True):
    """A routed office, e.g. 福州海关, reached through a system."""

    code: Code
    name: Text
    system: Code


class Organisation(Struct, frozen=True, forbid_unknown_fields=True):
    """``organisation.yaml``."""

    departments: list[Department]
    systems: list[System]
    offices: list[Office] = []


class Matter(Struct, frozen=True, forbid_unknown_fields=True):
    code: Code
    name: Text
    order: int


class Applicability(Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """When an item applies: through the entity-type mapping, or by a condition on answers."""

    by: Literal["entity_type", "condition"]
    when: Condition | None = None
    text: Text | None = None
    not_text: Text | None = None


class Item(Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """One of the 19 items (事项)."""

    code: ItemCode
    matter: Code
    name: Text
    department: Code
    system: Code
    promised_days: Days
    legal_basis: list[str]
    applies: Applicability
    routing: Code | None = None
    quantity_from: str | None = None
    time_basis: list[str] = []
    also_systems: list[Code] = []
    #: ``basic_last``: with several units (accounts) the last one waits for all the others, so the
    #: item takes two rounds of ``promised_days`` (PBC Art. 49: the basic deposit account closes last)
    sequence: Literal["parallel", "basic_last"] = "parallel"


class EntityType(Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    code: Code
    name: Text
    registration_item: ItemCode
    tax_item: ItemCode
    is_branch: bool = False
    can_have_branches: bool = True
    can_be_listed: bool = False
    legal_basis: list[str] = []


class Question(Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """A situation question (办理情形). ``only_for``: other entity types must answer ``neutral``."""

    key: Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]*(?!\n)$")]
    type: Literal["boolean", "count", "choice"]
    text: Text
    help: Text | None = None
    options: list[str] = []
    option_text: dict[str, Text] = {}
    required: bool = True
    default: Any = None
    maximum: int | None = None
    only_for: list[Code] | None = None
    neutral: Any = None
    inconsistent: Text | None = None
    legal_basis: list[str] = []


class Rule(Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """A blocking rule or a simplified-route exclusion (简易注销除外情形)."""

    code: Code
    kind: Literal["blocker", "simplified_exclusion", "notice"]
    when: Condition
    message: Text
    resolve: Text
    legal_basis: list[str]
    field: str | None = None
    #: why the rule could not be checked against its source ("" = verified)
    unverified: str = ""


class Dependency(Struct, frozen=True, forbid_unknown_fields=True):
    """Items of ``matter`` act only after the applicable items of ``after`` are done."""

    matter: Code
    after: Code
    why: Text
    legal_basis: list[str]
    #: only where this holds (e.g. only the general route waits for tax clearance, D Art. 46 vs 47)
    when: Condition | None = None


class RoutingRule(Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """Longest matching division prefix wins; ``system`` overrides, ``office`` names the office."""

    prefixes: list[Prefix]
    system: Code | None = None
    office: Code | None = None
    why: Text | None = None


class RoutingTable(Struct, frozen=True, forbid_unknown_fields=True):
    code: Code
    name: Text
    rules: list[RoutingRule]
    legal_basis: list[str] = []


class Period(Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """A statutory period before or around the application (公告期 ...), for the guide."""

    code: Code
    name: Text
    days: Days
    unit: Literal["calendar", "working"]
    routes: list[Route]
    legal_basis: list[str]
    when: Condition | None = None
    #: matters that wait for this period to end without objection: it becomes a timed stage of the case
    blocks: list[Code] = []
    unverified: str = ""
    #: the short name of a timed stage in the promise ("简易注销公示期")
    stage_name: Text | None = None


class Step(Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """A step of the re-engineered flow, for the guide."""

    code: Code
    name: Text
    routes: list[Route]
    legal_basis: list[str] = []
    when: Condition | None = None


class Rules(Struct, frozen=True, forbid_unknown_fields=True):
    """``rules.yaml``."""

    rules: list[Rule]
    dependencies: list[Dependency]
    routing: list[RoutingTable]
    periods: list[Period]
    steps: list[Step]


class SubField(Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """A property of an array element in the merged form (e.g. one bank account)."""

    key: str
    title: Text
    type: Literal["string", "integer", "boolean"]
    example: Any
    format: str | None = None
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    enum: list[Any] | None = None
    enum_titles: list[str] | None = None


class FormField(Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """One field of the merged form, defined once and mapped to each item's payload field."""

    key: Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]*(?!\n)$")]
    title: Text
    type: Literal["string", "integer", "boolean", "array"]
    example: Any
    maps: dict[str, str]
    description: Text | None = None
    format: str | None = None
    pattern: str | None = None
    validator: Literal["uscc", "id_number", "phone", "division"] | None = None
    min_length: int | None = None
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    enum: list[Any] | None = None
    enum_titles: list[str] | None = None
    const: Any = None
    items: list[SubField] | None = None
    count_from: str | None = None
    required: bool = True
    when: Condition | None = None


class Form(Struct, frozen=True, forbid_unknown_fields=True):
    """``form.yaml``."""

    title: Text
    fields: list[FormField]


class Waiver(Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """Why a material need not be submitted: the platform obtains it itself."""

    source: Literal["e_licence", "shared_data", "item_result", "merged_form", "identity_check"]
    reason: Text
    legal_basis: list[str] = []
    matter: Code | None = None
    when: Condition | None = None


class Material(Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """A material (申请材料), defined once: needed by items of ``matters`` or by ``items``."""

    code: Code
    name: Text
    matters: list[Code] = []
    items: list[ItemCode] = []
    when: Condition | None = None
    when_text: Text | None = None
    waivers: list[Waiver] = []
    physical: bool = False
    #: produced in the application itself (the merged form, e-signed commitments): nothing to upload
    online: bool = False
    legal_basis: list[str] = []
    #: how a physical material is dealt with without a visit (post, a pushed result, an announcement);
    #: a physical material without it makes the plan need one visit, and says why
    zero_visit: Text | None = None
    zero_visit_basis: list[str] = []
    unverified: str = ""


class Materials(Struct, frozen=True, forbid_unknown_fields=True):
    materials: list[Material]


class MattersFile(Struct, frozen=True, forbid_unknown_fields=True):
    matters: list[Matter]
    items: list[Item]


class EntityTypesFile(Struct, frozen=True, forbid_unknown_fields=True):
    entity_types: list[EntityType]


class QuestionsFile(Struct, frozen=True, forbid_unknown_fields=True):
    questions: list[Question]


# --------------------------------------------------------------------------- divisions


class Division(Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    code: Annotated[str, Meta(pattern=r"^35[0-9]{4}(?!\n)$")]
    name: str
    name_en: str
    level: Literal["province", "prefecture", "county"]
    administered: bool = True


class RetiredDivision(Struct, frozen=True, forbid_unknown_fields=True):
    code: Annotated[str, Meta(pattern=r"^35[0-9]{4}(?!\n)$")]
    name: str
    replaced_by: str
    since: str


class DivisionsFile(Struct, frozen=True, forbid_unknown_fields=True):
    edition: str
    province: dict[str, str]
    divisions: list[Division]
    retired: list[RetiredDivision] = []


# --------------------------------------------------------------------------- wire shapes


class Ref(Struct, frozen=True):
    """A reference to a department, system or office: its code and name."""

    code: str
    name: Text


class ItemView(Struct):
    code: str
    matter: str
    name: Text
    department: Ref
    system: Ref
    promised_days: int
    legal_basis: list[str]
    applies_when: Text | None = None


class EntityTypeView(Struct):
    code: str
    name: Text
    registration_item: str
    tax_item: str
    is_branch: bool
    can_have_branches: bool


class OptionView(Struct):
    value: str
    text: Text | None = None


class QuestionView(Struct):
    key: str
    type: str
    text: Text
    required: bool
    help: Text | None = None
    options: list[OptionView] | None = None
    default: Any = None
    maximum: int | None = None
    only_for: list[str] | None = None


class CatalogView(Struct):
    """``GET /api/v1/catalog``."""

    version: str
    effective_from: str
    title: Text
    jurisdiction: Jurisdiction
    matters: list[Matter]
    items: list[ItemView]
    entity_types: list[EntityTypeView]
    questions: list[QuestionView]
    departments: list[Department]
    systems: list[System]
    offices: list[Office]
    sources: list[Source]


class DivisionView(Struct):
    code: str
    name: str
    name_en: str
    level: str
    parent: str | None
    in_jurisdiction: bool


class PlanRequest(Struct, forbid_unknown_fields=True):
    """``POST /api/v1/plans`` body. Answers are checked against the catalog's questions."""

    entity_type: Annotated[str, Meta(min_length=1, max_length=40)]
    region: Annotated[str, Meta(min_length=1, max_length=12)]
    answers: dict[str, Any]
    catalog_version: Annotated[str, Meta(max_length=20)] | None = None


class RegionView(Struct):
    code: str
    name: str
    name_en: str
    prefecture: str | None = None
    prefecture_name: str | None = None


class PlanItem(Struct):
    code: str
    matter: str
    name: Text
    department: Ref
    system: Ref
    depends_on: list[str]
    why: Text
    promised_days: int
    legal_basis: list[str]
    office: Ref | None = None
    routing_why: Text | None = None
    quantity: int = 1
    also_systems: list[Ref] = []


class NotApplicable(Struct):
    code: str
    name: Text
    reason: Text


BlockerSource = Literal["plan", "agency"]


class Blocker(Struct, kw_only=True):
    """Something that stops submission (注销预检), in one shape wherever it comes from.

    ``source`` says who found it: ``plan``, the catalog's rules (a plan's ``blockers``), or
    ``agency``, an agency system's own pre-check (``POST /api/v1/cases/{id}/precheck``), which
    names the ``agency`` (the system's code and name) and the ``item`` it was asked about.
    """

    code: Annotated[str, Meta(examples=["outside_jurisdiction"])]
    """A stable machine-readable code."""
    message: Text
    """What is wrong, in both languages (an agency's one-language message fills both)."""
    source: BlockerSource = "plan"
    resolve: Text | None = None
    """How to resolve it (every plan blocker says; an agency's pre-check may not: null)."""
    field: str | None = None
    """The answer or form field to change (``region``, ``answers.<key>``, ``form_data.<key>``), or null."""
    legal_basis: list[str] = []
    agency: Ref | None = None
    """The agency system that reported it (``source: agency``), else null."""
    item: str | None = None
    """The item code the agency was asked about (``source: agency``), else null."""


class Reason(Struct):
    code: str
    text: Text
    legal_basis: list[str]


class Eligibility(Struct):
    eligible: bool
    reasons: list[Reason]


class RouteEligibility(Struct):
    simplified: Eligibility
    general: Eligibility


class WaiverView(Struct):
    source: str
    reason: Text
    legal_basis: list[str] = []


class PlanMaterial(Struct):
    code: str
    name: Text
    needed_by: list[str]
    waived: bool
    physical: bool
    online: bool = False
    waiver: WaiverView | None = None
    condition: Text | None = None
    legal_basis: list[str] = []
    zero_visit: Text | None = None
    """How this physical material is dealt with without a visit (None: it needs one)."""
    unverified: str = ""


class Edge(Struct):
    """``item`` may start only after ``depends_on`` has its result."""

    item: str
    depends_on: str
    why: Text
    legal_basis: list[str]


class Figure(Struct):
    before: int
    after: int
    saved: int
    percent: int


class MaterialFigure(Struct):
    before: int
    after_dedupe: int
    after_waivers: int
    saved: int
    percent: int


class Reduction(Struct):
    """Before/after figures computed from the catalog (表单整合、材料去重、减环节、减跑动)."""

    form_fields: Figure
    materials: MaterialFigure
    steps: Figure
    visits: Figure
    visit_reasons: list[Text] = []
    """Why a visit is still needed: the physical materials that have no zero-visit way."""


class Notice(Struct):
    code: str
    message: Text
    legal_basis: list[str]


class Plan(Struct):
    """The result of planning one case (the response of ``POST /api/v1/plans``)."""

    catalog_version: str
    entity_type: str
    region: RegionView
    route: str
    jurisdiction: str
    can_submit: bool
    items: list[PlanItem]
    not_applicable: list[NotApplicable]
    blockers: list[Blocker]
    notices: list[Notice]
    route_eligibility: RouteEligibility
    materials: list[PlanMaterial]
    form: dict[str, Any]
    dependencies: list[Edge]
    promised_days: int
    """Working days after submission, or after the timed stage when one is on the critical path."""
    critical_path: list[str]
    reduction: Reduction
    answers: dict[str, Any]
    stage_days: int = 0
    """Calendar days of the timed stage (公示期 / 异议期) the critical path waits for first (0: none)."""
    promised_text: Text | None = None
    """The whole promise in words: the stage, then the working days."""


class GuideCondition(Struct):
    code: str
    text: Text
    legal_basis: list[str]
    kind: str


class GuideItem(Struct):
    code: str
    matter: Ref
    name: Text
    department: Ref
    system: Ref
    applies_when: Text
    depends_on: list[str]
    promised_days: int
    legal_basis: list[str]
    offices: list[Ref] = []
    routed_systems: list[Ref] = []


class GuideStep(Struct):
    order: int
    code: str
    name: Text
    legal_basis: list[str] = []


class GuidePeriod(Struct):
    code: str
    name: Text
    days: int
    unit: str
    legal_basis: list[str]


class Guide(Struct):
    """The guide (办事指南) for one entity type and route."""

    catalog_version: str
    entity_type: EntityTypeView
    route: str
    title: Text
    jurisdiction: Jurisdiction
    conditions: list[GuideCondition]
    items: list[GuideItem]
    materials: list[PlanMaterial]
    steps: list[GuideStep]
    periods: list[GuidePeriod]
    promised_days: int
    reduction: Reduction
    reduction_note: Text
    form_fields: list[Ref]
    sources: list[Source]
    stage_days: int = 0
    promised_text: Text | None = None
