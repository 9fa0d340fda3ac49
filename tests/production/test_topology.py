"""The production topology as processes on loopback, as an operator runs it (README, "Production"):

    nginx (infra/nginx.conf, TLS)  ->  2 x `python -m backend api`  ->  PostgreSQL, Redis
                                       2 x `python -m backend worker`
    `python -m backend migrate` first; the test environment (`python -m backend.sandbox`) plays
    every outside system: agencies, registration lookup, OIDC provider, face, signature, seal,
    the provincial 好差评 system and the SMS platform (which keep what they receive).

The platform's settings come only from an env file made from infra/systemd/platform.env.example
plus the key files; its own test environment is OFF. Everything is reached through https on
nginx. The bring-up time and every process's resident memory are printed (-s shows them).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import ssl
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest
from playwright.async_api import async_playwright

from tests.cases.support import BASE_ANSWERS, HAPPY_USCC, TINY_PDF, form_from_examples, materials_to_upload
from tests.production.conftest import CHROMIUM, CHROMIUM_ARGS, assert_security_headers, csp_violations
from tests.servers import (
    ROOT,
    NginxServer,
    free_port,
    fresh_database,
    make_certificate,
    sandbox_command,
    spawn,
    wait_for,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

CLIENT_SECRET = "topology-oidc-secret-5f1c"  # the platform's secret at the (test) identity provider
AUTH_LIMIT = 60  # backend.identity.routes.AUTH_RATE_LIMIT


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def process_tree(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [pid, *(p for c in children for p in process_tree(int(c)))]


def env_file_from_example(values: dict[str, str]) -> str:
    """infra/systemd/platform.env.example with this deployment's values: every line the example
    sets is kept (with ours where we have one), then ours that the example only describes."""
    lines, seen = [], set()
    for line in (ROOT / "infra" / "systemd" / "platform.env.example").read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=", line)
        if match and match.group(1) in values:
            lines.append(f"{match.group(1)}={values[match.group(1)]}")
            seen.add(match.group(1))
        else:
            lines.append(line)
    lines += [f"{k}={v}" for k, v in values.items() if k not in seen]
    return "\n".join(lines) + "\n"


def read_env_file(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            out[key] = value
    return out


class Role:
    """``python -m backend <role>`` with the env file as its only settings (as systemd's EnvironmentFile)."""

    def __init__(self, command: str, env_file: Path, log_dir: Path, **overrides: str) -> None:
        self.command = command
        self.env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "PYTHONPATH": str(ROOT)}
        self.env.update(read_env_file(env_file))
        self.env.update(overrides)
        self.log_path = log_dir / f"topology-{command}-{overrides.get('PORT', os.getpid())}-{time.monotonic_ns()}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = spawn([sys.executable, "-m", "backend", self.command], self.log_path, env=self.env)

    def run(self) -> None:
        self.start()
        assert self.proc.wait(300) == 0, self.log_path.read_text()[-3000:]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


#: systems whose specs say ES256 that this deployment runs on SM2 with SM3 (both sides): a mixed deployment
SM2_BY_CHOICE = "registration=SM2,haochaping=SM2"


