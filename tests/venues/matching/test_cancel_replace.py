"""Cancel, cancel/replace (the Eurex priority rule) and mass cancel."""

from __future__ import annotations

from matching_harness import Harness, fills, instrument, kinds, of

from venues.base import CancelReason, CancelRejectReason, CancelRejectResponseTo, OrdType, Side, TimeInForce
from venues.internal.matching import MassCancel, ReplaceOrder
from venues.internal.matching import events as ev


def test_cancel_by_client_id_reports_both_client_ids(h: Harness) -> None:
    h.buy(10, 100, cl="a")
    out = h.cancel("a")
    assert out == [ev.Cancelled(2, "X", 1, "S1", "x1", "a", 2, Side.BUY, 0, 10, CancelReason.CLIENT_REQUEST)]
    assert h.engine.book("X").best_bid() is None


def test_cancel_of_unknown_or_foreign_order_is_refused(h: Harness) -> None:
    h.buy(10, 100, cl="a", owner="S2")
    out = h.cancel("a", owner="S1")
    assert kinds(out) == ["CancelRejected"]
    assert (
        out[0].reason is CancelRejectReason.UNKNOWN_ORDER
        and out[0].response_to is CancelRejectResponseTo.CANCEL
    )
    assert "a" in h.live()


def test_replace_decreasing_quantity_keeps_priority(h: Harness) -> None:
    h.buy(10, 100, cl="a")
    h.buy(10, 100, cl="b")
    out = h.replace("a", "a2", 6)
    assert kinds(out) == ["Replaced"] and out[0].priority_kept and out[0].leaves_qty == 6
    assert h.queue(100) == ["a2", "b"]
    assert h.engine.book("X").bids[100].qty == 16


def test_replace_increasing_quantity_loses_priority(h: Harness) -> None:
    h.buy(10, 100, cl="a")
    h.buy(10, 100, cl="b")
    out = h.replace("a", "a2", 11)
    assert not out[0].priority_kept
    assert h.queue(100) == ["b", "a2"]


def test_replace_changing_price_loses_priority_even_when_moving_back(h: Harness) -> None:
    h.buy(10, 100, cl="a")
    h.buy(10, 100, cl="b")
    h.replace("a", "a2", 10, 99)
    h.replace("a2", "a3", 10, 100)
    assert h.queue(100) == ["b", "a3"] and h.queue(99) == []


def test_replace_to_a_marketable_price_trades(h: Harness) -> None:
    h.sell(4, 101, cl="s")
    h.buy(10, 100, cl="b")
    out = h.replace("b", "b2", 10, 101)
    assert kinds(out) == ["Replaced", "Fill", "Fill"]
    assert fills(out)[1] == ("b2", 4, 101, "REMOVED") and h.live()["b2"].leaves == 6


def test_replace_at_or_below_executed_quantity_cancels_the_rest(h: Harness) -> None:
    h.sell(4, 100)
    h.buy(10, 100, cl="b")
    out = h.replace("b", "b2", 4)
    assert kinds(out) == ["Cancelled"]
    assert out[0].reason is CancelReason.REPLACED_BELOW_EXECUTED and out[0].cancelled_qty == 6
    assert out[0].cl_ord_id == "b2" and out[0].orig_cl_ord_id == "b"


def test_replace_of_a_partially_filled_order_counts_quantity_as_total(h: Harness) -> None:
    h.sell(4, 100)
    h.buy(10, 100, cl="b")
    out = h.replace("b", "b2", 8)
    assert out[0].priority_kept and out[0].leaves_qty == 4 and out[0].cum_qty == 4


def test_replace_cannot_change_side(h: Harness) -> None:
    h.buy(10, 100, cl="a")
    out = h.replace("a", "a2", 10, 100, side=Side.SELL)
    assert out[0].reason is CancelRejectReason.INVALID_CHANGE and out[0].text == "side cannot change"


def test_replace_cannot_change_symbol() -> None:
    h = Harness([instrument("X"), instrument("Y")])
    h.buy(10, 100, cl="a", symbol="X")
    oid = h.oid("a")
    out = h.do(ReplaceOrder("Y", "S1", "a2", Side.BUY, 10, 100, order_id=oid))
    assert out[0].reason is CancelRejectReason.INVALID_CHANGE and out[0].text == "symbol cannot change"


def test_replace_with_duplicate_client_id_is_refused(h: Harness) -> None:
    h.buy(10, 100, cl="a")
    h.buy(10, 100, cl="b")
    assert h.replace("a", "b", 5)[0].reason is CancelRejectReason.DUPLICATE_CL_ORD_ID


def test_replace_of_post_only_into_the_spread_that_would_take_cancels_it(h: Harness) -> None:
    h.sell(5, 101)
    h.buy(5, 100, post_only=True, cl="p")
    out = h.replace("p", "p2", 5, 101)
    assert kinds(out) == ["Replaced", "Cancelled"] and out[1].reason is CancelReason.POST_ONLY_WOULD_TAKE


def test_replace_of_a_waiting_stop_moves_its_trigger(h: Harness) -> None:
    h.buy(1, ord_type=OrdType.STOP, stop_px=105, cl="st")
    h.replace("st", "st2", 1, stop_px=103)
    h.sell(2, 103)
    out = h.buy(1, 103, owner="S2")
    assert [e.cl_ord_id for e in of(out, ev.Triggered)] == ["st2"]


def test_mass_cancel_by_owner_account_and_instrument() -> None:
    h = Harness([instrument("X"), instrument("Y")])
    h.buy(1, 100, cl="1", owner="S1", account="A")
    h.buy(1, 100, cl="2", owner="S1", account="B")
    h.buy(1, 100, cl="3", owner="S2", account="A")
    h.buy(1, 100, cl="4", owner="S1", account="A", symbol="Y")
    out = h.do(MassCancel("ops", "m1", account="A", symbol="X"))
    assert [e.cl_ord_id for e in of(out, ev.Cancelled)] == ["1", "3"]
    assert out[-1] == ev.MassCancelled(5, "ops", "m1", "X", 2, CancelReason.MASS_CANCEL)
    out = h.do(MassCancel("venue", "cod", owner="S1", reason=CancelReason.CANCEL_ON_DISCONNECT))
    assert [(e.symbol, e.cl_ord_id) for e in of(out, ev.Cancelled)] == [("X", "2"), ("Y", "4")]
    assert all(e.reason.exec_restatement_reason == 12 for e in of(out, ev.Cancelled))
    out = h.do(MassCancel("ops", "m3", symbol="NOPE"))
    assert out == [ev.MassCancelled(7, "ops", "m3", "NOPE", 0, CancelReason.MASS_CANCEL, "unknown symbol")]


def test_kill_switch_cancels_stops_and_parked_orders_too(h: Harness) -> None:
    h.buy(1, ord_type=OrdType.STOP, stop_px=105, account="K")
    h.buy(1, 100, tif=TimeInForce.ATC, account="K")
    h.buy(1, 100, account="K")
    out = h.do(MassCancel("risk", "k1", account="K", reason=CancelReason.KILL_SWITCH))
    assert len(of(out, ev.Cancelled)) == 3 and not h.live()
