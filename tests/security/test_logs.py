"""No full resident ID number or USCC in any log line.

The platform runs exactly as ``make run`` starts it (API and worker in one process, JSON logs, at
DEBUG so that every logger speaks), and a whole application goes through it over HTTP: the draft,
uploads, signatures, face verification, submission, every agency's signed callbacks, and requests
that put identifiers where logs like to copy them (paths, query strings, refused input). Then every
line is read: each must be JSON, and no 18-character identifier that passes its check digit may
appear unmasked (``make run`` prints the migration runner's progress as plain text before it
starts logging; those lines are scanned too).
"""

from __future__ import annotations

import json
import re
import tempfile

import httpx
import pytest

from backend.lib.problems import ProblemError
from backend.lib.validators import validate_id_number, validate_uscc
from tests.security.support import FULL_IDENTIFIER, bearer, ready_draft, session_token, submit, wait_for_status
from tests.servers import PlatformProcess

pytestmark = pytest.mark.slow  # a live platform

USCC = "91350128MA0428396P"  # 平潭: every matter applies and completes
APPLICANT = "applicant-p010"  # its legal representative
CANDIDATE = re.compile(r"(?<![0-9A-Za-z])[0-9A-Z]{17}[0-9A-Z](?![0-9A-Za-z])")


def is_identifier(token: str) -> bool:
    """Whether an 18-character token is a real USCC or resident ID number (check digit and all)."""
    for validate in (validate_uscc, validate_id_number):
        try:
            validate(token)
            return True
        except ProblemError:
            continue
    return False


@pytest.fixture(scope="module")
def platform_process(artifacts_dir):
    server = PlatformProcess(
        "run",
        artifacts_dir,
        data_dir=tempfile.mkdtemp(prefix="security-logs."),
        log_format="json",
        log_level="DEBUG",
        sim_processing_seconds="0",
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_no_full_identifier_in_any_log_line(platform_process):
    async with httpx.AsyncClient(base_url=platform_process.url, timeout=30) as client:
        token = await session_token(client, APPLICANT)
        me = (await client.get("/api/v1/me", headers=bearer(token))).json()
        id_number = me["id_number"]
        case_id = await ready_draft(client, token, USCC)
        await submit(client, token, case_id, f"logs-{case_id}")
        view = await wait_for_status(client, token, case_id, {"completed"})
        assert all(i["status"] == "completed" for i in view["items"]) and len(view["items"]) >= 6
        # identifiers where logs copy them: paths, query strings, refused and unknown input
        await client.get(f"/api/v1/enterprises/{USCC}", headers=bearer(token))
        await client.get(f"/api/v1/enterprises/{USCC}/licence", headers=bearer(token))
        await client.get(f"/sandbox/enterprises/{USCC}")
        await client.get("/api/v1/cases", params={"number": id_number}, headers=bearer(token))
        await client.get(f"/no/such/page/{id_number}")
        await client.post("/api/v1/cases", json={"uscc": USCC[:-1] + "0"}, headers=bearer(token))  # wrong check digit
        await client.post(
            "/api/v1/mandates", json={"uscc": USCC, "agent_id_number": id_number, "items": []}, headers=bearer(token)
        )
        await client.post(
            "/api/v1/callbacks/amr",
            content=json.dumps({"item_ref": case_id, "uscc": USCC, "id_number": id_number}),
            headers={"Content-Type": "application/json"},
        )
        await client.get("/readyz")

    platform_process.stop()
    lines = [line for line in platform_process.log().splitlines() if line.strip()]
    # Every line is scanned, also the migration runner's plain progress printed before logging starts.
    started = next(n for n, line in enumerate(lines) if '"platform started"' in line)
    for line in lines[started:]:
        assert line.startswith("{") and json.loads(line), f"not a JSON log line: {line[:200]}"
    assert len(lines) - started > 100, "the platform logged what it did"
    leaks = [
        line[:300]
        for line in lines
        if FULL_IDENTIFIER.search(line) or any(is_identifier(t) for t in CANDIDATE.findall(line))
    ]
    assert not leaks, leaks[:5]
    text = "\n".join(lines)
    # the lines that carried them are there, masked (so the scan saw what it had to see)
    assert f"{USCC[:4]}{'*' * 12}{USCC[-2:]}" in text
    assert f"{id_number[:4]}{'*' * 12}{id_number[-2:]}" in text
