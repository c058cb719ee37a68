"""The trading-phase state machine of one instrument: the explicit transition table.

The states are :class:`venues.base.TradingPhase` (each documented there).  Operators ask for the
*target* phase; the engine passes through the transient auction phases by itself:

* ``PRE_OPEN -> CONTINUOUS`` runs ``OPENING_AUCTION`` (uncross, OPG remainders expire);
* ``CLOSING_CALL -> CLOSED`` runs ``CLOSING_AUCTION`` (uncross, ATC remainders expire);
* ``Resume`` of a halt that interrupted continuous trading runs ``RESUMPTION_AUCTION``;
  a halt of a call phase resumes into that call.
"""

from __future__ import annotations

from venues.base import TradingPhase

P = TradingPhase

TRANSITIONS: dict[TradingPhase, frozenset[TradingPhase]] = {
    P.CLOSED: frozenset({P.PRE_OPEN}),
    P.PRE_OPEN: frozenset({P.OPENING_AUCTION, P.HALTED, P.CLOSED}),
    P.OPENING_AUCTION: frozenset({P.CONTINUOUS}),
    P.CONTINUOUS: frozenset({P.CLOSING_CALL, P.HALTED, P.CLOSED}),
    P.CLOSING_CALL: frozenset({P.CLOSING_AUCTION, P.HALTED}),
    P.CLOSING_AUCTION: frozenset({P.CLOSED}),
    P.HALTED: frozenset({P.RESUMPTION_AUCTION, P.PRE_OPEN, P.CLOSING_CALL, P.CLOSED}),
    P.RESUMPTION_AUCTION: frozenset({P.CONTINUOUS}),
}
"""Allowed moves, including the engine's own moves into and out of the transient auctions."""

AUCTION_INTO: dict[tuple[TradingPhase, TradingPhase], TradingPhase] = {
    (P.PRE_OPEN, P.CONTINUOUS): P.OPENING_AUCTION,
    (P.CLOSING_CALL, P.CLOSED): P.CLOSING_AUCTION,
    (P.HALTED, P.CONTINUOUS): P.RESUMPTION_AUCTION,
}
"""Operator targets reached through an auction: ``(from, to) -> auction phase``."""

ACCEPTS_ORDERS = frozenset({P.PRE_OPEN, P.CONTINUOUS, P.CLOSING_CALL, P.HALTED})
"""Phases in which new orders and replaces are accepted (cancels are accepted always)."""


def can_move(current: TradingPhase, target: TradingPhase) -> bool:
    """Whether the operator may ask for ``target`` now (directly or through an auction)."""
    auction = AUCTION_INTO.get((current, target))
    if auction is not None:
        return True
    return target in TRANSITIONS[current] and target not in _TRANSIENT


def path(current: TradingPhase, target: TradingPhase) -> tuple[TradingPhase, ...]:
    """The phases entered, in order, to go from ``current`` to ``target`` (ValueError if illegal)."""
    if not can_move(current, target):
        raise ValueError(f"no transition {current.name} -> {target.name}")
    auction = AUCTION_INTO.get((current, target))
    return (target,) if auction is None else (auction, target)


_TRANSIENT = frozenset({P.OPENING_AUCTION, P.CLOSING_AUCTION, P.RESUMPTION_AUCTION})
