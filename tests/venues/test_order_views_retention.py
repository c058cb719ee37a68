"""The internal venue keeps done order views packed (GC-untracked) and answers exactly as before.

Seeded random command streams run twice: with the venue as it is (a done order's view is packed
into a plain tuple) and with packing switched off (every view stays a mutable record, the venue
before packing).  Every state hash (which covers the views' snapshot form), every status query
(by ClOrdID, by order id, other owners) and the working-order lists must be identical.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from venues.internal import order_views
from venues.internal.journal import MemoryJournal
from venues.internal.venue import InternalVenue

sys.path.insert(0, str(Path(__file__).resolve().parent / "internal"))

from venue_scenarios import OWNERS, SPECS, random_step  # noqa: E402


class _Clock:
    """A clock moving 1 us per reading (and by ``advance``), as the scenarios expect."""

    def __init__(self) -> None:
        self.now = 1_700_000_000_000_000_000

    def __call__(self) -> int:
        self.now += 1000
        return self.now

    def advance(self, ns: int) -> None:
        self.now += ns


@contextmanager
def packing_off() -> Iterator[None]:
    """The reference: done views stay records among the working ones (the venue before packing)."""
    retire = order_views.OrderViews._retire
    order_views.OrderViews._retire = lambda self, order_id, record: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        order_views.OrderViews._retire = retire  # type: ignore[method-assign]


def play(seed: int, steps: int) -> tuple[InternalVenue, list[Any]]:
    """Run the seeded stream; returns the venue and what it answered along the way."""
    import random

    clock = _Clock()
    venue = InternalVenue("INTERNAL", SPECS, MemoryJournal(), clock)
    rnd = random.Random(seed)
    seen: list[Any] = []
    for n in range(steps):
        random_step(venue, rnd, n, clock)
        seen.append(venue.state_hash())
        if n % 50 == 49:
            seen.append(answers(venue, n + 1))
    seen.append(answers(venue, steps))
    return venue, seen


def answers(venue: InternalVenue, upto: int) -> list[Any]:
    out: list[Any] = [venue.working_orders(), [venue.working_orders(owner=o) for o in OWNERS]]
    for n in range(upto):
        for prefix in ("c", "x", "r"):
            cl = f"{prefix}{n}"
            for owner in OWNERS:
                view = venue.order_status(owner, cl_ord_id=cl)
                out.append((owner, cl, view, venue.has_order(owner, cl)))
                if view is not None:
                    out.append([venue.order_status(o, order_id=view.order_id) for o in OWNERS])
    return out


@pytest.mark.parametrize("seed", [3, 11, 29])
def test_packed_views_answer_exactly_as_records(seed: int) -> None:
    with packing_off():
        reference, want = play(seed, 700)
    venue, got = play(seed, 700)
    assert len(got) == len(want)
    for i, (a, b) in enumerate(zip(got, want, strict=True)):
        assert a == b, f"step {i}"
    assert len(venue._views._done) > 0, "the stream ends orders"
    assert len(reference._views._done) == 0
    assert venue._views.dump() == reference._views.dump()


def crossing(orders: int) -> InternalVenue:
    """``orders`` limit orders at one price, buys and sells in turn: every one ends filled."""
    from decimal import Decimal

    from venues.base import OrderRequest, Side

    venue = InternalVenue("INTERNAL", SPECS, MemoryJournal(), _Clock())
    for n in range(orders):
        venue.submit(OrderRequest("AAPL", OWNERS[n % 3], f"c{n}", Side.SELL if n % 2 else Side.BUY, Decimal(10),
                                  price=Decimal("100.00"), account="A"))
    return venue


def test_done_views_are_not_tracked_and_survive_a_snapshot() -> None:
    venue = crossing(3000)
    views = venue._views
    gc.collect()
    views._done.settle()
    done = list(views._done.values())
    assert len(done) == 3000 and not any(gc.is_tracked(v) for v in done)
    assert views._done.recent_size == 0 and not gc.is_tracked(views._done._old)
    assert not gc.is_tracked(views._order) and not gc.is_tracked(views._by_client)
    assert not views._live and not views.working_ids()  # nothing done is held as a record
    venue.snapshot()
    recovered = InternalVenue.recover("INTERNAL", venue.journal, _Clock())
    assert recovered.state_hash() == venue.state_hash()
    assert recovered._views.dump() == views.dump()
    assert set(recovered._views._live) == set(views._live)
    for oid in views._order:
        assert recovered._views.get_by_id(oid) == views.get_by_id(oid)
    assert views.get("s2", cl_ord_id="c1") == recovered.order_status("s2", cl_ord_id="c1") is not None
    venue.end_of_day()
    assert len(venue._views._done) == 0 and not venue._views._order and not venue._views._by_client


def test_an_event_for_a_done_view_is_applied_as_before() -> None:
    """Unpacked, updated and packed again (the engine sends none today; the views stay exact)."""
    from decimal import Decimal

    from venues import base

    views = order_views.OrderViews()
    accepted = base.Accepted(1, "AAPL", "1", "s1", "c1", "e1", base.Side.BUY, base.OrdType.LIMIT,
                             base.TimeInForce.DAY, Decimal(10), Decimal("100.00"), None)
    views.on_event(accepted, "A")
    views.on_event(base.Fill(2, "AAPL", "1", "s1", "c1", "e2", base.Side.BUY, "m1", Decimal(10), Decimal("100.00"),
                             Decimal(10), Decimal(0), Decimal("100.00"), base.Liquidity.ADDED, "A"))
    assert type(views._done.get("1")) is tuple and "1" not in views._live
    views.on_event(base.Restated(3, "AAPL", "1", "s1", "c1", "e3", base.Side.BUY, Decimal(10), Decimal(0), Decimal(0),
                                 base.RestatementReason.ICEBERG_REFRESH))
    view = views.get("s1", cl_ord_id="c1")
    assert view is not None and (view.ord_status, view.last_exec_id, view.leaves_qty) == ("2", "e3", 0)
    assert "1" in views._done and "1" not in views._live  # packed again: still done
    assert views.get("s2", cl_ord_id="c1") is None and views.has_client_id("s1", "c1")
    assert not views.has_client_id("s2", "c1") and views.working() == []
