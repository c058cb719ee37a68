"""A writer batch in one transaction: read what it needs, replay it in memory in queue order, write the result.

``apply_batch`` runs a list of operations -- open an order with its reservations, book a fill, close
an order -- with the outcome of running ``reservations.open_order`` / ``booking.book_fill`` /
``reservations.close_order`` for each in turn in one transaction, in a fixed number of statements
whatever the batch holds (``bulk_sql``: about 15 short ones on SQLite, 7 round trips on PostgreSQL),
with every value converted once in plain Python (no ORM-style objects, no per-row SQLAlchemy work):

1. claim the (venue, ExecID) keys of the batch's fills in the executions journal (exactly once: a
   key already there, or twice in the batch, is not booked again);
2. read, locked, the orders the batch names and their PENDING holds, and the balances its
   reservations check (with the accounts' limits);
3. replay every operation in queue order on those rows in memory, with the domain's own rules
   (``BookedOrder.check_fill`` / ``add_fill`` / ``close``, ``Hold.settle`` / ``release``,
   ``pro_rata_remaining``, ``Account.floor``), tracking every balance change, so an open sees the
   buying power exactly as the earlier operations of the batch left it;
4. write the final state: new orders and holds inserted as they end the batch, changed ones
   updated, ledger entries and legs inserted, every touched balance moved by its net change.

It raises whenever the one-by-one run would refuse an operation (and it may refuse more: an
operation it does not expect); the batch is then rolled back and the caller runs the operations
one per transaction with the reference functions, which say what was wrong with which.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from brokers.domain.accounts import (
    AMOUNT_LIMIT,
    AMOUNT_QUANTUM,
    ZERO,
    Account,
    AccountKind,
    Asset,
    Hold,
    HoldState,
    InsufficientFunds,
    positive_amount,
    round_amount,
    to_amount,
)
from brokers.domain.ledger import BookedOrder, BookingError, FillToBook, OrderState, Side, UnknownOrder
from brokers.domain.ledger import pro_rata_remaining as _pro_rata

from .booking import _ensure_counterparties
from .bulk_sql import BulkSql, asset_of, bulk_sql
from .reservations import as_asset
from .unit_of_work import SqlUnitOfWork

OPEN, FILL, CLOSE = 0, 1, 2
#: ``(OPEN, BookedOrder, reservations)``, ``(FILL, FillToBook, None)`` or ``(CLOSE, order id, OrderState)``
Item = tuple[int, Any, Any]

_SIDES = {side.value: side for side in Side}
_STATES = {state.value: state for state in OrderState}
_PENDING = HoldState.PENDING
_Key = tuple[int, int]  # (account id, asset id)


def _copy(order: BookedOrder) -> BookedOrder:
    """A shallow copy (``dataclasses.replace`` re-validates every field: ~10x slower)."""
    copy = object.__new__(BookedOrder)
    copy.__dict__.update(order.__dict__)
    return copy


def _stored_order(order_id: str, account: str, symbol: str, side: Side, qty: Decimal, price: Decimal | None,
                  currency: str, status: OrderState, cum_qty: Decimal, notional: Decimal) -> BookedOrder:
    """A ``BookedOrder`` from its row (validated when it was written: ``__post_init__`` is skipped)."""
    order = object.__new__(BookedOrder)
    order.__dict__.update(order_id=order_id, account=account, symbol=symbol, side=side, qty=qty, price=price,
                          currency=currency, status=status, cum_qty=cum_qty, notional=notional, created=None)
    return order


def _positive(amount: Any, _limit: Decimal = AMOUNT_LIMIT, _quantum: Decimal = AMOUNT_QUANTUM) -> Decimal:
    """``positive_amount(amount, "reservation")``, with a fast path for an exact Decimal."""
    if type(amount) is Decimal and amount.is_finite() and 0 < amount < _limit and amount.quantize(_quantum) == amount:
        return amount
    return positive_amount(amount, "reservation")


def _cash(fill: FillToBook) -> Asset:
    return asset_of("CURRENCY", fill.currency)  # FillToBook.cash_asset, shared


def _instrument(fill: FillToBook) -> Asset:
    return asset_of("INSTRUMENT", fill.symbol.strip())  # FillToBook.instrument, shared


class _Held:
    """A hold in the batch: the domain ``Hold`` and the ids of its balance row."""

    __slots__ = ("hold", "key", "new", "dirty")

    def __init__(self, hold: Hold, key: _Key, new: bool) -> None:
        self.hold, self.key, self.new, self.dirty = hold, key, new, new


class _Replay:
    """The batch's rows in memory, and the balance changes of the operations replayed so far."""

    def __init__(self) -> None:
        self.orders: dict[str, BookedOrder] = {}
        self.new_orders: list[BookedOrder] = []
        self.dirty_orders: dict[str, BookedOrder] = {}
        self.holds: dict[str, list[_Held]] = {}
        self.all_holds: list[_Held] = []
        self.deltas: dict[_Key, list[Decimal]] = {}  # key -> [amount, held], every key some operation moved
        self.base: dict[_Key, tuple[Decimal, Decimal]] = {}  # locked balances the opens check
        self.limits: dict[str, Account] = {}
        self.entries: list[tuple[Any, ...]] = []
        self.legs: list[tuple[Any, ...]] = []
        self.account_ids: dict[str, int] = {}
        self.asset_ids: dict[Asset, int] = {}

    def move(self, op_deltas: dict[_Key, list[Decimal]]) -> None:
        """Add one operation's balance changes (a key it leaves unchanged overall is not touched, as in
        ``BalanceRepository.apply``)."""
        deltas = self.deltas
        for key, (amount, held) in op_deltas.items():
            if amount or held:
                total = deltas.get(key)
                if total is None:
                    deltas[key] = [amount, held]
                else:
                    total[0] += amount
                    total[1] += held

    # ---- the operations ------------------------------------------------------------------------

    def open(self, given: BookedOrder, reservations: Mapping[Asset | str, Any] | None) -> None:
        if given.order_id in self.orders:
            raise BookingError(f"order {given.order_id!r} already exists")
        if not given.status.is_open:
            raise BookingError(f"order {given.order_id!r} is {given.status.value}: nothing to reserve for")
        order = _copy(given)  # the caller's object stays as it was (a refused batch runs it again)
        account_id = self.account_ids[order.account]
        wanted = [(as_asset(asset), _positive(amount)) for asset, amount in (reservations or {}).items()]
        op_deltas: dict[_Key, list[Decimal]] = {}
        holds = self.holds.setdefault(order.order_id, [])
        for asset, value in wanted:
            key = (account_id, self.asset_ids[asset])
            floor = self.limits[order.account].floor(asset)
            base_amount, base_held = self.base[key]
            moved = self.deltas.get(key, (ZERO, ZERO))
            taken = op_deltas.get(key, (ZERO, ZERO))[1]
            available = base_amount + moved[0] - base_held - moved[1] - taken
            if floor is not None and available - value < floor:
                raise InsufficientFunds(order.account, asset, value, available - floor)
            op_deltas.setdefault(key, [ZERO, ZERO])[1] += value
            held = _Held(Hold(order.account, asset, order.order_id, value, value), key, True)  # Hold.reserve
            holds.append(held)
            self.all_holds.append(held)
        self.move(op_deltas)
        self.orders[order.order_id] = order
        self.new_orders.append(order)

    def fill(self, fill: FillToBook, execution_id: int, ts: Any) -> None:
        ids = self.account_ids
        account_id = ids[fill.account]
        cash, instrument = self.asset_ids[_cash(fill)], self.asset_ids[_instrument(fill)]
        sign = fill.side.sign
        notional, qty, fees = round_amount(fill.qty * fill.price), fill.qty, fill.fees  # FillToBook.notional
        if abs(notional) >= AMOUNT_LIMIT:
            to_amount(notional, "leg amount")  # the entry would refuse it
        legs = [  # FillToBook.entry(): the same legs in the same order, zero legs dropped
            (account_id, cash, -sign * notional),
            (ids[fill.counterparty_account], cash, sign * notional),
            (account_id, cash, -fees),
            (ids[fill.fee_account], cash, fees),
            (account_id, instrument, sign * qty),
            (ids[fill.counterparty_account], instrument, -sign * qty),
        ]
        memo = f"{fill.venue} {fill.exec_id} {fill.side.value} {fill.qty} {fill.symbol} @ {fill.price}"
        self.entries.append((execution_id, ts, memo[:256]))
        op_deltas: dict[_Key, list[Decimal]] = {}
        net: dict[int, Decimal] = {}  # the account's own net per asset id
        for a, s, amount in legs:
            if not amount:
                continue
            self.legs.append((execution_id, a, s, amount))
            op_deltas.setdefault((a, s), [ZERO, ZERO])[0] += amount
            if a == account_id:
                net[s] = net.get(s, ZERO) + amount
        if fill.order_id is not None:
            outflows = {s: -amount for s, amount in net.items() if amount < 0}
            self._settle(fill, notional, account_id, outflows, op_deltas)
        self.move(op_deltas)

    def _settle(self, fill: FillToBook, notional: Decimal, account_id: int, outflows: dict[int, Decimal],
                op_deltas: dict[_Key, list[Decimal]]) -> None:
        """``booking._post_fills`` / ``_settle_holds`` for one fill."""
        order = self.orders.get(fill.order_id)  # type: ignore[arg-type]
        if order is None:
            raise UnknownOrder(f"unknown order {fill.order_id!r}")
        order.check_fill(fill)
        order.add_fill(fill.qty, notional)
        self.dirty_orders[order.order_id] = order
        for held in self.holds.get(order.order_id, ()):
            hold = held.hold
            if hold.state is not _PENDING:
                continue  # done by an earlier fill
            asset_id = held.key[1]
            used = outflows.get(asset_id, ZERO) if hold.account == order.account else ZERO
            posted_before = hold.posted
            change = hold.settle(used, _pro_rata(hold.amount, order))
            op_deltas.setdefault(held.key, [ZERO, ZERO])[1] += change
            if asset_id in outflows:
                outflows[asset_id] -= hold.posted - posted_before
            held.dirty = True

    def close(self, order_id: str, status: OrderState) -> None:
        order = self.orders.get(order_id)
        if order is None:
            raise UnknownOrder(f"unknown order {order_id!r}")
        order.close(status)
        self.dirty_orders[order_id] = order
        op_deltas: dict[_Key, list[Decimal]] = {}
        for held in self.holds.get(order_id, ()):
            if held.hold.state is _PENDING:
                op_deltas.setdefault(held.key, [ZERO, ZERO])[1] += held.hold.release()
                held.dirty = True
        self.move(op_deltas)