@pytest.fixture(scope="module")
def topology(pg_url, redis_url, tmp_path_factory, artifacts_dir):
    from backend.integration import PLATFORM_CLIENT_ID, platform_jwks
    from backend.settings import load_settings

    started = time.monotonic()
    work = tmp_path_factory.mktemp("topology")
    secrets = work / "secrets"
    secrets.mkdir()
    cert, key = make_certificate(work, "localhost", "127.0.0.1")
    https, http, sandbox_port = free_port(), free_port(), free_port()
    public_url = f"https://localhost:{https}"
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"

    # The key files and secrets an operator creates once and gives every replica (README, "Production").
    signing_key = secrets / "signing.json"
    identity_keys = secrets / "identity.json"
    for target, path in (("signing", signing_key), ("identity", identity_keys)):
        subprocess.run(
            [sys.executable, "-m", "backend", "keys", target, "create", "--file", str(path)],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
    client_secret = secrets / "oidc_client_secret"
    client_secret.write_text(CLIENT_SECRET)
    jwks = work / "platform.jwks.json"
    jwks.write_text(json.dumps(platform_jwks(load_settings(env={}, signing_key_file=str(signing_key)))))

    database_url = asyncio.run(fresh_database(pg_url, "topology"))
    env_file = work / "platform.env"
    env_file.write_text(
        env_file_from_example(
            {
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_url.rsplit("/", 1)[0] + "/3",  # a database of its own: its rate limits
                "HOST": "127.0.0.1",
                "API_PROCESSES": "1",
                "PUBLIC_URL": public_url,
                "TEST_ENV": "false",
                "TRUSTED_PROXIES": "127.0.0.1/32",  # nginx, on this host
                "REGISTRATION_LOOKUP_URL": sandbox_url + "/sim/registration",
                "CONNECTOR_BASE_URL": sandbox_url + "/sim",
                "RATINGS_SYSTEM_URL": sandbox_url + "/sim/haochaping",
                "SMS_GATEWAY_URL": sandbox_url + "/sim/sms",
                # 国密 where the province chose it: customs and social insurance by their specs, these two by choice
                "SIGNATURE_ALGORITHMS": SM2_BY_CHOICE,
                "SIGNING_KEY_FILE": str(signing_key),
                "IDENTITY_KEYS_FILE": str(identity_keys),
                "DATA_DIR": str(work / "var"),
                "OIDC_ISSUER": sandbox_url + "/sandbox/oidc",
                "OIDC_CLIENT_ID": "yjs-platform",
                "OIDC_CLIENT_SECRET_FILE": str(client_secret),
                "FACE_PROVIDER_URL": sandbox_url + "/sandbox/face",
                "FACE_PROVIDER_JWKS_URL": sandbox_url + "/sandbox/face/jwks",
                "SIGN_PROVIDER_URL": sandbox_url + "/sandbox/sign",
                "SIGN_PROVIDER_JWKS_URL": sandbox_url + "/sandbox/sign/jwks",
                "SEAL_PROVIDER_URL": sandbox_url + "/sandbox/seal",
                "SEAL_PROVIDER_JWKS_URL": sandbox_url + "/sandbox/seal/jwks",
                "LICENCE_PROVIDER_URL": sandbox_url + "/sandbox/licence",
                "LICENCE_PROVIDER_JWKS_URL": sandbox_url + "/sandbox/licence/jwks",
                "POLL_SECONDS": "5",
                "WORKER_IDLE_SECONDS": "2",
                "LOG_FORMAT": "json",
            }
        )
    )

    # The test environment: agencies, registration lookup, and the identity side for this platform.
    sandbox_env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "PYTHONPATH": str(ROOT),
        "SSL_CERT_FILE": str(cert),  # agencies call back through nginx, over TLS
        "OIDC_CLIENT_ID": "yjs-platform",
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_REDIRECT_URI": public_url + "/auth/callback",
        "SANDBOX_RELYING_PARTY_URL": public_url,
    }
    sandbox_log = artifacts_dir / f"topology-sandbox-{sandbox_port}.log"
    sandbox = spawn(
        sandbox_command(
            sandbox_port,
            f"{PLATFORM_CLIENT_ID}={jwks}",
            "--identity-provider",
            str(work / "sandbox"),
            "--public-url",
            sandbox_url,
            "--signature-algorithms",
            SM2_BY_CHOICE,
        ),
        sandbox_log,
        env=sandbox_env,
    )

    Role("migrate", env_file, artifacts_dir).run()
    apis = [Role("api", env_file, artifacts_dir, PORT=str(free_port())) for _ in range(2)]
    workers = [Role("worker", env_file, artifacts_dir) for _ in range(2)]
    for process in [*apis, *workers]:
        process.start()
    nginx = NginxServer(
        {
            "YJS_SERVER_NAME": "localhost",
            "YJS_PUBLIC_URL": public_url,
            "YJS_HTTP_LISTEN": f"127.0.0.1:{http}",
            "YJS_HTTPS_LISTEN": f"127.0.0.1:{https}",
            "YJS_TLS_CERT": str(cert),
            "YJS_TLS_KEY": str(key),
            "YJS_API_SERVERS": " ".join(f"server 127.0.0.1:{api.env['PORT']};" for api in apis),
            "YJS_INTERNAL_CIDR": "10.0.0.0/8",
        }
    )
    nginx.start(https)
    tls = ssl.create_default_context(cafile=str(cert))
    try:
        for api in apis:
            wait_for(lambda a=api: httpx.get(f"http://127.0.0.1:{a.env['PORT']}/healthz").is_success, "api", 120)
        wait_for(lambda: httpx.get(public_url + "/readyz", verify=tls).is_success, "nginx -> api", 60)
        wait_for(lambda: httpx.get(sandbox_url + "/sandbox/oidc/jwks").is_success, "test environment", 120)
        wait_for(lambda: all(w.log_path.read_text().count("worker started") for w in workers), "workers", 120)
        up = time.monotonic() - started
        memory = {
            "nginx": sum(rss_mib(p) for p in nginx.pids()),
            **{f"api #{n + 1}": sum(rss_mib(p) for p in process_tree(a.proc.pid)) for n, a in enumerate(apis)},
            **{f"worker #{n + 1}": rss_mib(w.proc.pid) for n, w in enumerate(workers)},
            "test environment": sum(rss_mib(p) for p in process_tree(sandbox.pid)),
        }
        print(f"\ntopology up in {up:.1f} s (migrate, 2 API, 2 workers, nginx, test environment)")
        for name, mib in memory.items():
            print(f"  RSS {name}: {mib:.0f} MiB")
        yield {
            "url": public_url,
            "http": f"http://127.0.0.1:{http}",
            "sandbox": sandbox_url,
            "tls": tls,
            "apis": [f"http://127.0.0.1:{a.env['PORT']}" for a in apis],
            "env_file": env_file,
            "up_seconds": up,
            "memory": memory,
        }
    finally:
        nginx.destroy()
        for process in [*workers, *apis]:
            process.stop()
        sandbox.terminate()
        sandbox.wait(20)


