"""Typed settings read once from the environment (12-factor).

Defaults give the embedded mode a newcomer gets from ``make run``: a SQLite file under
``var/``, an in-process worker, in-memory channels and stores, and the test environment
of simulated agency systems. ``DATABASE_URL`` (postgres://...) and ``REDIS_URL`` switch
to production mode, where the API and the workers run as separate processes.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import msgspec

ROOT = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Every subsystem takes its configuration from one of these."""

    database_url: str = ""
    redis_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: str = str(ROOT / "var")
    public_url: str = ""
    # None means "decide from the mode": on in embedded, off in production.
    in_process_worker: bool | None = None
    test_env: bool | None = None
    api_processes: int = 1
    # Addresses (CIDR, comma-separated) whose X-Forwarded-For / X-Forwarded-Proto the API believes:
    # the reverse proxies in front of it. Anyone else's forwarded headers are ignored.
    trusted_proxies: str = "127.0.0.1"
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"
    max_body_bytes: int = 12 * 1024 * 1024
    db_pool_size: int = 10
    worker_concurrency: int = 16  # jobs in flight per worker: sends mostly wait for an agency's answer
    worker_lease_seconds: float = 60.0
    worker_idle_seconds: float = 30.0
    worker_heartbeat_file: str = ""  # touched by a running worker (default <DATA_DIR>/worker.heartbeat)
    jurisdiction: str = ""  # the catalog's jurisdiction this deployment serves (default: the catalog's default)
    # Cases
    draft_ttl_days: int = 30
    draft_warning_days: int = 5
    poll_seconds: float = 300.0
    status_cache_seconds: float = (
        5.0  # longest an API process answers a case status from memory if a change notice is lost (0: never cache)
    )
    holiday_calendar: str = ""  # a YAML file in the shape of backend/lib/data/holidays.yaml
    # Connectors: where the agency systems are (default: the test environment's simulators)
    connector_base_url: str = ""
    signing_key_file: str = ""
    # Each system's signature algorithm is its spec's (ES256, or SM2 with SM3); this overrides it per
    # deployment: "customs-fz=ES256,amr=SM2", or "*=SM2" for every system (agencies and push systems)
    signature_algorithms: str = ""
    # The case timeline's hash chain: sha256, or sm3 (国密). Each event records its own, so a
    # deployment can change this without breaking the chains already written.
    timeline_hash: Literal["sha256", "sm3"] = "sha256"
    # The market regulation platform's enterprise lookup (企业登记信息查询); production needs it
    registration_lookup_url: str = ""
    sim_processing_seconds: float = 0.5  # simulated agency processing time in the test environment
    notify_webhook_url: str = ""
    # Identity: the province's OIDC provider and the capability providers (face, signature, seal, licence).
    # Empty with the test environment on means "the in-process sandbox providers".
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""  # a secret: prefer OIDC_CLIENT_SECRET_FILE
    oidc_redirect_uri: str = ""
    identity_keys_file: str = ""  # key set for sessions and tokens (default <DATA_DIR>/identity-keys.json)
    access_token_ttl: int = 600
    refresh_token_ttl: int = 8 * 3600
    kiosk_idle_seconds: int = 180
    # how long a process trusts that a session is still open before asking again (logout ends access within it)
    session_check_seconds: float = 5.0
    face_provider_url: str = ""
    face_provider_jwks_url: str = ""
    sign_provider_url: str = ""
    sign_provider_jwks_url: str = ""
    seal_provider_url: str = ""
    seal_provider_jwks_url: str = ""
    licence_provider_url: str = ""
    licence_provider_jwks_url: str = ""
    # The test environment as its own process (python -m backend.sandbox): where it posts face and
    # signature results for the platform (the platform's https address behind nginx)
    sandbox_relying_party_url: str = ""
    # Keys: how often a process looks at its key files for a rotation (seconds)
    keys_reload_seconds: float = 10.0
    # Observability
    metrics_port: int = 0  # `python -m backend worker` serves its Prometheus metrics here (0: off)
    metrics_cache_seconds: float = 15.0  # gauges read from the database are recomputed at most this often
    prometheus_multiproc_dir: str = ""  # API_PROCESSES > 1: shared metric files (default <DATA_DIR>/metrics)
    # Production mode refuses unsafe settings; this turns the refusals into loud warnings for the
    # project's own test harnesses (faults, benchmarks), which run production processes with TEST_ENV on.
    unsafe_allow_test_settings: bool = False
    # Outside push systems (default with the test environment on: their simulators under /sim)
    ratings_system_url: str = ""  # the provincial 好差评 system (base URL)
    sms_gateway_url: str = ""  # the provincial government SMS platform (base URL)
    sms_per_hour: int = 5  # texts per person per rolling hour; more are not sent (recorded as rate_limited)
    sms_signature: str = "【福建企业注销】"  # the SMS signature (短信签名) registered with the SMS platform

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    @property
    def mode(self) -> Literal["embedded", "production"]:
        return "production" if self.is_postgres and self.redis_url else "embedded"

    @property
    def sqlite_path(self) -> Path:
        if self.database_url.startswith("sqlite:///"):
            return Path(self.database_url.removeprefix("sqlite:///"))
        return Path(self.data_dir) / "platform.sqlite"

    @property
    def run_worker_in_process(self) -> bool:
        return self.mode == "embedded" if self.in_process_worker is None else self.in_process_worker

    @property
    def test_env_enabled(self) -> bool:
        return self.mode == "embedded" if self.test_env is None else self.test_env

    @property
    def heartbeat_path(self) -> Path:
        """The file a worker touches while it runs (``python -m backend worker --check`` reads it)."""
        return Path(self.worker_heartbeat_file or Path(self.data_dir) / "worker.heartbeat")

    @property
    def trusted_proxy_networks(self) -> list[str]:
        """``trusted_proxies`` as CIDR strings; SystemExit naming the setting when one is not an address."""
        import ipaddress

        networks = []
        for entry in (part.strip() for part in self.trusted_proxies.split(",")):
            if not entry:
                continue
            try:
                networks.append(str(ipaddress.ip_network(entry, strict=False)))
            except ValueError as exc:
                raise SystemExit(f"invalid setting TRUSTED_PROXIES: {entry!r} is not an address or CIDR") from exc
        return networks

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"


