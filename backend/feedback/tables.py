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
