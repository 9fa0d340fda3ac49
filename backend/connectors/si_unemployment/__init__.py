"""福建省失业保险明细数据管理系统: 失业保险参保单位注销."""

from backend.connectors.si_pension import SI_PAYLOAD
from backend.connectors.spec import ResultKind, SystemSpec

SPEC = SystemSpec(
    code="si-unemployment",
    package="si_unemployment",
    name_zh="福建省失业保险明细数据管理系统",
    name_en="Fujian unemployment insurance system",
    owner_zh="福建省人力资源和社会保障厅",
    level="provincial",
    items=("SI-UNEMPLOYMENT",),
    payload=SI_PAYLOAD,
    checks=("si_registered", "si_arrears"),
    results=(ResultKind("失业保险注销结果"),),
    reference_prefix="SIU",
    signature_algorithm="SM2",  # 国密 (GB/T 39786-2021): SM2 signatures with SM3
    notes_zh="依据注销登记结果办理；须先结清欠费。",
)
