"""SM2/SM3 against the published vectors, and the SM2SM3 JWS algorithm through joserfc."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from backend.lib import gmcrypto as gm
from backend.lib.gmcrypto import SM2Native

# GB/T 32905-2016 appendix A: example 1 ("abc") and example 2 ("abcd" × 16).
SM3_VECTORS = [
    (b"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
    (b"abcd" * 16, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
]

# The signature example on the recommended curve sm2p256v1 with the default user ID
# 1234567812345678 (GM/T 0003.5-2012 / GB/T 32918.5-2017 appendix A; OpenSSL's sm2_internal_test).
D = bytes.fromhex("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8")
PUBLIC = bytes.fromhex(
    "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
    "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
)
Z_A = "b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3"
E = "f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640"
R = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
S = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
MESSAGE = b"message digest"

# GB/T 32918.2-2016 appendix A: the example curve Fp-256 (not the recommended curve), ID ALICE123@YAHOO.COM.
EXAMPLE_CURVE = dict(
    p=0x8542D69E4C044F18E8B92435BF6FF7DE457283915C45517D722EDB8B08F1DFC3,
    a=0x787968B4FA32C3FD2417842E73BBFEFF2F3C848B6831D7E0EC65228B3937E498,
    b=0x63E4C6D3B23B0C849CF84241484BFE48F61D59A5B16BA06E6E12D1DA27C5249A,
    gx=0x421DEBD61B62EAB6746434EBC3CC315E32220B3BADD50BDC4C4E6C147FEDD43D,
    gy=0x0680512BCBB42C07D47349D2153B70C4E5D7FDFCBFA36EA1A85841B9E46E09A2,
    n=0x8542D69E4C044F18E8B92435BF6FF7DD297720630485628D5AE74EE7C32E79B7,
)
EXAMPLE_PUBLIC = (
    0x0AE4C7798AA0F119471BEE11825BE46202BB79E2A5844495E97C04FF4DF2548A,
    0x7C0240F88F1CD4E16352A73C17B7F16F07353E53A176D684A9FE0C6BB798E857,
)
EXAMPLE_Z = "f4a38489e32b45b6f876e3ac2168ca392362dc8f23459c1d1146fc3dbfb7bc9a"
EXAMPLE_E = "b524f552cd82b8b028476e005c377fb19a87e6fc682d48bb5d42e3d9b9effe76"
EXAMPLE_R = 0x40F1EC59F793D9F49E09DCEF49130D4194F79FB1EED2CAA55BACDB49C4E755D1
EXAMPLE_S = 0x6FC6DAC32C5D5CF10C77DFB20F7C2EB667A457872FB09EC56327A67EC7DEEBE7


@pytest.mark.parametrize(("message", "expected"), SM3_VECTORS)
def test_sm3_matches_the_standard(message, expected):
    assert gm.sm3(message).hex() == expected
    assert gm.digest("sm3", message) == expected


def test_the_recommended_curve_example_verifies_with_the_default_user_id():
    assert gm.user_hash(PUBLIC).hex() == Z_A
    assert gm.sm3(bytes.fromhex(Z_A) + MESSAGE).hex() == E
    key = SM2Native(PUBLIC)
    signature = bytes.fromhex(R + S)
    assert gm.verify(key, MESSAGE, signature)
    assert not gm.verify(key, MESSAGE + b" ", signature)
    assert not gm.verify(key, MESSAGE, signature[:-1] + bytes([signature[-1] ^ 1]))
    assert not gm.verify(key, MESSAGE, bytes(64))  # r = s = 0 is out of range, refused before GmSSL


def test_the_published_private_key_signs_what_its_public_key_verifies():
    key = SM2Native(PUBLIC, D)
    signature = gm.sign(key, MESSAGE)  # k is random: another (r, s) than the example's, equally valid
    assert len(signature) == 64 and gm.verify(SM2Native(PUBLIC), MESSAGE, signature)


def _example_verify(message: bytes, user_id: bytes, r: int, s: int) -> tuple[str, str, bool]:
    """GB/T 32918.2 §7 on the appendix's example curve, in plain integers (the library has the
    recommended curve only): proves the Z_A and e construction this module uses, with SM3 from GmSSL."""
    c = EXAMPLE_CURVE
    p, n = c["p"], c["n"]

    def add(P, Q):
        if P is None:
            return Q
        if Q is None:
            return P
        if P[0] == Q[0] and (P[1] + Q[1]) % p == 0:
            return None
        if P == Q:
            lam = (3 * P[0] * P[0] + c["a"]) * pow(2 * P[1], -1, p) % p
        else:
            lam = (Q[1] - P[1]) * pow(Q[0] - P[0], -1, p) % p
        x = (lam * lam - P[0] - Q[0]) % p
        return x, (lam * (P[0] - x) - P[1]) % p

    def mul(k, P):
        out = None
        while k:
            if k & 1:
                out = add(out, P)
            P, k = add(P, P), k >> 1
        return out

    b32 = lambda v: v.to_bytes(32, "big")  # noqa: E731
    z = gm.sm3(
        (len(user_id) * 8).to_bytes(2, "big")
        + user_id
        + b"".join(b32(c[k]) for k in ("a", "b", "gx", "gy"))
        + b32(EXAMPLE_PUBLIC[0])
        + b32(EXAMPLE_PUBLIC[1])
    )
    e = gm.sm3(z + message)
    t = (r + s) % n
    point = add(mul(s, (c["gx"], c["gy"])), mul(t, EXAMPLE_PUBLIC))
    return z.hex(), e.hex(), point is not None and (int.from_bytes(e, "big") + point[0]) % n == r


def test_the_gbt_32918_2_appendix_example_verifies():
    z, e, valid = _example_verify(b"message digest", b"ALICE123@YAHOO.COM", EXAMPLE_R, EXAMPLE_S)
    assert (z, e, valid) == (EXAMPLE_Z, EXAMPLE_E, True)
    assert not _example_verify(b"message digesT", b"ALICE123@YAHOO.COM", EXAMPLE_R, EXAMPLE_S)[2]


def test_an_sm2_jwk_round_trips_and_refuses_bad_keys():
    key = gm.SM2Key.generate_key(parameters={"kid": "k1", "use": "sig", "alg": gm.SM2_ALG})
    private = key.as_dict(private=True)
    public = key.as_dict()
    assert public["kty"] == "EC" and public["crv"] == "SM2" and "d" not in public
    assert gm.import_jwk(private).as_dict(private=True) == private
    with pytest.raises(ValueError, match="not a point"):
        gm.import_jwk({**public, "y": public["x"]})
    other = gm.SM2Key.generate_key().as_dict(private=True)
    with pytest.raises(ValueError, match="does not match"):
        gm.import_jwk({**private, "d": other["d"]})
    assert isinstance(gm.import_jwk(ECKey.generate_key("P-256").as_dict()), ECKey)  # NIST curves unchanged


def test_sm2sm3_is_a_jws_algorithm_and_not_interchangeable_with_es256():
    sm2 = gm.SM2Key.generate_key(parameters={"kid": "s", "alg": gm.SM2_ALG})
    p256 = ECKey.generate_key("P-256", parameters={"kid": "e", "alg": "ES256"})
    registry = jws.JWSRegistry(algorithms=[gm.SM2_ALG, "ES256"])
    token = jws.serialize_compact({"alg": gm.SM2_ALG, "kid": "s"}, b"payload", gm.GMKeySet([sm2]), registry=registry)
    both = gm.import_key_set({"keys": [sm2.as_dict(), p256.as_dict()]})
    assert jws.deserialize_compact(token, both, registry=registry).payload == b"payload"
    with pytest.raises(JoseError):  # the same signature over another payload
        jws.deserialize_compact(jws.detach_content(token), both, registry=registry, payload=b"other")
    with pytest.raises(JoseError):  # an ES256 header naming the SM2 key finds no key of that algorithm
        jws.serialize_compact({"alg": "ES256", "kid": "s"}, b"x", gm.GMKeySet([sm2]), registry=registry)
    es = jws.serialize_compact({"alg": "ES256", "kid": "e"}, b"x", p256, registry=registry)
    with pytest.raises(JoseError):  # and only the algorithms a verifier allows are accepted
        jws.deserialize_compact(es, both, registry=jws.JWSRegistry(algorithms=[gm.SM2_ALG]))


def test_the_example_signature_in_der_is_what_gmssl_checks():
    # the module speaks r ‖ s and converts to GmSSL's DER; the conversion keeps the published value valid
    der = encode_dss_signature(int(R, 16), int(S, 16))
    import gmssl_pyx

    assert gmssl_pyx.sm2_verify_sm3_digest(PUBLIC, bytes.fromhex(E), der)
