"""Time in force driven by command timestamps: GTD expiry is deterministic and needs no clock."""

from __future__ import annotations

from matching_harness import Harness, kinds, of

from venues.base import TimeInForce
from venues.internal.matching import AdvanceTime
from venues.internal.matching import events as ev


def test_advance_time_expires_due_gtd_orders_in_expiry_then_id_order(h: Harness) -> None:
    h.buy(1, 100, tif=TimeInForce.GTD, expire_time=50, cl="late")
    h.buy(1, 100, tif=TimeInForce.GTD, expire_time=40, cl="early")
    h.buy(1, 100, tif=TimeInForce.GTD, expire_time=40, cl="early2")
    assert h.do(AdvanceTime(), ts=39) == []
    out = h.do(AdvanceTime(), ts=45)
    assert [(e.cl_ord_id, e.ts) for e in of(out, ev.Expired)] == [("early", 45), ("early2", 45)]
    assert set(h.live()) == {"late"}


def test_due_gtd_orders_expire_before_the_next_command_can_trade_with_them(h: Harness) -> None:
    h.sell(1, 100, tif=TimeInForce.GTD, expire_time=10, cl="gtd")
    out = h.buy(1, 100, ts=10)
    assert kinds(out) == ["Expired", "Accepted"]


def test_cancelled_gtd_order_does_not_expire_later(h: Harness) -> None:
    h.buy(1, 100, tif=TimeInForce.GTD, expire_time=10, cl="gtd")
    h.cancel("gtd")
    assert h.do(AdvanceTime(), ts=20) == []
