"""Bulk registry operations (``open_orders``, ``close_orders``, the writer's staged batches) have the
outcome of the one-by-one operations they replace."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from brokers.client.writer import BookFill, CloseOrder, OpenOrder, RegistryWriter, _stages
from brokers.domain.accounts import Asset, InsufficientFunds
from brokers.domain.ledger import BookedOrder, FillToBook, OrderState, Side
from brokers.registry import Registry, booking, reservations

from .conftest import T0, assert_sound, fund

SYMBOLS = ("AAPL", "MSFT")


def _script(seed: int, prefix: str) -> list[OpenOrder | BookFill | CloseOrder]:
    """A random life of a few orders on two accounts: opens, partial fills, closes, interleaved."""
    rnd = random.Random(seed)
    ops: list[OpenOrder | BookFill | CloseOrder] = []
    live: dict[str, tuple[BookedOrder, Decimal]] = {}
    n = exec_n = 0
    for _ in range(60):
        roll = rnd.random()
        if roll < 0.4 or not live:
            n += 1
            account = f"{prefix}{rnd.choice('XY')}"
            side = rnd.choice([Side.BUY, Side.SELL])
            symbol = rnd.choice(SYMBOLS)
            qty = Decimal(rnd.choice([10, 50, 100]))
            price = Decimal(rnd.choice(["99.50", "100.00", "100.25"]))
            order = BookedOrder(f"{prefix}O{n}", account, symbol, side, qty, price, "USD")
            asset = Asset.currency("USD") if side is Side.BUY else Asset.instrument(symbol)
            amount = qty * price if side is Side.BUY else qty
            ops.append(OpenOrder(order, {asset: amount}))
            live[order.order_id] = (order, Decimal(0))
        elif roll < 0.8:
            order_id = rnd.choice(sorted(live))
            order, filled = live[order_id]
            qty = min(order.qty - filled, Decimal(rnd.choice([10, 50])))
            exec_n += 1
            px = order.price - Decimal("0.25") if order.side is Side.BUY else order.price
            ops.append(BookFill(FillToBook(venue="INTERNAL", exec_id=f"{prefix}E{exec_n}", order_id=order_id,
                                           account=order.account, symbol=order.symbol, side=order.side, qty=qty,
                                           price=px, currency="USD", ts=T0)))
            live[order_id] = (order, filled + qty)
            if filled + qty == order.qty:
                ops.append(CloseOrder(order_id, order.account, OrderState.CANCELLED))
                del live[order_id]
        else:
            order_id = rnd.choice(sorted(live))
            ops.append(CloseOrder(order_id, live.pop(order_id)[0].account, OrderState.CANCELLED))
    return ops


def _one_by_one(registry: Registry, ops: list[OpenOrder | BookFill | CloseOrder]) -> None:
    with registry.uow() as uow:
        for op in ops:
            if isinstance(op, OpenOrder):
                reservations.open_order(uow, op.order, op.reservations)
            elif isinstance(op, BookFill):
                booking.book_fill(uow, op.fill)
            else:
                reservations.close_order(uow, op.order_id, op.status)


def _state(registry: Registry, prefix: str) -> tuple[object, ...]:
    with registry.uow() as uow:
        balances = sorted((b.account[len(prefix):], b.asset.code, b.amount, b.held)
                          for name in (f"{prefix}X", f"{prefix}Y") for b in uow.balances.for_account(name))
        orders = sorted((o.order_id[len(prefix):], o.status, o.cum_qty, o.notional)
                        for name in (f"{prefix}X", f"{prefix}Y") for o in uow.orders.list(name))
        holds = sorted((h.order_id[len(prefix):], h.asset.code, h.amount, h.remaining, h.posted, h.state)
                       for h in uow.holds.all_pending() if h.order_id.startswith(prefix))
    return balances, orders, holds


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_staged_batch_books_like_one_by_one(registry: Registry, seed: int) -> None:
    for prefix in ("S", "B"):
        for name in ("X", "Y"):
            fund(registry, f"{prefix}{name}", "10000000")
            for symbol in SYMBOLS:
                registry.deposit_holding(f"{prefix}{name}", symbol, "100000")
    _one_by_one(registry, _script(seed, "S"))
    with registry.uow() as uow:
        RegistryWriter._apply(uow, _script(seed, "B"), strict=True)
    assert _state(registry, "S") == _state(registry, "B")
    assert_sound(registry)


def test_open_orders_refuses_like_one_by_one(registry: Registry) -> None:
    fund(registry, "ACME", "1000")
    first = BookedOrder("O1", "ACME", "AAPL", Side.BUY, Decimal(6), Decimal(100), "USD")
    second = BookedOrder("O2", "ACME", "AAPL", Side.BUY, Decimal(6), Decimal(100), "USD")
    usd = Asset.currency("USD")
    with pytest.raises(InsufficientFunds), registry.uow() as uow:
        reservations.open_orders(uow, [(first, {usd: Decimal(600)}), (second, {usd: Decimal(600)})])
    with registry.uow() as uow:  # nothing of the refused batch stayed
        assert uow.orders.get_many(["O1", "O2"]) == {}
        reservations.open_orders(uow, [(first, {usd: Decimal(600)})])
    assert registry.balance("ACME", "USD").held == Decimal(600)
    assert_sound(registry)


def test_stages_keep_what_orders_and_buying_power_depend_on() -> None:
    def order(order_id: str, account: str) -> BookedOrder:
        return BookedOrder(order_id, account, "AAPL", Side.BUY, Decimal(1), Decimal(1), "USD")

    def fill(order_id: str, account: str) -> BookFill:
        return BookFill(FillToBook(venue="V", exec_id=order_id, order_id=order_id, account=account, symbol="AAPL",
                                   side=Side.BUY, qty=Decimal(1), price=Decimal(1), currency="USD", ts=T0))

    # fills and closes of other accounts, then opens: one stage (opens first)
    ops = [fill("A1", "A"), CloseOrder("A1", "A"), OpenOrder(order("B1", "B"), {}), OpenOrder(order("B2", "B"), {})]
    assert [tuple(len(part) for part in stage) for stage in _stages(ops)] == [(2, 1, 1)]
    # an open after a fill of the same account waits for it (a fill may take more than it held)
    ops = [fill("A1", "A"), OpenOrder(order("A2", "A"), {})]
    assert [tuple(len(part) for part in stage) for stage in _stages(ops)] == [(0, 1, 0), (1, 0, 0)]
    # an order's own operations never swap: a fill after its close runs after it
    ops = [CloseOrder("A1", "A"), fill("A1", "A")]
    assert [tuple(len(part) for part in stage) for stage in _stages(ops)] == [(0, 0, 1), (0, 1, 0)]


def _merged(ops: list[OpenOrder | BookFill | CloseOrder]) -> list[OpenOrder | BookFill | CloseOrder]:
    """The script with every fill immediately followed by its order's close made one operation."""
    out: list[OpenOrder | BookFill | CloseOrder] = []
    for op in ops:
        last = out[-1] if out else None
        if (isinstance(op, CloseOrder) and isinstance(last, BookFill) and last.close is None
                and last.fill.order_id == op.order_id):
            last.close = op
        else:
            out.append(op)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_fill_carrying_its_close_books_like_the_two_operations(registry: Registry, seed: int) -> None:
    for prefix in ("S", "M"):
        for name in ("X", "Y"):
            fund(registry, f"{prefix}{name}", "10000000")
            for symbol in SYMBOLS:
                registry.deposit_holding(f"{prefix}{name}", symbol, "100000")
    _one_by_one(registry, _script(seed, "S"))
    merged = _merged(_script(seed, "M"))
    assert any(isinstance(op, BookFill) and op.close is not None for op in merged)
    with registry.uow() as uow:
        RegistryWriter._apply(uow, merged, strict=True)
    assert _state(registry, "S") == _state(registry, "M")
    assert_sound(registry)


