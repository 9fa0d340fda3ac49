"""Finding 10 (low): a lower-case USCC in a path was logged in full.

The mask in ``backend.lib.logging`` matched upper-case identifiers only, so
``/api/v1/enterprises/91350128ma0428396p`` reached the log as it was typed, and query strings were
not logged at all (so a fix that logged them could leak there too). Here the real request
middleware and the real formatters log requests whose paths, query strings (plain and
percent-encoded) and messages carry lower-case identifiers; no line may hold one in full.
"""

from __future__ import annotations

import io
import json
import logging
import re

from backend.lib.logging import JsonFormatter, TextFormatter, mask, request_id_middleware

USCC = "91350128MA0428396P"
ID_NUMBER = "35010219900307123X"
# any 18 letters and digits in a row, whatever their case: a full identifier
FULL = re.compile(r"(?<![0-9a-z])[0-9a-z]{18}(?![0-9a-z])", re.IGNORECASE)


def _capture(formatter: logging.Formatter) -> tuple[io.StringIO, logging.Handler]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    return out, handler


async def _request(path: str, query: bytes) -> None:
    async def app(scope, receive, send):
        logging.getLogger("backend.test").info("looked up %s", scope["path"].rsplit("/", 1)[-1])
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        return None

    scope = {"type": "http", "method": "GET", "path": path, "query_string": query, "headers": []}
    await request_id_middleware(app)(scope, receive, send)


async def test_finding10_lower_case_identifiers_are_masked_in_paths_queries_and_messages():
    out, handler = _capture(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        await _request(f"/api/v1/enterprises/{USCC.lower()}", f"number={ID_NUMBER.lower()}&u={USCC}".encode())
        await _request(f"/api/v1/people/{ID_NUMBER.lower()}", b"q=%39%31%33%35" + USCC[4:].lower().encode())
        logging.getLogger("backend.test").warning("refused %s and %s", USCC.lower(), ID_NUMBER.title())
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    text = out.getvalue()
    lines = [line for line in text.splitlines() if line]
    assert len(lines) == 5, text
    assert not FULL.findall(text), text
    # the access lines name the query string (masked), so what was asked for can still be traced
    assert "number=3501************3x" in text, text
    assert "q=9135************6p" in text, text
    access = [json.loads(line) for line in lines if json.loads(line)["logger"] == "backend.access"]
    assert [a["path"] for a in access] == [
        "/api/v1/enterprises/9135************6p",
        "/api/v1/people/3501************3x",
    ]


def test_finding10_text_logs_mask_lower_case_identifiers_too():
    out, handler = _capture(TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("backend.test.text")
    logger.addHandler(handler)
    try:
        logger.warning("refused %s for %s", USCC.lower(), ID_NUMBER.lower())
    finally:
        logger.removeHandler(handler)
    assert "refused 9135************6p for 3501************3x" in out.getvalue()
    assert not FULL.findall(out.getvalue())


def test_finding10_mask_keeps_case_and_ignores_longer_runs():
    assert mask(f"u={USCC.lower()}") == "u=9135************6p"
    assert mask("x" * 19) == "x" * 19  # not an 18-character run: left alone
