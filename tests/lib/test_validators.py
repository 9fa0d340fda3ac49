"""Identifier validators: USCC (GB 32100), resident ID (GB 11643), phones, divisions."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.catalog.loader import validate_division
from backend.lib.problems import ProblemError
from backend.lib.validators import (
    USCC_CHARSET,
    make_id_number,
    make_uscc,
    org_code_check,
    validate_id_number,
    validate_phone,
    validate_uscc,
)


def problem(fn, *args, **kw) -> ProblemError:
    with pytest.raises(ProblemError) as info:
        fn(*args, **kw)
    assert info.value.status == 422
    return info.value


# Published codes of well-known companies (public registry data) must validate.
@pytest.mark.parametrize("code", ["914403001922038216", "91440300708461136T", " 9144 0300 7084 6113 6t "])
def test_real_uscc_validates_and_normalises(code):
    assert validate_uscc(code) == code.replace(" ", "").upper()


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("91440300708461136", "too short"),
        ("9144030070846113600", "too long"),
        ("91440300708461136I", "I not in charset"),
        ("91440300708461136O", "O not in charset"),
        ("914403001922038217", "wrong final check"),
        ("9144030019220382X6", "wrong embedded org-code check"),
        ("91A40300708461136T", "region not digits"),
        ("", "empty"),
    ],
)
def test_invalid_uscc_is_422_with_code_and_field(code, why):
    exc = problem(validate_uscc, code, field="enterprise.uscc")
    assert exc.code == "invalid_uscc", why
    assert exc.errors and exc.errors[0].field == "enterprise.uscc"


def test_embedded_org_code_is_checked_even_if_final_check_is_recomputed():
    # Take a valid code, break the org-code check char and recompute the final one: still invalid.
    from backend.lib.validators import uscc_check

    good = make_uscc("9", "1", "350102", "MA2Y0001")
    broken17 = good[:16] + ("0" if good[16] != "0" else "1")
    exc = problem(validate_uscc, broken17 + uscc_check(broken17))
    assert "组织机构代码" in exc.detail


def test_org_code_check_known_values():
    assert org_code_check("19220382") == "1"
    assert org_code_check("70846113") == "6"


body8 = st.text(alphabet=USCC_CHARSET, min_size=8, max_size=8)


@given(
    dept=st.sampled_from("159Y"),
    kind=st.sampled_from("123"),
    region=st.sampled_from(["350102", "350203", "350982", "110105"]),
    body=body8,
)
def test_make_uscc_always_validates(dept, kind, region, body):
    code = make_uscc(dept, kind, region, body)
    assert len(code) == 18
    assert validate_uscc(code) == code


@given(body=body8, pos=st.integers(0, 17), data=st.data())
def test_single_character_change_is_detected(body, pos, data):
    code = make_uscc("9", "1", "350102", body)
    replacement = data.draw(st.sampled_from([c for c in USCC_CHARSET if c != code[pos]]))
    mutated = code[:pos] + replacement + code[pos + 1 :]
    with pytest.raises(ProblemError):
        validate_uscc(mutated)


def test_make_uscc_rejects_bad_parts():
    with pytest.raises(ValueError):
        make_uscc("9", "1", "3501", "MA2Y0001")
    with pytest.raises(ValueError):
        make_uscc("9", "1", "350102", "MA2Y000I")


@pytest.mark.parametrize("number", ["11010519491231002X", "11010519491231002x", "350102198001011233"])
def test_valid_id_numbers(number):
    assert validate_id_number(number) == number.upper()


@pytest.mark.parametrize(
    "number",
    [
        "110105194912310021",  # wrong check
        "11010519491331002X",  # month 13
        "11010518001231002X",  # before 1900 (check recomputed below is irrelevant: date fails first)
        "1101051949123100",  # too short
        "01010519491231002X",  # no province starts with 0
        "A10105194912310021",
    ],
)
def test_invalid_id_numbers(number):
    assert problem(validate_id_number, number, field="legal_rep_id_number").code == "invalid_id_number"


def test_future_birth_date_is_rejected():
    future = make_id_number("350102", "20300101", "001")
    assert problem(validate_id_number, future, today=date(2026, 1, 1)).code == "invalid_id_number"


@given(
    region=st.sampled_from(["350102", "350203", "110105"]),
    born=st.dates(min_value=date(1920, 1, 1), max_value=date(2008, 12, 31)),
    seq=st.integers(0, 999),
)
def test_make_id_number_always_validates(region, born, seq):
    number = make_id_number(region, born.strftime("%Y%m%d"), f"{seq:03d}")
    assert validate_id_number(number) == number


def test_make_id_number_rejects_bad_date():
    with pytest.raises(ValueError):
        make_id_number("350102", "19800230", "001")


@pytest.mark.parametrize(
    ("raw", "normal"),
    [("13800138000", "13800138000"), ("+86 138-0013-8000", "13800138000"), ("0086 19912345678", "19912345678")],
)
def test_valid_phones(raw, normal):
    assert validate_phone(raw) == normal


@pytest.mark.parametrize("raw", ["12800138000", "1380013800", "138001380001", "0591-87654321", "abc"])
def test_invalid_phones(raw):
    assert problem(validate_phone, raw).code == "invalid_phone"


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("350102", "350102"),
        ("350128", "350128"),
        ("350000", "350000"),
        ("350100", "350100"),
        ("350402", "350404"),
        ("350784", "350703"),
        ("350822", "350803"),
    ],  # 建阳市 → 建阳区, 永定县 → 永定区 (2014)
)
def test_fujian_divisions(raw, normal):
    assert validate_division(raw) == normal


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("110105", "region_outside_fujian"),
        ("440300", "region_outside_fujian"),
        ("350199", "unknown_region"),
        ("35010", "unknown_region"),
        ("abc", "unknown_region"),
        ("359900", "unknown_region"),
    ],
)
def test_bad_divisions(raw, code):
    exc = problem(validate_division, raw, field="region")
    assert exc.code == code
    assert exc.errors[0].field == "region"
