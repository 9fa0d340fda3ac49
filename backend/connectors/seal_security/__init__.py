"""福建省印章业治安管理信息系统: 企业印章注销 (备案)."""

from backend.connectors.spec import COMMON_PAYLOAD, REGISTRATION_RESULT, PayloadField, ResultKind, SystemSpec

SEAL_PAYLOAD = COMMON_PAYLOAD + (
    REGISTRATION_RESULT,
    PayloadField("seal_numbers", "array", "待注销的印章编码（为空表示全部备案印章）", required=False),
)

SPEC = SystemSpec(
    code="seal-security",
    package="seal_security",
    name_zh="福建省印章业治安管理信息系统",
    name_en="Fujian seal industry public security system",
    owner_zh="福建省公安厅",
    level="provincial",
    items=("SEAL",),
    payload=SEAL_PAYLOAD,
    checks=("seals_on_file",),
    results=(ResultKind("印章注销回执"),),
    reference_prefix="SEALS",
    notes_zh="依据注销登记结果注销备案印章。",
)
