"""Log lines are JSON, carry the request ID and never show a full USCC or ID number."""

import json
import logging

from backend.lib.logging import JsonFormatter, mask, request_id_var


def test_identifiers_are_masked():
    assert mask("uscc 91350100M000100Y43 id 350102199003071234") == "uscc 9135************43 id 3501************34"
    assert mask("case DR-2026-000123") == "case DR-2026-000123"


def test_mobile_numbers_are_masked_and_other_numbers_are_not():
    assert mask("sms to 13912345678 failed") == "sms to 139****5678 failed"
    assert mask('{"phone": "19900000001"}') == '{"phone": "199****0001"}'
    # epoch milliseconds (13 digits) and 10-digit numbers are left alone
    assert mask("at 1764720000000 id 1391234567") == "at 1764720000000 id 1391234567"


def test_json_line_has_request_id_and_extras():
    token = request_id_var.set("req-1")
    try:
        record = logging.makeLogRecord(
            {"name": "t", "levelname": "INFO", "msg": "saw %s", "args": ("91350100M000100Y43",), "path": "/x"}
        )
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["request_id"] == "req-1" and line["path"] == "/x"
    assert line["msg"] == "saw 9135************43"
