"""Replaces are vetted on what they add; cancels always pass."""

from __future__ import annotations

from decimal import Decimal

from brokers.domain.limits import LimitScope
from brokers.oms.context import FeeSchedule
from brokers.oms.reservations import Reservation
from brokers.oms.results import CxlRejReason, OrdRejReason
from venues.base import CancelRequest, OrdType, Side

D = Decimal
FEES = FeeSchedule(bps=D(5), minimum=D("1.00"))


def test_unknown_order(desk):
    order = desk.live()
    result = desk.vet_replace(None, desk.replace_request(order, 100))
    assert (result.reason, result.cxl_rej_reason) == (OrdRejReason.UNKNOWN_ORDER, CxlRejReason.UNKNOWN_ORDER)
    assert result.text == "replace eligibility: unknown order 'C0'"


def test_done_order_is_too_late(desk):
    order = desk.live(qty=100, cum=100)
    result = desk.vet_replace(order, desk.replace_request(order, 200))
    assert result.cxl_rej_reason is CxlRejReason.TOO_LATE_TO_CANCEL
    assert result.text == "replace eligibility: order O1 is FILLED"


def test_pending_order_is_already_pending(desk):
    order = desk.live()
    order.on_cancel_requested("X1")
    result = desk.vet_replace(order, desk.replace_request(order, 200))
    assert result.cxl_rej_reason is CxlRejReason.ALREADY_PENDING
    assert result.text == "replace eligibility: order O1 is PENDING_CANCEL"


def test_side_and_symbol_cannot_change(desk):
    order = desk.live()
    result = desk.vet_replace(order, desk.replace_request(order, 100, side=Side.SELL))
    assert result.reason is OrdRejReason.UNSUPPORTED_ORDER_CHARACTERISTIC
    assert result.cxl_rej_reason is CxlRejReason.OTHER
    assert result.text == "replace eligibility: symbol and side cannot be changed"


def test_qty_increase_checks_max_quantity_on_the_new_total(desk):
    order = desk.live(qty=800, price="10.00")
    desk.limit(max_order_qty=D(1000))
    assert desk.vet_replace(order, desk.replace_request(order, 1000)).accepted
    result = desk.vet_replace(order, desk.replace_request(order, 1500, cl_ord_id="R2"))
    assert (result.reason, result.text) == (OrdRejReason.ORDER_EXCEEDS_LIMIT, "max order quantity: 1500 > limit 1000")
    assert result.cxl_rej_reason is CxlRejReason.BROKER_OPTION


def test_qty_decrease_passes_even_when_limits_tightened_and_kill_switch_engaged(desk):
    order = desk.live(qty=800, price="10.00")
    desk.limit(max_order_qty=D(100), max_order_notional=D(10))
    desk.book.engage_kill_switch(LimitScope.ACCOUNT, "ACC1", who="risk", at_ns=desk.now)
    desk.with_account(active=False)
    assert desk.vet_replace(order, desk.replace_request(order, 700)).accepted
    result = desk.vet_replace(order, desk.replace_request(order, 900, cl_ord_id="R2"))
    assert result.text == "account active: account ACC1 is inactive"
    desk.with_account(active=True)
    result = desk.vet_replace(order, desk.replace_request(order, 900, cl_ord_id="R3"))
    assert result.text == "kill switch: engaged for account ACC1"


def test_quantity_below_filled_is_incorrect(desk):
    order = desk.live(qty=100, cum=40)
    result = desk.vet_replace(order, desk.replace_request(order, 30))
    assert (result.reason, result.text) == (OrdRejReason.INCORRECT_QUANTITY, "quantity: 30 below filled quantity 40")


def test_price_change_rechecks_collar_and_tick(desk):
    order = desk.live(price="100.00")
    desk.limit(collar_pct=D(5))
    result = desk.vet_replace(order, desk.replace_request(order, 100, "106.00"))
    assert (result.reason, result.text) == (
        OrdRejReason.PRICE_EXCEEDS_CURRENT_PRICE_BAND, "price collar: buy 106.00 > 105.00 (reference 100.00 + 5%)")
    assert result.cxl_rej_reason is CxlRejReason.PRICE_EXCEEDS_CURRENT_PRICE_BAND
    result = desk.vet_replace(order, desk.replace_request(order, 100, "100.001", cl_ord_id="R2"))
    assert result.reason is OrdRejReason.INVALID_PRICE_INCREMENT
    assert result.cxl_rej_reason is CxlRejReason.INVALID_PRICE_INCREMENT


def test_unchanged_price_is_not_recollared(desk):
    order = desk.live(price="100.00", qty=100)
    desk.limit(collar_pct=D(5))
    desk.with_instrument(last_trade_px=D("90.00"))  # the market moved away: 100.00 is now outside the collar
    assert desk.vet_replace(order, desk.replace_request(order, 90)).accepted


