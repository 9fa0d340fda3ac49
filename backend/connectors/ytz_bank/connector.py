"""银政通 adapter: one submission per account, the basic deposit account (基本存款账户) last."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from backend.connectors.base import Submission
from backend.connectors.client import HttpConnector

#: Close order by account kind: everything else first, the basic account last.
KIND_ORDER = {"temporary": 0, "special": 1, "general": 2, "basic": 9}


class BankConnector(HttpConnector):
    """The generic connector plus the split of one ``BANK`` item into per-account submissions."""

    @staticmethod
    def order_accounts(accounts: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """Accounts in closing order: the basic account last."""
        return sorted(accounts, key=lambda a: (KIND_ORDER.get(str(a.get("kind")), 5), str(a.get("account_no"))))

    @classmethod
    def split(cls, sub: Submission, accounts: Iterable[Mapping[str, Any]]) -> list[Submission]:
        """One submission per account, basic last; item_ref and idempotency key get the account number."""
        out = []
        for account in cls.order_accounts(accounts):
            no = str(account["account_no"])
            out.append(
                msgspec.structs.replace(
                    sub,
                    item_ref=f"{sub.item_ref}#{no}",
                    idempotency_key=f"{sub.idempotency_key}#{no}" if sub.idempotency_key else "",
                    payload={**sub.payload, "account": dict(account)},
                )
            )
        return out
