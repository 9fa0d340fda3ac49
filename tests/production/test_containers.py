"""The container image and compose file, read as an engine would (no container engine runs here):
each role's merged environment holds what it needs, the image copies everything the app serves
and installs no test tools, and every service has a health check that fits its role."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import yaml

from backend.settings import ROOT, Settings

INFRA = ROOT / "infra"
PLATFORM_ROLES = {"migrate": "migrate", "api": "api", "worker": "worker"}
SETTINGS = {f.name.upper() for f in msgspec.structs.fields(Settings)}
#: identity reads these itself today (backend/identity/config.py)
IDENTITY = {"OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_REDIRECT_URI", "IDENTITY_KEYS_FILE"} | {
    f"{kind}_PROVIDER_{part}" for kind in ("FACE", "SIGN", "SEAL", "LICENCE") for part in ("URL", "JWKS_URL")
}


def compose() -> dict:
    return yaml.safe_load((INFRA / "compose.yaml").read_text())


def env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def merged_environment(service: dict) -> dict[str, str]:
    """env_file entries in order, then ``environment`` (compose's precedence)."""
    files = service.get("env_file") or []
    values: dict[str, str] = {}
    for name in [files] if isinstance(files, str) else files:
        values.update(env_file(INFRA / name))
    values.update({k: str(v) for k, v in (service.get("environment") or {}).items()})
    return values


def test_each_role_gets_every_setting_it_needs():
    services = compose()["services"]
    for name in PLATFORM_ROLES:
        service, env = services[name], merged_environment(services[name])
        assert "DATABASE_URL" in env or "DATABASE_URL_FILE" in env, name
        assert env["REDIS_URL"].startswith("redis://"), name
        assert env["PUBLIC_URL"].startswith("https://"), name
        assert env["TEST_ENV"] == "false", name
        for key in ("SIGNING_KEY_FILE", "IDENTITY_KEYS_FILE"):  # one key for every replica, from a secret
            assert env[key].startswith("/run/secrets/"), (name, key)
            assert env[key].removeprefix("/run/secrets/") in service["secrets"], (name, key)
        for key, value in env.items():  # no secret in the environment, no misspelt setting
            assert "PASSWORD" not in key and "SECRET" not in key.removesuffix("_FILE") or key.endswith("_FILE"), key
            assert key in SETTINGS | IDENTITY or key.removesuffix("_FILE") in SETTINGS | IDENTITY, (
                f"{name}: {key} is not a setting"
            )
            if key.endswith("_FILE") and key not in SETTINGS or key in ("SIGNING_KEY_FILE", "IDENTITY_KEYS_FILE"):
                assert value.startswith("/run/secrets/"), (name, key)  # a secret's file
    api = merged_environment(services["api"])
    assert api["HOST"] == "0.0.0.0" and api["PORT"] == "8000"
    assert api["TRUSTED_PROXIES"] and "127.0.0.1" not in api["TRUSTED_PROXIES"]  # nginx is another container
    assert "WORKER_HEARTBEAT_FILE" in merged_environment(services["worker"])


def test_every_service_has_a_health_check_that_fits_its_role():
    services = compose()["services"]
    assert "/healthz" in " ".join(services["api"]["healthcheck"]["test"])
    assert services["worker"]["healthcheck"]["test"][-3:] == ["backend", "worker", "--check"]
    assert services["migrate"]["healthcheck"] == {"disable": True}  # a job, not a server
    for name in ("postgres", "redis", "proxy"):
        assert services[name]["healthcheck"]["test"], name
    # the image's own check (the API's) would poll a port the worker and the job never open
    containerfile = (INFRA / "Containerfile").read_text()
    assert "/healthz" in containerfile and "worker" in services and "healthcheck" in services["worker"]


def test_migrate_runs_first_and_servers_restart():
    services = compose()["services"]
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert services[name]["restart"] == "unless-stopped"
        assert services[name]["deploy"]["replicas"] >= 2
    assert services["migrate"]["restart"] == "on-failure"
    assert services["proxy"]["depends_on"]["api"] == {"condition": "service_healthy"}


def test_nginx_runs_the_projects_config_with_tls():
    proxy = compose()["services"]["proxy"]
    assert "./nginx.conf:/etc/nginx/templates/yjs.conf.template:ro" in proxy["volumes"]
    assert {"tls_certificate", "tls_private_key"} <= set(proxy["secrets"])
    assert "443:443" in proxy["ports"]
    placeholders = set(re.findall(r"\$\{(YJS_[A-Z_]+)\}", (INFRA / "nginx.conf").read_text()))
    assert placeholders == set(proxy["environment"])  # every placeholder gets a value, none is stray
    secrets = compose()["secrets"]
    for name, secret in secrets.items():
        assert secret["file"].startswith("./secrets/"), name


def served_directories() -> set[str]:
    """Top-level folders of the repository the app serves files from (its static routes)."""
    from backend.app import static_routes

    folders = set()
    for router in static_routes():
        for route in router.routes:
            for handler in route.route_handlers:
                for cell in getattr(handler.fn, "__closure__", None) or ():
                    for directory in getattr(cell.cell_contents, "directories", ()):
                        parts = Path(directory).parts  # node_modules may link to a shared install
                        at = parts.index("node_modules") if "node_modules" in parts else len(ROOT.parts)
                        folders.add(str(Path(*parts[at:])))
    return folders


def test_the_image_copies_everything_the_app_serves_and_runs_as_a_user():
    text = (INFRA / "Containerfile").read_text()
    copied = set(re.findall(r"^COPY (?:--from=\S+ )?(?:/app/)?(\S+) ", text, flags=re.M))
    served = served_directories()
    assert {"pwa", "kiosk", "staff", "shared", "node_modules/swagger-ui-dist"} <= served
    missing = {s for s in served if not any(s == c or s.startswith(c + "/") for c in copied)}
    assert not missing, f"served but not in the image: {missing}"
    assert "backend" in copied
    users = re.findall(r"^USER (\S+)", text, flags=re.M)
    assert users and users[-1] not in ("root", "0")


def test_the_image_installs_the_runtime_packages_only():
    text = (INFRA / "Containerfile").read_text()
    installed = re.findall(r"pip install [^\n]*-r (\S+)", text)
    assert installed == ["requirements/runtime.txt"]

    def pins(path: str) -> dict[str, str]:
        found = re.findall(r"^([A-Za-z0-9._-]+)==([^ \\\n]+)", (ROOT / path).read_text(), re.M)
        return {name.lower(): version for name, version in found}

    runtime = pins(installed[0])
    for tool in ("pytest", "playwright", "schemathesis", "hypothesis", "pytest-asyncio", "axe-playwright-python"):
        assert tool not in runtime, tool
    for needed in ("litestar", "uvicorn", "asyncpg", "redis", "msgspec", "piccolo", "joserfc", "httpx", "aiohttp"):
        assert needed in runtime, needed
    assert "--require-hashes" in text and "--hash=sha256:" in (ROOT / installed[0]).read_text()
    tests = pins("requirements/test.txt")  # the tests run on the very versions production runs
    for name, version in runtime.items():
        assert tests.get(name) == version, f"{name} differs between the runtime and the test lock"
