r"""The merged form as JSON Schema 2020-12, and a small validator for the subset we emit.

The subset: ``type``, ``enum``, ``const``, ``pattern``, ``minLength``/``maxLength``,
``minimum``/``maximum``, ``format: date``, ``items``/``minItems``/``maxItems``,
``properties``/``required``/``additionalProperties``. Custom identifier checks are named by
``x-validator`` and run through ``backend.lib.validators`` (USCC, ID number, phone, division).

Patterns are matched as JSON Schema defines them (ECMA-262, by jsonschema-rs), not by Python's
``re.search``: there ``$`` also matches before a final newline and ``\d`` any Unicode digit, so
``"12345678\n"`` passed ``^[0-9]{8,32}$``. ``format: date`` is RFC 3339's ``YYYY-MM-DD`` only
(Python 3.11's ``date.fromisoformat`` also takes ``20260101`` and week dates).

``draft_errors`` applies the size limits (type, ``maxLength``, array lengths, sub-fields) to a
draft's form data when it is saved, so a draft never stores what submission would refuse for size.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Any

import jsonschema_rs

from backend.catalog.loader import validate_division
from backend.catalog.schemas import FormField, SubField
from backend.lib import validators
from backend.lib.problems import FieldError, ProblemError

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _constraints(f: FormField | SubField) -> dict[str, Any]:
    out: dict[str, Any] = {"title": f.title.zh, "x-title-en": f.title.en, "type": f.type}
    if f.format:
        out["format"] = f.format
    if f.pattern:
        out["pattern"] = f.pattern
    if f.min_length is not None:
        out["minLength"] = f.min_length
    if f.max_length is not None:
        out["maxLength"] = f.max_length
    if f.enum is not None:
        out["enum"] = list(f.enum)
        if f.enum_titles:
            out["x-enum-titles"] = list(f.enum_titles)
    return out


def field_schema(f: FormField, count: int | None = None) -> dict[str, Any]:
    """JSON Schema of one merged-form field; ``count`` fixes the length of array fields."""
    out = _constraints(f)
    if f.description:
        out["description"] = f.description.zh
        out["x-description-en"] = f.description.en
    if f.minimum is not None:
        out["minimum"] = f.minimum
    if f.maximum is not None:
        out["maximum"] = f.maximum
    if f.const is not None:
        out["const"] = f.const
    if f.validator:
        out["x-validator"] = f.validator
    example: Any = f.example
    if f.type == "array" and f.items:
        out["items"] = {
            "type": "object",
            "properties": {s.key: {**_constraints(s), "examples": [s.example]} for s in f.items},
            "required": [s.key for s in f.items],
            "additionalProperties": False,
        }
        if count is not None:
            out["minItems"] = out["maxItems"] = count
            example = _array_example(f, count)
    out["examples"] = [example]
    return out


def _array_example(f: FormField, count: int) -> list[Any]:
    # The basic account closes last, so the example lists general accounts first.
    base = f.example[0] if f.example else {}
    rows = []
    for i in range(count):
        row = dict(base)
        if "account_number" in row:
            row["account_number"] = str(row["account_number"])[:-2] + f"{i:02d}"
        if "account_type" in row and i < count - 1:
            row["account_type"] = "general"
        rows.append(row)
    return rows


_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def check(schema: dict[str, Any], value: Any, path: str = "") -> list[tuple[str, str]]:
    """Validate ``value`` against a schema of our subset; return ``(path, message)`` pairs."""
    errs: list[tuple[str, str]] = []
    t = schema.get("type")
    if t:
        ok = isinstance(value, _TYPES[t]) and not (t == "integer" and isinstance(value, bool))
        if not ok:
            return [(path, f"应为 {t} 类型")]
    if "const" in schema and value != schema["const"]:
        errs.append((path, f"应为 {schema['const']!r}"))
    if "enum" in schema and value not in schema["enum"]:
        errs.append((path, "不在可选值范围内"))
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            errs.append((path, f"至少 {schema['minLength']} 个字符"))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errs.append((path, f"最多 {schema['maxLength']} 个字符"))
        if "pattern" in schema and not pattern_matches(schema["pattern"], value):
            errs.append((path, "格式不正确"))
        if schema.get("format") == "date" and not is_date(value):
            errs.append((path, "应为 YYYY-MM-DD 日期"))
    if isinstance(value, int) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errs.append((path, f"不能小于 {schema['minimum']}"))
        if "maximum" in schema and value > schema["maximum"]:
            errs.append((path, f"不能大于 {schema['maximum']}"))
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            errs.append((path, f"至少 {schema['minItems']} 项"))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errs.append((path, f"最多 {schema['maxItems']} 项"))
        if "items" in schema:
            for i, v in enumerate(value):
                errs.extend(check(schema["items"], v, f"{path}[{i}]"))
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                errs.append((_join(path, key), "必填"))
        for key, v in value.items():
            if key in props:
                errs.extend(check(props[key], v, _join(path, key)))
            elif schema.get("additionalProperties") is False:
                errs.append((_join(path, key), "不允许的字段"))
    if not errs and isinstance(value, str) and schema.get("x-validator"):
        errs.extend(_custom(schema["x-validator"], value, path))
    return errs


@lru_cache(maxsize=256)
def _pattern_validator(pattern: str) -> Any:
    return jsonschema_rs.validator_for({"type": "string", "pattern": pattern})


def pattern_matches(pattern: str, value: str) -> bool:
    """Whether ``value`` matches ``pattern`` as JSON Schema's ``pattern`` keyword means it (ECMA-262)."""
    return _pattern_validator(pattern).is_valid(value)


