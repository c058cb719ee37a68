"""Order status views of the internal venue, maintained from the venue events (pure).

:class:`OrderViews` answers order status (35=H) and working-order queries.  It keeps every order of
the trading day - working and done - and forgets the done ones at the end of the day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from venues import base
from venues.base import OrdType, Side, TimeInForce

_TERMINAL = frozenset({"2", "4", "C", "8"})
_ACCEPTED = base.Accepted
_FILL = base.Fill
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class OrderView:
    """The venue's view of one order; ``ord_status`` is the OrdStatus(39) character.

    ``0`` new, ``1`` partially filled, ``2`` filled, ``4`` cancelled, ``C`` expired.
    """

    order_id: str
    owner: str
    cl_ord_id: str
    orig_cl_ord_id: str
    account: str
    symbol: str
    side: Side
    ord_type: OrdType
    tif: TimeInForce
    qty: Decimal
    price: Decimal | None
    stop_px: Decimal | None
    cum_qty: Decimal
    leaves_qty: Decimal
    avg_px: Decimal
    ord_status: str
    last_exec_id: str

    @property
    def is_working(self) -> bool:
        """True while the order can still trade."""
        return self.ord_status not in _TERMINAL

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (enums as values, Decimals as strings)."""
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, Side | OrdType | TimeInForce):
                d[k] = v.value
            elif isinstance(v, Decimal):
                d[k] = str(v)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> OrderView:
        """Inverse of :meth:`to_dict`."""
        return cls(
            d["order_id"], d["owner"], d["cl_ord_id"], d["orig_cl_ord_id"], d["account"], d["symbol"],
            Side(d["side"]), OrdType(d["ord_type"]), TimeInForce(d["tif"]), Decimal(d["qty"]),
            None if d["price"] is None else Decimal(d["price"]),
            None if d["stop_px"] is None else Decimal(d["stop_px"]),
            Decimal(d["cum_qty"]), Decimal(d["leaves_qty"]), Decimal(d["avg_px"]), d["ord_status"],
            d["last_exec_id"],
        )  # fmt: skip


_FIELDS = tuple(OrderView.__dataclass_fields__)


class _Record:
    """Mutable twin of :class:`OrderView` kept inside :class:`OrderViews` (cheap to update)."""

    __slots__ = _FIELDS
    order_id: str
    owner: str
    cl_ord_id: str
    orig_cl_ord_id: str
    account: str
    symbol: str
    ord_status: str

    def view(self) -> OrderView:
        return OrderView(*[getattr(self, f) for f in _FIELDS])

    def to_dict(self) -> dict[str, Any]:
        """``self.view().to_dict()`` without building the view."""
        price, stop_px = self.price, self.stop_px  # type: ignore[attr-defined]
        return {
            "order_id": self.order_id, "owner": self.owner, "cl_ord_id": self.cl_ord_id,
            "orig_cl_ord_id": self.orig_cl_ord_id, "account": self.account, "symbol": self.symbol,
            "side": self.side.value, "ord_type": self.ord_type.value, "tif": self.tif.value,  # type: ignore[attr-defined]
            "qty": str(self.qty), "price": None if price is None else str(price),  # type: ignore[attr-defined]
            "stop_px": None if stop_px is None else str(stop_px), "cum_qty": str(self.cum_qty),  # type: ignore[attr-defined]
            "leaves_qty": str(self.leaves_qty), "avg_px": str(self.avg_px),  # type: ignore[attr-defined]
            "ord_status": self.ord_status, "last_exec_id": self.last_exec_id,  # type: ignore[attr-defined]
        }  # fmt: skip


def _record(v: OrderView) -> _Record:
    r = _Record()
    for f in _FIELDS:
        setattr(r, f, getattr(v, f))
    return r


