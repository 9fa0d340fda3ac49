"""Identity configuration, signing keys and the per-platform context every service uses.

The platform's ``Settings`` carry no identity fields, so identity reads its own few
environment variables (``IdentityConfig.from_env``); defaults give the test environment's
providers in embedded mode. Keys are ES256 JWKs kept in one JSON file (``IDENTITY_KEYS_FILE``,
default ``<DATA_DIR>/identity-keys.json``), created on first use so every process of one
deployment signs and verifies with the same keys.
"""

from __future__ import annotations

import json
import os
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from joserfc.jwk import ECKey, KeySet

from backend.lib.problems import ProblemError
from backend.platform import Platform

#: Key names in the key file. The platform key signs access tokens; the others belong to
#: the test environment's simulated providers (their public halves are their JWKS).
PLATFORM_KEY = "platform"
SANDBOX_OIDC_KEY = "sandbox-oidc"
SANDBOX_FACE_KEY = "sandbox-face"
SANDBOX_SIGN_KEY = "sandbox-sign"
SANDBOX_SEAL_KEY = "sandbox-seal"
SANDBOX_LICENCE_KEY = "sandbox-licence"
ALL_KEYS = (PLATFORM_KEY, SANDBOX_OIDC_KEY, SANDBOX_FACE_KEY, SANDBOX_SIGN_KEY, SANDBOX_SEAL_KEY, SANDBOX_LICENCE_KEY)

SANDBOX_CLIENT_ID = "yjs-platform"
SANDBOX_CLIENT_SECRET = "sandbox-client-secret"  # test environment only; production reads OIDC_CLIENT_SECRET


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    return int(raw) if raw else default


@dataclass
class IdentityConfig:
    """Where the identity provider and the capability providers are, and token lifetimes."""

    oidc_issuer: str = ""
    oidc_client_id: str = SANDBOX_CLIENT_ID
    oidc_client_secret: str = SANDBOX_CLIENT_SECRET
    oidc_redirect_uri: str = ""
    keys_file: str = ""
    access_ttl_s: int = 600
    refresh_ttl_s: int = 8 * 3600
    login_ttl_s: int = 600
    kiosk_idle_s: int = 180
    callback_max_ttl_s: int = 300
    #: Face/sign/seal/licence providers: base URL for links and JWKS URL for callbacks.
    #: Empty in the test environment means "the in-process sandbox providers".
    face_provider_url: str = ""
    face_provider_jwks_url: str = ""
    sign_provider_url: str = ""
    sign_provider_jwks_url: str = ""
    seal_provider_url: str = ""
    seal_provider_jwks_url: str = ""
    licence_provider_url: str = ""
    licence_provider_jwks_url: str = ""
    #: The test environment's providers in a process of their own (``python -m backend.sandbox
    #: --identity-provider``): the platform they serve, their results' audience and where they
    #: deliver them (its callback routes), as a real provider does. Empty: this platform, in-process.
    relying_party_url: str = ""
    #: Optional HTTP transport (tests point it at the app itself with ``httpx.ASGITransport``).
    transport: Any = None
    cookie_secure: bool | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> IdentityConfig:
        env = os.environ if env is None else env
        return cls(
            oidc_issuer=env.get("OIDC_ISSUER", ""),
            oidc_client_id=env.get("OIDC_CLIENT_ID", "") or SANDBOX_CLIENT_ID,
            oidc_client_secret=env.get("OIDC_CLIENT_SECRET", "") or SANDBOX_CLIENT_SECRET,
            oidc_redirect_uri=env.get("OIDC_REDIRECT_URI", ""),
            keys_file=env.get("IDENTITY_KEYS_FILE", ""),
            access_ttl_s=_int(env, "ACCESS_TOKEN_TTL", 600),
            refresh_ttl_s=_int(env, "REFRESH_TOKEN_TTL", 8 * 3600),
            kiosk_idle_s=_int(env, "KIOSK_IDLE_SECONDS", 180),
            face_provider_url=env.get("FACE_PROVIDER_URL", ""),
            face_provider_jwks_url=env.get("FACE_PROVIDER_JWKS_URL", ""),
            sign_provider_url=env.get("SIGN_PROVIDER_URL", ""),
            sign_provider_jwks_url=env.get("SIGN_PROVIDER_JWKS_URL", ""),
            seal_provider_url=env.get("SEAL_PROVIDER_URL", ""),
            seal_provider_jwks_url=env.get("SEAL_PROVIDER_JWKS_URL", ""),
            licence_provider_url=env.get("LICENCE_PROVIDER_URL", ""),
            licence_provider_jwks_url=env.get("LICENCE_PROVIDER_JWKS_URL", ""),
            relying_party_url=env.get("SANDBOX_RELYING_PARTY_URL", "").rstrip("/"),
        )


_KEY_LOCK = threading.Lock()


