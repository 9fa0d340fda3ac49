"""Identity configuration, signing keys and the per-platform context every service uses.

Identity takes its part of the platform's ``Settings`` (``IdentityConfig.from_settings``);
defaults give the test environment's providers in embedded mode. Keys are ES256 JWKs in one
key set file (``IDENTITY_KEYS_FILE``, default ``<DATA_DIR>/identity-keys.json``, see
``backend.lib.keyring``) shared by every process of a deployment; the platform's ring rotates
(``python -m backend keys identity ...``) without ending sessions. Embedded mode creates the
file on first use; production requires the operator's.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from joserfc.jwk import ECKey, KeySet

from backend.lib.keyring import KeyFile, load_or_create
from backend.lib.problems import ProblemError
from backend.platform import Platform
from backend.settings import Settings

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
# Test environment only; production reads OIDC_CLIENT_SECRET.
SANDBOX_CLIENT_SECRET = "sandbox-client-secret"  # noqa: S105 - the sandbox's published test secret


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
    #: How long an API process trusts that a session it checked is still open (seconds). An ended
    #: session is announced to every process at once (``SESSIONS_ENDED``); this bounds a lost notice.
    session_check_s: float = 5.0
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
    def from_settings(cls, settings: Settings) -> IdentityConfig:
        """Identity's part of the platform's settings.

        The test environment's client secret is used only when the test environment is on and
        no real issuer is configured: a production process never falls back to it (and refuses
        to start without ``OIDC_CLIENT_SECRET``, see ``backend.preflight``).
        """
        sandbox_login = settings.test_env_enabled and not settings.oidc_issuer
        return cls(
            oidc_issuer=settings.oidc_issuer,
            oidc_client_id=settings.oidc_client_id or SANDBOX_CLIENT_ID,
            oidc_client_secret=settings.oidc_client_secret or (SANDBOX_CLIENT_SECRET if sandbox_login else ""),
            oidc_redirect_uri=settings.oidc_redirect_uri,
            keys_file=settings.identity_keys_file,
            access_ttl_s=settings.access_token_ttl,
            refresh_ttl_s=settings.refresh_token_ttl,
            kiosk_idle_s=settings.kiosk_idle_seconds,
            session_check_s=settings.session_check_seconds,
            face_provider_url=settings.face_provider_url,
            face_provider_jwks_url=settings.face_provider_jwks_url,
            sign_provider_url=settings.sign_provider_url,
            sign_provider_jwks_url=settings.sign_provider_jwks_url,
            seal_provider_url=settings.seal_provider_url,
            seal_provider_jwks_url=settings.seal_provider_jwks_url,
            licence_provider_url=settings.licence_provider_url,
            licence_provider_jwks_url=settings.licence_provider_jwks_url,
            relying_party_url=settings.sandbox_relying_party_url.rstrip("/"),
        )


def load_or_create_keys(path: Path, *, reload_seconds: float = 10.0) -> KeyFile:
    """Open the identity key set file, creating it (with the sandbox providers' keys) if missing."""
    keyfile = load_or_create(path, PLATFORM_KEY, {name: name for name in ALL_KEYS}, reload_seconds)
    keyfile.ring(PLATFORM_KEY)  # raises when the file has no platform key
    return keyfile


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
    keyfile: KeyFile
    sources: dict[str, KeySource] = field(default_factory=dict)
    oidc_metadata: dict[str, Any] | None = None
    #: access tokens whose signature this process has checked (token → claims); expiry is checked on every use
    verified_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: sessions this process found open (sid → monotonic time until which it trusts that)
    open_sessions: dict[str, float] = field(default_factory=dict)
    #: sessions known to have ended (they never reopen)
    ended_sessions: dict[str, None] = field(default_factory=dict)
    verified_keys_version: int = 0  # the key file version ``verified_tokens`` was checked against

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

    @property
    def keys(self) -> dict[str, ECKey]:
        """The current key of every ring in the key file (the platform's; sandbox providers' in the test env)."""
        return {name: ring.current() for name, ring in self.keyfile.rings().items()}

    def signing_key(self, name: str) -> ECKey:
        """The key ``name`` signs with now (its ring's current key)."""
        ring = self.keyfile.get(name)
        if ring is None:
            raise ProblemError(503, "provider_unavailable", f"missing key {name}")
        return ring.current()

    def accepted_keys(self, name: str) -> KeySet:
        """Every key whose signatures ``name`` still accepts (next, current, previous): rotation keeps tokens valid."""
        ring = self.keyfile.get(name)
        if ring is None:
            raise ProblemError(503, "provider_unavailable", f"missing key {name}")
        return ring.accepted()

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
        settings = platform.settings
        config = _OVERRIDES.get(key) or IdentityConfig.from_settings(settings)
        path = Path(config.keys_file or Path(settings.data_dir) / "identity-keys.json")
        # Made on first use if missing (embedded mode, tests); a production process never gets here
        # without the operator's shared file (backend.preflight refuses to start).
        keyfile = load_or_create_keys(path, reload_seconds=settings.keys_reload_seconds)
        ctx = Identity(platform=platform, config=config, keyfile=keyfile)
        _CONTEXTS[key] = ctx
        weakref.finalize(platform, _forget, key)
    return ctx


def _forget(key: int) -> None:
    _CONTEXTS.pop(key, None)
    _OVERRIDES.pop(key, None)
