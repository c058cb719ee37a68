"""translate: venue requests -> FIX fields (exact, per version) and FIX reports -> records."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fix_engine.codec.message import FixMessage
from venues.base import (
    CancelRejectResponseTo,
    Liquidity,
    OrderRequest,
    OrdType,
    ReplaceRequest,
    Side,
    TimeInForce,
)
from venues.external.translate import (
    ExecKind,
    FixVersion,
    new_order_single,
    order_cancel_replace_request,
    order_cancel_request,
    order_mass_cancel_request,
    order_mass_status_request,
    parse_business_reject,
    parse_cancel_reject,
    parse_execution_report,
    parse_mass_cancel_report,
    timestamp_ns,
    transact_time,
)

TT = "20260102-10:00:00.000"
ORDER = OrderRequest("IBM", "CLIENT1", "C-1", Side.BUY, Decimal("100"), OrdType.LIMIT, Decimal("10.50"))


def fields(message: FixMessage) -> list[tuple[int, str]]:
    return [(tag, value.decode()) for tag, value in message.iter_flat()]


# --------------------------------------------------------------------------- outgoing


def test_new_order_single_fix42_has_handl_inst() -> None:
    msg = new_order_single(ORDER, "B-1", TT, FixVersion.FIX42)
    assert fields(msg) == [
        (35, "D"), (11, "B-1"), (21, "1"), (38, "100"), (40, "2"), (44, "10.5"), (54, "1"), (55, "IBM"),
        (59, "0"), (60, TT),
    ]


def test_new_order_single_fix44() -> None:
    msg = new_order_single(ORDER, "B-1", TT, FixVersion.FIX44)
    assert fields(msg) == [
        (35, "D"), (11, "B-1"), (38, "100"), (40, "2"), (44, "10.5"), (54, "1"), (55, "IBM"), (59, "0"), (60, TT),
    ]


def test_new_order_single_fix50sp2_every_optional_field() -> None:
    order = OrderRequest(
        "IBM", "CLIENT1", "C-1", Side.SELL_SHORT, Decimal("1000.000"), OrdType.STOP_LIMIT, Decimal("99.125"),
        stop_px=Decimal("99.5"), tif=TimeInForce.GTD, account="ACC1",
        expire_time=1_767_348_000_123_456_789, display_qty=Decimal("100"), min_qty=Decimal("200"), post_only=True,
    )
    msg = new_order_single(order, "B-2", TT, FixVersion.FIX50SP2)
    assert fields(msg) == [
        (35, "D"), (1, "ACC1"), (11, "B-2"), (18, "6"), (38, "1000"), (40, "4"), (44, "99.125"), (54, "5"),
        (55, "IBM"), (59, "6"), (60, TT), (99, "99.5"), (110, "200"), (126, "20260102-10:00:00.123"),
        (1138, "100"),
    ]


def test_new_order_single_fix44_display_qty_is_max_floor_and_market_has_no_price() -> None:
    order = OrderRequest("IBM", "O", "C", Side.BUY, Decimal("5"), OrdType.MARKET, Decimal("1"), display_qty=Decimal("1"))
    msg = new_order_single(order, "B", TT, FixVersion.FIX44)
    assert 44 not in msg
    assert msg.get(111) == "1"
    assert 1138 not in msg


@pytest.mark.parametrize("version", list(FixVersion))
def test_order_cancel_request(version: FixVersion) -> None:
    msg = order_cancel_request("B-3", "B-1", "EX-9", "IBM", Side.BUY, Decimal("100"), TT)
    assert fields(msg) == [
        (35, "F"), (11, "B-3"), (37, "EX-9"), (38, "100"), (41, "B-1"), (54, "1"), (55, "IBM"), (60, TT),
    ]


def test_order_cancel_replace_request_fix42_and_fix44() -> None:
    request = ReplaceRequest("IBM", "CLIENT1", "C-2", Side.BUY, Decimal("80"), Decimal("10.25"), orig_cl_ord_id="C-1")
    msg42 = order_cancel_replace_request(request, "B-4", "B-1", "EX-9", OrdType.LIMIT, TimeInForce.DAY, TT, FixVersion.FIX42)
    assert fields(msg42) == [
        (35, "G"), (11, "B-4"), (21, "1"), (37, "EX-9"), (38, "80"), (40, "2"), (41, "B-1"), (44, "10.25"),
        (54, "1"), (55, "IBM"), (59, "0"), (60, TT),
    ]
    msg44 = order_cancel_replace_request(request, "B-4", "B-1", "", OrdType.LIMIT, TimeInForce.GTC, TT, FixVersion.FIX44)
    assert fields(msg44) == [
        (35, "G"), (11, "B-4"), (38, "80"), (40, "2"), (41, "B-1"), (44, "10.25"), (54, "1"), (55, "IBM"),
        (59, "1"), (60, TT),
    ]


def test_mass_cancel_and_mass_status_requests() -> None:
    assert fields(order_mass_cancel_request("B-5", "IBM", TT)) == [(35, "q"), (11, "B-5"), (55, "IBM"), (60, TT), (530, "1")]
    assert fields(order_mass_cancel_request("B-6", None, TT)) == [(35, "q"), (11, "B-6"), (60, TT), (530, "7")]
    assert fields(order_mass_status_request("MS-1")) == [(35, "AF"), (584, "MS-1"), (585, "7")]
    assert fields(order_mass_status_request("MS-2", "IBM")) == [(35, "AF"), (55, "IBM"), (584, "MS-2"), (585, "1")]


def test_version_of_session() -> None:
    assert FixVersion.of_session("FIX.4.2") is FixVersion.FIX42
    assert FixVersion.of_session("FIX.4.3") is FixVersion.FIX44
    assert FixVersion.of_session("FIXT.1.1", "FIX.5.0SP2") is FixVersion.FIX50SP2
    with pytest.raises(ValueError, match="FIX.4.0"):
        FixVersion.of_session("FIX.4.0")
    assert not FixVersion.FIX42.has_mass_messages


def test_transact_time_and_timestamps_are_exact() -> None:
    assert transact_time(1_767_348_000.5) == "20260102-10:00:00.500"
    msg = FixMessage.new("8", (60, "20260102-10:00:00.123456"))
    assert timestamp_ns(msg, 60) == 1_767_348_000_123_456_000


# --------------------------------------------------------------------------- incoming


def er(*pairs: tuple[int, str]) -> FixMessage:
    return FixMessage.new("8", *pairs)


FILL44 = er(
    (6, "10.4"), (11, "B-1"), (14, "60"), (17, "E-2"), (31, "10.3"), (32, "20"), (37, "EX-9"), (38, "100"),
    (39, "1"), (40, "2"), (44, "10.5"), (54, "1"), (55, "IBM"), (59, "0"), (60, TT), (150, "F"), (151, "40"),
    (851, "2"), (880, "M-7"),
)


def test_parse_fix44_trade_exact_fields() -> None:
    r = parse_execution_report(FILL44, FixVersion.FIX44)
    assert r.kind is ExecKind.TRADE
    assert (r.cl_ord_id, r.order_id, r.exec_id, r.symbol, r.side) == ("B-1", "EX-9", "E-2", "IBM", Side.BUY)
    assert (r.last_qty, r.last_px, r.cum_qty, r.leaves_qty, r.avg_px) == (
        Decimal("20"), Decimal("10.3"), Decimal("60"), Decimal("40"), Decimal("10.4"),
    )
    assert (r.qty, r.price, r.ord_type, r.tif) == (Decimal("100"), Decimal("10.5"), OrdType.LIMIT, TimeInForce.DAY)
    assert r.liquidity is Liquidity.REMOVED and r.match_id == "M-7"
    assert r.transact_time_ns == 1_767_348_000_000_000_000
    assert not r.poss_dup


@pytest.mark.parametrize(
    ("version", "exec_type", "trans_type", "kind"),
    [
        (FixVersion.FIX42, "1", "0", ExecKind.TRADE),
        (FixVersion.FIX42, "2", "0", ExecKind.TRADE),
        (FixVersion.FIX42, "2", "1", ExecKind.TRADE_CANCEL),
        (FixVersion.FIX42, "1", "2", ExecKind.TRADE_CORRECT),
        (FixVersion.FIX42, "0", "3", ExecKind.STATUS),
        (FixVersion.FIX42, "D", "0", ExecKind.RESTATED),
        (FixVersion.FIX44, "F", None, ExecKind.TRADE),
        (FixVersion.FIX44, "G", None, ExecKind.TRADE_CORRECT),
        (FixVersion.FIX44, "H", None, ExecKind.TRADE_CANCEL),
        (FixVersion.FIX44, "I", None, ExecKind.STATUS),
        (FixVersion.FIX44, "1", None, ExecKind.OTHER),
        (FixVersion.FIX50SP2, "F", None, ExecKind.TRADE),
        (FixVersion.FIX50SP2, "4", None, ExecKind.CANCELLED),
        (FixVersion.FIX50SP2, "5", None, ExecKind.REPLACED),
        (FixVersion.FIX50SP2, "8", None, ExecKind.REJECTED),
        (FixVersion.FIX50SP2, "C", None, ExecKind.EXPIRED),
        (FixVersion.FIX50SP2, "E", None, ExecKind.PENDING_REPLACE),
    ],
)
def test_exec_kind_per_version(version: FixVersion, exec_type: str, trans_type: str | None, kind: ExecKind) -> None:
    pairs = [(17, "E"), (37, "O"), (39, "0"), (54, "1"), (150, exec_type)]
    if trans_type is not None:
        pairs.append((20, trans_type))
    assert parse_execution_report(er(*pairs), version).kind is kind


def test_parse_fix50sp2_without_avg_px_and_fix42_reject() -> None:
    r = parse_execution_report(er((14, "0"), (17, "E"), (37, "O"), (39, "0"), (54, "2"), (150, "0"), (151, "5")), FixVersion.FIX50SP2)
    assert r.avg_px is None and r.leaves_qty == Decimal("5") and r.side is Side.SELL
    rej = parse_execution_report(
        er((6, "0"), (11, "B-9"), (14, "0"), (17, "E9"), (20, "0"), (37, "NONE"), (39, "8"), (54, "1"), (55, "BAD"),
           (58, "unknown symbol"), (103, "1"), (150, "8"), (151, "0")),
        FixVersion.FIX42,
    )
    assert (rej.kind, rej.ord_rej_reason, rej.text) == (ExecKind.REJECTED, 1, "unknown symbol")


def test_parse_cancel_reject_mass_cancel_report_and_business_reject() -> None:
    cxl = parse_cancel_reject(FixMessage.new("9", (11, "B-3"), (37, "EX-9"), (39, "2"), (41, "B-1"), (58, "too late"), (102, "0"), (434, "2")))
    assert (cxl.cl_ord_id, cxl.orig_cl_ord_id, cxl.order_id, cxl.ord_status) == ("B-3", "B-1", "EX-9", "2")
    assert (cxl.response_to, cxl.cxl_rej_reason, cxl.text) == (CancelRejectResponseTo.REPLACE, 0, "too late")
    mcr = parse_mass_cancel_report(FixMessage.new("r", (11, "B-5"), (37, "X"), (530, "7"), (531, "7"), (533, "3")))
    assert (mcr.cl_ord_id, mcr.accepted, mcr.total_affected) == ("B-5", True, 3)
    refused = parse_mass_cancel_report(FixMessage.new("r", (11, "B-6"), (37, "X"), (530, "7"), (531, "0"), (532, "99"), (58, "no")))
    assert (refused.accepted, refused.reject_reason, refused.text) == (False, 99, "no")
    bmr = parse_business_reject(FixMessage.new("j", (45, "7"), (58, "unsupported"), (372, "AF"), (379, "MS-1"), (380, "3")))
    assert (bmr.ref_msg_type, bmr.ref_id, bmr.ref_seq_num, bmr.reason) == ("AF", "MS-1", 7, 3)
    session_reject = parse_business_reject(FixMessage.new("3", (45, "8"), (58, "Required tag missing"), (371, "40"), (372, "D"), (373, "1")))
    assert (session_reject.ref_seq_num, session_reject.reason, session_reject.ref_msg_type) == (8, 1, "D")
