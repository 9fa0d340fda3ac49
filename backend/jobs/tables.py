"""The job table. Times are epoch milliseconds so claims compare the same on every engine."""

from piccolo.columns import BigInt, Integer, Serial, Text, Varchar
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class Job(Table, tablename="job"):
    """One unit of background work (pending → running → done | dead)."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    kind = Varchar(length=100, index=True)
    payload = Text(default="{}")
    status = Varchar(length=16, default="pending", index=True, index_method=IndexMethod.btree)
    attempts = Integer(default=0)
    max_attempts = Integer(default=12)
    run_at = BigInt(default=0, index=True)
    locked_by = Varchar(length=64, null=True, default=None)
    locked_until = BigInt(default=0)
    last_error = Text(default="")
    dedupe_key = Varchar(length=200, null=True, default=None, unique=True)
    created_at = BigInt(default=0)
    finished_at = BigInt(null=True, default=None)