def client(topology, source: str = "127.0.0.1") -> httpx.Client:
    return httpx.Client(
        base_url=topology["url"],
        verify=topology["tls"],
        timeout=60,
        transport=httpx.HTTPTransport(verify=topology["tls"], local_address=source),
    )


def test_the_platform_runs_on_the_env_file_alone_with_its_test_environment_off(topology):
    settings = read_env_file(topology["env_file"])
    assert settings["TEST_ENV"] == "false" and settings["PUBLIC_URL"] == topology["url"]
    with client(topology) as web:
        assert web.get("/healthz").json()["mode"] == "production"
    for api in topology["apis"]:  # straight to an API process: its own test environment is off too
        assert httpx.get(api + "/sandbox/identity/personas").status_code == 404


def test_pages_docs_and_openapi_are_served_with_the_security_headers(topology):
    with client(topology) as web:
        for path in ("/", "/kiosk/", "/staff/", "/schema", "/schema/openapi.json", "/shared/i18n.js"):
            response = web.get(path)
            assert response.status_code == 200, (path, response.status_code)
            assert_security_headers(response)
        assert web.get("/schema/openapi.json").json()["info"]["title"].endswith("API")
        for path in ("/sandbox/identity/personas", "/sim/etax/admin/stats", "/sandbox/oidc/jwks"):
            response = web.get(path)
            assert response.status_code == 404, path
            assert_security_headers(response)
    assert httpx.get(topology["http"] + "/").headers["location"] == topology["url"] + "/"


async def test_schema_and_front_ends_render_under_the_csp(topology):
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(ignore_https_errors=True)
            page = await context.new_page()
            violations = await csp_violations(page, topology["url"] + "/schema")
            await page.wait_for_selector("#swagger-container .swagger-ui .info .title", timeout=120_000)
            assert violations == []
            for path in ("/", "/kiosk/", "/staff/"):
                assert await csp_violations(await context.new_page(), topology["url"] + path) == [], path
        finally:
            await browser.close()


