"""``batch.apply_batch`` (the registry writer's batch path) against the one-by-one reference functions.

Random lives of orders -- opens with one or two reservations, partial and full fills at better and
worse prices with and without fees, fills without an order, duplicated ExecIDs (in the batch and
already booked), late fills on closed orders, repeated closes -- are run once operation by
operation (``open_order`` / ``book_fill`` / ``close_order``) and once through ``apply_batch`` in
batches of random sizes; every table must then hold the same rows, compared as the database
stores them (amount and timestamp text included), ids and write times aside.  Whatever the
one-by-one run refuses, the batch must refuse too (and leave nothing behind).
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from brokers.domain.accounts import Account, Asset
from brokers.domain.ledger import BookedOrder, FillToBook, OrderState, Side
from brokers.registry import Registry, batch, booking, reservations
from brokers.registry.batch import CLOSE, FILL, OPEN, Item

from .conftest import T0, assert_sound

SYMBOLS = ("AAPL", "MSFT")
D = Decimal


def _setup(registry: Registry, prefix: str, cash: str = "100000000") -> None:
    for name in ("X", "Y"):
        registry.open_account(Account(f"{prefix}{name}", credit_limit=D(1000) if name == "Y" else D(0)))
        registry.deposit(f"{prefix}{name}", cash, "USD")
        for symbol in SYMBOLS:
            registry.deposit_holding(f"{prefix}{name}", symbol, "100000")


def _fill(prefix: str, n: int, order: BookedOrder | None, qty: Decimal, price: Decimal, fees: str,
          ts: dt.datetime) -> FillToBook:
    account, symbol, side = (order.account, order.symbol, order.side) if order else (f"{prefix}X", "AAPL", Side.BUY)
    return FillToBook(venue=f"{prefix}V", exec_id=f"{prefix}E{n}", order_id=order.order_id if order else None,
                      account=account, symbol=symbol, side=side, qty=qty, price=price, currency="USD", ts=ts,
                      fees=D(fees), fee_account=f"{prefix}fees")


def _script(seed: int, prefix: str, length: int = 80) -> list[Item]:
    rnd = random.Random(seed)
    items: list[Item] = []
    live: dict[str, tuple[BookedOrder, Decimal]] = {}
    closed: list[BookedOrder] = []
    fills: list[FillToBook] = []
    n = 0
    for step in range(length):
        ts = T0 + dt.timedelta(seconds=step, microseconds=rnd.choice([0, 1, 500000]))
        roll = rnd.random()
        if roll < 0.3 or not live:
            n += 1
            side = rnd.choice([Side.BUY, Side.SELL])
            symbol = rnd.choice(SYMBOLS)
            qty = D(rnd.choice([10, 50, 100]))
            price = rnd.choice([D("99.5"), D("100.00"), D("100.25"), None])
            order = BookedOrder(f"{prefix}O{n}", f"{prefix}{rnd.choice('XY')}", symbol, side, qty, price, "USD")
            px = price or D(101)
            wanted: dict[Asset | str, Any] = (
                {"USD": qty * px * D(rnd.choice(["1", "1.1", "0.5"]))} if side is Side.BUY else {Asset.instrument(symbol): qty}
            )
            if rnd.random() < 0.2:
                wanted[Asset.instrument("MSFT" if symbol == "AAPL" else "AAPL")] = D(rnd.choice([1, 5]))
            if rnd.random() < 0.1:
                wanted = {}
            items.append((OPEN, order, wanted))
            live[order.order_id] = (order, D(0))
        elif roll < 0.7:
            order_id = rnd.choice(sorted(live))
            order, filled = live[order_id]
            qty = min(order.qty - filled, D(rnd.choice([10, 25, 50])))
            base = order.price or D(101)
            price = base + D(rnd.choice(["-0.25", "0", "0.5"]))
            fill = _fill(prefix, len(fills) + 1, order, qty, price, rnd.choice(["0", "1.5"]), ts)
            fills.append(fill)
            items.append((FILL, fill, None))
            live[order_id] = (order, filled + qty)
            if filled + qty == order.qty or rnd.random() < 0.3:
                items.append((CLOSE, order_id, OrderState.CANCELLED))
                closed.append(live.pop(order_id)[0])
        elif roll < 0.8 and fills:  # a duplicate report, or a fill booked without an order
            if rnd.random() < 0.5:
                items.append((FILL, rnd.choice(fills), None))
            else:
                fill = _fill(prefix, len(fills) + 1, None, D(5), D("100.5"), "0", ts)
                fills.append(fill)
                items.append((FILL, fill, None))
        elif roll < 0.9 and closed:  # a late fill on a closed order, or a repeated close
            order = rnd.choice(closed)
            if rnd.random() < 0.5:
                fill = _fill(prefix, len(fills) + 1, order, D(1), order.price or D(100), "0", ts)
                fills.append(fill)
                items.append((FILL, fill, None))
            else:
                items.append((CLOSE, order.order_id, OrderState.EXPIRED))
        else:
            order_id = rnd.choice(sorted(live))
            items.append((CLOSE, order_id, rnd.choice([OrderState.CANCELLED, OrderState.REJECTED])))
            closed.append(live.pop(order_id)[0])
    return items


def _one_by_one(registry: Registry, items: list[Item]) -> None:
    with registry.uow() as uow:
        for kind, subject, extra in items:
            if kind == OPEN:
                reservations.open_order(uow, subject, extra)
            elif kind == FILL:
                booking.book_fill(uow, subject)
            else:
                reservations.close_order(uow, subject, extra)


def _in_batches(registry: Registry, items: list[Item], rnd: random.Random) -> None:
    start = 0
    while start < len(items):
        size = rnd.choice([1, 2, 5, 20, 1000])
        with registry.uow() as uow:
            batch.apply_batch(uow, items[start:start + size])
        start += size


_DUMPS = {
    "orders": "SELECT o.order_id, a.name, o.symbol, o.side, CAST(o.qty AS TEXT), CAST(o.price AS TEXT), o.currency, "
              "o.status, CAST(o.cum_qty AS TEXT), CAST(o.notional AS TEXT), CAST(o.avg_px AS TEXT) "
              "FROM orders o JOIN accounts a ON a.id = o.account_id ORDER BY o.order_id",
    "holds": "SELECT h.order_id, a.name, s.code, CAST(h.amount AS TEXT), CAST(h.remaining AS TEXT), "
             "CAST(h.posted AS TEXT), h.state FROM holds h JOIN accounts a ON a.id = h.account_id "
             "JOIN assets s ON s.id = h.asset_id ORDER BY h.id",
    "executions": "SELECT venue, exec_id, kind, state, ref_exec_id, order_id, account, counterparty_account, "
                  "fee_account, symbol, side, CAST(qty AS TEXT), CAST(price AS TEXT), CAST(fees AS TEXT), currency, "
                  "CAST(ts AS TEXT) FROM executions ORDER BY venue, exec_id",
    "entries": "SELECT e.kind, CAST(e.ts AS TEXT), e.memo, x.exec_id, e.reverses_entry_id FROM ledger_entries e "
               "JOIN executions x ON x.id = e.execution_id ORDER BY e.id",
    "legs": "SELECT x.exec_id, a.name, s.code, CAST(l.amount AS TEXT) FROM ledger_legs l "
            "JOIN ledger_entries e ON e.id = l.entry_id JOIN executions x ON x.id = e.execution_id "
            "JOIN accounts a ON a.id = l.account_id JOIN assets s ON s.id = l.asset_id ORDER BY l.id",
    "balances": "SELECT a.name, s.code, CAST(b.amount AS TEXT), CAST(b.held AS TEXT) FROM balances b "
                "JOIN accounts a ON a.id = b.account_id JOIN assets s ON s.id = b.asset_id ORDER BY a.name, s.code",
}


def _dump(registry: Registry, prefix: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row that belongs to ``prefix``'s accounts, as stored, with the prefix taken out."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with registry.engine.connect() as conn:
        for table, sql in _DUMPS.items():
            rows = [tuple(v.replace(prefix, "") if isinstance(v, str) else v for v in row)
                    for row in conn.execute(text(sql)) if any(isinstance(v, str) and prefix in v for v in row)]
            out[table] = rows
    return out


@pytest.mark.parametrize("seed", range(8))
def test_batches_write_the_rows_one_by_one_booking_writes(registry: Registry, seed: int) -> None:
    _setup(registry, "ref_")
    _setup(registry, "bat_")
    _one_by_one(registry, _script(seed, "ref_"))
    _in_batches(registry, _script(seed, "bat_"), random.Random(seed))
    expected, got = _dump(registry, "ref_"), _dump(registry, "bat_")
    assert got["executions"], "the script booked nothing"
    for table in _DUMPS:
        assert got[table] == expected[table], table
    assert_sound(registry)
    names = ["bat_X", "bat_Y", "@venue:bat_V", "bat_fees"]
    with registry.uow() as uow:  # the writer's snapshot query (raw cursor) reads what the repository reads
        assert uow.balances.for_accounts(names) == {name: uow.balances.for_account(name) for name in names}


def test_a_balance_an_operation_moves_and_moves_back_exists_as_one_by_one_leaves_it(registry: Registry) -> None:
    """A self-crossing pair of fills nets the venue's AAPL to zero; its row exists all the same."""
    for prefix in ("ref_", "bat_"):
        _setup(registry, prefix)
    scripts = {}
    for prefix in ("ref_", "bat_"):
        buy = BookedOrder(f"{prefix}B", f"{prefix}X", "AAPL", Side.BUY, D(10), D(100), "USD")
        sell = BookedOrder(f"{prefix}S", f"{prefix}Y", "AAPL", Side.SELL, D(10), D(100), "USD")
        scripts[prefix] = [
            (OPEN, buy, {"USD": D(1000)}), (OPEN, sell, {Asset.instrument("AAPL"): D(10)}),
            (FILL, _fill(prefix, 1, buy, D(10), D(100), "0", T0), None),
            (FILL, _fill(prefix, 2, sell, D(10), D(100), "0", T0), None),
        ]
    _one_by_one(registry, scripts["ref_"])
    with registry.uow() as uow:
        batch.apply_batch(uow, scripts["bat_"])
    assert _dump(registry, "bat_") == _dump(registry, "ref_")
    venue = [row for row in _dump(registry, "bat_")["balances"] if row[0] == "@venue:V" and row[1] == "AAPL"]
    assert venue == [("@venue:V", "AAPL", "0.00000000", "0.00000000")]


