"""Short links: an 8-character code standing for a long link until it expires."""

from piccolo.columns import BigInt, Serial, Text, Varchar
from piccolo.table import Table


class ShortLink(Table, tablename="short_link"):
    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    code = Varchar(length=8, unique=True)
    target = Text()
    created_by = Varchar(length=64, default="")
    created_at = BigInt(default=0)
    expires_at = BigInt(index=True)
