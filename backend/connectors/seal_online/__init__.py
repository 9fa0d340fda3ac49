"""福建省网上自助刻章平台: 企业印章注销 for seals made through the online platform."""

from backend.connectors.seal_security import SEAL_PAYLOAD
from backend.connectors.spec import ResultKind, SystemSpec

SPEC = SystemSpec(
    code="seal-online",
    package="seal_online",
    name_zh="福建省网上自助刻章平台",
    name_en="Fujian online self-service seal platform",
    owner_zh="福建省公安厅",
    level="provincial",
    items=("SEAL",),
    payload=SEAL_PAYLOAD,
    checks=("seals_on_file",),
    results=(ResultKind("电子印章注销回执"),),
    reference_prefix="SEALO",
    notes_zh="网上自助刻章平台刻制的印章（含电子印章）在此注销。",
)
