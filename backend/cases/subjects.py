"""What one case item closes, in words a person tells apart: "中国工商银行福州分行 基本存款账户 …0000"
for a bank account, "法定名称章、财务专用章 · 福建省印章业治安管理信息系统" for the seals of one system,
and the names (not the codes) of the item's office and system."""

from __future__ import annotations

from typing import Any

from backend.cases.schemas import Label

ACCOUNT_KINDS = {
    "basic": ("基本存款账户", "basic deposit account"),
    "general": ("一般存款账户", "general deposit account"),
    "special": ("专用存款账户", "special deposit account"),
    "temporary": ("临时存款账户", "temporary deposit account"),
}
SEAL_KINDS = {
    "法定名称章": "company name seal",
    "财务专用章": "finance seal",
    "发票专用章": "invoice seal",
    "合同专用章": "contract seal",
    "电子印章": "electronic seal",
}

# Bank and city names in English, for the English interface (the record names banks in Chinese).
BANKS_EN = {
    "中国工商银行": "ICBC",
    "中国农业银行": "Agricultural Bank of China",
    "中国银行": "Bank of China",
    "中国建设银行": "China Construction Bank",
    "交通银行": "Bank of Communications",
    "兴业银行": "Industrial Bank",
    "厦门银行": "Bank of Xiamen",
    "福建省农村信用社": "Fujian Rural Credit Union",
}
CITIES_EN = {
    "福州": "Fuzhou",
    "厦门": "Xiamen",
    "泉州": "Quanzhou",
    "漳州": "Zhangzhou",
    "莆田": "Putian",
    "三明": "Sanming",
    "南平": "Nanping",
    "龙岩": "Longyan",
    "宁德": "Ningde",
    "平潭": "Pingtan",
}


def bank_in_english(name: str) -> str:
    """ "中国工商银行福州分行" as "ICBC Fuzhou branch"; the Chinese name when the bank is not known."""
    for zh, en in sorted(BANKS_EN.items(), key=lambda kv: -len(kv[0])):
        if name.startswith(zh):
            rest = name[len(zh) :]
            city = next((v for k, v in CITIES_EN.items() if rest.startswith(k)), None)
            return f"{en} {city} branch" if city and rest.endswith("分行") else en if not rest else name
    return name


def masked(number: str) -> str:
    """An account number as people see it on a receipt: its last four digits only."""
    return f"…{number[-4:]}" if number else ""


def _name(record: Any) -> Label | None:
    name = getattr(record, "name", None)
    return Label(name.zh, name.en) if name is not None else None


def system_name(catalog: Any, code: str) -> Label | None:
    """The catalog's name of a business system (None for the platform's own stages)."""
    return _name(catalog.systems.get(code))


def office_name(catalog: Any, code: str) -> Label | None:
    """The catalog's name of a routed office (福州海关), None when the item has none."""
    return _name(catalog.offices.get(code)) if code else None


def subject(catalog: Any, code: str, system: str, closes: dict[str, Any] | None) -> Label | None:
    """The account or seals an item closes, told apart from its siblings of the same matter."""
    if not closes:
        return None
    if "account_no" in closes:
        kind_zh, kind_en = ACCOUNT_KINDS.get(closes.get("kind", ""), ("", ""))
        number = masked(str(closes["account_no"]))
        bank = closes.get("bank_name", "")
        # bank and number first: on a narrow screen the kind is what gets cut off
        zh = " ".join(x for x in (bank, number) if x) + (f"（{kind_zh}）" if kind_zh else "")
        en = " ".join(x for x in (bank_in_english(bank), number) if x) + (f" ({kind_en})" if kind_en else "")
        return Label(zh, en)
    seals = closes.get("seals") or []
    if seals:
        where = system_name(catalog, system)
        kinds = list(dict.fromkeys(s.get("kind", "") for s in seals if s.get("kind")))
        zh = "、".join(kinds)
        en = ", ".join(SEAL_KINDS.get(k, k) for k in kinds)
        return Label(f"{zh} · {where.zh}" if where else zh, f"{en} · {where.en}" if where else en)
    return None
