"""Wiring the platform to the agency systems: our signing key and one connector per system.

The platform signs every outbound request with its own key (``PLATFORM_SIGNING_KEY_FILE``,
generated under ``DATA_DIR/keys`` on first start when not given) and identifies itself
with ``PLATFORM_CLIENT_ID``. Each system is reached at ``CONNECTOR_BASE_URL/<system>``;
with the test environment on and no base URL given, that is this platform's own
``/sim/<system>`` (the simulators mounted in-process).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from backend.settings import Settings

PLATFORM_CLIENT_ID = "yjs-platform"


def platform_signing_key(settings: Settings) -> dict[str, Any]:
    """Load the platform's private JWK, creating it once (atomically) if it does not exist."""
    from backend.connectors.signing import generate_signing_key

    path = (
        Path(settings.signing_key_file)
        if settings.signing_key_file
        else Path(settings.data_dir) / "keys" / "platform-signing.jwk.json"
    )
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = generate_signing_key(f"{PLATFORM_CLIENT_ID}-1")
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(fd, "w") as handle:
            json.dump(key, handle)
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)  # fails if another process won the race; then use theirs
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return json.loads(path.read_text())


def connector_base_url(settings: Settings) -> str:
    if settings.connector_base_url:
        return settings.connector_base_url.rstrip("/")
    if settings.test_env_enabled:
        return settings.base_url + "/sim"
    return ""


def build_platform_connectors(settings: Settings) -> dict[str, Any]:
    """One connector per business system (none when no agency address is configured)."""
    from backend.connectors.client import Credentials
    from backend.connectors.registry import all_specs, build_connectors

    base = connector_base_url(settings)
    if not base:
        return {}
    credentials = Credentials(client_id=PLATFORM_CLIENT_ID, signing_key=platform_signing_key(settings))
    return build_connectors({code: f"{base}/{code}" for code in all_specs()}, credentials)


def build_embedded_simulators(settings: Settings) -> dict[str, Any]:
    """The simulators mounted in this process, trusting the platform's key."""
    from backend.connectors.signing import jwks_of
    from backend.sandbox.mount import build_simulators
    from backend.sandbox.push import build_push_simulators

    key = platform_signing_key(settings)
    clients = {PLATFORM_CLIENT_ID: jwks_of(key)}
    return {
        **build_simulators(clients=clients, processing_seconds=settings.sim_processing_seconds),
        **build_push_simulators(clients=clients),
    }


def push_system_url(settings: Settings, code: str) -> str:
    """Where a push system is: its own setting (``RATINGS_SYSTEM_URL``, ``SMS_GATEWAY_URL``), else,
    with the test environment on, its simulator beside the agency ones; else nowhere (not configured)."""
    configured = {"haochaping": settings.ratings_system_url, "sms": settings.sms_gateway_url}[code]
    if configured:
        return configured.rstrip("/")
    base = connector_base_url(settings) if settings.test_env_enabled else ""
    return f"{base}/{code}" if base else ""


def build_push_connectors(settings: Settings) -> dict[str, Any]:
    """One ``PushConnector`` per configured push system (好差评, SMS), signed with the platform's key."""
    from backend.connectors.client import Credentials
    from backend.connectors.push import PushConnector, all_push_specs

    out: dict[str, Any] = {}
    credentials = None
    for code, spec in all_push_specs().items():
        url = push_system_url(settings, code)
        if url:
            credentials = credentials or Credentials(
                client_id=PLATFORM_CLIENT_ID, signing_key=platform_signing_key(settings)
            )
            out[code] = PushConnector(spec, url, credentials)
    return out
