"""Events only an external (FIX) venue produces, on top of :mod:`venues.base`'s events.

A third-party exchange can take back or correct an execution after the fact (ExecType H/G in
FIX.4.3+, ExecTransType 1/2 in FIX.4.2).  The internal venue never does, so these events live
here.  A broker books a :class:`TradeBust` as a reversal of the fill named by ``exec_ref_id`` and
a :class:`TradeCorrected` as a reversal plus a new booking (DESIGN.md: corrections are reversals,
never edits).  :class:`OrderRestated` carries a restatement whose ExecRestatementReason(378) has no
:class:`venues.base.RestatementReason`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from venues.base import Side, VenueEvent


@dataclass(frozen=True, slots=True)
class TradeBust:
    """The venue cancelled an earlier execution ``exec_ref_id`` of this order (ExecType=H)."""

    ts: int
    symbol: str
    order_id: str
    owner: str
    cl_ord_id: str
    exec_id: str
    exec_ref_id: str
    side: Side
    cum_qty: Decimal
    leaves_qty: Decimal
    avg_px: Decimal
    account: str


@dataclass(frozen=True, slots=True)
class TradeCorrected:
    """The venue corrected execution ``exec_ref_id``: it now reads ``last_qty`` @ ``last_px`` (ExecType=G)."""

    ts: int
    symbol: str
    order_id: str
    owner: str
    cl_ord_id: str
    exec_id: str
    exec_ref_id: str
    side: Side
    last_qty: Decimal
    last_px: Decimal
    cum_qty: Decimal
    leaves_qty: Decimal
    avg_px: Decimal
    account: str


@dataclass(frozen=True, slots=True)
class OrderRestated:
    """The venue restated a live order for a reason :class:`venues.base.Restated` cannot name."""

    ts: int
    symbol: str
    order_id: str
    owner: str
    cl_ord_id: str
    exec_id: str
    side: Side
    qty: Decimal
    leaves_qty: Decimal
    restatement_reason: int | None
    text: str


ExternalEvent = VenueEvent | TradeBust | TradeCorrected | OrderRestated
