"""Scenario tests per pre-trade rule: accept and reject, with the exact OrdRejReason and Text."""

from __future__ import annotations

from decimal import Decimal

import pytest

from brokers.domain.limits import LimitScope, Throttle, ThrottleAction
from brokers.oms.context import InstrumentStatus
from brokers.oms.results import OrdRejReason
from venues.base import CancelRequest, OrdType, Side, TimeInForce

D = Decimal
SECOND = 1_000_000_000


def assert_rejected(result, reason: OrdRejReason, text: str) -> None:
    assert not result.accepted
    assert (result.reason, result.text) == (reason, text)
    assert result.reservation is None
    assert result.reservation_delta == 0


def test_a_plain_buy_is_accepted_with_its_reservation(desk):
    result = desk.new(qty=100, price="100.00")
    assert result.accepted and result.reason is None and result.text == ""
    assert result.reservation.amount == D("10005.00")  # 10000.00 + 5 bps
    assert result.reservation_delta == D("10005.00")


def test_a_sell_is_accepted_without_reservation(desk):
    result = desk.new(side=Side.SELL, qty=100, price="100.00")
    assert result.accepted and result.reservation is None and result.reservation_delta == 0


# ---- account, instrument, lists --------------------------------------------------------------------


def test_unknown_account(desk):
    assert_rejected(desk.vet(desk.order(), known=False), OrdRejReason.UNKNOWN_ACCOUNT,
                    "account active: unknown account 'ACC1'")


def test_inactive_account(desk):
    desk.with_account(active=False)
    assert_rejected(desk.new(), OrdRejReason.BROKER_OPTION, "account active: account ACC1 is inactive")


def test_unknown_symbol(desk):
    result = desk.vetter.vet_new(desk.order(symbol="NOPE"), account=desk.account, instrument=None,
                                 now_ns=desk.now, trading_day=desk.day)
    assert_rejected(result, OrdRejReason.UNKNOWN_SYMBOL, "instrument tradable: unknown symbol 'NOPE'")


@pytest.mark.parametrize(
    ("status", "reason", "text"),
    [
        (InstrumentStatus.HALTED, OrdRejReason.EXCHANGE_CLOSED, "instrument tradable: XYZ is halted"),
        (InstrumentStatus.CLOSED, OrdRejReason.EXCHANGE_CLOSED, "instrument tradable: XYZ is closed"),
        (InstrumentStatus.NOT_TRADABLE, OrdRejReason.BROKER_OPTION, "instrument tradable: XYZ is not tradable"),
    ],
)
def test_instrument_not_open(desk, status, reason, text):
    desk.with_instrument(status=status)
    assert_rejected(desk.new(), reason, text)


def test_restricted_list(desk):
    desk.firm(restricted_symbols=frozenset({"XYZ"}))
    assert_rejected(desk.new(), OrdRejReason.BROKER_OPTION, "restricted list: XYZ is restricted")
    desk.book.clear(LimitScope.FIRM, "", who="risk", at_ns=desk.now)
    assert desk.new().accepted


def test_order_type_allowed(desk):
    desk.limit(allowed_ord_types=frozenset({OrdType.LIMIT, OrdType.STOP_LIMIT}))
    assert desk.new().accepted
    assert_rejected(desk.new(price=None, ord_type=OrdType.MARKET), OrdRejReason.UNSUPPORTED_ORDER_CHARACTERISTIC,
                    "order type allowed: MARKET not allowed (allowed: LIMIT, STOP_LIMIT)")


def test_time_in_force_allowed(desk):
    desk.limit(LimitScope.SESSION, "S1", allowed_tifs=frozenset({TimeInForce.DAY}))
    assert desk.new(tif=TimeInForce.DAY).accepted
    assert_rejected(desk.new(tif=TimeInForce.IOC), OrdRejReason.UNSUPPORTED_ORDER_CHARACTERISTIC,
                    "time in force allowed: IOC not allowed (allowed: DAY)")


# ---- static sanity ---------------------------------------------------------------------------------


def test_quantity_must_be_positive(desk):
    assert_rejected(desk.new(qty=0), OrdRejReason.INCORRECT_QUANTITY, "quantity: 0 must be positive")


def test_quantity_lot_multiple(desk):
    desk.with_instrument(lot_size=D(100))
    assert desk.new(qty=200).accepted
    assert_rejected(desk.new(qty=150), OrdRejReason.INCORRECT_QUANTITY,
                    "quantity: 150 not a multiple of lot size 100")


