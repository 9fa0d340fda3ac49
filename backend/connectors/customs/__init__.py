"""海关行政相对人管理系统3.0: 报关单位备案注销, reached through 福州海关 or 厦门海关.

Two-way (双向接口): the platform pushes the registration deregistration result, customs
returns its own result by callback. Which customs office serves a region is catalog data.
"""

from dataclasses import replace

from backend.connectors.spec import COMMON_PAYLOAD, REGISTRATION_RESULT, PayloadField, ResultKind, SystemSpec

SPEC_FZ = SystemSpec(
    code="customs-fz",
    package="customs",
    name_zh="海关行政相对人管理系统3.0（福州海关）",
    name_en="Customs administrative counterpart system 3.0 (Fuzhou Customs)",
    owner_zh="福州海关",
    level="national-vertical",
    items=("CUSTOMS",),
    payload=COMMON_PAYLOAD
    + (
        REGISTRATION_RESULT,
        PayloadField("customs_code", "string", "海关备案编码（10位）", required=False),
    ),
    checks=("customs_filed", "customs_pending_declarations"),
    results=(ResultKind("报关单位备案注销回执"),),
    reference_prefix="CFZ",
    submit_path="/api/v1/deregistration-notices",
    two_way=True,
    signature_algorithm="SM2",  # 国密 (GB/T 39786-2021): SM2 signatures with SM3
    notes_zh="双向接口：平台推送市场监管注销登记结果，海关回推备案注销结果。福州海关辖福州、莆田、三明、南平、宁德、平潭。",
)

SPEC_XM = replace(
    SPEC_FZ,
    code="customs-xm",
    name_zh="海关行政相对人管理系统3.0（厦门海关）",
    name_en="Customs administrative counterpart system 3.0 (Xiamen Customs)",
    owner_zh="厦门海关",
    reference_prefix="CXM",
    notes_zh="双向接口：平台推送市场监管注销登记结果，海关回推备案注销结果。厦门海关辖厦门、泉州、漳州、龙岩。",
)

SPECS = (SPEC_FZ, SPEC_XM)
