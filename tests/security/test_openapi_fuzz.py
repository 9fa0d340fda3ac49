"""schemathesis over the platform's own OpenAPI document: no server error, whoever asks.

Every operation of ``/schema/openapi.json`` gets schema-valid and schema-violating requests
(schemathesis' positive and negative generation), anonymously, as an applicant and as an
administrator, against the platform exactly as ``make run`` starts it. Checks: schemathesis'
``not_a_server_error``, and every 4xx is an RFC 9457 problem with a stable ``code``. A fixed
seed and a bounded number of examples keep the run deterministic and short; raise
``FUZZ_EXAMPLES`` for a deeper run.

A platform of its own: the fuzzed administrator may switch connectors, publish catalogs and the like.
"""

from __future__ import annotations

import os
import tempfile

import httpx
import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, strategies
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup

from tests.servers import PlatformProcess

pytestmark = pytest.mark.slow  # a live platform

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
SEED = 20261126
IDENTITIES = {"anonymous": None, "applicant": "applicant-p002", "admin": "admin-platform"}
SKIP = {("GET", "/api/v1/cases/{case_id}/events")}  # an endless event stream; its access is in the matrix


@pytest.fixture(scope="module")
def fuzz_target(artifacts_dir):
    server = PlatformProcess(
        "run",
        artifacts_dir,
        data_dir=tempfile.mkdtemp(prefix="security-fuzz."),
        log_format="json",
        log_level="WARNING",
        sim_processing_seconds="0",
    )
    server.start()
    try:
        tokens = {}
        for name, persona in IDENTITIES.items():
            if persona:
                response = httpx.post(server.url + "/sandbox/token", json={"persona": persona})
                assert response.status_code == 200, response.text
                tokens[name] = response.json()["access_token"]
        yield server, tokens
    finally:
        server.stop()


def test_no_server_error_anywhere_in_the_openapi_document(fuzz_target):
    server, tokens = fuzz_target
    schema = schemathesis.openapi.from_url(server.url + "/schema/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 80, "the whole API is in the document"
    session = requests.Session()
    server_errors: list[str] = []
    not_problems: list[str] = []
    calls = 0

    def fuzz(cases, identity: str) -> None:
        """Run the bounded, seeded examples of one operation as one identity, recording what breaks."""
        nonlocal calls
        headers = {"Authorization": f"Bearer {tokens[identity]}"} if identity in tokens else {}

        @hypothesis.settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[hypothesis.Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis.seed(SEED)
        @hypothesis.given(case=cases)
        def exercise(case) -> None:
            nonlocal calls
            calls += 1
            response = case.call(base_url=server.url, session=session, headers=headers, timeout=15)
            reproduce = (
                f"{identity}: {response.status_code} {case.as_curl_command(headers=headers, base_url=server.url)}"
            )
            try:
                case.validate_response(response, checks=[not_a_server_error], headers=headers)
            except (AssertionError, FailureGroup):
                server_errors.append(reproduce)
                return
            if 400 <= response.status_code < 500:
                kind = (response.headers.get("content-type") or [""])[0]  # schemathesis keeps every value of a header
                problem = response.json() if "json" in kind else {}
                if not kind.startswith("application/problem+json") or not problem.get("code"):
                    not_problems.append(f"{kind} {reproduce}")

        exercise()

    for operation in operations:
        if (operation.method.upper(), operation.path) in SKIP:
            continue
        cases = strategies.one_of(
            operation.as_strategy(schemathesis.GenerationMode.POSITIVE),
            operation.as_strategy(schemathesis.GenerationMode.NEGATIVE),
        )
        for identity in IDENTITIES:
            fuzz(cases, identity)

    assert calls > len(operations) * len(IDENTITIES), calls
    assert not server_errors, "\n".join(server_errors[:20])
    assert not not_problems, "\n".join(not_problems[:20])
    assert '"level": "error"' not in server.log(), "the platform logged an error while being fuzzed"
