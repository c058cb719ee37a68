"""The broker's view of its child orders at one external venue, and the id mappings back.

A :class:`ChildOrder` is one order the broker sent under its own ClOrdID; the client's
``(owner, cl_ord_id)`` is kept alongside so that events go back in the client's terms.  A
cancel or replace in flight is a :class:`PendingChange` keyed by the broker ClOrdID it was sent
with.  :class:`OrderTable` indexes all of it, in memory; :class:`~.fix_venue.FixVenue` persists
every change in its child-order journal (:mod:`.journal`, records in :mod:`.records`) and rebuilds
the table from it on start.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

from venues.base import CancelReason, OrderRequest, OrdType, Side, TimeInForce

ZERO = Decimal(0)


class OrderPhase(Enum):
    """Where a child order is, as far as the broker knows."""

    PENDING_NEW = "PENDING_NEW"
    """Sent; the exchange has not acknowledged it yet."""
    WORKING = "WORKING"
    """Acknowledged and not done: it may trade, be cancelled, replaced or expire."""
    DONE = "DONE"
    """Filled, cancelled, rejected or expired: nothing more is expected except busts/corrections."""


class ChangeKind(Enum):
    """What a :class:`PendingChange` asks the exchange for."""

    CANCEL = "CANCEL"
    REPLACE = "REPLACE"


@dataclass
class ChildOrder:
    """One order at the exchange, in the broker's ClOrdIDs and the client's."""

    request: OrderRequest
    cl_ord_id: str  #: the broker's ClOrdID the order currently works under at the exchange
    client_cl_ord_id: str  #: the client's ClOrdID for it now (changes with each replace)
    phase: OrderPhase = OrderPhase.PENDING_NEW
    order_id: str = ""
    qty: Decimal = ZERO
    price: Decimal | None = None
    stop_px: Decimal | None = None
    cum_qty: Decimal = ZERO
    avg_px: Decimal = ZERO
    mass_cancel_requested: bool = False
    cl_ord_ids: list[str] = field(default_factory=list)  #: every broker ClOrdID of the chain
    client_cl_ord_ids: list[str] = field(default_factory=list)  #: every client ClOrdID of the chain

    def __post_init__(self) -> None:
        if not self.qty:
            self.qty = self.request.qty
            self.price = self.request.price
            self.stop_px = self.request.stop_px
        if not self.cl_ord_ids:
            self.cl_ord_ids.append(self.cl_ord_id)
        if not self.client_cl_ord_ids:
            self.client_cl_ord_ids.append(self.client_cl_ord_id)

    @property
    def owner(self) -> str:
        return self.request.owner

    @property
    def symbol(self) -> str:
        return self.request.symbol

    @property
    def side(self) -> Side:
        return self.request.side

    @property
    def ord_type(self) -> OrdType:
        return self.request.ord_type

    @property
    def tif(self) -> TimeInForce:
        return self.request.tif

    @property
    def account(self) -> str:
        return self.request.account

    @property
    def leaves_qty(self) -> Decimal:
        return ZERO if self.phase is OrderPhase.DONE else max(self.qty - self.cum_qty, ZERO)

    @property
    def is_open(self) -> bool:
        return self.phase is not OrderPhase.DONE


@dataclass(frozen=True)
class PendingChange:
    """A cancel or replace sent under broker ClOrdID ``cl_ord_id`` and not yet answered."""

    kind: ChangeKind
    cl_ord_id: str
    client_cl_ord_id: str
    client_orig_cl_ord_id: str
    order: ChildOrder
    qty: Decimal = ZERO
    price: Decimal | None = None
    stop_px: Decimal | None = None
    reason: CancelReason = CancelReason.CLIENT_REQUEST


class OrderTable:
    """Every child order by broker ClOrdID, by client (owner, ClOrdID) and by exchange OrderID.

    Answered changes leave :attr:`pending` through :meth:`close_change` / :meth:`close_pending_for`,
    which note the outcome (``applied``, ``rejected``, ``closed``) until :meth:`take_outcomes`.
    """

    def __init__(self) -> None:
        self._by_cl_ord_id: dict[str, ChildOrder] = {}
        self._by_client: dict[tuple[str, str], ChildOrder] = {}
        self._by_order_id: dict[str, ChildOrder] = {}
        self.pending: dict[str, PendingChange] = {}
        self._outcomes: dict[str, str] = {}

    def add(self, order: ChildOrder) -> None:
        self._by_cl_ord_id[order.cl_ord_id] = order
        self._by_client[(order.owner, order.client_cl_ord_id)] = order

    def has_client_id(self, owner: str, client_cl_ord_id: str) -> bool:
        return (owner, client_cl_ord_id) in self._by_client

    def link_order_id(self, order: ChildOrder, order_id: str) -> None:
        if order_id and order.order_id != order_id:
            order.order_id = order_id
            self._by_order_id[order_id] = order

    def renamed(self, order: ChildOrder, cl_ord_id: str, client_cl_ord_id: str) -> None:
        """A replace took effect: the order now works under new ids (old ones keep resolving)."""
        order.cl_ord_id = cl_ord_id
        order.client_cl_ord_id = client_cl_ord_id
        order.cl_ord_ids.append(cl_ord_id)
        order.client_cl_ord_ids.append(client_cl_ord_id)
        self._by_cl_ord_id[cl_ord_id] = order
        self._by_client[(order.owner, client_cl_ord_id)] = order

    def by_cl_ord_id(self, cl_ord_id: str) -> ChildOrder | None:
        return self._by_cl_ord_id.get(cl_ord_id)

    def by_client(self, owner: str, client_cl_ord_id: str) -> ChildOrder | None:
        return self._by_client.get((owner, client_cl_ord_id))

    def by_order_id(self, order_id: str) -> ChildOrder | None:
        return self._by_order_id.get(order_id) if order_id else None

    def find(self, cl_ord_id: str, orig_cl_ord_id: str = "", order_id: str = "") -> ChildOrder | None:
        """The order a report names: by its ClOrdID, a pending change's, OrigClOrdID, then OrderID."""
        for key in (cl_ord_id, orig_cl_ord_id):
            if not key:
                continue
            order = self._by_cl_ord_id.get(key)
            if order is not None:
                return order
            change = self.pending.get(key)
            if change is not None:
                return change.order
        return self.by_order_id(order_id)

    def all_orders(self) -> Iterator[ChildOrder]:
        """Every child order once, open and done, in the order they were added."""
        seen: set[int] = set()
        for order in list(self._by_cl_ord_id.values()):
            if id(order) not in seen:
                seen.add(id(order))
                yield order

    def open_orders(self) -> Iterator[ChildOrder]:
        seen: set[int] = set()
        for order in list(self._by_cl_ord_id.values()):
            if order.is_open and id(order) not in seen:
                seen.add(id(order))
                yield order

    def pending_for(self, order: ChildOrder) -> list[PendingChange]:
        return [p for p in self.pending.values() if p.order is order]

    def close_change(self, cl_ord_id: str, outcome: str) -> PendingChange | None:
        """Remove the pending change sent as ``cl_ord_id`` (None if there is none)."""
        change = self.pending.pop(cl_ord_id, None)
        if change is not None:
            self._outcomes[cl_ord_id] = outcome
        return change

    def close_pending_for(self, order: ChildOrder, outcome: str = "closed") -> None:
        """The order is done: every change still pending for it is moot."""
        for key in [k for k, p in self.pending.items() if p.order is order]:
            self.close_change(key, outcome)

    def take_outcomes(self) -> dict[str, str]:
        """The changes closed since the last call, with their outcomes."""
        outcomes, self._outcomes = self._outcomes, {}
        return outcomes
