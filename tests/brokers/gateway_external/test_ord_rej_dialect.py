"""OrdRejReason(103) values a client's FIX version does not define fall back to its catch-all."""

from __future__ import annotations

from decimal import Decimal

from brokers.client import translation as tr
from venues.base import OrdType, Side


def test_reasons_unknown_to_the_version_fall_back() -> None:
    assert tr.ord_rej_reason_for("FIX.4.4", 16) == 99  # price band: FIX.5.0 only
    assert tr.ord_rej_reason_for("FIX.4.4", 18) == 99
    assert tr.ord_rej_reason_for("FIX.4.4", 15) == 15
    assert tr.ord_rej_reason_for("FIX.4.2", 15) == 0  # FIX.4.2 has 0..8 and no 99
    assert tr.ord_rej_reason_for("FIX.4.2", 99) == 0
    assert tr.ord_rej_reason_for("FIX.4.2", 3) == 3
    assert tr.ord_rej_reason_for("FIXT.1.1", 16) == 16


def test_reject_report_uses_the_fallback() -> None:
    new = tr.NewOrderInput("C1", "A", "IBM", Side.BUY, Decimal(1), OrdType.LIMIT, Decimal("1"))
    for begin, expected in (("FIX.4.4", "99"), ("FIX.4.2", "0"), ("FIXT.1.1", "16")):
        msg = tr.reject_report(begin, new, order_id="O", exec_id="E", account="A", reason=16, text="band",
                               transact_ns=0)
        assert msg.get(103) == expected
