"""JOSE signing shared by both ends of every integration (ES256 or SM2/SM3, detached JWS).

Each message (request, response, callback) is signed as a JWS with a *detached* payload
(RFC 7515 Appendix F) carried in the ``X-Signature`` header: ``<protected>..<signature>``;
the payload is the exact HTTP body bytes (empty for GET). The protected header carries:

- ``alg`` (``ES256``, or ``SM2SM3`` for a system whose spec asks for 国密 signatures, see
  ``backend.lib.gmcrypto``), ``kid`` (key in the signer's JWKS);
- ``iat`` and ``exp`` (seconds since epoch) – a message is valid for a few minutes only;
- ``jti`` – unique per message, for replay detection;
- ``htm`` / ``htu`` on requests – method and path relative to the system's base URL, so a
  signature cannot be replayed on another endpoint; ``idk`` – the ``Idempotency-Key``, so a
  captured request cannot be re-sent under another key;
- ``irt`` on responses – the ``jti`` of the request answered.

The key material is JWK (joserfc); public keys are published as a JWKS. The algorithm follows
the key (a P-256 key signs ES256, an SM2 key SM2SM3); a verifier may be limited to one algorithm,
so a system specified as SM2 cannot be answered with an ES256 signature (no downgrade).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet
from joserfc.registry import HeaderParameter

from backend.lib.gmcrypto import SM2_ALG, GMKeySet, SM2Key, import_jwk, import_key_set

SIGNATURE_HEADER = "X-Signature"
CLIENT_ID_HEADER = "X-Client-Id"
IDEMPOTENCY_HEADER = "Idempotency-Key"
ALGORITHM = "ES256"
#: JWS ``alg`` per signature algorithm a system's spec may name (``x-signature-algorithm``).
SIGNATURE_ALGORITHMS = {"ES256": "ES256", "SM2": SM2_ALG}
JWS_ALGORITHMS = tuple(SIGNATURE_ALGORITHMS.values())
#: Default lifetime of a signed message; verifiers also allow this much clock skew.
DEFAULT_TTL = 300
MAX_SKEW = 60

_EXTRA_HEADERS = {
    "iat": HeaderParameter("issued at (seconds)", "int", True),
    "exp": HeaderParameter("expires at (seconds)", "int", True),
    "jti": HeaderParameter("unique message id", "str", True),
    "htm": HeaderParameter("HTTP method", "str"),
    "htu": HeaderParameter("HTTP path relative to the base URL", "str"),
    "irt": HeaderParameter("jti of the request this answers", "str"),
    "idk": HeaderParameter("the request's Idempotency-Key", "str"),
}


def jws_alg(signature_algorithm: str) -> str:
    """The JWS ``alg`` of a spec's signature algorithm (``ES256`` → ``ES256``, ``SM2`` → ``SM2SM3``)."""
    try:
        return SIGNATURE_ALGORITHMS[signature_algorithm]
    except KeyError:
        raise ValueError(f"unknown signature algorithm {signature_algorithm!r} (ES256 or SM2)") from None


def _registry(algorithms: tuple[str, ...] = JWS_ALGORITHMS) -> jws.JWSRegistry:
    registry = jws.JWSRegistry(header_registry=_EXTRA_HEADERS, algorithms=list(algorithms))
    registry.max_payload_length = 20_000_000  # result documents travel inline
    return registry


