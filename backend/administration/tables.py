"""Administration tables: the catalog publication log and the staff directory.

Times are epoch milliseconds and lists are JSON text, as in the case tables.
"""

from piccolo.columns import BigInt, Boolean, Integer, Serial, Text, Varchar
from piccolo.table import Table


class CatalogPublication(Table, tablename="catalog_publication"):
    """One publication of a catalog version (append-only). The newest row (highest id) is current.

    ``action`` is ``publish`` or ``rollback``; ``previous_version`` is the version that was in
    effect before this row (concrete, even when that was the loader's default), so a rollback
    knows where to go back to; ``reverts`` is the id of the publication a rollback undid.
    """

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    version = Varchar(length=20)
    action = Varchar(length=10, default="publish")
    previous_version = Varchar(length=20, default="")
    reverts = BigInt(default=0)
    published_at = BigInt(default=0)
    published_by = Varchar(length=64, default="")
    note = Text(default="")


class StaffMember(Table, tablename="staff_member"):
    """A staff member in the directory: roles and scopes an administrator grants (overlaid on login)."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    subject = Varchar(length=64, unique=True)
    """The identity provider's ``sub`` (staff id or person id)."""
    name = Varchar(length=100, default="")
    roles = Text(default="[]")
    agencies = Text(default="[]")
    regions = Text(default="[]")
    hall = Varchar(length=40, default="")
    active = Boolean(default=True)
    created_at = BigInt(default=0)
    updated_at = BigInt(default=0)
    updated_by = Varchar(length=64, default="")


class HolidayImport(Table, tablename="holiday_import"):
    """One import of a year's official holiday arrangement (append-only: the audit record).

    The newest row of a year is in force and overrides the shipped ``holidays.yaml``. ``diff``
    is what changed against the calendar before (JSON); ``moved`` counts promised dates moved.
    """

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    year = Integer(index=True)
    holidays = Text(default="[]")
    workdays = Text(default="[]")
    source = Text(default="")
    note = Text(default="")
    diff = Text(default="{}")
    moved = Integer(default=0)
    imported_at = BigInt(default=0)
    imported_by = Varchar(length=64, default="")
