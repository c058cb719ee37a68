"""Bulk registry operations (``open_orders``, ``close_orders``, the writer's staged batches) have the
outcome of the one-by-one operations they replace."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest
from twisted.internet import defer

from brokers.client.writer import BookFill, CloseOrder, OpenOrder, RegistryWriter, work_for
from brokers.client.writer_child import Work, perform
from brokers.domain.accounts import Asset, InsufficientFunds
from brokers.domain.ledger import BookedOrder, FillToBook, OrderState, Side
from brokers.registry import Registry, booking, reservations
from brokers.registry.batch import apply_batch

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
            assert order.price is not None  # limit orders only
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


def _apply(uow: Any, ops: list[OpenOrder | BookFill | CloseOrder]) -> None:
    """The writer's batch path: the operations as registry items, in one ``apply_batch``."""
    apply_batch(uow, work_for(0, ops).items)


def _run(registry: Registry, ops: list[OpenOrder | BookFill | CloseOrder]) -> tuple[list[Any], Any]:
    """What a batch runner runs for ``ops`` (no journal)."""
    return perform(registry, None, work_for(0, ops))


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
        _apply(uow, _script(seed, "B"))
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
        _apply(uow, merged)
    assert _state(registry, "S") == _state(registry, "M")
    assert_sound(registry)


def test_a_fill_carrying_its_close_runs_as_two_operations_when_the_batch_is_refused(registry: Registry) -> None:
    fund(registry, "ACME", "1000")
    usd = Asset.currency("USD")
    first = BookedOrder("O1", "ACME", "AAPL", Side.BUY, Decimal(6), Decimal(100), "USD")
    assert _run(registry, [OpenOrder(first, {usd: Decimal(600)})])[0] == [None]
    fill = BookFill(FillToBook(venue="V", exec_id="E1", order_id="O1", account="ACME", symbol="AAPL", side=Side.BUY,
                               qty=Decimal(6), price=Decimal(100), currency="USD", ts=T0),
                    journal=[{"t": "fill"}],
                    close=CloseOrder("O1", "ACME", OrderState.CANCELLED, journal=[{"t": "done"}]))
    too_big = BookedOrder("O2", "ACME", "AAPL", Side.BUY, Decimal(6), Decimal(100), "USD")
    results, snapshot = _run(registry, [fill, OpenOrder(too_big, {usd: Decimal(600)})])
    assert results[0] is None
    assert isinstance(results[1], InsufficientFunds)
    with registry.uow() as uow:
        assert uow.orders.get_many(["O1"])["O1"].cum_qty == Decimal(6)
        assert uow.orders.get_many(["O2"]) == {}
    assert registry.balance("ACME", "USD").held == 0
    assert [b.held for b in snapshot["ACME"] if b.asset == usd] == [Decimal(0)]
    assert_sound(registry)


class _Reactor:
    """Just enough reactor for the writer: timed calls and runner results are queued, run by hand."""

    def __init__(self) -> None:
        self.later: list[Any] = []
        self.from_thread: list[tuple[Any, tuple[Any, ...]]] = []

    def callLater(self, delay: float, f: Any, *args: Any) -> Any:  # noqa: N802 - the reactor's API
        call = _Call(f, args)
        self.later.append(call)
        return call

    def callFromThread(self, f: Any, *args: Any) -> None:  # noqa: N802 - the reactor's API
        self.from_thread.append((f, args))


class _Call:
    def __init__(self, f: Any, args: tuple[Any, ...]) -> None:
        self.f, self.args, self.cancelled = f, args, False

    def cancel(self) -> None:
        self.cancelled = True


class _Runner:
    """A batch runner that runs the work at once, on the calling thread; the result reaches the writer
    when the test runs the reactor's queued ``from_thread`` call."""

    started = True
    on_lost = None

    def __init__(self, registry: Registry, reactor: _Reactor) -> None:
        self.registry = registry
        self.reactor = reactor
        self.runs = 0

    def start(self) -> None:
        pass

    def run(self, work: Work) -> defer.Deferred[Any]:
        self.runs += 1
        d: defer.Deferred[Any] = defer.Deferred()
        self.reactor.callFromThread(d.callback, perform(self.registry, None, work))
        return d

    def stop(self) -> defer.Deferred[None]:
        return defer.succeed(None)

    def close(self) -> None:
        pass


