"""国家税务总局福建省电子税务局 (e-Tax): 清税申报 for taxpayers outside Xiamen."""

from backend.connectors.spec import COMMON_PAYLOAD, PayloadField, ResultKind, SystemSpec

TAX_PAYLOAD = COMMON_PAYLOAD + (
    PayloadField("tax_registration_region", "string", "主管税务机关所在行政区划代码（GB/T 2260）"),
    PayloadField("commitment_signed", "boolean", "是否已签署承诺书（承诺制容缺即办）", required=False),
)

SPEC = SystemSpec(
    code="etax",
    package="etax",
    name_zh="国家税务总局福建省电子税务局",
    name_en="Fujian e-Tax (State Taxation Administration)",
    owner_zh="国家税务总局福建省税务局",
    level="national-vertical",
    items=("TAX-UNIFIED", "TAX-INDIVIDUAL"),
    payload=TAX_PAYLOAD,
    checks=("tax_arrears", "uncancelled_invoices"),
    results=(ResultKind("清税证明"),),
    reference_prefix="ETAX",
    notes_zh="国家垂管系统，通过部委申请的接口对接；清税结果共享给市场监管部门，替代纸质清税证明。",
)
