"""福建省市场监管智慧应用一体化平台: 注销登记 for every entity type."""

from backend.connectors.spec import COMMON_PAYLOAD, PayloadField, ResultKind, SystemSpec

SPEC = SystemSpec(
    code="amr",
    package="amr",
    name_zh="福建省市场监管智慧应用一体化平台",
    name_en="Fujian market regulation integrated platform",
    owner_zh="福建省市场监督管理局",
    level="provincial",
    items=(
        "REG-COMPANY",
        "REG-COMPANY-BRANCH",
        "REG-NONCORP",
        "REG-NONCORP-BRANCH",
        "REG-PARTNERSHIP",
        "REG-PARTNERSHIP-BRANCH",
        "REG-SOLE",
        "REG-SOLE-BRANCH",
        "REG-FOREIGN",
        "REG-COOP",
        "REG-COOP-BRANCH",
        "REG-INDIVIDUAL",
    ),
    payload=COMMON_PAYLOAD
    + (
        PayloadField("tax_clearance_reference", "string", "共享的清税结果业务编号（替代纸质清税证明）"),
        PayloadField("investors_commitment", "boolean", "简易注销：全体投资人承诺书已签署", required=False),
        PayloadField("liquidation_report_sha256", "string", "普通注销：清算报告 SHA-256", required=False),
    ),
    checks=("active_branches", "simplified_eligibility"),
    results=(ResultKind("准予注销登记通知书"),),
    reference_prefix="AMR",
    notes_zh="使用共享清税结果；分支机构须先于总机构注销；简易注销排除情形见实施细则第48条。",
)
