"""Wiring the platform to the agency systems: our signing key and one connector per system.

The platform signs every outbound request with the current key of its signing key set
(``SIGNING_KEY_FILE``, see ``backend.lib.keyring``; generated under ``DATA_DIR/keys`` on first
start in embedded mode): the ``signing`` ring (ES256) for systems whose spec says ES256, the
``signing-sm2`` ring (SM2 with SM3) for those that say SM2 (``SIGNATURE_ALGORITHMS`` overrides a
spec's choice per deployment). It publishes every accepted key of both rings at
``/.well-known/jwks.json`` and identifies itself with ``PLATFORM_CLIENT_ID``.
Each system is reached at ``CONNECTOR_BASE_URL/<system>``;
with the test environment on and no base URL given, that is this platform's own
``/sim/<system>`` (the simulators mounted in-process).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backend.connectors import registration_lookup
from backend.connectors.client import Credentials
from backend.connectors.push import PushConnector, all_push_specs
from backend.connectors.registration_lookup.client import RegistrationLookupClient
from backend.connectors.registry import all_specs, build_connectors
from backend.connectors.signing import Verifier, jws_alg
from backend.connectors.spec import with_signature_algorithm
from backend.lib.keyring import KeyFile, load_or_create
from backend.registration import RegistrationDirectory, SandboxDirectory, UnavailableDirectory
from backend.settings import Settings

PLATFORM_CLIENT_ID = "yjs-platform"


SIGNING_RING = "signing"
SM2_SIGNING_RING = "signing-sm2"
#: ring → (kid prefix, JWS alg) of the platform's signing key set
SIGNING_RINGS = {SIGNING_RING: (PLATFORM_CLIENT_ID, "ES256"), SM2_SIGNING_RING: (PLATFORM_CLIENT_ID + "-sm2", "SM2SM3")}
RING_OF_ALG = {alg: ring for ring, (_, alg) in SIGNING_RINGS.items()}


def signing_key_path(settings: Settings) -> Path:
    """Where the platform's signing key set is (``SIGNING_KEY_FILE``, default under ``DATA_DIR/keys``)."""
    if settings.signing_key_file:
        return Path(settings.signing_key_file)
    return Path(settings.data_dir) / "keys" / "platform-signing.jwk.json"


_KEYFILES: dict[tuple[str, float], KeyFile] = {}


def platform_signing_keys(settings: Settings) -> KeyFile:
    """The platform's signing key set (one per path and process), made on first use if missing;
    production refuses to start without the operator's shared file (``backend.preflight``)."""
    path = signing_key_path(settings)
    cache_key = (str(path), settings.keys_reload_seconds)
    keyfile = _KEYFILES.get(cache_key)
    if keyfile is None:
        if settings.mode == "production" and settings.signing_key_file:
            keyfile = KeyFile(path, SIGNING_RING, settings.keys_reload_seconds)
        else:
            keyfile = load_or_create(
                path,
                SIGNING_RING,
                {ring: prefix for ring, (prefix, _) in SIGNING_RINGS.items()},
                settings.keys_reload_seconds,
                algorithms={ring: alg for ring, (_, alg) in SIGNING_RINGS.items()},
                add_missing=True,  # a file from before SM2 gains its SM2 ring
            )
        keyfile.ring()
        _KEYFILES[cache_key] = keyfile
    return keyfile


def platform_jwks(settings: Settings) -> dict[str, Any]:
    """The JWKS agencies verify our signatures with: every accepted key (next, current, previous) of
    every ring (ES256 and SM2)."""
    rings = platform_signing_keys(settings).rings()
    return {"keys": [k for ring in SIGNING_RINGS if ring in rings for k in rings[ring].public_jwks()["keys"]]}


def platform_credentials(settings: Settings) -> Any:
    """Our client id and current keys of both algorithms (each connector signs with its spec's)."""
    keys = platform_signing_keys(settings)
    rings = keys.rings()
    return Credentials(
        client_id=PLATFORM_CLIENT_ID,
        signing_key=keys.ring().current_jwk(),
        signing_keys={alg: rings[ring].current_jwk() for alg, ring in RING_OF_ALG.items() if ring in rings},
    )


def _follow_rotation(connector: Any, keys: KeyFile) -> None:
    """Let ``connector`` sign with the current key of its algorithm's ring as the file rotates."""
    ring = RING_OF_ALG[connector.alg]
    connector.signing_key_source = lambda: keys.ring(ring).current_jwk()


def connector_base_url(settings: Settings) -> str:
    if settings.connector_base_url:
        return settings.connector_base_url.rstrip("/")
    if settings.test_env_enabled:
        return settings.base_url + "/sim"
    return ""


def build_platform_connectors(settings: Settings) -> dict[str, Any]:
    """One connector per business system (none when no agency address is configured)."""

    base = connector_base_url(settings)
    if not base:
        return {}
    keys = platform_signing_keys(settings)
    connectors = build_connectors(
        {code: f"{base}/{code}" for code in all_specs()},
        platform_credentials(settings),
        signature_algorithms=settings.signature_algorithms,
    )
    for connector in connectors.values():
        _follow_rotation(connector, keys)  # without a restart
    return connectors


def default_directory(settings: Settings) -> RegistrationDirectory:
    """The lookup client when ``REGISTRATION_LOOKUP_URL`` is set; else the fixtures (test environment) or 503."""
    if settings.registration_lookup_url:
        algorithm = registration_lookup.signature_algorithm(settings.signature_algorithms)
        keys, ring = platform_signing_keys(settings), RING_OF_ALG[jws_alg(algorithm)]
        return RegistrationLookupClient(
            settings.registration_lookup_url,
            client_id=PLATFORM_CLIENT_ID,
            signing_key=keys.ring(ring).current_jwk(),
            signing_key_source=lambda: keys.ring(ring).current_jwk(),  # follows the key file's rotation
        )
    return SandboxDirectory() if settings.test_env_enabled else UnavailableDirectory()


class KeyFileVerifier(Verifier):
    """A ``Verifier`` of the platform's own signatures (those of ``alg``'s ring) that follows the
    signing key file's rotation."""

    def __init__(self, keys: KeyFile, alg: str = "ES256") -> None:
        self._keys = keys
        self._ring = RING_OF_ALG[alg]
        super().__init__(keys.ring(self._ring).public_jwks(), (alg,))

    @property
    def key_set(self):
        return self._keys.ring(self._ring).accepted()

    @key_set.setter
    def key_set(self, value) -> None:  # the base class sets it once; the key file is the truth here
        pass


def push_system_url(settings: Settings, code: str) -> str:
    """Where a push system is: its own setting (``RATINGS_SYSTEM_URL``, ``SMS_GATEWAY_URL``), else,
    with the test environment on, its simulator beside the agency ones; else nowhere (not configured)."""
    configured = {"haochaping": settings.ratings_system_url, "sms": settings.sms_gateway_url}[code]
    if configured:
        return configured.rstrip("/")
    base = connector_base_url(settings) if settings.test_env_enabled else ""
    return f"{base}/{code}" if base else ""


def build_push_connectors(settings: Settings) -> dict[str, Any]:
    """One ``PushConnector`` per configured push system (好差评, SMS), signed with the platform's current key."""

    out: dict[str, Any] = {}
    keys = platform_signing_keys(settings)
    for code, spec in all_push_specs().items():
        url = push_system_url(settings, code)
        if url:
            spec = with_signature_algorithm(spec, settings.signature_algorithms)
            connector = PushConnector(spec, url, platform_credentials(settings))
            _follow_rotation(connector, keys)
            out[code] = connector
    return out