def test_clients_behind_nginx_have_their_own_buckets_and_a_forged_address_is_ignored(topology):
    def refresh_statuses(web: httpx.Client, count: int, forged: bool = False) -> list[int]:
        headers = lambda n: {"X-Forwarded-For": f"198.51.100.{n % 250 + 1}"} if forged else {}  # noqa: E731
        return [web.post("/auth/refresh", headers=headers(n)).status_code for n in range(count)]

    with client(topology, "127.0.0.4") as first, client(topology, "127.0.0.5") as second:
        assert refresh_statuses(first, AUTH_LIMIT + 3)[-1] == 429
        assert 429 not in refresh_statuses(second, 5)  # another citizen is not held back by the first
    direct = httpx.Client(
        base_url=topology["apis"][0], timeout=60, transport=httpx.HTTPTransport(local_address="127.0.0.6")
    )
    with direct:  # straight to an API process, claiming a new address every time: one bucket all the same
        assert refresh_statuses(direct, AUTH_LIMIT + 3, forged=True)[-1] == 429


def login(topology, web: httpx.Client, persona: str) -> list[str]:
    """Log in through the OIDC provider (the test environment's persona picker); the Set-Cookie lines."""
    start = web.get("/auth/login", params={"return_to": "/#/cases"})
    assert start.status_code == 302, start.text
    authorize = start.headers["location"]
    assert authorize.startswith(topology["sandbox"] + "/sandbox/oidc/authorize")
    params = dict(parse_qsl(urlsplit(authorize).query))
    assert params["redirect_uri"] == topology["url"] + "/auth/callback"  # PUBLIC_URL, not an API process
    picked = httpx.post(
        topology["sandbox"] + "/sandbox/oidc/authorize", data={**params, "persona": persona}, follow_redirects=False
    )
    assert picked.status_code == 303, picked.text
    back = web.get(picked.headers["location"])
    assert back.status_code == 302, back.text
    return [*start.headers.get_list("set-cookie"), *back.headers.get_list("set-cookie")]


def received(topology, system: str) -> list[dict]:
    """What a push system of the test environment kept (好差评, SMS), read over its HTTP controls."""
    answer = httpx.get(f"{topology['sandbox']}/sandbox/simulators/{system}/messages")
    assert answer.status_code == 200, answer.text
    return [m["message"] for m in answer.json()]


def wait_for_message(topology, system: str, predicate, what: str, seconds: float = 60) -> dict:
    """The first message ``system`` received that satisfies ``predicate`` (workers deliver them from outboxes)."""
    deadline = time.monotonic() + seconds
    while True:
        found = next((m for m in received(topology, system) if predicate(m)), None)
        if found is not None:
            return found
        assert time.monotonic() < deadline, f"{what} never reached the {system} simulator: {received(topology, system)}"
        time.sleep(0.5)


