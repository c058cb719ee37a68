"""The phase transition table."""

from __future__ import annotations

import pytest

from venues.base import TradingPhase as P
from venues.internal.matching import phases


def test_every_phase_has_a_row_and_auctions_are_transient() -> None:
    assert set(phases.TRANSITIONS) == set(P)
    for auction in (P.OPENING_AUCTION, P.CLOSING_AUCTION, P.RESUMPTION_AUCTION):
        assert not phases.can_move(P.CLOSED, auction)
        assert len(phases.TRANSITIONS[auction]) == 1


@pytest.mark.parametrize(
    ("start", "target", "path"),
    [
        (P.CLOSED, P.PRE_OPEN, (P.PRE_OPEN,)),
        (P.PRE_OPEN, P.CONTINUOUS, (P.OPENING_AUCTION, P.CONTINUOUS)),
        (P.CONTINUOUS, P.CLOSING_CALL, (P.CLOSING_CALL,)),
        (P.CLOSING_CALL, P.CLOSED, (P.CLOSING_AUCTION, P.CLOSED)),
        (P.HALTED, P.CONTINUOUS, (P.RESUMPTION_AUCTION, P.CONTINUOUS)),
        (P.CONTINUOUS, P.HALTED, (P.HALTED,)),
    ],
)
def test_paths(start: P, target: P, path: tuple[P, ...]) -> None:
    assert phases.path(start, target) == path


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (P.CLOSED, P.CONTINUOUS),
        (P.CONTINUOUS, P.PRE_OPEN),
        (P.CLOSED, P.HALTED),
        (P.PRE_OPEN, P.OPENING_AUCTION),
    ],
)
def test_illegal_moves(start: P, target: P) -> None:
    assert not phases.can_move(start, target)
    with pytest.raises(ValueError):
        phases.path(start, target)


def test_fix_codes_of_phases() -> None:
    assert P.CONTINUOUS.trading_session_sub_id == "3"
    assert P.HALTED.security_trading_status == 2
    assert P.PRE_OPEN.is_call and not P.CONTINUOUS.is_call
