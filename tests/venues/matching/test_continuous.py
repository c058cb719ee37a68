"""Continuous trading: one small test per matching rule, asserting the exact events."""

from __future__ import annotations

from decimal import Decimal

from matching_harness import Harness, fills, instrument, kinds, of

from venues.base import CancelReason, Liquidity, OrdType, RejectReason, RestatementReason, Side, TimeInForce
from venues.internal.matching import events as ev
from venues.internal.matching.events import Accepted, Fill, Rejected


def test_resting_limit_is_acknowledged_with_deterministic_ids(h: Harness) -> None:
    out = h.buy(10, 100, cl="a")
    assert out == [
        Accepted(1, "X", 1, "S1", "a", 1, Side.BUY, OrdType.LIMIT, TimeInForce.DAY, 10, 100, 0),
    ]
    assert h.engine.book("X").best_bid() == 100


def test_trade_happens_at_the_resting_price_with_both_sides_reported(h: Harness) -> None:
    h.sell(10, 100, cl="s", owner="S2", account="B")
    out = h.buy(4, 105, cl="b", account="A")
    assert out[1:] == [
        Fill(2, "X", 1, "S2", "s", 3, Side.SELL, 1, 4, 100, 4, 6, 400, Liquidity.ADDED, "B"),
        Fill(2, "X", 2, "S1", "b", 4, Side.BUY, 1, 4, 100, 4, 0, 400, Liquidity.REMOVED, "A"),
    ]
    assert "b" not in h.live() and h.live()["s"].leaves == 6


def test_price_priority_then_time_priority(h: Harness) -> None:
    h.sell(5, 101, cl="late_better_price_no")
    h.sell(5, 100, cl="first_at_100")
    h.sell(5, 100, cl="second_at_100")
    out = h.buy(12, 101, cl="b")
    assert fills(out)[::2] == [("first_at_100", 5, 100, "ADDED"), ("second_at_100", 5, 100, "ADDED"),
                               ("late_better_price_no", 2, 101, "ADDED")]  # fmt: skip
    assert fills(out)[-1] == ("b", 2, 101, "REMOVED")


def test_aggressor_never_trades_beyond_its_limit_and_rests_the_rest(h: Harness) -> None:
    h.sell(5, 100, cl="s1")
    h.sell(5, 102, cl="s2")
    out = h.buy(8, 101, cl="b")
    assert kinds(out) == ["Accepted", "Fill", "Fill"]
    assert h.live()["b"].leaves == 3 and h.engine.book("X").best_bid() == 101
    assert h.engine.book("X").best_ask() == 102


def test_match_ids_are_shared_by_both_sides_and_exec_ids_unique(h: Harness) -> None:
    h.sell(1, 100)
    h.sell(1, 100)
    out = h.buy(2, 100)
    fs = of(out, Fill)
    assert [f.match_id for f in fs] == [1, 1, 2, 2]
    exec_ids = [e.exec_id for e in out]
    assert len(set(exec_ids)) == len(exec_ids) and exec_ids == sorted(exec_ids)


def test_market_order_is_capped_by_the_protection_band_and_its_rest_cancelled() -> None:
    h = Harness([instrument(market_protection_pct=Decimal(2))])
    h.sell(5, 10_000, cl="s1")
    h.sell(5, 10_200, cl="s2")  # within 2% of the best ask
    h.sell(5, 10_201, cl="s3")  # beyond
    out = h.buy(20, ord_type=OrdType.MARKET, cl="m")
    assert [f[0] for f in fills(out)] == ["s1", "m", "s2", "m"]
    assert out[-1].reason is CancelReason.MARKET_PROTECTION and out[-1].cancelled_qty == 10
    assert "s3" in h.live()


def test_market_order_against_an_empty_side_is_cancelled(h: Harness) -> None:
    out = h.sell(5, ord_type=OrdType.MARKET)
    assert kinds(out) == ["Accepted", "Cancelled"] and out[1].reason is CancelReason.IOC_REMAINDER


def test_ioc_remainder_is_cancelled(h: Harness) -> None:
    h.sell(3, 100)
    out = h.buy(5, 100, tif=TimeInForce.IOC, cl="i")
    assert kinds(out) == ["Accepted", "Fill", "Fill", "Cancelled"]
    assert (
        out[-1].reason is CancelReason.IOC_REMAINDER and out[-1].cancelled_qty == 2 and out[-1].cum_qty == 3
    )


