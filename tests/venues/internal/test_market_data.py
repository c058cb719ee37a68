"""Market data: exact L2 diffs, one print per match, statistics, phases and indicative prices."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from conftest import StepClock
from venue_scenarios import SPECS, run_random

from venues.base import (
    CancelRequest,
    IndicativePrice,
    OrderRequest,
    OrdType,
    ReplaceRequest,
    Side,
    TimeInForce,
    TradingPhase,
)
from venues.internal.journal import MemoryJournal
from venues.internal.market_data import (
    BookLevelChanged,
    MarketStats,
    PhaseChangedMD,
    StatsChanged,
    TradePrinted,
)
from venues.internal.reference_data import InstrumentSpec
from venues.internal.venue import InternalVenue

D = Decimal
B, S = Side.BUY, Side.SELL


@pytest.fixture
def venue(clock: StepClock) -> InternalVenue:
    spec = InstrumentSpec("X", D("0.01"), D(1), reference_price=D("10.00"))
    return InternalVenue("INTERNAL", [spec], MemoryJournal(), clock)


def order(cl: str, side: Side, qty: int, px: str | None, owner: str = "o1", **kw: Any) -> OrderRequest:
    return OrderRequest("X", owner, cl, side, D(qty), price=None if px is None else D(px), **kw)


def md_of(v: InternalVenue) -> list[Any]:
    seen: list[Any] = []
    v.subscribe_market_data(seen.append)
    return seen


def lvl(seq: int, side: Side, px: str, qty: int, n: int) -> BookLevelChanged:
    return BookLevelChanged(seq, "X", side, D(px), D(qty), n)


def test_continuous_scenario_exact_diffs(venue: InternalVenue, clock: StepClock) -> None:
    md = md_of(venue)
    s0 = venue.last_sequence
    venue.submit(order("b1", B, 10, "9.99"))
    venue.submit(order("b2", B, 5, "9.99", owner="o2"))
    venue.submit(order("b3", B, 7, "9.98"))
    venue.submit(order("a1", S, 4, "10.01"))
    venue.submit(order("a2", S, 6, "10.02"))
    assert md == [
        lvl(s0 + 1, B, "9.99", 10, 1),
        lvl(s0 + 2, B, "9.99", 15, 2),
        lvl(s0 + 3, B, "9.98", 7, 1),
        lvl(s0 + 4, S, "10.01", 4, 1),
        lvl(s0 + 5, S, "10.02", 6, 1),
    ]
    md.clear()
    # a sell sweeps the 9.99 level and part of 9.98, nothing rests
    venue.submit(order("x1", S, 18, "9.98", owner="o3"))
    ts = clock.now
    seq = s0 + 6
    assert md == [
        TradePrinted(seq, "X", D("9.99"), D(10), "1", ts, S),
        TradePrinted(seq, "X", D("9.99"), D(5), "2", ts, S),
        TradePrinted(seq, "X", D("9.98"), D(3), "3", ts, S),
        lvl(seq, B, "9.99", 0, 0),
        lvl(seq, B, "9.98", 4, 1),
        StatsChanged(seq, "X", MarketStats(D("9.98"), D(3), D("9.99"), D("9.99"), D("9.98"), None, D(18))),
    ]
    md.clear()
    # a buy takes 10.01 and rests its remainder at 10.01: the level flips side
    venue.submit(order("x2", B, 6, "10.01", owner="o3"))
    seq += 1
    assert md == [
        TradePrinted(seq, "X", D("10.01"), D(4), "4", clock.now, B),
        lvl(seq, B, "10.01", 2, 1),
        lvl(seq, S, "10.01", 0, 0),
        StatsChanged(seq, "X", MarketStats(D("10.01"), D(4), D("9.99"), D("10.01"), D("9.98"), None, D(22))),
    ]
    md.clear()
    # replace moves an order between levels; cancel deletes a level
    venue.replace(ReplaceRequest("X", "o1", "a2r", S, D(6), price=D("10.03"), orig_cl_ord_id="a2"))
    venue.cancel(CancelRequest("X", "o3", "c1", orig_cl_ord_id="x2"))
    seq += 2
    assert md == [
        lvl(seq - 1, S, "10.02", 0, 0),  # asks best (lowest) first
        lvl(seq - 1, S, "10.03", 6, 1),
        lvl(seq, B, "10.01", 0, 0),
    ]
    venue.check_invariants()


def test_unchanged_aggregate_is_not_published(venue: InternalVenue) -> None:
    md = md_of(venue)
    venue.submit(order("ice", S, 10, "10.00", display_qty=D(2)))
    md.clear()
    venue.submit(order("t1", B, 2, "10.00", owner="o2"))  # takes the slice; the refill shows 2 again
    assert [type(m).__name__ for m in md] == ["TradePrinted", "StatsChanged"]
    md.clear()
    venue.replace(ReplaceRequest("X", "o1", "ice2", S, D(9), orig_cl_ord_id="ice"))  # hidden part shrinks
    assert md == []
    venue.check_invariants()


def test_opening_auction_prints_without_aggressor_and_updates_stats(clock: StepClock) -> None:
    spec = InstrumentSpec("X", D("0.01"), reference_price=D("10.00"), phase=TradingPhase.PRE_OPEN)
    v = InternalVenue("INTERNAL", [spec], MemoryJournal(), clock)
    md = md_of(v)
    events: list[Any] = []
    v.subscribe(events.append)
    v.submit(order("b1", B, 10, "10.05"))
    v.submit(order("a1", S, 6, "9.95", owner="o2"))
    ip = [e for e in events if isinstance(e, IndicativePrice)][-1]
    assert ip.volume == D(6) and ip.price is not None
    assert md[-1] == StatsChanged(
        v.last_sequence, "X", MarketStats(indicative_px=ip.price, indicative_qty=D(6))
    )
    assert v.market_stats("X").indicative_px == ip.price
    md.clear()
    v.set_phase("X", TradingPhase.CONTINUOUS)
    seq = v.last_sequence
    px = ip.price
    assert md == [
        PhaseChangedMD(seq, "X", TradingPhase.OPENING_AUCTION, TradingPhase.PRE_OPEN, ""),
        TradePrinted(seq, "X", px, D(6), "1", clock.now, None),
        PhaseChangedMD(seq, "X", TradingPhase.CONTINUOUS, TradingPhase.OPENING_AUCTION, ""),
        lvl(seq, B, "10.05", 4, 1),
        lvl(seq, S, "9.95", 0, 0),
        StatsChanged(seq, "X", MarketStats(px, D(6), px, px, px, None, D(6))),  # indicative cleared
    ]


def test_end_of_day_closes_and_the_next_trade_opens_a_new_day(venue: InternalVenue) -> None:
    md = md_of(venue)
    venue.submit(order("a1", S, 5, "10.00", tif=TimeInForce.GTC))
    venue.submit(order("b1", B, 2, "10.00", owner="o2"))
    md.clear()
    venue.end_of_day()
    assert md == [
        StatsChanged(venue.last_sequence, "X", MarketStats(D("10.00"), D(2), D("10.00"), D("10.00"), D("10.00"),
                                                           D("10.00"), D(2)))
    ]  # fmt: skip
    venue.submit(order("b2", B, 1, "10.00", owner="o2"))
    assert venue.market_stats("X") == MarketStats(
        D("10.00"), D(1), D("10.00"), D("10.00"), D("10.00"), D("10.00"), D(1)
    )


def test_stop_trigger_and_market_orders_update_levels(venue: InternalVenue) -> None:
    md = md_of(venue)
    venue.submit(order("a1", S, 5, "10.00"))
    venue.submit(order("a2", S, 5, "10.05"))
    venue.submit(order("stop", B, 3, "10.05", owner="o2", ord_type=OrdType.STOP_LIMIT, stop_px=D("10.00")))
    md.clear()
    venue.submit(order("b1", B, 5, None, owner="o3", ord_type=OrdType.MARKET))
    seq = venue.last_sequence
    assert [type(m).__name__ for m in md] == ["TradePrinted", "TradePrinted", "BookLevelChanged",
                                              "BookLevelChanged", "StatsChanged"]  # fmt: skip
    assert md[2:4] == [lvl(seq, S, "10.00", 0, 0), lvl(seq, S, "10.05", 2, 1)]  # market 5 + triggered stop 3
    venue.check_invariants()


@pytest.mark.parametrize("seed", [7, 8, 9, 10])
def test_diff_stream_rebuilds_the_book(seed: int) -> None:
    clock = StepClock()
    v = InternalVenue("INTERNAL", SPECS, MemoryJournal(), clock, snapshot_every=0)
    books: dict[tuple[str, Side, Decimal], tuple[Decimal, int]] = {}
    prints: set[tuple[str, str]] = set()
    seqs: list[int] = []

    def consume(m: Any) -> None:
        seqs.append(m.seq)
        if isinstance(m, BookLevelChanged):
            key = (m.symbol, m.side, m.price)
            assert books.get(key) != (m.qty, m.orders), "a diff that changes nothing"
            if m.qty == 0:
                assert m.orders == 0
                del books[key]
            else:
                books[key] = (m.qty, m.orders)
        elif isinstance(m, TradePrinted):
            assert (m.symbol, m.match_id) not in prints
            prints.add((m.symbol, m.match_id))

    v.subscribe_market_data(consume)
    run_random(v, seed, 600, clock, check=True)
    assert seqs == sorted(seqs)
    for spec in SPECS:
        view = v.book_levels(spec.symbol)
        want = {(spec.symbol, B, lv.price): (lv.qty, lv.orders) for lv in view.bids}
        want.update({(spec.symbol, S, lv.price): (lv.qty, lv.orders) for lv in view.asks})
        assert {k: val for k, val in books.items() if k[0] == spec.symbol} == want
    assert prints


@pytest.mark.parametrize("seed", [11, 12])
def test_book_levels_on_demand_diffs_rebuild_the_book_from_the_moment_asked(seed: int) -> None:
    """A listener with ``book_levels=False`` gets no level diffs until it names an instrument; from
    then on the diffs of that instrument, applied to ``book_levels`` read at that moment, give the
    book.  Prints and statistics flow throughout, and the state hash does not depend on it."""
    clock, twin_clock = StepClock(), StepClock()
    v = InternalVenue("INTERNAL", SPECS, MemoryJournal(), clock, snapshot_every=0)
    twin = InternalVenue("INTERNAL", SPECS, MemoryJournal(), twin_clock, snapshot_every=0)
    md_of(twin)  # the twin computes every level diff
    seen: list[Any] = []
    v.subscribe_market_data(seen.append, book_levels=False)
    run_random(v, seed, 300, clock, check=True)
    run_random(twin, seed, 300, twin_clock, check=True)
    assert not any(isinstance(m, BookLevelChanged) for m in seen)
    assert any(isinstance(m, TradePrinted) for m in seen) and any(isinstance(m, StatsChanged) for m in seen)
    watched = SPECS[0].symbol
    v.publish_book_levels(watched)
    view = v.book_levels(watched)
    books = {(B, lv.price): (lv.qty, lv.orders) for lv in view.bids}
    books.update({(S, lv.price): (lv.qty, lv.orders) for lv in view.asks})
    seen.clear()
    run_random(v, seed + 100, 300, clock, start=300, check=True)
    run_random(twin, seed + 100, 300, twin_clock, start=300, check=True)
    level_events = [m for m in seen if isinstance(m, BookLevelChanged)]
    assert level_events and {m.symbol for m in level_events} == {watched}
    for m in level_events:
        key = (m.side, m.price)
        assert books.get(key) != (m.qty, m.orders), "a diff that changes nothing"
        if m.qty == 0:
            del books[key]
        else:
            books[key] = (m.qty, m.orders)
    view = v.book_levels(watched)
    want = {(B, lv.price): (lv.qty, lv.orders) for lv in view.bids}
    want.update({(S, lv.price): (lv.qty, lv.orders) for lv in view.asks})
    assert books == want
    assert v.state_hash() == twin.state_hash()


def test_subscribing_for_every_level_later_starts_from_the_current_book(venue: InternalVenue) -> None:
    venue.subscribe_market_data(lambda m: None, book_levels=False)
    venue.submit(order("b1", B, 10, "9.99"))
    seen = md_of(venue)  # book_levels=True: every instrument from now on
    venue.submit(order("b2", B, 5, "9.99"))
    assert [m for m in seen if isinstance(m, BookLevelChanged)] == [lvl(3, B, "9.99", 15, 2)]
    venue.check_invariants()
