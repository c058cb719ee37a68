"""Order status views of the internal venue, maintained from the venue events (pure).

:class:`OrderViews` answers order status (35=H) and working-order queries.  It keeps every order of
the trading day - working and done - and forgets the done ones at the end of the day.

A working order is a mutable :class:`_Record`; once done (filled, cancelled, expired) it is packed
into a plain tuple of atomic values (enums as their FIX values), which CPython's cyclic garbage
collector stops tracking, and kept where the collector never looks
(:class:`~fix_engine.gc_tuning.UntrackedArchive`): a day of done orders costs the collections
nothing.  Queries, snapshots and the state hash read either form identically.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from fix_engine.gc_tuning import UntrackedArchive
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


#: a done order: the fields of :class:`OrderView` in order, Side / OrdType / TimeInForce as values
_Packed = tuple[Any, ...]
_SIDE_OF = {m.value: m for m in Side}
_ORD_TYPE_OF = {m.value: m for m in OrdType}
_TIF_OF = {m.value: m for m in TimeInForce}
_OWNER = _FIELDS.index("owner")
#: joins owner and ClOrdID into one key of the ClOrdID index (neither contains SOH)
_SEP = "\x01"


def _pack(r: _Record) -> _Packed:
    a: Any = r
    return (
        a.order_id, a.owner, a.cl_ord_id, a.orig_cl_ord_id, a.account, a.symbol, a.side._value_,
        a.ord_type._value_, a.tif._value_, a.qty, a.price, a.stop_px, a.cum_qty, a.leaves_qty, a.avg_px,
        a.ord_status, a.last_exec_id,
    )  # fmt: skip


def _packed_view(t: _Packed) -> OrderView:
    return OrderView(
        t[0], t[1], t[2], t[3], t[4], t[5], _SIDE_OF[t[6]], _ORD_TYPE_OF[t[7]], _TIF_OF[t[8]], t[9], t[10], t[11],
        t[12], t[13], t[14], t[15], t[16],
    )  # fmt: skip


def _packed_dict(t: _Packed) -> dict[str, Any]:
    """``_packed_view(t).to_dict()`` (the same dict, key order included) without building the view."""
    price, stop_px = t[10], t[11]
    return {
        "order_id": t[0], "owner": t[1], "cl_ord_id": t[2], "orig_cl_ord_id": t[3], "account": t[4],
        "symbol": t[5], "side": t[6], "ord_type": t[7], "tif": t[8], "qty": str(t[9]),
        "price": None if price is None else str(price), "stop_px": None if stop_px is None else str(stop_px),
        "cum_qty": str(t[12]), "leaves_qty": str(t[13]), "avg_px": str(t[14]), "ord_status": t[15],
        "last_exec_id": t[16],
    }  # fmt: skip


class OrderViews:
    """Views of the day's orders, by order id and by ``(owner, ClOrdID)`` (every ClOrdID it had).

    Working orders are :class:`_Record` objects updated in place; a done order is packed into a
    tuple (see the module docstring) and kept in an :class:`~fix_engine.gc_tuning.UntrackedArchive`,
    so the collector never scans the day's done orders.  The entry order (snapshots list the
    views in it) is kept by an index of ids, and the ClOrdID index is keyed by one string per
    ``(owner, ClOrdID)``: both are ``str``-only dicts, never tracked either.
    """

    def __init__(self) -> None:
        self._order: dict[str, None] = {}  # every order id, in entry order
        self._live: dict[str, _Record] = {}  # orders not done
        self._done = UntrackedArchive()  # order id -> _pack(record) of the done orders
        self._by_client: dict[str, str] = {}  # _client_key(owner, ClOrdID) -> order id
        self._working: dict[str, None] = {}  # order ids in entry order

    def _find(self, order_id: str) -> _Record | _Packed | None:
        v = self._live.get(order_id)
        return v if v is not None else self._done.get(order_id)

    # ------------------------------------------------------------------ queries

    def get(self, owner: str, cl_ord_id: str | None = None, order_id: str | None = None) -> OrderView | None:
        """The view of an order of ``owner`` named by venue order id or by a ClOrdID it had."""
        if order_id:
            v = self._find(order_id)
        elif cl_ord_id:
            oid = self._by_client.get(owner + _SEP + cl_ord_id)
            v = None if oid is None else self._find(oid)
        else:
            return None
        if v is None:
            return None
        if type(v) is tuple:
            return _packed_view(v) if v[_OWNER] == owner else None
        return v.view() if v.owner == owner else None  # type: ignore[union-attr]

    def has_client_id(self, owner: str, cl_ord_id: str) -> bool:
        """True when ``owner`` used ``cl_ord_id`` for an order of today (cheap: no view is built)."""
        if not cl_ord_id:
            return False
        oid = self._by_client.get(owner + _SEP + cl_ord_id)
        if oid is None:
            return False
        v = self._find(oid)
        if type(v) is tuple:
            return bool(v[_OWNER] == owner)
        return v is not None and v.owner == owner  # type: ignore[union-attr]

    def working(
        self, owner: str | None = None, account: str | None = None, symbol: str | None = None
    ) -> list[OrderView]:
        """Working orders matching every given filter, in entry order."""
        out = []
        live = self._live
        for oid in self._working:
            v: Any = live[oid]
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
        v = self._find(order_id)
        if v is None:
            return None
        return _packed_view(v) if type(v) is tuple else v.view()  # type: ignore[union-attr]

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
            self._order[oid] = None
            self._live[oid] = r
            self._by_client[a.owner + _SEP + a.cl_ord_id] = oid
            self._working[oid] = None
            return
        if kind is _FILL:
            f: Any = e
            v = self._live_record(f.order_id)
            if v is None:
                return
            v.cum_qty = f.cum_qty
            v.leaves_qty = f.leaves_qty
            v.avg_px = f.avg_px
            v.last_exec_id = f.exec_id
            if f.leaves_qty == 0:
                v.ord_status = "2"
                self._working.pop(f.order_id, None)
                self._retire(f.order_id, v)
            else:
                v.ord_status = "1"
            return
        self._on_other(e)

    def _on_other(self, e: base.VenueEvent) -> None:
        if isinstance(e, base.Cancelled):
            cur = self._live_record(e.order_id)
            if cur is not None:
                cl = e.cl_ord_id if e.orig_cl_ord_id else cur.cl_ord_id
                orig = e.orig_cl_ord_id if e.orig_cl_ord_id else cur.orig_cl_ord_id
                if cl != cur.cl_ord_id:
                    self._by_client[cur.owner + _SEP + cl] = cur.order_id
                self._update(
                    e.order_id, cl_ord_id=cl, orig_cl_ord_id=orig, leaves_qty=Decimal(0), ord_status="4",
                    last_exec_id=e.exec_id,
                )  # fmt: skip
        elif isinstance(e, base.Expired):
            self._update(e.order_id, leaves_qty=Decimal(0), ord_status="C", last_exec_id=e.exec_id)
        elif isinstance(e, base.Replaced):
            self._by_client[e.owner + _SEP + e.cl_ord_id] = e.order_id
            self._update(
                e.order_id, cl_ord_id=e.cl_ord_id, orig_cl_ord_id=e.orig_cl_ord_id, qty=e.qty, price=e.price,
                stop_px=e.stop_px, cum_qty=e.cum_qty, leaves_qty=e.leaves_qty,
                ord_status="1" if e.cum_qty else "0", last_exec_id=e.exec_id,
            )  # fmt: skip
        elif isinstance(e, base.Restated):
            self._update(e.order_id, qty=e.qty, leaves_qty=e.leaves_qty, last_exec_id=e.exec_id)
        elif isinstance(e, base.Triggered):
            self._update(e.order_id, ord_type=e.ord_type, price=e.price, last_exec_id=e.exec_id)

    def _live_record(self, order_id: str) -> _Record | None:
        """The record of an order, unpacked again if it was done (an event for a done order is
        applied as to any other; :meth:`_update` packs it again when it leaves it done)."""
        v = self._live.get(order_id)
        if v is None:
            packed = self._done.pop(order_id)
            if packed is not None:
                v = self._live[order_id] = _record(_packed_view(packed))
        return v

    def _retire(self, order_id: str, record: _Record) -> None:
        """A done order: keep it packed, out of the collector's reach."""
        del self._live[order_id]
        self._done[order_id] = _pack(record)

    def _update(self, order_id: str, **changes: Any) -> None:
        v = self._live_record(order_id)
        if v is None:
            return
        for name, value in changes.items():
            setattr(v, name, value)
        if v.ord_status in _TERMINAL:
            self._working.pop(order_id, None)
            self._retire(order_id, v)

    def forget_done(self) -> None:
        """End of day: drop the views of done orders."""
        live = {oid: v for oid, v in self._live.items() if v.ord_status not in _TERMINAL}
        self._live = live
        self._done = UntrackedArchive()
        self._order = {oid: None for oid in self._order if oid in live}
        self._by_client = {k: oid for k, oid in self._by_client.items() if oid in live}

    # ------------------------------------------------------------------ snapshots

    def _dict(self, order_id: str) -> dict[str, Any]:
        v = self._live.get(order_id)
        if v is not None:
            return v.to_dict()
        return _packed_dict(self._done.get(order_id))  # type: ignore[arg-type]

    def dump(self) -> list[Any]:
        """JSON-able state: the views in entry order and the ClOrdID index."""
        return [
            [self._dict(oid) for oid in self._order],
            [[*key.split(_SEP, 1), oid] for key, oid in self._by_client.items()],
        ]

    @classmethod
    def load(cls, state: list[Any]) -> OrderViews:
        """Inverse of :meth:`dump`."""
        views = cls()
        for d in state[0]:
            v = OrderView.from_dict(d)
            oid = v.order_id
            views._order[oid] = None
            views._live[oid] = _record(v)
            if v.is_working:
                views._working[oid] = None
            else:
                views._retire(oid, views._live[oid])
        views._by_client = {owner + _SEP + cl: oid for owner, cl, oid in state[1]}
        return views

    def canonical(self) -> Iterable[Any]:
        """Stable form for the venue state hash."""
        return self.dump()