def test_fok_executes_fully_or_not_at_all(h: Harness) -> None:
    h.sell(3, 100, cl="s1")
    h.sell(3, 101, cl="s2")
    out = h.buy(7, 101, tif=TimeInForce.FOK)
    assert kinds(out) == ["Accepted", "Cancelled"] and out[1].reason is CancelReason.FOK_NOT_FILLED
    assert set(h.live()) == {"s1", "s2"}
    out = h.buy(6, 101, tif=TimeInForce.FOK, cl="f")
    assert [f for f in fills(out) if f[0] == "f"] == [("f", 3, 100, "REMOVED"), ("f", 3, 101, "REMOVED")]


def test_min_qty_not_met_cancels_the_whole_order(h: Harness) -> None:
    h.sell(3, 100)
    out = h.buy(10, 100, min_qty=4, cl="b")
    assert kinds(out) == ["Accepted", "Cancelled"] and out[1].reason is CancelReason.MIN_QTY_NOT_MET
    assert out[1].cancelled_qty == 10


def test_min_qty_met_trades_and_rests_the_rest(h: Harness) -> None:
    h.sell(5, 100)
    out = h.buy(10, 100, min_qty=4, cl="b")
    assert kinds(out) == ["Accepted", "Fill", "Fill"]
    assert h.live()["b"].leaves == 5 and h.live()["b"].min_qty == 0


def test_post_only_is_rejected_if_it_would_take(h: Harness) -> None:
    h.sell(5, 100)
    out = h.buy(5, 100, post_only=True, cl="p")
    assert out == [Rejected(2, "X", "S1", "p", 2, Side.BUY, RejectReason.POST_ONLY_WOULD_TAKE,
                            "post-only order would take liquidity")]  # fmt: skip
    assert kinds(h.buy(5, 99, post_only=True)) == ["Accepted"]


def test_iceberg_shows_only_its_peak_and_refreshes_at_the_back_of_the_queue(h: Harness) -> None:
    h.sell(10, 100, display_qty=3, cl="ice")
    h.sell(2, 100, cl="plain")
    book = h.engine.book("X")
    assert book.asks[-100].visible == 5 and book.asks[-100].qty == 12
    out = h.buy(4, 100, cl="b")
    # the displayed 3 trade first, the refreshed slice goes behind "plain", which trades next
    assert fills(out)[::2] == [("ice", 3, 100, "ADDED"), ("plain", 1, 100, "ADDED")]
    restated = of(out, ev.Restated)
    assert len(restated) == 1 and restated[0].reason is RestatementReason.ICEBERG_REFRESH
    assert restated[0].display_qty == 3 and restated[0].leaves_qty == 7
    assert h.queue(100, Side.SELL) == ["plain", "ice"]


def test_iceberg_hidden_quantity_is_reached_by_a_large_aggressor(h: Harness) -> None:
    h.sell(7, 100, display_qty=3, cl="ice")
    out = h.buy(7, 100, cl="b")
    assert [f[1] for f in fills(out) if f[0] == "ice"] == [3, 3, 1]
    assert "ice" not in h.live()


def test_stop_triggers_on_a_trade_at_its_stop_price_and_works_as_market(h: Harness) -> None:
    h.buy(5, ord_type=OrdType.STOP, stop_px=105, cl="stop")
    h.sell(5, 106, cl="s_far")
    h.sell(1, 105, cl="s1")
    out = h.buy(1, 105, cl="trigger", owner="S2")
    assert kinds(out) == ["Accepted", "Fill", "Fill", "Triggered", "Fill", "Fill"]
    assert out[3].ord_type is OrdType.MARKET and out[3].order_id == 1
    assert fills(out)[-1] == ("stop", 5, 106, "REMOVED")


def test_sell_stop_limit_triggers_on_a_trade_through_its_stop_and_rests_as_limit(h: Harness) -> None:
    h.sell(5, 98, ord_type=OrdType.STOP_LIMIT, stop_px=100, cl="stop")
    h.buy(1, 99, cl="b1")
    out = h.sell(1, 99, cl="agg", owner="S2")
    assert kinds(out) == ["Accepted", "Fill", "Fill", "Triggered"]
    assert out[-1].ord_type is OrdType.LIMIT and h.live()["stop"].price == 98
    assert h.engine.book("X").best_ask() == 98


def test_stop_cascade_triggers_further_stops(h: Harness) -> None:
    h.buy(1, ord_type=OrdType.STOP, stop_px=101, cl="st1")
    h.buy(1, ord_type=OrdType.STOP, stop_px=102, cl="st2")
    h.sell(1, 101, cl="a1")
    h.sell(1, 102, cl="a2")
    h.sell(1, 103, cl="a3")
    out = h.buy(1, 101, owner="S2")
    assert [e.cl_ord_id for e in of(out, ev.Triggered)] == ["st1", "st2"]
    assert h.engine.book("X").best_ask() is None


