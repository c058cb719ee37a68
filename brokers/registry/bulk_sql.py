"""The statements of ``batch.apply_batch``, on the raw DB-API cursor of the unit of work's connection.

Every value is converted once, in Python, to the text the column stores or parses (``amount_text``:
an ``Amount`` as fixed point with 8 places, checked as the ``Amount`` column checks it; ``ts_text``:
a ``UtcDateTime`` as naive UTC with microseconds, SQLAlchemy's SQLite storage format), and rows
travel as plain tuples: no SQLAlchemy compilation, bind or result processing per row.  Amounts are
read back as text and made ``Decimal`` once.  The cursor works inside the unit of work's transaction.

SQLite (``SqliteBulkSql``): ``executemany`` (a C loop) per table; lists of keys as one JSON
parameter (``json_each``), so every statement has one text and stays prepared.  The transaction
holds the database write lock from its first statement (``BEGIN IMMEDIATE``, see ``database``), so
the new ids of executions and ledger entries are the current maximum + 1, 2, ... and existing
execution keys can be checked with a SELECT before the INSERT.

PostgreSQL: see ``bulk_postgresql``.
"""

from __future__ import annotations

import datetime as _dt
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Connection

from brokers.domain.accounts import AMOUNT_LIMIT, AMOUNT_QUANTUM, ZERO, Asset, AssetKind, to_amount

from .types import SQLITE_ADD

#: executions columns the claim writes (kind, state and ref_exec_id are constants of a fill)
EXEC_COLUMNS = ("venue", "exec_id", "order_id", "account", "counterparty_account", "fee_account", "symbol",
                "side", "qty", "price", "fees", "currency", "ts")
ORDER_COLUMNS = ("order_id", "account_id", "symbol", "side", "qty", "price", "currency", "status", "cum_qty",
                 "notional", "avg_px")
HOLD_COLUMNS = ("account_id", "asset_id", "order_id", "amount", "remaining", "posted", "state")

# amounts are read as text on both backends (psycopg2 makes a NUMERIC a Decimal at ~1 µs each)
ORDER_SELECT = ("SELECT o.order_id, a.name, o.symbol, o.side, CAST(o.qty AS TEXT), CAST(o.price AS TEXT), "
                "o.currency, o.status, CAST(o.cum_qty AS TEXT), CAST(o.notional AS TEXT) "
                "FROM orders o JOIN accounts a ON a.id = o.account_id")
HOLD_SELECT = ("SELECT h.id, h.order_id, h.account_id, a.name, h.asset_id, s.kind, s.code, CAST(h.amount AS TEXT), "
               "CAST(h.remaining AS TEXT), CAST(h.posted AS TEXT) "
               "FROM holds h JOIN accounts a ON a.id = h.account_id JOIN assets s ON s.id = h.asset_id")
BALANCE_SELECT = ("SELECT a.name, s.kind, s.code, CAST(b.amount AS TEXT), CAST(b.held AS TEXT) FROM balances b "
                  "JOIN accounts a ON a.id = b.account_id JOIN assets s ON s.id = b.asset_id")
BALANCE_ORDER = " ORDER BY a.name, s.kind DESC, s.code"
ACCOUNT_SELECT = "SELECT name, kind, currency, allow_short, CAST(credit_limit AS TEXT) FROM accounts"
_ASSETS: dict[tuple[str, str], Asset] = {}
_ZERO_TEXT = "0.00000000"


def asset_of(kind: str, code: str) -> Asset:
    """The ``Asset`` of a row (shared instances: assets are immutable)."""
    asset = _ASSETS.get((kind, code))
    if asset is None:
        asset = _ASSETS[(kind, code)] = Asset(AssetKind(kind), code)
    return asset


def amount_text(value: Decimal, _quantum: Decimal = AMOUNT_QUANTUM, _limit: Decimal = AMOUNT_LIMIT,
                _zero: Decimal = ZERO) -> str:
    """An amount as SQLite stores it (``types.amount_text``) and PostgreSQL parses it; ``InvalidAmount``
    where the ``Amount`` column would refuse it (more than 8 places, too large, not a number)."""
    if value is _zero:  # the domain's ZERO: an unfilled order's cum qty, a hold's posted / released rest
        return _ZERO_TEXT
    if type(value) is Decimal and value.is_finite():
        amount = value.quantize(_quantum)
        if amount == value and -_limit < amount < _limit:
            return format(amount, "f")
    return format(to_amount(value), "f")


