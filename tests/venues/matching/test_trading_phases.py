"""Trading phases in the engine: calls, auctions, OPG/ATC, price-band halts, resumption, closed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from matching_harness import Harness, fills, instrument, kinds, of

from venues.base import CancelReason, Liquidity, OrdType, RejectReason, TimeInForce
from venues.base import TradingPhase as P
from venues.internal.matching import EndOfDay, Halt, PhaseTransitionError, Resume, SetPhase
from venues.internal.matching import events as ev


def pre_open(**kw: object) -> Harness:
    h = Harness([instrument(reference_price=Decimal("1.00"), **kw)], phase=P.CLOSED)  # type: ignore[arg-type]
    h.do(SetPhase("X", P.PRE_OPEN))
    return h


def test_closed_rejects_new_orders_but_accepts_cancels() -> None:
    h = Harness(phase=P.CLOSED)
    assert h.buy(1, 100)[0].reason is RejectReason.EXCHANGE_CLOSED


def test_pre_open_accumulates_crossed_orders_and_publishes_indicative_price() -> None:
    h = pre_open()
    assert kinds(h.buy(10, 101, cl="b")) == ["Accepted"]  # nothing would execute yet: unchanged
    out = h.sell(6, 99, cl="s")
    assert kinds(out) == ["Accepted", "IndicativePrice"]
    assert out[1] == ev.IndicativePrice(h.ts, "X", 101, 6, 4)
    assert h.engine.book("X").is_crossed()
    # an order that changes nothing in the uncross does not republish
    assert kinds(h.buy(1, 50)) == ["Accepted"]


def test_calls_refuse_ioc_fok_and_min_qty() -> None:
    h = pre_open()
    assert h.buy(1, 100, tif=TimeInForce.IOC)[0].reason is RejectReason.UNSUPPORTED_ORDER_CHARACTERISTIC
    assert h.buy(2, 100, min_qty=1)[0].reason is RejectReason.UNSUPPORTED_ORDER_CHARACTERISTIC


def test_opening_auction_uncrosses_at_one_price_then_continuous() -> None:
    h = pre_open()
    h.buy(10, 102, cl="b1")
    h.buy(5, 100, cl="b2")
    h.sell(8, 99, cl="s1")
    h.sell(8, 101, cl="s2")
    out = h.do(SetPhase("X", P.CONTINUOUS))
    assert [(e.phase, e.previous) for e in of(out, ev.PhaseChanged)] == [
        (P.OPENING_AUCTION, P.PRE_OPEN), (P.CONTINUOUS, P.OPENING_AUCTION)]  # fmt: skip
    # candidates: 101 executes min(10, 16)=10 ; 100 executes min(15, 8)=8 -> 101
    assert {f[2] for f in fills(out)} == {101}
    assert all(f[3] == "AUCTION" for f in fills(out))
    assert sum(f[1] for f in fills(out) if f[0].startswith("b")) == 10
    assert h.engine.reference_price("X") == 101
    assert not h.engine.book("X").is_crossed()
    assert h.live()["s2"].leaves == 6 and "b2" in h.live()


def test_opg_orders_only_before_the_open_and_their_rest_expires() -> None:
    h = pre_open()
    h.buy(10, 100, tif=TimeInForce.OPG, cl="opg")
    h.sell(4, 100, cl="s")
    out = h.do(SetPhase("X", P.CONTINUOUS))
    expired = of(out, ev.Expired)
    assert [(e.cl_ord_id, e.cum_qty, e.expired_qty) for e in expired] == [("opg", 4, 6)]
    assert h.buy(1, 90, tif=TimeInForce.OPG)[0].reason is RejectReason.TOO_LATE_TO_ENTER


def test_atc_orders_park_until_the_closing_call_then_trade_in_the_closing_auction(h: Harness) -> None:
    h.buy(5, 100, tif=TimeInForce.ATC, cl="atc")
    assert h.engine.book("X").best_bid() is None and h.live()["atc"].state.name == "PARKED"
    h.sell(3, 100, cl="s")  # does not trade with the parked ATC order
    out = h.do(SetPhase("X", P.CLOSING_CALL))
    assert kinds(out) == ["PhaseChanged", "IndicativePrice"]
    assert h.queue(100) == ["atc"]
    out = h.do(SetPhase("X", P.CLOSED))
    assert fills(out) == [("atc", 3, 100, "AUCTION"), ("s", 3, 100, "AUCTION")]
    assert [(e.cl_ord_id, e.expired_qty) for e in of(out, ev.Expired)] == [("atc", 2)]
    assert out[-1] == ev.PhaseChanged(h.ts, "X", P.CLOSED, P.CLOSING_AUCTION, "")


def test_market_order_in_a_call_rests_at_the_protection_price_around_the_reference() -> None:
    h = pre_open(market_protection_pct=Decimal(10))
    h.buy(5, ord_type=OrdType.MARKET, cl="m")
    assert h.live()["m"].price == 110
    h.sell(5, 105)
    out = h.do(SetPhase("X", P.CONTINUOUS))
    assert {f[2] for f in fills(out)} == {105}


def test_trade_outside_the_price_band_halts_instead_of_trading() -> None:
    h = Harness([instrument(reference_price=Decimal("1.00"), price_band_pct=Decimal(5))])
    h.sell(5, 104, cl="s1")
    h.sell(5, 106, cl="s2")  # outside 100 +/- 5
    out = h.buy(10, 110, cl="b")
    assert kinds(out) == ["Accepted", "Fill", "Fill", "PhaseChanged", "IndicativePrice"]
    assert out[3].phase is P.HALTED and out[3].text == "price band breach"
    assert h.live()["b"].leaves == 5 and h.engine.book("X").is_crossed()
    # in the halt orders accumulate; the resumption auction uncrosses and resumes continuous trading
    out = h.do(Resume("X"))
    assert [e.phase for e in of(out, ev.PhaseChanged)] == [P.RESUMPTION_AUCTION, P.CONTINUOUS]
    assert fills(out) == [("b", 5, 106, "AUCTION"), ("s2", 5, 106, "AUCTION")]
    assert h.engine.reference_price("X") == 106


def test_ioc_remainder_is_cancelled_on_a_band_halt() -> None:
    h = Harness([instrument(reference_price=Decimal("1.00"), price_band_pct=Decimal(5))])
    h.sell(5, 106)
    out = h.buy(5, 110, tif=TimeInForce.IOC)
    assert of(out, ev.Cancelled)[0].reason is CancelReason.TRADING_HALT
    assert h.engine.phase("X") is P.HALTED


def test_band_follows_the_last_trade(h: Harness) -> None:
    h = Harness([instrument(reference_price=Decimal("1.00"), price_band_pct=Decimal(5))])
    for px in (104, 108, 112):
        h.sell(1, px)
        assert fills(h.buy(1, px))[0][2] == px
    assert h.engine.phase("X") is P.CONTINUOUS


def test_operator_halt_and_resume_of_a_call_returns_to_the_call() -> None:
    h = pre_open()
    out = h.do(Halt("X", "news pending"))
    assert out[0] == ev.PhaseChanged(h.ts, "X", P.HALTED, P.PRE_OPEN, "news pending")
    out = h.do(Resume("X"))
    assert [e.phase for e in of(out, ev.PhaseChanged)] == [P.PRE_OPEN]


def test_illegal_operator_transitions_raise(h: Harness) -> None:
    with pytest.raises(PhaseTransitionError):
        h.do(SetPhase("X", P.PRE_OPEN))
    with pytest.raises(PhaseTransitionError):
        h.do(Resume("X"))


def test_stops_trigger_after_an_auction_into_continuous() -> None:
    h = pre_open()
    h.buy(1, ord_type=OrdType.STOP, stop_px=100, cl="st")
    h.sell(2, 100)
    h.buy(1, 100)
    out = h.do(SetPhase("X", P.CONTINUOUS))
    assert [e.cl_ord_id for e in of(out, ev.Triggered)] == ["st"]
    assert fills(out)[-1] == ("st", 1, 100, "REMOVED")


def test_end_of_day_expires_day_orders_and_keeps_gtc(h: Harness) -> None:
    h.buy(1, 100, cl="day")
    h.buy(1, 100, cl="gtc", tif=TimeInForce.GTC)
    h.buy(1, 100, cl="atc", tif=TimeInForce.ATC)
    out = h.do(EndOfDay())
    assert [e.cl_ord_id for e in of(out, ev.Expired)] == ["day", "atc"]
    assert set(h.live()) == {"gtc"}


def test_auction_liquidity_indicator_maps_to_fix() -> None:
    assert Liquidity.AUCTION.value == 4
