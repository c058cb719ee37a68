"""Reservation and release arithmetic, exact to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokers.domain.limits import Limits
from brokers.oms.context import FeeSchedule, InstrumentInfo
from brokers.oms.reservations import Reservation, reservation_for, reserve_price
from venues.base import OrdType, Side

D = Decimal
FEES = FeeSchedule(bps=D(5), minimum=D("1.00"))
XYZ = InstrumentInfo("XYZ", tick_size=D("0.01"), last_trade_px=D("100.00"))


@pytest.mark.parametrize(
    ("notional", "fee"),
    [(D("10000.00"), D("5.00")), (D("1000.00"), D("1.00")), (D("10001.00"), D("5.01")),
     (D("10010.00"), D("5.01")), (D("0"), D("0"))],
)
def test_fee_is_bps_with_minimum_rounded_up_to_the_cent(notional, fee):
    assert FEES.fee(notional) == fee


def test_reserve_price_by_order_type():
    limits = Limits(market_protection_pct=D("2.5"))
    assert reserve_price(OrdType.LIMIT, D("99.50"), None, XYZ, limits) == D("99.50")
    assert reserve_price(OrdType.STOP_LIMIT, D("101.50"), D("101.00"), XYZ, limits) == D("101.50")
    assert reserve_price(OrdType.MARKET, None, None, XYZ, limits) == D("102.50")
    assert reserve_price(OrdType.STOP, None, D("110.00"), XYZ, limits) == D("112.75")  # stop above the market
    assert reserve_price(OrdType.STOP, None, D("90.00"), XYZ, limits) == D("102.50")  # reference is higher
    assert reserve_price(OrdType.MARKET, None, None, XYZ, Limits()) == D("100.00")
    assert reserve_price(OrdType.MARKET, None, None, InstrumentInfo("NOREF"), limits) is None


def test_market_band_is_rounded_up_to_the_tick():
    odd = InstrumentInfo("ODD", tick_size=D("0.05"), last_trade_px=D("33.33"))
    assert reserve_price(OrdType.MARKET, None, None, odd, Limits(market_protection_pct=D(2))) == D("34.00")


def test_only_buys_reserve():
    assert reservation_for(Side.SELL, OrdType.LIMIT, D(100), D("100.00"), None, XYZ, Limits(), FEES) is None
    buy = reservation_for(Side.BUY, OrdType.LIMIT, D(100), D("100.00"), None, XYZ, Limits(), FEES)
    assert buy == Reservation(D(100), D("100.00"), D("10000.00"), D("5.00"))
    assert buy.amount == D("10005.00")


def test_cancel_releases_everything_held():
    assert Reservation.for_buy(D(100), D("100.00"), FEES).release_all() == D("10005.00")


def test_fill_at_a_better_price_releases_the_difference():
    reservation = Reservation.for_buy(D(100), D("100.00"), FEES)
    release = reservation.on_fill(D(100), D("99.50"), fee_charged=D("4.98"))
    assert release.release == D("50.02")  # 10005.00 - (9950.00 + 4.98)
    assert release.remaining.amount == 0


def test_partial_fills_then_cancel_account_for_every_cent():
    reservation = Reservation.for_buy(D(100), D("100.00"), FEES)
    first = reservation.on_fill(D(40), D("99.00"), fee_charged=D("1.98"))
    assert first.release == D("40.00")  # (4000.00 + 1.98) - (3960.00 + 1.98)
    assert first.remaining == Reservation(D(60), D("100.00"), D("6000.00"), D("3.02"))
    second = first.remaining.on_fill(D(20), D("100.00"), fee_charged=D("1.00"))
    assert second.release == 0
    assert second.remaining.amount == D("4002.02")
    cancelled = second.remaining.release_all()
    costs = D("3960.00") + D("1.98") + D("2000.00") + D("1.00")
    assert first.release + second.release + cancelled + costs == reservation.amount


def test_last_fill_takes_the_remaining_fee():
    reservation = Reservation.for_buy(D(100), D("100.00"), FEES)
    first = reservation.on_fill(D(40), D("100.00"), fee_charged=D("2.00"))
    last = first.remaining.on_fill(D(60), D("100.00"), fee_charged=D("3.00"))
    assert (first.release, last.release) == (0, D("0.00"))


def test_fill_above_the_reserve_price_gives_a_negative_release():
    reservation = Reservation.for_buy(D(10), D("102.00"), FEES)  # a market buy banded at 102.00
    release = reservation.on_fill(D(10), D("103.00"), fee_charged=D("1.00"))
    assert release.release == D("-10.00")


def test_fill_larger_than_reserved_is_refused():
    with pytest.raises(ValueError):
        Reservation.for_buy(D(10), D("1.00"), FEES).on_fill(D(11), D("1.00"), D(0))


def test_rebase_after_replace():
    reservation = Reservation.for_buy(D(100), D("100.00"), FEES)
    new, delta = reservation.rebase(D(150), D("99.00"), FEES)
    assert new.amount == D("14857.43")  # 14850.00 + 7.425 rounded up
    assert delta == D("4852.43")


money = st.decimals(min_value=D("0.01"), max_value=D("1000.00"), places=2)


@given(price=money, fills=st.lists(st.tuples(st.integers(1, 50), money), min_size=1, max_size=6),
       cancel=st.booleans())
def test_reserved_equals_releases_plus_costs(price, fills, cancel):
    total_qty = sum(q for q, _ in fills) + (7 if cancel else 0)
    reservation = Reservation.for_buy(D(total_qty), price, FEES)
    held, released, costs = reservation, D(0), D(0)
    for qty, px in fills:
        fee = FEES.fee(D(qty) * px)
        step = held.on_fill(D(qty), px, fee)
        released += step.release
        costs += D(qty) * px + fee
        held = step.remaining
    released += held.release_all()
    assert released + costs == reservation.amount
