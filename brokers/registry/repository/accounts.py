"""Accounts by name, and the balance projection (account, asset) -> amount, held."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Row

from brokers.domain.accounts import (
    ZERO,
    Account,
    AccountKind,
    Asset,
    Balance,
    DuplicateAccount,
    UnknownAccount,
)

from .. import tables as t
from ..bulk_sql import asset_of, bulk_sql
from ..types import amount_add
from .ids import BalanceKey, Clock, IdResolver, account_row, asset_from_row, dialect_insert


def _account(row: Row[Any]) -> Account:
    m = row._mapping
    return Account(
        m["name"], AccountKind(m["kind"]), m["currency"], bool(m["allow_short"]), m["credit_limit"]
    )


class AccountRepository:
    """Accounts by name."""

    def __init__(self, conn: Connection, ids: IdResolver, clock: Clock) -> None:
        self._conn = conn
        self._ids = ids
        self._clock = clock

    def add(self, account: Account) -> Account:
        if self.find(account.name) is not None:
            raise DuplicateAccount(account.name)
        row = account_row(account, self._clock())
        account_id = self._conn.execute(t.accounts.insert().returning(t.accounts.c.id), row).scalar_one()
        self._ids.stage_account(account.name, account_id)
        return account

    def ensure(self, accounts: Iterable[Account]) -> None:
        """Create the accounts that do not exist yet (existing ones are left as they are)."""
        self._ids.ensure_accounts(accounts)

    def find(self, name: str) -> Account | None:
        row = self._conn.execute(select(t.accounts).where(t.accounts.c.name == name)).first()
        return None if row is None else _account(row)

    def get(self, name: str) -> Account:
        account = self.find(name)
        if account is None:
            raise UnknownAccount(name)
        return account

    def get_many(self, names: Iterable[str]) -> dict[str, Account]:
        """Several accounts with one query; raises UnknownAccount for the first missing one."""
        wanted = set(names)
        if not wanted:
            return {}
        rows = self._conn.execute(select(t.accounts).where(t.accounts.c.name.in_(sorted(wanted))))
        found = {row.name: _account(row) for row in rows}
        for name in sorted(wanted - found.keys()):
            raise UnknownAccount(name)
        return found

    def list(self) -> list[Account]:
        return [_account(row) for row in self._conn.execute(select(t.accounts).order_by(t.accounts.c.name))]


_BALANCE_COLUMNS = (
    t.accounts.c.name.label("account"),
    t.assets.c.kind.label("asset_kind"),
    t.assets.c.code.label("asset_code"),
    t.balances.c.amount,
    t.balances.c.held,
)


def _balance(row: Row[Any]) -> Balance:
    return Balance(row.account, asset_from_row(row), row.amount, row.held)


class BalanceRepository:
    """The balance projection: (account, asset) -> amount booked, amount held."""

    def __init__(self, conn: Connection, ids: IdResolver) -> None:
        self._conn = conn
        self._ids = ids

    def move_held(self, deltas: Mapping[BalanceKey, Decimal]) -> None:
        """Add to the ``held`` column only (reservations); booked amounts move through ``LedgerRepository.post``."""
        self.apply({key: (ZERO, held) for key, held in deltas.items()})

    def apply(self, deltas: Mapping[BalanceKey, tuple[Decimal, Decimal]]) -> None:
        """Add (amount, held) deltas, creating missing rows; one upsert statement, rows in key order.

        Amount deltas must come with their ledger legs: only ``LedgerRepository.post`` passes them.
        """
        deltas = {key: value for key, value in deltas.items() if value != (ZERO, ZERO)}
        if not deltas:
            return
        account_ids = self._ids.account_ids({account for account, _ in deltas})
        asset_ids = self._ids.asset_ids({asset for _, asset in deltas})
        rows = sorted(
            (
                {
                    "account_id": account_ids[account],
                    "asset_id": asset_ids[asset],
                    "amount": amount,
                    "held": held,
                }
                for (account, asset), (amount, held) in deltas.items()
            ),
            key=lambda row: (row["account_id"], row["asset_id"]),
        )
        stmt = dialect_insert(self._conn, t.balances)
        stmt = stmt.on_conflict_do_update(
            index_elements=["account_id", "asset_id"],
            set_={
                "amount": amount_add(t.balances.c.amount, stmt.excluded.amount),
                "held": amount_add(t.balances.c.held, stmt.excluded.held),
            },
        )
        self._conn.execute(stmt, rows)

    def get(self, account: str, asset: Asset, *, lock: bool = False) -> Balance:
        """The balance (zero if never touched); ``lock`` holds the row until the transaction ends."""
        account_id = self._ids.account_id(account)
        asset_id = self._ids.asset_id(asset) if lock else self._ids.find_asset_id(asset)
        if asset_id is None:
            return Balance(account, asset, ZERO, ZERO)
        if lock:  # make sure the row exists, so that FOR UPDATE has something to lock
            stmt = dialect_insert(self._conn, t.balances).on_conflict_do_nothing(
                index_elements=["account_id", "asset_id"]
            )
            self._conn.execute(
                stmt, {"account_id": account_id, "asset_id": asset_id, "amount": ZERO, "held": ZERO}
            )
        query = select(t.balances.c.amount, t.balances.c.held).where(
            t.balances.c.account_id == account_id, t.balances.c.asset_id == asset_id
        )
        if lock:
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        return Balance(account, asset, row.amount, row.held) if row else Balance(account, asset, ZERO, ZERO)

    def get_many(self, keys: Iterable[BalanceKey], *, lock: bool = False) -> dict[BalanceKey, Balance]:
        """Several balances at once (zero for never-touched ones); ``lock`` as in ``get``."""
        wanted = sorted(set(keys), key=lambda key: (key[0], key[1].kind.value, key[1].code))
        if not wanted:
            return {}
        account_ids = self._ids.account_ids({account for account, _ in wanted})
        if lock:
            asset_ids = self._ids.asset_ids({asset for _, asset in wanted})
        else:
            found = {asset: self._ids.find_asset_id(asset) for _, asset in {(None, a) for _, a in wanted}}
            asset_ids = {asset: i for asset, i in found.items() if i is not None}
        out = {key: Balance(key[0], key[1], ZERO, ZERO) for key in wanted}
        pairs = [(account_ids[a], asset_ids[s]) for a, s in wanted if s in asset_ids]
        if not pairs:
            return out
        if lock:  # make sure the rows exist, so that FOR UPDATE has something to lock
            stmt = dialect_insert(self._conn, t.balances).on_conflict_do_nothing(
                index_elements=["account_id", "asset_id"]
            )
            self._conn.execute(
                stmt, [{"account_id": a, "asset_id": s, "amount": ZERO, "held": ZERO} for a, s in pairs]
            )
        by_ids = {(account_ids[a], asset_ids[s]): (a, s) for a, s in wanted if s in asset_ids}
        query = select(t.balances.c.account_id, t.balances.c.asset_id, t.balances.c.amount, t.balances.c.held).where(
            t.balances.c.account_id.in_(sorted({a for a, _ in pairs})),
            t.balances.c.asset_id.in_(sorted({s for _, s in pairs})),
        ).order_by(t.balances.c.account_id, t.balances.c.asset_id)
        if lock:
            query = query.with_for_update()
        for row in self._conn.execute(query):
            key = by_ids.get((row.account_id, row.asset_id))
            if key is not None:
                out[key] = Balance(key[0], key[1], row.amount, row.held)
        return out

    def for_accounts(self, accounts: Iterable[str]) -> dict[str, list[Balance]]:
        """``for_account`` of several accounts with one query."""
        names = set(accounts)
        if not names:
            return {}
        account_ids = self._ids.account_ids(names)
        out: dict[str, list[Balance]] = {name: [] for name in names}
        sql = bulk_sql(self._conn)  # the raw cursor: no per-row result processing (the writer's snapshot)
        try:
            number = sql.number
            for name, kind, code, amount, held in sql.balances_of(account_ids.values()):
                out[name].append(Balance(name, asset_of(kind, code), number(amount), number(held)))
        finally:
            sql.close()
        return out

    def _query(self) -> Any:
        return (
            select(*_BALANCE_COLUMNS)
            .join(t.accounts, t.accounts.c.id == t.balances.c.account_id)
            .join(t.assets, t.assets.c.id == t.balances.c.asset_id)
            .order_by(t.accounts.c.name, t.assets.c.kind.desc(), t.assets.c.code)
        )

    def for_account(self, account: str) -> list[Balance]:
        """Every asset the account has touched (instruments first, then currencies)."""
        account_id = self._ids.account_id(account)
        return [
            _balance(row)
            for row in self._conn.execute(self._query().where(t.balances.c.account_id == account_id))
        ]

    def all(self) -> list[Balance]:
        return [_balance(row) for row in self._conn.execute(self._query())]
