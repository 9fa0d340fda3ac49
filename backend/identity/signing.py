"""E-signature (电子签名) of documents by every required signer, and e-seal (电子印章) verification.

``create_signing`` stores the document with its SHA-256 and creates one request per signer,
each with a link the signer opens on their own phone. The signing provider shows the hash,
verifies the signer's face, signs, and posts a signed callback (``typ`` ``signature+jwt``)
naming the request, its nonce and the document hash; a callback for another hash, a forged,
expired or replayed one changes nothing. ``signing_status`` says who has signed.

E-seals: an agency's result document comes with a seal JWS (``typ`` ``seal+jwt``) over the
document's SHA-256, signed by the e-seal provider; ``verify_seal`` checks it.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Literal
from urllib.parse import urlencode

import msgspec

from backend.db import raw, writing_transaction
from backend.identity.config import SANDBOX_SEAL_KEY, SANDBOX_SIGN_KEY, Identity, get_identity
from backend.identity.principal import Principal, forbidden, new_id, sha256_hex
from backend.identity.signed import consume_jti, verify_message
from backend.identity.tables import SignatureRequest, SigningDocument
from backend.lib.problems import ProblemError
from backend.platform import Platform

SIGNATURE_TYP = "signature+jwt"
SEAL_TYP = "seal+jwt"


class SignerRef(msgspec.Struct, frozen=True):
    """A required signer: person id (the identity provider's ``sub``) and display name."""

    person_id: str
    name: str = ""


class SignatureLink(msgspec.Struct, kw_only=True):
    request_id: str
    person_id: str
    name: str
    sign_url: str


class SigningCreated(msgspec.Struct, kw_only=True):
    document_id: str
    reference: str
    sha256: str
    requests: list[SignatureLink]


class SignerStatus(msgspec.Struct, kw_only=True):
    request_id: str
    person_id: str
    name: str
    status: Literal["pending", "signed", "declined"]
    signed_at: int | None = None


class DocumentStatus(msgspec.Struct, kw_only=True):
    document_id: str
    title: str
    sha256: str
    signers: list[SignerStatus]
    complete: bool


class SigningStatus(msgspec.Struct, kw_only=True):
    reference: str
    documents: list[DocumentStatus]
    complete: bool
    """True when there is at least one document and every signer of every document has signed."""
    missing: list[str]
    """Names of the signers still to sign."""


class SealVerification(msgspec.Struct, kw_only=True):
    """The outcome of checking a result document's e-seal (shown to the user)."""

    valid: bool
    sha256: str
    reason: str
    holder: str | None = None
    holder_uscc: str | None = None
    seal_id: str | None = None
    sealed_at: int | None = None
    issuer: str | None = None


def sign_provider_base(identity: Identity) -> str:
    return (identity.config.sign_provider_url or f"{identity.base_url}/sandbox/sign").rstrip("/")


def seal_provider_issuer(identity: Identity) -> str:
    """The e-seal provider's ``iss``."""
    return (identity.config.seal_provider_url or f"{identity.base_url}/sandbox/seal").rstrip("/")


def sign_url(identity: Identity, request: SignatureRequest, sha256: str, title: str) -> str:
    query = urlencode(
        {
            "request_id": request.request_id,
            "signer": request.person_id,
            "nonce": request.nonce,
            "sha256": sha256,
            "title": title,
            "name": request.person_name,
            "callback": f"{identity.base_url}/api/v1/signatures/callback",
        }
    )
    return f"{sign_provider_base(identity)}/session?{query}"


async def create_signing(
    platform: Platform,
    document_bytes: bytes,
    title: str,
    signers: list[SignerRef | str],
    reference: str,
    media_type: str = "application/pdf",
) -> SigningCreated:
    """Store the document with its SHA-256 and create one signature request per signer."""
    if not document_bytes:
        raise ProblemError(422, "empty_document", "待签署文件为空。 The document is empty.")
    refs = [s if isinstance(s, SignerRef) else SignerRef(person_id=s) for s in signers]
    if not refs or len({s.person_id for s in refs}) != len(refs):
        raise ProblemError(422, "invalid_signers", "签署人不能为空或重复。 Signers must be given once each.")
    identity = get_identity(platform)
    digest = hashlib.sha256(document_bytes).hexdigest()
    now = identity.now_ms()
    document = SigningDocument(
        document_id=new_id("d"),
        reference=reference,
        title=title[:200],
        sha256=digest,
        media_type=media_type,
        content=document_bytes,
        created_at=now,
    )
    from backend.identity.directory import registration_directory

    directory = registration_directory(platform)
    rows = []
    for ref in refs:
        name = ref.name
        if not name:
            try:
                person = await directory.person(ref.person_id)
            except ProblemError:
                person = None
            name = person.name if person else ""
        rows.append(
            SignatureRequest(
                request_id=new_id("sr"),
                document_id=document.document_id,
                reference=reference,
                person_id=ref.person_id,
                person_name=name,
                nonce=secrets.token_urlsafe(24),
                created_at=now,
            )
        )
    async with writing_transaction(platform.engine):
        await SigningDocument.insert(document)
        await SignatureRequest.insert(*rows)
    return SigningCreated(
        document_id=document.document_id,
        reference=reference,
        sha256=digest,
        requests=[
            SignatureLink(
                request_id=r.request_id,
                person_id=r.person_id,
                name=r.person_name,
                sign_url=sign_url(identity, r, digest, title),
            )
            for r in rows
        ],
    )


async def accept_signature(platform: Platform, token: str) -> SignerStatus:
    """Verify the signing provider's callback and record the signature against the document hash."""
    identity = get_identity(platform)
    issuer = sign_provider_base(identity)
    source = identity.source(SANDBOX_SIGN_KEY, identity.config.sign_provider_jwks_url)
    claims = await verify_message(identity, token, source, issuer=issuer, typ=SIGNATURE_TYP, audience=identity.base_url)
    decision = claims.get("decision")
    if decision not in ("signed", "declined"):
        raise ProblemError(401, "callback_invalid", "签署结果无效。 Invalid decision.")
    now = identity.now_ms()
    async with writing_transaction(platform.engine):
        row = (
            await SignatureRequest.objects()
            .where(SignatureRequest.request_id == str(claims.get("request_id", "")))
            .first()
        )
        if row is None:
            raise ProblemError(404, "signature_request_not_found", "签署请求不存在。 No such signature request.")
        document = (
            await SigningDocument.select(SigningDocument.sha256)
            .where(SigningDocument.document_id == row.document_id)
            .first()
        )
        if document is None:  # documents are never deleted; answer as for a missing request all the same
            raise ProblemError(404, "signature_request_not_found", "签署请求不存在。 No such signature request.")
        if not secrets.compare_digest(str(claims.get("nonce", "")), row.nonce):
            raise ProblemError(409, "callback_nonce_mismatch", "签署随机数不符。 The nonce does not match the request.")
        if claims.get("document_sha256") != document["sha256"]:
            raise ProblemError(
                409,
                "callback_hash_mismatch",
                "签署的文件与待签文件不一致。 The signed hash is not this document's hash.",
            )
        if claims.get("signer") != row.person_id:
            raise ProblemError(
                409, "callback_signer_mismatch", "签署人与签署请求不符。 The signer is not the person asked to sign."
            )
        if decision == "signed" and claims.get("face_verified") is not True:
            raise ProblemError(
                409, "face_verification_required", "签署前须完成人脸识别。 The signer's face was not verified."
            )
        await consume_jti(identity, issuer, claims["jti"], claims["exp"])
        if row.status != "pending":
            raise ProblemError(409, "signature_completed", "该签署请求已有结果。 This request already has a result.")
        await SignatureRequest.update(
            {SignatureRequest.status: decision, SignatureRequest.signed_at: now, SignatureRequest.evidence: token}
        ).where((SignatureRequest.id == row.id) & (SignatureRequest.status == "pending"))
    return SignerStatus(
        request_id=row.request_id, person_id=row.person_id, name=row.person_name, status=decision, signed_at=now
    )


async def signing_status(platform: Platform, reference: str) -> SigningStatus:
    """Who has signed the documents of ``reference``, and whether all have."""
    # one prebuilt statement: every submission checks it (docs/benchmarks.md)
    rows = await raw(
        SigningDocument,
        "SELECT d.document_id, d.title, d.sha256, r.request_id, r.person_id, r.person_name, r.status, r.signed_at "
        "FROM identity_signing_document d LEFT JOIN identity_signature_request r ON r.document_id = d.document_id AND "
        "r.reference = d.reference "
        "WHERE d.reference = {} ORDER BY d.created_at, d.id, r.created_at, r.id",
        reference,
    )
    signers_of: dict[str, list[SignerStatus]] = {}
    documents: dict[str, dict] = {}
    for r in rows:
        documents.setdefault(r["document_id"], r)
        signers = signers_of.setdefault(r["document_id"], [])
        if r["request_id"] is not None:
            signers.append(
                SignerStatus(
                    request_id=r["request_id"],
                    person_id=r["person_id"],
                    name=r["person_name"],
                    status=r["status"],
                    signed_at=r["signed_at"],
                )
            )
    out = []
    missing: list[str] = []
    for document_id, d in documents.items():
        signers = signers_of[document_id]
        complete = bool(signers) and all(s.status == "signed" for s in signers)
        missing += [s.name or s.person_id for s in signers if s.status != "signed"]
        out.append(
            DocumentStatus(
                document_id=document_id, title=d["title"], sha256=d["sha256"], signers=signers, complete=complete
            )
        )
    return SigningStatus(
        reference=reference,
        documents=out,
        complete=bool(out) and all(d.complete for d in out),
        missing=sorted(set(missing)),
    )


async def require_all_signed(platform: Platform, reference: str) -> SigningStatus:
    """The signing status, or 409 ``signatures_missing`` naming who still has to sign."""
    status = await signing_status(platform, reference)
    if not status.complete:
        who = "、".join(status.missing) or "（尚无待签文件）"
        raise ProblemError(409, "signatures_missing", f"尚待签署：{who}。 Signatures are missing.")
    return status


async def require_co_signer(platform: Platform, principal: Principal, reference: str) -> None:
    """403 unless the principal is asked to sign a document of ``reference`` (共同签署人)."""
    if principal.person_id and await SignatureRequest.exists().where(
        (SignatureRequest.reference == reference) & (SignatureRequest.person_id == principal.person_id)
    ):
        return
    raise forbidden("您不是该文件的签署人。 You are not a signer of this document.")


async def signing_document(platform: Platform, document_id: str) -> SigningDocument:
    row = await SigningDocument.objects().where(SigningDocument.document_id == document_id).first()
    if row is None:
        raise ProblemError(404, "document_not_found", "文件不存在。 No such document.")
    return row


async def verify_seal(platform: Platform, document_bytes: bytes, seal_jws: str) -> SealVerification:
    """Check an e-seal over ``document_bytes`` against the e-seal provider's keys (never raises for a bad seal)."""
    identity = get_identity(platform)
    digest = hashlib.sha256(document_bytes).hexdigest()
    source = identity.source(SANDBOX_SEAL_KEY, identity.config.seal_provider_jwks_url)
    try:
        claims = await verify_message(
            identity, seal_jws, source, issuer=seal_provider_issuer(identity), typ=SEAL_TYP, require_exp=False
        )
    except ProblemError as exc:
        return SealVerification(valid=False, sha256=digest, reason=f"印章签名无效：{exc.detail}")
    valid = claims.get("sha256") == digest
    return SealVerification(
        valid=valid,
        reason="电子印章有效，文件未被篡改。 The e-seal is valid and the document is unchanged."
        if valid
        else "文件内容与印章不符（文件可能被篡改）。 The document does not match the seal.",
        sha256=digest,
        holder=claims.get("holder"),
        holder_uscc=claims.get("holder_uscc"),
        seal_id=claims.get("seal_id"),
        sealed_at=int(claims["iat"]) * 1000,
        issuer=claims.get("iss"),
    )


def sha256_of(data: bytes) -> str:
    return sha256_hex(data)
