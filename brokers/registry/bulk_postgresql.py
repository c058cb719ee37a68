"""PostgreSQL statements of ``batch.apply_batch``: rows as one JSON parameter per statement.

A batch costs 7 round trips besides BEGIN / COMMIT: the claim of its executions (``INSERT ...
ON CONFLICT DO NOTHING RETURNING``), its orders and their PENDING holds (``FOR UPDATE``), the
accounts and balances its opens check (the balances locked), every write in one statement (one
data-modifying CTE per table: they see the same snapshot and none reads what another writes;
foreign keys are checked at the end of the statement), and the balance snapshot.

Each statement is a fixed text (planned the same way whatever the number of rows) that reads its
rows from ``json_array_elements(<one JSON text>)``, ``WITH ORDINALITY`` where the order of the rows
matters (ids handed out, locks taken).  Values travel as JSON strings in ``bulk_sql``'s text forms
and are cast by the server: one ``json.dumps`` per statement instead of psycopg2 adapting every
value (~1 µs per Decimal).  Amounts are read back as text for the same reason.  Rows read to be
changed are locked in the order used everywhere: executions -> orders -> holds -> balances.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

from .bulk_sql import ACCOUNT_SELECT, BALANCE_ORDER, BALANCE_SELECT, HOLD_SELECT, ORDER_SELECT, BulkSql

_ROWS = "json_array_elements(%s::json) WITH ORDINALITY AS t(r, n)"


def _s(i: int) -> str:
    return f"(r->>{i})"


def _n(i: int) -> str:
    return f"(r->>{i})::numeric"


def _i(i: int) -> str:
    return f"(r->>{i})::integer"


_CLAIM = (
    "INSERT INTO executions (kind, state, venue, exec_id, order_id, account, counterparty_account, fee_account, "
    "symbol, side, qty, price, fees, currency, ts) "
    f"SELECT 'FILL', 'BOOKED', {', '.join(_s(i) for i in range(8))}, {_n(8)}, {_n(9)}, {_n(10)}, {_s(11)}, "
    f"(r->>12)::timestamp FROM {_ROWS} ORDER BY n "
    "ON CONFLICT (venue, exec_id) DO NOTHING RETURNING venue, exec_id, id"
)
_LOCK_BALANCES = (  # creates the missing rows and locks them all, in the order given; returns what they hold
    "INSERT INTO balances (account_id, asset_id, amount, held) "
    f"SELECT {_i(0)}, {_i(1)}, 0, 0 FROM {_ROWS} ORDER BY n "
    "ON CONFLICT (account_id, asset_id) DO UPDATE SET amount = balances.amount "
    "RETURNING account_id, asset_id, CAST(amount AS TEXT), CAST(held AS TEXT)"
)
# the writes of a batch: one statement, each table's part a data-modifying CTE (they see the same
# snapshot and none reads what another writes; foreign keys are checked at the end of the statement)
_INSERT_ORDERS = (
    "INSERT INTO orders (order_id, account_id, symbol, side, qty, price, currency, status, cum_qty, notional, "
    "avg_px, created_at, updated_at) "
    f"SELECT {_s(0)}, {_i(1)}, {_s(2)}, {_s(3)}, {_n(4)}, {_n(5)}, {_s(6)}, {_s(7)}, {_n(8)}, {_n(9)}, {_n(10)}, "
    f"%s::timestamp, %s::timestamp FROM {_ROWS}"
)
_UPDATE_ORDERS = (
    "UPDATE orders SET status = v.status, cum_qty = v.cum_qty, notional = v.notional, avg_px = v.avg_px, "
    "updated_at = %s::timestamp "
    f"FROM (SELECT {_s(0)} AS status, {_n(1)} AS cum_qty, {_n(2)} AS notional, {_n(3)} AS avg_px, "
    f"{_s(4)} AS order_id FROM {_ROWS}) AS v WHERE orders.order_id = v.order_id"
)
_INSERT_HOLDS = (
    "INSERT INTO holds (account_id, asset_id, order_id, amount, remaining, posted, state, created_at, updated_at) "
    f"SELECT {_i(0)}, {_i(1)}, {_s(2)}, {_n(3)}, {_n(4)}, {_n(5)}, {_s(6)}, %s::timestamp, %s::timestamp "
    f"FROM {_ROWS} ORDER BY n"
)
_UPDATE_HOLDS = (
    "UPDATE holds SET remaining = v.remaining, posted = v.posted, state = v.state, updated_at = %s::timestamp "
    f"FROM (SELECT {_n(0)} AS remaining, {_n(1)} AS posted, {_s(2)} AS state, {_i(3)} AS id FROM {_ROWS}) AS v "
    "WHERE holds.id = v.id"
)
_INSERT_ENTRIES = (
    "INSERT INTO ledger_entries (kind, ts, memo, execution_id) "
    f"SELECT 'TRADE', (r->>1)::timestamp, {_s(2)}, {_i(0)} FROM {_ROWS} ORDER BY n RETURNING id, execution_id"
)
_INSERT_LEGS = (  # joined to the entries on the execution id (unique within a batch)
    "INSERT INTO ledger_legs (entry_id, account_id, asset_id, amount) "
    "SELECT e.id, l.a, l.s, l.amount FROM (SELECT "
    f"{_i(0)} AS xid, {_i(1)} AS a, {_i(2)} AS s, {_n(3)} AS amount, n FROM {_ROWS}) AS l "
    "JOIN w_entries AS e ON e.execution_id = l.xid ORDER BY l.n"
)
_UPSERT_BALANCES = (
    "INSERT INTO balances (account_id, asset_id, amount, held) "
    f"SELECT {_i(0)}, {_i(1)}, {_n(2)}, {_n(3)} FROM {_ROWS} ORDER BY n "
    "ON CONFLICT (account_id, asset_id) DO UPDATE SET amount = balances.amount + excluded.amount, "
    "held = balances.held + excluded.held"
)
_PARTS = (  # (CTE name, statement, timestamps it takes before its rows)
    ("w_new_orders", _INSERT_ORDERS, 2),
    ("w_orders", _UPDATE_ORDERS, 1),
    ("w_new_holds", _INSERT_HOLDS, 2),
    ("w_holds", _UPDATE_HOLDS, 1),
    ("w_entries", _INSERT_ENTRIES, 0),
    ("w_legs", _INSERT_LEGS, 0),
    ("w_balances", _UPSERT_BALANCES, 0),
)
_WRITES: dict[tuple[bool, ...], str] = {}


def _writes(present: tuple[bool, ...]) -> str:
    """The one statement writing the parts ``present`` flags (cached per combination)."""
    sql = _WRITES.get(present)
    if sql is None:
        ctes = [f"{name} AS ({statement})" for (name, statement, _), here in zip(_PARTS, present, strict=True) if here]
        sql = _WRITES[present] = f"WITH {', '.join(ctes)} SELECT 1"
    return sql


def _json(rows: Sequence[tuple[Any, ...]]) -> str:
    return json.dumps(rows, separators=(",", ":"))


class PostgresBulkSql(BulkSql):
    """PostgreSQL: JSON rows, ``RETURNING`` for the ids, ``FOR UPDATE`` on what is changed."""

    def _all(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        self.cursor.execute(sql, params)
        return self.cursor.fetchall()  # type: ignore[no-any-return]

    def claim(self, rows: Sequence[tuple[Any, ...]]) -> dict[tuple[str, str], int]:
        return {(venue, exec_id): i for venue, exec_id, i in self._all(_CLAIM, (_json(rows),))}

    def orders(self, order_ids: Sequence[str]) -> list[tuple[Any, ...]]:
        return self._all(f"{ORDER_SELECT} WHERE o.order_id = ANY(%s) ORDER BY o.order_id FOR UPDATE OF o",
                         (list(order_ids),))

    def pending_holds(self, order_ids: Sequence[str]) -> list[tuple[Any, ...]]:
        return self._all(f"{HOLD_SELECT} WHERE h.order_id = ANY(%s) AND h.state = 'PENDING' "
                         "ORDER BY h.id FOR UPDATE OF h", (list(order_ids),))

    def accounts(self, names: Sequence[str]) -> list[tuple[Any, ...]]:
        return self._all(f"{ACCOUNT_SELECT} WHERE name = ANY(%s)", (list(names),))

    def lock_balances(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], tuple[Any, Any]]:
        return {(a, s): (amount, held) for a, s, amount, held in self._all(_LOCK_BALANCES, (_json(keys),))}

    def balances_of(self, account_ids: Iterable[int]) -> list[tuple[Any, ...]]:
        return self._all(f"{BALANCE_SELECT} WHERE b.account_id = ANY(%s){BALANCE_ORDER}", (sorted(account_ids),))

    def write(self, now: _dt.datetime, new_orders: list[tuple[Any, ...]], orders: list[tuple[Any, ...]],
              new_holds: list[tuple[Any, ...]], holds: list[tuple[Any, ...]],
              entries: list[tuple[Any, ...]], legs: list[tuple[Any, ...]],
              balances: list[tuple[Any, ...]]) -> None:
        stamp = self.ts(now)
        parts = (new_orders, orders, new_holds, holds, entries, legs, balances)
        present = tuple(bool(rows) for rows in parts)
        if not any(present):
            return
        params: list[Any] = []
        for (_, _, stamps), rows in zip(_PARTS, parts, strict=True):
            if rows:
                params.extend([stamp] * stamps)
                params.append(_json(rows))
        self.cursor.execute(_writes(present), params)