def load_or_create_keys(path: Path) -> dict[str, ECKey]:
    """Read the key file, creating it (exclusively, so concurrent processes agree) if missing."""
    with _KEY_LOCK:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            stamp = time.strftime("%Y%m%d")
            data = {
                name: ECKey.generate_key(
                    "P-256", parameters={"kid": f"{name}-{stamp}", "use": "sig", "alg": "ES256"}, private=True
                ).as_dict(private=True)
                for name in ALL_KEYS
            }
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data))
            os.chmod(tmp, 0o600)
            try:
                os.link(tmp, path)  # atomic, fails if another process won the race
            except FileExistsError:
                pass
            finally:
                tmp.unlink(missing_ok=True)
        raw = json.loads(path.read_text())
    missing = [name for name in ALL_KEYS if name not in raw]
    if missing and PLATFORM_KEY in missing:
        raise RuntimeError(f"identity key file {path} has no platform key")
    return {name: ECKey.import_key(value) for name, value in raw.items()}


class KeySource:
    """Public keys to verify a provider's signatures: a fixed JWKS or one fetched (and cached) by URL."""

    def __init__(
        self,
        *,
        keyset: KeySet | None = None,
        url: str = "",
        http: Callable[[], httpx.AsyncClient] | None = None,
        ttl_s: float = 300,
    ) -> None:
        self._keyset = keyset
        self._url = url
        self._http = http
        self._ttl = ttl_s
        self._fetched = 0.0

    async def keyset(self, *, refresh: bool = False) -> KeySet:
        if self._url and (self._keyset is None or refresh or time.monotonic() - self._fetched > self._ttl):
            assert self._http is not None
            async with self._http() as client:
                response = await client.get(self._url, timeout=10)
                response.raise_for_status()
                self._keyset = KeySet.import_key_set(response.json())
                self._fetched = time.monotonic()
        if self._keyset is None:
            raise ProblemError(503, "provider_unavailable", "身份服务提供方未配置。 The provider is not configured.")
        return self._keyset


def public_keyset(*keys: ECKey) -> KeySet:
    """A JWKS of the public halves of ``keys``."""
    return KeySet.import_key_set({"keys": [k.as_dict(private=False) for k in keys]})


@dataclass
class Identity:
    """Everything identity needs for one running platform (built lazily, once)."""

    platform: Platform
    config: IdentityConfig
    keys: dict[str, ECKey]
    sources: dict[str, KeySource] = field(default_factory=dict)
    oidc_metadata: dict[str, Any] | None = None
    #: access tokens whose signature this process has checked (token → claims); expiry is checked on every use
    verified_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return self.platform.settings.base_url.rstrip("/")

    @property
    def test_env(self) -> bool:
        return self.platform.settings.test_env_enabled

    @property
    def issuer(self) -> str:
        """The OIDC issuer the platform logs users in with."""
        return self.config.oidc_issuer or f"{self.base_url}/sandbox/oidc"

    @property
    def redirect_uri(self) -> str:
        return self.config.oidc_redirect_uri or f"{self.base_url}/auth/callback"

    @property
    def platform_issuer(self) -> str:
        """``iss`` of the platform's own access tokens."""
        return self.base_url + "/auth"

    @property
    def cookie_secure(self) -> bool:
        if self.config.cookie_secure is not None:
            return self.config.cookie_secure
        return self.base_url.startswith("https://")

    def now_ms(self) -> int:
        return self.platform.clock.now_ms()

    def now_s(self) -> int:
        return self.platform.clock.now_ms() // 1000

    def http(self) -> httpx.AsyncClient:
        """An HTTP client for outbound calls (providers, issuer), honouring the test transport."""
        return httpx.AsyncClient(transport=self.config.transport, timeout=10)

    def signing_key(self, name: str) -> ECKey:
        key = self.keys.get(name)
        if key is None:
            raise ProblemError(503, "provider_unavailable", f"missing key {name}")
        return key

    def source(self, name: str, url: str) -> KeySource:
        """Verification keys of a provider: its JWKS URL if configured, else the sandbox key (test env only)."""
        if name not in self.sources:
            if url:
                self.sources[name] = KeySource(url=url, http=self.http)
            elif self.test_env and name in self.keys:
                self.sources[name] = KeySource(keyset=public_keyset(self.keys[name]))
            else:
                self.sources[name] = KeySource()
        return self.sources[name]


_CONTEXTS: dict[int, Identity] = {}
_OVERRIDES: dict[int, IdentityConfig] = {}


def configure_identity(platform: Platform, config: IdentityConfig) -> None:
    """Use ``config`` for ``platform`` instead of the environment (call before the first request)."""
    _OVERRIDES[id(platform)] = config
    _CONTEXTS.pop(id(platform), None)


def get_identity(platform: Platform) -> Identity:
    """The identity context of ``platform`` (keys loaded on first use, never at import)."""
    key = id(platform)
    ctx = _CONTEXTS.get(key)
    if ctx is None or ctx.platform is not platform:
        config = _OVERRIDES.get(key) or IdentityConfig.from_env()
        path = Path(config.keys_file or Path(platform.settings.data_dir) / "identity-keys.json")
        ctx = Identity(platform=platform, config=config, keys=load_or_create_keys(path))
        _CONTEXTS[key] = ctx
        weakref.finalize(platform, _forget, key)
    return ctx


def _forget(key: int) -> None:
    _CONTEXTS.pop(key, None)
    _OVERRIDES.pop(key, None)
