"""venues.base: FIX codes behind the enums, frozen events, the small Venue interface."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from venues import base
from venues.base import CancelReason, OrdType, RejectReason, Side, TimeInForce


def test_enum_values_are_fix_codes() -> None:
    assert [s.value for s in Side] == ["1", "2", "5"]
    assert OrdType("4") is OrdType.STOP_LIMIT
    assert {t.name: t.value for t in TimeInForce} == {
        "DAY": "0", "GTC": "1", "OPG": "2", "IOC": "3", "FOK": "4", "GTD": "6", "ATC": "7"}  # fmt: skip


def test_cancel_reasons_map_to_exec_restatement_reason() -> None:
    assert [CancelReason[n].exec_restatement_reason for n in
            ("STP_DECREMENT", "STP_INCOMING", "STP_RESTING", "STP_BOTH")] == [17, 18, 19, 20]  # fmt: skip
    assert CancelReason.CANCEL_ON_DISCONNECT.exec_restatement_reason == 12
    assert CancelReason.CANCEL_ON_LOGOUT.exec_restatement_reason == 13
    assert CancelReason.TRADING_HALT.exec_restatement_reason == 6
    assert CancelReason.CLIENT_REQUEST.exec_restatement_reason is None


def test_every_reject_reason_has_an_ord_rej_reason() -> None:
    assert all(isinstance(r.ord_rej_reason, int) for r in RejectReason)
    assert (
        RejectReason.UNKNOWN_SYMBOL.ord_rej_reason == 1 and RejectReason.EXCHANGE_CLOSED.ord_rej_reason == 2
    )
    assert all(isinstance(r.cxl_rej_reason, int) for r in base.CancelRejectReason)


def test_requests_and_events_are_frozen() -> None:
    req = base.OrderRequest("X", "S1", "c", Side.BUY, Decimal(1), price=Decimal("1.5"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        req.qty = Decimal(2)  # type: ignore[misc]
    evt = base.PhaseChanged(1, "X", base.TradingPhase.HALTED, base.TradingPhase.CONTINUOUS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        evt.ts = 2  # type: ignore[misc]


def test_venue_interface_is_abstract_and_small() -> None:
    with pytest.raises(TypeError):
        base.Venue()  # type: ignore[abstract]
    assert base.Venue.__abstractmethods__ == {
        "name",
        "subscribe",
        "submit",
        "cancel",
        "replace",
        "mass_cancel",
    }