class OrderViews:
    """Views of the day's orders, by order id and by ``(owner, ClOrdID)`` (every ClOrdID it had)."""

    def __init__(self) -> None:
        self._by_id: dict[str, _Record] = {}
        self._by_client: dict[tuple[str, str], str] = {}
        self._working: dict[str, None] = {}  # order ids in entry order

    # ------------------------------------------------------------------ queries

    def get(self, owner: str, cl_ord_id: str | None = None, order_id: str | None = None) -> OrderView | None:
        """The view of an order of ``owner`` named by venue order id or by a ClOrdID it had."""
        if order_id:
            v = self._by_id.get(order_id)
        elif cl_ord_id:
            oid = self._by_client.get((owner, cl_ord_id))
            v = None if oid is None else self._by_id.get(oid)
        else:
            return None
        return v.view() if v is not None and v.owner == owner else None

    def has_client_id(self, owner: str, cl_ord_id: str) -> bool:
        """True when ``owner`` used ``cl_ord_id`` for an order of today (cheap: no view is built)."""
        if not cl_ord_id:
            return False
        oid = self._by_client.get((owner, cl_ord_id))
        if oid is None:
            return False
        v = self._by_id.get(oid)
        return v is not None and v.owner == owner

    def working(
        self, owner: str | None = None, account: str | None = None, symbol: str | None = None
    ) -> list[OrderView]:
        """Working orders matching every given filter, in entry order."""
        out = []
        for oid in self._working:
            v = self._by_id[oid]
            if (
                (owner is None or v.owner == owner)
                and (account is None or v.account == account)
                and (symbol is None or v.symbol == symbol)
            ):
                out.append(v.view())
        return out

    def working_ids(self) -> list[str]:
        """Order ids of all working orders, in entry order."""
        return list(self._working)

    def get_by_id(self, order_id: str) -> OrderView | None:
        """A view by venue order id, whoever owns it."""
        v = self._by_id.get(order_id)
        return None if v is None else v.view()

    # ------------------------------------------------------------------ updates

    def on_event(self, e: base.VenueEvent, account: str = "") -> None:
        """Apply one venue event; ``account`` is the account of the command that caused an Accepted."""
        kind = type(e)
        if kind is _ACCEPTED:
            a: Any = e
            r = _Record()
            r.order_id = oid = a.order_id
            r.owner = a.owner
            r.cl_ord_id = a.cl_ord_id
            r.orig_cl_ord_id = ""
            r.account = account
            r.symbol = a.symbol
            r.side = a.side
            r.ord_type = a.ord_type
            r.tif = a.tif
            r.qty = r.leaves_qty = a.qty
            r.price = a.price
            r.stop_px = a.stop_px
            r.cum_qty = _ZERO
            r.avg_px = _ZERO
            r.ord_status = "0"
            r.last_exec_id = a.exec_id
            self._by_id[oid] = r
            self._by_client[(a.owner, a.cl_ord_id)] = oid
            self._working[oid] = None
            return
        if kind is _FILL:
            f: Any = e
            v = self._by_id.get(f.order_id)
            if v is None:
                return
            v.cum_qty = f.cum_qty
            v.leaves_qty = f.leaves_qty
            v.avg_px = f.avg_px
            v.last_exec_id = f.exec_id
            if f.leaves_qty == 0:
                v.ord_status = "2"
                self._working.pop(f.order_id, None)
            else:
                v.ord_status = "1"
            return
        self._on_other(e)

    def _on_other(self, e: base.VenueEvent) -> None:
        if isinstance(e, base.Cancelled):
            cur = self._by_id.get(e.order_id)
            if cur is not None:
                cl = e.cl_ord_id if e.orig_cl_ord_id else cur.cl_ord_id
                orig = e.orig_cl_ord_id if e.orig_cl_ord_id else cur.orig_cl_ord_id
                if cl != cur.cl_ord_id:
                    self._by_client[(cur.owner, cl)] = cur.order_id
                self._update(
                    e.order_id, cl_ord_id=cl, orig_cl_ord_id=orig, leaves_qty=Decimal(0), ord_status="4",
                    last_exec_id=e.exec_id,
                )  # fmt: skip
        elif isinstance(e, base.Expired):
            self._update(e.order_id, leaves_qty=Decimal(0), ord_status="C", last_exec_id=e.exec_id)
        elif isinstance(e, base.Replaced):
            self._by_client[(e.owner, e.cl_ord_id)] = e.order_id
            self._update(
                e.order_id, cl_ord_id=e.cl_ord_id, orig_cl_ord_id=e.orig_cl_ord_id, qty=e.qty, price=e.price,
                stop_px=e.stop_px, cum_qty=e.cum_qty, leaves_qty=e.leaves_qty,
                ord_status="1" if e.cum_qty else "0", last_exec_id=e.exec_id,
            )  # fmt: skip
        elif isinstance(e, base.Restated):
            self._update(e.order_id, qty=e.qty, leaves_qty=e.leaves_qty, last_exec_id=e.exec_id)
        elif isinstance(e, base.Triggered):
            self._update(e.order_id, ord_type=e.ord_type, price=e.price, last_exec_id=e.exec_id)

    def _update(self, order_id: str, **changes: Any) -> None:
        v = self._by_id.get(order_id)
        if v is None:
            return
        for name, value in changes.items():
            setattr(v, name, value)
        if v.ord_status in _TERMINAL:
            self._working.pop(order_id, None)

    def forget_done(self) -> None:
        """End of day: drop the views of done orders."""
        done = [oid for oid, v in self._by_id.items() if v.ord_status in _TERMINAL]
        for oid in done:
            del self._by_id[oid]
        self._by_client = {k: oid for k, oid in self._by_client.items() if oid in self._by_id}

    # ------------------------------------------------------------------ snapshots

    def dump(self) -> list[Any]:
        """JSON-able state: the views in entry order and the ClOrdID index."""
        return [
            [v.to_dict() for v in self._by_id.values()],
            [[owner, cl, oid] for (owner, cl), oid in self._by_client.items()],
        ]

    @classmethod
    def load(cls, state: list[Any]) -> OrderViews:
        """Inverse of :meth:`dump`."""
        views = cls()
        for d in state[0]:
            v = OrderView.from_dict(d)
            views._by_id[v.order_id] = _record(v)
            if v.is_working:
                views._working[v.order_id] = None
        views._by_client = {(owner, cl): oid for owner, cl, oid in state[1]}
        return views

    def canonical(self) -> Iterable[Any]:
        """Stable form for the venue state hash."""
        return self.dump()
