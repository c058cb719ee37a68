"""FixVenue restarts on its child-order journal (no sockets; see venue_rig.py).

* After every step of a long scenario (orders, acks, fills, replace, cancel, cancel reject, mass
  cancel, bust, business reject, status reports) the state rebuilt from the journal equals the
  live state, indexes included, on every journal implementation.
* A "restarted gateway" (a new venue on the reopened journal) maps late and resent reports of the
  earlier run's orders back to the client's ids, applies none twice, answers pending changes,
  continues its ClOrdID counter and reconciles by OrderMassStatusRequest.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from venue_rig import Rig  # noqa: E402

from venues.base import (  # noqa: E402
    Accepted,
    Cancelled,
    CancelReason,
    CancelRejected,
    CancelRequest,
    Fill,
    Liquidity,
    MassCancelRequest,
    OrderRequest,
    OrdType,
    Rejected,
    RejectReason,
    Replaced,
    ReplaceRequest,
    SelfTradePrevention,
    Side,
    TimeInForce,
)
from venues.external.events import TradeBust  # noqa: E402
from venues.external.journal import MemoryChildOrderJournal  # noqa: E402
from venues.external.orders import OrderTable  # noqa: E402
from venues.external.records import (  # noqa: E402
    RecordError,
    decode_dataclass,
    encode_dataclass,
    order_key,
    order_snapshot,
    rebuild,
)
from venues.internal.journal import encode_record  # noqa: E402

ORDER = OrderRequest("IBM", "CLIENT1", "C-1", Side.BUY, Decimal("100"), OrdType.LIMIT, Decimal("10.50"), account="A1")
OTHER = OrderRequest("MSFT", "CLIENT2", "K-1", Side.SELL, Decimal("5"), OrdType.LIMIT, Decimal("300"), account="A2")


def view(table: OrderTable, seen: set[str]) -> tuple[Any, ...]:
    """Everything the venue knows about its child orders, comparable across a rebuild."""
    orders = [{**order_snapshot(o, table), "req": encode_dataclass(o.request)} for o in table.all_orders()]
    pending = sorted(
        (k, p.kind.name, p.client_cl_ord_id, p.client_orig_cl_ord_id, order_key(p.order), p.qty, p.price, p.reason.name)
        for k, p in table.pending.items()
    )
    return orders, pending, sorted(seen)


def check_indexes(table: OrderTable) -> None:
    for order in table.all_orders():
        for cl in order.cl_ord_ids:
            assert table.by_cl_ord_id(cl) is order
        for ccl in order.client_cl_ord_ids:
            assert table.by_client(order.owner, ccl) is order
        if order.order_id:
            assert table.by_order_id(order.order_id) is order


def assert_rebuilds(rig: Rig) -> None:
    state = rebuild(rig.venue.journal.replay())
    check_indexes(state.table)
    assert view(state.table, state.seen_exec_ids) == view(rig.venue.orders, rig.venue._lifecycle.seen_exec_ids)


def other_er(exec_id: str, exec_type: str, status: str, cum: str, leaves: str, *extra: tuple[int, str]) -> tuple:
    return ("8", (6, "0"), (11, "T-4"), (14, cum), (17, exec_id), (37, "EX-2"), (39, status), (54, "2"),
            (55, "MSFT"), (150, exec_type), (151, leaves), *extra)


def scenario(rig: Rig) -> list[Any]:
    """The steps; each mutates the venue (returns nothing of interest)."""
    v = rig.venue
    return [
        lambda: v.submit(ORDER),                                                        # T-1
        lambda: rig.er("T-1", "E-0", "0", "0", "0", "100", "0"),
        lambda: rig.er("T-1", "E-1", "F", "1", "30", "70", "10.5", (31, "10.5"), (32, "30")),
        lambda: v.replace(ReplaceRequest("IBM", "CLIENT1", "C-2", Side.BUY, Decimal("80"), Decimal("10.25"),
                                         orig_cl_ord_id="C-1")),                        # T-2
        lambda: rig.er("T-2", "E-2", "5", "1", "30", "50", "10.5", (38, "80"), (41, "T-1"), (44, "10.25")),
        lambda: v.cancel(CancelRequest("IBM", "CLIENT1", "C-3", orig_cl_ord_id="C-2")),  # T-3
        lambda: rig.feed("9", (11, "T-3"), (37, "EX-1"), (39, "1"), (41, "T-2"), (102, "0"), (434, "1")),
        lambda: v.submit(OTHER),                                                        # T-4
        lambda: rig.feed(*other_er("E-3", "0", "0", "0", "5")),
        lambda: rig.er("T-2", "S-1", "I", "1", "30", "50", "10.5"),  # a status report that changes nothing
        lambda: v.mass_cancel(MassCancelRequest("CLIENT1", "MC-1", symbol="IBM")),     # T-5
        lambda: rig.er("T-2", "E-4", "4", "4", "30", "0", "10.5"),
        lambda: rig.er("T-2", "E-5", "H", "4", "0", "0", "0", (19, "E-1")),
        lambda: rig.feed(*other_er("E-6", "F", "2", "5", "0", (31, "300"), (32, "5"))),
        lambda: v.submit(ORDER.__class__("BAD", "CLIENT1", "C-9", Side.BUY, Decimal(1), OrdType.LIMIT, Decimal(1))),
        lambda: rig.feed("j", (45, rig.host.sent[-1].get(34)), (58, "no"), (372, "D"), (380, "4")),
    ]


def test_the_journal_rebuilds_the_live_state_after_every_step(child_journal_factory: Any) -> None:
    rig = Rig(journal=child_journal_factory.open())
    for step in scenario(rig):
        step()
        assert_rebuilds(rig)
    kinds = [type(e).__name__ for e in rig.events]
    assert kinds == ["Accepted", "Fill", "Replaced", "CancelRejected", "Accepted", "Cancelled", "TradeBust",
                     "Fill", "Rejected"]
    journal = rig.venue.journal
    assert [r["t"] for r in journal.replay()] == [
        "new", "upd", "upd", "chg", "upd", "chg", "upd", "new", "upd", "mc", "upd", "upd", "upd", "new", "upd"
    ]  # the status report that changed nothing wrote nothing
    outcomes = [r.get("done") for r in journal.replay() if r.get("done")]
    assert outcomes == [{"T-2": "applied"}, {"T-3": "rejected"}]

    # restart on the reopened storage: the same state, and the fills of the earlier run
    journal.close()
    again = Rig(journal=child_journal_factory.open())
    check_indexes(again.venue.orders)
    assert view(again.venue.orders, again.venue._lifecycle.seen_exec_ids) == view(
        rig.venue.orders, rig.venue._lifecycle.seen_exec_ids)
    assert again.venue.journaled_fills == [e for e in rig.events if type(e) is Fill]


def restart(rig: Rig, journal: MemoryChildOrderJournal, extra: str = "") -> Rig:
    """Drop the venue (a crash: nothing is closed but the journal handle) and start a new one on it."""
    return Rig(extra=extra, journal=journal.reopen())


def test_reports_after_a_restart_map_back_and_resent_ones_apply_nothing() -> None:
    journal = MemoryChildOrderJournal()
    rig = Rig(journal=journal)
    rig.venue.submit(ORDER)
    rig.er("T-1", "E-0", "0", "0", "0", "100", "0")
    first = rig.er("T-1", "E-1", "F", "1", "30", "70", "10.5", (31, "10.5"), (32, "30"))

    rig = restart(rig, journal)
    assert rig.venue.journaled_fills == first
    # the exchange resends what it sent before the crash: nothing happens twice
    assert rig.er("T-1", "E-0", "0", "0", "0", "100", "0", (43, "Y")) == []
    assert rig.er("T-1", "E-1", "F", "1", "30", "70", "10.5", (31, "10.5"), (32, "30"), (43, "Y")) == []
    # a fill that happened while the gateway was down: exactly once, in the client's terms
    fill = rig.er("T-1", "E-2", "F", "1", "60", "40", "10.45", (31, "10.4"), (32, "30"), (43, "Y"))
    assert fill == [Fill(1_767_348_001_000_000_000, "IBM", "EX-1", "CLIENT1", "C-1", "E-2", Side.BUY, "E-2",
                         Decimal(30), Decimal("10.4"), Decimal(60), Decimal(40), Decimal("10.45"),
                         fill[0].liquidity, "A1")]
    assert rig.er("T-1", "E-2", "F", "1", "60", "40", "10.45", (31, "10.4"), (32, "30"), (43, "Y")) == []
    # the client can still cancel it by its own ClOrdID; the counter went on past T-1
    rig.venue.cancel(CancelRequest("IBM", "CLIENT1", "C-5", orig_cl_ord_id="C-1"))
    f = rig.host.sent[-1]
    assert (f.msg_type, f.get(11), f.get(41), f.get(37)) == ("F", "T-2", "T-1", "EX-1")
    # and a duplicate client ClOrdID of the earlier run is still refused
    rig.venue.submit(ORDER)
    assert (type(rig.events[-1]), rig.events[-1].reason) == (Rejected, RejectReason.DUPLICATE_ORDER)


def test_changes_pending_at_the_crash_are_answered_after_it() -> None:
    journal = MemoryChildOrderJournal()
    rig = Rig(journal=journal)
    rig.venue.submit(ORDER)
    rig.er("T-1", "E-0", "0", "0", "0", "100", "0")
    rig.venue.replace(ReplaceRequest("IBM", "CLIENT1", "C-2", Side.BUY, Decimal(80), Decimal("10.25"), orig_cl_ord_id="C-1"))

    rig = restart(rig, journal)
    [replaced] = rig.er("T-2", "E-1", "5", "0", "0", "80", "0", (38, "80"), (41, "T-1"), (44, "10.25"))
    assert (type(replaced), replaced.cl_ord_id, replaced.orig_cl_ord_id, replaced.qty, replaced.price) == (
        Replaced, "C-2", "C-1", Decimal(80), Decimal("10.25"))
    rig.venue.cancel(CancelRequest("IBM", "CLIENT1", "C-3", orig_cl_ord_id="C-2"))
    rig.venue.cancel(CancelRequest("IBM", "CLIENT1", "C-4", orig_cl_ord_id="C-2"))
    assert [m.get(11) for m in rig.host.sent] == ["T-3", "T-4"]

    rig = restart(rig, journal)
    [rejected] = rig.feed("9", (11, "T-3"), (37, "EX-1"), (39, "0"), (41, "T-2"), (102, "1"), (434, "1"))
    assert (type(rejected), rejected.cl_ord_id, rejected.orig_cl_ord_id) == (CancelRejected, "C-3", "C-2")
    [cancelled] = rig.er("T-4", "E-2", "4", "4", "0", "0", "0", (41, "T-2"))
    assert (type(cancelled), cancelled.cl_ord_id, cancelled.orig_cl_ord_id, cancelled.reason, cancelled.cancelled_qty) == (
        Cancelled, "C-4", "C-2", CancelReason.CLIENT_REQUEST, Decimal(80))
    assert list(rig.venue.orders.open_orders()) == [] and rig.venue.orders.pending == {}


def test_a_bust_resent_after_a_restart_is_not_applied_twice() -> None:
    journal = MemoryChildOrderJournal()
    rig = Rig(journal=journal)
    rig.venue.submit(ORDER)
    rig.er("T-1", "E-0", "0", "0", "0", "100", "0")
    rig.er("T-1", "E-1", "F", "2", "100", "0", "10.5", (31, "10.5"), (32, "100"))
    [bust] = rig.er("T-1", "E-9", "H", "0", "0", "100", "0", (19, "E-1"))
    assert type(bust) is TradeBust
    rig = restart(rig, journal)
    assert rig.er("T-1", "E-9", "H", "0", "0", "100", "0", (19, "E-1"), (43, "Y")) == []
    assert [o.cl_ord_id for o in rig.venue.orders.open_orders()] == ["T-1"]  # the bust reopened it


def test_mass_status_after_a_restart_reconciles_the_earlier_run() -> None:
    journal = MemoryChildOrderJournal()
    rig = Rig(extra="DialectOrderMassStatus=Y", journal=journal)
    rig.venue.submit(ORDER)
    rig.er("T-1", "E-0", "0", "0", "0", "100", "0")
    rig.venue.application.on_logon(rig.host.session_id)
    rig.clock.advance(0)
    assert rig.host.sent[-1].get(584) == "T-2"

    rig = restart(rig, journal, extra="DialectOrderMassStatus=Y")
    rig.venue.application.on_logon(rig.host.session_id)
    rig.clock.advance(0)
    af = rig.host.sent[-1]
    assert (af.msg_type, af.get(584)) == ("AF", "T-3")  # not a reused request id
    events = rig.er("T-1", "S-1", "I", "1", "20", "80", "10.4", (584, "T-3"))
    assert [(type(e), e.cl_ord_id, e.exec_id, e.last_qty) for e in events] == [(Fill, "C-1", "EX-1:20", Decimal(20))]
    # the same status again (a second AF answer, or the resent trade report): nothing
    assert rig.er("T-1", "S-2", "I", "1", "20", "80", "10.4", (584, "T-3")) == []
    assert rig.er("T-1", "E-5", "F", "1", "20", "80", "10.4", (31, "10.4"), (32, "20"), (43, "Y")) == []


def test_the_counter_goes_on_past_journaled_ids_of_the_same_prefix_only() -> None:
    journal = MemoryChildOrderJournal()
    rig = Rig(journal=journal, prefix="P1")
    for n in range(3):
        rig.venue.submit(OrderRequest("IBM", "CLIENT1", f"C-{n}", Side.BUY, Decimal(1), OrdType.LIMIT, Decimal(1)))
    rig = Rig(journal=journal.reopen(), prefix="P2")
    rig.venue.submit(OrderRequest("IBM", "CLIENT1", "C-9", Side.BUY, Decimal(1), OrdType.LIMIT, Decimal(1)))
    assert rig.host.sent[-1].get(11) == "P2-1"
    rig = Rig(journal=journal.reopen(), prefix="P1")
    rig.venue.submit(OrderRequest("IBM", "CLIENT1", "C-10", Side.BUY, Decimal(1), OrdType.LIMIT, Decimal(1)))
    assert rig.host.sent[-1].get(11) == "P1-4"


class BrokenJournal(MemoryChildOrderJournal):
    def append(self, record: dict, ts: int = 0) -> None:
        raise OSError("disk full")


def test_nothing_goes_out_that_the_journal_did_not_take() -> None:
    rig = Rig(journal=BrokenJournal())
    rig.venue.submit(ORDER)
    [rejected] = rig.events
    assert (type(rejected), rejected.cl_ord_id, rejected.reason, rejected.text) == (
        Rejected, "C-1", RejectReason.EXCHANGE_CLOSED, "venue XCHG-EU: child-order journal unavailable")
    assert rig.host.sent == [] and list(rig.venue.orders.all_orders()) == []


def test_a_change_the_journal_refuses_is_not_sent() -> None:
    journal = MemoryChildOrderJournal()
    rig = Rig(journal=journal)
    rig.venue.submit(ORDER)
    rig.er("T-1", "E-0", "0", "0", "0", "100", "0")
    journal.close()  # appends now fail
    rig.venue.cancel(CancelRequest("IBM", "CLIENT1", "C-2", orig_cl_ord_id="C-1"))
    rig.venue.replace(ReplaceRequest("IBM", "CLIENT1", "C-3", Side.BUY, Decimal(5), orig_cl_ord_id="C-1"))
    assert [type(e) for e in rig.events] == [Accepted, CancelRejected, CancelRejected]
    assert [m.msg_type for m in rig.host.sent] == ["D"] and rig.venue.orders.pending == {}
    # a report the journal cannot take raises (the session drops the link, the report comes again)
    fill = ("T-1", "E-1", "F", "1", "30", "70", "10.5", (31, "10.5"), (32, "30"))
    with pytest.raises(Exception, match="closed"):
        rig.er(*fill)
    assert [type(e) for e in rig.events] == [Accepted, CancelRejected, CancelRejected]
    # ... and the venue's state went back to the journal's, so the resent report applies
    journal.reopen()
    assert [(type(e), e.cum_qty) for e in rig.er(*fill, (43, "Y"))] == [(Fill, Decimal(30))]
    assert_rebuilds(rig)


def test_rebuild_refuses_records_it_cannot_apply() -> None:
    with pytest.raises(RecordError, match="unknown kind"):
        rebuild([{"t": "nope"}])
    with pytest.raises(RecordError, match="unknown child order"):
        rebuild([{"t": "chg", "k": "CANCEL", "cl": "T-2", "of": "T-1", "ccl": "C", "cocl": "", "qty": "0",
                  "px": None, "stop": None, "why": "CLIENT_REQUEST"}])
    with pytest.raises(RecordError, match="record 1"):
        rebuild([{"t": "new", "cl": "T-1", "req": {"symbol": "IBM"}}])


def test_requests_and_fills_round_trip_through_records_with_every_field() -> None:
    full = OrderRequest("IBM", "CLIENT1", "C-1", Side.SELL_SHORT, Decimal("100.5"), OrdType.STOP_LIMIT,
                        Decimal("10.25"), Decimal("10.5"), TimeInForce.GTD, "A1", "G1", 1_767_348_000_000_000_000,
                        Decimal(10), Decimal(5), True, SelfTradePrevention.DECREMENT_AND_CANCEL)
    fill = Fill(1, "IBM", "X1", "CLIENT1", "C-1", "E-1", Side.BUY, "M-1", Decimal("0.5"), Decimal("10.125"),
                Decimal("0.5"), Decimal("99.5"), Decimal("10.125"), Liquidity.AUCTION, "A1")
    for obj in (full, ORDER, fill):
        assert decode_dataclass(type(obj), json.loads(encode_record(encode_dataclass(obj)))) == obj