def _refused(registry: Registry, items: list[Item]) -> None:
    """The one-by-one run refuses ``items``, and so does the batch, leaving nothing behind."""
    before = _dump(registry, "r_")
    with pytest.raises(Exception) as reference, registry.uow() as uow:
        for kind, subject, extra in items:
            if kind == OPEN:
                reservations.open_order(uow, subject, extra)
            elif kind == FILL:
                booking.book_fill(uow, subject)
            else:
                reservations.close_order(uow, subject, extra)
    with pytest.raises(type(reference.value)), registry.uow() as uow:
        batch.apply_batch(uow, items)
    assert _dump(registry, "r_") == before


def _order(order_id: str, qty: int = 10, account: str = "r_X", side: Side = Side.BUY) -> BookedOrder:
    return BookedOrder(order_id, account, "AAPL", side, D(qty), D(100), "USD")


@pytest.mark.parametrize("case", [
    "over-buying-power", "over-after-a-fill-took-more", "fill-before-open", "close-unknown", "open-twice",
    "open-existing", "fill-other-account", "unknown-account", "not-open", "bad-reservation",
])
def test_the_batch_refuses_what_one_by_one_refuses(registry: Registry, case: str) -> None:
    _setup(registry, "r_", cash="10000")
    with registry.uow() as uow:
        batch.apply_batch(uow, [(OPEN, _order("r_OLD", 50), {"USD": D(5000)})])
    usd = {"USD": D(1000)}
    fill = _fill("r_", 1, _order("r_N1"), D(10), D(100), "0", T0)
    cases: dict[str, list[Item]] = {
        "over-buying-power": [(OPEN, _order("r_N1"), usd), (OPEN, _order("r_N2", 50), {"USD": D(4001)})],
        # the fill pays 10 * 300 for 1000 held: 2000 more than reserved; the next open no longer fits
        "over-after-a-fill-took-more": [
            (OPEN, _order("r_N1"), usd), (FILL, _fill("r_", 1, _order("r_N1"), D(10), D(300), "0", T0), None),
            (OPEN, _order("r_N2", 30), {"USD": D(3000)})],
        "fill-before-open": [(FILL, fill, None), (OPEN, _order("r_N1"), usd)],
        "close-unknown": [(OPEN, _order("r_N1"), usd), (CLOSE, "r_NOPE", OrderState.CANCELLED)],
        "open-twice": [(OPEN, _order("r_N1"), usd), (OPEN, _order("r_N1"), usd)],
        "open-existing": [(OPEN, _order("r_OLD"), usd)],
        "fill-other-account": [(OPEN, _order("r_N1"), usd),
                               (FILL, _fill("r_", 1, _order("r_N1", account="r_Y"), D(10), D(100), "0", T0), None)],
        "unknown-account": [(OPEN, _order("r_N1", account="r_NOBODY"), usd)],
        "not-open": [(OPEN, BookedOrder("r_N1", "r_X", "AAPL", Side.BUY, D(10), D(100), "USD",
                                        status=OrderState.FILLED), usd)],
        "bad-reservation": [(OPEN, _order("r_N1"), {"USD": D(0)})],
    }
    _refused(registry, cases[case])
    assert_sound(registry)


