"""The gateway's client orders: broker ids and the indexes to find an order from any message.

A :class:`GatewayOrder` wraps the pure :class:`~brokers.domain.orders.ClientOrder` (status,
ClOrdID chain, executions) with what the gateway needs around it: the client session, the venue
it was routed to and the ids used there, the registry booking id and the buying power held.

Ids the broker hands out (:class:`BrokerIds`) are ``<prefix>-<n>``: the prefix is the start time
in base 36, so ids stay unique across restarts without being stored.

Registry bookings: an order is booked in the registry under ``order_id`` and, after each
cancel/replace, under a new *version* ``<order_id>.<v>`` holding the leaves quantity and the new
reservation; the version replaced is closed (its holds released).  The client only ever sees
``order_id``.

Retention: an order that is done is kept for the rest of the run (status requests, cancels of a
done order, duplicate ClOrdIDs must still find it), but only as a packed tuple of atomic values
(:meth:`~brokers.domain.orders.ClientOrder.finished`) that the cyclic GC does not track; see
:class:`OrderStore`.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from brokers.domain.orders import ClientOrder, FinishedOrder, PackedOrder
from brokers.oms.reservations import Reservation
from fix_engine.gc_tuning import UntrackedArchive
from fix_engine.session.session_id import SessionID

__all__ = [
    "AnyOrder", "BrokerIds", "DoneOrder", "GatewayOrder", "OrderStore", "PendingRequest", "base36", "fill_exec_id",
    "session_key",
]

_DIGITS = string.digits + string.ascii_uppercase


def base36(value: int) -> str:
    if value == 0:
        return "0"
    out = []
    while value:
        value, rem = divmod(value, 36)
        out.append(_DIGITS[rem])
    return "".join(reversed(out))


def session_key(session_id: SessionID) -> str:
    """The owner key of a client session (venue owner, throttle key, order scope)."""
    return str(session_id)


def fill_exec_id(venue: str, venue_exec_id: str) -> str:
    """The ExecID(17) of a fill report: derived from the venue's, so a report regenerated after a
    crash (:mod:`brokers.recovery`) carries the same ExecID as the one it replaces."""
    return f"{venue}.{venue_exec_id}"


class BrokerIds:
    """Broker OrderIDs and ExecIDs: ``<prefix>-<n>`` / ``<prefix>-X<n>``, unique across restarts."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._orders = 0
        self._execs = 0

    @classmethod
    def from_time(cls, epoch_ns: int) -> BrokerIds:
        return cls(base36(epoch_ns // 1_000_000))

    def order_id(self) -> str:
        self._orders += 1
        return f"{self.prefix}-{self._orders}"

    def exec_id(self) -> str:
        self._execs += 1
        return f"{self.prefix}-X{self._execs}"


@dataclass(slots=True)
class PendingRequest:
    """A cancel or replace sent to the venue and not yet answered."""

    kind: str  # "cancel" or "replace"
    cl_ord_id: str  # the client's ClOrdID of the request
    orig_cl_ord_id: str  # the ClOrdID it named
    venue_cl_ord_id: str
    booking_id: str | None = None  # replace: the registry version opened for it
    reservation: Reservation | None = None
    qty: Decimal | None = None
    price: Decimal | None = None
    stop_px: Decimal | None = None


@dataclass(slots=True)
class GatewayOrder:
    """One client order as the gateway tracks it (the ClientOrder plus routing and booking)."""

    order: ClientOrder
    session_id: SessionID
    venue: str
    venue_cl_ord_id: str
    booking_id: str
    currency: str = "USD"
    version: int = 0
    venue_order_id: str = ""
    reservation: Reservation | None = None
    pending: PendingRequest | None = None
    venue_ids: list[str] = field(default_factory=list)
    id_tag: str = ""  #: recovered orders: the new run's prefix, so request ids never repeat
    open_buy: Decimal = Decimal(0)  #: the open buy quantity this order counts for its account (buys)
    fix_static: tuple[bytes, ...] | None = None  #: translation.static_fields of the order, once built

    @property
    def order_id(self) -> str:
        return self.order.order_id

    @property
    def owner(self) -> str:
        return session_key(self.session_id)

    def next_venue_cl_ord_id(self) -> str:
        """A fresh ClOrdID for the next request to the venue about this order."""
        self.version += 1
        return f"{self.order_id}.{self.id_tag}{self.version}"


class DoneOrder(FinishedOrder):
    """A finished order as :class:`OrderStore` hands it out: a :class:`FinishedOrder` that also
    reads like a :class:`GatewayOrder` where lookups read one (``order`` is the record itself,
    ``owner`` its session key), so status, cancel and replace requests serve either form."""

    __slots__ = ()

    @property
    def order(self) -> DoneOrder:
        return self

    @property
    def owner(self) -> str:
        return self.session_key


AnyOrder = GatewayOrder | DoneOrder


class OrderStore:
    """Every order of this gateway run (and those recovered), indexed for lookup from any message.

    Working orders are :class:`GatewayOrder` objects.  When an order is done (:meth:`forget`, once
    it is terminal) only its packed :class:`~brokers.domain.orders.FinishedOrder` tuple is kept,
    in an :class:`~fix_engine.gc_tuning.UntrackedArchive` per session, where the cyclic GC never
    scans it: client lookups (status, cancel/replace of a done order, duplicate ClOrdIDs) keep
    answering from it as :class:`DoneOrder`, while the full object graph (ClientOrder,
    reservation, pending request, venue ids) is freed.  The ClOrdID index is one ``str -> str``
    dict per session, never tracked either.  So full collections cost the same at the end of the
    day as at its start.
    """

    def __init__(self) -> None:
        self._by_id: dict[str, GatewayOrder] = {}
        #: session -> order_id -> ClientOrder.finished() of the orders that are done
        self._done: dict[SessionID, UntrackedArchive] = {}
        #: session -> ClOrdID -> order_id (every ClOrdID an order carried or a request used)
        self._by_cl_ord_id: dict[SessionID, dict[str, str]] = {}
        self._by_venue_id: dict[tuple[str, str], str] = {}

    def add(self, order: GatewayOrder) -> None:
        self._by_id[order.order_id] = order
        self.index_cl_ord_id(order, order.order.cl_ord_id)
        self.index_venue_id(order, order.venue_cl_ord_id)

    def index_cl_ord_id(self, order: GatewayOrder, cl_ord_id: str) -> None:
        index = self._by_cl_ord_id.get(order.session_id)
        if index is None:
            index = self._by_cl_ord_id[order.session_id] = {}
        index[cl_ord_id] = order.order_id

    def index_venue_id(self, order: GatewayOrder, venue_id: str) -> None:
        if venue_id:
            self._by_venue_id[(order.venue, venue_id)] = order.order_id
            order.venue_ids.append(venue_id)

    def get(self, order_id: str) -> AnyOrder | None:
        """The order with broker OrderID ``order_id``, whichever session it belongs to."""
        found = self._by_id.get(order_id)
        if found is not None:
            return found
        for done in self._done.values():
            packed = done.get(order_id)
            if packed is not None:
                return DoneOrder._make(packed)
        return None

    def session_order(self, session_id: SessionID, order_id: str) -> AnyOrder | None:
        """The order with broker OrderID ``order_id`` if it belongs to ``session_id``."""
        found = self._by_id.get(order_id)
        if found is not None:
            return found if found.session_id == session_id else None
        return self._done_order(session_id, order_id)

    def by_cl_ord_id(self, session_id: SessionID, cl_ord_id: str) -> AnyOrder | None:
        index = self._by_cl_ord_id.get(session_id)
        order_id = index.get(cl_ord_id) if index is not None else None
        if order_id is None:
            return None
        found = self._by_id.get(order_id)
        return found if found is not None else self._done_order(session_id, order_id)

    def _done_order(self, session_id: SessionID, order_id: str) -> DoneOrder | None:
        done = self._done.get(session_id)
        packed = done.get(order_id) if done is not None else None
        return DoneOrder._make(packed) if packed is not None else None

    def by_venue_id(self, venue: str, venue_id: str) -> GatewayOrder | None:
        """The working order a venue event names, by the venue ClOrdID we sent or the venue's OrderID."""
        order_id = self._by_venue_id.get((venue, venue_id))
        return self._by_id.get(order_id) if order_id is not None else None

    def known_cl_ord_id(self, session_id: SessionID, cl_ord_id: str) -> bool:
        index = self._by_cl_ord_id.get(session_id)
        return index is not None and cl_ord_id in index

    def forget(self, order: GatewayOrder) -> None:
        """Drop an order that is done from the venue index; a terminal one is kept only as its
        packed record from now on (client lookups keep working, see the class docstring).  The
        caller may still use ``order`` itself (the reports of its last event)."""
        for venue_id in order.venue_ids:
            self._by_venue_id.pop((order.venue, venue_id), None)
        order.venue_ids.clear()
        if not order.order.status.is_terminal or self._by_id.get(order.order_id) is not order:
            return
        del self._by_id[order.order_id]
        done = self._done.get(order.session_id)
        if done is None:
            done = self._done[order.session_id] = UntrackedArchive()
        packed: PackedOrder = order.order.finished()
        done[order.order_id] = packed

    def __iter__(self) -> Iterator[AnyOrder]:
        """The working orders, then the done ones (as :class:`DoneOrder`)."""
        done = [DoneOrder._make(packed) for orders in self._done.values() for packed in orders.values()]
        return iter([*self._by_id.values(), *done])

    def __len__(self) -> int:
        return len(self._by_id) + sum(len(orders) for orders in self._done.values())

    @property
    def live_count(self) -> int:
        """Orders held as full :class:`GatewayOrder` objects (not done yet)."""
        return len(self._by_id)

    def working(self, session_id: SessionID | None = None, symbol: str | None = None,
                account: str | None = None) -> list[GatewayOrder]:
        """Orders not yet terminal, filtered by session, symbol and account."""
        return [
            o for o in self._by_id.values()
            if not o.order.status.is_terminal
            and (session_id is None or o.session_id == session_id)
            and (symbol is None or o.order.symbol == symbol)
            and (account is None or o.order.account == account)
        ]
