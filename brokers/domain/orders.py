"""The broker's view of a client order and its lifecycle (pure: no I/O, no clock).

A :class:`ClientOrder` is what the broker remembers about one order a client sent: the broker
OrderID, the ClOrdID chain (original -> current, extended by cancel/replace requests), the terms
(side, type, quantity, prices, time in force; ``expire_time`` in integer nanoseconds since the epoch,
as everywhere at the venue edge), and the execution state (cum/leaves quantities, the
exact gross traded notional and the average price).

Its status is one :class:`ClientOrderStatus` enum moved only through :data:`TRANSITIONS`, an
explicit table keyed by (status, :class:`OrderEvent`).  Each event has its own method
(``on_ack``, ``on_fill``, ``on_cancelled``, ...) which raises :class:`IllegalTransition` when the
table does not allow the event in the current status, and returns a :class:`Transition` record
carrying the FIX ExecType(150) and OrdStatus(39) chars for the ExecutionReport that announces it.

Once an order is terminal nothing changes it any more: :meth:`ClientOrder.finished` packs it into a
plain tuple of atomic values (:class:`FinishedOrder` reads it back), which CPython's cyclic
garbage collector stops tracking -- a trading day of finished orders costs the collector nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import NamedTuple

from venues.base import OrdType, Side, TimeInForce

__all__ = [
    "ClientOrder",
    "ClientOrderStatus",
    "FinishedOrder",
    "IllegalTransition",
    "InvalidExecution",
    "OrdType",
    "OrderEvent",
    "PackedOrder",
    "Side",
    "TRANSITIONS",
    "TimeInForce",
    "Transition",
]

ZERO = Decimal(0)


class ClientOrderStatus(Enum):
    """Where a client order stands, with the FIX OrdStatus(39) char it is reported as.

    PENDING_NEW       received and vetted, sent to a venue, not yet acknowledged by it.
    NEW               acknowledged by the venue, working, nothing filled.
    PARTIALLY_FILLED  working with 0 < cum_qty < order qty.
    FILLED            cum_qty == order qty; terminal.
    PENDING_CANCEL    the client asked to cancel; the venue has not answered yet (fills may still come).
    PENDING_REPLACE   the client asked to replace; the venue has not answered yet (fills may still come).
    CANCELED          cancelled (by request, or unsolicited by the venue); terminal.
    REJECTED          refused by the OMS or the venue before it ever worked; terminal.
    EXPIRED           its time in force ran out (GTD expiry, IOC/FOK remainder, end of day); terminal.
    DONE_FOR_DAY      no further fills today, may resume on a later day (DAY-less orders).

    There is no REPLACED status: a replace keeps the order alive under its new ClOrdID and moves it
    back to NEW or PARTIALLY_FILLED (reported with ExecType 5, OrdStatus 0/1/2, as in FIX 4.4+).
    """

    PENDING_NEW = "A"
    NEW = "0"
    PARTIALLY_FILLED = "1"
    FILLED = "2"
    PENDING_CANCEL = "6"
    PENDING_REPLACE = "E"
    CANCELED = "4"
    REJECTED = "8"
    EXPIRED = "C"
    DONE_FOR_DAY = "3"

    #: members are singletons compared by identity: hash them by identity too (C speed, instead of
    #: Enum's ``hash(self._name_)`` in Python; they key the transition table and status sets)
    __hash__ = object.__hash__

    @property
    def ord_status(self) -> str:
        """The FIX OrdStatus(39) char for this status."""
        return self.value

    @property
    def exec_type(self) -> str:
        """The FIX ExecType(150) char of the ExecutionReport that moves an order *into* this status
        (a trade reports 'F' whether it leaves the order partially filled or filled)."""
        return _STATUS_EXEC_TYPE[self]

    @property
    def is_terminal(self) -> bool:
        """True when no further event can change the order (done for day may still resume)."""
        return self in _TERMINAL

    @property
    def is_working(self) -> bool:
        """True while the order rests at a venue and may still trade."""
        return self in _WORKING


_STATUS_EXEC_TYPE: Mapping[ClientOrderStatus, str] = {
    ClientOrderStatus.PENDING_NEW: "A",
    ClientOrderStatus.NEW: "0",
    ClientOrderStatus.PARTIALLY_FILLED: "F",
    ClientOrderStatus.FILLED: "F",
    ClientOrderStatus.PENDING_CANCEL: "6",
    ClientOrderStatus.PENDING_REPLACE: "E",
    ClientOrderStatus.CANCELED: "4",
    ClientOrderStatus.REJECTED: "8",
    ClientOrderStatus.EXPIRED: "C",
    ClientOrderStatus.DONE_FOR_DAY: "3",
}

_TERMINAL = frozenset(
    {ClientOrderStatus.FILLED, ClientOrderStatus.CANCELED, ClientOrderStatus.REJECTED, ClientOrderStatus.EXPIRED}
)
_WORKING = frozenset(
    {
        ClientOrderStatus.NEW,
        ClientOrderStatus.PARTIALLY_FILLED,
        ClientOrderStatus.PENDING_CANCEL,
        ClientOrderStatus.PENDING_REPLACE,
    }
)


class OrderEvent(Enum):
    """Something that happens to a client order; ``exec_type`` is the ExecType(150) char reporting it,
    or '' when the client is answered with an OrderCancelReject (35=9) instead of an ExecutionReport."""

    ACK = "ack"
    FILL = "fill"
    CANCEL_REQUESTED = "cancel_requested"
    CANCEL_REJECTED = "cancel_rejected"
    CANCELLED = "cancelled"
    REPLACE_REQUESTED = "replace_requested"
    REPLACE_REJECTED = "replace_rejected"
    REPLACED = "replaced"
    REJECTED = "rejected"
    EXPIRED = "expired"
    DONE_FOR_DAY = "done_for_day"
    RESTATED = "restated"

    __hash__ = object.__hash__  # identity, as ClientOrderStatus

    @property
    def exec_type(self) -> str:
        """The FIX ExecType(150) char, or '' when the event is answered with OrderCancelReject (35=9)."""
        return _EVENT_EXEC_TYPE[self]


_EVENT_EXEC_TYPE: Mapping[OrderEvent, str] = {
    OrderEvent.ACK: "0",
    OrderEvent.FILL: "F",
    OrderEvent.CANCEL_REQUESTED: "6",
    OrderEvent.CANCEL_REJECTED: "",
    OrderEvent.CANCELLED: "4",
    OrderEvent.REPLACE_REQUESTED: "E",
    OrderEvent.REPLACE_REJECTED: "",
    OrderEvent.REPLACED: "5",
    OrderEvent.REJECTED: "8",
    OrderEvent.EXPIRED: "C",
    OrderEvent.DONE_FOR_DAY: "3",
    OrderEvent.RESTATED: "D",
}


_S = ClientOrderStatus
_E = OrderEvent
_LIVE = (_S.NEW, _S.PARTIALLY_FILLED)
_PENDING = (_S.PENDING_CANCEL, _S.PENDING_REPLACE)

#: The only legal moves: (status, event) -> the statuses the event may lead to.  The event method
#: picks one of them from the quantities (e.g. a fill ends PARTIALLY_FILLED or FILLED).
TRANSITIONS: Mapping[tuple[ClientOrderStatus, OrderEvent], frozenset[ClientOrderStatus]] = {
    (_S.PENDING_NEW, _E.ACK): frozenset({_S.NEW}),
    (_S.PENDING_NEW, _E.REJECTED): frozenset({_S.REJECTED}),
    **{(s, _E.FILL): frozenset({_S.PARTIALLY_FILLED, _S.FILLED}) for s in _LIVE},
    **{(s, _E.FILL): frozenset({s, _S.FILLED}) for s in _PENDING},
    **{(s, _E.CANCEL_REQUESTED): frozenset({_S.PENDING_CANCEL}) for s in _LIVE},
    (_S.PENDING_CANCEL, _E.CANCEL_REJECTED): frozenset(_LIVE),
    (_S.FILLED, _E.CANCEL_REJECTED): frozenset({_S.FILLED}),  # filled while the cancel was pending
    **{(s, _E.CANCELLED): frozenset({_S.CANCELED}) for s in (*_LIVE, *_PENDING)},
    **{(s, _E.REPLACE_REQUESTED): frozenset({_S.PENDING_REPLACE}) for s in _LIVE},
    (_S.PENDING_REPLACE, _E.REPLACE_REJECTED): frozenset(_LIVE),
    (_S.FILLED, _E.REPLACE_REJECTED): frozenset({_S.FILLED}),  # filled while the replace was pending
    (_S.PENDING_REPLACE, _E.REPLACED): frozenset({*_LIVE, _S.FILLED}),
    **{(s, _E.EXPIRED): frozenset({_S.EXPIRED}) for s in (*_LIVE, *_PENDING, _S.DONE_FOR_DAY)},
    **{(s, _E.DONE_FOR_DAY): frozenset({_S.DONE_FOR_DAY}) for s in _LIVE},
    (_S.DONE_FOR_DAY, _E.RESTATED): frozenset(_LIVE),
    (_S.DONE_FOR_DAY, _E.CANCELLED): frozenset({_S.CANCELED}),
}


class IllegalTransition(Exception):
    """An event arrived that the order's current status does not allow (see :data:`TRANSITIONS`)."""

    def __init__(self, order_id: str, status: ClientOrderStatus, event: OrderEvent) -> None:
        super().__init__(f"order {order_id}: {event.name} is illegal in status {status.name}")
        self.order_id = order_id
        self.status = status
        self.event = event