def ts_text(value: _dt.datetime) -> str:
    """A datetime as ``UtcDateTime`` stores it on SQLite (naive UTC, always with microseconds)."""
    if value.tzinfo is not None:
        value = value.astimezone(_dt.UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


class BulkSql(ABC):
    """The bulk statements of one backend, on the raw cursor of one unit of work's connection."""

    #: values as the statements take them: amounts as canonical text (checked as the ``Amount`` column
    #: checks them), timestamps as naive UTC text; and amounts read back (as text) to Decimal
    amount = staticmethod(amount_text)
    ts = staticmethod(ts_text)
    number = staticmethod(Decimal)

    def __init__(self, conn: Connection) -> None:
        self.cursor: Any = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]

    def close(self) -> None:
        self.cursor.close()

    @abstractmethod
    def claim(self, rows: Sequence[tuple[Any, ...]]) -> dict[tuple[str, str], int]:
        """Insert the executions rows (``EXEC_COLUMNS``, sorted by key) whose (venue, exec id) is new;
        returns {(venue, exec id): row id} of those inserted."""

    @abstractmethod
    def orders(self, order_ids: Sequence[str]) -> list[tuple[Any, ...]]:
        """The rows (``ORDER_SELECT``) of the orders among ``order_ids`` that exist, locked."""

    @abstractmethod
    def pending_holds(self, order_ids: Sequence[str]) -> list[tuple[Any, ...]]:
        """The PENDING holds (``HOLD_SELECT``) of the orders, by hold id, locked."""

    @abstractmethod
    def accounts(self, names: Sequence[str]) -> list[tuple[Any, ...]]:
        """(name, kind, currency, allow short, credit limit) of the accounts."""

    @abstractmethod
    def lock_balances(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], tuple[Any, Any]]:
        """{key: (amount, held)} of each (account id, asset id) key, locked; a key without a row reads zero
        (PostgreSQL creates it (0, 0) to lock it, as ``BalanceRepository.get_many(lock=True)`` does)."""

    @abstractmethod
    def balances_of(self, account_ids: Iterable[int]) -> list[tuple[Any, ...]]:
        """Every balance of the accounts (``BALANCE_SELECT``), in ``BALANCE_ORDER``."""

    @abstractmethod
    def write(self, now: _dt.datetime, new_orders: list[tuple[Any, ...]], orders: list[tuple[Any, ...]],
              new_holds: list[tuple[Any, ...]], holds: list[tuple[Any, ...]],
              entries: list[tuple[Any, ...]], legs: list[tuple[Any, ...]],
              balances: list[tuple[Any, ...]]) -> None:
        """``orders``: (status, cum, notional, avg px, order id); ``holds``: (remaining, posted, state, id);
        ``entries``: (execution id, ts, memo); ``legs``: (execution id, account id, asset id, amount);
        ``balances``: (account id, asset id, amount delta, held delta), sorted."""


def bulk_sql(conn: Connection) -> BulkSql:
    """The ``BulkSql`` of the connection's backend."""
    if conn.dialect.name == "postgresql":
        from .bulk_postgresql import PostgresBulkSql

        return PostgresBulkSql(conn)
    if conn.dialect.name == "sqlite":
        return SqliteBulkSql(conn)
    raise NotImplementedError(f"no bulk statements for {conn.dialect.name}")  # pragma: no cover


def _marks(n: int) -> str:
    return ",".join("?" * n)


