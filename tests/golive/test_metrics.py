"""Prometheus metrics: an app that has run a case reports it; a worker serves its own."""

from __future__ import annotations

import logging
import re

import httpx
import pytest

from backend.cases import states as st
from backend.cases.common import SEND_JOB
from backend.identity.actor import Actor
from backend.jobs.tables import Job
from tests.cases.live import serve_platform
from tests.cases.support import complete_draft
from tests.cases.test_flow_embedded import closed_view
from tests.servers import PlatformProcess, free_port, run_migrations, wait_for

pytestmark = pytest.mark.slow  # a live platform over HTTP (tests.cases.live)


def series(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample of the exposition ``text`` (labels matched as given), or None."""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = re.match(r"([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(3) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match.group(4))
    return None


class Calls(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_metrics_after_a_case(tmp_path):
    calls = Calls()
    call_log = logging.getLogger("backend.connectors.calls")
    call_log.addHandler(calls)
    try:
        async with serve_platform(tmp_path, metrics_cache_seconds=3600) as app:
            platform = app.state.platform
            call_log.setLevel(logging.INFO)  # the harness logs warnings only; production logs at INFO
            actor = Actor(id="P002")
            draft = await complete_draft(platform, actor)
            await platform.cases.submit(actor, draft.id, "metrics-1")
            view = await closed_view(platform, actor, draft.id)
            assert view.status == st.CASE_COMPLETED
            await Job.insert(Job(kind="golive.probe", status="dead", created_at=0))
            async with httpx.AsyncClient(base_url=platform.settings.base_url, timeout=20) as http:
                assert (await http.get("/healthz")).status_code == 200
                assert (await http.get("/no/such/page/123")).status_code == 404
                response = await http.get("/metrics")
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/plain")
                text = response.text
                await Job.insert(Job(kind="golive.probe", status="dead", created_at=0))
                cached = (await http.get("/metrics")).text
                schema = (await http.get("/schema/openapi.json")).json()
    finally:
        call_log.removeHandler(calls)
        call_log.setLevel(logging.NOTSET)

    # requests by route template and status, with latency
    assert series(text, "yjs_http_requests_total", method="GET", route="/healthz", status="200") >= 1
    assert series(text, "yjs_http_requests_total", method="GET", status="404") >= 1  # under the static mount's template
    assert not re.search(r'route="/no/such', text)  # raw paths never become labels
    assert series(text, "yjs_http_request_duration_seconds_count", method="GET", route="/healthz") >= 1
    assert series(text, "yjs_http_request_duration_seconds_bucket", method="GET", route="/healthz", le="+Inf") >= 1
    # items by state: this case's items all completed
    completed = sum(1 for i in view.items if i.status == st.COMPLETED)
    assert series(text, "yjs_case_items", state=st.COMPLETED) == completed > 0
    # job queue and dead jobs (read from the database, cached)
    assert "# TYPE yjs_job_queue_depth gauge" in text
    assert series(text, "yjs_jobs_dead", kind="golive.probe") == 1
    assert series(cached, "yjs_jobs_dead", kind="golive.probe") == 1, "a second scrape within the cache is not a query"
    assert series(text, "yjs_jobs_finished_total", kind=SEND_JOB, outcome="done") >= 1
    # agency calls and callback lag per system
    systems = {i.system for i in view.items}
    for system in systems:
        assert series(text, "yjs_agency_calls_total", system=system, operation="submit", outcome="ok") >= 1
        assert series(text, "yjs_agency_call_duration_seconds_count", system=system) >= 1
        assert series(text, "yjs_callback_lag_seconds_count", system=system) >= 1
    assert "# TYPE yjs_agency_call_errors_total counter" in text
    # one log line per outbound call, with system, item, duration and outcome
    submits = [r for r in calls.records if r.operation == "submit"]
    assert {r.item for r in submits} >= {i.ref for i in view.items}
    assert all(r.system in systems and r.outcome == "ok" and r.ms >= 0 for r in submits)
    # not part of the public API
    assert "/metrics" not in schema["paths"]


def test_a_worker_serves_its_own_metrics(tmp_path):
    url = "sqlite:///" + str(tmp_path / "platform.sqlite")
    run_migrations(database_url=url, data_dir=str(tmp_path))
    port = free_port()
    worker = PlatformProcess("worker", tmp_path, database_url=url, data_dir=str(tmp_path), metrics_port=str(port))
    worker.start(wait=False)
    try:

        def answers() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(answers, "worker metrics", 60)
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert "# TYPE yjs_jobs_finished_total counter" in text
        assert "# TYPE yjs_agency_calls_total counter" in text
        assert series(text, "process_resident_memory_bytes") > 0
        wait_for(lambda: "worker started" in worker.log(), "worker loop", 60)
        assert worker.stop() == 0, worker.log()  # the metrics thread does not hold the process up
    finally:
        worker.stop()


@pytest.mark.postgres
@pytest.mark.redis
def test_api_processes_report_the_sum_of_all_processes(pg_url, redis_url, tmp_path):
    """API_PROCESSES=2 shares prometheus-client's multiprocess files: any process answers for all."""
    settings = dict(database_url=pg_url, redis_url=redis_url, api_processes="2", data_dir=str(tmp_path))
    api = PlatformProcess("api", tmp_path, **settings)
    api.start()
    try:
        with httpx.Client(base_url=api.url, timeout=10) as http:
            for _ in range(40):
                # a new connection each time, so the kernel spreads them over both processes
                assert httpx.get(api.url + "/readyz", timeout=10).status_code == 200
            scrapes = [http.get("/metrics").text for _ in range(6)]
    finally:
        assert api.stop() == 0, api.log()
    for text in scrapes:
        assert series(text, "yjs_http_requests_total", method="GET", route="/readyz", status="200") == 40
    assert any((tmp_path / "metrics").glob("*.db"))
