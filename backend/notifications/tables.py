from piccolo.columns import BigInt, Serial, Text, Varchar
from piccolo.table import Table


class Notification(Table, tablename="notification"):
    """One message for one person; ``read_at`` is set when they have seen it."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    person_id = Varchar(length=64, index=True)
    kind = Varchar(length=48)
    data = Text(default="{}")
    created_at = BigInt()
    read_at = BigInt(null=True, default=None)
