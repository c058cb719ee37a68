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
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from brokers.domain.orders import ClientOrder
from brokers.oms.reservations import Reservation
from fix_engine.session.session_id import SessionID

__all__ = ["BrokerIds", "GatewayOrder", "OrderStore", "PendingRequest", "base36", "fill_exec_id", "session_key"]

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


class OrderStore:
    """Every order of this gateway run (and those recovered), indexed for lookup from any message."""

    def __init__(self) -> None:
        self._by_id: dict[str, GatewayOrder] = {}
        self._by_cl_ord_id: dict[tuple[SessionID, str], str] = {}
        self._by_venue_id: dict[tuple[str, str], str] = {}

    def add(self, order: GatewayOrder) -> None:
        self._by_id[order.order_id] = order
        self.index_cl_ord_id(order, order.order.cl_ord_id)
        self.index_venue_id(order, order.venue_cl_ord_id)

    def index_cl_ord_id(self, order: GatewayOrder, cl_ord_id: str) -> None:
        self._by_cl_ord_id[(order.session_id, cl_ord_id)] = order.order_id

    def index_venue_id(self, order: GatewayOrder, venue_id: str) -> None:
        if venue_id:
            self._by_venue_id[(order.venue, venue_id)] = order.order_id
            order.venue_ids.append(venue_id)

    def get(self, order_id: str) -> GatewayOrder | None:
        return self._by_id.get(order_id)

    def by_cl_ord_id(self, session_id: SessionID, cl_ord_id: str) -> GatewayOrder | None:
        order_id = self._by_cl_ord_id.get((session_id, cl_ord_id))
        return self._by_id.get(order_id) if order_id is not None else None

    def by_venue_id(self, venue: str, venue_id: str) -> GatewayOrder | None:
        """The order a venue event names, by the venue ClOrdID we sent or the venue's OrderID."""
        order_id = self._by_venue_id.get((venue, venue_id))
        return self._by_id.get(order_id) if order_id is not None else None

    def known_cl_ord_id(self, session_id: SessionID, cl_ord_id: str) -> bool:
        return (session_id, cl_ord_id) in self._by_cl_ord_id

    def forget(self, order: GatewayOrder) -> None:
        """Drop a terminal order from the venue index (client lookups keep working)."""
        for venue_id in order.venue_ids:
            self._by_venue_id.pop((order.venue, venue_id), None)
        order.venue_ids.clear()

    def __iter__(self) -> Iterator[GatewayOrder]:
        return iter(list(self._by_id.values()))

    def __len__(self) -> int:
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