_FULL_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def is_date(value: str) -> bool:
    """An RFC 3339 full-date (``YYYY-MM-DD``) that exists in the calendar."""
    if not _FULL_DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


_SIZE_KEYWORDS = ("type", "maxLength", "maxItems", "maximum")
DRAFT_MAX_TEXT = 500
"""The longest text a draft may hold in a field whose schema sets no maximum length."""
DRAFT_MAX_ITEMS = 100
"""Rows a draft's array field may hold before the plan fixes their number (bank accounts)."""


def size_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The part of a field's schema that bounds its size: what a draft must meet when it is saved.

    Patterns, enumerations, minimum lengths and required sub-fields wait for submission (a
    draft may be half-typed); types, maximum lengths and array lengths do not.
    """
    out = {k: schema[k] for k in _SIZE_KEYWORDS if k in schema}
    if schema.get("type") == "string" and "maxLength" not in out:
        # a field bounded by its pattern or options only is bounded here too
        options = [len(v) for v in schema.get("enum", []) if isinstance(v, str)]
        out["maxLength"] = max(options) if options else DRAFT_MAX_TEXT
    if schema.get("type") == "array":
        out["maxItems"] = min(schema.get("maxItems", DRAFT_MAX_ITEMS), DRAFT_MAX_ITEMS)
    if isinstance(schema.get("items"), dict):
        out["items"] = size_schema(schema["items"])
    if "properties" in schema:
        out["properties"] = {k: size_schema(v) for k, v in schema["properties"].items()}
        out["additionalProperties"] = False
    return out


@lru_cache(maxsize=8)
def catalog_field_schemas(version: str) -> dict[str, dict[str, Any]]:
    """Every form field of a catalog version, as JSON Schema (what a draft may hold, whatever its plan)."""
    from backend.catalog.loader import get_catalog

    return {key: field_schema(f) for key, f in get_catalog(version).fields.items()}


def draft_errors(fields: dict[str, dict[str, Any]], data: dict[str, Any]) -> list[FieldError]:
    """Size errors of a draft's form data (``fields``: each known field's JSON Schema); ``None`` clears a field."""
    errors: list[FieldError] = []
    for key, value in data.items():
        if key not in fields:
            errors.append(FieldError(field=f"form_data.{key}", code="unknown_field", message="不允许的字段"))
            continue
        if value is None:
            continue
        for path, message in check(size_schema(fields[key]), value, key):
            errors.append(FieldError(field=f"form_data.{path}", code="invalid_value", message=message))
    return errors


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _custom(name: str, value: str, path: str) -> list[tuple[str, str]]:

    fn = {
        "uscc": validators.validate_uscc,
        "id_number": validators.validate_id_number,
        "phone": validators.validate_phone,
        "division": validate_division,
    }[name]
    try:
        fn(value, field=path)
    except ProblemError as exc:
        return [(path, exc.detail or exc.code)]
    return []


def validate_submission(schema: dict[str, Any], data: dict[str, Any]) -> None:
    """Raise a 422 ``form_invalid`` problem listing every invalid field of a form submission."""
    errs = check(schema, data)
    if errs:
        raise ProblemError(
            422,
            "form_invalid",
            "申请表有字段需要修改。 Some fields of the form need correcting.",
            errors=[FieldError(field=p or "form", code="invalid_value", message=m) for p, m in errs],
        )


MAX_ANSWER_CHARS = 100
"""The longest text a situation answer may be (answers are yes/no, counts and option codes)."""


def validate_draft(version: str, *, form_data: dict[str, Any] | None, answers: dict[str, Any] | None) -> None:
    """Raise a 422 ``draft_invalid`` problem, one error per field, when what a draft saves breaks a size
    limit: an unknown field or answer, a value of the wrong type, a text or list longer than allowed."""
    from backend.catalog.loader import get_catalog

    errors = draft_errors(catalog_field_schemas(version), form_data or {})
    questions = get_catalog(version).questions
    for key, value in (answers or {}).items():
        field = f"answers.{key}"
        if key not in questions:
            errors.append(FieldError(field=field, code="unknown_answer", message="未知的办理情形"))
        elif not (value is None or isinstance(value, (bool, int, str))):
            errors.append(FieldError(field=field, code="invalid_answer", message="应为是否、数字或选项"))
        elif isinstance(value, str) and len(value) > MAX_ANSWER_CHARS:
            errors.append(FieldError(field=field, code="invalid_answer", message=f"最多 {MAX_ANSWER_CHARS} 个字符"))
    if errors:
        raise ProblemError(
            422,
            "draft_invalid",
            "有字段超出长度或格式限制，未保存。 Some fields are too long or of the wrong kind; nothing was saved.",
            errors=errors,
        )
