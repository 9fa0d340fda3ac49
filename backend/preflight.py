"""Refuse to start a production process with unsafe settings: one line per problem.

Production mode (PostgreSQL and Redis) serves the public, so a missing public address, the
test environment, a test secret or keys each replica would make for itself are refused
before anything binds a port. ``UNSAFE_ALLOW_TEST_SETTINGS`` turns the refusal into a loud
warning for the project's own fault and benchmark harnesses, which run production processes
against the test environment on loopback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

from backend.lib.keyring import KeyFileError, read_rings
from backend.settings import Settings

Role = Literal["api", "worker", "migrate"]

#: Secrets and keys the test environment ships with: never valid in production.
SANDBOX_SECRETS = {"sandbox-client-secret"}
SANDBOX_KEY_PREFIX = "sandbox-"


def _key_file_problems(setting: str, path_text: str, ring: str, also: tuple[str, ...] = ()) -> list[str]:

    if not path_text:
        return [f"{setting} is not set: every replica must sign with the same keys (python -m backend keys ... create)"]
    path = Path(path_text)
    try:
        rings = read_rings(path, ring)
    except KeyFileError as exc:
        return [f"{setting}: {exc}"]
    problems = []
    if ring not in rings:
        problems.append(f"{setting}: {path} has no {ring!r} key")
    problems += [
        f"{setting}: {path} has no {name!r} key (python -m backend keys ... add makes it)"
        for name in also
        if name not in rings
    ]
    sandbox = sorted(name for name in rings if name.startswith(SANDBOX_KEY_PREFIX))
    if sandbox:
        problems.append(f"{setting}: {path} holds the test environment's keys ({', '.join(sandbox)})")
    return problems


def production_problems(settings: Settings, role: Role) -> list[str]:
    """Every reason ``settings`` are unsafe for a production ``role`` (empty in embedded mode)."""
    if settings.mode != "production" or role == "migrate":
        # migrate touches only the database; its URL (or DATABASE_URL_FILE) is all it needs.
        return []
    problems: list[str] = []
    public = settings.public_url
    if not public:
        problems.append("PUBLIC_URL is not set: links, QR codes, login redirects and cookies need the public address")
    elif not public.startswith("https://"):
        problems.append(f"PUBLIC_URL {public} is not https: sessions would travel in clear and cookies not be Secure")
    if role == "api" and settings.test_env_enabled:
        problems.append("TEST_ENV is on: the API would serve the test identity provider and simulated agencies")
    if not settings.test_env_enabled:
        if not settings.connector_base_url:
            problems.append("CONNECTOR_BASE_URL is not set: no agency system can be reached")
        if role == "api":
            if not settings.oidc_issuer:
                problems.append("OIDC_ISSUER is not set: nobody can log in")
            if not settings.oidc_client_secret:
                problems.append("OIDC_CLIENT_SECRET (or OIDC_CLIENT_SECRET_FILE) is not set")
            for provider in ("face", "sign", "seal", "licence"):
                for suffix in ("provider_url", "provider_jwks_url"):
                    name = f"{provider}_{suffix}"
                    if not getattr(settings, name):
                        problems.append(f"{name.upper()} is not set")
    if settings.oidc_client_secret in SANDBOX_SECRETS:
        problems.append("OIDC_CLIENT_SECRET is the test environment's secret")
    # the SM2 ring too: the systems specified SM2 (customs, social insurance) verify nothing else
    problems += _key_file_problems("SIGNING_KEY_FILE", settings.signing_key_file, "signing", ("signing-sm2",))
    # Workers verify and sign too (identity's jobs), so every role shares the identity key file.
    problems += _key_file_problems("IDENTITY_KEYS_FILE", settings.identity_keys_file, "platform")
    return problems


def refuse_unsafe_settings(settings: Settings, role: Role) -> None:
    """Exit with status 78 (EX_CONFIG), one line per problem on stderr, before anything binds a port."""
    problems = production_problems(settings, role)
    if not problems:
        return
    if settings.unsafe_allow_test_settings:
        for problem in problems:
            print(
                f"UNSAFE (allowed by UNSAFE_ALLOW_TEST_SETTINGS, never in a real deployment): {problem}",
                file=sys.stderr,
            )
        return
    for problem in problems:
        print(f"refusing to start {role}: {problem}", file=sys.stderr)
    raise SystemExit(78)
