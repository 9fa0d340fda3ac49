"""The identity side of the test environment in its own process (``python -m backend.sandbox
--identity-provider DIR``), for a platform whose own test environment is off (the
production-topology test, agencies' joint testing against a production-shaped platform).

The providers (``backend.identity.sandbox``) need what a platform gives them: signing keys,
and a table of one-time codes already used. This process gets its own small platform for
that: SQLite under DIR (migrated here), the keys in DIR, its public URL as the issuers' base.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from backend.identity.config import IdentityConfig, configure_identity
from backend.platform import Platform
from backend.settings import Settings, load_settings


def identity_provider(data_dir: Path, public_url: str, build_platform: Callable[[Settings], Platform]) -> Platform:
    """A platform for the identity providers only: SQLite in ``data_dir``, test environment on.

    ``build_platform`` is the composition root's (``backend.app``), passed in by the entry point
    (``python -m backend.sandbox``) so that the sandbox context never imports the app."""

    data_dir.mkdir(parents=True, exist_ok=True)
    url = "sqlite:///" + str(data_dir / "identity-provider.sqlite")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    subprocess.run(  # its own process: piccolo's configuration is read once per process
        [sys.executable, "-m", "backend", "migrate"],
        env={**env, "DATABASE_URL": url, "DATA_DIR": str(data_dir)},
        check=True,
    )
    # Its own database, address and test environment; the relying platform's client (OIDC_CLIENT_*,
    # OIDC_REDIRECT_URI, SANDBOX_RELYING_PARTY_URL) from the environment it was started with.
    settings = load_settings(
        env=env, database_url=url, data_dir=str(data_dir), public_url=public_url.rstrip("/"), test_env=True
    )
    platform = build_platform(settings)
    config = IdentityConfig.from_settings(settings)
    config.keys_file = str(data_dir / "identity-provider-keys.json")  # the providers' keys, not the platform's
    configure_identity(platform, config)
    return platform
