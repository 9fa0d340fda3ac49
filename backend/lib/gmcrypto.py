"""国密 (SM2 signatures with SM3 hashes) for JOSE: an SM2 JWK type and the ``SM2SM3`` JWS algorithm.

Chinese government systems are assessed against GB/T 39786-2021, which expects SM2 signatures
(GB/T 32918) over SM3 hashes (GB/T 32905). The arithmetic is GmSSL's (through ``gmssl-pyx``;
see docs/architecture.md for why that library); this module adds what JOSE needs around it:

- **JWK**: ``{"kty": "EC", "crv": "SM2", "x": ..., "y": ..., "d": ...}``, the coordinates and the
  private scalar as 32-byte big-endian base64url, as for the NIST curves (RFC 7518 §6.2);
- **JWS** ``alg`` ``SM2SM3``: the signature over the JWS signing input is SM2 with
  e = SM3(Z_A ‖ M), Z_A computed with the default user ID ``1234567812345678`` (GM/T 0009-2012
  §10); the signature value is r ‖ s, 32 bytes each (as ES256 carries its r ‖ s, RFC 7518 §3.4).

The algorithm is registered with joserfc's JWS registry (``JWSRegistry.register``); key sets
holding both kinds are read with ``import_key_set``, which knows the SM2 curve.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, cast

import gmssl_pyx
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from joserfc._rfc7515.model import JWSAlgModel
from joserfc._rfc7517.models import CurveKey, NativeKeyBinding
from joserfc.errors import InvalidKeyCurveError
from joserfc.jwk import JWKRegistry, KeySet
from joserfc.jws import JWSRegistry
from joserfc.registry import KeyParameter
from joserfc.util import base64_to_int, int_to_base64

#: The JWS ``alg`` of SM2 with SM3, and the JWK ``crv`` of the SM2 curve (sm2p256v1).
SM2_ALG = "SM2SM3"
SM2_CURVE = "SM2"
#: GM/T 0009-2012 §10: the user ID signers and verifiers use when none is agreed.
DEFAULT_USER_ID = b"1234567812345678"

# sm2p256v1, GB/T 32918.5-2017
P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0


def sm3(data: bytes) -> bytes:
    """SM3 digest (GB/T 32905-2016), 32 bytes."""
    return bytes(gmssl_pyx.sm3_hash(data))


def digest(algorithm: str, data: bytes) -> str:
    """Hex digest with ``sha256`` or ``sm3`` (the timeline's hash chain names one per event)."""
    if algorithm == "sm3":
        return sm3(data).hex()
    if algorithm == "sha256":
        return hashlib.sha256(data).hexdigest()
    raise ValueError(f"unknown hash algorithm {algorithm!r}")


def _b32(value: int) -> bytes:
    return value.to_bytes(32, "big")


def user_hash(public: bytes, user_id: bytes = DEFAULT_USER_ID) -> bytes:
    """Z_A = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A) (GB/T 32918.2-2016 §5.5); ``public`` is x ‖ y."""
    entl = (len(user_id) * 8).to_bytes(2, "big")
    return sm3(entl + user_id + _b32(A) + _b32(B) + _b32(GX) + _b32(GY) + public)


def on_curve(x: int, y: int) -> bool:
    """Whether (x, y) is a point of sm2p256v1 (its cofactor is 1: every such point is in the group)."""
    return 0 <= x < P and 0 <= y < P and (y * y - (x * x * x + A * x + B)) % P == 0


@dataclass(frozen=True)
class SM2Native:
    """An SM2 key pair as GmSSL takes it: public x ‖ y (64 bytes), private scalar (32 bytes) or None."""

    public: bytes
    private: bytes | None = None

    def z(self) -> bytes:
        return _user_hash_cached(self.public)


_Z_CACHE: dict[bytes, bytes] = {}


def _user_hash_cached(public: bytes) -> bytes:
    z = _Z_CACHE.get(public)
    if z is None:
        if len(_Z_CACHE) > 1024:
            _Z_CACHE.clear()
        z = _Z_CACHE[public] = user_hash(public)
    return z


def sign_digest(key: SM2Native, e: bytes) -> bytes:
    """r ‖ s over a 32-byte e = SM3(Z_A ‖ M)."""
    if key.private is None:
        raise ValueError("an SM2 signature needs the private key")
    r, s = decode_dss_signature(gmssl_pyx.sm2_sign_sm3_digest(key.private, e))
    return _b32(r) + _b32(s)


def verify_digest(key: SM2Native, e: bytes, signature: bytes) -> bool:
    """Whether r ‖ s is a valid signature of e by ``key``."""
    if len(signature) != 64:
        return False
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if not (0 < r < N and 0 < s < N):
        return False
    return bool(gmssl_pyx.sm2_verify_sm3_digest(key.public, e, encode_dss_signature(r, s)))


def sign(key: SM2Native, message: bytes) -> bytes:
    """SM2 signature (r ‖ s) of ``message`` with the default user ID."""
    return sign_digest(key, sm3(key.z() + message))


def verify(key: SM2Native, message: bytes, signature: bytes) -> bool:
    """Whether r ‖ s is ``key``'s SM2 signature of ``message`` (default user ID)."""
    return verify_digest(key, sm3(key.z() + message), signature)


class SM2Binding(NativeKeyBinding):
    """JWK ⇄ ``SM2Native``, with the checks a key from outside needs (point on the curve, scalar in range)."""

    @classmethod
    def convert_raw_key_to_dict(cls, raw_key: SM2Native, private: bool) -> Any:
        out: dict[str, Any] = {
            "crv": SM2_CURVE,
            "x": int_to_base64(int.from_bytes(raw_key.public[:32], "big"), 32),
            "y": int_to_base64(int.from_bytes(raw_key.public[32:], "big"), 32),
        }
        if private and raw_key.private is not None:
            out["d"] = int_to_base64(int.from_bytes(raw_key.private, "big"), 32)
        return out

    @classmethod
    def import_from_dict(cls, value: Any) -> SM2Native:
        if value.get("crv") != SM2_CURVE:
            raise InvalidKeyCurveError(f"Invalid crv value: '{value.get('crv')}'")
        x, y = base64_to_int(value["x"]), base64_to_int(value["y"])
        if not on_curve(x, y):
            raise ValueError("the SM2 public key is not a point of the curve")
        public = _b32(x) + _b32(y)
        if "d" not in value:
            return SM2Native(public)
        d = base64_to_int(value["d"])
        if not 0 < d < N - 1:
            raise ValueError("the SM2 private key is out of range")
        native = SM2Native(public, _b32(d))
        probe = sm3(b"key check")
        if not verify_digest(native, probe, sign_digest(native, probe)):  # d and (x, y) belong together
            raise ValueError("the SM2 private key does not match its public key")
        return native

    @classmethod
    def import_from_bytes(cls, value: bytes, password: str | bytes | None = None) -> Any:
        raise ValueError("SM2 keys are read as JWK only")


class SM2Key(CurveKey[SM2Native, SM2Native]):
    """An SM2 key as JWK: ``kty`` ``EC``, ``crv`` ``SM2`` (the NIST-curve ``ECKey`` cannot hold it)."""

    key_type = "EC"
    value_registry: ClassVar[Any] = {
        "crv": KeyParameter("Curve", "str", private=False, required=True),
        "x": KeyParameter("X Coordinate", "str", private=False, required=True),
        "y": KeyParameter("Y Coordinate", "str", private=False, required=True),
        "d": KeyParameter("EC Private Key", "str", private=True, required=False),
    }
    binding = SM2Binding

    @property
    def is_private(self) -> bool:
        return self.raw_value.private is not None

    @property
    def public_key(self) -> SM2Native:
        return SM2Native(self.raw_value.public)

    @property
    def private_key(self) -> SM2Native | None:
        return self.raw_value if self.is_private else None

    @property
    def curve_name(self) -> str:
        return SM2_CURVE

    @property
    def curve_key_size(self) -> int:
        return 256

    def exchange_derive_key(self, key: Any) -> bytes:
        raise NotImplementedError("SM2 key exchange is not used here")

    @classmethod
    def generate_key(  # type: ignore[override]
        cls,
        crv: str | None = SM2_CURVE,
        parameters: dict[str, Any] | None = None,
        private: bool = True,
        auto_kid: bool = False,
    ) -> SM2Key:
        """A fresh SM2 key pair (GmSSL's generator)."""
        public, secret = gmssl_pyx.sm2_key_generate()
        native = SM2Native(bytes(public), bytes(secret) if private else None)
        key = cls(native, native, cast(Any, parameters))
        if auto_kid:
            key.ensure_kid()
        return key


def is_sm2_jwk(data: Any) -> bool:
    """Whether a JWK dict is an SM2 key."""
    return isinstance(data, dict) and data.get("kty") == "EC" and data.get("crv") == SM2_CURVE


class GMJWKRegistry(JWKRegistry):
    """joserfc's key registry, reading ``kty`` ``EC`` with ``crv`` ``SM2`` as an ``SM2Key``."""

    @classmethod
    def import_key(cls, data: Any, key_type: str | None = None, parameters: Any = None) -> Any:
        if is_sm2_jwk(data) and key_type in (None, "EC"):
            return SM2Key.import_key(data, parameters)
        return super().import_key(data, key_type, parameters)


class GMKeySet(KeySet):
    """A JWKS that may hold SM2 keys beside the NIST-curve ones."""

    registry_cls = GMJWKRegistry


def import_jwk(data: dict[str, Any]) -> Any:
    """An ``ECKey`` or ``SM2Key`` (or any joserfc key) from a JWK dict."""
    return GMJWKRegistry.import_key(dict(data))


def import_key_set(data: dict[str, Any]) -> GMKeySet:
    """A key set (JWKS dict) with SM2 keys read as ``SM2Key``."""
    return GMKeySet.import_key_set(cast(Any, data))


class SM2SM3Algorithm(JWSAlgModel):
    """JWS ``SM2SM3``: SM2 signature (GB/T 32918.2) with SM3 and the default user ID; r ‖ s."""

    name = SM2_ALG
    description = "SM2 signature with SM3 (GB/T 32918.2, GM/T 0009 default user ID)"
    key_type = "EC"
    algorithm_type: Literal["JWS"] = "JWS"
    algorithm_location: Literal["sig"] = "sig"
    security_warning = None

    def check_key(self, key: Any) -> None:
        super().check_key(key)
        if not isinstance(key, SM2Key):
            raise InvalidKeyCurveError(f"Key for '{self.name}' not supported, only '{SM2_CURVE}' allowed")

    def sign(self, msg: bytes, key: SM2Key) -> bytes:
        private = key.private_key
        if private is None:
            raise ValueError("an SM2 signature needs the private key")
        return sign(private, msg)

    def verify(self, msg: bytes, sig: bytes, key: SM2Key) -> bool:
        return verify(key.public_key, msg, sig)


JWSRegistry.register(SM2SM3Algorithm())
