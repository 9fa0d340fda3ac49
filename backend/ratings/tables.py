"""好差评 tables: ratings, follow-ups of bad ratings with their history, appeals. Times in epoch ms."""

from piccolo.columns import BigInt, Boolean, Integer, Serial, Text, Varchar
from piccolo.table import Table


class Rating(Table, tablename="rating"):
    """One rating: per matter (一事一评, one completed item) or per visit (一次一评, a hall visit or kiosk session)."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    public_id = Varchar(length=32, unique=True)
    kind = Varchar(length=8)  # matter | visit
    subject_key = Varchar(length=120, index=True)  # item ref (matter) or visit reference (visit)
    case_public_id = Varchar(length=32, default="", index=True)
    item_code = Varchar(length=40, default="")
    system = Varchar(length=40, default="", index=True)
    hall = Varchar(length=40, default="")
    region = Varchar(length=12, default="")
    channel = Varchar(length=16, default="pwa")
    rater_id = Varchar(length=64, index=True)
    level = Integer()  # 5 非常满意 … 1 非常不满意
    indicators = Text(default="[]")
    comment = Text(default="")
    status = Varchar(length=16, default="valid", index=True)  # valid | under_appeal | invalidated | superseded
    supersedes = Varchar(length=32, default="")
    created_at = BigInt()


class FollowUp(Table, tablename="rating_follow_up"):
    """整改: a bad rating's follow-up — 回访 within 1 working day, 整改 and reply within 10 (Fujian)."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    public_id = Varchar(length=32, unique=True)
    rating_id = Varchar(length=32, index=True)
    system = Varchar(length=40, default="", index=True)
    hall = Varchar(length=40, default="")
    region = Varchar(length=12, default="")
    status = Varchar(length=16, default="open", index=True)  # open | visited | rectified | replied | closed | void
    opened_on = Varchar(length=10)
    visit_due_on = Varchar(length=10)
    rectify_due_on = Varchar(length=10)
    visited_at = BigInt(null=True, default=None)
    visit_note = Text(default="")
    rectified_at = BigInt(null=True, default=None)
    rectification = Text(default="")
    replied_at = BigInt(null=True, default=None)
    reply = Text(default="")
    visit_overdue = Boolean(default=False)
    rectify_overdue = Boolean(default=False)
    re_rating_id = Varchar(length=32, default="")
    closed_at = BigInt(null=True, default=None)
    created_at = BigInt()


class FollowUpEvent(Table, tablename="rating_follow_up_event"):
    """History of a follow-up (opened, visited, rectified, replied, overdue, re-rated, closed)."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    follow_up_id = Varchar(length=32, index=True)
    type = Varchar(length=32)
    actor = Varchar(length=64, default="")
    message = Text(default="")
    at = BigInt()


class Appeal(Table, tablename="rating_appeal"):
    """申诉: staff contest a malicious or mistaken rating; an administrator re-reviews (复核)."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    public_id = Varchar(length=32, unique=True)
    rating_id = Varchar(length=32, index=True)
    ground = Varchar(length=16)  # malicious | mistaken
    reason = Text()
    filed_by = Varchar(length=64)
    status = Varchar(length=16, default="pending", index=True)  # pending | upheld | dismissed
    reviewer = Varchar(length=64, default="")
    decision = Text(default="")
    filed_at = BigInt()
    decided_at = BigInt(null=True, default=None)


class VisitToken(Table, tablename="rating_visit_token"):
    """一次一评's proof of a real visit: a kiosk session or a window service record issues one token
    (only its SHA-256 is kept), which expires and is spent by the one rating of that visit."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    token_hash = Varchar(length=64, unique=True)
    visit_key = Varchar(length=120, unique=True)  # "<hall>:<channel>:<visit ref>": one token, one rating per visit
    visit_ref = Varchar(length=100)
    hall = Varchar(length=40, default="")
    region = Varchar(length=12, default="")
    channel = Varchar(length=16)  # kiosk | window
    rater_id = Varchar(length=64)  # the visitor: only they may spend it
    issued_at = BigInt()
    expires_at = BigInt()
    used_at = BigInt(null=True, default=None)
    rating_id = Varchar(length=32, default="")


class RatingPush(Table, tablename="rating_push"):
    """Outbox of reports to the provincial 好差评 system: one row per event, written with it.

    ``chain`` is the first rating's id: a rating, its follow-up, appeal and re-rating share it
    and are delivered in ``id`` order. ``message_id`` is the report's idempotency key.
    """

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    message_id = Varchar(length=32, unique=True)
    chain = Varchar(length=32, index=True)
    sequence = Integer()
    type = Varchar(length=32)
    body = Text()
    status = Varchar(length=16, default="pending", index=True)  # pending | delivered | failed
    attempts = Integer(default=0)
    last_error = Text(default="")
    receipt = Varchar(length=64, default="")
    created_at = BigInt()
    delivered_at = BigInt(null=True, default=None)
