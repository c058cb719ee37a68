"""FixVenue without sockets: a fake session host records what is sent; reports are fed in.

Covers the lifecycle rules (acknowledge, fills from CumQty exactly once, cancel/replace/reject
mapping back to client ids, busts, reconciliation by status reports) and the disconnected venue.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from venue_rig import Rig  # noqa: E402

from venues.base import (  # noqa: E402
    Accepted,
    Cancelled,
    CancelReason,
    CancelRejected,
    CancelRejectReason,
    CancelRejectResponseTo,
    CancelRequest,
    Expired,
    Fill,
    Liquidity,
    MassCancelled,
    MassCancelRequest,
    OrderRequest,
    OrdType,
    Rejected,
    RejectReason,
    Replaced,
    ReplaceRequest,
    Side,
)
from venues.external.events import TradeBust, TradeCorrected  # noqa: E402

TS = 1_767_348_001_000_000_000
ORDER = OrderRequest("IBM", "CLIENT1", "C-1", Side.BUY, Decimal("100"), OrdType.LIMIT, Decimal("10.50"), account="A1")


def accepted_rig() -> Rig:
    rig = Rig()
    rig.venue.submit(ORDER)
    rig.er("T-1", "E-0", "0", "0", "0", "100", "0")
    return rig


def test_name_and_connection() -> None:
    rig = Rig()
    assert rig.venue.name == "XCHG-EU"
    assert rig.venue.connected
    rig.host.logged_on = False
    assert not rig.venue.connected


def test_submit_sends_broker_cl_ord_id_and_new_is_accepted_in_client_terms() -> None:
    rig = Rig()
    rig.venue.submit(ORDER)
    sent = rig.host.sent[0]
    assert (sent.msg_type, sent.get(11), sent.get(1), sent.get(60)) == ("D", "T-1", "A1", "20260102-10:00:00.000")
    assert rig.er("T-1", "E-0", "0", "0", "0", "100", "0") == [
        Accepted(TS, "IBM", "EX-1", "CLIENT1", "C-1", "E-0", Side.BUY, ORDER.ord_type, ORDER.tif,
                 Decimal("100"), Decimal("10.50"), None)
    ]


def test_three_partial_fills_exact_and_duplicates_ignored() -> None:
    rig = accepted_rig()
    f1 = rig.er("T-1", "E-1", "F", "1", "30", "70", "10.5", (31, "10.5"), (32, "30"), (851, "1"))
    f2 = rig.er("T-1", "E-2", "F", "1", "60", "40", "10.45", (31, "10.4"), (32, "30"))
    again = rig.er("T-1", "E-2", "F", "1", "60", "40", "10.45", (31, "10.4"), (32, "30"), (43, "Y"))
    f3 = rig.er("T-1", "E-3", "F", "2", "100", "0", "10.43", (31, "10.4"), (32, "40"))
    assert f1 == [Fill(TS, "IBM", "EX-1", "CLIENT1", "C-1", "E-1", Side.BUY, "E-1", Decimal("30"), Decimal("10.5"),
                       Decimal("30"), Decimal("70"), Decimal("10.5"), Liquidity.ADDED, "A1")]
    assert f2 == [Fill(TS, "IBM", "EX-1", "CLIENT1", "C-1", "E-2", Side.BUY, "E-2", Decimal("30"), Decimal("10.4"),
                       Decimal("60"), Decimal("40"), Decimal("10.45"), Liquidity.REMOVED, "A1")]
    assert again == []
    assert f3 == [Fill(TS, "IBM", "EX-1", "CLIENT1", "C-1", "E-3", Side.BUY, "E-3", Decimal("40"), Decimal("10.4"),
                       Decimal("100"), Decimal("0"), Decimal("10.43"), Liquidity.REMOVED, "A1")]
    assert list(rig.venue.orders.open_orders()) == []


def test_cancel_maps_back_to_client_ids() -> None:
    rig = accepted_rig()
    rig.venue.cancel(CancelRequest("IBM", "CLIENT1", "C-2", orig_cl_ord_id="C-1"))
    f = rig.host.sent[-1]
    assert (f.msg_type, f.get(11), f.get(41), f.get(37), f.get(38)) == ("F", "T-2", "T-1", "EX-1", "100")
    assert rig.er("T-2", "E-5", "6", "6", "0", "100", "0", (41, "T-1")) == []  # pending cancel
    assert rig.er("T-2", "E-6", "4", "4", "0", "0", "0", (41, "T-1")) == [
        Cancelled(TS, "IBM", "EX-1", "CLIENT1", "C-2", "C-1", "E-6", Side.BUY, Decimal("0"), Decimal("100"),
                  CancelReason.CLIENT_REQUEST)
    ]


def test_replace_then_cancel_reject() -> None:
    rig = accepted_rig()
    rig.venue.replace(ReplaceRequest("IBM", "CLIENT1", "C-2", Side.BUY, Decimal("80"), Decimal("10.25"), orig_cl_ord_id="C-1"))
    g = rig.host.sent[-1]
    assert (g.msg_type, g.get(11), g.get(41), g.get(38), g.get(44)) == ("G", "T-2", "T-1", "80", "10.25")
    events = rig.er("T-2", "E-7", "5", "0", "0", "80", "0", (38, "80"), (41, "T-1"), (44, "10.25"))
    assert events == [
        Replaced(TS, "IBM", "EX-1", "CLIENT1", "C-2", "C-1", "E-7", Side.BUY, Decimal("80"), Decimal("10.25"),
                 None, Decimal("0"), Decimal("80"), False)
    ]
    rig.venue.cancel(CancelRequest("IBM", "CLIENT1", "C-3", orig_cl_ord_id="C-2"))
    assert rig.host.sent[-1].get(41) == "T-2"
    assert rig.feed("9", (11, "T-3"), (37, "EX-1"), (39, "0"), (41, "T-2"), (58, "too late"), (102, "0"), (434, "1")) == [
        CancelRejected(rig.venue._now_ns(), "IBM", "EX-1", "CLIENT1", "C-3", "C-2", CancelRejectResponseTo.CANCEL,
                       CancelRejectReason.UNKNOWN_ORDER, "too late (102=0)")
    ]


def test_reject_with_reason() -> None:
    rig = Rig()
    rig.venue.submit(OrderRequest("BAD", "CLIENT1", "C-9", Side.SELL, Decimal("1"), OrdType.LIMIT, Decimal("1")))
    events = rig.feed("8", (6, "0"), (11, "T-1"), (14, "0"), (17, "R-1"), (37, "NONE"), (39, "8"), (54, "2"),
                      (55, "BAD"), (58, "Unknown symbol"), (103, "1"), (150, "8"), (151, "0"))
    assert events == [Rejected(rig.venue._now_ns(), "BAD", "CLIENT1", "C-9", "R-1", Side.SELL,
                               RejectReason.UNKNOWN_SYMBOL, "Unknown symbol")]


def test_status_report_after_reconnect_yields_missed_fill_once_then_cancel() -> None:
    rig = accepted_rig()
    rig.er("T-1", "E-1", "F", "1", "30", "70", "10", (31, "10"), (32, "30"))
    # while down: another 20 traded at 11 (avg 10.4) -- the status report says so
    status = rig.er("T-1", "S-1", "I", "1", "50", "50", "10.4", (584, "MS"))
    assert status == [Fill(TS, "IBM", "EX-1", "CLIENT1", "C-1", "EX-1:50", Side.BUY, "EX-1:50", Decimal("20"),
                           Decimal("11"), Decimal("50"), Decimal("50"), Decimal("10.4"), Liquidity.REMOVED, "A1")]
    # the resent trade report for the same execution adds nothing
    assert rig.er("T-1", "E-2", "F", "1", "50", "50", "10.4", (31, "11"), (32, "20"), (43, "Y")) == []
    # a later status: cancelled while we were down
    cancelled = rig.er("T-1", "S-2", "I", "4", "50", "0", "10.4")
    assert cancelled == [Cancelled(TS, "IBM", "EX-1", "CLIENT1", "C-1", "", "EX-1:cancelled", Side.BUY,
                                   Decimal("50"), Decimal("50"), CancelReason.CANCEL_ON_DISCONNECT)]


def test_missed_new_is_acknowledged_before_the_fill_and_expiry() -> None:
    rig = Rig()
    rig.venue.submit(ORDER)
    events = rig.er("T-1", "E-1", "F", "1", "10", "90", "10.5", (31, "10.5"), (32, "10"))
    assert [type(e) for e in events] == [Accepted, Fill]
    assert events[0].exec_id == "EX-1:accepted"
    expired = rig.er("T-1", "E-2", "C", "C", "10", "0", "10.5")
    assert expired == [Expired(TS, "IBM", "EX-1", "CLIENT1", "C-1", "E-2", Side.BUY, Decimal("10"), Decimal("90"))]


def test_bust_and_correction() -> None:
    rig = accepted_rig()
    rig.er("T-1", "E-1", "F", "2", "100", "0", "10.5", (31, "10.5"), (32, "100"))
    bust = rig.er("T-1", "E-9", "H", "0", "0", "100", "0", (19, "E-1"))
    assert bust == [TradeBust(TS, "IBM", "EX-1", "CLIENT1", "C-1", "E-9", "E-1", Side.BUY, Decimal("0"),
                              Decimal("100"), Decimal("0"), "A1")]
    assert [o.cl_ord_id for o in rig.venue.orders.open_orders()] == ["T-1"]
    fixed = rig.er("T-1", "E-10", "G", "1", "50", "50", "10.4", (19, "E-1"), (31, "10.4"), (32, "50"))
    assert fixed == [TradeCorrected(TS, "IBM", "EX-1", "CLIENT1", "C-1", "E-10", "E-1", Side.BUY, Decimal("50"),
                                    Decimal("10.4"), Decimal("50"), Decimal("50"), Decimal("10.4"), "A1")]


def test_fix42_trades_use_exec_trans_type() -> None:
    rig = Rig("FIX.4.2")
    rig.venue.submit(ORDER)
    assert rig.host.sent[0].get(21) == "1"
    rig.er("T-1", "E-0", "0", "0", "0", "100", "0", (20, "0"))
    fill = rig.er("T-1", "E-1", "1", "1", "40", "60", "10.5", (20, "0"), (31, "10.5"), (32, "40"))
    assert [type(e) for e in fill] == [Fill]
    bust = rig.er("T-1", "E-2", "1", "0", "0", "100", "0", (20, "1"), (19, "E-1"))
    assert [type(e) for e in bust] == [TradeBust]


def test_business_reject_by_ref_seq_num_rejects_the_order() -> None:
    rig = Rig()
    rig.venue.submit(ORDER)
    seq = rig.host.sent[0].get(34)
    events = rig.feed("j", (45, seq), (58, "not allowed"), (372, "D"), (380, "4"))
    assert [(type(e), e.cl_ord_id, e.text) for e in events] == [(Rejected, "C-1", "not allowed (380=4)")]


def test_mass_cancel_native_and_fanned_out() -> None:
    rig = accepted_rig()
    rig.venue.mass_cancel(MassCancelRequest("CLIENT1", "MC-1", symbol="IBM"))
    q = rig.host.sent[-1]
    assert (q.msg_type, q.get(530), q.get(55)) == ("q", "1", "IBM")
    cancelled = rig.er("T-1", "E-3", "4", "4", "0", "0", "0")
    assert cancelled[0].reason is CancelReason.MASS_CANCEL
    report = rig.feed("r", (11, q.get(11)), (37, "X"), (530, "1"), (531, "1"), (533, "1"))
    assert report == [MassCancelled(rig.venue._now_ns(), "CLIENT1", "MC-1", "IBM", 1, CancelReason.MASS_CANCEL)]

    rig2 = accepted_rig()
    rig2.venue.mass_cancel(MassCancelRequest("RISK", "MC-2", owner="CLIENT1"))
    assert rig2.host.sent[-1].msg_type == "F"
    assert rig2.events[-1] == MassCancelled(rig2.venue._now_ns(), "RISK", "MC-2", None, 1, CancelReason.MASS_CANCEL)
    done = rig2.er(rig2.host.sent[-1].get(11), "E-4", "4", "4", "0", "0", "0", (41, "T-1"))
    assert (done[0].cl_ord_id, done[0].orig_cl_ord_id, done[0].reason) == ("C-1", "", CancelReason.MASS_CANCEL)


def test_reconcile_sends_mass_status_only_when_configured_and_orders_work() -> None:
    rig = Rig(extra="DialectOrderMassStatus=Y")
    assert not rig.venue.reconcile()  # nothing working
    rig.venue.submit(ORDER)
    rig.venue.application.on_logon(rig.host.session_id)
    rig.clock.advance(0)
    af = rig.host.sent[-1]
    assert (af.msg_type, af.get(585), af.get(584)) == ("AF", "7", "T-2")
    plain = accepted_rig()
    assert not plain.venue.reconcile()


def test_disconnected_venue_refuses_everything_at_once() -> None:
    rig = Rig(logged_on=False)
    seen: list[bool] = []
    rig.venue.on_connection_change(seen.append)
    rig.venue.submit(ORDER)
    rig.venue.cancel(CancelRequest("IBM", "CLIENT1", "C-2", orig_cl_ord_id="C-1"))
    rig.venue.replace(ReplaceRequest("IBM", "CLIENT1", "C-3", Side.BUY, Decimal("5"), orig_cl_ord_id="C-1"))
    rig.venue.mass_cancel(MassCancelRequest("CLIENT1", "MC-1"))
    text = "venue XCHG-EU is not connected"
    rej, cxl, rpl, mass = rig.events
    assert (type(rej), rej.cl_ord_id, rej.reason, rej.text) == (Rejected, "C-1", RejectReason.EXCHANGE_CLOSED, text)
    assert (type(cxl), cxl.reason, cxl.response_to, cxl.text) == (
        CancelRejected, CancelRejectReason.EXCHANGE_CLOSED, CancelRejectResponseTo.CANCEL, text)
    assert (rpl.response_to, rpl.reason) == (CancelRejectResponseTo.REPLACE, CancelRejectReason.EXCHANGE_CLOSED)
    assert (type(mass), mass.cancelled, mass.text) == (MassCancelled, 0, text)
    assert rig.host.sent == []
    rig.venue.application.on_logout(rig.host.session_id)
    assert seen == [False]


def test_unknown_order_cancel_and_duplicate_client_id() -> None:
    rig = accepted_rig()
    rig.venue.cancel(CancelRequest("IBM", "CLIENT1", "C-5", orig_cl_ord_id="NOPE"))
    assert (rig.events[-1].reason, rig.events[-1].text) == (CancelRejectReason.UNKNOWN_ORDER, "unknown order")
    rig.venue.submit(ORDER)
    assert (rig.events[-1].reason, rig.events[-1].cl_ord_id) == (RejectReason.DUPLICATE_ORDER, "C-1")