def test_a_fill_carrying_its_close_runs_as_two_operations_when_the_batch_is_refused(registry: Registry) -> None:
    fund(registry, "ACME", "1000")
    usd = Asset.currency("USD")
    writer = RegistryWriter(registry, None)
    first = BookedOrder("O1", "ACME", "AAPL", Side.BUY, Decimal(6), Decimal(100), "USD")
    assert writer._run([OpenOrder(first, {usd: Decimal(600)})])[0] == [None]
    fill = BookFill(FillToBook(venue="V", exec_id="E1", order_id="O1", account="ACME", symbol="AAPL", side=Side.BUY,
                               qty=Decimal(6), price=Decimal(100), currency="USD", ts=T0),
                    journal=[{"t": "fill"}],
                    close=CloseOrder("O1", "ACME", OrderState.CANCELLED, journal=[{"t": "done"}]))
    too_big = BookedOrder("O2", "ACME", "AAPL", Side.BUY, Decimal(6), Decimal(100), "USD")
    results, snapshot = writer._run([fill, OpenOrder(too_big, {usd: Decimal(600)})])
    assert results[0] is None
    assert isinstance(results[1], InsufficientFunds)
    with registry.uow() as uow:
        assert uow.orders.get_many(["O1"])["O1"].cum_qty == Decimal(6)
        assert uow.orders.get_many(["O2"]) == {}
    assert registry.balance("ACME", "USD").held == 0
    assert [b.held for b in snapshot["ACME"] if b.asset == usd] == [Decimal(0)]
    assert_sound(registry)
