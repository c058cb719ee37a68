"""Orders as the registry records them, and the holds that reserve buying power for them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.engine import Connection, Row

from brokers.domain.accounts import (
    Hold,
    HoldState,
)
from brokers.domain.ledger import (
    BookedOrder,
    BookingError,
    OrderState,
    Side,
)

from .. import tables as t
from ..types import Amount, UtcDateTime
from .ids import Clock, IdResolver, asset_from_row

_AMOUNT = Amount()
_PG_DIALECT: Any = None


def _amount(value: Any) -> Any:
    """An amount bound the way the ``Amount`` column binds it on PostgreSQL (checked, 8 places)."""
    return _AMOUNT.process_bind_param(value, _PG_DIALECT)


class _PgDialect:
    name = "postgresql"


_PG_DIALECT = _PgDialect()

# PostgreSQL: batch updates as one statement over unnest()ed array parameters (a fixed text, so the
# statement compiles once and is planned once per batch, whatever the number of rows).
_PG_UPDATE_ORDERS = text(
    "UPDATE orders SET status = v.status, cum_qty = v.cum_qty, notional = v.notional, avg_px = v.avg_px, "
    "updated_at = :now "
    "FROM unnest(CAST(:ids AS VARCHAR[]), CAST(:statuses AS VARCHAR[]), CAST(:cum AS NUMERIC[]), "
    "CAST(:notional AS NUMERIC[]), CAST(:avg AS NUMERIC[])) AS v(order_id, status, cum_qty, notional, avg_px) "
    "WHERE orders.order_id = v.order_id"
).bindparams(bindparam("now", type_=UtcDateTime()))
_PG_UPDATE_HOLDS = text(
    "UPDATE holds SET remaining = v.remaining, posted = v.posted, state = v.state, updated_at = :now "
    "FROM unnest(CAST(:ids AS INTEGER[]), CAST(:remaining AS NUMERIC[]), CAST(:posted AS NUMERIC[]), "
    "CAST(:states AS VARCHAR[])) AS v(id, remaining, posted, state) "
    "WHERE holds.id = v.id"
).bindparams(bindparam("now", type_=UtcDateTime()))


def _order(row: Row[Any]) -> BookedOrder:
    m = row._mapping
    return BookedOrder(
        order_id=m["order_id"],
        account=m["account"],
        symbol=m["symbol"],
        side=Side(m["side"]),
        qty=m["qty"],
        price=m["price"],
        currency=m["currency"],
        status=OrderState(m["status"]),
        cum_qty=m["cum_qty"],
        notional=m["notional"],
        created=m["created_at"],
    )


class OrderRepository:
    """The registry's orders: what the gateway accepted, and what has booked against it."""

    def __init__(self, conn: Connection, ids: IdResolver, clock: Clock) -> None:
        self._conn = conn
        self._ids = ids
        self._clock = clock

    def add(self, order: BookedOrder) -> None:
        if self.get(order.order_id) is not None:
            raise BookingError(f"order {order.order_id!r} already exists")
        now = self._clock()
        self._conn.execute(
            t.orders.insert(),
            {
                "order_id": order.order_id,
                "account_id": self._ids.account_id(order.account),
                "symbol": order.symbol,
                "side": order.side.value,
                "qty": order.qty,
                "price": order.price,
                "currency": order.currency,
                "status": order.status.value,
                "cum_qty": order.cum_qty,
                "notional": order.notional,
                "avg_px": order.avg_px,
                "created_at": now,
                "updated_at": now,
            },
        )

    def add_many(self, orders: Sequence[BookedOrder]) -> None:
        """Insert new orders (one existence check, one ``executemany``); all or nothing."""
        if not orders:
            return
        ids = [order.order_id for order in orders]
        seen: set[str] = set()
        existing = self.get_many(ids)
        for order_id in ids:
            if order_id in existing or order_id in seen:
                raise BookingError(f"order {order_id!r} already exists")
            seen.add(order_id)
        account_ids = self._ids.account_ids({order.account for order in orders})
        now = self._clock()
        self._conn.execute(
            t.orders.insert(),
            [
                {
                    "order_id": order.order_id,
                    "account_id": account_ids[order.account],
                    "symbol": order.symbol,
                    "side": order.side.value,
                    "qty": order.qty,
                    "price": order.price,
                    "currency": order.currency,
                    "status": order.status.value,
                    "cum_qty": order.cum_qty,
                    "notional": order.notional,
                    "avg_px": order.avg_px,
                    "created_at": now,
                    "updated_at": now,
                }
                for order in orders
            ],
        )

    def _query(self) -> Any:
        return select(t.orders, t.accounts.c.name.label("account")).join(
            t.accounts, t.accounts.c.id == t.orders.c.account_id
        )

    def get(self, order_id: str, *, lock: bool = False) -> BookedOrder | None:
        return self.get_many([order_id], lock=lock).get(order_id)

    def get_many(self, order_ids: Iterable[str], *, lock: bool = False) -> dict[str, BookedOrder]:
        ids = sorted(set(order_ids))
        if not ids:
            return {}
        query = self._query().where(t.orders.c.order_id.in_(ids)).order_by(t.orders.c.order_id)
        if lock:
            query = query.with_for_update(of=t.orders)
        return {row.order_id: _order(row) for row in self._conn.execute(query)}

    def save(self, orders: Iterable[BookedOrder]) -> None:
        """Write back status, cum qty, notional and avg px (one ``executemany``)."""
        now = self._clock()
        rows = [
            {
                "b_order_id": order.order_id,
                "b_status": order.status.value,
                "b_cum_qty": order.cum_qty,
                "b_notional": order.notional,
                "b_avg_px": order.avg_px,
            }
            for order in orders
        ]
        if not rows:
            return
        if len(rows) > 1 and self._conn.dialect.name == "postgresql":
            self._conn.execute(  # one statement (one plan), arrays as parameters, instead of one UPDATE per row
                _PG_UPDATE_ORDERS,
                {
                    "ids": [r["b_order_id"] for r in rows],
                    "statuses": [r["b_status"] for r in rows],
                    "cum": [_amount(r["b_cum_qty"]) for r in rows],
                    "notional": [_amount(r["b_notional"]) for r in rows],
                    "avg": [_amount(r["b_avg_px"]) for r in rows],
                    "now": now,
                },
            )
            return
        stmt = (
            update(t.orders)
            .where(t.orders.c.order_id == bindparam("b_order_id"))
            .values(
                status=bindparam("b_status"),
                cum_qty=bindparam("b_cum_qty"),
                notional=bindparam("b_notional"),
                avg_px=bindparam("b_avg_px"),
                updated_at=now,
            )
        )
        self._conn.execute(stmt, rows)

    def list(self, account: str | None = None) -> list[BookedOrder]:
        query = self._query().order_by(t.orders.c.created_at, t.orders.c.order_id)
        if account is not None:
            query = query.where(t.accounts.c.name == account)
        return [_order(row) for row in self._conn.execute(query)]


