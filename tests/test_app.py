"""The app in production mode (PostgreSQL + Redis): health, readiness, errors, limits."""

from __future__ import annotations

import msgspec
import pytest
from litestar import Litestar, post
from litestar.params import JSONBody
from litestar.testing import TestClient, create_test_client

from backend.lib.problems import EXCEPTION_HANDLERS, ProblemError
from backend.settings import load_settings

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


async def test_health_and_readiness_in_production_mode(client):
    health = await client.get("/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok", "mode": "production"}
    assert health.headers["x-request-id"]
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_readiness_reports_degraded_when_redis_is_unreachable(pg_url, tmp_path):
    """Redis down degrades the API but does not take it out of rotation (see ``backend.system.routes.ready``)."""
    from litestar.testing import AsyncTestClient

    from backend.app import create_app
    from tests.servers import free_port

    settings = load_settings(
        env={}, database_url=pg_url, redis_url=f"redis://127.0.0.1:{free_port()}/0", data_dir=str(tmp_path)
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert (
        body["status"] == "degraded"
        and body["checks"]["database"] == "ok"
        and body["checks"]["redis"].startswith("unavailable")
    )


async def test_unknown_route_is_a_problem_document_with_request_id(client):
    response = await client.get("/api/v1/no-such-thing", headers={"X-Request-ID": "trace-123"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "not_found" and problem["status"] == 404
    assert problem["request_id"] == "trace-123" == response.headers["x-request-id"]


async def test_request_id_header_is_not_trusted_blindly(client):
    response = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert response.headers["x-request-id"] != "bad id\twith spaces"
    assert len(response.headers["x-request-id"]) == 32


async def test_openapi_documents_every_route(client):
    document = (await client.get("/schema/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"
            assert operation.get("responses"), f"{method.upper()} {path} documents no response"
    import re

    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', (await client.get("/schema/openapi.json")).text))
    assert refs <= set(document["components"]["schemas"]), (
        f"unresolvable: {refs - set(document['components']['schemas'])}"
    )


class _Body(msgspec.Struct):
    uscc: str
    count: int = msgspec.field(default=0)


@post("/echo")
async def _echo(data: JSONBody[_Body]) -> _Body:
    if data.uscc == "BAD":
        raise ProblemError(422, "invalid_uscc", "统一社会信用代码校验位错误", field="uscc")
    if data.uscc == "CRASH":
        raise RuntimeError("database password is hunter2")
    return data


def test_validation_errors_name_each_field():
    with create_test_client([_echo], exception_handlers=EXCEPTION_HANDLERS) as client:
        response = client.post("/echo", json={"uscc": "X", "count": "many"})
    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert [e["field"] for e in problem["errors"]] == ["count"]


def test_domain_errors_keep_their_code_and_field():
    with create_test_client([_echo], exception_handlers=EXCEPTION_HANDLERS) as client:
        response = client.post("/echo", json={"uscc": "BAD"})
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "invalid_uscc"
    assert problem["errors"] == [{"field": "uscc", "code": "invalid_uscc", "message": "统一社会信用代码校验位错误"}]


def test_unexpected_errors_are_500_problems_without_internals():
    with create_test_client([_echo], exception_handlers=EXCEPTION_HANDLERS) as client:
        response = client.post("/echo", json={"uscc": "CRASH"})
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "hunter2" not in response.text


def test_oversized_bodies_are_refused_with_413():
    app = Litestar([_echo], exception_handlers=EXCEPTION_HANDLERS, request_max_body_size=1024)
    with TestClient(app) as client:
        response = client.post(
            "/echo", content=b'{"uscc": "' + b"x" * 4096 + b'"}', headers={"content-type": "application/json"}
        )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert response.json()["detail"].startswith("提交的内容过大")  # Litestar's own phrase was English only


def test_litestars_own_errors_speak_chinese_first():
    with create_test_client([_echo], exception_handlers=EXCEPTION_HANDLERS) as client:
        wrong_method = client.get("/echo")
        missing = client.get("/nowhere")
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == "method_not_allowed"
    assert wrong_method.json()["detail"].startswith("该地址不支持此操作。")
    assert missing.status_code == 404 and missing.json()["detail"].startswith("找不到")


def test_settings_switch_modes_from_the_environment():
    embedded = load_settings(env={})
    assert embedded.mode == "embedded" and embedded.run_worker_in_process and embedded.test_env_enabled
    production = load_settings(
        env={"DATABASE_URL": "postgres://u@db/app", "REDIS_URL": "redis://r:6379/0", "PORT": "9000"}
    )
    assert production.mode == "production" and not production.run_worker_in_process and not production.test_env_enabled
    assert production.port == 9000
    with pytest.raises(SystemExit):
        load_settings(env={"PORT": "eighty"})


@pytest.mark.parametrize("path", ["/", "/app.js", "/shared/ui.js", "/kiosk/", "/kiosk/kiosk.js", "/staff/"])
async def test_front_end_files_are_revalidated_and_answer_304_when_unchanged(client, path):
    """no-cache + ETag: a browser asks every time (a release shows at once) and gets 304 with no body
    while its copy is current, for the plain and the gzip-compressed answer alike."""
    first = await client.get(path, headers={"Accept-Encoding": "gzip"})
    assert first.status_code == 200 and first.content
    assert first.headers["cache-control"] == "no-cache"
    etag = first.headers["etag"]
    for tags in (etag, f"W/{etag}", f'"other", {etag}'):
        again = await client.get(path, headers={"If-None-Match": tags, "Accept-Encoding": "gzip"})
        assert again.status_code == 304 and again.content == b"", tags
        assert again.headers["etag"] == etag and again.headers["cache-control"] == "no-cache"
        assert "content-encoding" not in again.headers
    changed = await client.get(path, headers={"If-None-Match": '"stale"'})
    assert changed.status_code == 200 and changed.content
    head = await client.head(path)
    assert (
        head.status_code == 200
        and head.content == b""
        and head.headers["etag"] == etag
        and head.headers["cache-control"] == "no-cache"
    )


async def test_database_url_is_read_as_libpq_reads_it(postgres_server, pg_url):
    """``?host=<directory>`` reaches PostgreSQL through its Unix socket (a single-host deployment);
    the URL's other parameters are not dropped on the way (``sslmode``). Before, only the host,
    port, user, password and database were read, and such a URL went to 127.0.0.1 silently."""
    if postgres_server is None:
        pytest.skip("TEST_DATABASE_URL points at a server of its own")
    from backend import db

    url = f"postgresql://postgres@/postgres?host={postgres_server.dir}&port={postgres_server.port}&sslmode=disable"
    settings = load_settings(env={}, database_url=url)
    engine = db.make_engine(settings)
    await db.start(engine, settings)
    try:
        rows = await engine._run_in_pool(
            "SELECT inet_server_addr() AS addr, (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS ssl"
        )
        assert dict(rows[0]) == {"addr": None, "ssl": False}  # no TCP address: the Unix socket; and no TLS
    finally:
        await db.stop(engine)


async def test_a_process_started_while_postgres_is_down_waits_for_it(tmp_path):
    """A worker or API process started during a database restart waits (warning, backoff) and
    carries on once PostgreSQL answers; before, it exited, and a worker started a moment before
    a restart was gone for good (tests/faults/test_database_restart.py found it)."""
    import asyncio

    from backend import db
    from tests.servers import PostgresServer

    server = PostgresServer()  # initialised, not running yet
    try:
        settings = load_settings(env={}, database_url=server.url, data_dir=str(tmp_path))
        engine = db.make_engine(settings)
        starting = asyncio.create_task(db.start(engine, settings, retry_seconds=0.3))
        await asyncio.sleep(1.0)
        assert not starting.done(), "gave up (or connected to nothing) while PostgreSQL was down"
        await asyncio.to_thread(server.start)
        await asyncio.wait_for(starting, 15)
        await db.ping(engine)
        await db.stop(engine)
    finally:
        server.destroy()


@pytest.mark.parametrize("engine_type", ["postgres", "sqlite"])
@pytest.mark.parametrize(
    ("template", "values"),
    [
        ("SELECT {} + {}", (1, 2)),
        ("INSERT INTO t (a, b) VALUES ({}, {}) RETURNING '{{x}}'", ("a", None)),
        ("SELECT 1", ()),
        ("a {} b {} c", (1,)),  # fewer values than placeholders: Piccolo leaves the rest empty
    ],
)
def test_raw_statements_compile_as_piccolo_compiles_them(template, values, engine_type):
    """``backend.db.raw`` compiles each text once (``SQL``); what it sends must be what Piccolo would."""
    from piccolo.querystring import QueryString

    from backend.db import SQL

    assert SQL(template, *values).compile_string(engine_type) == QueryString(template, *values).compile_string(
        engine_type
    )
    nested = SQL(
        "SELECT * FROM ({}) x WHERE y = {}", QueryString("SELECT {} AS y", 1), 2
    )  # a query as a value: Piccolo's way
    assert nested.compile_string(engine_type) == QueryString(
        "SELECT * FROM ({}) x WHERE y = {}", QueryString("SELECT {} AS y", 1), 2
    ).compile_string(engine_type)
