"""Workbench tables: connector modes (kept as data), staff actions, assisted applications (帮办代办).

Times are epoch milliseconds, JSON documents text, as in the case tables.
"""

from piccolo.columns import BigInt, Serial, Text, Varchar
from piccolo.table import Table


class ConnectorMode(Table, tablename="connector_mode"):
    """How the platform reaches one business system: ``api`` (its connector) or ``manual`` (staff work items here)."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    system = Varchar(length=40, unique=True)
    mode = Varchar(length=10, default="api")
    changed_by = Varchar(length=64, default="")
    note = Text(default="")
    updated_at = BigInt(default=0)


class StaffAction(Table, tablename="staff_action"):
    """Who did what to an item on the workbench (the case timeline names the agency system)."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    item_ref = Varchar(length=80, index=True)
    case_public_id = Varchar(length=32, index=True)
    system = Varchar(length=40)
    actor = Varchar(length=64)
    actor_name = Varchar(length=100, default="")
    action = Varchar(length=32)
    message = Text(default="")
    data = Text(default="{}")
    at = BigInt()


class AssistedApplication(Table, tablename="assisted_application"):
    """帮办代办: window staff start an application for a visitor, with the visitor's consent."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    public_id = Varchar(length=32, unique=True)
    hall = Varchar(length=40, default="")
    staff_id = Varchar(length=64)
    visitor_id = Varchar(length=64, index=True)
    visitor_name = Varchar(length=100, default="")
    uscc = Varchar(length=18)
    status = Varchar(length=20, default="consent_pending")  # consent_pending | consented | handed_over
    verification_id = Varchar(length=64, default="")
    case_public_id = Varchar(length=32, default="")
    created_at = BigInt(default=0)
    updated_at = BigInt(default=0)