class InvalidExecution(ValueError):
    """An execution whose numbers cannot apply (non-positive quantity or price, overfill, a replace
    below the quantity already filled)."""


@dataclass(frozen=True, slots=True)
class Transition:
    """The record of one applied event: what to tell the client in the ExecutionReport."""

    event: OrderEvent
    old_status: ClientOrderStatus
    new_status: ClientOrderStatus

    @property
    def exec_type(self) -> str:
        """ExecType(150) for the report ('' means answer with an OrderCancelReject instead)."""
        return self.event.exec_type

    @property
    def ord_status(self) -> str:
        """OrdStatus(39) for the report."""
        return self.new_status.ord_status


@dataclass(slots=True)
class ClientOrder:
    """One client order as the broker tracks it; mutated only through its ``on_*`` event methods.

    Quantities and prices are ``Decimal``.  ``gross_notional`` (sum of last_qty * last_px) is kept
    exactly; ``avg_px`` is derived from it.  ``cl_ord_id_chain`` lists every ClOrdID the order has
    carried, oldest first; ``cl_ord_id`` is the current one and ``orig_cl_ord_id`` the one before it.
    A pending cancel/replace ClOrdID is held in ``pending_cl_ord_id`` until the venue answers.
    """

    order_id: str
    cl_ord_id: str
    session_key: str
    account: str
    symbol: str
    side: Side
    ord_type: OrdType
    qty: Decimal
    price: Decimal | None = None
    stop_px: Decimal | None = None
    tif: TimeInForce = TimeInForce.DAY
    expire_time: int | None = None
    ex_destination: str | None = None
    status: ClientOrderStatus = ClientOrderStatus.PENDING_NEW
    cum_qty: Decimal = ZERO
    gross_notional: Decimal = ZERO
    last_qty: Decimal = ZERO
    last_px: Decimal = ZERO
    cl_ord_id_chain: tuple[str, ...] = ()
    pending_cl_ord_id: str | None = None
    pending_qty: Decimal | None = field(default=None)
    pending_price: Decimal | None = field(default=None)

    def __post_init__(self) -> None:
        if self.qty <= 0:
            raise InvalidExecution(f"order {self.order_id}: qty must be positive, got {self.qty}")
        if not self.cl_ord_id_chain:
            self.cl_ord_id_chain = (self.cl_ord_id,)

    # ---- derived quantities -------------------------------------------------------------------

    @property
    def leaves_qty(self) -> Decimal:
        """Quantity still open: order qty - cum qty while working, 0 once terminal or done for day."""
        if self.status.is_terminal or self.status is ClientOrderStatus.DONE_FOR_DAY:
            return ZERO
        return self.qty - self.cum_qty

    @property
    def avg_px(self) -> Decimal:
        """Average fill price: gross notional / cum qty (0 before the first fill)."""
        if self.cum_qty == 0:
            return ZERO
        return self.gross_notional / self.cum_qty

    @property
    def orig_cl_ord_id(self) -> str | None:
        """The ClOrdID before the current one (OrigClOrdID(41) of the last cancel/replace), if any."""
        return self.cl_ord_id_chain[-2] if len(self.cl_ord_id_chain) > 1 else None

    @property
    def original_cl_ord_id(self) -> str:
        """The very first ClOrdID of the chain."""
        return self.cl_ord_id_chain[0]

    def finished(self) -> PackedOrder:
        """This terminal order as a plain tuple of atomic values (read it with
        :meth:`FinishedOrder.unpack`); ``ValueError`` while the order can still change."""
        if not self.status.is_terminal:
            raise ValueError(f"order {self.order_id} is {self.status.name}, not terminal")
        return (  # the enums' ``_value_``: their values without the Enum descriptor's Python-level __get__
            self.order_id, self.cl_ord_id, self.session_key, self.account, self.symbol, self.side._value_,
            self.ord_type._value_, self.tif._value_, self.qty, self.price, self.stop_px, self.expire_time,
            self.ex_destination, self.status._value_, self.cum_qty, self.gross_notional,
            _CHAIN_SEPARATOR.join(self.cl_ord_id_chain),
        )  # fmt: skip

    # ---- events --------------------------------------------------------------------------------

    def on_ack(self) -> Transition:
        """The venue accepted the order."""
        return self._move(OrderEvent.ACK, ClientOrderStatus.NEW)

    def on_rejected(self) -> Transition:
        """The OMS or the venue refused the order before it worked."""
        return self._move(OrderEvent.REJECTED, ClientOrderStatus.REJECTED)

    def on_fill(self, last_qty: Decimal, last_px: Decimal) -> Transition:
        """A trade of ``last_qty`` at ``last_px``; raises :class:`InvalidExecution` on an overfill."""
        self._check_allowed(OrderEvent.FILL)
        if last_qty <= 0 or last_px <= 0:
            raise InvalidExecution(
                f"order {self.order_id}: fill needs positive qty and price, got {last_qty} @ {last_px}"
            )
        if last_qty > self.qty - self.cum_qty:
            raise InvalidExecution(
                f"order {self.order_id}: overfill {last_qty} > leaves {self.qty - self.cum_qty}"
            )
        complete = self.cum_qty + last_qty == self.qty
        if complete:
            target = ClientOrderStatus.FILLED
        elif self.status in _PENDING:
            target = self.status
        else:
            target = ClientOrderStatus.PARTIALLY_FILLED
        transition = self._move(OrderEvent.FILL, target)
        self.cum_qty += last_qty
        self.gross_notional += last_qty * last_px
        self.last_qty = last_qty
        self.last_px = last_px
        return transition

    def on_cancel_requested(self, cl_ord_id: str) -> Transition:
        """The client sent OrderCancelRequest (35=F) with a new ClOrdID."""
        transition = self._move(OrderEvent.CANCEL_REQUESTED, ClientOrderStatus.PENDING_CANCEL)
        self.pending_cl_ord_id = cl_ord_id
        return transition

    def on_cancel_rejected(self) -> Transition:
        """The venue refused the cancel: the order keeps working under its current ClOrdID."""
        transition = self._move(OrderEvent.CANCEL_REJECTED, self._working_status())
        self._clear_pending()
        return transition

    def on_cancelled(self) -> Transition:
        """Cancelled, on request (the pending ClOrdID becomes current) or unsolicited by the venue."""
        transition = self._move(OrderEvent.CANCELLED, ClientOrderStatus.CANCELED)
        self._adopt_pending_cl_ord_id()
        return transition

    def on_replace_requested(
        self, cl_ord_id: str, new_qty: Decimal, new_price: Decimal | None
    ) -> Transition:
        """The client sent OrderCancelReplaceRequest (35=G) with a new ClOrdID and terms."""
        if new_qty < self.cum_qty or new_qty <= 0:
            raise InvalidExecution(
                f"order {self.order_id}: replace qty {new_qty} below cum qty {self.cum_qty}"
            )
        transition = self._move(OrderEvent.REPLACE_REQUESTED, ClientOrderStatus.PENDING_REPLACE)
        self.pending_cl_ord_id = cl_ord_id
        self.pending_qty = new_qty
        self.pending_price = new_price
        return transition

    def on_replace_rejected(self) -> Transition:
        """The venue refused the replace: the old terms and ClOrdID stay."""
        transition = self._move(OrderEvent.REPLACE_REJECTED, self._working_status())
        self._clear_pending()
        return transition

    def on_replaced(self, new_qty: Decimal, new_price: Decimal | None) -> Transition:
        """The venue applied the replace: new total qty (cum included) and price, new ClOrdID current."""
        self._check_allowed(OrderEvent.REPLACED)
        if new_qty < self.cum_qty or new_qty <= 0:
            raise InvalidExecution(
                f"order {self.order_id}: replaced qty {new_qty} below cum qty {self.cum_qty}"
            )
        if new_qty == self.cum_qty:
            target = ClientOrderStatus.FILLED
        elif self.cum_qty > 0:
            target = ClientOrderStatus.PARTIALLY_FILLED
        else:
            target = ClientOrderStatus.NEW
        transition = self._move(OrderEvent.REPLACED, target)
        self.qty = new_qty
        self.price = new_price
        self._adopt_pending_cl_ord_id()
        return transition

    def on_expired(self) -> Transition:
        """Time in force ran out (or the IOC/FOK remainder was not filled)."""
        transition = self._move(OrderEvent.EXPIRED, ClientOrderStatus.EXPIRED)
        self._clear_pending()
        return transition

    def on_done_for_day(self) -> Transition:
        """No more fills today; the order may be restated on a later trading day."""
        return self._move(OrderEvent.DONE_FOR_DAY, ClientOrderStatus.DONE_FOR_DAY)

    def on_restated(self) -> Transition:
        """A done-for-day order works again on a new trading day."""
        return self._move(OrderEvent.RESTATED, self._working_status())

    # ---- internals -----------------------------------------------------------------------------

    def _working_status(self) -> ClientOrderStatus:
        if self.status is ClientOrderStatus.FILLED:
            return ClientOrderStatus.FILLED
        return ClientOrderStatus.PARTIALLY_FILLED if self.cum_qty > 0 else ClientOrderStatus.NEW

    def _check_allowed(self, event: OrderEvent) -> frozenset[ClientOrderStatus]:
        allowed = TRANSITIONS.get((self.status, event))
        if allowed is None:
            raise IllegalTransition(self.order_id, self.status, event)
        return allowed

    def _move(self, event: OrderEvent, target: ClientOrderStatus) -> Transition:
        allowed = self._check_allowed(event)
        if target not in allowed:  # a bug in an event method, never a client error
            raise IllegalTransition(self.order_id, self.status, event)
        old, self.status = self.status, target
        return Transition(event, old, target)

    def _adopt_pending_cl_ord_id(self) -> None:
        if self.pending_cl_ord_id is not None:
            self.cl_ord_id = self.pending_cl_ord_id
            self.cl_ord_id_chain = (*self.cl_ord_id_chain, self.pending_cl_ord_id)
        self._clear_pending()

    def _clear_pending(self) -> None:
        self.pending_cl_ord_id = None
        self.pending_qty = None
        self.pending_price = None


