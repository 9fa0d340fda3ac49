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


def test_uvicorns_coloured_copy_of_the_message_is_left_out():
    record = logging.makeLogRecord(
        {
            "name": "uvicorn.error",
            "levelname": "INFO",
            "msg": "Finished server process [%d]",
            "args": (7,),
            "color_message": "Finished server process [\x1b[36m%d\x1b[0m]",
        }
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "Finished server process [7]" and "color_message" not in line


def test_no_app_of_ours_takes_over_the_log_handler():
    """Every process logs through configure_logging's one masked handler. Litestar configures the
    root logger with its own unmasked queue handler unless told not to, so building the test
    environment (simulators, registration platform, push systems) once replaced it: the sandbox
    process logged phone numbers in clear, and test runs wrote to closed streams."""
    from backend.connectors.conformance import _CallbackSink
    from backend.lib.logging import configure_logging
    from backend.sandbox.mount import create_sandbox_app

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("INFO", "json")
        ours = root.handlers[:]
        create_sandbox_app()  # every agency simulator, the push systems and the registration platform
        _CallbackSink("127.0.0.1", 0)  # the conformance kit's callback receiver
        assert root.handlers == ours
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