@pytest.mark.parametrize(
    ("kwargs", "reason", "text"),
    [
        ({"price": None}, OrdRejReason.UNSUPPORTED_ORDER_CHARACTERISTIC, "price type: LIMIT order needs a price"),
        ({"ord_type": OrdType.MARKET}, OrdRejReason.UNSUPPORTED_ORDER_CHARACTERISTIC,
         "price type: MARKET order must not carry a price"),
        ({"ord_type": OrdType.STOP, "price": None}, OrdRejReason.UNSUPPORTED_ORDER_CHARACTERISTIC,
         "price type: STOP order needs a stop price"),
        ({"ord_type": OrdType.STOP_LIMIT}, OrdRejReason.UNSUPPORTED_ORDER_CHARACTERISTIC,
         "price type: STOP_LIMIT order needs a stop price"),
        ({"stop_px": D("99.00")}, OrdRejReason.UNSUPPORTED_ORDER_CHARACTERISTIC,
         "price type: LIMIT order must not carry a stop price"),
        ({"price": "-1.00"}, OrdRejReason.OTHER, "price type: price -1.00 must be positive"),
        ({"price": "0"}, OrdRejReason.OTHER, "price type: price 0 must be positive"),
    ],
)
def test_price_type(desk, kwargs, reason, text):
    assert_rejected(desk.new(**kwargs), reason, text)


def test_stop_orders_with_the_right_prices_pass(desk):
    assert desk.new(ord_type=OrdType.STOP, price=None, stop_px=D("101.00")).accepted
    assert desk.new(ord_type=OrdType.STOP_LIMIT, price="101.50", stop_px=D("101.00")).accepted


def test_tick_size(desk):
    assert_rejected(desk.new(price="100.005"), OrdRejReason.INVALID_PRICE_INCREMENT,
                    "tick size: price 100.005 not a multiple of tick size 0.01")
    assert_rejected(desk.new(ord_type=OrdType.STOP, price=None, stop_px=D("101.001")),
                    OrdRejReason.INVALID_PRICE_INCREMENT,
                    "tick size: stop price 101.001 not a multiple of tick size 0.01")
    desk.with_instrument(tick_size=D("0.05"))
    assert desk.new(price="100.05").accepted
    assert_rejected(desk.new(price="100.01"), OrdRejReason.INVALID_PRICE_INCREMENT,
                    "tick size: price 100.01 not a multiple of tick size 0.05")


def test_expire_time(desk):
    assert_rejected(desk.new(tif=TimeInForce.GTD), OrdRejReason.UNSUPPORTED_ORDER_CHARACTERISTIC,
                    "expire time: GTD order needs an expire time")
    assert_rejected(desk.new(tif=TimeInForce.GTD, expire_time=desk.now), OrdRejReason.UNSUPPORTED_ORDER_CHARACTERISTIC,
                    f"expire time: expire time {desk.now} is not after now {desk.now}")
    assert desk.new(tif=TimeInForce.GTD, expire_time=desk.now + 1).accepted


# ---- size and price limits -------------------------------------------------------------------------


def test_max_order_quantity(desk):
    desk.limit(max_order_qty=D(1000))
    assert desk.new(qty=1000, price="10.00").accepted
    assert_rejected(desk.new(qty=1500, price="10.00"), OrdRejReason.ORDER_EXCEEDS_LIMIT,
                    "max order quantity: 1500 > limit 1000")


def test_max_order_quantity_tightest_scope_wins(desk):
    desk.firm(max_order_qty=D(1000))
    desk.limit(LimitScope.INSTRUMENT, "XYZ", max_order_qty=D(300))
    desk.limit(max_order_qty=D(5000))
    assert_rejected(desk.new(qty=301, price="10.00"), OrdRejReason.ORDER_EXCEEDS_LIMIT,
                    "max order quantity: 301 > limit 300")


def test_max_order_notional_limit_order(desk):
    desk.limit(max_order_notional=D(50000))
    assert desk.new(qty=500, price="100.00").accepted
    assert_rejected(desk.new(qty=600, price="100.00"), OrdRejReason.ORDER_EXCEEDS_LIMIT,
                    "max order notional: 60000.00 > limit 50000 (600 @ 100.00)")