#: :meth:`ClientOrder.finished`: the fields of :class:`FinishedOrder` in order, as a plain tuple
PackedOrder = tuple[
    str, str, str, str, str, str, str, str, Decimal, "Decimal | None", "Decimal | None", "int | None",
    "str | None", str, Decimal, Decimal, str,
]
#: joins the ClOrdID chain of a packed order into one str (no FIX field value contains SOH); a
#: nested tuple would keep the packed tuple tracked until a second collection reached it
_CHAIN_SEPARATOR = "\x01"

_STATUS_OF: Mapping[str, ClientOrderStatus] = {s.value: s for s in ClientOrderStatus}
_SIDE_OF: Mapping[str, Side] = {s.value: s for s in Side}
_ORD_TYPE_OF: Mapping[str, OrdType] = {t.value: t for t in OrdType}
_TIF_OF: Mapping[str, TimeInForce] = {t.value: t for t in TimeInForce}


class FinishedOrder(NamedTuple):
    """A terminal :class:`ClientOrder`, read back from its packed form (:meth:`ClientOrder.finished`).

    It answers every read a request about a finished order makes (status, ClOrdID chain, terms,
    cum qty, average price; leaves is 0) under the same names as :class:`ClientOrder`; the enums
    are kept as their FIX values (``side_value``, ...) and the ClOrdID chain as one string
    (``cl_ord_ids``), rebuilt by the properties, so that the packed tuple holds nothing but atomic
    values and the cyclic GC untracks it at the first collection it meets.  Built on demand,
    never stored.
    """

    order_id: str
    cl_ord_id: str
    session_key: str
    account: str
    symbol: str
    side_value: str
    ord_type_value: str
    tif_value: str
    qty: Decimal
    price: Decimal | None
    stop_px: Decimal | None
    expire_time: int | None
    ex_destination: str | None
    ord_status: str
    cum_qty: Decimal
    gross_notional: Decimal
    cl_ord_ids: str  #: the ClOrdID chain, oldest first, joined by SOH

    @classmethod
    def unpack(cls, packed: PackedOrder) -> FinishedOrder:
        """The record of a tuple made by :meth:`ClientOrder.finished`."""
        return cls._make(packed)

    @property
    def status(self) -> ClientOrderStatus:
        return _STATUS_OF[self.ord_status]

    @property
    def side(self) -> Side:
        return _SIDE_OF[self.side_value]

    @property
    def ord_type(self) -> OrdType:
        return _ORD_TYPE_OF[self.ord_type_value]

    @property
    def tif(self) -> TimeInForce:
        return _TIF_OF[self.tif_value]

    @property
    def leaves_qty(self) -> Decimal:
        """Always 0: the order is terminal."""
        return ZERO

    @property
    def avg_px(self) -> Decimal:
        """As :attr:`ClientOrder.avg_px`: gross notional / cum qty (0 before the first fill)."""
        if self.cum_qty == 0:
            return ZERO
        return self.gross_notional / self.cum_qty

    @property
    def cl_ord_id_chain(self) -> tuple[str, ...]:
        """Every ClOrdID the order carried, oldest first (as :attr:`ClientOrder.cl_ord_id_chain`)."""
        return tuple(self.cl_ord_ids.split(_CHAIN_SEPARATOR))

    @property
    def orig_cl_ord_id(self) -> str | None:
        """The ClOrdID before the current one, if any (as :attr:`ClientOrder.orig_cl_ord_id`)."""
        chain = self.cl_ord_id_chain
        return chain[-2] if len(chain) > 1 else None

    @property
    def original_cl_ord_id(self) -> str:
        """The very first ClOrdID of the chain."""
        return self.cl_ord_id_chain[0]