def _coerce(raw: str, field_type: object) -> object:
    text = raw.strip()
    if field_type in (bool, bool | None):
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError(f"expected a boolean, got {raw!r}")
    if field_type is int:
        return int(text)
    if field_type is float:
        return float(text)
    return text


def _raw_value(env: Mapping[str, str], name: str) -> str | None:
    """``NAME`` from ``env``, or the content of the file ``NAME_FILE`` names (secrets mounted as files)."""
    value, path = env.get(name), env.get(name + "_FILE")
    if not path:
        return value
    if value:
        raise SystemExit(f"invalid setting {name}: set {name} or {name}_FILE, not both")
    try:
        # A secret file's trailing newline is an editor's, not part of the secret.
        return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise SystemExit(f"invalid setting {name}_FILE: cannot read {path} ({exc.strerror})") from exc


def load_settings(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Build settings from an environment mapping (upper-case field names, or ``NAME_FILE``), then overrides."""
    env = os.environ if env is None else env
    values: dict[str, object] = {}
    hints = {f.name: f.type for f in msgspec.structs.fields(Settings)}
    for name, field_type in hints.items():
        raw = _raw_value(env, name.upper())
        if raw is not None and raw != "":
            try:
                values[name] = _coerce(raw, field_type)
            except ValueError as exc:
                raise SystemExit(f"invalid setting {name.upper()}: {exc}") from exc
    values.update(overrides)
    return msgspec.convert(values, Settings, strict=False)


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return load_settings()
