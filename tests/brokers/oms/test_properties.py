"""Property: a rejected order never yields a reservation; an accepted buy reserves >= its notional."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from brokers.domain.limits import Limits, LimitsBook
from brokers.oms.context import AccountState, FeeSchedule, InstrumentInfo
from brokers.oms.vetting import Vetter
from venues.base import OrderRequest, OrdType, Side, TimeInForce

D = Decimal

prices = st.decimals(min_value=D("-1.00"), max_value=D("500.00"), places=3)
maybe_price = st.none() | prices
quantities = st.decimals(min_value=D(-5), max_value=D(2000), places=0)

orders = st.builds(
    OrderRequest,
    symbol=st.just("XYZ"),
    owner=st.sampled_from(["S1", "S2"]),
    cl_ord_id=st.sampled_from(["A", "B", "C"]),
    side=st.sampled_from(list(Side)),
    qty=quantities,
    ord_type=st.sampled_from(list(OrdType)),
    price=maybe_price,
    stop_px=maybe_price,
    tif=st.sampled_from(list(TimeInForce)),
    account=st.just("ACC1"),
    expire_time=st.none() | st.integers(0, 10),
)

limit_sets = st.builds(
    Limits,
    max_order_qty=st.none() | st.decimals(min_value=D(1), max_value=D(3000), places=0),
    max_order_notional=st.none() | st.decimals(min_value=D(1), max_value=D(500000), places=0),
    collar_pct=st.none() | st.decimals(min_value=D(0), max_value=D(50), places=1),
    market_protection_pct=st.none() | st.decimals(min_value=D(0), max_value=D(10), places=1),
    duplicate_window_seconds=st.none() | st.just(D(1)),
)

accounts = st.builds(
    AccountState,
    account=st.just("ACC1"),
    active=st.booleans(),
    cash_available=st.decimals(min_value=D(0), max_value=D(1000000), places=2),
    reserved=st.decimals(min_value=D(0), max_value=D(1000), places=2),
    holdings=st.fixed_dictionaries({"XYZ": st.decimals(min_value=D(0), max_value=D(1000), places=0)}),
    allow_short=st.booleans(),
    allow_credit=st.booleans(),
    fees=st.builds(FeeSchedule, bps=st.decimals(min_value=D(0), max_value=D(50), places=1),
                   minimum=st.decimals(min_value=D(0), max_value=D(5), places=2)),
)

instruments = st.builds(
    InstrumentInfo,
    symbol=st.just("XYZ"),
    last_trade_px=st.none() | st.decimals(min_value=D("0.01"), max_value=D("400.00"), places=2),
    close_px=st.none() | st.decimals(min_value=D("0.01"), max_value=D("400.00"), places=2),
)


@settings(max_examples=300, deadline=None)
@given(limits=limit_sets, account=accounts, instrument=instruments,
       batch=st.lists(st.tuples(orders, st.integers(0, 3)), min_size=1, max_size=5))
def test_rejections_never_reserve_and_accepted_buys_cover_their_notional(limits, account, instrument, batch):
    vetter = Vetter(LimitsBook(limits))
    now = 0
    for order, step in batch:
        now += step * 400_000_000
        result = vetter.vet_new(order, account=account, instrument=instrument, now_ns=now,
                                trading_day=date(2026, 11, 23))
        if not result.accepted:
            assert result.reservation is None and result.reservation_delta == 0
            assert result.reason is not None and result.text.startswith(result.rule + ": ")
            continue
        if order.side is not Side.BUY:
            assert result.reservation is None and result.reservation_delta == 0
            continue
        if order.ord_type in (OrdType.LIMIT, OrdType.STOP_LIMIT):
            px = order.price
        elif order.ord_type is OrdType.STOP:
            px = order.stop_px
        else:
            px = instrument.reference_price
        assert result.reservation is not None
        assert result.reservation_delta == result.reservation.amount
        assert result.reservation.amount >= order.qty * px
        if not account.allow_credit:
            assert result.reservation.amount <= account.cash_available - account.reserved
