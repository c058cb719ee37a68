"""Fee schedules (bps + fixed per fill, minimum) and the vetter's per-limits rule chain."""

from __future__ import annotations

from decimal import Decimal

import pytest

from brokers.domain.limits import LimitScope
from brokers.oms.context import NO_FEES, FeeSchedule, FeeSchedules
from brokers.oms.reservations import Reservation
from brokers.oms.results import OrdRejReason
from brokers.oms.rules import MaxOrderQtyRule, PositionLimitRule, QuantityRule
from venues.base import Side

D = Decimal


@pytest.mark.parametrize(("schedule", "notional", "fee"), [
    (FeeSchedule(fixed=D("1.00")), D("2000.00"), D("1.00")),
    (FeeSchedule(bps=D(10), fixed=D("1.00")), D("2000.00"), D("3.00")),
    (FeeSchedule(bps=D(10), fixed=D("1.00")), D("0.01"), D("1.01")),  # 1.00001 rounded up
    (FeeSchedule(bps=D(1), fixed=D("0.10"), minimum=D("0.50")), D("100.00"), D("0.50")),
    (FeeSchedule(bps=D(1), fixed=D("0.10"), minimum=D("0.50")), D("10000.00"), D("1.10")),
    (FeeSchedule(fixed=D("1.00")), D(0), D(0)),
])
def test_fee_is_bps_plus_fixed_per_fill_at_least_the_minimum(schedule, notional, fee):
    assert schedule.fee(notional) == fee


def test_negative_parts_are_refused():
    with pytest.raises(ValueError, match="invalid fee schedule"):
        FeeSchedule(fixed=D(-1))


def test_describe():
    assert NO_FEES.describe() == "none"
    assert FeeSchedule(bps=D("2.5"), fixed=D("1.00"), minimum=D(1)).describe() == "2.5 bps + 1.00 per fill, min 1"


def test_schedules_per_account_fall_back_to_the_default():
    mine = FeeSchedule(fixed=D(2))
    schedules = FeeSchedules(FeeSchedule(bps=D(1)), {"ACC2": mine})
    assert schedules.for_account("ACC2") is mine
    assert schedules.for_account("ACC1") == FeeSchedule(bps=D(1))


def test_reservation_holds_the_fee_of_one_fill():
    r = Reservation.for_buy(D(100), D("50.00"), FeeSchedule(bps=D(10), fixed=D("1.00")))
    assert (r.notional, r.fee, r.amount) == (D("5000.00"), D("6.00"), D("5006.00"))
    # a second fill pays the fixed part again: more than was reserved for the fee
    first = r.on_fill(D(40), D("50.00"), D("3.00"))
    assert first.release == D(0) and first.remaining.fee == D("3.00")
    last = first.remaining.on_fill(D(60), D("50.00"), D("4.00"))
    assert last.release == D("-1.00")


def test_buying_power_counts_the_fixed_fee(desk):
    desk.with_account(cash_available=D("10000.00"), fees=FeeSchedule(fixed=D("5.00")))
    result = desk.new(qty=100, price="99.95")  # 9995.00 + 5.00
    assert result.accepted and result.reservation.amount == D("10000.00")
    desk.with_account(reserved=D("0.01"))
    result = desk.new(qty=100, price="99.95")
    assert not result.accepted and result.reason is OrdRejReason.ORDER_EXCEEDS_LIMIT
    assert result.text == "buying power: 10000.00 required > 9999.99 available"


def test_rules_without_their_limit_are_skipped_and_come_back_when_set(desk):
    chain = desk.vetter._chain(desk.book.effective("ACC1", "S1", "XYZ"))[0]
    assert not any(isinstance(r, MaxOrderQtyRule | PositionLimitRule) for r in chain)
    assert any(isinstance(r, QuantityRule) for r in chain)
    assert desk.new(qty=5000, price="1.00").accepted
    desk.limit(max_order_qty=D(1000))
    result = desk.new(qty=5000, price="1.00")
    assert result.text == "max order quantity: 5000 > limit 1000"
    desk.limit(LimitScope.INSTRUMENT, "XYZ", max_long_position=D(600))
    result = desk.new(qty=101, price="1.00")
    assert result.text == "position limit: resulting long 601 > limit 600 (held 500, open buys 0, order 101)"
    desk.limit(max_order_qty=None)
    desk.limit(LimitScope.INSTRUMENT, "XYZ", max_long_position=None)
    assert desk.new(side=Side.BUY, qty=5000, price="1.00").accepted