def apply_batch(uow: SqlUnitOfWork, items: Sequence[Item]) -> None:
    """Run the items in the unit of work (see the module docstring); raises on the first refusal."""
    sql = bulk_sql(uow.connection)
    try:
        _apply(uow, sql, items)
    finally:
        sql.close()


def _apply(uow: SqlUnitOfWork, sql: BulkSql, items: Sequence[Item]) -> None:
    replay = _Replay()
    clients: set[str] = set()
    assets: set[Asset] = set()
    order_ids: set[str] = set()
    opened: set[str] = set()
    fills: dict[tuple[str, str], FillToBook] = {}  # first fill of each key
    for kind, subject, extra in items:
        if kind == OPEN:
            clients.add(subject.account)
            opened.add(subject.order_id)
            order_ids.add(subject.order_id)
            assets.update(as_asset(asset) for asset in (extra or {}))
        elif kind == FILL:
            clients.add(subject.account)
            fills.setdefault(subject.key, subject)
            if subject.order_id is not None:
                order_ids.add(subject.order_id)
        else:
            order_ids.add(subject)
    ids = uow.ids
    replay.account_ids = dict(ids.account_ids(clients))  # client accounts must exist
    if fills:
        counterparties = {f.counterparty_account for f in fills.values()} | {f.fee_account for f in fills.values()}
        if not ids.knows_accounts(counterparties):
            _ensure_counterparties(uow, fills.values())  # venue and fee accounts are created on first use
        replay.account_ids.update(ids.account_ids(counterparties))
        for fill in fills.values():
            assets.add(_cash(fill))
            assets.add(_instrument(fill))
    replay.asset_ids = ids.asset_ids(assets) if assets else {}
    stamps = {key: sql.ts(fill.ts) for key, fill in fills.items()}
    claimed = _claim(sql, fills.values(), stamps) if fills else {}
    if order_ids:
        _load_orders(replay, sql, sorted(order_ids), opened)
    if opened:
        _load_limits(replay, sql, items)
    booked: set[tuple[str, str]] = set()
    for kind, subject, extra in items:
        if kind == OPEN:
            replay.open(subject, extra)
        elif kind == FILL:
            key = subject.key
            if key in claimed and key not in booked and fills[key] is subject:
                booked.add(key)
                replay.fill(subject, claimed[key], stamps[key])
        else:
            replay.close(subject, extra)
    _write(replay, sql, uow)


