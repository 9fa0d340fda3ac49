"""Identity, roles and the public capabilities: OIDC login, sessions, who may act for which
enterprise, face verification, e-signature and e-seal, e-licence, and the staff access audit.

The composition root registers ``ROUTES`` (and ``SANDBOX_ROUTES`` when the test environment
is on) and ``IDENTITY_DEPENDENCIES``; other contexts call the service functions below.
Importing this package connects to nothing and reads no keys.
"""

from backend.identity.audit import AccessRecord, access_records, audit_access
from backend.identity.bridge import may_person_act_for
from backend.identity.config import IdentityConfig, configure_identity, get_identity
from backend.identity.directory import (
    ActingCapacity,
    enterprises_for,
    may_act_for,
    registration_directory,
    require_act_for,
    set_registration_directory,
)
from backend.identity.face import (
    FacePurpose,
    FaceStart,
    FaceVerificationNeeded,
    FaceVerificationView,
    face_verified_at,
    require_face_verified,
    start_face_verification,
)
from backend.identity.housekeeping import PURGE_JOB, purge_expired
from backend.identity.housekeeping import job_handlers as identity_job_handlers
from backend.identity.kiosk import end_kiosk_session, start_kiosk_session
from backend.identity.licence import Licence, fetch_licence
from backend.identity.masking import mask_id_number, mask_phone
from backend.identity.pdf import render_pdf
from backend.identity.principal import (
    ADMIN,
    AGENCY_STAFF,
    APPLICANT,
    IDENTITY_DEPENDENCIES,
    KIOSK_TERMINAL,
    TESTER,
    WINDOW_STAFF,
    OptionalPrincipalDep,
    Principal,
    PrincipalDep,
    authenticated,
    provide_principal,
    require_admin,
    require_agency_staff,
    require_kiosk_terminal,
    require_person,
    require_role,
    require_window_staff,
    requires,
)
from backend.identity.routes import ROUTES
from backend.identity.sandbox import SANDBOX_ROUTES, seal_for_platform
from backend.identity.signing import (
    SealVerification,
    SignerRef,
    SigningCreated,
    SigningStatus,
    create_signing,
    require_all_signed,
    require_co_signer,
    signing_status,
    verify_seal,
)
from backend.identity.tables import TABLES

JOB_HANDLERS = identity_job_handlers
"""``JOB_HANDLERS(platform)`` → ``{"identity.purge": handler}`` (hourly housekeeping; enqueue once to start)."""

__all__ = [
    "ADMIN",
    "AGENCY_STAFF",
    "PURGE_JOB",
    "may_person_act_for",
    "identity_job_handlers",
    "purge_expired",
    "APPLICANT",
    "IDENTITY_DEPENDENCIES",
    "JOB_HANDLERS",
    "KIOSK_TERMINAL",
    "ROUTES",
    "SANDBOX_ROUTES",
    "TABLES",
    "TESTER",
    "WINDOW_STAFF",
    "AccessRecord",
    "ActingCapacity",
    "FaceStart",
    "FacePurpose",
    "FaceVerificationNeeded",
    "FaceVerificationView",
    "IdentityConfig",
    "Licence",
    "OptionalPrincipalDep",
    "Principal",
    "PrincipalDep",
    "SealVerification",
    "SignerRef",
    "SigningCreated",
    "SigningStatus",
    "access_records",
    "audit_access",
    "authenticated",
    "configure_identity",
    "create_signing",
    "end_kiosk_session",
    "enterprises_for",
    "face_verified_at",
    "fetch_licence",
    "get_identity",
    "mask_id_number",
    "mask_phone",
    "may_act_for",
    "provide_principal",
    "registration_directory",
    "render_pdf",
    "require_act_for",
    "require_admin",
    "require_agency_staff",
    "require_all_signed",
    "require_co_signer",
    "require_face_verified",
    "require_kiosk_terminal",
    "require_person",
    "require_role",
    "require_window_staff",
    "requires",
    "seal_for_platform",
    "set_registration_directory",
    "signing_status",
    "start_face_verification",
    "start_kiosk_session",
    "verify_seal",
]
