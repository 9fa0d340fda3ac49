"""Settings in one place: every secret from a file, identity from Settings, production refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backend.identity.config import SANDBOX_CLIENT_SECRET, IdentityConfig
from backend.lib import keyring
from backend.preflight import production_problems
from backend.settings import load_settings
from tests.servers import ROOT

PG = "postgres://yjs@127.0.0.1:1/yjs"  # never reached: the refusals come before any connection
REDIS = "redis://127.0.0.1:1/0"


def test_every_secret_can_come_from_a_file(tmp_path):
    (tmp_path / "oidc").write_text("s3cret-from-file\n")
    (tmp_path / "db").write_text("postgres://yjs:pa55@db.internal/yjs\n")
    (tmp_path / "redis").write_text("redis://:pw@cache.internal/0")
    settings = load_settings(
        env={
            "OIDC_CLIENT_SECRET_FILE": str(tmp_path / "oidc"),
            "DATABASE_URL_FILE": str(tmp_path / "db"),
            "REDIS_URL_FILE": str(tmp_path / "redis"),
        }
    )
    assert settings.oidc_client_secret == "s3cret-from-file"
    assert settings.database_url == "postgres://yjs:pa55@db.internal/yjs"
    assert settings.redis_url == "redis://:pw@cache.internal/0"
    assert settings.mode == "production"


def test_a_value_and_its_file_together_or_an_unreadable_file_are_refused(tmp_path):
    (tmp_path / "s").write_text("x")
    with pytest.raises(SystemExit, match="OIDC_CLIENT_SECRET or OIDC_CLIENT_SECRET_FILE"):
        load_settings(env={"OIDC_CLIENT_SECRET": "y", "OIDC_CLIENT_SECRET_FILE": str(tmp_path / "s")})
    with pytest.raises(SystemExit, match="OIDC_CLIENT_SECRET_FILE: cannot read"):
        load_settings(env={"OIDC_CLIENT_SECRET_FILE": str(tmp_path / "missing")})


def test_identity_takes_its_settings_from_settings_not_the_environment(monkeypatch):
    monkeypatch.setenv("OIDC_ISSUER", "https://from-environ.example")  # ignored: not in the settings given
    settings = load_settings(
        env={
            "OIDC_ISSUER": "https://id.example.gov.cn",
            "FACE_PROVIDER_URL": "https://face.example",
            "ACCESS_TOKEN_TTL": "300",
        }
    )
    config = IdentityConfig.from_settings(settings)
    assert config.oidc_issuer == "https://id.example.gov.cn"
    assert config.face_provider_url == "https://face.example"
    assert config.access_ttl_s == 300


def test_the_client_secret_never_falls_back_to_the_test_environments_in_production():
    production = load_settings(env={"DATABASE_URL": PG, "REDIS_URL": REDIS, "OIDC_ISSUER": "https://id.example"})
    assert IdentityConfig.from_settings(production).oidc_client_secret == ""
    # the test environment's own login keeps working without configuration
    assert IdentityConfig.from_settings(load_settings(env={})).oidc_client_secret == SANDBOX_CLIENT_SECRET


def _keys(tmp_path):
    signing, identity = tmp_path / "signing.json", tmp_path / "identity.json"
    keyring.create(signing, "signing", "yjs-platform", "ES256", {"signing-sm2": ("yjs-platform-sm2", "SM2SM3")})
    keyring.create(identity, "platform", "platform")
    return signing, identity


def _safe_env(tmp_path) -> dict[str, str]:
    signing, identity = _keys(tmp_path)
    (tmp_path / "oidc-secret").write_text("a-real-secret")
    env = {
        "DATABASE_URL": PG,
        "REDIS_URL": REDIS,
        "PUBLIC_URL": "https://yjs.example.gov.cn",
        "TEST_ENV": "false",
        "CONNECTOR_BASE_URL": "https://gateway.example.gov.cn",
        "SIGNING_KEY_FILE": str(signing),
        "IDENTITY_KEYS_FILE": str(identity),
        "OIDC_ISSUER": "https://id.example.gov.cn",
        "OIDC_CLIENT_SECRET_FILE": str(tmp_path / "oidc-secret"),
    }
    for provider in ("FACE", "SIGN", "SEAL", "LICENCE"):
        env[f"{provider}_PROVIDER_URL"] = f"https://{provider.lower()}.example.gov.cn"
        env[f"{provider}_PROVIDER_JWKS_URL"] = f"https://{provider.lower()}.example.gov.cn/jwks"
    return env


def test_safe_production_settings_pass(tmp_path):
    settings = load_settings(env=_safe_env(tmp_path))
    assert production_problems(settings, "api") == []
    assert production_problems(settings, "worker") == []


def _run(role: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    return subprocess.run(
        [sys.executable, "-m", "backend", role],
        cwd=ROOT,
        env={**base, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.slow  # starts the roles as child processes
def test_production_processes_refuse_unsafe_settings_one_line_each(tmp_path):
    env = {"DATABASE_URL": PG, "REDIS_URL": REDIS, "TEST_ENV": "true", "OIDC_CLIENT_SECRET": SANDBOX_CLIENT_SECRET}
    result = _run("api", env)
    assert result.returncode == 78, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("refusing to start api: ")]
    assert len(lines) == 5, result.stderr
    text = "\n".join(lines)
    for expected in (
        "PUBLIC_URL is not set",
        "TEST_ENV is on",
        "OIDC_CLIENT_SECRET is the test environment's secret",
        "SIGNING_KEY_FILE is not set",
        "IDENTITY_KEYS_FILE is not set",
    ):
        assert expected in text
    assert "Uvicorn running" not in result.stderr + result.stdout  # refused before binding a port


@pytest.mark.slow  # starts the roles as child processes
def test_http_public_url_missing_and_sandbox_key_files_are_refused(tmp_path):
    env = _safe_env(tmp_path)
    env["PUBLIC_URL"] = "http://yjs.example.gov.cn"
    env["SIGNING_KEY_FILE"] = str(tmp_path / "nowhere.json")
    rings = json.loads(Path(env["IDENTITY_KEYS_FILE"]).read_text())["rings"]
    sandbox_keys = tmp_path / "sandbox-identity.json"  # a file made by the test environment
    sandbox_keys.write_text(json.dumps({"rings": {**rings, "sandbox-oidc": rings["platform"]}}))
    env["IDENTITY_KEYS_FILE"] = str(sandbox_keys)
    del env["OIDC_CLIENT_SECRET_FILE"]
    for role in ("api", "worker"):
        result = _run(role, env)
        assert result.returncode == 78, result.stderr
        lines = [line for line in result.stderr.splitlines() if line.startswith(f"refusing to start {role}: ")]
        text = "\n".join(lines)
        assert "is not https" in text
        assert "SIGNING_KEY_FILE" in text and "does not exist" in text
        assert "holds the test environment's keys (sandbox-oidc)" in text
        assert ("OIDC_CLIENT_SECRET (or OIDC_CLIENT_SECRET_FILE) is not set" in text) == (role == "api")
        assert len(lines) == (4 if role == "api" else 3), result.stderr


def test_the_harness_override_warns_loudly_and_goes_on(capsys):
    settings = load_settings(env={"DATABASE_URL": PG, "REDIS_URL": REDIS, "UNSAFE_ALLOW_TEST_SETTINGS": "true"})
    assert production_problems(settings, "api")  # still reported ...
    from backend.preflight import refuse_unsafe_settings

    refuse_unsafe_settings(settings, "api")  # ... but not fatal
    warnings = capsys.readouterr().err.splitlines()
    assert warnings and all(line.startswith("UNSAFE (allowed by UNSAFE_ALLOW_TEST_SETTINGS") for line in warnings)


def test_embedded_mode_has_no_refusals():
    assert production_problems(load_settings(env={}), "api") == []


def test_every_setting_has_a_line_in_the_env_example():
    import msgspec

    from backend.settings import Settings

    example = (ROOT / "infra" / "systemd" / "platform.env.example").read_text()
    names = {line.lstrip("# ").split("=", 1)[0] for line in example.splitlines() if "=" in line}
    names |= {name.removesuffix("_FILE") for name in names}  # OIDC_CLIENT_SECRET_FILE=... covers the secret
    missing = [f.name.upper() for f in msgspec.structs.fields(Settings) if f.name.upper() not in names]
    assert missing == []


def test_nothing_outside_settings_reads_the_environment_for_configuration():
    # process markers and the environment of child processes, not settings
    allowed = {
        "settings.py",
        "__main__.py",
        "app.py",  # the server-process marker: warm_up freezes the heap only in a server process
        "lib/metrics_mode.py",
        "lib/metrics.py",
        "db.py",  # the server-process marker __main__ sets (stop at once on SIGTERM while waiting)
        "sandbox/identity_host.py",  # the test environment's migrate child inherits its environment
        "connectors/client.py",  # SSL_CERT_FILE: OpenSSL's own variable for a private CA, not a setting
    }
    readers = []
    for path in (ROOT / "backend").rglob("*.py"):
        relative = str(path.relative_to(ROOT / "backend"))
        text = path.read_text()
        if relative not in allowed and ("os.environ" in text or "os.getenv" in text):
            readers.append(relative)
    assert readers == []
