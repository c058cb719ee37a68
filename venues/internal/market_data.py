"""Market data of the internal venue (pure): aggregated L2 diffs, trade prints and statistics.

:class:`MarketData` reads the matching engine's books and the integer events of one command and
returns the :data:`MarketDataEvent` objects that command caused, in this order:

1. :class:`PhaseChangedMD` and :class:`TradePrinted` in the order they happened (one print per
   match id; ``aggressor_side`` is the taker's side, None for an auction trade);
2. :class:`BookLevelChanged` for every displayed price level whose aggregate (displayed quantity,
   order count) actually changed - instruments in order of first touch, bids before asks, best
   price first; ``qty`` 0 means the level is gone;
3. :class:`StatsChanged` per instrument whose :class:`MarketStats` changed.

Levels show displayed quantity only (an iceberg's hidden part is not published).  The levels touched
by a command are found from the order ids of its events and the price each order rested at before;
a phase change (which can move parked ATC orders into the book) re-compares the whole instrument.

Level tracking costs a few microseconds per command, so it can be limited to the instruments
someone reads diffs of: ``MarketData(engine, all_levels=False)`` publishes no
:class:`BookLevelChanged` until :meth:`MarketData.track_levels` names an instrument (or
:meth:`MarketData.track_all_levels` all of them); from then on the diffs are relative to the book
as it was at that call.  Prints, statistics and phase changes are always published.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from venues.base import Liquidity, Side, TradingPhase
from venues.internal.fast_init import positional_constructor
from venues.internal.matching import MatchingEngine, OrderState
from venues.internal.matching import events as raw

_RESTING = OrderState.RESTING
_ACCEPTED = raw.Accepted
_CANCELLED = raw.Cancelled
_FILL = raw.Fill
_MASS_CANCELLED = raw.MassCancelled
_REJECTED = raw.Rejected
_CANCEL_REJECTED = raw.CancelRejected
_PHASE_CHANGED = raw.PhaseChanged
_INDICATIVE = raw.IndicativePrice
_CACHE_LIMIT = 4096
_PUBLISHING = frozenset({_FILL, _PHASE_CHANGED, _INDICATIVE})  # events with market data of their own
_AUCTION = Liquidity.AUCTION
_REMOVED = Liquidity.REMOVED


@dataclass(frozen=True, slots=True)
class Level:
    """One aggregated price level: displayed quantity and number of orders."""

    price: Decimal
    qty: Decimal
    orders: int


@dataclass(frozen=True, slots=True)
class BookView:
    """Aggregated levels of one instrument, best first on each side."""

    symbol: str
    phase: TradingPhase
    bids: list[Level]
    asks: list[Level]


@dataclass(frozen=True, slots=True)
class MarketStats:
    """Trading statistics of one instrument for the current day.

    ``close`` is set by the closing auction or the end of day and kept until the next day's first
    trade, which also starts a new ``open``/``high``/``low``/``volume``.  ``indicative_*`` are set
    during call phases only.
    """

    last_px: Decimal | None = None
    last_qty: Decimal | None = None
    open: Decimal | None = None
    high: Decimal | None = None
    low: Decimal | None = None
    close: Decimal | None = None
    volume: Decimal = Decimal(0)
    indicative_px: Decimal | None = None
    indicative_qty: Decimal | None = None

    def to_dict(self) -> dict[str, str | None]:
        """JSON-able form (Decimals as strings)."""
        return {k: None if (v := getattr(self, k)) is None else str(v) for k in _STAT_FIELDS}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MarketStats:
        """Inverse of :meth:`to_dict`."""
        values: dict[str, Any] = {k: None if d.get(k) is None else Decimal(d[k]) for k in _STAT_FIELDS}
        return cls(**values)


_STAT_FIELDS = tuple(MarketStats.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class BookLevelChanged:
    """A displayed price level changed; ``qty`` 0 = the level was deleted."""

    seq: int
    symbol: str
    side: Side
    price: Decimal
    qty: Decimal
    orders: int


@dataclass(frozen=True, slots=True)
class TradePrinted:
    """A trade (one per match id); ``aggressor_side`` None for auction trades."""

    seq: int
    symbol: str
    price: Decimal
    qty: Decimal
    match_id: str
    ts: int
    aggressor_side: Side | None


@dataclass(frozen=True, slots=True)
class StatsChanged:
    """New statistics of an instrument."""

    seq: int
    symbol: str
    stats: MarketStats


@dataclass(frozen=True, slots=True)
class PhaseChangedMD:
    """An instrument entered a new trading phase."""

    seq: int
    symbol: str
    phase: TradingPhase
    previous: TradingPhase
    text: str


MarketDataEvent = BookLevelChanged | TradePrinted | StatsChanged | PhaseChangedMD

_trade_printed = positional_constructor(TradePrinted)
_market_stats = positional_constructor(MarketStats)

_LevelKey = tuple[bool, int]  # (is_buy, price in ticks)


class _Symbol:
    """Published state of one instrument."""

    __slots__ = ("levels", "resting", "stats", "new_day", "px", "qty")

    def __init__(self) -> None:
        self.px: dict[int, Decimal] = {}  # ticks -> price (cache)
        self.qty: dict[int, Decimal] = {}  # lots -> quantity (cache)
        self.levels: dict[_LevelKey, tuple[int, int]] = {}  # published (visible lots, orders)
        self.resting: dict[int, _LevelKey] = {}  # order id -> level it rests at
        self.stats = MarketStats()
        self.new_day = True  # the next trade opens a new day


class MarketData:
    """L2 books, trade prints and statistics derived from a :class:`MatchingEngine` (pure)."""

    def __init__(self, engine: MatchingEngine, *, all_levels: bool = True) -> None:
        self.engine = engine
        self._symbols: dict[str, _Symbol] = {}
        #: instruments whose level diffs are published; None = all of them
        self._tracked: set[str] | None = None if all_levels else set()
        for symbol in engine.symbols():
            self.add_symbol(symbol)

    def add_symbol(self, symbol: str) -> None:
        """Start publishing an instrument the engine holds."""
        self._symbols[symbol] = _Symbol()
        if self.tracks(symbol):
            self._resync(symbol, set(), silent=True)

    def tracks(self, symbol: str) -> bool:
        """Whether :class:`BookLevelChanged` events are published for ``symbol``."""
        tracked = self._tracked
        return tracked is None or symbol in tracked

    def track_levels(self, symbol: str) -> None:
        """Publish level diffs of ``symbol`` from now on (relative to its book as it is now)."""
        tracked = self._tracked
        if tracked is not None and symbol not in tracked:
            tracked.add(symbol)
            if symbol in self._symbols:
                self._resync(symbol, set(), silent=True)

    def track_all_levels(self) -> None:
        """Publish level diffs of every instrument from now on."""
        tracked = self._tracked
        if tracked is None:
            return
        self._tracked = None
        for symbol in self._symbols:
            if symbol not in tracked:
                self._resync(symbol, set(), silent=True)

    # ------------------------------------------------------------------ queries

    def book(self, symbol: str, depth: int | None = None) -> BookView:
        """Aggregated displayed levels, best first (``depth`` None = all)."""
        book = self.engine.book(symbol)
        inst = self.engine.instrument(symbol)
        px, qty = inst.ticks_to_price, inst.lots_to_qty

        def side(levels: Any) -> list[Level]:
            out: list[Level] = []
            for lvl in levels:
                if depth is not None and len(out) >= depth:
                    break
                out.append(Level(px(lvl.price), qty(lvl.visible), lvl.count))
            return out

        return BookView(symbol, self.engine.phase(symbol), side(book.bid_levels()), side(book.ask_levels()))

    def stats(self, symbol: str) -> MarketStats:
        """Current statistics of an instrument (KeyError if unknown)."""
        return self._symbols[symbol].stats

    # ------------------------------------------------------------------ per command

    def on_command(
        self, seq: int, events: list[raw.Event], *, end_of_day: bool = False
    ) -> list[MarketDataEvent]:
        """The market data caused by one command (its engine events), in publication order."""
        if not self._tracked and self._tracked is not None and not end_of_day:
            for e in events:
                if type(e) in _PUBLISHING:
                    break
            else:
                return []  # no level tracked, no trade, no phase or indicative price: nothing to say
        out: list[MarketDataEvent] = []
        touched: dict[str, set[int]] = {}
        resync: list[str] = []
        before: dict[str, MarketStats] = {}
        prints: dict[int, int] = {}  # match id -> index in out
        engine = self.engine
        if end_of_day:
            for symbol, s in self._symbols.items():
                before.setdefault(symbol, s.stats)
                if s.stats.last_px is not None:
                    s.stats = replace(s.stats, close=s.stats.last_px)
                s.new_day = True
        symbols = self._symbols
        tracked = self._tracked
        for e in events:
            kind = type(e)
            if kind is _ACCEPTED or kind is _CANCELLED:
                symbol = e.symbol
                if symbol in symbols and (tracked is None or symbol in tracked):
                    t = touched.get(symbol)
                    if t is None:
                        t = touched[symbol] = set()
                    t.add(e.order_id)  # type: ignore[union-attr]
                continue
            if kind is _MASS_CANCELLED or kind is _REJECTED or kind is _CANCEL_REJECTED:
                continue
            symbol = e.symbol
            found = symbols.get(symbol)  # type: ignore[arg-type]
            if found is None:
                continue
            s = found
            if kind is _FILL:
                f: Any = e
                if tracked is None or symbol in tracked:
                    t = touched.get(symbol)
                    if t is None:
                        t = touched[symbol] = set()
                    t.add(f.order_id)
                i = prints.get(f.match_id)
                if i is None:
                    before.setdefault(symbol, s.stats)
                    px, q = _price(s, engine, symbol, f.last_px), _quantity(s, engine, symbol, f.last_qty)
                    aggressor = None if f.liquidity is _AUCTION else _other(f.side)
                    if f.liquidity is _REMOVED:
                        aggressor = f.side
                    prints[f.match_id] = len(out)
                    out.append(_trade_printed(seq, symbol, px, q, str(f.match_id), f.ts, aggressor))
                    s.stats = _trade(s, px, q)
                elif f.liquidity is _REMOVED:
                    printed = out[i]
                    assert isinstance(printed, TradePrinted)
                    if printed.aggressor_side is not f.side:
                        out[i] = replace(printed, aggressor_side=f.side)
            elif kind is _PHASE_CHANGED:
                p: Any = e
                before.setdefault(symbol, s.stats)
                out.append(PhaseChangedMD(seq, symbol, p.phase, p.previous, p.text))
                if symbol not in resync and (tracked is None or symbol in tracked):
                    resync.append(symbol)
                st = s.stats
                if not p.phase.is_call and (st.indicative_px is not None or st.indicative_qty is not None):
                    st = replace(st, indicative_px=None, indicative_qty=None)
                if p.previous is TradingPhase.CLOSING_AUCTION and st.last_px is not None:
                    st = replace(st, close=st.last_px)
                s.stats = st
            elif kind is _INDICATIVE:
                ip: Any = e
                before.setdefault(symbol, s.stats)
                inst = engine.instrument(symbol)
                s.stats = replace(
                    s.stats,
                    indicative_px=inst.ticks_to_price(ip.price) if ip.price else None,
                    indicative_qty=inst.lots_to_qty(ip.volume),
                )
            elif tracked is None or symbol in tracked:
                touched.setdefault(symbol, set()).add(e.order_id)  # type: ignore[union-attr]
        levels: dict[str, set[_LevelKey]] = {}
        for symbol, oids in touched.items():
            if symbol in resync:
                continue
            s = self._symbols[symbol]
            book_orders = engine.book(symbol).orders
            keys = levels.setdefault(symbol, set())
            for oid in oids:
                old = s.resting.pop(oid, None)
                if old is not None:
                    keys.add(old)
                o = book_orders.get(oid)
                if o is not None and o.state is _RESTING:
                    new = (o.is_buy, o.price)
                    s.resting[oid] = new
                    keys.add(new)
        for symbol in resync:
            keys = levels.setdefault(symbol, set())
            self._resync(symbol, keys)
        for symbol, keys in levels.items():
            out.extend(self._diff(seq, symbol, keys))
        for symbol, old_stats in before.items():
            new_stats = self._symbols[symbol].stats
            # a trade always moves the volume: unequal without comparing every field
            if new_stats is not old_stats and (new_stats.volume != old_stats.volume or new_stats != old_stats):
                out.append(StatsChanged(seq, symbol, new_stats))
        return out

    def _resync(self, symbol: str, keys: set[_LevelKey], *, silent: bool = False) -> None:
        """Re-index the resting orders of an instrument; add every current or published level to ``keys``.

        ``silent``: take the current levels as published (a new instrument or a restored state).
        """
        s = self._symbols[symbol]
        book = self.engine.book(symbol)
        keys.update(s.levels)
        keys.update((True, lvl.price) for lvl in book.bid_levels())
        keys.update((False, lvl.price) for lvl in book.ask_levels())
        s.resting = {oid: (o.is_buy, o.price) for oid, o in book.orders.items() if o.state is _RESTING}
        if silent:
            s.levels = {}
            for is_buy, price in keys:
                lvl = book.bids.get(price) if is_buy else book.asks.get(-price)
                if lvl is not None:
                    s.levels[(is_buy, price)] = (lvl.visible, lvl.count)
            keys.clear()

    def _diff(self, seq: int, symbol: str, keys: set[_LevelKey]) -> list[BookLevelChanged]:
        s = self._symbols[symbol]
        engine = self.engine
        book = engine.book(symbol)
        out = []
        for is_buy, price in keys if len(keys) < 2 else sorted(keys, key=_level_order):
            lvl = book.bids.get(price) if is_buy else book.asks.get(-price)
            now = (0, 0) if lvl is None else (lvl.visible, lvl.count)
            key = (is_buy, price)
            if s.levels.get(key, (0, 0)) == now:
                continue
            if lvl is None:
                del s.levels[key]
            else:
                s.levels[key] = now
            out.append(
                BookLevelChanged(
                    seq,
                    symbol,
                    Side.BUY if is_buy else Side.SELL,
                    _price(s, engine, symbol, price),
                    _quantity(s, engine, symbol, now[0]),
                    now[1],
                )  # fmt: skip
            )
        return out

    # ------------------------------------------------------------------ checks and snapshots

    def check(self) -> None:
        """Raise AssertionError if a published level differs from the engine's book (tests)."""
        for symbol, s in self._symbols.items():
            if not self.tracks(symbol):
                continue
            book = self.engine.book(symbol)
            actual = {(True, lvl.price): (lvl.visible, lvl.count) for lvl in book.bid_levels()}
            actual.update({(False, lvl.price): (lvl.visible, lvl.count) for lvl in book.ask_levels()})
            assert s.levels == actual, f"{symbol}: published levels {s.levels} != book {actual}"
            resting = {oid: (o.is_buy, o.price) for oid, o in book.orders.items() if o.state is _RESTING}
            assert s.resting == resting, f"{symbol}: resting index out of date"

    def dump(self) -> dict[str, Any]:
        """JSON-able statistics state (the levels are re-derived from the books on load)."""
        return {sym: [s.stats.to_dict(), s.new_day] for sym, s in self._symbols.items()}

    def load(self, state: dict[str, Any]) -> None:
        """Restore statistics saved by :meth:`dump` (the engine already holds the books)."""
        for sym, (stats, new_day) in state.items():
            s = self._symbols.setdefault(sym, _Symbol())
            s.stats = MarketStats.from_dict(stats)
            s.new_day = bool(new_day)
            if self.tracks(sym):
                self._resync(sym, set(), silent=True)


