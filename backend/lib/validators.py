"""Validators for Chinese identifiers, plus generators of valid synthetic values for test data.

Each ``validate_*`` returns the normalised value or raises
``ProblemError(422, code, message, field=...)`` with a stable code:

- ``invalid_uscc``: 统一社会信用代码, GB 32100-2015 (charset, check character, and the
  embedded 组织机构代码 GB 11714 check at positions 9-17);
- ``invalid_id_number``: 居民身份证号码, GB 11643 (ISO 7064 MOD 11-2, birth date);
- ``invalid_phone``: mainland mobile numbers (11 digits starting 13-19);
- ``unknown_region`` / ``region_outside_fujian``: GB/T 2260 division codes, checked against
  the division data shipped with the catalog (``backend/catalog/data/divisions``).

``make_uscc`` and ``make_id_number`` build valid identifiers for synthetic fixtures.
"""

from __future__ import annotations

import re
from datetime import date

from backend.lib.problems import ProblemError

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_CHARSET)}
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
_ID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
_ID_CHECK = "10X98765432"
_USCC_RE = re.compile(rf"[{USCC_CHARSET}]{{18}}")  # fullmatch: "$" would let a final newline in
_PHONE_RE = re.compile(r"1[3-9][0-9]{9}")
_SEPARATORS = re.compile(r"[\s\-－—]")


def _org_char_value(c: str) -> int:
    # GB 11714: digits are their value, letters A..Z are 10..35.
    return int(c) if c.isdigit() else ord(c) - 55


def org_code_check(body8: str) -> str:
    """GB 11714 check character for an 8-character organisation code body."""
    total = sum(_org_char_value(c) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    c9 = 11 - total % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def uscc_check(first17: str) -> str:
    """GB 32100 check character over the first 17 characters."""
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def validate_uscc(value: str, field: str = "uscc") -> str:
    """Return the normalised (upper-case, trimmed) USCC or raise ``invalid_uscc``."""
    v = _SEPARATORS.sub("", str(value)).upper()

    def bad(why: str) -> ProblemError:
        return ProblemError(422, "invalid_uscc", f"统一社会信用代码{why}。 Invalid USCC: {value!r}.", field=field)

    if len(v) != 18:
        raise bad("应为18位")
    if not _USCC_RE.fullmatch(v):
        raise bad("含有不允许的字符（不使用 I、O、Z、S、V）")
    if not v[2:8].isdigit():
        raise bad("第3至8位应为行政区划码")
    if org_code_check(v[8:16]) != v[16]:
        raise bad("第9至17位（组织机构代码）校验码错误")
    if uscc_check(v[:17]) != v[17]:
        raise bad("校验位错误，请核对后重新输入")
    return v


def make_uscc(registration_dept: str, org_type: str, region6: str, org_body8: str) -> str:
    """Build a valid USCC from its parts, computing both check characters.

    ``registration_dept``: 登记管理部门码, e.g. ``"9"`` (工商/市场监管); ``org_type``: 机构类别码,
    e.g. ``"1"`` 企业, ``"2"`` 个体工商户, ``"3"`` 农民专业合作社; ``region6``: GB/T 2260 code such
    as ``"350102"``; ``org_body8``: 8 characters from the USCC charset (digits are safest).
    Example: ``make_uscc("9", "1", "350102", "MA2Y0001")``.
    """
    body = org_body8.upper()
    parts_ok = (
        len(registration_dept) == 1
        and len(org_type) == 1
        and len(region6) == 6
        and region6.isdigit()
        and len(body) == 8
        and all(c in _USCC_VALUE for c in registration_dept + org_type + body)
    )
    if not parts_ok:
        raise ValueError("make_uscc: expected 1+1+6 digits+8 characters from the USCC charset")
    first16 = registration_dept + org_type + region6 + body
    first17 = first16 + org_code_check(body)
    return first17 + uscc_check(first17)


def validate_id_number(value: str, field: str = "id_number", today: date | None = None) -> str:
    """Return the normalised 18-character resident ID number or raise ``invalid_id_number``."""
    v = _SEPARATORS.sub("", str(value)).upper()

    def bad(why: str) -> ProblemError:
        return ProblemError(422, "invalid_id_number", f"居民身份证号码{why}。 Invalid resident ID number.", field=field)

    if len(v) != 18 or not v[:17].isdigit() or not (v[17].isdigit() or v[17] == "X"):
        raise bad("应为18位，前17位为数字，最后一位为数字或X")
    if v[0] == "0":
        raise bad("前6位地址码无效")
    try:
        born = date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        raise bad("出生日期无效") from None
    if born.year < 1900 or born > (today or date.today()):
        raise bad("出生日期无效")
    if id_check(v[:17]) != v[17]:
        raise bad("校验码错误，请核对后重新输入")
    return v


def id_check(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character (GB 11643)."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def make_id_number(region6: str, birth_yyyymmdd: str, seq3: str) -> str:
    """Build a valid resident ID number: region, birth date, 3-digit sequence, check character.

    The sequence's last digit encodes sex (odd male, even female).
    Example: ``make_id_number("350102", "19800101", "123")``.
    """
    date(int(birth_yyyymmdd[:4]), int(birth_yyyymmdd[4:6]), int(birth_yyyymmdd[6:8]))
    first17 = f"{region6}{birth_yyyymmdd}{seq3}"
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("make_id_number: expected 6-digit region, YYYYMMDD and 3-digit sequence")
    return first17 + id_check(first17)


def validate_phone(value: str, field: str = "phone") -> str:
    """Return an 11-digit mainland mobile number (``+86``/``0086`` and separators removed)."""
    v = _SEPARATORS.sub("", str(value)).replace("(", "").replace(")", "")
    for prefix in ("+86", "0086"):
        if v.startswith(prefix):
            v = v[len(prefix) :]
    if not _PHONE_RE.fullmatch(v):
        raise ProblemError(
            422,
            "invalid_phone",
            "手机号码应为11位、以13至19开头的中国大陆手机号。 Enter an 11-digit mainland mobile number.",
            field=field,
        )
    return v
