"""测试问题反馈 tables: problem reports filed during the trial, their screenshots and history. Times in epoch ms."""

from piccolo.columns import BigInt, Bytea, Serial, Text, Varchar
from piccolo.table import Table


class FeedbackReport(Table, tablename="feedback_report"):
    """One problem a trial user (agency or window staff) found: where, what was expected, what happened."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    public_id = Varchar(length=32, unique=True)
    agency = Varchar(length=40, index=True)  # business-system code, or the hall of window staff
    level = Varchar(length=12)  # province | city | county, from the reporter's region
    region = Varchar(length=12, default="")
    reporter_id = Varchar(length=64, index=True)
    reporter_name = Varchar(length=80, default="")
    page = Varchar(length=500)
    step = Text()
    expected = Text()
    actual = Text()
    status = Varchar(length=16, default="new", index=True)
    severity = Varchar(length=12, default="")
    assignee = Varchar(length=80, default="")
    screenshot_type = Varchar(length=20, default="")  # image/png | image/jpeg; "" = none
    # "<reporter>:<Idempotency-Key>": a retried filing returns the first report instead of a second one
    client_key = Varchar(length=200, null=True, default=None, unique=True)
    created_at = BigInt()
    updated_at = BigInt()


class FeedbackScreenshot(Table, tablename="feedback_screenshot"):
    """The screenshot of a report (at most one), kept apart so listings never load it."""

    report_id = Varchar(length=32, unique=True)
    media_type = Varchar(length=20)
    content = Bytea()


class FeedbackEvent(Table, tablename="feedback_event"):
    """Every change of a report: who, when, what (filed, triaged, a status move, confirmed, reopened)."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    report_id = Varchar(length=32, index=True)
    action = Varchar(length=20)
    actor_id = Varchar(length=64)
    actor_name = Varchar(length=80, default="")
    from_status = Varchar(length=16, default="")
    to_status = Varchar(length=16, default="")
    detail = Text(default="{}")  # JSON: the changed fields and the note
    at = BigInt()


class Consultation(Table, tablename="feedback_consultation"):
    """征求意见: a draft catalog version opened to the agencies for comments on its guides."""

    version = Varchar(length=20, unique=True)
    status = Varchar(length=12, default="open")  # open | closed (closed when the version is published)
    note = Text(default="")
    opened_by = Varchar(length=64)
    opened_at = BigInt()
    closed_at = BigInt(null=True, default=None)
    override_reason = Text(default="")  # published over unresolved comments: the administrator's reason
    overridden_by = Varchar(length=64, default="")


class ConsultationComment(Table, tablename="feedback_consultation_comment"):
    """One agency comment on one item's guide section of a consulted version."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    public_id = Varchar(length=32, unique=True)
    version = Varchar(length=20, index=True)
    item_code = Varchar(length=40)
    section = Varchar(length=20)
    agency = Varchar(length=40)
    author_id = Varchar(length=64)
    author_name = Varchar(length=80, default="")
    body = Text()
    status = Varchar(length=12, default="open", index=True)  # open | resolved
    resolution = Varchar(length=12, default="")  # adopted | partly | declined
    resolution_note = Text(default="")
    resolved_by = Varchar(length=64, default="")
    resolved_at = BigInt(null=True, default=None)
    created_at = BigInt()


class ConsultationReply(Table, tablename="feedback_consultation_reply"):
    """A reply in a comment's thread (the platform team or another agency)."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    comment_id = Varchar(length=32, index=True)
    author_id = Varchar(length=64)
    author_name = Varchar(length=80, default="")
    agency = Varchar(length=40, default="")
    body = Text()
    at = BigInt()
