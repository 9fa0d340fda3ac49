"""厦门市税务局税收特色业务管理系统: 清税申报 for Xiamen taxpayers (city-built)."""

from backend.connectors.etax import TAX_PAYLOAD
from backend.connectors.spec import ResultKind, SystemSpec

SPEC = SystemSpec(
    code="xm-tax",
    package="xm_tax",
    name_zh="国家税务总局厦门市税务局税收特色业务管理系统",
    name_en="Xiamen tax special business management system",
    owner_zh="国家税务总局厦门市税务局",
    level="city",
    items=("TAX-UNIFIED", "TAX-INDIVIDUAL"),
    payload=TAX_PAYLOAD,
    checks=("tax_arrears", "uncancelled_invoices"),
    results=(ResultKind("清税证明"),),
    reference_prefix="XMTAX",
    notes_zh="厦门市纳税人的清税申报路由至本系统（按行政区划 3502 开头）。",
)