def test_max_order_notional_market_order_uses_reference_price(desk):
    desk.limit(max_order_notional=D(50000))
    assert_rejected(desk.new(qty=600, price=None, ord_type=OrdType.MARKET), OrdRejReason.ORDER_EXCEEDS_LIMIT,
                    "max order notional: 60000.00 > limit 50000 (600 @ 100.00)")
    desk.with_instrument(last_trade_px=None)  # falls back to the close, 99.00
    assert_rejected(desk.new(qty=600, price=None, ord_type=OrdType.MARKET), OrdRejReason.ORDER_EXCEEDS_LIMIT,
                    "max order notional: 59400.00 > limit 50000 (600 @ 99.00)")


def test_absolute_price_bounds(desk):
    desk.limit(LimitScope.INSTRUMENT, "XYZ", min_price=D(50), max_price=D(150))
    assert desk.new(price="50.00").accepted
    assert desk.new(price="150.00").accepted
    assert_rejected(desk.new(price="40.00"), OrdRejReason.PRICE_EXCEEDS_CURRENT_PRICE_BAND,
                    "price bounds: price 40.00 < min 50")
    assert_rejected(desk.new(price="160.00"), OrdRejReason.PRICE_EXCEEDS_CURRENT_PRICE_BAND,
                    "price bounds: price 160.00 > max 150")
    assert_rejected(desk.new(ord_type=OrdType.STOP, price=None, stop_px=D("151.00")),
                    OrdRejReason.PRICE_EXCEEDS_CURRENT_PRICE_BAND, "price bounds: stop price 151.00 > max 150")


def test_price_collar_is_side_aware(desk):
    desk.limit(collar_pct=D(5))
    assert desk.new(price="105.00").accepted
    assert_rejected(desk.new(price="105.01"), OrdRejReason.PRICE_EXCEEDS_CURRENT_PRICE_BAND,
                    "price collar: buy 105.01 > 105.00 (reference 100.00 + 5%)")
    assert desk.new(price="50.00").accepted  # a low buy is not collared
    assert desk.new(side=Side.SELL, price="95.00").accepted
    assert desk.new(side=Side.SELL, price="200.00").accepted  # a high sell is not collared
    assert_rejected(desk.new(side=Side.SELL, price="94.99"), OrdRejReason.PRICE_EXCEEDS_CURRENT_PRICE_BAND,
                    "price collar: sell 94.99 < 95.00 (reference 100.00 - 5%)")


def test_price_collar_reference_is_last_trade_else_close_else_none(desk):
    desk.limit(collar_pct=D("2.5"))
    desk.with_instrument(last_trade_px=None)
    assert_rejected(desk.new(price="101.50"), OrdRejReason.PRICE_EXCEEDS_CURRENT_PRICE_BAND,
                    "price collar: buy 101.50 > 101.475 (reference 99.00 + 2.5%)")
    desk.with_instrument(close_px=None)
    assert desk.new(price="500.00").accepted  # nothing to collar against


def test_market_order_protection(desk):
    desk.limit(market_protection_pct=D(2))
    result = desk.new(price=None, ord_type=OrdType.MARKET)
    assert result.accepted
    assert result.reservation.price == D("102.00")
    assert result.reservation.amount == D("10205.10")  # 10200.00 + 5.10
    desk.with_instrument(last_trade_px=None, close_px=None)
    assert_rejected(desk.new(price=None, ord_type=OrdType.MARKET), OrdRejReason.BROKER_OPTION,
                    "market order protection: no reference price for XYZ")


# ---- duplicates ------------------------------------------------------------------------------------


def test_duplicate_cl_ord_id_per_session_per_day(desk):
    assert desk.new(cl_ord_id="A").accepted
    assert_rejected(desk.new(cl_ord_id="A"), OrdRejReason.DUPLICATE_ORDER,
                    "duplicate ClOrdID: A already used on session S1 on 2026-11-23")
    assert desk.new(cl_ord_id="A", owner="S2").accepted  # another session
    desk.day = desk.day.replace(day=24)
    assert desk.new(cl_ord_id="A").accepted  # another trading day


def test_rejected_cl_ord_id_cannot_be_reused(desk):
    assert not desk.new(cl_ord_id="A", qty=0).accepted
    assert desk.new(cl_ord_id="A").reason is OrdRejReason.DUPLICATE_ORDER