def test_the_batch_leaves_the_callers_orders_as_they_were(registry: Registry) -> None:
    _setup(registry, "c_")
    order = _order("c_O1", account="c_X")
    fill = _fill("c_", 1, order, D(10), D(100), "0", T0)
    with registry.uow() as uow:
        batch.apply_batch(uow, [(OPEN, order, {"USD": D(1000)}), (FILL, fill, None), (CLOSE, "c_O1", OrderState.CANCELLED)])
    assert (order.status, order.cum_qty, order.notional) == (OrderState.NEW, 0, 0)
    assert registry.order("c_O1").status is OrderState.FILLED  # type: ignore[union-attr]


def _race(calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait(timeout=60)
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return [future.result(timeout=120) for future in [pool.submit(run, call) for call in calls]]


def test_concurrent_batches_with_the_same_fills_book_each_once(registry: Registry) -> None:
    _setup(registry, "k_")
    orders = [_order(f"k_O{i}", 50, account="k_X") for i in range(4)]
    with registry.uow() as uow:
        batch.apply_batch(uow, [(OPEN, order, {"USD": D(5000)}) for order in orders])
    fills = [_fill("k_", i * 10 + j, order, D(1), D(100), "0", T0) for i, order in enumerate(orders) for j in range(10)]

    def run(items: list[FillToBook]) -> Callable[[], None]:
        def book() -> None:
            for start in range(0, len(items), 7):
                with registry.uow() as uow:
                    batch.apply_batch(uow, [(FILL, f, None) for f in items[start:start + 7]])
        return book

    _race([run(fills), run(list(reversed(fills))), run(fills[::2])])
    with registry.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM executions WHERE venue = 'k_V'")).scalar_one() == len(fills)
    for order in orders:
        assert registry.order(order.order_id).cum_qty == 10  # type: ignore[union-attr]
    assert registry.balance("k_X", Asset.instrument("AAPL")).amount == D(100000) + 40
    assert_sound(registry)
