"""Ids of accounts and assets, the shared helpers of the repositories, and the names they share."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Table, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from brokers.domain.accounts import (
    Account,
    Asset,
    AssetKind,
    UnknownAccount,
)

from .. import tables as t

Clock = Callable[[], _dt.datetime]
BalanceKey = tuple[str, Asset]


def dialect_insert(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT (with ``on_conflict_*``)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def asset_from_row(row: Row[Any], kind: str = "asset_kind", code: str = "asset_code") -> Asset:
    return Asset(AssetKind(row._mapping[kind]), row._mapping[code])


class IdCache:
    """Account and asset ids known to be committed; shared by the units of work of one registry.

    Ids never change once committed, so they are safe to keep; ids created by a transaction are only
    published here when it commits (``IdResolver.publish``).
    """

    def __init__(self) -> None:
        self.accounts: dict[str, int] = {}
        self.assets: dict[Asset, int] = {}


class IdResolver:
    """Name -> id for accounts and assets within one transaction (assets are created on first use)."""

    def __init__(self, conn: Connection, cache: IdCache, clock: Clock) -> None:
        self._conn = conn
        self._cache = cache
        self._clock = clock
        self._new_accounts: dict[str, int] = {}
        self._new_assets: dict[Asset, int] = {}

    def publish(self) -> None:
        """Called after commit: what this transaction created is now visible to everyone."""
        self._cache.accounts.update(self._new_accounts)
        self._cache.assets.update(self._new_assets)

    def _known_account(self, name: str) -> int | None:
        return self._cache.accounts.get(name) or self._new_accounts.get(name)

    def knows_accounts(self, names: Iterable[str]) -> bool:
        """Whether every one of ``names`` has an id here already (committed, or created by this transaction)."""
        return all(self._known_account(name) is not None for name in names)

    def account_ids(self, names: Iterable[str]) -> dict[str, int]:
        """Ids of existing accounts; raises UnknownAccount for the first missing one."""
        wanted = set(names)
        found = {name: i for name in wanted if (i := self._known_account(name)) is not None}
        missing = wanted - found.keys()
        if missing:
            rows = self._conn.execute(
                select(t.accounts.c.name, t.accounts.c.id).where(t.accounts.c.name.in_(missing))
            )
            for name, account_id in rows:
                found[name] = account_id
                self._cache.accounts[name] = account_id  # committed by someone, or staged by us already
            for name in sorted(missing - found.keys()):
                raise UnknownAccount(name)
        return found

    def account_id(self, name: str) -> int:
        return self.account_ids([name])[name]

    def stage_account(self, name: str, account_id: int) -> None:
        self._new_accounts[name] = account_id

    def ensure_accounts(self, accounts: Iterable[Account]) -> dict[str, int]:
        """Ids of ``accounts``, creating the missing ones (used for venue, fee and world accounts)."""
        by_name = {account.name: account for account in accounts}
        known = {name: i for name in by_name if (i := self._known_account(name)) is not None}
        missing = sorted(by_name.keys() - known.keys())
        if missing:
            now = self._clock()
            rows = [account_row(by_name[name], now) for name in missing]
            stmt = dialect_insert(self._conn, t.accounts).on_conflict_do_nothing(index_elements=["name"])
            inserted = self._conn.execute(stmt.returning(t.accounts.c.name, t.accounts.c.id), rows)
            for name, account_id in inserted:
                self.stage_account(name, account_id)
                known[name] = account_id
            known.update(self.account_ids(name for name in missing if name not in known))
        return known

    def asset_ids(self, wanted: Iterable[Asset]) -> dict[Asset, int]:
        """Ids of ``wanted`` assets, creating the missing ones."""
        assets = set(wanted)
        found = {
            a: i for a in assets if (i := self._cache.assets.get(a) or self._new_assets.get(a)) is not None
        }
        missing = sorted(assets - found.keys())
        if missing:
            rows = [{"kind": a.kind.value, "code": a.code} for a in missing]
            stmt = dialect_insert(self._conn, t.assets).on_conflict_do_nothing(
                index_elements=["kind", "code"]
            )
            for kind, code, asset_id in self._conn.execute(
                stmt.returning(t.assets.c.kind, t.assets.c.code, t.assets.c.id), rows
            ):
                asset = Asset(AssetKind(kind), code)
                self._new_assets[asset] = asset_id
                found[asset] = asset_id
            still = [a for a in missing if a not in found]
            if still:
                keys = [(a.kind.value, a.code) for a in still]
                query = select(t.assets.c.kind, t.assets.c.code, t.assets.c.id).where(
                    tuple_(t.assets.c.kind, t.assets.c.code).in_(keys)
                )
                for kind, code, asset_id in self._conn.execute(query):
                    asset = Asset(AssetKind(kind), code)
                    self._cache.assets[asset] = asset_id
                    found[asset] = asset_id
        return found

    def asset_id(self, asset: Asset) -> int:
        return self.asset_ids([asset])[asset]

    def find_asset_id(self, asset: Asset) -> int | None:
        """The asset's id, without creating it (for reads)."""
        known = self._cache.assets.get(asset) or self._new_assets.get(asset)
        if known is not None:
            return known
        query = select(t.assets.c.id).where(
            t.assets.c.kind == asset.kind.value, t.assets.c.code == asset.code
        )
        return self._conn.execute(query).scalar_one_or_none()


def account_row(account: Account, now: _dt.datetime) -> dict[str, Any]:
    return {
        "name": account.name,
        "kind": account.kind.value,
        "currency": account.currency,
        "allow_short": account.allow_short,
        "credit_limit": account.credit_limit,
        "created_at": now,
    }
