"""InternalVenue as a service: journal before ack, group commit, operations, kill switch, queries."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from conftest import StepClock

from venues.base import (
    Accepted,
    Cancelled,
    CancelReason,
    CancelRequest,
    Expired,
    Fill,
    OrderRequest,
    PhaseChanged,
    Rejected,
    ReplaceRequest,
    Side,
    TimeInForce,
    TradingPhase,
)
from venues.internal.journal import JournalError, MemoryJournal
from venues.internal.reference_data import DEMO_INSTRUMENTS, InstrumentSpec
from venues.internal.venue import InternalVenue, PhaseTransitionError, UnknownInstrument

D = Decimal


def buy(cl: str, qty: int = 10, px: str = "100.00", **kw: Any) -> OrderRequest:
    kw.setdefault("owner", "s1")
    kw.setdefault("account", "A")
    return OrderRequest("AAPL", cl_ord_id=cl, side=Side.BUY, qty=D(qty), price=D(px), **kw)


def sell(cl: str, qty: int = 10, px: str = "100.00", **kw: Any) -> OrderRequest:
    kw.setdefault("owner", "s2")
    kw.setdefault("account", "B")
    return OrderRequest("AAPL", cl_ord_id=cl, side=Side.SELL, qty=D(qty), price=D(px), **kw)


class RecordingJournal(MemoryJournal):
    """Writes every append and flush into a shared log (to check ordering against deliveries)."""

    def __init__(self, log: list[str]) -> None:
        super().__init__()
        self.log = log
        self.fail = False

    def append(self, seq: int, record: Any, ts: int, *, flush: bool = True) -> None:
        if self.fail:
            raise OSError("disk full")
        super().append(seq, record, ts, flush=False)
        self.log.append(f"append {seq}")
        if flush:
            self.flush()

    def flush(self) -> None:
        if self.flushed != self.last_sequence:
            self.log.append(f"flush {self.last_sequence}")
        super().flush()


@pytest.fixture
def venue(clock: StepClock) -> InternalVenue:
    return InternalVenue("INTERNAL", DEMO_INSTRUMENTS, MemoryJournal(), clock)


def collect(v: InternalVenue) -> list[Any]:
    seen: list[Any] = []
    v.subscribe(seen.append)
    return seen


# --------------------------------------------------------------------------- durability before ack


def test_every_command_is_journaled_and_flushed_before_its_events(clock: StepClock) -> None:
    log: list[str] = []
    v = InternalVenue("INTERNAL", DEMO_INSTRUMENTS, RecordingJournal(log), clock)
    v.subscribe(lambda e: log.append(f"event {type(e).__name__}"))
    v.subscribe_market_data(lambda e: log.append(f"md {type(e).__name__}"))
    log.clear()
    v.submit(buy("b1"))
    v.submit(sell("s1"))
    v.cancel(CancelRequest("AAPL", "s1", "x1", orig_cl_ord_id="b1"))
    v.halt("MSFT")
    assert log == [
        "append 4", "flush 4", "event Accepted", "md BookLevelChanged",
        "append 5", "flush 5", "event Accepted", "event Fill", "event Fill",
        "md TradePrinted", "md BookLevelChanged", "md StatsChanged",
        "append 6", "flush 6", "event CancelRejected",
        "append 7", "flush 7", "event PhaseChanged", "event IndicativePrice", "md PhaseChangedMD", "md StatsChanged",
    ]  # fmt: skip


def test_a_failing_journal_accepts_nothing(clock: StepClock) -> None:
    journal = RecordingJournal([])
    v = InternalVenue("INTERNAL", DEMO_INSTRUMENTS, journal, clock)
    seen = collect(v)
    before = (v.last_sequence, v.state_hash())
    journal.fail = True
    with pytest.raises(OSError):
        v.submit(buy("b1"))
    assert seen == [] and (v.last_sequence, v.state_hash()) == before
    journal.fail = False
    v.submit(buy("b1"))
    assert isinstance(seen[0], Accepted) and v.last_sequence == before[0] + 1


def test_sequence_numbers_and_timestamps_come_from_the_venue(clock: StepClock) -> None:
    journal = MemoryJournal()
    v = InternalVenue("INTERNAL", DEMO_INSTRUMENTS, journal, clock)
    seen = collect(v)
    v.submit(buy("b1"))
    rec = journal.records[-1]
    assert rec.seq == v.last_sequence == 4  # three instruments, then the order
    assert rec.decode() == {"t": "D", "symbol": "AAPL", "owner": "s1", "cl_ord_id": "b1", "side": "1",
                            "qty": "10", "price": "100.00", "account": "A"}  # fmt: skip
    assert seen[0].ts == rec.ts == clock.now


def test_constructor_refuses_a_journal_with_history(clock: StepClock) -> None:
    journal = MemoryJournal()
    InternalVenue("INTERNAL", DEMO_INSTRUMENTS, journal, clock)
    with pytest.raises(JournalError):
        InternalVenue("INTERNAL", DEMO_INSTRUMENTS, journal, clock)


def test_open_recovers_and_adds_only_new_instruments(clock: StepClock) -> None:
    journal = MemoryJournal()
    v = InternalVenue.open("INTERNAL", DEMO_INSTRUMENTS[:2], journal, clock)
    v.submit(buy("b1"))
    extra = InstrumentSpec("TSLA", D("0.01"), reference_price=D("200"))
    v2 = InternalVenue.open("INTERNAL", [*DEMO_INSTRUMENTS, extra], journal, clock)
    assert [s.symbol for s in v2.instruments()] == ["AAPL", "MSFT", "IBM", "TSLA"]
    assert v2.order_status("s1", "b1") is not None


# --------------------------------------------------------------------------- group commit


def test_group_commit_holds_events_until_commit(clock: StepClock) -> None:
    log: list[str] = []
    journal = RecordingJournal(log)
    v = InternalVenue("INTERNAL", DEMO_INSTRUMENTS, journal, clock, group_commit=True)
    v.subscribe(lambda e: log.append(f"event {type(e).__name__} {getattr(e, 'cl_ord_id', '')}"))
    v.subscribe_market_data(lambda e: log.append(f"md {type(e).__name__}"))
    log.clear()
    v.submit(buy("b1"))
    v.submit(buy("b2"))
    assert log == ["append 4", "append 5"]  # journaled and processed, nothing durable or delivered
    assert v.order_status("s1", "b2") is not None  # queries see the processed state
    v.commit()
    assert log == [
        "append 4", "append 5", "flush 5",
        "event Accepted b1", "md BookLevelChanged", "event Accepted b2", "md BookLevelChanged",
    ]  # fmt: skip
    v.commit()  # nothing held: no flush, no events
    assert len(log) == 7


def test_group_commit_operations_commit_at_once(clock: StepClock) -> None:
    log: list[str] = []
    v = InternalVenue("INTERNAL", DEMO_INSTRUMENTS, RecordingJournal(log), clock, group_commit=True)
    seen = collect(v)
    v.submit(buy("b1"))
    assert seen == []
    assert v.kill_switch(owner="s1") == 1
    assert [type(e).__name__ for e in seen] == ["Accepted", "Cancelled"]
    assert log[-1] == "flush 5"


# --------------------------------------------------------------------------- delivery order


def test_nested_commands_from_a_listener_keep_sequence_order(venue: InternalVenue) -> None:
    order: list[str] = []

    def reactive(e: Any) -> None:
        if isinstance(e, Accepted) and e.cl_ord_id == "b1":
            venue.submit(sell("s-nested", px="100.00"))

    venue.subscribe(reactive)
    venue.subscribe(lambda e: order.append(f"{type(e).__name__}:{getattr(e, 'cl_ord_id', '')}"))
    venue.submit(buy("b1", qty=10))
    assert order == ["Accepted:b1", "Accepted:s-nested", "Fill:b1", "Fill:s-nested"]


# --------------------------------------------------------------------------- operations


def test_operations_are_validated_before_journaling(venue: InternalVenue) -> None:
    seq = venue.last_sequence
    with pytest.raises(UnknownInstrument):
        venue.halt("NOPE")
    with pytest.raises(PhaseTransitionError):
        venue.resume("AAPL")
    with pytest.raises(PhaseTransitionError):
        venue.set_phase("AAPL", TradingPhase.PRE_OPEN)  # CONTINUOUS -> PRE_OPEN is not in the table
    with pytest.raises(ValueError):
        venue.add_instrument(InstrumentSpec("AAPL", D("0.01")))
    with pytest.raises(ValueError):
        venue.add_instrument(InstrumentSpec("BAD", D("0.01"), reference_price=D("1.005")))
    with pytest.raises(ValueError):
        venue.set_reference_price("AAPL", D("100.001"))
    with pytest.raises(ValueError):
        venue.kill_switch()
    assert venue.last_sequence == seq


def test_halt_resume_and_phases(venue: InternalVenue) -> None:
    seen = collect(venue)
    venue.halt("AAPL", "news pending")
    assert venue.phase("AAPL") is TradingPhase.HALTED
    assert isinstance(seen[0], PhaseChanged) and seen[0].text == "news pending"
    venue.resume("AAPL")
    assert venue.phase("AAPL") is TradingPhase.CONTINUOUS
    venue.set_phase("AAPL", TradingPhase.CLOSING_CALL)
    venue.set_phase("AAPL", TradingPhase.CLOSED)
    venue.submit(buy("late"))
    assert isinstance(seen[-1], Rejected) and seen[-1].text == "instrument closed"


def test_add_instrument_is_journaled_and_tradable(venue: InternalVenue) -> None:
    venue.add_instrument(InstrumentSpec("TSLA", D("0.05"), D(10), reference_price=D("200.00")))
    assert venue.instrument("TSLA") == InstrumentSpec("TSLA", D("0.05"), D(10), reference_price=D("200.00"))
    seen = collect(venue)
    venue.submit(OrderRequest("TSLA", "s1", "t1", Side.BUY, D(20), price=D("199.95")))
    assert isinstance(seen[0], Accepted)
    venue.submit(OrderRequest("TSLA", "s1", "t2", Side.BUY, D(25), price=D("199.95")))
    assert isinstance(seen[-1], Rejected)  # not a multiple of the lot


# --------------------------------------------------------------------------- kill switch


def test_kill_switch_cancels_blocks_and_releases(venue: InternalVenue) -> None:
    seen = collect(venue)
    venue.submit(buy("b1", account="A", owner="s1"))
    venue.submit(buy("b2", px="99.00", account="A", owner="s3"))
    venue.submit(buy("b3", px="98.00", account="Z", owner="s1"))
    seen.clear()
    assert venue.kill_switch(account="A") == 2
    assert [(type(e).__name__, e.cl_ord_id, e.reason) for e in seen] == [
        ("Cancelled", "b1", CancelReason.KILL_SWITCH),
        ("Cancelled", "b2", CancelReason.KILL_SWITCH),
    ]
    assert seen[0].reason.exec_restatement_reason == 8
    seen.clear()
    venue.submit(buy("b4", account="A", owner="s9"))
    venue.submit(buy("b5", account="Z", owner="s1"))
    assert isinstance(seen[0], Rejected) and "kill switch" in seen[0].text and seen[0].cl_ord_id == "b4"
    assert isinstance(seen[1], Accepted) and seen[1].cl_ord_id == "b5"
    assert venue.kill_switches() == [("A", None)]
    venue.release_kill_switch(account="A")
    venue.submit(buy("b6", account="A"))
    assert isinstance(seen[-1], Accepted)


def test_kill_switch_by_owner(venue: InternalVenue) -> None:
    seen = collect(venue)
    venue.submit(buy("b1", owner="s1", account="A"))
    venue.submit(buy("b2", owner="s2", account="A"))
    assert venue.kill_switch(owner="s1") == 1
    venue.submit(buy("b3", owner="s1", account="Q"))
    assert isinstance(seen[-1], Rejected)
    assert [v.cl_ord_id for v in venue.working_orders()] == ["b2"]
    venue.release_kill_switch(owner="s1")
    venue.submit(buy("b4", owner="s1", account="Q"))
    assert isinstance(seen[-1], Accepted)


# --------------------------------------------------------------------------- cancel on disconnect


def test_cancel_on_disconnect_is_day_only_by_default(venue: InternalVenue) -> None:
    seen = collect(venue)
    venue.submit(buy("day", owner="s1"))
    venue.submit(buy("gtc", px="99.00", owner="s1", tif=TimeInForce.GTC))
    venue.submit(buy("other", px="98.00", owner="s2"))
    seen.clear()
    assert venue.owner_disconnected("s1") == 1
    assert len(seen) == 1 and isinstance(seen[0], Cancelled)
    assert (seen[0].cl_ord_id, seen[0].orig_cl_ord_id) == ("day", "")  # unsolicited
    assert seen[0].reason is CancelReason.CANCEL_ON_DISCONNECT
    assert seen[0].reason.exec_restatement_reason == 12
    assert sorted(v.cl_ord_id for v in venue.working_orders()) == ["gtc", "other"]
    seen.clear()
    assert venue.owner_disconnected("s1", day_only=False, reason=CancelReason.CANCEL_ON_LOGOUT) == 1
    assert seen[0].cl_ord_id == "gtc" and seen[0].reason.exec_restatement_reason == 13
    assert [v.cl_ord_id for v in venue.working_orders()] == ["other"]


# --------------------------------------------------------------------------- time


def test_end_of_day_and_gtd_expiry_at_the_venue_clock(venue: InternalVenue, clock: StepClock) -> None:
    seen = collect(venue)
    venue.submit(buy("day"))
    venue.submit(buy("gtc", px="99.00", tif=TimeInForce.GTC))
    venue.submit(buy("gtd", px="98.00", tif=TimeInForce.GTD, expire_time=clock.now + 10**9))
    venue.advance_time()
    assert not any(isinstance(e, Expired) for e in seen)
    clock.advance(10**9)
    venue.advance_time()
    assert [e.cl_ord_id for e in seen if isinstance(e, Expired)] == ["gtd"]
    venue.end_of_day()
    assert [e.cl_ord_id for e in seen if isinstance(e, Expired)] == ["gtd", "day"]
    assert [v.cl_ord_id for v in venue.working_orders()] == ["gtc"]
    assert venue.order_status("s1", "day") is None  # done orders are forgotten at the end of the day
    assert venue.order_status("s1", "gtc") is not None


# --------------------------------------------------------------------------- queries


def test_order_status_follows_the_order(venue: InternalVenue) -> None:
    seen = collect(venue)
    venue.submit(buy("b1", qty=10))
    oid = seen[0].order_id
    venue.submit(sell("s1", qty=4))
    view = venue.order_status("s1", "b1")
    assert view is not None
    assert (view.order_id, view.ord_status, view.cum_qty, view.leaves_qty, view.avg_px) == (
        oid, "1", D(4), D(6), D("100.00"),
    )  # fmt: skip
    assert view.last_exec_id == next(e.exec_id for e in seen if isinstance(e, Fill) and e.cl_ord_id == "b1")
    venue.replace(ReplaceRequest("AAPL", "s1", "b1-r", Side.BUY, D(8), price=D("99.50"), orig_cl_ord_id="b1"))
    view = venue.order_status("s1", "b1-r")
    assert view is not None and (view.cl_ord_id, view.orig_cl_ord_id, view.qty, view.leaves_qty, view.price) == (
        "b1-r", "b1", D(8), D(4), D("99.50"),
    )  # fmt: skip
    assert venue.order_status("s1", "b1") == view  # the old ClOrdID still finds it
    assert venue.order_status("s1", order_id=oid) == view
    assert venue.order_status("s2", order_id=oid) is None  # someone else's order
    venue.cancel(CancelRequest("AAPL", "s1", "b1-x", orig_cl_ord_id="b1-r"))
    view = venue.order_status("s1", "b1-x")
    assert view is not None and view.ord_status == "4" and view.leaves_qty == 0
    assert (view.cl_ord_id, view.orig_cl_ord_id) == ("b1-x", "b1-r")
    assert venue.order_status("s2", "s1") is not None and venue.order_status("s2", "s1").ord_status == "2"


def test_working_orders_filters_and_book_levels(venue: InternalVenue) -> None:
    venue.submit(buy("b1", px="99.00", owner="s1", account="A"))
    venue.submit(buy("b2", px="99.00", owner="s2", account="B", display_qty=D(2)))
    venue.submit(buy("b3", px="98.00", owner="s1", account="B"))
    venue.submit(sell("a1", px="101.00", owner="s2", account="B"))
    venue.submit(OrderRequest("MSFT", "s1", "m1", Side.SELL, D(5), price=D("100.00")))
    assert [v.cl_ord_id for v in venue.working_orders(owner="s1")] == ["b1", "b3", "m1"]
    assert [v.cl_ord_id for v in venue.working_orders(account="B", symbol="AAPL")] == ["b2", "b3", "a1"]
    book = venue.book_levels("AAPL")
    assert [(lv.price, lv.qty, lv.orders) for lv in book.bids] == [
        (D("99.00"), D(12), 2),
        (D("98.00"), D(10), 1),
    ]
    assert [(lv.price, lv.qty, lv.orders) for lv in book.asks] == [(D("101.00"), D(10), 1)]
    assert len(venue.book_levels("AAPL", depth=1).bids) == 1
    assert book.phase is TradingPhase.CONTINUOUS
    with pytest.raises(UnknownInstrument):
        venue.book_levels("NOPE")
    assert venue.instrument("NOPE") is None
    assert venue.name == "INTERNAL"
