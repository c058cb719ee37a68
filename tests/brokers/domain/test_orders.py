"""ClientOrder lifecycle: the transition table, exact quantities, the ClOrdID chain, FIX chars."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokers.domain.orders import (
    TRANSITIONS,
    ClientOrder,
    ClientOrderStatus,
    IllegalTransition,
    InvalidExecution,
    OrderEvent,
)
from venues.base import OrdType, Side

D = Decimal
S = ClientOrderStatus


def new_order(qty: str = "300", price: str | None = "10.00") -> ClientOrder:
    return ClientOrder("O1", "C1", "S1", "ACC1", "XYZ", Side.BUY, OrdType.LIMIT, D(qty),
                       None if price is None else D(price))


def test_new_order_is_pending_new_with_its_first_cl_ord_id():
    order = new_order()
    assert order.status is S.PENDING_NEW
    assert (order.cl_ord_id, order.cl_ord_id_chain, order.orig_cl_ord_id) == ("C1", ("C1",), None)
    assert (order.cum_qty, order.leaves_qty, order.avg_px) == (0, D(300), 0)


def test_ack_then_fills_keep_quantities_and_average_exact():
    order = new_order()
    t = order.on_ack()
    assert (t.old_status, t.new_status, t.exec_type, t.ord_status) == (S.PENDING_NEW, S.NEW, "0", "0")
    t = order.on_fill(D(100), D("10.01"))
    assert (t.new_status, t.exec_type, t.ord_status) == (S.PARTIALLY_FILLED, "F", "1")
    assert (order.cum_qty, order.leaves_qty, order.avg_px) == (D(100), D(200), D("10.01"))
    order.on_fill(D(100), D("10.02"))
    assert order.avg_px == D("10.015")
    t = order.on_fill(D(100), D("10.03"))
    assert (t.new_status, t.ord_status) == (S.FILLED, "2")
    assert (order.cum_qty, order.leaves_qty, order.gross_notional) == (D(300), 0, D("3006.00"))
    assert order.avg_px == D("10.02")
    assert (order.last_qty, order.last_px) == (D(100), D("10.03"))


def test_average_keeps_the_exact_gross():
    order = new_order("3")
    order.on_ack()
    for px in ("10.00", "10.00", "10.01"):
        order.on_fill(D(1), D(px))
    assert order.gross_notional == D("30.01")
    assert order.avg_px == D("30.01") / 3


def test_overfill_and_bad_numbers_are_refused():
    order = new_order("100")
    order.on_ack()
    with pytest.raises(InvalidExecution):
        order.on_fill(D(101), D("10.00"))
    with pytest.raises(InvalidExecution):
        order.on_fill(D(0), D("10.00"))
    with pytest.raises(InvalidExecution):
        order.on_fill(D(1), D(0))
    assert order.status is S.NEW and order.cum_qty == 0
    with pytest.raises(InvalidExecution):
        new_order("0")


@pytest.mark.parametrize(
    "call",
    [lambda o: o.on_fill(D(1), D(1)), lambda o: o.on_cancelled(), lambda o: o.on_replaced(D(1), None),
     lambda o: o.on_cancel_requested("X"), lambda o: o.on_done_for_day(), lambda o: o.on_expired()],
)
def test_illegal_in_pending_new(call):
    order = new_order()
    with pytest.raises(IllegalTransition) as info:
        call(order)
    assert info.value.status is S.PENDING_NEW
    assert order.status is S.PENDING_NEW


def test_terminal_states_refuse_everything():
    order = new_order()
    order.on_rejected()
    assert order.status is S.REJECTED and order.status.is_terminal and order.leaves_qty == 0
    for call in (order.on_ack, order.on_cancelled, order.on_expired, lambda: order.on_fill(D(1), D(1))):
        with pytest.raises(IllegalTransition):
            call()


def test_ack_twice_is_illegal():
    order = new_order()
    order.on_ack()
    with pytest.raises(IllegalTransition, match="ACK is illegal in status NEW"):
        order.on_ack()


def test_cancel_flow_with_fill_while_pending():
    order = new_order()
    order.on_ack()
    order.on_fill(D(100), D("10.00"))
    t = order.on_cancel_requested("C2")
    assert (t.new_status, t.exec_type, t.ord_status) == (S.PENDING_CANCEL, "6", "6")
    assert order.cl_ord_id == "C1" and order.pending_cl_ord_id == "C2"
    t = order.on_fill(D(50), D("10.00"))
    assert t.new_status is S.PENDING_CANCEL and order.leaves_qty == D(150)
    t = order.on_cancelled()
    assert (t.new_status, t.exec_type, t.ord_status) == (S.CANCELED, "4", "4")
    assert (order.cl_ord_id, order.orig_cl_ord_id, order.cl_ord_id_chain) == ("C2", "C1", ("C1", "C2"))
    assert (order.cum_qty, order.leaves_qty) == (D(150), 0)


def test_cancel_rejected_goes_back_to_working():
    order = new_order()
    order.on_ack()
    order.on_fill(D(100), D("10.00"))
    order.on_cancel_requested("C2")
    t = order.on_cancel_rejected()
    assert (t.new_status, t.exec_type) == (S.PARTIALLY_FILLED, "")
    assert order.cl_ord_id == "C1" and order.pending_cl_ord_id is None


def test_unsolicited_cancel_keeps_the_cl_ord_id():
    order = new_order()
    order.on_ack()
    order.on_cancelled()
    assert order.cl_ord_id_chain == ("C1",) and order.status is S.CANCELED


def test_replace_flow():
    order = new_order()
    order.on_ack()
    order.on_fill(D(100), D("10.00"))
    t = order.on_replace_requested("C2", D(500), D("10.50"))
    assert (t.new_status, t.ord_status) == (S.PENDING_REPLACE, "E")
    assert (order.qty, order.price) == (D(300), D("10.00"))  # unchanged until the venue answers
    t = order.on_replaced(D(500), D("10.50"))
    assert (t.new_status, t.exec_type, t.ord_status) == (S.PARTIALLY_FILLED, "5", "1")
    assert (order.qty, order.price, order.leaves_qty) == (D(500), D("10.50"), D(400))
    assert (order.cl_ord_id, order.orig_cl_ord_id, order.original_cl_ord_id) == ("C2", "C1", "C1")
    order.on_replace_requested("C3", D(200), None)
    order.on_replaced(D(200), None)
    assert order.cl_ord_id_chain == ("C1", "C2", "C3") and order.orig_cl_ord_id == "C2"


def test_replace_down_to_the_filled_quantity_fills_the_order():
    order = new_order()
    order.on_ack()
    order.on_fill(D(100), D("10.00"))
    order.on_replace_requested("C2", D(100), D("10.00"))
    assert order.on_replaced(D(100), D("10.00")).new_status is S.FILLED
    assert order.leaves_qty == 0


def test_replace_below_filled_is_refused():
    order = new_order()
    order.on_ack()
    order.on_fill(D(100), D("10.00"))
    with pytest.raises(InvalidExecution):
        order.on_replace_requested("C2", D(99), None)


def test_fill_completing_while_replace_pending_then_replace_rejected():
    order = new_order("100")
    order.on_ack()
    order.on_replace_requested("C2", D(200), None)
    assert order.on_fill(D(100), D("10.00")).new_status is S.FILLED
    t = order.on_replace_rejected()
    assert t.new_status is S.FILLED and order.cl_ord_id == "C1"
    with pytest.raises(IllegalTransition):
        order.on_replaced(D(200), None)


def test_expire_and_done_for_day():
    order = new_order()
    order.on_ack()
    order.on_fill(D(100), D("10.00"))
    t = order.on_done_for_day()
    assert (t.new_status, t.exec_type, t.ord_status) == (S.DONE_FOR_DAY, "3", "3")
    assert order.leaves_qty == 0
    assert order.on_restated().new_status is S.PARTIALLY_FILLED
    assert order.leaves_qty == D(200)
    t = order.on_expired()
    assert (t.new_status, t.exec_type, t.ord_status) == (S.EXPIRED, "C", "C")
    assert order.leaves_qty == 0


@pytest.mark.parametrize(
    ("status", "ord_status", "exec_type"),
    [(S.PENDING_NEW, "A", "A"), (S.NEW, "0", "0"), (S.PARTIALLY_FILLED, "1", "F"), (S.FILLED, "2", "F"),
     (S.PENDING_CANCEL, "6", "6"), (S.PENDING_REPLACE, "E", "E"), (S.CANCELED, "4", "4"),
     (S.REJECTED, "8", "8"), (S.EXPIRED, "C", "C"), (S.DONE_FOR_DAY, "3", "3")],
)
def test_fix_chars_per_status(status, ord_status, exec_type):
    assert (status.ord_status, status.exec_type) == (ord_status, exec_type)


def test_transition_table_shape():
    for status in (S.CANCELED, S.REJECTED, S.EXPIRED):
        assert not [key for key in TRANSITIONS if key[0] is status]
    assert {event for (status, event) in TRANSITIONS if status is S.FILLED} == {
        OrderEvent.CANCEL_REJECTED, OrderEvent.REPLACE_REJECTED}
    for targets in TRANSITIONS.values():
        assert targets


events = st.sampled_from(["ack", "fill", "cancel_req", "cancel_rej", "cancelled", "replace_req", "replace_rej",
                          "replaced", "rejected", "expired", "dfd", "restated"])


@given(st.lists(st.tuples(events, st.integers(1, 150)), max_size=25))
def test_random_event_sequences_keep_quantities_consistent(steps):
    order = new_order("300")
    for event, n in steps:
        before = order.status
        try:
            if event == "ack":
                order.on_ack()
            elif event == "fill":
                order.on_fill(D(n), D("10.00"))
            elif event == "cancel_req":
                order.on_cancel_requested(f"X{n}")
            elif event == "cancel_rej":
                order.on_cancel_rejected()
            elif event == "cancelled":
                order.on_cancelled()
            elif event == "replace_req":
                order.on_replace_requested(f"R{n}", order.cum_qty + D(n), D("10.00"))
            elif event == "replace_rej":
                order.on_replace_rejected()
            elif event == "replaced":
                order.on_replaced(order.pending_qty or order.qty, D("10.00"))
            elif event == "rejected":
                order.on_rejected()
            elif event == "expired":
                order.on_expired()
            elif event == "dfd":
                order.on_done_for_day()
            else:
                order.on_restated()
        except (IllegalTransition, InvalidExecution):
            assert order.status is before
        assert 0 <= order.cum_qty <= order.qty
        assert order.status is not S.FILLED or order.cum_qty == order.qty
        if order.status.is_working or order.status is S.PENDING_NEW:
            assert order.cum_qty + order.leaves_qty == order.qty
        assert order.gross_notional == order.cum_qty * D("10.00")
        assert len(set(order.cl_ord_id_chain)) <= len(order.cl_ord_id_chain)