def test_notional_checked_when_it_grows(desk):
    order = desk.live(qty=400, price="100.00")
    desk.limit(max_order_notional=D(50000))
    assert desk.vet_replace(order, desk.replace_request(order, 500)).accepted
    result = desk.vet_replace(order, desk.replace_request(order, 400, "130.00", cl_ord_id="R2"))
    assert result.text == "max order notional: 52000.00 > limit 50000 (400 @ 130.00)"


def test_buying_power_on_the_delta(desk):
    order = desk.live(qty=100, price="100.00")
    held = Reservation.for_buy(D(100), D("100.00"), FEES)
    assert held.amount == D("10005.00")
    desk.with_account(cash_available=D("10010.00"), reserved=held.amount)  # 5.00 of buying power left
    result = desk.vet_replace(order, desk.replace_request(order, 100, "100.04"), reservation=held)
    assert result.accepted
    assert result.reservation.amount == D("10009.01")  # 10004.00 + fee 5.002 rounded up to 5.01
    assert result.reservation_delta == D("4.01")
    result = desk.vet_replace(order, desk.replace_request(order, 100, "100.05", cl_ord_id="R2"), reservation=held)
    assert (result.reason, result.text) == (
        OrdRejReason.ORDER_EXCEEDS_LIMIT, "buying power: 5.01 required > 5.00 available")
    assert result.reservation is None and result.reservation_delta == 0


def test_lower_price_releases_buying_power(desk):
    order = desk.live(qty=100, price="100.00")
    held = Reservation.for_buy(D(100), D("100.00"), FEES)
    desk.with_account(cash_available=held.amount, reserved=held.amount)  # nothing left
    result = desk.vet_replace(order, desk.replace_request(order, 100, "99.00"), reservation=held)
    assert result.accepted
    assert result.reservation.amount == D("9904.95")
    assert result.reservation_delta == D("-100.05")


def test_partially_filled_buy_reserves_only_the_new_leaves(desk):
    order = desk.live(qty=100, price="100.00", cum=40)
    held = Reservation.for_buy(D(100), D("100.00"), FEES).on_fill(D(40), D("100.00"), D("2.00")).remaining
    assert held.amount == D("6003.00")
    result = desk.vet_replace(order, desk.replace_request(order, 120), reservation=held)
    assert result.accepted
    assert result.reservation.qty == D(80)
    assert result.reservation.amount == D("8004.00")
    assert result.reservation_delta == D("2001.00")


def test_sell_replace_checks_holdings_on_the_increase(desk):
    order = desk.live(side=Side.SELL, qty=100, price="100.00")
    desk.with_account(open_sell_qty={"XYZ": D(100)})  # this order's leaves
    result = desk.vet_replace(order, desk.replace_request(order, 500))
    assert result.accepted and result.reservation is None and result.reservation_delta == 0
    result = desk.vet_replace(order, desk.replace_request(order, 501, cl_ord_id="R2"))
    assert result.text == "holdings: sell 401 > available 400 (held 500, open sells 100)"


def test_replace_cl_ord_id_must_be_new(desk):
    assert desk.new(cl_ord_id="R1").accepted
    order = desk.live()
    result = desk.vet_replace(order, desk.replace_request(order, 90, cl_ord_id="R1"))
    assert result.reason is OrdRejReason.DUPLICATE_ORDER
    assert result.cxl_rej_reason is CxlRejReason.DUPLICATE_CL_ORD_ID


def test_replace_is_not_a_duplicate_order(desk):
    desk.limit(duplicate_window_seconds=D(10))
    assert desk.new(qty=100, price="100.00").accepted
    order = desk.live(qty=50, price="100.00")
    assert desk.vet_replace(order, desk.replace_request(order, 100)).accepted


def test_market_order_replace_keeps_its_band_reservation(desk):
    desk.limit(market_protection_pct=D(1))
    order = desk.live(qty=100, price=None, ord_type=OrdType.MARKET)
    result = desk.vet_replace(order, desk.replace_request(order, 200))
    assert result.accepted
    assert result.reservation.price == D("101.00")


def test_cancels_always_pass(desk):
    desk.book.engage_kill_switch(LimitScope.FIRM, "", who="risk", at_ns=desk.now)
    desk.limit(max_order_qty=D(1))
    for n in range(5):
        cancel = CancelRequest("NOPE", "S9", f"X{n}", orig_cl_ord_id="unknown")
        result = desk.vetter.vet_cancel(cancel, account="NOBODY", now_ns=desk.now, trading_day=desk.day)
        assert result.accepted and result.reservation is None and result.reservation_delta == 0