class SignatureError(Exception):
    """A signature is missing, malformed, forged, expired or from an unknown key."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def generate_signing_key(kid: str | None = None, algorithm: str = "ES256") -> dict[str, Any]:
    """A fresh private JWK (dict) with a ``kid``: EC P-256 for ``ES256``, SM2 for ``SM2``."""
    alg = jws_alg(algorithm)
    parameters: Any = {"kid": kid or uuid.uuid4().hex[:16], "use": "sig", "alg": alg}
    if alg == SM2_ALG:
        return dict(SM2Key.generate_key(parameters=parameters).as_dict(private=True))
    return dict(ECKey.generate_key("P-256", parameters=parameters, private=True).as_dict(private=True))


def key_alg(jwk: Mapping[str, Any]) -> str:
    """The JWS ``alg`` a JWK signs with (its ``alg``, else from its curve)."""
    if jwk.get("alg"):
        return str(jwk["alg"])
    return SM2_ALG if jwk.get("crv") == "SM2" else ALGORITHM


def public_jwk(private_jwk: Mapping[str, Any]) -> dict[str, Any]:
    """The public half of a private JWK."""
    return dict(import_jwk(dict(private_jwk)).as_dict(private=False))


def jwks_of(*private_or_public: Mapping[str, Any]) -> dict[str, Any]:
    """A public JWKS document from one or more JWKs."""
    return {"keys": [public_jwk(k) for k in private_or_public]}


class Signer:
    """Signs bodies with one private key."""

    def __init__(self, private_jwk: Mapping[str, Any], ttl: int = DEFAULT_TTL) -> None:
        key = import_jwk(dict(private_jwk))
        self.kid = str(private_jwk.get("kid") or key.thumbprint())
        if not key.kid:
            key = import_jwk({**private_jwk, "kid": self.kid})
        self.alg = key_alg(private_jwk)
        self._key = GMKeySet([key])  # joserfc finds an SM2 key by kid in a key set only
        self.ttl = ttl
        self._registry = _registry((self.alg,))

    def sign(
        self, body: bytes, *, jti: str | None = None, now: float | None = None, **extra: str | None
    ) -> tuple[str, str]:
        """Return ``(detached_jws, jti)`` for ``body``; ``extra`` adds htm/htu/idk/irt."""
        issued = int(now if now is not None else time.time())
        jti = jti or uuid.uuid4().hex
        header: dict[str, Any] = {
            "alg": self.alg,
            "kid": self.kid,
            "iat": issued,
            "exp": issued + self.ttl,
            "jti": jti,
        }
        header.update({k: v for k, v in extra.items() if v is not None})
        token = jws.serialize_compact(header, body, self._key, registry=self._registry)
        return jws.detach_content(token), jti


class Verifier:
    """Verifies detached signatures against a JWKS (dict or ``KeySet``), limited to ``algorithms``
    (JWS names; default every one the platform knows)."""

    def __init__(self, jwks: Mapping[str, Any] | KeySet, algorithms: tuple[str, ...] | None = None) -> None:
        self.key_set = jwks if isinstance(jwks, KeySet) else import_key_set(dict(jwks))
        self.algorithms = tuple(algorithms or JWS_ALGORITHMS)
        self._registry = _registry(self.algorithms)

    def has_kid(self, kid: str) -> bool:
        """Whether the JWKS holds a key with this ``kid``."""
        return any(k.kid == kid for k in self.key_set)

    def verify(self, signature: str | None, body: bytes, *, now: float | None = None) -> dict[str, Any]:
        """Verify and return the protected header; raises ``SignatureError``."""
        if not signature:
            raise SignatureError("missing_signature", "缺少签名 / The message is not signed.")
        if signature.count(".") != 2 or signature.split(".")[1] != "":
            raise SignatureError("malformed_signature", "签名格式错误 / The signature is not a detached JWS.")
        try:
            obj = jws.deserialize_compact(signature, self.key_set, registry=self._registry, payload=body)
        except JoseError as exc:
            code = "unknown_key" if "key" in type(exc).__name__.lower() else "invalid_signature"
            raise SignatureError(code, f"签名无效 / Invalid signature ({exc.error})") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise SignatureError("invalid_signature", f"签名无效 / Invalid signature ({exc})") from exc
        header = dict(obj.headers())
        current = now if now is not None else time.time()
        if header["iat"] > current + MAX_SKEW:
            raise SignatureError("not_yet_valid", "签名时间晚于当前时间 / The signature is issued in the future.")
        if header["exp"] < current - MAX_SKEW:
            raise SignatureError("expired_signature", "签名已过期 / The signature has expired.")
        if header["exp"] - header["iat"] > 3600:
            raise SignatureError("validity_too_long", "签名有效期过长 / The signature is valid for too long.")
        return header


def peek_header(signature: str | None) -> dict[str, Any] | None:
    """The protected header of a detached JWS without verifying it (None if unreadable)."""
    if not signature:
        return None
    try:
        import base64
        import json

        part = signature.split(".")[0]
        data = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        return data if isinstance(data, dict) else None
    except Exception:
        return None


def peek_kid(signature: str | None) -> str | None:
    """The ``kid`` of a detached JWS without verifying it (to decide whether to refresh a JWKS)."""
    header = peek_header(signature)
    return str(header.get("kid")) if header is not None else None
