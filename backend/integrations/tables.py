from piccolo.columns import BigInt, Integer, Serial, Text, Varchar
from piccolo.table import Table


class Integration(Table, tablename="integration"):
    """One business system's integration record: the ministry request form (部委对接申请表) and its status."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    system = Varchar(length=40, unique=True)
    province = Varchar(length=20, default="福建省")
    filing_department = Varchar(length=100, default="")
    ministry = Varchar(length=100, default="")
    system_name = Varchar(length=200, default="")
    access_address = Varchar(length=300, default="")
    deployment_environment = Varchar(length=20, default="政务外网")
    data_storage = Varchar(length=20, default="集中存储")
    deployment_mode = Varchar(length=20, default="分级部署")
    docking_mode = Varchar(length=20, default="双向接口")
    scenario = Text(default="")
    item_names = Text(default="")
    result_needed = Varchar(length=2, default="是")
    result_name = Varchar(length=200, default="")
    result_data_items = Text(default="")
    result_type = Varchar(length=10, default="其他")
    level = Varchar(length=100, default="省级")
    """事项行使层级, a multi-select: the chosen levels joined by ； in the form's order."""
    served_party = Varchar(length=10, default="法人")
    annual_volume = Integer(default=0)
    remarks = Text(default="")
    status = Varchar(length=20, default="planned")
    updated_at = BigInt(default=0)


class Contact(Table, tablename="contact"):
    """One line of the contact list: a matter's system, units and the people to call."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    matter = Varchar(length=40)
    system = Varchar(length=40)
    responsible_unit = Varchar(length=200)
    business_contact = Varchar(length=60, default="")
    business_phone = Varchar(length=30, default="")
    technical_contact = Varchar(length=60, default="")
    technical_phone = Varchar(length=30, default="")
    lead_department = Varchar(length=200, default="")
    updated_at = BigInt(default=0)
