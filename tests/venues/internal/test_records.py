"""Journal records: every venue command survives encode -> JSON -> decode unchanged."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from venues.base import (
    CancelReason,
    CancelRequest,
    MassCancelRequest,
    OrderRequest,
    OrdType,
    ReplaceRequest,
    SelfTradePrevention,
    Side,
    TimeInForce,
    TradingPhase,
)
from venues.internal import records as r

D = Decimal

COMMANDS = [
    OrderRequest("AAPL", "s1", "c1", Side.BUY, D("10"), price=D("100.01")),
    OrderRequest(
        "AAPL",
        "s1",
        "c2",
        Side.SELL_SHORT,
        D("5"),
        OrdType.STOP_LIMIT,
        D("99.5"),
        D("99.75"),
        TimeInForce.GTD,
        "ACC",
        "G1",
        123456789,
        D("1"),
        D("2"),
        True,
        SelfTradePrevention.DECREMENT_AND_CANCEL,
    ),  # fmt: skip
    CancelRequest("AAPL", "s1", "x1", orig_cl_ord_id="c1"),
    CancelRequest("AAPL", "s1", "x2", order_id="17"),
    ReplaceRequest("AAPL", "s1", "r1", Side.BUY, D("12"), price=None, orig_cl_ord_id="c1"),
    ReplaceRequest("AAPL", "s1", "r2", Side.BUY, D("12"), price=D("1.10"), stop_px=D("1.00"), order_id="3"),
    MassCancelRequest("s1", "m1"),
    MassCancelRequest("s1", "m2", "AAPL", "s2", "ACC", CancelReason.CANCEL_ON_LOGOUT),
    r.SetReference("AAPL", D("101.50")),
    r.HaltInstrument("AAPL", "news"),
    r.HaltInstrument("AAPL"),
    r.ResumeInstrument("AAPL"),
    r.ChangePhase("AAPL", TradingPhase.CLOSING_CALL),
    r.DayEnd(),
    r.TimeTick(),
    r.KillSwitch(True, account="A"),
    r.KillSwitch(False, owner="s1"),
    r.KillSwitch(True, "A", "s1"),
    r.OwnerDisconnected("s1"),
    r.OwnerDisconnected("s1", False, CancelReason.CANCEL_ON_LOGOUT),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: type(c).__name__)
def test_round_trip(command: r.VenueCommand) -> None:
    record = r.encode(command)
    assert r.decode(json.loads(json.dumps(record))) == command


def test_records_are_compact() -> None:
    assert r.encode(COMMANDS[0]) == {
        "t": "D", "symbol": "AAPL", "owner": "s1", "cl_ord_id": "c1", "side": "1", "qty": "10", "price": "100.01",
    }  # fmt: skip


def test_unknown_tag_is_refused() -> None:
    with pytest.raises(ValueError):
        r.decode({"t": "zz"})
