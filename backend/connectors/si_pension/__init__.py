"""福建省养老保险全国统筹省级信息系统: 工伤保险及企业职工基本养老保险参保单位注销."""

from backend.connectors.spec import COMMON_PAYLOAD, REGISTRATION_RESULT, PayloadField, ResultKind, SystemSpec

SI_PAYLOAD = COMMON_PAYLOAD + (
    REGISTRATION_RESULT,
    PayloadField("insured_unit_no", "string", "社会保险单位编号", required=False),
)

SPEC = SystemSpec(
    code="si-pension",
    package="si_pension",
    name_zh="福建省养老保险全国统筹省级信息系统",
    name_en="Fujian pension insurance provincial system",
    owner_zh="福建省人力资源和社会保障厅",
    level="provincial",
    items=("SI-PENSION",),
    payload=SI_PAYLOAD,
    checks=("si_registered", "si_arrears"),
    results=(ResultKind("社会保险注销登记结果"),),
    reference_prefix="SIP",
    signature_algorithm="SM2",  # 国密 (GB/T 39786-2021): SM2 signatures with SM3
    notes_zh="依据注销登记结果办理；须先结清欠费、减员。",
)