def _claim(sql: BulkSql, fills: Any, stamps: dict[tuple[str, str], Any]) -> dict[tuple[str, str], int]:
    amount = sql.amount
    rows = sorted(
        (f.venue, f.exec_id, f.order_id, f.account, f.counterparty_account, f.fee_account, f.symbol, f.side.value,
         amount(f.qty), amount(f.price), amount(f.fees), f.currency, stamps[f.venue, f.exec_id])
        for f in fills
    )  # the same lock order for everyone: by (venue, exec id)
    return sql.claim(rows)


def _load_orders(replay: _Replay, sql: BulkSql, order_ids: list[str], opened: set[str]) -> None:
    number = sql.number
    found = []
    for order_id, account, symbol, side, qty, price, currency, status, cum_qty, notional in sql.orders(order_ids):
        if order_id in opened:
            raise BookingError(f"order {order_id!r} already exists")
        replay.orders[order_id] = _stored_order(
            order_id, account, symbol, _SIDES[side], number(qty), None if price is None else number(price),
            currency, _STATES[status], number(cum_qty), number(notional),
        )
        found.append(order_id)
    if not found:
        return
    for hold_id, order_id, account_id, account, asset_id, kind, code, amount, remaining, posted in sql.pending_holds(found):
        hold = Hold(account, asset_of(kind, code), order_id, number(amount), number(remaining), number(posted),
                    _PENDING, hold_id)
        held = _Held(hold, (account_id, asset_id), False)
        replay.holds.setdefault(order_id, []).append(held)
        replay.all_holds.append(held)


