"""Wire shapes: the request form's fixed choices are enumerations, validated on input."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

Short = Annotated[str, Meta(max_length=200)]
Long = Annotated[str, Meta(max_length=4000)]
Phone = Annotated[str, Meta(max_length=30, pattern=r"^[0-9+\-() ]*(?!\n)$")]

DeploymentEnvironment = Literal["政务外网", "互联网", "其他"]
DataStorage = Literal["集中存储", "物理分散", "逻辑集中", "其他"]
DeploymentMode = Literal["部委统建", "分级部署", "其他"]
DockingMode = Literal["库表对接", "单向接口", "双向接口"]
ResultType = Literal["证照", "批文", "其他", "无"]
#: 事项行使层级: a multi-select, with the choices as the form's instructions (填表说明 16) spell them
Level = Literal["国家级", "省级", "市级", "县级", "镇（乡、街道）级", "村（社区）级", "分级管理"]
LEVELS: tuple[str, ...] = Level.__args__  # type: ignore[attr-defined]
LEVEL_SEPARATOR = "；"  # not "、": it occurs inside 镇（乡、街道）级
ServedParty = Literal["自然人", "法人"]
Status = Literal["planned", "requested", "testing", "joint_debugging", "live"]


class IntegrationFields(msgspec.Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    """The ministry request form (部委对接申请表); every field optional on update."""

    province: Short | None = None
    filing_department: Short | None = None
    ministry: Short | None = None
    system_name: Short | None = None
    access_address: Annotated[str, Meta(max_length=300)] | None = None
    deployment_environment: DeploymentEnvironment | None = None
    data_storage: DataStorage | None = None
    deployment_mode: DeploymentMode | None = None
    docking_mode: DockingMode | None = None
    scenario: Long | None = None
    item_names: Long | None = None
    result_needed: Literal["是", "否"] | None = None
    result_name: Short | None = None
    result_data_items: Long | None = None
    result_type: ResultType | None = None
    level: Annotated[list[Level], Meta(min_length=1, max_length=7)] | None = None
    served_party: ServedParty | None = None
    annual_volume: Annotated[int, Meta(ge=0, le=100_000_000)] | None = None
    remarks: Long | None = None
    status: Status | None = None


class IntegrationView(msgspec.Struct, kw_only=True):
    id: int
    system: str
    province: str
    filing_department: str
    ministry: str
    system_name: str
    access_address: str
    deployment_environment: str
    data_storage: str
    deployment_mode: str
    docking_mode: str
    scenario: str
    item_names: str
    result_needed: str
    result_name: str
    result_data_items: str
    result_type: str
    level: list[str]
    served_party: str
    annual_volume: int
    remarks: str
    status: str
    updated_at: int


class ContactFields(msgspec.Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    matter: Annotated[str, Meta(min_length=1, max_length=40)] | None = None
    system: Annotated[str, Meta(min_length=1, max_length=40)] | None = None
    responsible_unit: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    business_contact: Annotated[str, Meta(max_length=60)] | None = None
    business_phone: Phone | None = None
    technical_contact: Annotated[str, Meta(max_length=60)] | None = None
    technical_phone: Phone | None = None
    lead_department: Short | None = None


class ContactView(msgspec.Struct, kw_only=True):
    id: int
    matter: str
    system: str
    responsible_unit: str
    business_contact: str
    business_phone: str
    technical_contact: str
    technical_phone: str
    lead_department: str
    updated_at: int


#: Column headers of the exports (zh-CN, as on the paper forms).
INTEGRATION_HEADERS = {
    "system": "系统代码",
    "province": "省份",
    "filing_department": "填报部门",
    "ministry": "对口部委",
    "system_name": "垂管系统名称",
    "access_address": "访问地址",
    "deployment_environment": "部署环境",
    "data_storage": "数据存储方式",
    "deployment_mode": "部署方式",
    "docking_mode": "期望对接方式",
    "scenario": "应用场景",
    "item_names": "事项名称",
    "result_needed": "是否需要办理结果",
    "result_name": "结果名称",
    "result_data_items": "结果数据项",
    "result_type": "结果类型",
    "level": "事项层级",
    "served_party": "服务对象",
    "annual_volume": "年办件量",
    "remarks": "备注",
    "status": "对接状态",
}
CONTACT_HEADERS = {
    "matter": "事项",
    "system": "业务系统",
    "responsible_unit": "责任单位",
    "business_contact": "业务联系人",
    "business_phone": "业务联系电话",
    "technical_contact": "技术联系人",
    "technical_phone": "技术联系电话",
    "lead_department": "牵头部门",
}
