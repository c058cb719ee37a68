"""Events of the matching engine, in integer ticks and lots.

They mirror the Decimal events of :mod:`venues.base` field for field (ids are integers here,
prices of 0 mean "none") and are converted by :mod:`venues.internal.matching.edge`.  They are plain
slotted dataclasses, cheap to build on the hot path; nothing mutates them after emission.
"""

from __future__ import annotations

from dataclasses import dataclass

from venues.base import (
    CancelReason,
    CancelRejectReason,
    CancelRejectResponseTo,
    Liquidity,
    OrdType,
    RejectReason,
    RestatementReason,
    Side,
    TimeInForce,
    TradingPhase,
)


@dataclass(slots=True)
class Accepted:
    """The order is live (ExecType=0)."""

    ts: int
    symbol: str
    order_id: int
    owner: str
    cl_ord_id: str
    exec_id: int
    side: Side
    ord_type: OrdType
    tif: TimeInForce
    qty: int
    price: int
    stop_px: int


@dataclass(slots=True)
class Fill:
    """One side of a trade (ExecType=F); ``notional`` is the order's cumulative sum of qty * price."""

    ts: int
    symbol: str
    order_id: int
    owner: str
    cl_ord_id: str
    exec_id: int
    side: Side
    match_id: int
    last_qty: int
    last_px: int
    cum_qty: int
    leaves_qty: int
    notional: int
    liquidity: Liquidity
    account: str


@dataclass(slots=True)
class Cancelled:
    """The order is done without further execution (ExecType=4)."""

    ts: int
    symbol: str
    order_id: int
    owner: str
    cl_ord_id: str
    orig_cl_ord_id: str
    exec_id: int
    side: Side
    cum_qty: int
    cancelled_qty: int
    reason: CancelReason


@dataclass(slots=True)
class Replaced:
    """A cancel/replace took effect (ExecType=5)."""

    ts: int
    symbol: str
    order_id: int
    owner: str
    cl_ord_id: str
    orig_cl_ord_id: str
    exec_id: int
    side: Side
    qty: int
    price: int
    stop_px: int
    cum_qty: int
    leaves_qty: int
    priority_kept: bool


@dataclass(slots=True)
class Rejected:
    """The order was refused (ExecType=8)."""

    ts: int
    symbol: str
    owner: str
    cl_ord_id: str
    exec_id: int
    side: Side
    reason: RejectReason
    text: str


@dataclass(slots=True)
class CancelRejected:
    """A cancel or replace was refused (35=9)."""

    ts: int
    symbol: str
    order_id: int
    owner: str
    cl_ord_id: str
    orig_cl_ord_id: str
    response_to: CancelRejectResponseTo
    reason: CancelRejectReason
    text: str


@dataclass(slots=True)
class Expired:
    """The order's time in force ended (ExecType=C)."""

    ts: int
    symbol: str
    order_id: int
    owner: str
    cl_ord_id: str
    exec_id: int
    side: Side
    cum_qty: int
    expired_qty: int


@dataclass(slots=True)
class Triggered:
    """A stop order triggered and now works as ``ord_type`` (ExecType=L)."""

    ts: int
    symbol: str
    order_id: int
    owner: str
    cl_ord_id: str
    exec_id: int
    side: Side
    ord_type: OrdType
    price: int


@dataclass(slots=True)
class Restated:
    """The venue changed a live order by itself (ExecType=D)."""

    ts: int
    symbol: str
    order_id: int
    owner: str
    cl_ord_id: str
    exec_id: int
    side: Side
    qty: int
    leaves_qty: int
    display_qty: int
    reason: RestatementReason


@dataclass(slots=True)
class MassCancelled:
    """Summary of a mass cancel; ``text`` set when it was refused."""

    ts: int
    requester: str
    cl_ord_id: str
    symbol: str | None
    cancelled: int
    reason: CancelReason
    text: str = ""


@dataclass(slots=True)
class PhaseChanged:
    """An instrument entered a new trading phase."""

    ts: int
    symbol: str
    phase: TradingPhase
    previous: TradingPhase
    text: str = ""


@dataclass(slots=True)
class IndicativePrice:
    """Indicative uncrossing price during a call (``price`` 0 = nothing would execute)."""

    ts: int
    symbol: str
    price: int
    volume: int
    surplus: int


Event = (
    Accepted | Fill | Cancelled | Replaced | Rejected | CancelRejected | Expired | Triggered | Restated
    | MassCancelled | PhaseChanged | IndicativePrice
)  # fmt: skip