def test_the_next_batch_starts_when_the_previous_one_finished_without_waiting_a_reactor_turn(
        registry: Registry) -> None:
    fund(registry, "ACME", "1000000")
    reactor = _Reactor()
    pool = _Runner(registry, reactor)
    writer = RegistryWriter(registry, reactor, runner=pool)
    usd = Asset.currency("USD")
    done: list[object] = []

    def order(n: int) -> OpenOrder:
        booked = BookedOrder(f"O{n}", "ACME", "AAPL", Side.BUY, Decimal(1), Decimal(100), "USD")
        return OpenOrder(booked, {usd: Decimal(100)}, on_done=done.append)

    assert writer.submit(order(1)) == 1
    flush = reactor.later.pop()
    assert reactor.later == []
    flush.f(*flush.args)  # the reactor turn after the submit: batch 1 goes to the runner
    assert pool.runs == 1
    assert writer.submit(order(2)) == 2  # queued while batch 1 is in flight: no flush of its own
    assert writer.submit(order(3)) == 2
    assert [call for call in reactor.later if not call.cancelled] == []
    f, args = reactor.from_thread.pop()
    f(*args)  # batch 1's result reaches the reactor: its callbacks run, and batch 2 starts right away
    assert done == [None] and writer.committed == 1
    assert pool.runs == 2 and writer.current_batch == 2
    f, args = reactor.from_thread.pop()
    f(*args)
    assert done == [None, None, None] and writer.committed == 2 and writer.idle
    assert [call for call in reactor.later if not call.cancelled] == []
    assert_sound(registry)


class _TimedReactor(_Reactor):
    """A _Reactor that also records the delay of every timed call."""

    def callLater(self, delay: float, f: Any, *args: Any) -> Any:  # noqa: N802 - the reactor's API
        call = super().callLater(delay, f, *args)
        call.delay = delay
        return call


def test_a_small_batch_lingers_and_a_grown_one_starts_at_once(registry: Registry) -> None:
    fund(registry, "ACME", "1000000")
    reactor = _TimedReactor()
    pool = _Runner(registry, reactor)
    writer = RegistryWriter(registry, reactor, linger=0.002, linger_ops=3, runner=pool)
    usd = Asset.currency("USD")
    done: list[object] = []

    def order(n: int) -> OpenOrder:
        booked = BookedOrder(f"O{n}", "ACME", "AAPL", Side.BUY, Decimal(1), Decimal(100), "USD")
        return OpenOrder(booked, {usd: Decimal(100)}, on_done=done.append)

    writer.submit(order(1))
    assert [c.delay for c in reactor.later] == [0.002]  # one operation: it waits for more
    writer.submit(order(2))
    assert [c.delay for c in reactor.later if not c.cancelled] == [0.002]  # still small: same wait
    writer.submit(order(3))  # three operations: the linger is cut short
    pending = [c for c in reactor.later if not c.cancelled]
    assert [c.delay for c in pending] == [0]
    reactor.later.remove(pending[0])
    pending[0].f(*pending[0].args)
    assert pool.runs == 1
    writer.submit(order(4))  # queued behind the batch in flight: no call of its own
    f, args = reactor.from_thread.pop()
    f(*args)  # batch 1 done: the next (one operation) lingers instead of starting at once
    assert pool.runs == 1 and len(done) == 3
    pending = [c for c in reactor.later if not c.cancelled]
    assert [c.delay for c in pending] == [0.002]
    pending[0].f(*pending[0].args)
    f, args = reactor.from_thread.pop()
    f(*args)
    assert pool.runs == 2 and len(done) == 4 and writer.idle
    assert_sound(registry)


def test_no_linger_by_default(registry: Registry) -> None:
    reactor = _TimedReactor()
    writer = RegistryWriter(registry, reactor, runner=_Runner(registry, reactor))
    fund(registry, "ACME", "1000")
    booked = BookedOrder("O1", "ACME", "AAPL", Side.BUY, Decimal(1), Decimal(100), "USD")
    writer.submit(OpenOrder(booked, {Asset.currency("USD"): Decimal(100)}))
    assert [c.delay for c in reactor.later] == [0]
