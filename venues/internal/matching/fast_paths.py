"""Fast paths for the hot commands of continuous trading (a mixin of :class:`MatchingEngine`).

exchange-core's order mix is dominated by three cases, each handled here in one flat function
without intermediate calls:

* a **move** - a cancel/replace of a resting limit order to a new price that does not cross
  (about 80% of all commands): re-keyed, unlinked from its level and appended to the new one;
* a plain **limit order** (DAY/GTC/IOC, no iceberg, MinQty, post-only or stop) - it rests at once
  when it does not cross, else it goes to the matching loop like any other order;
* a **cancel** of a resting order.

Each fast path first checks, without changing anything, that the command is exactly that case
and that every validation of the general handler would pass; otherwise it hands the command to
the general handler (``_on_replace``, ``_on_new``, ``_on_cancel`` in ``engine.py``), which stays
the reference.  The results - events, ids, book state and :meth:`MatchingEngine.state_hash` - are
identical either way; ``MatchingEngine(fast_paths=False)`` runs the general handlers only, and
``tests/venues/matching/test_fast_paths.py`` compares the two on generated command streams.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from typing import TYPE_CHECKING, Any

from venues.base import CancelReason, OrdType, TimeInForce, TradingPhase

from .book import Order, OrderState, PriceLevel
from .events import Accepted, Cancelled, Replaced

if TYPE_CHECKING:
    from .commands import CancelOrder, NewOrder, ReplaceOrder
    from .events import Event

_LIMIT = OrdType.LIMIT
_IOC = TimeInForce.IOC
_DAY = TimeInForce.DAY
_GTC = TimeInForce.GTC
_CONTINUOUS = TradingPhase.CONTINUOUS
_RESTING = OrderState.RESTING
_DONE = OrderState.DONE
_CLIENT_REQUEST = CancelReason.CLIENT_REQUEST


class FastPaths:
    """Mixin: ``_fast_replace``, ``_fast_new`` and ``_fast_cancel`` for :class:`MatchingEngine`.

    Relies on the engine's ``_markets``, id counters, ``_stp_defaults`` and its general handlers.
    """

    _markets: dict[str, Any]
    _stp_defaults: dict[str, Any]
    _order_seq: int
    _exec_seq: int
    _prio_seq: int
    _on_new: Any
    _on_cancel: Any
    _on_replace: Any
    _execute: Any
    _run_stops: Any

    def _fast_replace(self, cmd: ReplaceOrder, ts: int, ev: list[Event]) -> None:
        """A resting limit order moved to a price that does not cross; else ``_on_replace``."""
        m = self._markets.get(cmd.symbol)
        if m is None or m.phase is not _CONTINUOUS:
            return self._on_replace(cmd, ts, ev)  # type: ignore[no-any-return]
        book = m.book
        owner = cmd.owner
        order_id = cmd.order_id
        by_client = book.by_client
        if order_id:
            o = book.orders.get(order_id)
            old_key = None
        else:
            old_key = (owner, cmd.orig_cl_ord_id)
            o = by_client.get(old_key)
        price = cmd.price
        if (
            o is None
            or price is None
            or o.state is not _RESTING
            or o.ord_type is not _LIMIT
            or price <= 0
            or price == o.price
            or cmd.side is not o.side
            or o.owner != owner
        ):
            return self._on_replace(cmd, ts, ev)  # type: ignore[no-any-return]
        stop_px = cmd.stop_px
        qty = cmd.qty
        cum = o.cum_qty
        inst = m.instrument
        if (
            (stop_px is not None and stop_px != o.stop_px)
            or qty <= cum
            or qty < inst.min_lots
            or qty > inst.max_lots
            or (inst.has_tick_table and not inst.price_on_grid(price))
        ):
            return self._on_replace(cmd, ts, ev)  # type: ignore[no-any-return]
        is_buy = o.is_buy
        if is_buy:
            opposite = book.ask_keys
            if opposite and opposite[-1] >= -price:
                return self._on_replace(cmd, ts, ev)  # type: ignore[no-any-return]
            levels, keys, key = book.bids, book.bid_keys, price
        else:
            opposite = book.bid_keys
            if opposite and opposite[-1] >= price:
                return self._on_replace(cmd, ts, ev)  # type: ignore[no-any-return]
            levels, keys, key = book.asks, book.ask_keys, -price
        new_cl = cmd.cl_ord_id
        old_cl = o.cl_ord_id
        if new_cl != old_cl:
            new_key = (owner, new_cl)
            if new_key in by_client:
                return self._on_replace(cmd, ts, ev)  # type: ignore[no-any-return]
            del by_client[old_key or (owner, old_cl)]  # found by (owner, ClOrdID): that same key
            by_client[new_key] = o
            o.cl_ord_id = new_cl
        # -- unlink from the old level (OrderBook.remove)
        lvl = o.level
        p = o.prev
        n = o.next
        if p is None:
            lvl.head = n
        else:
            p.next = n
        if n is None:
            lvl.tail = p
        else:
            n.prev = p
        lvl.qty -= o.leaves
        lvl.visible -= o.visible
        lvl.count -= 1
        if not lvl.count:  # OrderBook.drop_level
            old_key = lvl.price if is_buy else -lvl.price
            del levels[old_key]
            if keys[-1] == old_key:
                keys.pop()
            else:
                del keys[bisect_left(keys, old_key)]
        # -- the new terms
        leaves = qty - cum
        peak = o.peak
        visible = peak if peak and peak < leaves else leaves
        o.price = price
        o.qty = qty
        o.leaves = leaves
        o.visible = visible
        self._exec_seq = exec_id = self._exec_seq + 1
        ev.append(
            Replaced(ts, m.symbol, o.order_id, owner, new_cl, old_cl, exec_id, o.side, qty, price, o.stop_px, cum,
                     leaves, False)
        )  # fmt: skip
        self._prio_seq = seq = self._prio_seq + 1
        o.seq = seq
        # -- append to the new level (OrderBook.add)
        lvl = levels.get(key)
        if lvl is None:
            lvl = levels[key] = PriceLevel(price)
            if not keys or key > keys[-1]:
                keys.append(key)
            else:
                insort(keys, key)
            lvl.head = o
            o.prev = None
        else:
            tail = lvl.tail
            tail.next = o
            o.prev = tail
        o.next = None
        lvl.tail = o
        lvl.qty += leaves
        lvl.visible += visible
        lvl.count += 1
        o.level = lvl
        return None

    def _fast_new(self, cmd: NewOrder, ts: int, ev: list[Event]) -> None:
        """A plain DAY/GTC/IOC limit order in continuous trading; else ``_on_new``."""
        m = self._markets.get(cmd.symbol)
        tif = cmd.tif
        if (
            m is None
            or m.phase is not _CONTINUOUS
            or cmd.ord_type is not _LIMIT
            or cmd.display_qty
            or cmd.min_qty
            or cmd.post_only
            or cmd.stop_px
            or (tif is not _GTC and tif is not _DAY and tif is not _IOC)  # identity: Enum.__hash__ is Python
        ):
            return self._on_new(cmd, ts, ev)  # type: ignore[no-any-return]
        inst = m.instrument
        qty = cmd.qty
        price = cmd.price
        if (
            qty < inst.min_lots
            or qty > inst.max_lots
            or price <= 0
            or (inst.has_tick_table and not inst.price_on_grid(price))
        ):
            return self._on_new(cmd, ts, ev)  # type: ignore[no-any-return]
        book = m.book
        owner = cmd.owner
        cl_ord_id = cmd.cl_ord_id
        key = (owner, cl_ord_id)
        by_client = book.by_client
        if key in by_client:
            return self._on_new(cmd, ts, ev)  # type: ignore[no-any-return]
        stp = cmd.stp
        if stp is None and self._stp_defaults:
            stp = self._stp_defaults.get(cmd.account)
        self._order_seq = oid = self._order_seq + 1
        side = cmd.side
        o = Order(oid, owner, cl_ord_id, cmd.account, cmd.stp_group, side, _LIMIT, tif, price, 0, qty, 0, 0, False,
                  stp, 0)  # fmt: skip
        book.orders[oid] = o
        by_client[key] = o
        self._exec_seq = exec_id = self._exec_seq + 1
        ev.append(Accepted(ts, m.symbol, oid, owner, cl_ord_id, exec_id, side, _LIMIT, tif, qty, price, 0))
        if o.is_buy:
            opposite = book.ask_keys
            crosses = opposite and opposite[-1] >= -price
        else:
            opposite = book.bid_keys
            crosses = opposite and opposite[-1] >= price
        if crosses or tif is _IOC:
            span = self._execute(m, o, ts, ev)
            if span is not None and book.stops:
                self._run_stops(m, span[0], span[1], ts, ev)
            return None
        self._prio_seq = seq = self._prio_seq + 1
        o.seq = seq
        book.add(o)
        return None

    def _fast_cancel(self, cmd: CancelOrder, ts: int, ev: list[Event]) -> None:
        """A cancel of a resting order in continuous trading; else ``_on_cancel``."""
        m = self._markets.get(cmd.symbol)
        if m is None or m.phase is not _CONTINUOUS:
            return self._on_cancel(cmd, ts, ev)  # type: ignore[no-any-return]
        book = m.book
        owner = cmd.owner
        order_id = cmd.order_id
        o: Order | None = (
            book.orders.get(order_id) if order_id else book.by_client.get((owner, cmd.orig_cl_ord_id))
        )
        if o is None or o.state is not _RESTING or o.owner != owner:
            return self._on_cancel(cmd, ts, ev)  # type: ignore[no-any-return]
        book.remove(o)
        oid = o.order_id
        old_cl = o.cl_ord_id
        del book.orders[oid]
        del book.by_client[(owner, old_cl)]
        o.state = _DONE
        qty = o.leaves
        o.leaves = 0
        o.visible = 0
        self._exec_seq = exec_id = self._exec_seq + 1
        cl_ord_id = cmd.cl_ord_id
        if cl_ord_id:
            ev.append(Cancelled(ts, m.symbol, oid, owner, cl_ord_id, old_cl, exec_id, o.side, o.cum_qty, qty,
                                _CLIENT_REQUEST))  # fmt: skip
        else:
            ev.append(Cancelled(ts, m.symbol, oid, owner, old_cl, "", exec_id, o.side, o.cum_qty, qty,
                                _CLIENT_REQUEST))  # fmt: skip
        return None