def test_stop_is_cancellable_before_and_after_trigger(h: Harness) -> None:
    h.buy(2, 110, ord_type=OrdType.STOP_LIMIT, stop_px=100, cl="st")
    out = h.cancel("st")
    assert kinds(out) == ["Cancelled"] and out[0].reason is CancelReason.CLIENT_REQUEST
    h.buy(2, 99, ord_type=OrdType.STOP_LIMIT, stop_px=100, cl="st2")
    h.sell(1, 100)
    h.buy(1, 100, owner="S2")  # triggers st2, which rests at 99
    assert h.live()["st2"].ord_type is OrdType.LIMIT
    assert kinds(h.cancel("st2")) == ["Cancelled"]


def test_rejects_carry_their_reason() -> None:
    h = Harness([instrument(min_order_qty=Decimal(2))])
    assert h.buy(1, 100)[0].reason is RejectReason.INCORRECT_QUANTITY
    assert h.buy(5, 0)[0].reason is RejectReason.INVALID_PRICE_INCREMENT
    assert h.buy(5, 100, symbol="NOPE")[0].reason is RejectReason.UNKNOWN_SYMBOL
    h.buy(5, 100, cl="dup")
    assert h.buy(5, 100, cl="dup")[0].reason is RejectReason.DUPLICATE_ORDER
    assert h.buy(5, 100, ord_type=OrdType.MARKET)[0].reason is RejectReason.INVALID_PRICE
    assert h.buy(5, 100, tif=TimeInForce.OPG)[0].reason is RejectReason.TOO_LATE_TO_ENTER
    assert h.buy(5, 100, tif=TimeInForce.GTD, expire_time=1)[0].reason is RejectReason.STALE_ORDER
    assert h.buy(5, 100, display_qty=6)[0].reason is RejectReason.INCORRECT_QUANTITY
    assert (
        h.buy(5, 100, tif=TimeInForce.IOC, display_qty=2)[0].reason
        is RejectReason.UNSUPPORTED_ORDER_CHARACTERISTIC
    )
    assert RejectReason.DUPLICATE_ORDER.ord_rej_reason == 6


def test_tick_table_rejects_off_grid_prices() -> None:
    from venues.internal.matching import TickBand

    inst = instrument(
        tick_table=(TickBand(Decimal(0), Decimal("0.01")), TickBand(Decimal(10), Decimal("0.05")))
    )
    h = Harness([inst])
    assert kinds(h.buy(1, 999)) == ["Accepted"]  # 9.99 below 10: 0.01 tick
    assert h.buy(1, 1001)[0].reason is RejectReason.INVALID_PRICE_INCREMENT  # 10.01 needs 0.05
    assert kinds(h.buy(1, 1005)) == ["Accepted"]


def test_sell_short_matches_like_a_sell(h: Harness) -> None:
    h.buy(5, 100)
    out = h.order(Side.SELL_SHORT, 5, 100, cl="ss")
    assert fills(out)[-1] == ("ss", 5, 100, "REMOVED")


def test_a_sweep_sets_the_reference_to_its_last_trade_and_triggers_stops_it_reached(h: Harness) -> None:
    h.buy(1, ord_type=OrdType.STOP, stop_px=102, cl="buy_stop")
    h.sell(1, ord_type=OrdType.STOP, stop_px=95, cl="sell_stop")
    for px in (100, 101, 102):
        h.sell(1, px, owner="S2")
    h.sell(5, 110, owner="S2", cl="far")
    out = h.buy(3, 102, owner="S3")
    assert [e.cl_ord_id for e in of(out, ev.Triggered)] == ["buy_stop"]
    assert fills(out)[-1] == ("buy_stop", 1, 110, "REMOVED")
    assert h.engine.reference_price("X") == 110
    for px in (99, 97, 95):
        h.buy(1, px, owner="S2")
    out = h.sell(3, 95, owner="S3")
    assert h.engine.reference_price("X") == 95
    assert [e.cl_ord_id for e in of(out, ev.Triggered)] == ["sell_stop"]


def test_reference_price_is_the_last_trade_of_a_sweep(h: Harness) -> None:
    for px in (100, 101, 102):
        h.sell(1, px)
    h.buy(3, 102)
    assert h.engine.reference_price("X") == 102
    for px in (99, 98):
        h.buy(1, px)
    h.sell(2, 98)
    assert h.engine.reference_price("X") == 98
