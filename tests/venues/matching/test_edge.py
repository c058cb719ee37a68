"""The Decimal edge: venue requests in, venue events out, every reject decided by the engine."""

from __future__ import annotations

from decimal import Decimal

import pytest

from venues import base
from venues.base import CancelReason, Liquidity, RejectReason, Side
from venues.internal.matching import DecimalEdge, Instrument, MatchingEngine


@pytest.fixture
def edge() -> DecimalEdge:
    inst = Instrument("X", tick_size=Decimal("0.01"), lot_size=Decimal(10))
    return DecimalEdge(MatchingEngine([inst]))


def order(cl: str, side: Side, qty: str, price: str | None, **kw: object) -> base.OrderRequest:
    return base.OrderRequest(
        "X", "S1", cl, side, Decimal(qty), price=None if price is None else Decimal(price), **kw
    )  # type: ignore[arg-type]


def test_fill_carries_decimals_and_an_exact_average_price(edge: DecimalEdge) -> None:
    edge.process(order("s1", Side.SELL, "10", "1.00"), 1)
    edge.process(order("s2", Side.SELL, "20", "1.01"), 2)
    out = edge.process(order("b", Side.BUY, "30", "1.01"), 3)
    last = out[-1]
    assert isinstance(last, base.Fill)
    assert (last.last_qty, last.last_px, last.cum_qty, last.leaves_qty) == (
        Decimal(20),
        Decimal("1.01"),
        Decimal(30),
        0,
    )
    assert last.avg_px == Decimal("1.00") * 10 / 30 + Decimal("1.01") * 20 / 30
    assert last.avg_px == (Decimal("10.00") + Decimal("20.20")) / 30
    assert last.liquidity is Liquidity.REMOVED and last.match_id == "2" and last.order_id == "3"
    assert isinstance(out[0], base.Accepted) and out[0].price == Decimal("1.01") and out[0].stop_px is None


@pytest.mark.parametrize(
    ("qty", "price", "reason"),
    [
        ("15", "1.00", RejectReason.INCORRECT_QUANTITY),  # not a multiple of the 10 lot
        ("10", "1.005", RejectReason.INVALID_PRICE_INCREMENT),
        ("10", None, RejectReason.INVALID_PRICE_INCREMENT),  # limit without a price
    ],
)
def test_off_grid_values_are_rejected_by_the_engine(edge: DecimalEdge, qty: str, price: str | None,
                                                    reason: RejectReason) -> None:  # fmt: skip
    out = edge.process(order("x", Side.BUY, qty, price), 1)
    assert len(out) == 1 and isinstance(out[0], base.Rejected) and out[0].reason is reason
    assert out[0].exec_id == "1"


def test_unknown_symbol_is_rejected(edge: DecimalEdge) -> None:
    out = edge.process(base.OrderRequest("NOPE", "S1", "x", Side.BUY, Decimal(10), price=Decimal(1)), 1)
    assert isinstance(out[0], base.Rejected) and out[0].reason.ord_rej_reason == 1


def test_cancel_and_replace_by_order_id_or_client_id(edge: DecimalEdge) -> None:
    edge.process(order("a", Side.BUY, "50", "1.00"), 1)
    out = edge.process(
        base.ReplaceRequest("X", "S1", "a2", Side.BUY, Decimal(30), Decimal("0.99"), order_id="1"), 2
    )
    assert isinstance(out[0], base.Replaced)
    assert (out[0].qty, out[0].price, out[0].leaves_qty, out[0].orig_cl_ord_id) == (
        Decimal(30),
        Decimal("0.99"),
        30,
        "a",
    )
    out = edge.process(
        base.ReplaceRequest("X", "S1", "a3", Side.BUY, Decimal(30), Decimal("0.995"), orig_cl_ord_id="a2"), 3
    )
    assert isinstance(out[0], base.CancelRejected) and out[0].reason.cxl_rej_reason == 18
    out = edge.process(base.CancelRequest("X", "S1", "c", orig_cl_ord_id="a2"), 4)
    assert isinstance(out[0], base.Cancelled) and out[0].cancelled_qty == Decimal(30)
    assert out[0].reason is CancelReason.CLIENT_REQUEST and out[0].reason.exec_restatement_reason is None
    out = edge.process(base.CancelRequest("X", "S1", "c2", order_id="bogus"), 5)
    assert isinstance(out[0], base.CancelRejected) and out[0].reason.cxl_rej_reason == 1


def test_mass_cancel_report(edge: DecimalEdge) -> None:
    edge.process(order("a", Side.BUY, "50", "1.00"), 1)
    out = edge.process(base.MassCancelRequest("S1", "m", symbol="X"), 2)
    assert isinstance(out[-1], base.MassCancelled) and out[-1].cancelled == 1