def test_duplicate_order_within_window(desk):
    desk.limit(duplicate_window_seconds=D(2))
    assert desk.new(qty=100, price="100.00").accepted
    desk.now += 3 * SECOND // 2
    assert_rejected(desk.new(qty=100, price="100.00"), OrdRejReason.DUPLICATE_ORDER,
                    "duplicate order: same account, symbol, side, qty and price 1.5s ago (window 2s)")
    assert desk.new(qty=101, price="100.00").accepted  # differs in qty
    assert desk.new(side=Side.SELL, qty=100, price="100.00").accepted  # differs in side
    desk.now += SECOND // 2  # exactly 2 s after the first: outside the window
    assert desk.new(qty=100, price="100.00").accepted


def test_rejected_orders_do_not_count_as_duplicates(desk):
    desk.limit(duplicate_window_seconds=D(2), max_order_qty=D(100))
    desk.limit(LimitScope.SESSION, "S1", kill_switch=True)
    assert not desk.new().accepted
    desk.limit(LimitScope.SESSION, "S1", kill_switch=None)
    assert desk.new().accepted


# ---- holdings, buying power, positions -------------------------------------------------------------


def test_holdings_for_sells(desk):
    assert desk.new(side=Side.SELL, qty=500).accepted
    assert_rejected(desk.new(side=Side.SELL, qty=600), OrdRejReason.ORDER_EXCEEDS_LIMIT,
                    "holdings: sell 600 > available 500 (held 500, open sells 0)")
    desk.with_account(open_sell_qty={"XYZ": D(200)})
    assert_rejected(desk.new(side=Side.SELL, qty=400), OrdRejReason.ORDER_EXCEEDS_LIMIT,
                    "holdings: sell 400 > available 300 (held 500, open sells 200)")


def test_short_selling_allowed_by_account_unless_limits_forbid(desk):
    desk.with_account(allow_short=True)
    assert desk.new(side=Side.SELL, qty=600).accepted
    assert desk.new(side=Side.SELL_SHORT, qty=600).accepted
    desk.limit(LimitScope.INSTRUMENT, "XYZ", short_selling_allowed=False)
    assert_rejected(desk.new(side=Side.SELL, qty=600), OrdRejReason.ORDER_EXCEEDS_LIMIT,
                    "holdings: sell 600 > available 500 (held 500, open sells 0)")


def test_sell_short_needs_short_selling(desk):
    assert_rejected(desk.new(side=Side.SELL_SHORT, qty=10), OrdRejReason.BROKER_OPTION,
                    "holdings: short selling not allowed for account ACC1")


def test_buying_power(desk):
    desk.with_account(cash_available=D("10000.00"))
    assert_rejected(desk.new(qty=100, price="100.00"), OrdRejReason.ORDER_EXCEEDS_LIMIT,
                    "buying power: 10005.00 required > 10000.00 available")
    desk.with_account(cash_available=D("10100.00"), reserved=D("95.00"))  # exactly enough
    assert desk.new(qty=100, price="100.00").accepted
    desk.with_account(reserved=D("95.01"))
    assert_rejected(desk.new(qty=100, price="100.00"), OrdRejReason.ORDER_EXCEEDS_LIMIT,
                    "buying power: 10005.00 required > 10004.99 available")


def test_buying_power_minimum_fee(desk):
    desk.with_account(cash_available=D("100.50"))
    assert_rejected(desk.new(qty=1, price="100.00"), OrdRejReason.ORDER_EXCEEDS_LIMIT,
                    "buying power: 101.00 required > 100.50 available")


def test_credit_allowed_by_account_unless_limits_forbid(desk):
    desk.with_account(cash_available=D(0), allow_credit=True)
    result = desk.new(qty=100, price="100.00")
    assert result.accepted and result.reservation.amount == D("10005.00")  # still reserved
    desk.limit(credit_allowed=False)
    assert_rejected(desk.new(qty=100, price="100.00"), OrdRejReason.ORDER_EXCEEDS_LIMIT,
                    "buying power: 10005.00 required > 0 available")


def test_position_limit_long(desk):
    desk.limit(LimitScope.INSTRUMENT, "XYZ", max_long_position=D(650))
    desk.with_account(open_buy_qty={"XYZ": D(50)})
    assert desk.new(qty=100).accepted
    assert_rejected(desk.new(qty=101), OrdRejReason.ORDER_EXCEEDS_LIMIT,
                    "position limit: resulting long 651 > limit 650 (held 500, open buys 50, order 101)")


