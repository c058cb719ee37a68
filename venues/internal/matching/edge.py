"""The Decimal edge of the matching core: venue requests -> engine commands -> venue events.

Conversion never rejects by itself: a price or quantity that is off the instrument's grid becomes
an integer the engine refuses (price -1, quantity 0), so every reject is decided - and numbered -
by the engine and is reproduced by journal replay.
"""

from __future__ import annotations

from decimal import Decimal

from venues import base

from . import events as raw
from .commands import CancelOrder, Command, MassCancel, NewOrder, ReplaceOrder
from .engine import MatchingEngine
from .instrument import Instrument, OffGridError

_OFF_GRID = -1


def _ticks(inst: Instrument | None, price: Decimal | None) -> int:
    if price is None:
        return 0
    if inst is None:
        return _OFF_GRID
    try:
        return inst.price_to_ticks(price)
    except OffGridError:
        return _OFF_GRID


def _lots(inst: Instrument | None, qty: Decimal | None, *, absent: int = 0, bad: int = 0) -> int:
    if qty is None:
        return absent
    if inst is None:
        return bad
    try:
        return inst.qty_to_lots(qty)
    except OffGridError:
        return bad


def _order_id(text: str) -> int:
    if not text:
        return 0
    return int(text) if text.isdigit() else -1


