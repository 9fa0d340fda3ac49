from piccolo.columns import BigInt, Boolean, Integer, Serial, Text, Varchar
from piccolo.table import Table


class Notification(Table, tablename="notification"):
    """One message for one person; ``read_at`` is set when they have seen it."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    person_id = Varchar(length=64, index=True)
    kind = Varchar(length=48)
    data = Text(default="{}")
    created_at = BigInt()
    read_at = BigInt(null=True, default=None)


class SmsMessage(Table, tablename="sms_message"):
    """One text message to a person (its number is looked up when sending, never stored here).

    ``status``: pending → sent | failed; ``rate_limited`` when the person had reached the
    hourly limit (not sent, kept as the record of it). ``message_id`` is the idempotency key.
    """

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    message_id = Varchar(length=32, unique=True)
    person_id = Varchar(length=64, index=True)
    kind = Varchar(length=48)
    lang = Varchar(length=8, default="zh-CN")
    content = Text()
    status = Varchar(length=16, default="pending", index=True)
    attempts = Integer(default=0)
    last_error = Text(default="")
    receipt = Varchar(length=64, default="")
    created_at = BigInt(index=True)
    sent_at = BigInt(null=True, default=None)


class NotificationPreference(Table, tablename="notification_preference"):
    """A person's choices: text messages on or off (opt-out), and the language of their texts."""

    person_id = Varchar(length=64, unique=True)
    sms_enabled = Boolean(default=True)
    language = Varchar(length=8, default="zh-CN")
    updated_at = BigInt(default=0)
