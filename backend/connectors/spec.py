"""Per-system interface data: what differs between agency systems lives here as data.

Each system folder (``backend/connectors/<package>/``) defines a ``SystemSpec``; the generic
HTTP connector, the simulator, the conformance kit and the published ``openapi.yaml`` are all
driven by it, so adding a system is mostly writing one spec.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property


@dataclass(frozen=True)
class PayloadField:
    """One field of a submission's ``payload`` as the agency expects it."""

    name: str
    type: str  # JSON schema type: string | integer | boolean | object | array
    description_zh: str
    required: bool = True
    properties: tuple[PayloadField, ...] = ()  # for objects (one level is enough here)


@dataclass(frozen=True)
class ResultKind:
    """A result document the system returns when it completes an item."""

    name: str  # zh-CN document name
    media_type: str = "application/pdf"


@dataclass(frozen=True)
class SystemSpec:
    """Everything the platform needs to know to talk to one agency business system."""

    code: str
    package: str
    name_zh: str
    name_en: str
    owner_zh: str
    level: str  # national-vertical | provincial | city
    items: tuple[str, ...]
    payload: tuple[PayloadField, ...]
    #: business checks the simulator applies (see ``backend.connectors.rules``)
    checks: tuple[str, ...]
    results: tuple[ResultKind, ...]
    reference_prefix: str
    submit_path: str = "/api/v1/submissions"
    two_way: bool = False
    #: one submission per bank account, the basic account last
    per_account: bool = False
    connector: str = "http"  # http | bank
    #: how this system and the platform sign to each other (``x-signature-algorithm``): ES256, or
    #: SM2 (SM2 with SM3, GB/T 32918, the 国密 algorithms GB/T 39786-2021 expects)
    signature_algorithm: str = "ES256"
    notes_zh: str = ""
    timeouts: dict[str, float] = field(
        default_factory=lambda: {"connect": 3.0, "read": 10.0, "write": 10.0, "pool": 5.0}
    )

    @property
    def jws_alg(self) -> str:
        """The JWS ``alg`` of this system's signatures (``ES256`` or ``SM2SM3``)."""
        from backend.connectors.signing import jws_alg

        return jws_alg(self.signature_algorithm)

    @property
    def status_path(self) -> str:
        """Path of one submission's status."""
        return self.submit_path + "/{reference}"

    @property
    def correction_path(self) -> str:
        """Path to send corrected data (补正) for a submission."""
        return self.submit_path + "/{reference}/corrections"

    @property
    def precheck_path(self) -> str:
        """Path of the pre-check (注销预检)."""
        return "/api/v1/prechecks"

    @cached_property
    def required_paths(self) -> tuple[str, ...]:
        """Dotted paths of the required payload fields (a simulator checks every submission against them)."""
        out: list[str] = []
        for f in self.payload:
            if not f.required:
                continue
            out.append(f.name)
            out.extend(f"{f.name}.{p.name}" for p in f.properties if p.required)
        return tuple(out)


# Fields every system receives.
COMMON_PAYLOAD: tuple[PayloadField, ...] = (
    PayloadField("enterprise_name", "string", "市场主体名称"),
    PayloadField("entity_type", "string", "市场主体类型代码（company、individual 等）"),
    PayloadField("route", "string", "注销方式：simplified 简易注销 / general 普通注销"),
    PayloadField(
        "applicant",
        "object",
        "申请人（法定代表人、清算组负责人或经办人）",
        properties=(
            PayloadField("name", "string", "姓名"),
            PayloadField("id_number", "string", "居民身份证号码"),
            PayloadField("role", "string", "身份：legal_rep、investor、partner、liquidator、agent"),
            PayloadField("phone", "string", "联系电话", required=False),
        ),
    ),
)

REGISTRATION_RESULT = PayloadField(
    "registration_result",
    "object",
    "市场监管部门推送的注销登记结果（准予注销登记通知书）",
    properties=(
        PayloadField("reference", "string", "注销登记业务编号"),
        PayloadField("deregistered_on", "string", "注销日期（YYYY-MM-DD）"),
        PayloadField("document_sha256", "string", "准予注销登记通知书 SHA-256", required=False),
    ),
)


def parse_signature_algorithms(text: str) -> dict[str, str]:
    """``SIGNATURE_ALGORITHMS`` (``code=ALG,...``, ``*`` for every system) as a map; raises ``ValueError``."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        code, sep, alg = part.partition("=")
        if not sep or alg.strip().upper() not in ("ES256", "SM2"):
            raise ValueError(f"SIGNATURE_ALGORITHMS: {part!r} is not code=ES256 or code=SM2")
        out[code.strip()] = alg.strip().upper()
    return out


def signature_algorithm_for(code: str, own: str, overrides: str | dict[str, str]) -> str:
    """The signature algorithm system ``code`` uses in this deployment: ``SIGNATURE_ALGORITHMS``'s entry
    for it, else its ``*`` entry, else ``own`` (what the system's spec says)."""
    table = parse_signature_algorithms(overrides) if isinstance(overrides, str) else overrides
    return table.get(code, table.get("*", own))


def with_signature_algorithm(spec, overrides: str | dict[str, str]):  # noqa: ANN001, ANN201 - any spec dataclass
    """``spec`` with the deployment's signature algorithm for it (its own when not overridden)."""
    from dataclasses import replace

    own = getattr(spec, "signature_algorithm", "ES256")
    alg = signature_algorithm_for(spec.code, own, overrides)
    if alg == own:
        return spec
    return replace(spec, signature_algorithm=alg)
