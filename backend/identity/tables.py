"""Identity tables. Times are epoch milliseconds (BigInt), as in the job table."""

from piccolo.columns import JSON, BigInt, Boolean, Bytea, Integer, Serial, Text, Varchar
from piccolo.table import Table


class LoginRequest(Table, tablename="identity_login_request"):
    """A started OIDC login: state, nonce and PKCE verifier, consumed once by the callback."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    state = Varchar(length=64, unique=True)
    nonce = Varchar(length=64)
    code_verifier = Varchar(length=128)
    return_to = Varchar(length=500, default="/")
    created_at = BigInt(default=0)
    expires_at = BigInt(default=0, index=True)


class PlatformSession(Table, tablename="identity_session"):
    """A platform session (browser, script or kiosk); refresh tokens and kiosk idle time hang on it."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    sid = Varchar(length=64, unique=True)
    subject = Varchar(length=128, index=True)
    claims = JSON(default="{}")
    kind = Varchar(length=16, default="web")  # web | script | kiosk
    created_at = BigInt(default=0)
    last_seen_at = BigInt(default=0)
    expires_at = BigInt(default=0)
    idle_timeout_s = Integer(default=0)  # 0: no idle timeout
    ended_at = BigInt(null=True, default=None)
    ended_reason = Varchar(length=32, default="")


class RefreshToken(Table, tablename="identity_refresh_token"):
    """One refresh token (only its SHA-256 is stored); used once, then replaced (rotation)."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    token_hash = Varchar(length=64, unique=True)
    sid = Varchar(length=64, index=True)
    created_at = BigInt(default=0)
    expires_at = BigInt(default=0)
    used_at = BigInt(null=True, default=None)
    revoked_at = BigInt(null=True, default=None)


class SeenJti(Table, tablename="identity_seen_jti"):
    """``jti`` values of signed callbacks and codes already accepted: a second use is a replay."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    jti = Varchar(length=200, unique=True)
    issuer = Varchar(length=100, default="")
    expires_at = BigInt(default=0, index=True)


class Mandate(Table, tablename="identity_mandate"):
    """授权委托: the legal representative authorises an agent for an enterprise, with scope and expiry."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    mandate_id = Varchar(length=40, unique=True)
    uscc = Varchar(length=18, index=True)
    grantor_person_id = Varchar(length=128)
    grantor_name = Varchar(length=100, default="")
    agent_id_number = Varchar(length=18, index=True)
    agent_name = Varchar(length=100, default="")
    agent_person_id = Varchar(length=128, null=True, default=None, index=True)
    whole_case = Boolean(default=True)
    items = JSON(default="[]")
    created_at = BigInt(default=0)
    expires_at = BigInt(default=0)
    revoked_at = BigInt(null=True, default=None)


class FaceVerification(Table, tablename="identity_face_verification"):
    """One face verification (人脸识别 / 人证比对) for a person, a purpose and a reference."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    verification_id = Varchar(length=40, unique=True)
    person_id = Varchar(length=128, index=True)
    person_name = Varchar(length=100, default="")
    id_number = Varchar(length=18, default="")
    purpose = Varchar(length=40)
    reference = Varchar(length=100, default="", index=True)
    channel = Varchar(length=16, default="phone")  # phone | kiosk
    terminal_id = Varchar(length=64, default="")
    nonce = Varchar(length=64)
    status = Varchar(length=16, default="pending")  # pending | passed | failed
    score = Integer(default=0)
    created_at = BigInt(default=0)
    expires_at = BigInt(default=0)
    completed_at = BigInt(null=True, default=None)
    evidence = Text(default="")  # the provider's signed result (compact JWS)


class SigningDocument(Table, tablename="identity_signing_document"):
    """A document to be signed (the merged application, commitments), kept with its SHA-256."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    document_id = Varchar(length=40, unique=True)
    reference = Varchar(length=100, index=True)
    title = Varchar(length=200)
    sha256 = Varchar(length=64, index=True)
    media_type = Varchar(length=100, default="application/pdf")
    content = Bytea()
    created_at = BigInt(default=0)


class SignatureRequest(Table, tablename="identity_signature_request"):
    """One signer's request to sign one document; the provider's signed callback completes it."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    request_id = Varchar(length=40, unique=True)
    document_id = Varchar(length=40, index=True)
    reference = Varchar(length=100, index=True)
    person_id = Varchar(length=128, index=True)
    person_name = Varchar(length=100, default="")
    nonce = Varchar(length=64)
    status = Varchar(length=16, default="pending")  # pending | signed | declined
    created_at = BigInt(default=0)
    signed_at = BigInt(null=True, default=None)
    evidence = Text(default="")


class AccessAudit(Table, tablename="identity_access_audit"):
    """Who on the staff side accessed which case, when and how (append-only)."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    subject = Varchar(length=128, index=True)
    name = Varchar(length=100, default="")
    roles = JSON(default="[]")
    agency = Varchar(length=40, default="")
    case_id = Varchar(length=100, index=True)
    action = Varchar(length=40)
    at = BigInt(default=0, index=True)


class KioskTerminal(Table, tablename="identity_kiosk_terminal"):
    """A self-service terminal's own credential: its public key (the private key stays in the terminal)."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    terminal_id = Varchar(length=64, unique=True)
    name = Varchar(length=100, default="")
    hall = Varchar(length=64, default="")
    region = Varchar(length=12, default="")
    public_jwk = JSON(default="{}")
    enabled = Boolean(default=True)
    created_at = BigInt(default=0)
    disabled_at = BigInt(null=True, default=None)


TABLES = [
    LoginRequest,
    PlatformSession,
    RefreshToken,
    SeenJti,
    Mandate,
    FaceVerification,
    SigningDocument,
    SignatureRequest,
    AccessAudit,
    KioskTerminal,
]