def _level_order(k: _LevelKey) -> tuple[bool, int]:
    return (not k[0], -k[1] if k[0] else k[1])


def _price(s: _Symbol, engine: MatchingEngine, symbol: str, ticks: int) -> Decimal:
    v = s.px.get(ticks)
    if v is None:
        if len(s.px) >= _CACHE_LIMIT:
            s.px.clear()
        v = s.px[ticks] = engine.instrument(symbol).ticks_to_price(ticks)
    return v


def _quantity(s: _Symbol, engine: MatchingEngine, symbol: str, lots: int) -> Decimal:
    v = s.qty.get(lots)
    if v is None:
        if len(s.qty) >= _CACHE_LIMIT:
            s.qty.clear()
        v = s.qty[lots] = engine.instrument(symbol).lots_to_qty(lots)
    return v


def _other(side: Side) -> Side:
    return Side.SELL if side is Side.BUY else Side.BUY


def _trade(s: _Symbol, px: Decimal, qty: Decimal) -> MarketStats:
    st = s.stats
    if s.new_day:
        s.new_day = False
        return _market_stats(px, qty, px, px, px, st.close, qty, st.indicative_px, st.indicative_qty)
    return _market_stats(
        px,
        qty,
        px if st.open is None else st.open,
        px if st.high is None or px > st.high else st.high,
        px if st.low is None or px < st.low else st.low,
        st.close,
        st.volume + qty,
        st.indicative_px,
        st.indicative_qty,
    )