class SqliteBulkSql(BulkSql):
    """SQLite: ``executemany`` per table, ids allocated under the transaction's write lock."""

    def _select(self, sql: str, values: Sequence[Any], tail: str = "", columns: str = "value") -> list[tuple[Any, ...]]:
        """``sql`` ending in a column + `` IN`` the values (one JSON parameter: one statement text)."""
        return self.cursor.execute(f"{sql} IN (SELECT {columns} FROM json_each(?)){tail}",  # type: ignore[no-any-return]
                                   (json.dumps(list(values)),)).fetchall()

    def claim(self, rows: Sequence[tuple[Any, ...]]) -> dict[tuple[str, str], int]:
        taken = set(self._select(  # by the UNIQUE (venue, exec_id) index
            "SELECT venue, exec_id FROM executions WHERE (venue, exec_id)", [(r[0], r[1]) for r in rows],
            columns="json_extract(value, '$[0]'), json_extract(value, '$[1]')",
        ))
        new = [row for row in rows if (row[0], row[1]) not in taken]
        if not new:
            return {}
        last = self.cursor.execute("SELECT max(id) FROM executions").fetchone()[0] or 0
        ids = range(last + 1, last + 1 + len(new))
        self.cursor.executemany(
            f"INSERT INTO executions (id, kind, state, {', '.join(EXEC_COLUMNS)}) "
            f"VALUES (?, 'FILL', 'BOOKED', {_marks(len(EXEC_COLUMNS))})",
            [(i, *row) for i, row in zip(ids, new, strict=True)],
        )
        return {(row[0], row[1]): i for i, row in zip(ids, new, strict=True)}

    def orders(self, order_ids: Sequence[str]) -> list[tuple[Any, ...]]:
        return self._select(f"{ORDER_SELECT} WHERE o.order_id", order_ids)

    def pending_holds(self, order_ids: Sequence[str]) -> list[tuple[Any, ...]]:
        # ``+h.state``: look the holds up by order id, not by the (far less selective) state index
        return self._select(f"{HOLD_SELECT} WHERE +h.state = 'PENDING' AND h.order_id", order_ids, " ORDER BY h.id")

    def accounts(self, names: Sequence[str]) -> list[tuple[Any, ...]]:
        return self._select(f"{ACCOUNT_SELECT} WHERE name", names)

    def lock_balances(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], tuple[Any, Any]]:
        wanted = set(keys)
        found = {key: (_ZERO_TEXT, _ZERO_TEXT) for key in keys}  # never touched: zero (the upsert creates it)
        for account_id, asset_id, amount, held in self._select(
            "SELECT account_id, asset_id, amount, held FROM balances WHERE account_id", sorted({a for a, _ in keys})
        ):
            if (account_id, asset_id) in wanted:
                found[(account_id, asset_id)] = (amount, held)
        return found

    def balances_of(self, account_ids: Iterable[int]) -> list[tuple[Any, ...]]:
        return self._select(f"{BALANCE_SELECT} WHERE b.account_id", sorted(account_ids), BALANCE_ORDER)

    def write(self, now: _dt.datetime, new_orders: list[tuple[Any, ...]], orders: list[tuple[Any, ...]],
              new_holds: list[tuple[Any, ...]], holds: list[tuple[Any, ...]],
              entries: list[tuple[Any, ...]], legs: list[tuple[Any, ...]],
              balances: list[tuple[Any, ...]]) -> None:
        cur, stamp = self.cursor, self.ts(now)
        if new_orders:
            cur.executemany(
                f"INSERT INTO orders ({', '.join(ORDER_COLUMNS)}, created_at, updated_at) "
                f"VALUES ({_marks(len(ORDER_COLUMNS) + 2)})",
                [(*row, stamp, stamp) for row in new_orders],
            )
        if orders:
            cur.executemany(
                "UPDATE orders SET status = ?, cum_qty = ?, notional = ?, avg_px = ?, updated_at = ? "
                "WHERE order_id = ?",
                [(s, c, n, a, stamp, i) for s, c, n, a, i in orders],
            )
        if new_holds:
            cur.executemany(
                f"INSERT INTO holds ({', '.join(HOLD_COLUMNS)}, created_at, updated_at) "
                f"VALUES ({_marks(len(HOLD_COLUMNS) + 2)})",
                [(*row, stamp, stamp) for row in new_holds],
            )
        if holds:
            cur.executemany(
                "UPDATE holds SET remaining = ?, posted = ?, state = ?, updated_at = ? WHERE id = ?",
                [(r, p, s, stamp, i) for r, p, s, i in holds],
            )
        if entries:
            last = cur.execute("SELECT max(id) FROM ledger_entries").fetchone()[0] or 0
            entry_ids = {xid: last + 1 + n for n, (xid, _, _) in enumerate(entries)}
            cur.executemany(
                "INSERT INTO ledger_entries (id, kind, ts, memo, execution_id) VALUES (?, 'TRADE', ?, ?, ?)",
                [(entry_ids[xid], ts, memo, xid) for xid, ts, memo in entries],
            )
            cur.executemany(
                "INSERT INTO ledger_legs (entry_id, account_id, asset_id, amount) VALUES (?, ?, ?, ?)",
                [(entry_ids[xid], a, s, amount) for xid, a, s, amount in legs],
            )
        if balances:
            cur.executemany(
                "INSERT INTO balances (account_id, asset_id, amount, held) VALUES (?, ?, ?, ?) "
                f"ON CONFLICT (account_id, asset_id) DO UPDATE SET amount = {SQLITE_ADD}(amount, excluded.amount), "
                f"held = {SQLITE_ADD}(held, excluded.held)",
                balances,
            )