class DecimalEdge:
    """Wraps a :class:`MatchingEngine` with the Decimal request/event types of :mod:`venues.base`."""

    def __init__(self, engine: MatchingEngine) -> None:
        self.engine = engine

    def _instrument(self, symbol: str | None) -> Instrument | None:
        if symbol is None or symbol not in self.engine.symbols():
            return None
        return self.engine.instrument(symbol)

    # ------------------------------------------------------------------ requests -> commands

    def to_command(self, request: base.VenueRequest) -> Command:
        """The integer command for a venue request (off-grid values become refusable integers)."""
        if isinstance(request, base.OrderRequest):
            inst = self._instrument(request.symbol)
            return NewOrder(
                symbol=request.symbol,
                owner=request.owner,
                cl_ord_id=request.cl_ord_id,
                side=request.side,
                qty=_lots(inst, request.qty),
                price=_ticks(inst, request.price),
                ord_type=request.ord_type,
                tif=request.tif,
                account=request.account,
                stp_group=request.stp_group,
                stop_px=_ticks(inst, request.stop_px),
                expire_time=request.expire_time or 0,
                display_qty=_lots(inst, request.display_qty, bad=-1),
                min_qty=_lots(inst, request.min_qty, bad=-1),
                post_only=request.post_only,
                stp=request.stp,
            )
        if isinstance(request, base.CancelRequest):
            return CancelOrder(
                request.symbol,
                request.owner,
                request.cl_ord_id,
                request.orig_cl_ord_id,
                _order_id(request.order_id),
            )
        if isinstance(request, base.ReplaceRequest):
            inst = self._instrument(request.symbol)
            return ReplaceOrder(
                symbol=request.symbol,
                owner=request.owner,
                cl_ord_id=request.cl_ord_id,
                side=request.side,
                qty=_lots(inst, request.qty),
                price=None if request.price is None else _ticks(inst, request.price),
                stop_px=None if request.stop_px is None else _ticks(inst, request.stop_px),
                orig_cl_ord_id=request.orig_cl_ord_id,
                order_id=_order_id(request.order_id),
            )
        if isinstance(request, base.MassCancelRequest):
            return MassCancel(
                request.requester,
                request.cl_ord_id,
                request.symbol,
                request.owner,
                request.account,
                request.reason,
            )
        raise TypeError(f"not a venue request: {request!r}")

    # ------------------------------------------------------------------ events -> venue events

    def to_event(self, event: raw.Event) -> base.VenueEvent:
        """The Decimal venue event for an engine event."""
        if isinstance(event, raw.MassCancelled):
            return base.MassCancelled(
                event.ts,
                event.requester,
                event.cl_ord_id,
                event.symbol,
                event.cancelled,
                event.reason,
                event.text,
            )
        inst = self._instrument(event.symbol)
        if inst is None:  # only rejects can name an unknown symbol
            if isinstance(event, raw.Rejected):
                return base.Rejected(
                    event.ts, event.symbol, event.owner, event.cl_ord_id, str(event.exec_id), event.side, event.reason,
                    event.text,
                )  # fmt: skip
            if isinstance(event, raw.CancelRejected):
                return base.CancelRejected(
                    event.ts, event.symbol, _id(event.order_id), event.owner, event.cl_ord_id, event.orig_cl_ord_id,
                    event.response_to, event.reason, event.text,
                )  # fmt: skip
            raise ValueError(f"event for unknown instrument: {event!r}")
        px = inst.ticks_to_price
        qty = inst.lots_to_qty
        if isinstance(event, raw.Fill):
            avg = Decimal(event.notional) / Decimal(event.cum_qty) * inst.tick_size
            return base.Fill(
                event.ts, event.symbol, str(event.order_id), event.owner, event.cl_ord_id, str(event.exec_id),
                event.side, str(event.match_id), qty(event.last_qty), px(event.last_px), qty(event.cum_qty),
                qty(event.leaves_qty), avg, event.liquidity, event.account,
            )  # fmt: skip
        if isinstance(event, raw.Accepted):
            return base.Accepted(
                event.ts, event.symbol, str(event.order_id), event.owner, event.cl_ord_id, str(event.exec_id),
                event.side, event.ord_type, event.tif, qty(event.qty), _px(inst, event.price), _px(inst, event.stop_px),
            )  # fmt: skip
        if isinstance(event, raw.Cancelled):
            return base.Cancelled(
                event.ts, event.symbol, str(event.order_id), event.owner, event.cl_ord_id, event.orig_cl_ord_id,
                str(event.exec_id), event.side, qty(event.cum_qty) if event.cum_qty else Decimal(0),
                qty(event.cancelled_qty), event.reason,
            )  # fmt: skip
        if isinstance(event, raw.Replaced):
            return base.Replaced(
                event.ts, event.symbol, str(event.order_id), event.owner, event.cl_ord_id, event.orig_cl_ord_id,
                str(event.exec_id), event.side, qty(event.qty), _px(inst, event.price), _px(inst, event.stop_px),
                _qty0(inst, event.cum_qty), _qty0(inst, event.leaves_qty), event.priority_kept,
            )  # fmt: skip
        if isinstance(event, raw.Rejected):
            return base.Rejected(
                event.ts, event.symbol, event.owner, event.cl_ord_id, str(event.exec_id), event.side, event.reason,
                event.text,
            )  # fmt: skip
        if isinstance(event, raw.CancelRejected):
            return base.CancelRejected(
                event.ts, event.symbol, _id(event.order_id), event.owner, event.cl_ord_id, event.orig_cl_ord_id,
                event.response_to, event.reason, event.text,
            )  # fmt: skip
        if isinstance(event, raw.Expired):
            return base.Expired(
                event.ts, event.symbol, str(event.order_id), event.owner, event.cl_ord_id, str(event.exec_id),
                event.side, _qty0(inst, event.cum_qty), qty(event.expired_qty),
            )  # fmt: skip
        if isinstance(event, raw.Triggered):
            return base.Triggered(
                event.ts, event.symbol, str(event.order_id), event.owner, event.cl_ord_id, str(event.exec_id),
                event.side, event.ord_type, _px(inst, event.price),
            )  # fmt: skip
        if isinstance(event, raw.Restated):
            return base.Restated(
                event.ts, event.symbol, str(event.order_id), event.owner, event.cl_ord_id, str(event.exec_id),
                event.side, qty(event.qty), _qty0(inst, event.leaves_qty), _qty0(inst, event.display_qty),
                event.reason,
            )  # fmt: skip
        if isinstance(event, raw.PhaseChanged):
            return base.PhaseChanged(event.ts, event.symbol, event.phase, event.previous, event.text)
        if isinstance(event, raw.IndicativePrice):
            return base.IndicativePrice(
                event.ts, event.symbol, _px(inst, event.price), _qty0(inst, event.volume),
                Decimal(event.surplus) * inst.lot_size,
            )  # fmt: skip
        raise TypeError(f"not a matching event: {event!r}")

    def process(self, request: base.VenueRequest, ts: int) -> list[base.VenueEvent]:
        """Convert, apply at ``ts`` and convert back."""
        return [self.to_event(e) for e in self.engine.process(self.to_command(request), ts)]


def _px(inst: Instrument, ticks: int) -> Decimal | None:
    return inst.ticks_to_price(ticks) if ticks > 0 else None


def _qty0(inst: Instrument, lots: int) -> Decimal:
    return Decimal(lots) * inst.lot_size


def _id(order_id: int) -> str:
    return str(order_id) if order_id > 0 else ""