def test_position_limit_short(desk):
    desk.with_account(allow_short=True, open_sell_qty={"XYZ": D(100)})
    desk.limit(max_short_position=D(100))
    assert desk.new(side=Side.SELL, qty=500).accepted  # 100 + 500 - 500 = 100 short at worst
    assert_rejected(desk.new(side=Side.SELL_SHORT, qty=501), OrdRejReason.ORDER_EXCEEDS_LIMIT,
                    "position limit: resulting short 101 > limit 100 (held 500, open sells 100, order 501)")


# ---- kill switch and throttles ---------------------------------------------------------------------


def test_kill_switch_per_account_and_session(desk):
    desk.book.engage_kill_switch(LimitScope.ACCOUNT, "ACC1", who="risk", at_ns=desk.now)
    assert_rejected(desk.new(), OrdRejReason.BROKER_OPTION, "kill switch: engaged for account ACC1")
    desk.book.engage_kill_switch(LimitScope.SESSION, "S1", who="risk", at_ns=desk.now)
    assert_rejected(desk.new(), OrdRejReason.BROKER_OPTION, "kill switch: engaged for account ACC1, session S1")
    desk.book.release_kill_switch(LimitScope.ACCOUNT, "ACC1", who="risk", at_ns=desk.now)
    assert_rejected(desk.new(), OrdRejReason.BROKER_OPTION, "kill switch: engaged for session S1")
    assert desk.new(owner="S2").accepted
    desk.book.release_kill_switch(LimitScope.SESSION, "S1", who="risk", at_ns=desk.now)
    assert desk.new().accepted


def test_session_throttle_sliding_window(desk):
    desk.limit(LimitScope.SESSION, "S1", throttle=Throttle(3))
    t0 = desk.now
    for offset_ms in (0, 100, 200):
        desk.now = t0 + offset_ms * 1_000_000
        assert desk.new().accepted
    desk.now = t0 + 500_000_000
    assert_rejected(desk.new(), OrdRejReason.OTHER, "session throttle: 4 messages in 1s > limit 3")
    desk.now = t0 + 1_000_000_000  # 0 ms left the window; 100, 200 and the rejected 500 remain
    assert not desk.new().accepted
    desk.now = t0 + 1_300_000_000  # only 500 ms and 1000 ms remain
    assert desk.new().accepted
    assert desk.new(owner="S2").accepted  # other sessions are not throttled


def test_throttle_disconnect_action(desk):
    desk.limit(LimitScope.SESSION, "S1", throttle=Throttle(1, D("0.5"), ThrottleAction.DISCONNECT))
    first = desk.new()
    assert first.accepted and not first.disconnect
    result = desk.new()
    assert_rejected(result, OrdRejReason.OTHER, "session throttle: 2 messages in 0.5s > limit 1 (disconnecting)")
    assert result.disconnect


def test_account_throttle_spans_sessions(desk):
    desk.limit(throttle=Throttle(2))
    assert desk.new(owner="S1").accepted
    assert desk.new(owner="S2").accepted
    assert_rejected(desk.new(owner="S3"), OrdRejReason.OTHER, "account throttle: 3 messages in 1s > limit 2")


def test_cancels_count_against_the_throttle_but_always_pass(desk):
    desk.limit(LimitScope.SESSION, "S1", throttle=Throttle(2))
    for n in range(3):
        cancel = CancelRequest("XYZ", "S1", f"X{n}", orig_cl_ord_id="C0")
        assert desk.vetter.vet_cancel(cancel, account="ACC1", now_ns=desk.now, trading_day=desk.day).accepted
    assert_rejected(desk.new(), OrdRejReason.OTHER, "session throttle: 4 messages in 1s > limit 2")


def test_first_failing_rule_in_chain_order_is_reported(desk):
    desk.limit(max_order_qty=D(10), collar_pct=D(1))
    desk.with_account(cash_available=D(0))
    result = desk.new(qty=20, price="200.00")
    assert result.rule == "max order quantity"


def test_contradicting_bounds_from_two_scopes_reject_every_price(desk):
    desk.firm(max_price=D(100))
    desk.limit(LimitScope.INSTRUMENT, "XYZ", min_price=D(150))
    assert desk.new(price="120.00").text == "price bounds: price 120.00 < min 150"
