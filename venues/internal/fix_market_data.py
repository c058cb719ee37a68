"""Market data of the FIX exchange: MarketDataRequest (V) -> W, X, Y and SecurityStatus (f).

:class:`MarketDataService` subscribes to the venue's market data events once, keeps its own copy
of every subscribed book (price levels per side, maintained from ``BookLevelChanged`` events) and
serves any number of subscriptions ``(session, MDReqID)``:

* **Snapshot then incrementals, no gap.**  A request is answered on the reactor thread: the
  snapshot (W, one per symbol) is taken from the service's book and the subscription is
  registered in the same call, so every later venue event reaches it as an increment and none is
  missed or doubled.  Each subscription remembers what it has *sent* (levels per side, statistics);
  an increment is the difference between the book now and what was sent, so it is right even
  when a venue event repeats a state already in the snapshot.
* **Increments** (X): MDUpdateAction 0 new / 1 change / 2 delete per price level, with
  MDEntryPositionNo(290) = the level's 1-based rank on its side (best first); for MarketDepth N
  the subscriber sees only the top N levels (a level pushed out of the top N is deleted, one that
  moves in is new).  Trades (269=2) are always action 0; statistics 4/5/7/8/B are new the first
  time, then changed.  The increments of one reactor turn (one venue command: an order and all
  its fills) go out as one X per subscription.  MDUpdateType(265)=0 (full refresh) subscriptions
  get a fresh W instead of each X.
* **Conflation of slow subscribers.**  When a subscriber's session is backlogged (its connection
  is paused by TCP back-pressure, or closing) its increments are not queued: the subscription only
  remembers *which* (symbol, side) and statistics changed and the *last* trade.  Once the session
  drains (checked every ``drain_interval`` seconds while any subscription is conflated) it gets one
  consolidated X: the difference between the book now and what it was last sent (intermediate
  states of a level are skipped), the last trade and the changed statistics.  Memory per slow
  subscriber is bounded by the book's size, never by the update rate.
* **SecurityStatus** (f) goes to every session subscribed to an instrument whose phase changes
  (halts and resumes included), with SecurityStatusReqID(324) = its MDReqID.
* **Rejects** (Y): MDReqRejReason 0 unknown symbol, 1 duplicate MDReqID, 4 unsupported
  SubscriptionRequestType, 5 unsupported MarketDepth, 8 unsupported MDEntryType (FIX.4.2 has no
  8: the reason is left out and Text says it).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fix_engine.application import FieldNotFoundReject, IncorrectTagValue
from fix_engine.codec.message import FixMessage
from fix_engine.session.session_id import SessionID

from .fix_translate import FixVersion, security_status, transact_time

BID, OFFER, TRADE, OPEN, CLOSE, HIGH, LOW, VOLUME = "0", "1", "2", "4", "5", "7", "8", "B"
SUPPORTED_ENTRY_TYPES = frozenset({BID, OFFER, TRADE, OPEN, CLOSE, HIGH, LOW, VOLUME})
STAT_TYPES = (OPEN, CLOSE, HIGH, LOW, VOLUME)
_STAT_ATTR = {OPEN: "open", CLOSE: "close", HIGH: "high", LOW: "low", VOLUME: "volume"}

NEW, CHANGE, DELETE = "0", "1", "2"

#: MDReqRejReason(281)
REJ_UNKNOWN_SYMBOL = "0"
REJ_DUPLICATE_ID = "1"
REJ_SUBSCRIPTION_TYPE = "4"
REJ_DEPTH = "5"
REJ_ENTRY_TYPE = "8"

_ENTRY_MEMBERS = frozenset({269})
_SYMBOL_MEMBERS = frozenset({55, 65, 48, 22, 167, 207})

Level = tuple[Decimal, int]  # (qty, number of orders)


def _side_char(side: Any) -> str:
    """MDEntryType of a book side: bid for Side.BUY (or "0"/"BID"), offer otherwise."""
    value = getattr(side, "value", side)
    return BID if value in ("1", BID, "BUY", "bid", "BID") else OFFER


class BookSide:
    """One side of one instrument: levels by price and the prices in rank order."""

    __slots__ = ("bid", "levels", "_keys")

    def __init__(self, bid: bool) -> None:
        self.bid = bid
        self.levels: dict[Decimal, Level] = {}
        self._keys: list[Decimal] = []  # ascending sort key (-price for bids)

    def set(self, price: Decimal, qty: Decimal, orders: int) -> None:
        key = -price if self.bid else price
        if qty <= 0:
            if self.levels.pop(price, None) is not None:
                i = bisect_left(self._keys, key)
                del self._keys[i]
            return
        if price not in self.levels:
            insort(self._keys, key)
        self.levels[price] = (qty, orders)

    def rank(self, price: Decimal) -> int:
        """1-based position of a price among the levels (best first)."""
        return bisect_left(self._keys, -price if self.bid else price) + 1

    def top(self, depth: int) -> list[tuple[Decimal, Level]]:
        keys = self._keys if depth <= 0 else self._keys[:depth]
        return [((-k if self.bid else k), self.levels[-k if self.bid else k]) for k in keys]


@dataclass(slots=True)
class Subscription:
    """One MarketDataRequest with SubscriptionRequestType=1 and what it has been sent."""

    session_id: SessionID
    md_req_id: str
    symbols: tuple[str, ...]
    entry_types: frozenset[str]
    depth: int
    full_refresh: bool = False
    version: FixVersion = FixVersion.FIX44
    sent_levels: dict[tuple[str, str], dict[Decimal, Level]] = field(default_factory=dict)
    sent_stats: dict[tuple[str, str], tuple[Decimal, Decimal | None]] = field(default_factory=dict)
    dirty_levels: dict[tuple[str, str], set[Decimal]] = field(default_factory=dict)
    trades: list[tuple[str, Decimal, Decimal]] = field(default_factory=list)
    dirty_stats: set[str] = field(default_factory=set)
    refresh: set[str] = field(default_factory=set)  # full-refresh symbols to resend
    conflated: bool = False

    @property
    def wants_book(self) -> bool:
        return BID in self.entry_types or OFFER in self.entry_types


@dataclass(frozen=True, slots=True)
class MarketDataQuery:
    """A parsed MarketDataRequest."""

    md_req_id: str
    subscription_type: str
    depth: int
    update_type: str
    entry_types: tuple[str, ...]
    symbols: tuple[str, ...]


def parse_request(msg: FixMessage) -> MarketDataQuery:
    """MarketDataRequest (35=V) fields; missing required tags -> FieldNotFoundReject."""
    req_id = msg.get(262)
    if not req_id:
        raise FieldNotFoundReject(262, "Required tag missing: 262")
    sub_type = msg.get(263)
    if sub_type is None:
        raise FieldNotFoundReject(263, "Required tag missing: 263")
    depth_raw = msg.get(264)
    if depth_raw is None and sub_type != "2":
        raise FieldNotFoundReject(264, "Required tag missing: 264")
    try:
        depth = int(depth_raw or "0")
    except ValueError:
        raise IncorrectTagValue(264, "Value is incorrect (out of range) for this tag: 264") from None
    types = tuple(e.get_str(269) for e in msg.groups(267, _ENTRY_MEMBERS, delimiter=269) if 269 in e)
    symbols = tuple(e.get_str(55) for e in msg.groups(146, _SYMBOL_MEMBERS, delimiter=55) if 55 in e)
    return MarketDataQuery(req_id, sub_type, depth, msg.get(265) or "1", types, symbols)


def md_reject(md_req_id: str, reason: str | None, text: str, version: FixVersion) -> FixMessage:
    """MarketDataRequestReject (35=Y)."""
    fields: list[tuple[int, Any]] = [(262, md_req_id), (58, text)]
    if reason is not None and not (version.fix42 and reason == REJ_ENTRY_TYPE):
        fields.append((281, reason))
    return FixMessage.new("Y", *fields)


def _level_entry(entry_type: str, price: Decimal, level: Level, position: int, action: str | None, symbol: str | None) -> list[tuple[int, Any]]:
    fields: list[tuple[int, Any]] = []
    if action is not None:
        fields.append((279, action))
    fields.append((269, entry_type))
    if symbol is not None:
        fields.append((55, symbol))
    fields += [(270, price), (271, level[0]), (346, level[1]), (290, position)]
    return fields


def _stat_entry(entry_type: str, px: Decimal, qty: Decimal | None, action: str | None, symbol: str | None) -> list[tuple[int, Any]]:
    fields: list[tuple[int, Any]] = []
    if action is not None:
        fields.append((279, action))
    fields.append((269, entry_type))
    if symbol is not None:
        fields.append((55, symbol))
    if entry_type == VOLUME:
        fields.append((271, px))
    else:
        fields.append((270, px))
        if qty is not None:
            fields.append((271, qty))
    return fields


def _stat_values(stats: Any, entry_type: str) -> tuple[Decimal, Decimal | None] | None:
    if stats is None:
        return None
    if entry_type == TRADE:
        px = getattr(stats, "last_px", None)
        return None if px is None else (px, getattr(stats, "last_qty", None))
    value = getattr(stats, _STAT_ATTR[entry_type], None)
    if value is None or (entry_type == VOLUME and not value):
        return None
    return (value, None)


class MarketDataService:
    """Serves MarketDataRequests from one venue's market data events (see the module docstring).

    ``send(message, session_id)`` sends on a session; ``backlogged(session_id)`` says whether its
    output is backed up; ``call_later(seconds, f)`` schedules (the reactor's ``callLater``).
    """

    def __init__(
        self,
        venue: Any,
        send: Callable[[FixMessage, SessionID], object],
        backlogged: Callable[[SessionID], bool],
        call_later: Callable[..., Any],
        clock_ns: Callable[[], int],
        *,
        drain_interval: float = 0.05,
    ) -> None:
        self.venue = venue
        self._send = send
        self._backlogged = backlogged
        self._call_later = call_later
        self._clock_ns = clock_ns
        self.drain_interval = drain_interval
        self._books: dict[str, tuple[BookSide, BookSide]] = {}
        self._stats: dict[str, Any] = {}
        self._subs: dict[tuple[SessionID, str], Subscription] = {}
        self._by_symbol: dict[str, list[Subscription]] = {}
        self._flush_scheduled = False
        self._drain_scheduled = False
        self._dirty: dict[int, Subscription] = {}
        self._waiting: dict[int, Subscription] = {}
        #: how many times a subscription was switched to conflated mode (for tests and stats)
        self.conflations = 0
        #: the venue computes level diffs only for books someone asked for (InternalVenue)
        self._publish_levels: Callable[[str], None] | None = getattr(venue, "publish_book_levels", None)
        if self._publish_levels is not None:
            venue.subscribe_market_data(self.on_market_data, book_levels=False)
        else:
            venue.subscribe_market_data(self.on_market_data)

    # ------------------------------------------------------------------ requests

    def subscriptions(self, session_id: SessionID | None = None) -> list[Subscription]:
        return [s for s in self._subs.values() if session_id is None or s.session_id == session_id]

    def handle_request(self, msg: FixMessage, session_id: SessionID, version: FixVersion) -> None:
        """Answer one MarketDataRequest: W snapshots (+ registration) or Y."""
        query = parse_request(msg)
        key = (session_id, query.md_req_id)
        if query.subscription_type == "2":
            self.unsubscribe(session_id, query.md_req_id)
            return
        reject = self._check(query, key, version)
        if reject is not None:
            self._send(reject, session_id)
            return
        sub = Subscription(
            session_id, query.md_req_id, query.symbols, frozenset(query.entry_types), query.depth,
            full_refresh=query.update_type == "0", version=version,
        )
        for symbol in query.symbols:
            self._book(symbol)
            self._send(self._snapshot(sub, symbol), session_id)
        if query.subscription_type == "1":
            self._subs[key] = sub
            for symbol in query.symbols:
                self._by_symbol.setdefault(symbol, []).append(sub)

    def _check(self, query: MarketDataQuery, key: tuple[SessionID, str], version: FixVersion) -> FixMessage | None:
        if query.subscription_type not in ("0", "1"):
            return md_reject(query.md_req_id, REJ_SUBSCRIPTION_TYPE, f"Unsupported SubscriptionRequestType {query.subscription_type}", version)
        if key in self._subs:
            return md_reject(query.md_req_id, REJ_DUPLICATE_ID, f"Duplicate MDReqID {query.md_req_id}", version)
        if query.depth < 0:
            return md_reject(query.md_req_id, REJ_DEPTH, f"Unsupported MarketDepth {query.depth}", version)
        bad = [t for t in query.entry_types if t not in SUPPORTED_ENTRY_TYPES]
        if bad or not query.entry_types:
            return md_reject(query.md_req_id, REJ_ENTRY_TYPE, f"Unsupported MDEntryType {' '.join(bad) or '(none)'}", version)
        known = {spec.symbol for spec in self.venue.instruments()}
        unknown = [s for s in query.symbols if s not in known]
        if unknown or not query.symbols:
            return md_reject(query.md_req_id, REJ_UNKNOWN_SYMBOL, f"Unknown symbol {' '.join(unknown) or '(none)'}", version)
        return None

    def unsubscribe(self, session_id: SessionID, md_req_id: str) -> bool:
        sub = self._subs.pop((session_id, md_req_id), None)
        if sub is None:
            return False
        for symbol in sub.symbols:
            subs = self._by_symbol.get(symbol, [])
            if sub in subs:
                subs.remove(sub)
        return True

    def drop_session(self, session_id: SessionID) -> int:
        """Forget every subscription of a session (on logout)."""
        ids = [req_id for (sid, req_id) in self._subs if sid == session_id]
        for req_id in ids:
            self.unsubscribe(session_id, req_id)
        return len(ids)

    # ------------------------------------------------------------------ books

    def _book(self, symbol: str) -> tuple[BookSide, BookSide]:
        book = self._books.get(symbol)
        if book is None:
            book = (BookSide(True), BookSide(False))
            if self._publish_levels is not None:
                self._publish_levels(symbol)  # diffs from now on, relative to the view read below
            view = self.venue.book_levels(symbol)
            for level in view.bids:
                book[0].set(level.price, level.qty, level.orders)
            for level in view.asks:
                book[1].set(level.price, level.qty, level.orders)
            self._books[symbol] = book
            self._stats[symbol] = self.venue.market_stats(symbol)
        return book

    def _side(self, symbol: str, side_char: str) -> BookSide:
        book = self._book(symbol)
        return book[0] if side_char == BID else book[1]

    def _snapshot(self, sub: Subscription, symbol: str) -> FixMessage:
        """W for one symbol; records what was sent into the subscription."""
        entries: list[list[tuple[int, Any]]] = []
        for side_char in (BID, OFFER):
            if side_char not in sub.entry_types:
                continue
            levels = self._side(symbol, side_char).top(sub.depth)
            sub.sent_levels[(symbol, side_char)] = dict(levels)
            entries += [_level_entry(side_char, px, lvl, i, None, None) for i, (px, lvl) in enumerate(levels, 1)]
        stats = self._stats.get(symbol)
        for entry_type in (TRADE, *STAT_TYPES):
            if entry_type not in sub.entry_types:
                continue
            values = _stat_values(stats, entry_type)
            if values is not None:
                entries.append(_stat_entry(entry_type, values[0], values[1], None, None))
                if entry_type != TRADE:
                    sub.sent_stats[(symbol, entry_type)] = values
        msg = FixMessage.new("W", (55, symbol), (262, sub.md_req_id))
        if sub.version.fix50:
            msg.set(779, transact_time(self._clock_ns()))  # LastUpdateTime: required in FIX.5.0SP2
        if entries:
            msg.add_group(268, entries)
        else:
            msg.set(268, 0)
        return msg

    # ------------------------------------------------------------------ venue events

    def on_market_data(self, event: Any) -> None:
        """Listener of the venue's market data events."""
        kind = type(event).__name__
        symbol = event.symbol
        if kind == "BookLevelChanged":
            if symbol not in self._books:
                return  # nobody has asked for this book yet: it is read from the venue on demand
            side_char = _side_char(event.side)
            self._side(symbol, side_char).set(event.price, event.qty, event.orders)
            for sub in self._by_symbol.get(symbol, ()):
                if side_char in sub.entry_types:
                    self._level_changed(sub, symbol, side_char, event.price)
        elif kind == "TradePrinted":
            for sub in self._by_symbol.get(symbol, ()):
                if TRADE in sub.entry_types:
                    self._trade(sub, symbol, event.price, event.qty)
        elif kind == "StatsChanged":
            if symbol in self._books:
                self._stats[symbol] = event.stats
            for sub in self._by_symbol.get(symbol, ()):
                if not sub.entry_types.isdisjoint(STAT_TYPES):
                    self._stats_changed(sub, symbol)
        elif kind == "PhaseChangedMD":
            self._phase_changed(symbol, event.phase, getattr(event, "text", ""))

    def _level_changed(self, sub: Subscription, symbol: str, side_char: str, price: Decimal) -> None:
        if sub.full_refresh:
            sub.refresh.add(symbol)
        else:
            sub.dirty_levels.setdefault((symbol, side_char), set()).add(price)
        self._schedule_flush(sub)

    def _trade(self, sub: Subscription, symbol: str, price: Decimal, qty: Decimal) -> None:
        if sub.full_refresh:
            sub.refresh.add(symbol)
        elif sub.conflated:
            sub.trades = [t for t in sub.trades if t[0] != symbol] + [(symbol, price, qty)]
        else:
            sub.trades.append((symbol, price, qty))
        self._schedule_flush(sub)

    def _stats_changed(self, sub: Subscription, symbol: str) -> None:
        if sub.full_refresh:
            sub.refresh.add(symbol)
        else:
            sub.dirty_stats.add(symbol)
        self._schedule_flush(sub)

    def _diff_level(self, sub: Subscription, symbol: str, side_char: str, price: Decimal) -> list[list[tuple[int, Any]]]:
        """Full depth: one level, as it is now against what the subscriber was sent."""
        side = self._side(symbol, side_char)
        sent = sub.sent_levels.setdefault((symbol, side_char), {})
        now = side.levels.get(price)
        before = sent.get(price)
        if now == before:
            return []
        if now is None:
            position = sorted(sent, reverse=side.bid).index(price) + 1
            del sent[price]
            return [_level_entry(side_char, price, before, position, DELETE, symbol)]  # type: ignore[arg-type]
        sent[price] = now
        return [_level_entry(side_char, price, now, side.rank(price), NEW if before is None else CHANGE, symbol)]

    def _diff_side(self, sub: Subscription, symbol: str, side_char: str) -> list[list[tuple[int, Any]]]:
        """Depth N: the top N levels now against what the subscriber was sent."""
        side = self._side(symbol, side_char)
        desired = side.top(sub.depth)
        sent = sub.sent_levels.setdefault((symbol, side_char), {})
        wanted = dict(desired)
        out: list[list[tuple[int, Any]]] = []
        for i, price in enumerate(sorted(sent, reverse=side.bid), 1):
            if price not in wanted:
                out.append(_level_entry(side_char, price, sent[price], i, DELETE, symbol))
        for i, (price, level) in enumerate(desired, 1):
            before = sent.get(price)
            if before != level:
                out.append(_level_entry(side_char, price, level, i, NEW if before is None else CHANGE, symbol))
        sub.sent_levels[(symbol, side_char)] = wanted
        return out

    def _diff_stats(self, sub: Subscription, symbol: str) -> list[list[tuple[int, Any]]]:
        out = []
        stats = self._stats.get(symbol)
        for entry_type in STAT_TYPES:
            if entry_type not in sub.entry_types:
                continue
            values = _stat_values(stats, entry_type)
            before = sub.sent_stats.get((symbol, entry_type))
            if values == before:
                continue
            if values is None:
                del sub.sent_stats[(symbol, entry_type)]
                out.append([(279, DELETE), (269, entry_type), (55, symbol)])
            else:
                sub.sent_stats[(symbol, entry_type)] = values
                out.append(_stat_entry(entry_type, values[0], values[1], NEW if before is None else CHANGE, symbol))
        return out

    def _phase_changed(self, symbol: str, phase: Any, text: str) -> None:
        told: set[SessionID] = set()
        for sub in self._by_symbol.get(symbol, ()):
            if sub.session_id in told:
                continue
            told.add(sub.session_id)
            self._send(security_status(symbol, phase, sub.version, ts_ns=self._clock_ns(), req_id=sub.md_req_id,
                                       text=text), sub.session_id)

    # ------------------------------------------------------------------ output

    def _schedule_flush(self, sub: Subscription) -> None:
        self._dirty[id(sub)] = sub
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._call_later(0, self.flush)

    def flush(self) -> None:
        """Send what changed for each touched subscription (one X, or W for full refresh); a
        subscription whose session is backlogged is conflated instead (see the module docstring)."""
        self._flush_scheduled = False
        dirty, self._dirty = self._dirty, {}
        for sub in dirty.values():
            if (sub.session_id, sub.md_req_id) not in self._subs:
                continue
            if self._backlogged(sub.session_id):
                self._conflate(sub)
            else:
                self._emit(sub)

    def _emit(self, sub: Subscription) -> None:
        entries: list[list[tuple[int, Any]]] = []
        dirty_levels, sub.dirty_levels = sub.dirty_levels, {}
        for (symbol, side_char), prices in sorted(dirty_levels.items()):
            if sub.depth > 0:
                entries += self._diff_side(sub, symbol, side_char)
            else:
                for price in sorted(prices, reverse=side_char == BID):
                    entries += self._diff_level(sub, symbol, side_char, price)
        for symbol, price, qty in sub.trades:
            entries.append(_stat_entry(TRADE, price, qty, NEW, symbol))
        sub.trades = []
        for symbol in sorted(sub.dirty_stats):
            entries += self._diff_stats(sub, symbol)
        sub.dirty_stats.clear()
        sub.conflated = False
        if entries:
            self._send(FixMessage.new("X", (262, sub.md_req_id)).add_group(268, entries), sub.session_id)
        for symbol in sorted(sub.refresh):
            self._send(self._snapshot(sub, symbol), sub.session_id)
        sub.refresh.clear()

    def _conflate(self, sub: Subscription) -> None:
        """Keep only the latest trade per symbol; levels and statistics are already kept as
        "what changed" and are diffed against the book when the session drains."""
        last: dict[str, tuple[str, Decimal, Decimal]] = {}
        for trade in sub.trades:
            last[trade[0]] = trade
        sub.trades = list(last.values())
        sub.conflated = True
        self.conflations += 1
        self._waiting[id(sub)] = sub
        if not self._drain_scheduled:
            self._drain_scheduled = True
            self._call_later(self.drain_interval, self._drain)

    def _drain(self) -> None:
        self._drain_scheduled = False
        waiting, self._waiting = self._waiting, {}
        for sub in waiting.values():
            if (sub.session_id, sub.md_req_id) not in self._subs:
                continue
            if self._backlogged(sub.session_id):
                self._waiting[id(sub)] = sub
            else:
                self._emit(sub)
        if self._waiting and not self._drain_scheduled:
            self._drain_scheduled = True
            self._call_later(self.drain_interval, self._drain)
