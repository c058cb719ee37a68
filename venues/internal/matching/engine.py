"""The matching engine: ``process(command, ts) -> events``, pure and deterministic.

Rules (one place for each; scenario tests in ``tests/venues/matching`` name them):

* **Price-time priority**, trades at the resting order's price.  Only an iceberg's displayed slice
  has priority; when it is used up the next slice joins the back of the level with a new priority.
* **Order types**: limit; market = a marketable limit capped ``market_protection_pct`` away from the
  best opposite price (remainder cancelled, never rests in continuous trading); stop and stop-limit
  (triggered by trades at or through the stop, then work as market/limit; cancellable before and
  after the trigger).
* **Conditions**: post-only (rejected if it would take; cancelled if a replace makes it take),
  MinQty (the immediately executable quantity must reach it, else the order is cancelled; checked
  on entry only), TIF DAY/GTC/GTD/IOC/FOK/OPG/ATC.
* **Cancel/replace** (Eurex rule): priority is kept only if the price is unchanged and the quantity
  does not increase; side or symbol changes are refused; a new quantity at or below the executed
  quantity cancels the rest.
* **Self-trade prevention** by the incoming order's instruction (else its account's default), for
  orders of the same account or the same STP group; not applied in auctions.
* **Phases** per instrument (``phases.py``): calls accumulate orders and publish an indicative
  price, auctions uncross (``auction.py``), a trade that would print outside the dynamic price band
  halts the instrument instead of trading (the aggressor's remainder rests or is cancelled).
* **Determinism**: order, execution, match and priority ids come from counters in the engine; no
  clock is read (``ts`` is given); :meth:`MatchingEngine.state_hash` fingerprints the whole state.

The continuous-trading path (new limit, cancel, replace, match) avoids Decimal and allocations other
than the events it returns; its three commonest cases (a move that does not cross, a plain limit
order, a cancel of a resting order) take the flat fast paths of ``fast_paths.py``, which hand every
other case to the general handlers below and give identical results.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Callable, Iterable, Mapping

from venues.base import (
    CancelReason,
    CancelRejectReason,
    CancelRejectResponseTo,
    Liquidity,
    OrdType,
    RejectReason,
    RestatementReason,
    SelfTradePrevention,
    Side,
    TimeInForce,
    TradingPhase,
)

from . import phases
from .auction import equilibrium
from .book import Order, OrderBook, OrderState
from .commands import (
    AdvanceTime,
    CancelOrder,
    Command,
    EndOfDay,
    Halt,
    MassCancel,
    NewOrder,
    ReplaceOrder,
    Resume,
    SetPhase,
    SetReferencePrice,
)
from .events import (
    Accepted,
    Cancelled,
    CancelRejected,
    Event,
    Expired,
    Fill,
    IndicativePrice,
    MassCancelled,
    PhaseChanged,
    Rejected,
    Replaced,
    Restated,
    Triggered,
)
from .fast_paths import FastPaths
from .instrument import Instrument
from .market import Market

_LIMIT = OrdType.LIMIT
_MARKET = OrdType.MARKET
_STOP = OrdType.STOP
_STOP_LIMIT = OrdType.STOP_LIMIT
_IOC = TimeInForce.IOC
_FOK = TimeInForce.FOK
_GTD = TimeInForce.GTD
_OPG = TimeInForce.OPG
_ATC = TimeInForce.ATC
_CONTINUOUS = TradingPhase.CONTINUOUS
_CLOSED = TradingPhase.CLOSED
_PRE_OPEN = TradingPhase.PRE_OPEN
_CLOSING_CALL = TradingPhase.CLOSING_CALL
_HALTED = TradingPhase.HALTED
_RESTING = OrderState.RESTING
_WAITING = OrderState.WAITING_TRIGGER
_PARKED = OrderState.PARKED
_INCOMING = OrderState.INCOMING
_DONE = OrderState.DONE
_ADDED = Liquidity.ADDED
_REMOVED = Liquidity.REMOVED
_AUCTION = Liquidity.AUCTION
_ICEBERG = RestatementReason.ICEBERG_REFRESH
_REPLACE = CancelRejectResponseTo.REPLACE
_CANCEL = CancelRejectResponseTo.CANCEL

_DAY_TIFS = frozenset({TimeInForce.DAY, _OPG, _ATC})
_NO_REST_TIFS = frozenset({_IOC, _FOK})
_AUCTIONS = frozenset(
    {TradingPhase.OPENING_AUCTION, TradingPhase.CLOSING_AUCTION, TradingPhase.RESUMPTION_AUCTION}
)

# _take statuses
_OK = 0
_HALT = 1
_STOPPED = 2  # the incoming order was cancelled by self-trade prevention


class UnknownInstrument(KeyError):
    """An operator command named an instrument the engine does not hold."""


class PhaseTransitionError(ValueError):
    """An operator asked for a phase change the transition table does not allow."""


class MatchingEngine(FastPaths):
    """Order books of a set of instruments and the rules that match them.

    ``process(command, ts)`` applies one command at time ``ts`` (integer nanoseconds) and returns
    the events it caused, in order.  The same commands with the same timestamps always give the
    same events and the same :meth:`state_hash`.  ``fast_paths=False`` sends every command through
    the general handlers (the fast paths of ``fast_paths.py`` give identical results; tests compare).
    """

    def __init__(
        self,
        instruments: Iterable[Instrument] = (),
        *,
        phase: TradingPhase = TradingPhase.CONTINUOUS,
        stp_defaults: Mapping[str, SelfTradePrevention] | None = None,
        fast_paths: bool = True,
    ) -> None:
        self._markets: dict[str, Market] = {}
        self._stp_defaults = dict(stp_defaults or {})
        self._order_seq = 0
        self._exec_seq = 0
        self._match_seq = 0
        self._prio_seq = 0
        self._gtd: list[tuple[int, int, str]] = []  # (expire_time, order_id, symbol), lazily pruned
        self._handlers: dict[type, Callable[[object, int, list[Event]], None]] = {
            NewOrder: self._fast_new if fast_paths else self._on_new,  # type: ignore[dict-item]
            CancelOrder: self._fast_cancel if fast_paths else self._on_cancel,  # type: ignore[dict-item]
            ReplaceOrder: self._fast_replace if fast_paths else self._on_replace,  # type: ignore[dict-item]
            MassCancel: self._on_mass_cancel,  # type: ignore[dict-item]
            AdvanceTime: self._on_advance_time,  # type: ignore[dict-item]
            EndOfDay: self._on_end_of_day,  # type: ignore[dict-item]
            SetPhase: self._on_set_phase,  # type: ignore[dict-item]
            Halt: self._on_halt,  # type: ignore[dict-item]
            Resume: self._on_resume,  # type: ignore[dict-item]
            SetReferencePrice: self._on_set_reference,  # type: ignore[dict-item]
        }
        for instrument in instruments:
            self.add_instrument(instrument, phase)

    # ------------------------------------------------------------------ public API

    def add_instrument(self, instrument: Instrument, phase: TradingPhase = TradingPhase.CONTINUOUS) -> None:
        """Start holding an instrument, in ``phase`` (an empty book is valid in any phase)."""
        if instrument.symbol in self._markets:
            raise ValueError(f"instrument {instrument.symbol} already present")
        self._markets[instrument.symbol] = Market(instrument, phase)

    def process(self, command: Command, ts: int) -> list[Event]:
        """Apply one command at time ``ts``; return the events it caused."""
        ev: list[Event] = []
        gtd = self._gtd
        if gtd and gtd[0][0] <= ts:
            self._expire_due(ts, ev)
        try:
            handler = self._handlers[type(command)]
        except KeyError:
            raise TypeError(f"not a matching command: {command!r}") from None
        handler(command, ts, ev)
        return ev

    def instrument(self, symbol: str) -> Instrument:
        """Reference data of a held instrument."""
        return self._market(symbol).instrument

    def book(self, symbol: str) -> OrderBook:
        """The order book of an instrument (read it, do not change it)."""
        return self._market(symbol).book

    def phase(self, symbol: str) -> TradingPhase:
        """The current trading phase of an instrument."""
        return self._market(symbol).phase

    def reference_price(self, symbol: str) -> int | None:
        """The reference price (last trade or auction price) in ticks, or None."""
        return self._market(symbol).reference

    def symbols(self) -> list[str]:
        """The instruments held, in the order they were added."""
        return list(self._markets)

    def can_set_phase(self, symbol: str, phase: TradingPhase) -> bool:
        """Whether :class:`SetPhase` to ``phase`` would be accepted now."""
        return phases.can_move(self._market(symbol).phase, phase)

    def check_invariants(self) -> None:
        """Raise AssertionError if any book or index is inconsistent (see ``OrderBook``)."""
        for m in self._markets.values():
            m.book.check_invariants(allow_crossed=m.phase is not _CONTINUOUS)
            for o in m.book.orders.values():
                assert 0 < o.order_id <= self._order_seq and o.seq <= self._prio_seq
                assert o.notional >= 0 and o.qty > 0
            assert m.phase not in _AUCTIONS, "left inside a transient auction phase"
            assert not (m.book.parked and self._atc_live(m)), "ATC orders parked during the closing call"

    def state_hash(self) -> str:
        """SHA-256 over a canonical dump of counters, phases, books, stops and parked orders."""
        h = hashlib.sha256()
        h.update(repr((self._order_seq, self._exec_seq, self._match_seq, self._prio_seq)).encode())
        live_gtd = sorted(
            e
            for e in self._gtd
            if (o := self._markets[e[2]].book.orders.get(e[1])) is not None and o.tif is _GTD
        )
        h.update(repr(live_gtd).encode())
        for symbol in sorted(self._markets):
            m = self._markets[symbol]
            h.update(repr(m.canonical()).encode())
            book = m.book
            for side in (book.bid_levels(), book.ask_levels()):
                for lvl in side:
                    h.update(repr((lvl.price, lvl.qty, lvl.visible, [o.canonical() for o in lvl])).encode())
                h.update(b"|")
            h.update(repr([o.canonical() for o in book.stops.orders()]).encode())
            h.update(repr([o.canonical() for o in book.parked.values()]).encode())
        return h.hexdigest()

    # ------------------------------------------------------------------ new order

    def _on_new(self, cmd: NewOrder, ts: int, ev: list[Event]) -> None:
        m = self._markets.get(cmd.symbol)
        if m is None:
            return self._reject(cmd, ts, ev, RejectReason.UNKNOWN_SYMBOL, "unknown symbol")
        inst = m.instrument
        qty = cmd.qty
        if qty < inst.min_lots or qty > inst.max_lots:
            return self._reject(
                cmd, ts, ev, RejectReason.INCORRECT_QUANTITY, "quantity outside the allowed range"
            )
        ord_type = cmd.ord_type
        tif = cmd.tif
        price = cmd.price
        if ord_type is _LIMIT or ord_type is _STOP_LIMIT:
            if price == 0:  # the edge's mark for no price
                return self._reject(
                    cmd, ts, ev, RejectReason.INVALID_PRICE_INCREMENT, "limit order without a price"
                )
            if price < 0 or (inst.has_tick_table and not inst.price_on_grid(price)):
                return self._reject(
                    cmd, ts, ev, RejectReason.INVALID_PRICE_INCREMENT, "price off the tick grid"
                )
        elif price:
            return self._reject(
                cmd, ts, ev, RejectReason.INVALID_PRICE, "price given on a market or stop order"
            )
        stop_px = cmd.stop_px
        if ord_type is _STOP or ord_type is _STOP_LIMIT:
            if stop_px == 0:  # the edge's mark for no stop price
                return self._reject(
                    cmd, ts, ev, RejectReason.INVALID_PRICE_INCREMENT, "stop order without a stop price"
                )
            if stop_px < 0 or (inst.has_tick_table and not inst.price_on_grid(stop_px)):
                return self._reject(
                    cmd, ts, ev, RejectReason.INVALID_PRICE_INCREMENT, "stop price off the tick grid"
                )
        elif stop_px:
            return self._reject(
                cmd, ts, ev, RejectReason.INVALID_PRICE, "stop price given on a non-stop order"
            )
        peak = cmd.display_qty
        if peak:
            if peak < 0:  # the edge's mark for a value off the lot grid (or not positive)
                return self._reject(
                    cmd, ts, ev, RejectReason.INCORRECT_QUANTITY, "display quantity not a positive number of lots"
                )
            if peak > qty:
                return self._reject(
                    cmd, ts, ev, RejectReason.INCORRECT_QUANTITY, "display quantity above quantity"
                )
            if ord_type is _MARKET or ord_type is _STOP or tif in _NO_REST_TIFS:
                return self._reject(
                    cmd,
                    ts,
                    ev,
                    RejectReason.UNSUPPORTED_ORDER_CHARACTERISTIC,
                    "iceberg must be a resting limit order",
                )
            if peak == qty:
                peak = 0
        min_qty = cmd.min_qty
        if min_qty < 0:  # the edge's mark for a value off the lot grid (or not positive)
            return self._reject(
                cmd, ts, ev, RejectReason.INCORRECT_QUANTITY, "minimum quantity not a positive number of lots"
            )
        if min_qty > qty:
            return self._reject(
                cmd, ts, ev, RejectReason.INCORRECT_QUANTITY, "minimum quantity above quantity"
            )
        if cmd.post_only and (ord_type is not _LIMIT or tif in _NO_REST_TIFS):
            return self._reject(
                cmd,
                ts,
                ev,
                RejectReason.UNSUPPORTED_ORDER_CHARACTERISTIC,
                "post-only must be a resting limit order",
            )
        expire_time = 0
        if tif is _GTD:
            expire_time = cmd.expire_time
            if expire_time <= ts:
                return self._reject(cmd, ts, ev, RejectReason.STALE_ORDER, "expire time not in the future")
        book = m.book
        key = (cmd.owner, cmd.cl_ord_id)
        if key in book.by_client:
            return self._reject(cmd, ts, ev, RejectReason.DUPLICATE_ORDER, "duplicate ClOrdID")
        phase = m.phase
        if phase is not _CONTINUOUS:
            if phase is _CLOSED:
                return self._reject(cmd, ts, ev, RejectReason.EXCHANGE_CLOSED, "instrument closed")
            if tif in _NO_REST_TIFS or min_qty:
                return self._reject(
                    cmd,
                    ts,
                    ev,
                    RejectReason.UNSUPPORTED_ORDER_CHARACTERISTIC,
                    "IOC/FOK/MinQty not accepted in a call",
                )
            if ord_type is _MARKET and m.reference is None:
                return self._reject(
                    cmd,
                    ts,
                    ev,
                    RejectReason.REFERENCE_PRICE_NOT_AVAILABLE,
                    "market order needs a reference price",
                )
        if tif is _OPG and phase is not _PRE_OPEN:
            return self._reject(
                cmd, ts, ev, RejectReason.TOO_LATE_TO_ENTER, "OPG orders only before the opening"
            )
        if cmd.post_only and phase is _CONTINUOUS and self._crosses(book, cmd.side is Side.BUY, price):
            return self._reject(
                cmd, ts, ev, RejectReason.POST_ONLY_WOULD_TAKE, "post-only order would take liquidity"
            )
        stp = cmd.stp
        if stp is None and self._stp_defaults:
            stp = self._stp_defaults.get(cmd.account)
        self._order_seq += 1
        oid = self._order_seq
        o = Order(
            oid, cmd.owner, cmd.cl_ord_id, cmd.account, cmd.stp_group, cmd.side, ord_type, tif, price,
            stop_px, qty, peak, min_qty, cmd.post_only, stp, expire_time,
        )  # fmt: skip
        book.orders[oid] = o
        book.by_client[key] = o
        self._exec_seq += 1
        ev.append(
            Accepted(
                ts,
                m.symbol,
                oid,
                o.owner,
                o.cl_ord_id,
                self._exec_seq,
                o.side,
                ord_type,
                tif,
                qty,
                price,
                stop_px,
            )
        )
        if expire_time:
            heapq.heappush(self._gtd, (expire_time, oid, m.symbol))
        if ord_type is _STOP or ord_type is _STOP_LIMIT:
            o.state = _WAITING
            book.stops.add(o)
            return None
        if tif is _ATC and not self._atc_live(m):
            o.state = _PARKED
            book.parked[oid] = o
            return None
        if phase is _CONTINUOUS:
            span = self._execute(m, o, ts, ev)
            if span is not None and book.stops:
                self._run_stops(m, span[0], span[1], ts, ev)
            return None
        if ord_type is _MARKET:  # in a call: a limit at the protection price around the reference
            ref = m.reference
            assert ref is not None
            width = m.instrument.protection_width(ref)
            o.price = ref + width if o.is_buy else max(1, ref - width)
        self._rest(book, o)
        self._publish_indicative(m, ts, ev)
        return None

    def _reject(self, cmd: NewOrder, ts: int, ev: list[Event], reason: RejectReason, text: str) -> None:
        self._exec_seq += 1
        ev.append(Rejected(ts, cmd.symbol, cmd.owner, cmd.cl_ord_id, self._exec_seq, cmd.side, reason, text))

    @staticmethod
    def _crosses(book: OrderBook, is_buy: bool, price: int) -> bool:
        if is_buy:
            return bool(book.ask_keys) and -book.ask_keys[-1] <= price
        return bool(book.bid_keys) and book.bid_keys[-1] >= price

    @staticmethod
    def _atc_live(m: Market) -> bool:
        return m.phase is _CLOSING_CALL or (m.phase is _HALTED and m.halted_from is _CLOSING_CALL)

    def _rest(self, book: OrderBook, o: Order) -> None:
        self._prio_seq += 1
        o.seq = self._prio_seq
        book.add(o)

    # ------------------------------------------------------------------ continuous matching

    def _execute(self, m: Market, o: Order, ts: int, ev: list[Event]) -> tuple[int, int] | None:
        """Match an accepted incoming order in continuous trading, then rest or cancel the rest.

        Returns the (highest, lowest) trade price when it traded, for stop triggering.
        """
        book = m.book
        is_buy = o.is_buy
        if o.ord_type is _MARKET:
            best = (
                (-book.ask_keys[-1] if book.ask_keys else None)
                if is_buy
                else (book.bid_keys[-1] if book.bid_keys else None)
            )
            if best is None:
                self._cancel_incoming(m, o, CancelReason.IOC_REMAINDER, ts, ev)
                return None
            width = m.instrument.protection_width(best)
            limit = best + width if is_buy else max(1, best - width)
        else:
            limit = o.price
        if o.tif is _FOK or o.min_qty:
            need = o.leaves if o.tif is _FOK else o.min_qty
            o.min_qty = 0
            if self._available(m, o, limit, need) < need:
                reason = CancelReason.FOK_NOT_FILLED if o.tif is _FOK else CancelReason.MIN_QTY_NOT_MET
                self._cancel_incoming(m, o, reason, ts, ev)
                return None
        span: tuple[int, int] | None = None
        status = _OK
        if is_buy:
            keys = book.ask_keys
            if keys and keys[-1] >= -limit:
                status, first, last = self._take(m, o, limit, ts, ev)
                if first:
                    span = (last, first)
        else:
            keys = book.bid_keys
            if keys and keys[-1] >= limit:
                status, first, last = self._take(m, o, limit, ts, ev)
                if first:
                    span = (first, last)
        if span is not None:
            m.set_reference(span[0] if is_buy else span[1])  # the last trade price
        if status is _STOPPED:
            return span
        if o.leaves:
            if o.ord_type is _MARKET:
                if status is _HALT:
                    reason = CancelReason.TRADING_HALT
                elif keys:
                    reason = CancelReason.MARKET_PROTECTION
                else:
                    reason = CancelReason.IOC_REMAINDER
                self._cancel_incoming(m, o, reason, ts, ev)
            elif o.tif is _IOC or o.tif is _FOK:
                if status is _HALT:
                    reason = CancelReason.TRADING_HALT
                else:
                    reason = CancelReason.IOC_REMAINDER if o.tif is _IOC else CancelReason.FOK_NOT_FILLED
                self._cancel_incoming(m, o, reason, ts, ev)
            else:
                leaves = o.leaves
                peak = o.peak
                o.visible = peak if peak and peak < leaves else leaves
                self._rest(book, o)
        else:
            self._forget(book, o)
        if status is _HALT:
            self._enter(m, _HALTED, ts, ev, "price band breach")
            self._publish_indicative(m, ts, ev)
        return span

    def _take(self, m: Market, o: Order, limit: int, ts: int, ev: list[Event]) -> tuple[int, int, int]:
        """The matching loop: take liquidity from the opposite side up to ``limit``.

        Returns ``(status, first trade price, last trade price)`` (prices 0 if nothing traded).
        """
        book = m.book
        sym = m.symbol
        if o.is_buy:
            levels, keys = book.asks, book.ask_keys
            lim_key, band_near, band_far = -limit, -m.band_hi, -m.band_lo
        else:
            levels, keys = book.bids, book.bid_keys
            lim_key, band_near, band_far = limit, m.band_lo, m.band_hi
        stp = o.stp
        orders = book.orders
        by_client = book.by_client
        first = last = 0
        status = _OK
        while keys:
            key = keys[-1]
            if key < lim_key:
                break
            if key < band_near or key > band_far:
                status = _HALT
                break
            lvl = levels[key]
            px = lvl.price
            while True:
                r = lvl.head
                assert r is not None
                if stp is not None and (
                    (o.account and r.account == o.account) or (o.stp_group and r.stp_group == o.stp_group)
                ):
                    status = self._self_trade(m, o, r, stp, ts, ev)
                    if status or lvl.count == 0:
                        break
                    continue
                vis = r.visible
                lv = o.leaves
                q = vis if vis < lv else lv
                o.leaves = lv - q
                o.cum_qty += q
                o.notional += q * px
                r.visible = vis - q
                r.leaves -= q
                r.cum_qty += q
                r.notional += q * px
                lvl.qty -= q
                lvl.visible -= q
                self._match_seq += 1
                mid = self._match_seq
                self._exec_seq += 2
                eid = self._exec_seq
                ev.append(
                    Fill(ts, sym, r.order_id, r.owner, r.cl_ord_id, eid - 1, r.side, mid, q, px, r.cum_qty,
                         r.leaves, r.notional, _ADDED, r.account)
                )  # fmt: skip
                ev.append(
                    Fill(ts, sym, o.order_id, o.owner, o.cl_ord_id, eid, o.side, mid, q, px, o.cum_qty,
                         o.leaves, o.notional, _REMOVED, o.account)
                )  # fmt: skip
                if not first:
                    first = px
                last = px
                if r.visible == 0:
                    if r.leaves == 0:
                        n = r.next
                        lvl.head = n
                        lvl.count -= 1
                        r.next = r.level = None
                        r.state = _DONE
                        del orders[r.order_id]
                        del by_client[(r.owner, r.cl_ord_id)]
                        if n is None:
                            lvl.tail = None
                            del levels[key]
                            keys.pop()
                            break
                        n.prev = None
                    else:
                        self._refresh_iceberg(m, r, ts, ev)
                if not o.leaves:
                    break
            if status or not o.leaves:
                break
        return status, first, last

    def _refresh_iceberg(self, m: Market, r: Order, ts: int, ev: list[Event]) -> None:
        """Show the next slice of an iceberg at the back of its level, with a new priority."""
        lvl = r.level
        assert lvl is not None
        r.visible = r.peak if r.peak < r.leaves else r.leaves
        lvl.visible += r.visible
        self._prio_seq += 1
        r.seq = self._prio_seq
        m.book.move_to_back(r)
        self._exec_seq += 1
        ev.append(
            Restated(ts, m.symbol, r.order_id, r.owner, r.cl_ord_id, self._exec_seq, r.side, r.qty, r.leaves,
                     r.visible, _ICEBERG)
        )  # fmt: skip

    def _self_trade(
        self, m: Market, o: Order, r: Order, stp: SelfTradePrevention, ts: int, ev: list[Event]
    ) -> int:
        """Apply the incoming order's STP instruction to a resting order of the same account/group."""
        if stp is SelfTradePrevention.CANCEL_INCOMING:
            self._cancel_incoming(m, o, CancelReason.STP_INCOMING, ts, ev)
            return _STOPPED
        if stp is SelfTradePrevention.CANCEL_RESTING:
            self._cancel_live(m, r, CancelReason.STP_RESTING, ts, ev)
            return _OK
        if stp is SelfTradePrevention.CANCEL_BOTH:
            self._cancel_live(m, r, CancelReason.STP_BOTH, ts, ev)
            self._cancel_incoming(m, o, CancelReason.STP_BOTH, ts, ev)
            return _STOPPED
        # decrement and cancel: both lose the smaller quantity; whoever reaches zero is cancelled
        if o.leaves == r.leaves:
            self._cancel_live(m, r, CancelReason.STP_DECREMENT, ts, ev)
            self._cancel_incoming(m, o, CancelReason.STP_DECREMENT, ts, ev)
            return _STOPPED
        if o.leaves < r.leaves:
            self._decrement(m, r, o.leaves, ts, ev)
            self._cancel_incoming(m, o, CancelReason.STP_DECREMENT, ts, ev)
            return _STOPPED
        self._decrement(m, o, r.leaves, ts, ev)
        self._cancel_live(m, r, CancelReason.STP_DECREMENT, ts, ev)
        return _OK

    def _decrement(self, m: Market, o: Order, d: int, ts: int, ev: list[Event]) -> None:
        """Reduce a live order's quantity by ``d`` keeping its priority (STP decrement)."""
        o.qty -= d
        o.leaves -= d
        lvl = o.level if o.state is _RESTING else None
        if lvl is not None:
            lvl.qty -= d
        if o.visible > o.leaves:
            if lvl is not None:
                lvl.visible -= o.visible - o.leaves
            o.visible = o.leaves
        self._exec_seq += 1
        ev.append(
            Restated(ts, m.symbol, o.order_id, o.owner, o.cl_ord_id, self._exec_seq, o.side, o.qty, o.leaves,
                     o.visible, RestatementReason.STP_DECREMENT)
        )  # fmt: skip

    def _available(self, m: Market, o: Order, limit: int, need: int) -> int:
        """Quantity the incoming order could execute right now (for FOK and MinQty), up to ``need``.

        Stops at the price band (a breach would halt, not trade) and honours self-trade prevention:
        self-matching orders do not count, and with cancel-incoming/both they end the search.
        """
        book = m.book
        if o.is_buy:
            levels, keys = book.asks, book.ask_keys
            lim_key, band_near, band_far = -limit, -m.band_hi, -m.band_lo
        else:
            levels, keys = book.bids, book.bid_keys
            lim_key, band_near, band_far = limit, m.band_lo, m.band_hi
        stp = o.stp
        total = 0
        for key in reversed(keys):
            if key < lim_key or key < band_near or key > band_far:
                break
            lvl = levels[key]
            if stp is None:
                total += lvl.qty
            else:
                for r in lvl:
                    if (o.account and r.account == o.account) or (o.stp_group and r.stp_group == o.stp_group):
                        if (
                            stp is SelfTradePrevention.CANCEL_INCOMING
                            or stp is SelfTradePrevention.CANCEL_BOTH
                        ):
                            return total
                        continue
                    total += r.leaves
            if total >= need:
                break
        return total

    def _run_stops(self, m: Market, high: int, low: int, ts: int, ev: list[Event]) -> None:
        """Trigger and execute stops reached by trades between ``low`` and ``high`` (cascading)."""
        stops = m.book.stops
        while stops and m.phase is _CONTINUOUS:
            o = stops.pop_triggered(high, low)
            if o is None:
                return
            o.state = _INCOMING
            o.ord_type = _MARKET if o.ord_type is _STOP else _LIMIT
            self._exec_seq += 1
            ev.append(
                Triggered(
                    ts,
                    m.symbol,
                    o.order_id,
                    o.owner,
                    o.cl_ord_id,
                    self._exec_seq,
                    o.side,
                    o.ord_type,
                    o.price,
                )
            )
            span = self._execute(m, o, ts, ev)
            if span is not None:
                high = max(high, span[0])
                low = min(low, span[1])

    # ------------------------------------------------------------------ removal helpers

    @staticmethod
    def _forget(book: OrderBook, o: Order) -> None:
        del book.orders[o.order_id]
        del book.by_client[(o.owner, o.cl_ord_id)]
        o.state = _DONE

    @staticmethod
    def _unlink(book: OrderBook, o: Order) -> None:
        state = o.state
        if state is _RESTING:
            book.remove(o)
        elif state is _WAITING:
            book.stops.remove(o)
        elif state is _PARKED:
            del book.parked[o.order_id]

    def _cancel_incoming(self, m: Market, o: Order, reason: CancelReason, ts: int, ev: list[Event]) -> None:
        """Cancel the rest of an order that is being matched (not in a level)."""
        qty = o.leaves
        o.leaves = 0
        o.visible = 0
        self._forget(m.book, o)
        self._exec_seq += 1
        ev.append(
            Cancelled(
                ts,
                m.symbol,
                o.order_id,
                o.owner,
                o.cl_ord_id,
                "",
                self._exec_seq,
                o.side,
                o.cum_qty,
                qty,
                reason,
            )
        )

    def _cancel_live(
        self, m: Market, o: Order, reason: CancelReason, ts: int, ev: list[Event], cl_ord_id: str = ""
    ) -> None:
        """Cancel a live order wherever it is; ``cl_ord_id`` is the cancel request's, if any."""
        book = m.book
        self._unlink(book, o)
        self._forget(book, o)
        qty = o.leaves
        o.leaves = 0
        o.visible = 0
        self._exec_seq += 1
        if cl_ord_id:
            ev.append(
                Cancelled(ts, m.symbol, o.order_id, o.owner, cl_ord_id, o.cl_ord_id, self._exec_seq, o.side,
                          o.cum_qty, qty, reason)
            )  # fmt: skip
        else:
            ev.append(
                Cancelled(ts, m.symbol, o.order_id, o.owner, o.cl_ord_id, "", self._exec_seq, o.side, o.cum_qty,
                          qty, reason)
            )  # fmt: skip

    def _expire(self, m: Market, o: Order, ts: int, ev: list[Event]) -> None:
        book = m.book
        self._unlink(book, o)
        self._forget(book, o)
        qty = o.leaves
        o.leaves = 0
        o.visible = 0
        self._exec_seq += 1
        ev.append(
            Expired(ts, m.symbol, o.order_id, o.owner, o.cl_ord_id, self._exec_seq, o.side, o.cum_qty, qty)
        )

    # ------------------------------------------------------------------ cancel / replace / mass cancel

    def _find(self, book: OrderBook, owner: str, order_id: int, orig_cl_ord_id: str) -> Order | None:
        o = book.orders.get(order_id) if order_id else book.by_client.get((owner, orig_cl_ord_id))
        if o is None or o.owner != owner:
            return None
        return o

    def _cancel_reject(
        self,
        cmd: CancelOrder | ReplaceOrder,
        ts: int,
        ev: list[Event],
        to: CancelRejectResponseTo,
        reason: CancelRejectReason,
        text: str,
    ) -> None:
        ev.append(
            CancelRejected(
                ts, cmd.symbol, cmd.order_id, cmd.owner, cmd.cl_ord_id, cmd.orig_cl_ord_id, to, reason, text
            )
        )

    def _replace_reject(
        self,
        o: Order,
        cmd: ReplaceOrder,
        ts: int,
        ev: list[Event],
        to: CancelRejectResponseTo,
        reason: CancelRejectReason,
        text: str,
    ) -> None:
        """A refused replace of the live order ``o``: the reject names it (its OrderID, and so its
        status) even when the request named it by ClOrdID only."""
        ev.append(
            CancelRejected(
                ts, cmd.symbol, o.order_id, cmd.owner, cmd.cl_ord_id, cmd.orig_cl_ord_id, to, reason, text
            )
        )

    def _unknown_order(
        self, cmd: CancelOrder | ReplaceOrder, ts: int, ev: list[Event], to: CancelRejectResponseTo
    ) -> None:
        for m in self._markets.values():  # cold path: is it an order of another instrument?
            if m.symbol != cmd.symbol and self._find(m.book, cmd.owner, cmd.order_id, cmd.orig_cl_ord_id):
                return self._cancel_reject(
                    cmd, ts, ev, to, CancelRejectReason.INVALID_CHANGE, "symbol cannot change"
                )
        return self._cancel_reject(cmd, ts, ev, to, CancelRejectReason.UNKNOWN_ORDER, "unknown order")

    def _on_cancel(self, cmd: CancelOrder, ts: int, ev: list[Event]) -> None:
        m = self._markets.get(cmd.symbol)
        o = None if m is None else self._find(m.book, cmd.owner, cmd.order_id, cmd.orig_cl_ord_id)
        if o is None or m is None:
            return self._unknown_order(cmd, ts, ev, _CANCEL)
        self._cancel_live(m, o, CancelReason.CLIENT_REQUEST, ts, ev, cmd.cl_ord_id)
        if m.phase is not _CONTINUOUS:
            self._publish_indicative(m, ts, ev)
        return None

    def _on_replace(self, cmd: ReplaceOrder, ts: int, ev: list[Event]) -> None:
        m = self._markets.get(cmd.symbol)
        if m is None:
            return self._unknown_order(cmd, ts, ev, _REPLACE)
        book = m.book
        owner = cmd.owner
        o = book.orders.get(cmd.order_id) if cmd.order_id else book.by_client.get((owner, cmd.orig_cl_ord_id))
        if o is None or o.owner != owner:
            return self._unknown_order(cmd, ts, ev, _REPLACE)
        phase = m.phase
        if phase is _CLOSED:
            return self._replace_reject(
                o, cmd, ts, ev, _REPLACE, CancelRejectReason.EXCHANGE_CLOSED, "instrument closed"
            )
        if cmd.side is not o.side:
            return self._replace_reject(
                o, cmd, ts, ev, _REPLACE, CancelRejectReason.INVALID_CHANGE, "side cannot change"
            )
        inst = m.instrument
        new_cl = cmd.cl_ord_id
        old_cl = o.cl_ord_id
        if new_cl != old_cl and (owner, new_cl) in book.by_client:
            return self._replace_reject(
                o, cmd, ts, ev, _REPLACE, CancelRejectReason.DUPLICATE_CL_ORD_ID, "duplicate ClOrdID"
            )
        qty = cmd.qty
        cum = o.cum_qty
        if qty <= 0 or qty > inst.max_lots or (qty < inst.min_lots and qty > cum):
            return self._replace_reject(
                o, cmd, ts, ev, _REPLACE, CancelRejectReason.INVALID_CHANGE, "bad quantity"
            )
        price = cmd.price
        old_price = o.price
        if price is None:
            price = old_price
        elif price != old_price:
            if o.ord_type is _MARKET or o.ord_type is _STOP:
                return self._replace_reject(
                    o,
                    cmd,
                    ts,
                    ev,
                    _REPLACE,
                    CancelRejectReason.INVALID_CHANGE,
                    "no limit price on a market order",
                )
            if price <= 0 or (inst.has_tick_table and not inst.price_on_grid(price)):
                return self._replace_reject(
                    o,
                    cmd,
                    ts,
                    ev,
                    _REPLACE,
                    CancelRejectReason.INVALID_PRICE_INCREMENT,
                    "price off the tick grid",
                )
        stop_px = cmd.stop_px
        state = o.state
        if stop_px is None:
            stop_px = o.stop_px
        elif stop_px != o.stop_px:
            if state is not _WAITING:
                return self._replace_reject(
                    o,
                    cmd,
                    ts,
                    ev,
                    _REPLACE,
                    CancelRejectReason.INVALID_CHANGE,
                    "stop price of a non-waiting order",
                )
            if stop_px <= 0 or (inst.has_tick_table and not inst.price_on_grid(stop_px)):
                return self._replace_reject(
                    o,
                    cmd,
                    ts,
                    ev,
                    _REPLACE,
                    CancelRejectReason.INVALID_PRICE_INCREMENT,
                    "stop price off the tick grid",
                )
        if qty <= cum:  # nothing left to work: the rest is cancelled
            return self._cancel_live(m, o, CancelReason.REPLACED_BELOW_EXECUTED, ts, ev, new_cl)
        if new_cl != old_cl:
            by_client = book.by_client
            del by_client[(owner, old_cl)]
            by_client[(owner, new_cl)] = o
            o.cl_ord_id = new_cl
        leaves = qty - cum
        keep = price == old_price and leaves <= o.leaves and stop_px == o.stop_px
        peak = o.peak
        if state is _RESTING:
            if keep:
                lvl = o.level
                assert lvl is not None
                lvl.qty -= o.leaves - leaves
                o.qty = qty
                o.leaves = leaves
                if o.visible > leaves:
                    lvl.visible -= o.visible - leaves
                    o.visible = leaves
            else:
                book.remove(o)
                o.price = price
                o.qty = qty
                o.leaves = leaves
                o.visible = peak if peak and peak < leaves else leaves
        else:
            if state is _WAITING:
                book.stops.remove(o)
            o.price = price
            o.stop_px = stop_px
            o.qty = qty
            o.leaves = leaves
            o.visible = peak if peak and peak < leaves else leaves
            if state is _WAITING:
                book.stops.add(o)
        self._exec_seq += 1
        ev.append(
            Replaced(ts, m.symbol, o.order_id, owner, new_cl, old_cl, self._exec_seq, o.side, qty, price, stop_px,
                     cum, leaves, keep)
        )  # fmt: skip
        if state is _RESTING and not keep:
            if phase is _CONTINUOUS:
                o.state = _INCOMING
                if o.is_buy:
                    keys = book.ask_keys
                    crosses = keys and keys[-1] >= -price
                else:
                    keys = book.bid_keys
                    crosses = keys and keys[-1] >= price
                if not crosses:  # the common move: straight back into the book
                    self._prio_seq += 1
                    o.seq = self._prio_seq
                    book.add(o)
                    return None
                if o.post_only:
                    self._cancel_incoming(m, o, CancelReason.POST_ONLY_WOULD_TAKE, ts, ev)
                    return None
                span = self._execute(m, o, ts, ev)
                if span is not None and book.stops:
                    self._run_stops(m, span[0], span[1], ts, ev)
                return None
            self._rest(book, o)
        if phase is not _CONTINUOUS:
            self._publish_indicative(m, ts, ev)
        return None

    def _on_mass_cancel(self, cmd: MassCancel, ts: int, ev: list[Event]) -> None:
        if cmd.symbol is None:
            markets = list(self._markets.values())
        elif cmd.symbol in self._markets:
            markets = [self._markets[cmd.symbol]]
        else:
            ev.append(
                MassCancelled(ts, cmd.requester, cmd.cl_ord_id, cmd.symbol, 0, cmd.reason, "unknown symbol")
            )
            return
        count = 0
        for m in markets:
            before = count
            for o in list(m.book.orders.values()):
                if (cmd.owner is None or o.owner == cmd.owner) and (
                    cmd.account is None or o.account == cmd.account
                ):
                    self._cancel_live(m, o, cmd.reason, ts, ev)
                    count += 1
            if count != before and m.phase is not _CONTINUOUS:
                self._publish_indicative(m, ts, ev)
        ev.append(MassCancelled(ts, cmd.requester, cmd.cl_ord_id, cmd.symbol, count, cmd.reason))

    # ------------------------------------------------------------------ time

    def _expire_due(self, ts: int, ev: list[Event]) -> None:
        gtd = self._gtd
        touched: dict[str, Market] = {}
        while gtd and gtd[0][0] <= ts:
            expire_time, oid, symbol = heapq.heappop(gtd)
            m = self._markets[symbol]
            o = m.book.orders.get(oid)
            if o is not None and o.tif is _GTD and o.expire_time == expire_time:
                self._expire(m, o, ts, ev)
                touched[symbol] = m
        for m in touched.values():
            if m.phase is not _CONTINUOUS:
                self._publish_indicative(m, ts, ev)

    def _on_advance_time(self, cmd: AdvanceTime, ts: int, ev: list[Event]) -> None:
        return None  # due GTD orders were expired by process()

    def _on_end_of_day(self, cmd: EndOfDay, ts: int, ev: list[Event]) -> None:
        markets = self._markets.values() if cmd.symbol is None else [self._market(cmd.symbol)]
        for m in markets:
            for o in list(m.book.orders.values()):
                if o.tif in _DAY_TIFS:
                    self._expire(m, o, ts, ev)
            if m.phase is not _CONTINUOUS:
                self._publish_indicative(m, ts, ev)

    # ------------------------------------------------------------------ phases

    def _market(self, symbol: str) -> Market:
        m = self._markets.get(symbol)
        if m is None:
            raise UnknownInstrument(symbol)
        return m

    def _on_set_phase(self, cmd: SetPhase, ts: int, ev: list[Event]) -> None:
        self._move(self._market(cmd.symbol), cmd.phase, ts, ev)

    def _on_halt(self, cmd: Halt, ts: int, ev: list[Event]) -> None:
        m = self._market(cmd.symbol)
        if not phases.can_move(m.phase, _HALTED):
            raise PhaseTransitionError(f"{m.symbol}: cannot halt in {m.phase.name}")
        self._enter(m, _HALTED, ts, ev, cmd.text)
        self._publish_indicative(m, ts, ev)

    def _on_resume(self, cmd: Resume, ts: int, ev: list[Event]) -> None:
        m = self._market(cmd.symbol)
        if m.phase is not _HALTED:
            raise PhaseTransitionError(f"{m.symbol}: not halted")
        back = m.halted_from
        self._move(m, back if back is _PRE_OPEN or back is _CLOSING_CALL else _CONTINUOUS, ts, ev)

    def _on_set_reference(self, cmd: SetReferencePrice, ts: int, ev: list[Event]) -> None:
        m = self._market(cmd.symbol)
        if cmd.price <= 0:
            raise ValueError("reference price must be positive")
        m.set_reference(cmd.price)

    def _move(self, m: Market, target: TradingPhase, ts: int, ev: list[Event]) -> None:
        """Operator phase change, through the auction the transition table names."""
        try:
            steps = phases.path(m.phase, target)
        except ValueError as exc:
            raise PhaseTransitionError(f"{m.symbol}: {exc}") from None
        auction_px = 0
        for phase in steps:
            self._enter(m, phase, ts, ev)
            if phase in _AUCTIONS:
                auction_px = self._uncross(m, ts, ev)
                if phase is TradingPhase.OPENING_AUCTION:
                    self._expire_tif(m, _OPG, ts, ev)
                elif phase is TradingPhase.CLOSING_AUCTION:
                    self._expire_tif(m, _ATC, ts, ev)
        if m.phase is not _CONTINUOUS:
            self._publish_indicative(m, ts, ev)
        elif auction_px and m.book.stops:
            self._run_stops(m, auction_px, auction_px, ts, ev)

    def _enter(self, m: Market, phase: TradingPhase, ts: int, ev: list[Event], text: str = "") -> None:
        previous = m.phase
        assert phase in phases.TRANSITIONS[previous], f"{previous.name} -> {phase.name}"
        m.phase = phase
        if phase is _HALTED:
            m.halted_from = previous
        m.indicative = None
        ev.append(PhaseChanged(ts, m.symbol, phase, previous, text))
        if phase is _CLOSING_CALL and m.book.parked:
            book = m.book
            for o in list(book.parked.values()):  # ATC orders join the book in entry order
                del book.parked[o.order_id]
                self._rest(book, o)

    def _expire_tif(self, m: Market, tif: TimeInForce, ts: int, ev: list[Event]) -> None:
        for o in list(m.book.orders.values()):
            if o.tif is tif and o.state is not _WAITING:
                self._expire(m, o, ts, ev)

    # ------------------------------------------------------------------ auctions

    def _uncross(self, m: Market, ts: int, ev: list[Event]) -> int:
        """Execute the auction at the equilibrium price; return that price (0 if nothing traded)."""
        book = m.book
        result = equilibrium(
            ((lv.price, lv.qty) for lv in book.bid_levels()),
            ((lv.price, lv.qty) for lv in book.ask_levels()),
            m.reference,
        )
        if result.price is None:
            return 0
        px = result.price
        buys = [o for lv in book.bid_levels() if lv.price >= px for o in lv]
        sells = [o for lv in book.ask_levels() if lv.price <= px for o in lv]
        left = result.volume
        bi = si = 0
        while left > 0:
            b = buys[bi]
            s = sells[si]
            q = min(b.leaves, s.leaves, left)
            self._match_seq += 1
            self._auction_fill(m, b, q, px, ts, ev)
            self._auction_fill(m, s, q, px, ts, ev)
            left -= q
            if b.leaves == 0:
                bi += 1
            if s.leaves == 0:
                si += 1
        m.set_reference(px)
        return px

    def _auction_fill(self, m: Market, r: Order, q: int, px: int, ts: int, ev: list[Event]) -> None:
        lvl = r.level
        assert lvl is not None
        r.leaves -= q
        r.cum_qty += q
        r.notional += q * px
        lvl.qty -= q
        if r.peak:
            visible = (r.peak if r.peak < r.leaves else r.leaves) if q >= r.visible else r.visible - q
        else:
            visible = r.leaves
        lvl.visible += visible - r.visible
        r.visible = visible
        self._exec_seq += 1
        ev.append(
            Fill(ts, m.symbol, r.order_id, r.owner, r.cl_ord_id, self._exec_seq, r.side, self._match_seq, q, px,
                 r.cum_qty, r.leaves, r.notional, _AUCTION, r.account)
        )  # fmt: skip
        if r.leaves == 0:
            m.book.remove(r)
            self._forget(m.book, r)

    def _publish_indicative(self, m: Market, ts: int, ev: list[Event]) -> None:
        """During a call, publish the indicative uncrossing price when it changed."""
        if not m.phase.is_call:
            return
        book = m.book
        result = equilibrium(
            ((lv.price, lv.qty) for lv in book.bid_levels()),
            ((lv.price, lv.qty) for lv in book.ask_levels()),
            m.reference,
        )
        current = (result.price or 0, result.volume, result.surplus)
        if current != m.indicative:
            m.indicative = current
            ev.append(IndicativePrice(ts, m.symbol, current[0], current[1], current[2]))
