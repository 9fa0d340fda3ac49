"""Case tables. Times are epoch milliseconds; JSON documents are stored as text."""

from piccolo.columns import BigInt, Boolean, Bytea, ForeignKey, Integer, Serial, Text, Varchar
from piccolo.table import Table


class CaseFile(Table, tablename="case_file"):
    """One application (一次提交): a draft until submitted, then the parent of its items."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    public_id = Varchar(length=32, unique=True)
    number = Varchar(length=32, null=True, default=None, unique=True)
    uscc = Varchar(length=18, index=True)
    enterprise_name = Varchar(length=200)
    entity_type = Varchar(length=40)
    region = Varchar(length=12)
    route = Varchar(length=16, default="")
    status = Varchar(length=24, default="draft", index=True)
    channel = Varchar(length=16, default="pwa")
    catalog_version = Varchar(length=20)
    answers = Text(default="{}")
    form_data = Text(default="{}")
    created_by = Varchar(length=64, index=True)
    submit_key = Varchar(length=100, null=True, default=None, unique=True)
    signing_reference = Varchar(length=60, default="")  # the signing round of the current application text
    version = Integer(default=1)
    created_at = BigInt(default=0)
    updated_at = BigInt(default=0)
    submitted_at = BigInt(null=True, default=None)
    closed_at = BigInt(null=True, default=None)
    expires_at = BigInt(null=True, default=None)
    expiry_warned_at = BigInt(null=True, default=None)


class CaseItem(Table, tablename="case_item"):
    """One item (事项) of a submitted case at one agency system."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    case_file = ForeignKey(references=CaseFile, index=True)
    # Shadows Table.ref() (Piccolo's reference helper), which nothing calls on CaseItem; renaming is a migration.
    ref = Varchar(length=80, unique=True)  # type: ignore[assignment]
    code = Varchar(length=40, index=True)
    system = Varchar(length=40, index=True)
    office = Varchar(length=40, default="")
    region = Varchar(length=12, default="")
    status = Varchar(length=24, default="waiting", index=True)
    generation = Integer(default=1)
    depends_on = Text(default="[]")
    reference = Varchar(length=80, null=True, default=None)
    last_sequence = Integer(default=0)
    promised_days = Integer(default=0)
    due_on = Varchar(length=10, default="")
    account = Text(default="")
    message = Text(default="")
    reasons = Text(default="[]")
    corrections = Text(default="[]")
    result = Text(default="{}")
    queued_at = BigInt(null=True, default=None)
    sent_at = BigInt(null=True, default=None)
    accepted_at = BigInt(null=True, default=None)
    closed_at = BigInt(null=True, default=None)
    updated_at = BigInt(default=0)


class CaseEvent(Table, tablename="case_event"):
    """Append-only timeline; each event's hash covers the previous one, so tampering shows."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    case_file = ForeignKey(references=CaseFile, index=True)
    seq = Integer()
    type = Varchar(length=48)
    item_ref = Varchar(length=80, null=True, default=None)
    actor = Varchar(length=64, default="")
    system = Varchar(length=40, default="")
    message = Text(default="")
    data = Text(default="{}")
    at = BigInt()
    prev_hash = Varchar(length=64, default="")
    hash = Varchar(length=64)
    #: the hash function of this event's ``hash`` (sha256 | sm3): a chain may change it midway
    hash_alg = Varchar(length=16, default="sha256")


class CaseMaterial(Table, tablename="case_material"):
    """An uploaded material (checked by content, not by name)."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    case_file = ForeignKey(references=CaseFile, index=True)
    code = Varchar(length=60)
    filename = Varchar(length=200)
    media_type = Varchar(length=60)
    size = Integer()
    sha256 = Varchar(length=64)
    content = Bytea()
    uploaded_by = Varchar(length=64, default="")
    at = BigInt()


class CaseDocument(Table, tablename="case_document"):
    """A result document an agency returned (清税证明, 准予注销登记通知书 ...)."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    case_file = ForeignKey(references=CaseFile, index=True)
    item_ref = Varchar(length=80, index=True)
    name = Varchar(length=120)
    media_type = Varchar(length=60)
    sha256 = Varchar(length=64)
    content = Bytea(null=True, default=None)
    url = Varchar(length=500, default="")
    at = BigInt()


class CallbackInbox(Table, tablename="callback_inbox"):
    """Every verified callback as received; the key makes re-deliveries harmless."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    key = Varchar(length=160, unique=True)
    system = Varchar(length=40)
    body = Text()
    received_at = BigInt()
    applied = Boolean(default=False)


class CaseCounter(Table, tablename="case_counter"):
    """Per-day sequence for human-readable case numbers."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    day = Varchar(length=8, unique=True)
    value = Integer(default=0)


class CallbackNonce(Table, tablename="callback_nonce"):
    """``jti`` of every accepted callback token until it expires: a replay is refused."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    jti = Varchar(length=160, unique=True)
    expires_at = BigInt()
