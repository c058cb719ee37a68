"""Pure translation: FIX messages -> venue requests and venue events -> FIX, per version, exact tags."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fix_engine.application import FieldNotFoundReject, IncorrectDataFormat
from fix_engine.codec.message import FixMessage
from venues import base
from venues.base import CancelReason, Liquidity, OrdType, RejectReason, Side, TimeInForce, TradingPhase
from venues.internal import fix_translate as tr

V42, V44, V50 = tr.FixVersion.FIX42, tr.FixVersion.FIX44, tr.FixVersion.FIX50SP2
TS = 1_767_261_600_123_000_000  # 2026-01-01 10:00:00.123


def tags(msg: FixMessage) -> dict[int, str]:
    return {t: v.decode() for t, v in msg.iter_flat()}


def test_new_order_single_to_request() -> None:
    msg = FixMessage.new("D", (1, "ACC"), (11, "C1"), (18, "6"), (38, "100"), (40, "4"), (44, "10.5"), (54, "2"),
                         (55, "IBM"), (59, "6"), (99, "10.6"), (110, "10"), (111, "20"), (126, "20260101-16:00:00.000"))
    req = tr.new_order(msg, "OWNER")
    assert req == base.OrderRequest(
        symbol="IBM", owner="OWNER", cl_ord_id="C1", side=Side.SELL, qty=Decimal(100), ord_type=OrdType.STOP_LIMIT,
        price=Decimal("10.5"), stop_px=Decimal("10.6"), tif=TimeInForce.GTD, account="ACC",
        expire_time=1_767_283_200_000_000_000, display_qty=Decimal(20), min_qty=Decimal(10), post_only=True)


def test_inbound_errors() -> None:
    with pytest.raises(FieldNotFoundReject) as missing:
        tr.new_order(FixMessage.new("D", (11, "C1"), (38, "1"), (40, "2"), (54, "1")), "O")
    assert missing.value.tag == 55
    with pytest.raises(IncorrectDataFormat):
        tr.new_order(FixMessage.new("D", (11, "C1"), (38, "1x"), (40, "2"), (54, "1"), (55, "IBM")), "O")
    with pytest.raises(tr.OrderRefused) as refused:
        tr.new_order(FixMessage.new("D", (11, "C1"), (38, "1"), (40, "2"), (54, "1"), (55, "IBM"), (59, "5")), "O")
    assert refused.value.reason is RejectReason.UNSUPPORTED_ORDER_CHARACTERISTIC


def test_cancel_replace_and_mass_cancel_requests() -> None:
    cancel = tr.cancel_request(FixMessage.new("F", (11, "C2"), (37, "NONE"), (41, "C1"), (54, "1"), (55, "IBM")), "O")
    assert cancel == base.CancelRequest("IBM", "O", "C2", "C1", "")
    replace = tr.replace_request(FixMessage.new("G", (11, "C3"), (37, "7"), (41, "C2"), (38, "5"), (44, "1.25"),
                                                (54, "1"), (55, "IBM")), "O")
    assert replace == base.ReplaceRequest("IBM", "O", "C3", Side.BUY, Decimal(5), Decimal("1.25"), None, "C2", "7")
    query = tr.mass_cancel_request(FixMessage.new("q", (11, "M1"), (530, "7")), "O")
    assert query.request == base.MassCancelRequest("O", "M1", None, "O")
    with pytest.raises(FieldNotFoundReject):
        tr.mass_cancel_request(FixMessage.new("q", (11, "M1"), (530, "1")), "O")


FILL = base.Fill(TS, "IBM", "7", "O", "C1", "E9", Side.BUY, "M3", Decimal(40), Decimal("10.5"), Decimal(40),
                 Decimal(60), Decimal("10.5"), Liquidity.ADDED, "")
STATE = tr.OrderState("7", "IBM", Side.BUY, OrdType.LIMIT, TimeInForce.DAY, Decimal(100), Decimal("10.5"), None, "C1",
                      cum_qty=Decimal(40), avg_px=Decimal("10.5"))


@pytest.mark.parametrize(("version", "extra"), [
    (V42, {20: "0", 150: "1"}),
    (V44, {150: "F", 851: "1"}),
    (V50, {150: "F", 851: "1", 880: "M3"}),
])
def test_fill_exact_tags(version: tr.FixVersion, extra: dict[int, str]) -> None:
    expected = {35: "8", 6: "10.5", 11: "C1", 14: "40", 17: "E9", 31: "10.5", 32: "40", 37: "7", 38: "100", 39: "1",
                40: "2", 44: "10.5", 54: "1", 55: "IBM", 59: "0", 60: "20260101-10:00:00.123", 151: "60", **extra}
    assert tags(tr.execution_report(FILL, STATE, version)) == expected


@pytest.mark.parametrize(("version", "reason_tag"), [(V42, None), (V44, None), (V50, "12")])
def test_cancel_on_disconnect_restatement_reason(version: tr.FixVersion, reason_tag: str | None) -> None:
    event = base.Cancelled(TS, "IBM", "7", "O", "C1", "", "E10", Side.BUY, Decimal(40), Decimal(60),
                           CancelReason.CANCEL_ON_DISCONNECT)
    msg = tr.execution_report(event, STATE, version)
    assert (msg.get(150), msg.get(39), msg.get(378), msg.get(41), msg.get(6)) == ("4", "4", reason_tag, None, "10.5")


def test_triggered_per_version() -> None:
    event = base.Triggered(TS, "IBM", "7", "O", "C1", "E11", Side.BUY, OrdType.LIMIT, Decimal("10.7"))
    assert tr.execution_report(event, STATE, V50).get(150) == "L"
    msg44 = tr.execution_report(event, STATE, V44)
    assert (msg44.get(150), msg44.get(40), msg44.get(44)) == ("D", "2", "10.7")


def test_reject_reason_mapping_per_version() -> None:
    assert [tr.ord_rej_reason(v, RejectReason.INVALID_PRICE_INCREMENT) for v in (V42, V44, V50)] == [0, 99, 18]
    assert [tr.cxl_rej_reason(v, 6) for v in (V42, V44, V50)] == [2, 6, 6]
    assert [tr.trading_status(v, TradingPhase.CLOSED) for v in (V42, V44, V50)] == [18, 18, 26]
    assert [tr.trading_status(v, TradingPhase.HALTED) for v in (V42, V44, V50)] == [2, 2, 2]
    rejected = base.Rejected(TS, "IBM", "O", "C1", "E1", Side.BUY, RejectReason.DUPLICATE_ORDER, "dup")
    assert tags(tr.execution_report(rejected, None, V44)) == {
        35: "8", 6: "0", 11: "C1", 14: "0", 17: "E1", 37: "NONE", 39: "8", 54: "1", 55: "IBM", 58: "dup",
        60: "20260101-10:00:00.123", 103: "6", 150: "8", 151: "0"}


def test_cancel_reject_exact_tags() -> None:
    event = base.CancelRejected(TS, "IBM", "", "O", "C2", "C1", base.CancelRejectResponseTo.REPLACE,
                                base.CancelRejectReason.UNKNOWN_ORDER, "unknown order")
    assert tags(tr.cancel_reject(event, None, V44)) == {
        35: "9", 11: "C2", 37: "NONE", 39: "8", 41: "C1", 58: "unknown order", 60: "20260101-10:00:00.123",
        102: "1", 434: "2"}


def test_security_status_per_version() -> None:
    assert tags(tr.security_status("IBM", TradingPhase.HALTED, V44, ts_ns=TS, req_id="R", text="halt")) == {
        35: "f", 55: "IBM", 58: "halt", 60: "20260101-10:00:00.123", 324: "R", 326: "2", 625: "7"}
    assert 625 not in tags(tr.security_status("IBM", TradingPhase.HALTED, V42, ts_ns=TS))
