"""Self-trade prevention: instruction of the incoming order (else account default), account or group scope."""

from __future__ import annotations

from matching_harness import Harness, fills, kinds, of

from venues.base import CancelReason, RestatementReason, SelfTradePrevention, TimeInForce
from venues.internal.matching import events as ev

STP = SelfTradePrevention


def _book(h: Harness) -> None:
    h.sell(5, 100, cl="own", owner="S1", account="A")
    h.sell(5, 100, cl="other", owner="S2", account="B")


def test_without_instruction_self_trades_are_allowed(h: Harness) -> None:
    _book(h)
    out = h.buy(5, 100, account="A", owner="S3", cl="b")
    assert fills(out)[0] == ("own", 5, 100, "ADDED")


def test_cancel_incoming(h: Harness) -> None:
    _book(h)
    out = h.buy(10, 100, account="A", stp=STP.CANCEL_INCOMING, cl="b")
    assert kinds(out) == ["Accepted", "Cancelled"]
    assert out[1].cl_ord_id == "b" and out[1].reason is CancelReason.STP_INCOMING
    assert out[1].reason.exec_restatement_reason == 18
    assert set(h.live()) == {"own", "other"}


def test_cancel_resting_then_keeps_matching(h: Harness) -> None:
    _book(h)
    out = h.buy(10, 100, account="A", stp=STP.CANCEL_RESTING, cl="b")
    assert kinds(out) == ["Accepted", "Cancelled", "Fill", "Fill"]
    assert out[1].cl_ord_id == "own" and out[1].reason is CancelReason.STP_RESTING
    assert out[1].reason.exec_restatement_reason == 19
    assert h.live()["b"].leaves == 5


def test_cancel_both(h: Harness) -> None:
    _book(h)
    out = h.buy(10, 100, account="A", stp=STP.CANCEL_BOTH, cl="b")
    assert [(e.cl_ord_id, e.reason) for e in of(out, ev.Cancelled)] == [
        ("own", CancelReason.STP_BOTH), ("b", CancelReason.STP_BOTH)]  # fmt: skip
    assert set(h.live()) == {"other"}


def test_decrement_and_cancel_smaller_incoming(h: Harness) -> None:
    _book(h)
    out = h.buy(3, 100, account="A", stp=STP.DECREMENT_AND_CANCEL, cl="b")
    assert kinds(out) == ["Accepted", "Restated", "Cancelled"]
    assert out[1].cl_ord_id == "own" and out[1].leaves_qty == 2 and out[1].qty == 2
    assert out[1].reason is RestatementReason.STP_DECREMENT
    assert (
        out[2].cl_ord_id == "b" and out[2].reason is CancelReason.STP_DECREMENT and out[2].cancelled_qty == 3
    )
    assert h.engine.book("X").asks[-100].qty == 7


def test_decrement_and_cancel_larger_incoming_continues(h: Harness) -> None:
    _book(h)
    out = h.buy(8, 100, account="A", stp=STP.DECREMENT_AND_CANCEL, cl="b")
    assert kinds(out) == ["Accepted", "Restated", "Cancelled", "Fill", "Fill"]
    assert out[1].cl_ord_id == "b" and out[1].qty == 3
    assert out[2].cl_ord_id == "own" and out[2].reason.exec_restatement_reason == 17
    assert fills(out)[1] == ("b", 3, 100, "REMOVED") and "b" not in h.live()


def test_stp_group_scope_across_accounts(h: Harness) -> None:
    h.sell(5, 100, cl="g", account="A", stp_group="G")
    out = h.buy(5, 100, account="Z", stp_group="G", stp=STP.CANCEL_INCOMING)
    assert out[-1].reason is CancelReason.STP_INCOMING


def test_account_default_applies_without_instruction() -> None:
    h = Harness(stp_defaults={"A": STP.CANCEL_RESTING})
    _book(h)
    out = h.buy(5, 100, account="A", owner="S9")
    assert of(out, ev.Cancelled)[0].reason is CancelReason.STP_RESTING


def test_fok_availability_ignores_self_orders(h: Harness) -> None:
    _book(h)
    out = h.buy(10, 100, account="A", stp=STP.CANCEL_RESTING, tif=TimeInForce.FOK)
    assert out[-1].reason is CancelReason.FOK_NOT_FILLED and set(h.live()) == {"own", "other"}