def _load_limits(replay: _Replay, sql: BulkSql, items: Sequence[Item]) -> None:
    """The accounts that open orders (their limits), and the balances their reservations check, locked."""
    number = sql.number
    names = sorted({subject.account for kind, subject, _ in items if kind == OPEN})
    for name, kind, currency, allow_short, credit_limit in sql.accounts(names):
        replay.limits[name] = Account(name, AccountKind(kind), currency, bool(allow_short), number(credit_limit))
    keys = sorted({
        (replay.account_ids[subject.account], replay.asset_ids[as_asset(asset)])
        for kind, subject, extra in items if kind == OPEN for asset in (extra or {})
    })
    if keys:
        replay.base = {key: (number(amount), number(held)) for key, (amount, held) in sql.lock_balances(keys).items()}


def _write(replay: _Replay, sql: BulkSql, uow: SqlUnitOfWork) -> None:
    amount, ids = sql.amount, replay.account_ids
    new = {order.order_id for order in replay.new_orders}
    new_orders = [
        (o.order_id, ids[o.account], o.symbol, o.side.value, amount(o.qty), None if o.price is None else amount(o.price),
         o.currency, o.status.value, amount(o.cum_qty), amount(o.notional), amount(o.avg_px))
        for o in replay.new_orders
    ]
    orders = [
        (o.status.value, amount(o.cum_qty), amount(o.notional), amount(o.avg_px), o.order_id)
        for order_id, o in sorted(replay.dirty_orders.items()) if order_id not in new
    ]
    new_holds, holds = [], []
    for held in replay.all_holds:
        h = held.hold
        if held.new:
            new_holds.append((held.key[0], held.key[1], h.order_id, amount(h.amount), amount(h.remaining),
                              amount(h.posted), h.state.value))
        elif held.dirty:
            holds.append((amount(h.remaining), amount(h.posted), h.state.value, h.hold_id))
    legs = [(xid, a, s, amount(value)) for xid, a, s, value in replay.legs]
    balances = [(a, s, amount(d[0]), amount(d[1])) for (a, s), d in sorted(replay.deltas.items())]
    sql.write(uow.clock(), new_orders, orders, new_holds, holds, replay.entries, legs, balances)


__all__ = ["CLOSE", "FILL", "OPEN", "Item", "apply_batch"]
