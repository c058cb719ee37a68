"""Ledger entries and their legs; ``post`` writes legs and the balance projection together."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from brokers.domain.accounts import (
    ZERO,
    Asset,
    AssetKind,
)
from brokers.domain.ledger import (
    BookingError,
    EntryKind,
    LedgerEntry,
    Leg,
)

from .. import tables as t
from ..types import amount_sum
from .accounts import BalanceRepository
from .ids import BalanceKey, IdResolver, asset_from_row


class LedgerRepository:
    """Ledger entries and their legs.  ``post`` is the only way legs are written, and it updates the
    balance projection in the same statement batch, so balances can never drift from the legs.
    """

    def __init__(self, conn: Connection, ids: IdResolver, balances: BalanceRepository) -> None:
        self._conn = conn
        self._ids = ids
        self._balances = balances

    def post(
        self,
        entries: Sequence[tuple[LedgerEntry, int | None]],
        held_deltas: Mapping[BalanceKey, Decimal] | None = None,
    ) -> list[int]:
        """Write ``(entry, execution row id)`` pairs, their legs, and the balance changes (plus holds'
        ``held_deltas``).  Returns the new entry ids, in order.
        """
        entry_ids: list[int] = []
        if entries:
            rows = [
                {
                    "kind": entry.kind.value,
                    "ts": entry.ts,
                    "memo": entry.memo[:256],
                    "execution_id": execution_id,
                    "reverses_entry_id": entry.reverses,
                }
                for entry, execution_id in entries
            ]
            entry_ids = self._insert_entries(rows)
            account_ids = self._ids.account_ids({leg.account for entry, _ in entries for leg in entry.legs})
            asset_ids = self._ids.asset_ids({leg.asset for entry, _ in entries for leg in entry.legs})
            legs = [
                {
                    "entry_id": entry_id,
                    "account_id": account_ids[leg.account],
                    "asset_id": asset_ids[leg.asset],
                    "amount": leg.amount,
                }
                for entry_id, (entry, _) in zip(entry_ids, entries, strict=True)
                for leg in entry.legs
            ]
            self._conn.execute(t.ledger_legs.insert(), legs)
        deltas: dict[BalanceKey, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
        for entry, _ in entries:
            for leg in entry.legs:
                deltas[(leg.account, leg.asset)][0] += leg.amount
        for key, held in (held_deltas or {}).items():
            deltas[key][1] += held
        self._balances.apply({key: (amount, held) for key, (amount, held) in deltas.items()})
        return entry_ids

    def _insert_entries(self, rows: list[dict[str, Any]]) -> list[int]:
        """Insert entry rows; their ids in the order of ``rows``.

        Rows are matched to ids by (execution_id, kind), unique within one booking, because
        ``RETURNING`` in parameter order makes SQLite insert one row per statement; only when that key
        is ambiguous is the parameter order asked for.
        """
        e = t.ledger_entries
        keys = [(row["execution_id"], row["kind"]) for row in rows]
        if len(set(keys)) < len(keys):
            return list(
                self._conn.execute(e.insert().returning(e.c.id, sort_by_parameter_order=True), rows).scalars()
            )
        returned = self._conn.execute(e.insert().returning(e.c.execution_id, e.c.kind, e.c.id), rows)
        ids = {(execution_id, kind): entry_id for execution_id, kind, entry_id in returned}
        return [ids[key] for key in keys]

    def _entries(self, where: Any) -> list[LedgerEntry]:
        e, legs = t.ledger_entries, t.ledger_legs
        query = (
            select(
                e.c.id,
                e.c.kind,
                e.c.ts,
                e.c.memo,
                e.c.reverses_entry_id,
                t.accounts.c.name.label("account"),
                t.assets.c.kind.label("asset_kind"),
                t.assets.c.code.label("asset_code"),
                legs.c.amount,
            )
            .join(legs, legs.c.entry_id == e.c.id)
            .join(t.accounts, t.accounts.c.id == legs.c.account_id)
            .join(t.assets, t.assets.c.id == legs.c.asset_id)
            .where(where)
            .order_by(e.c.id, legs.c.id)
        )
        grouped: dict[int, list[Any]] = {}
        for row in self._conn.execute(query):
            grouped.setdefault(row.id, []).append(row)
        return [
            LedgerEntry(
                EntryKind(rows[0].kind),
                tuple(Leg(row.account, asset_from_row(row), row.amount) for row in rows),
                rows[0].ts,
                rows[0].memo,
                reverses=rows[0].reverses_entry_id,
                entry_id=entry_id,
            )
            for entry_id, rows in grouped.items()
        ]

    def get(self, entry_id: int) -> LedgerEntry:
        found = self._entries(t.ledger_entries.c.id == entry_id)
        if not found:
            raise LookupError(f"no ledger entry {entry_id}")
        return found[0]

    def trade_entry_of(self, execution_row_id: int) -> LedgerEntry:
        """The TRADE entry booked for an execution row."""
        found = self._entries(
            and_(
                t.ledger_entries.c.execution_id == execution_row_id,
                t.ledger_entries.c.kind == EntryKind.TRADE.value,
            )
        )
        if len(found) != 1:
            raise BookingError(f"execution row {execution_row_id} has {len(found)} trade entries")
        return found[0]

    def for_account(self, account: str) -> list[LedgerEntry]:
        """Every entry with a leg on ``account`` (all legs of those entries), oldest first."""
        account_id = self._ids.account_id(account)
        touched = select(t.ledger_legs.c.entry_id).where(t.ledger_legs.c.account_id == account_id)
        return self._entries(t.ledger_entries.c.id.in_(touched))

    def totals_per_asset(self) -> dict[Asset, Decimal]:
        """Sum of all legs per asset (zero for every asset in a sound ledger)."""
        query = (
            select(t.assets.c.kind, t.assets.c.code, amount_sum(t.ledger_legs.c.amount).label("total"))
            .join(t.assets, t.assets.c.id == t.ledger_legs.c.asset_id)
            .group_by(t.assets.c.kind, t.assets.c.code)
        )
        return {Asset(AssetKind(row.kind), row.code): row.total for row in self._conn.execute(query)}

    def totals_per_account_asset(self) -> dict[BalanceKey, Decimal]:
        """Sum of all legs per (account, asset): what the balance projection must equal."""
        query = (
            select(
                t.accounts.c.name,
                t.assets.c.kind,
                t.assets.c.code,
                amount_sum(t.ledger_legs.c.amount).label("total"),
            )
            .join(t.accounts, t.accounts.c.id == t.ledger_legs.c.account_id)
            .join(t.assets, t.assets.c.id == t.ledger_legs.c.asset_id)
            .group_by(t.accounts.c.name, t.assets.c.kind, t.assets.c.code)
        )
        return {
            (row.name, Asset(AssetKind(row.kind), row.code)): row.total for row in self._conn.execute(query)
        }