def test_a_citizen_applies_end_to_end_through_every_outside_system(topology):
    registry = topology["sandbox"] + "/sim/registration/admin/stats"
    stats = httpx.get(registry).json()
    lookups_before, refused_before = stats["lookups"], stats["refused"]
    for system in ("registration", "haochaping"):  # these two on SM2 by the deployment's choice, both sides
        keys = httpx.get(f"{topology['sandbox']}/sim/{system}/.well-known/jwks.json").json()["keys"]
        assert keys and {k["crv"] for k in keys} == {"SM2"}, (system, keys)
    texts_before = len(received(topology, "sms"))
    with client(topology) as web:
        cookies = login(topology, web, "applicant-p002")
        assert cookies and all("Secure" in c for c in cookies), cookies  # https PUBLIC_URL: Secure cookies
        csrf = {"X-CSRF-Token": web.cookies["yjs_csrf"]}
        me = web.get("/api/v1/me").json()
        assert me["name"] == "林晓燕"

        created = web.post("/api/v1/cases", json={"uscc": HAPPY_USCC}, headers=csrf)
        assert created.status_code == 201, created.text
        case = created.json()
        assert case["form_data"]["legal_rep_name"] == "林晓燕"  # from the registration record ...
        stats = httpx.get(registry).json()
        assert stats["lookups"] > lookups_before  # ... looked up over HTTP, signed in SM2 with SM3
        assert stats["signature_algorithm"] == "SM2" and stats["refused"] == refused_before
        view = web.patch(f"/api/v1/cases/{case['id']}", json={"answers": BASE_ANSWERS}, headers=csrf).json()
        form = form_from_examples(view["plan"], view["form_data"])
        assert web.patch(f"/api/v1/cases/{case['id']}", json={"form_data": form}, headers=csrf).is_success
        for code in materials_to_upload(view["plan"]):
            upload = web.post(
                f"/api/v1/cases/{case['id']}/materials",
                files={"file": (f"{code}.pdf", TINY_PDF, "application/pdf")},
                data={"code": code},
                headers=csrf,
            )
            assert upload.status_code == 201, upload.text

        signing = web.post(f"/api/v1/cases/{case['id']}/signatures", headers=csrf)
        assert signing.status_code == 201, signing.text
        for link in signing.json()["requests"]:  # each signer opens the link on their phone and signs
            q = {k: v[0] for k, v in parse_qs(urlsplit(link["sign_url"]).query).items()}
            assert q["callback"] == topology["url"] + "/api/v1/signatures/callback"
            signed = httpx.post(
                topology["sandbox"] + "/sandbox/sign/session",
                data={**{k: q[k] for k in ("request_id", "signer", "nonce", "sha256")}, "decision": "signed"},
                headers={"Accept": "application/json"},
            )
            assert signed.status_code == 200, signed.text
        assert web.get(f"/api/v1/cases/{case['id']}/signatures").json()["complete"] is True

        face = web.post("/api/v1/face-verifications", json={"purpose": "submit", "reference": case["id"]}, headers=csrf)
        assert face.status_code == 201, face.text
        started = face.json()
        q = {k: v[0] for k, v in parse_qs(urlsplit(started["provider_url"]).query).items()}
        assert q["callback"] == topology["url"] + "/api/v1/face-verifications/callback"
        passed = httpx.post(
            topology["sandbox"] + "/sandbox/face/session",
            data={"verification_id": started["verification_id"], "nonce": q["nonce"], "decision": "passed"},
            headers={"Accept": "application/json"},
        )
        assert passed.status_code == 200 and passed.json()["outcome"] == "通过", passed.text

        submitted = web.post(f"/api/v1/cases/{case['id']}/submit", headers={**csrf, "Idempotency-Key": "topology-1"})
        assert submitted.status_code == 200, submitted.text
        assert_security_headers(submitted)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            final = web.get(f"/api/v1/cases/{case['id']}").json()
            if final["status"] == "completed":
                break
            time.sleep(1)
        assert final["status"] == "completed", [(i["code"], i["status"]) for i in final["items"]]
        assert all(i["status"] == "completed" for i in final["items"])

        # The closing was texted to the applicant through the SMS platform (a worker, from the outbox) ...
        text = wait_for_message(
            topology, "sms", lambda m: m["template"] == "case_closed", "the case_closed text", seconds=120
        )
        assert text["phone"].count("*") >= 4 and len(received(topology, "sms")) > texts_before  # kept, number masked
        # ... and a rating of one of its matters reached the provincial 好差评 system.
        item = next(i for i in final["items"] if i["system"] != "platform")
        rated = web.post(
            "/api/v1/ratings/matters",
            json={"case_id": case["id"], "item_ref": item["ref"], "level": 5, "comment": "办理顺利"},
            headers=csrf,
        )
        assert rated.status_code == 201, rated.text
        report = wait_for_message(
            topology, "haochaping", lambda m: m["rating_id"] == rated.json()["id"], "the rating", seconds=120
        )
        assert report["type"] == "rating.created" and report["rating"]["level"] == 5, report
        out = web.post("/auth/logout", headers=csrf)
        assert out.status_code == 204 and all("Secure" in c for c in out.headers.get_list("set-cookie"))
