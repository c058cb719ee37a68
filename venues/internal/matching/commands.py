"""Commands of the matching engine, in integer ticks and lots (converted at the edge).

These are what the journal records and what replay feeds back: together with the timestamp passed
to :meth:`MatchingEngine.process` they fully determine the engine's behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass

from venues.base import CancelReason, OrdType, SelfTradePrevention, Side, TimeInForce, TradingPhase


@dataclass(slots=True)
class NewOrder:
    """Enter an order.  ``price`` is ignored for MARKET/STOP; ``display_qty`` 0 = fully displayed."""

    symbol: str
    owner: str
    cl_ord_id: str
    side: Side
    qty: int
    price: int = 0
    ord_type: OrdType = OrdType.LIMIT
    tif: TimeInForce = TimeInForce.DAY
    account: str = ""
    stp_group: str = ""
    stop_px: int = 0
    expire_time: int = 0
    display_qty: int = 0
    min_qty: int = 0
    post_only: bool = False
    stp: SelfTradePrevention | None = None


@dataclass(slots=True)
class CancelOrder:
    """Cancel one order, named by ``order_id`` (if non-zero) or by ``(owner, orig_cl_ord_id)``."""

    symbol: str
    owner: str
    cl_ord_id: str
    orig_cl_ord_id: str = ""
    order_id: int = 0


@dataclass(slots=True)
class ReplaceOrder:
    """Cancel/replace: new total ``qty``; ``price``/``stop_px`` None = unchanged.

    The order is named by ``order_id`` (if non-zero) or by ``(owner, orig_cl_ord_id)``; ``side``
    must equal the order's.
    """

    symbol: str
    owner: str
    cl_ord_id: str
    side: Side
    qty: int
    price: int | None = None
    stop_px: int | None = None
    orig_cl_ord_id: str = ""
    order_id: int = 0


@dataclass(slots=True)
class MassCancel:
    """Cancel every live order matching all the given filters (None = any)."""

    requester: str
    cl_ord_id: str
    symbol: str | None = None
    owner: str | None = None
    account: str | None = None
    reason: CancelReason = CancelReason.MASS_CANCEL


@dataclass(slots=True)
class AdvanceTime:
    """No business effect except letting time pass: GTD orders due by now expire."""


@dataclass(slots=True)
class EndOfDay:
    """End of the trading day: DAY (and leftover OPG/ATC) orders expire; ``symbol`` None = all."""

    symbol: str | None = None


@dataclass(slots=True)
class SetPhase:
    """Operator: move an instrument to ``phase`` (through an auction where the table says so)."""

    symbol: str
    phase: TradingPhase


@dataclass(slots=True)
class Halt:
    """Operator: stop matching on an instrument (orders keep accumulating)."""

    symbol: str
    text: str = "halted by operator"


@dataclass(slots=True)
class Resume:
    """Operator: end a halt - through a resumption auction if it interrupted continuous trading."""

    symbol: str


@dataclass(slots=True)
class SetReferencePrice:
    """Operator: set the reference price the price bands and market protection are measured from."""

    symbol: str
    price: int


Command = (
    NewOrder | CancelOrder | ReplaceOrder | MassCancel | AdvanceTime | EndOfDay | SetPhase | Halt | Resume
    | SetReferencePrice
)  # fmt: skip