def _hold(row: Row[Any]) -> Hold:
    m = row._mapping
    return Hold(
        account=m["account"],
        asset=asset_from_row(row),
        order_id=m["order_id"],
        amount=m["amount"],
        remaining=m["remaining"],
        posted=m["posted"],
        state=HoldState(m["state"]),
        hold_id=m["id"],
    )


class HoldRepository:
    """Buying-power reservations.  Balance ``held`` columns are moved by the callers, in the same batch."""

    def __init__(self, conn: Connection, ids: IdResolver, clock: Clock) -> None:
        self._conn = conn
        self._ids = ids
        self._clock = clock

    def add(self, hold: Hold) -> Hold:
        now = self._clock()
        hold.hold_id = self._conn.execute(
            t.holds.insert().returning(t.holds.c.id),
            {
                "account_id": self._ids.account_id(hold.account),
                "asset_id": self._ids.asset_id(hold.asset),
                "order_id": hold.order_id,
                "amount": hold.amount,
                "remaining": hold.remaining,
                "posted": hold.posted,
                "state": hold.state.value,
                "created_at": now,
                "updated_at": now,
            },
        ).scalar_one()
        return hold

    def add_many(self, holds: Sequence[Hold]) -> None:
        """Insert holds with one ``executemany`` (their ``hold_id`` stays unset)."""
        if not holds:
            return
        account_ids = self._ids.account_ids({hold.account for hold in holds})
        asset_ids = self._ids.asset_ids({hold.asset for hold in holds})
        now = self._clock()
        self._conn.execute(
            t.holds.insert(),
            [
                {
                    "account_id": account_ids[hold.account],
                    "asset_id": asset_ids[hold.asset],
                    "order_id": hold.order_id,
                    "amount": hold.amount,
                    "remaining": hold.remaining,
                    "posted": hold.posted,
                    "state": hold.state.value,
                    "created_at": now,
                    "updated_at": now,
                }
                for hold in holds
            ],
        )

    def _query(self) -> Any:
        return (
            select(
                t.holds,
                t.accounts.c.name.label("account"),
                t.assets.c.kind.label("asset_kind"),
                t.assets.c.code.label("asset_code"),
            )
            .join(t.accounts, t.accounts.c.id == t.holds.c.account_id)
            .join(t.assets, t.assets.c.id == t.holds.c.asset_id)
            .order_by(t.holds.c.id)
        )

    def pending(self, order_ids: Iterable[str], *, lock: bool = False) -> dict[str, list[Hold]]:
        """PENDING holds of the given orders, grouped by order id."""
        ids = sorted(set(order_ids))
        if not ids:
            return {}
        query = self._query().where(t.holds.c.order_id.in_(ids), t.holds.c.state == HoldState.PENDING.value)
        if lock:
            query = query.with_for_update(of=t.holds)
        grouped: dict[str, list[Hold]] = {}
        for row in self._conn.execute(query):
            grouped.setdefault(row.order_id, []).append(_hold(row))
        return grouped

    def for_order(self, order_id: str) -> list[Hold]:
        return [_hold(row) for row in self._conn.execute(self._query().where(t.holds.c.order_id == order_id))]

    def all_pending(self) -> list[Hold]:
        return [
            _hold(row)
            for row in self._conn.execute(self._query().where(t.holds.c.state == HoldState.PENDING.value))
        ]

    def save(self, holds: Iterable[Hold]) -> None:
        now = self._clock()
        rows = [
            {"b_id": h.hold_id, "b_remaining": h.remaining, "b_posted": h.posted, "b_state": h.state.value}
            for h in holds
        ]
        if not rows:
            return
        if len(rows) > 1 and self._conn.dialect.name == "postgresql":
            self._conn.execute(  # one statement (one plan), arrays as parameters, instead of one UPDATE per row
                _PG_UPDATE_HOLDS,
                {
                    "ids": [r["b_id"] for r in rows],
                    "remaining": [_amount(r["b_remaining"]) for r in rows],
                    "posted": [_amount(r["b_posted"]) for r in rows],
                    "states": [r["b_state"] for r in rows],
                    "now": now,
                },
            )
            return
        stmt = (
            update(t.holds)
            .where(t.holds.c.id == bindparam("b_id"))
            .values(
                remaining=bindparam("b_remaining"),
                posted=bindparam("b_posted"),
                state=bindparam("b_state"),
                updated_at=now,
            )
        )
        self._conn.execute(stmt, rows)
