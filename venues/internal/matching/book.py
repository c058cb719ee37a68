"""The order book of one instrument: price levels with FIFO queues, and the index of live orders.

Layout (chosen for a lean CPython hot path):

* Each side keeps ``levels: dict[key, PriceLevel]`` and ``keys: list[int]`` sorted ascending with
  the *best* level last, so the best price is ``keys[-1]`` (O(1)) and removing the best level is a
  ``pop()``.  The key is the price on the bid side and the negated price on the ask side.
* A level is an intrusive doubly linked list of :class:`Order` objects (O(1) append and cancel)
  with running totals of total and displayed quantity.
* ``orders`` indexes every live order of the instrument by order id - resting, waiting for a stop
  trigger (kept in :attr:`OrderBook.stops`) or parked until the closing call (:attr:`OrderBook.parked`);
  ``by_client`` indexes the same orders by ``(owner, cl_ord_id)``.

The book is a data structure: the matching rules live in ``engine.py``, which reaches into these
attributes directly in its inner loop.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator
from enum import Enum

from venues.base import OrdType, SelfTradePrevention, Side, TimeInForce

from .stops import StopBook


class OrderState(Enum):
    """Where a live order is (the order's state machine; done orders leave the index)."""

    RESTING = 1
    """In a price level of the book, with time priority ``seq``."""
    WAITING_TRIGGER = 2
    """A stop order in the stop book, not yet triggered."""
    PARKED = 3
    """An ATC order entered before the closing call; joins the book when the call starts."""
    INCOMING = 4
    """Being matched right now (between acceptance and resting or completion)."""
    DONE = 5
    """Filled, cancelled or expired; no longer indexed."""


class Order:
    """A live order inside the matching core: integer ticks and lots, linked into its level."""

    __slots__ = (
        "order_id", "owner", "cl_ord_id", "account", "stp_group", "side", "is_buy", "ord_type",
        "tif", "price", "stop_px", "qty", "leaves", "cum_qty", "notional", "peak", "visible",
        "min_qty", "post_only", "stp", "expire_time", "seq", "state", "prev", "next", "level",
    )  # fmt: skip

    def __init__(
        self,
        order_id: int,
        owner: str,
        cl_ord_id: str,
        account: str,
        stp_group: str,
        side: Side,
        ord_type: OrdType,
        tif: TimeInForce,
        price: int,
        stop_px: int,
        qty: int,
        peak: int,
        min_qty: int,
        post_only: bool,
        stp: SelfTradePrevention | None,
        expire_time: int,
    ) -> None:
        self.order_id = order_id
        self.owner = owner
        self.cl_ord_id = cl_ord_id
        self.account = account
        self.stp_group = stp_group
        self.side = side
        self.is_buy = side is Side.BUY
        self.ord_type = ord_type
        self.tif = tif
        self.price = price
        self.stop_px = stop_px
        self.qty = qty
        self.leaves = qty
        self.cum_qty = 0
        self.notional = 0  # sum of fill qty * fill price, for an exact average price
        self.peak = peak  # iceberg display quantity; 0 = fully displayed
        self.visible = qty if not peak or peak > qty else peak
        self.min_qty = min_qty
        self.post_only = post_only
        self.stp = stp
        self.expire_time = expire_time
        self.seq = 0
        self.state = OrderState.INCOMING
        self.prev: Order | None = None
        self.next: Order | None = None
        self.level: PriceLevel | None = None

    def __repr__(self) -> str:
        return (
            f"Order(id={self.order_id}, {self.side.name} {self.leaves}/{self.qty} @ {self.price}, "
            f"vis={self.visible}, {self.state.name})"
        )

    def canonical(self) -> tuple[object, ...]:
        """A stable tuple of the order's state, for hashing and comparisons."""
        return (
            self.order_id, self.owner, self.cl_ord_id, self.account, self.stp_group, self.side.value,
            self.ord_type.value, self.tif.value, self.price, self.stop_px, self.qty, self.leaves,
            self.cum_qty, self.notional, self.peak, self.visible, self.min_qty, self.post_only,
            None if self.stp is None else self.stp.value, self.expire_time, self.seq, self.state.value,
        )  # fmt: skip


class PriceLevel:
    """All resting orders at one price on one side, in time priority (head first)."""

    __slots__ = ("price", "head", "tail", "qty", "visible", "count")

    def __init__(self, price: int) -> None:
        self.price = price
        self.head: Order | None = None
        self.tail: Order | None = None
        self.qty = 0  # total leaves quantity
        self.visible = 0  # displayed quantity
        self.count = 0

    def __iter__(self) -> Iterator[Order]:
        o = self.head
        while o is not None:
            nxt = o.next
            yield o
            o = nxt

    def __repr__(self) -> str:
        return f"PriceLevel({self.price}, qty={self.qty}, visible={self.visible}, n={self.count})"


class OrderBook:
    """The resting interest of one instrument: bid and ask levels, stops, parked ATC orders."""

    __slots__ = ("symbol", "bids", "asks", "bid_keys", "ask_keys", "orders", "by_client", "stops", "parked")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.bids: dict[int, PriceLevel] = {}
        self.asks: dict[int, PriceLevel] = {}
        self.bid_keys: list[int] = []  # prices ascending: best bid last
        self.ask_keys: list[int] = []  # negated prices ascending: best ask last
        self.orders: dict[int, Order] = {}
        self.by_client: dict[tuple[str, str], Order] = {}
        self.stops = StopBook()
        self.parked: dict[int, Order] = {}

    # ------------------------------------------------------------------ queries

    def best_bid(self) -> int | None:
        """The highest bid price, or None."""
        return self.bid_keys[-1] if self.bid_keys else None

    def best_ask(self) -> int | None:
        """The lowest ask price, or None."""
        return -self.ask_keys[-1] if self.ask_keys else None

    def is_crossed(self) -> bool:
        """True when the best bid is at or above the best ask (allowed only in call phases)."""
        return bool(self.bid_keys and self.ask_keys and self.bid_keys[-1] >= -self.ask_keys[-1])

    def bid_levels(self) -> Iterator[PriceLevel]:
        """Bid levels best (highest) first."""
        bids = self.bids
        for key in reversed(self.bid_keys):
            yield bids[key]

    def ask_levels(self) -> Iterator[PriceLevel]:
        """Ask levels best (lowest) first."""
        asks = self.asks
        for key in reversed(self.ask_keys):
            yield asks[key]

    def depth(self, n: int = 5) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
        """Top ``n`` levels per side as ``(price, displayed qty, order count)``, best first."""
        bids = [(lv.price, lv.visible, lv.count) for _, lv in zip(range(n), self.bid_levels(), strict=False)]
        asks = [(lv.price, lv.visible, lv.count) for _, lv in zip(range(n), self.ask_levels(), strict=False)]
        return bids, asks

    # ------------------------------------------------------------------ updates

    def add(self, o: Order) -> None:
        """Append a live order at the back of its price level's queue."""
        if o.is_buy:
            levels, keys, key = self.bids, self.bid_keys, o.price
        else:
            levels, keys, key = self.asks, self.ask_keys, -o.price
        lvl = levels.get(key)
        if lvl is None:
            lvl = levels[key] = PriceLevel(o.price)
            if not keys or key > keys[-1]:
                keys.append(key)
            else:
                insort(keys, key)
            lvl.head = o
            o.prev = None
        else:
            tail = lvl.tail
            tail.next = o  # type: ignore[union-attr]
            o.prev = tail
        o.next = None
        lvl.tail = o
        lvl.qty += o.leaves
        lvl.visible += o.visible
        lvl.count += 1
        o.level = lvl
        o.state = OrderState.RESTING

    def remove(self, o: Order) -> None:
        """Unlink a resting order from its level (dropping the level when it empties)."""
        lvl = o.level
        assert lvl is not None
        p, n = o.prev, o.next
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
        o.prev = o.next = o.level = None
        if lvl.count == 0:
            self.drop_level(lvl, o.is_buy)

    def drop_level(self, lvl: PriceLevel, is_buy: bool) -> None:
        """Forget an empty level."""
        if is_buy:
            levels, keys, key = self.bids, self.bid_keys, lvl.price
        else:
            levels, keys, key = self.asks, self.ask_keys, -lvl.price
        del levels[key]
        if keys[-1] == key:
            keys.pop()
        else:
            del keys[bisect_left(keys, key)]

    def move_to_back(self, o: Order) -> None:
        """Send a resting order to the back of its level (it loses time priority)."""
        lvl = o.level
        assert lvl is not None
        if lvl.tail is o:
            return
        p, n = o.prev, o.next
        if p is None:
            lvl.head = n
        else:
            p.next = n
        n.prev = p  # type: ignore[union-attr]  # o is not the tail, so n exists
        tail = lvl.tail
        tail.next = o  # type: ignore[union-attr]
        o.prev = tail
        o.next = None
        lvl.tail = o

    # ------------------------------------------------------------------ checks

    def check_invariants(self, allow_crossed: bool = False) -> None:
        """Raise AssertionError if the book is internally inconsistent.

        Checks: keys sorted and equal to the level dicts; every level non-empty with correct links,
        totals and strictly increasing time priority; every resting order positive, fully or
        partially displayed as its peak allows, in exactly one place and indexed both ways; every
        indexed order either resting, waiting for a trigger or parked; not crossed unless allowed.
        """
        seen: set[int] = set()
        for is_buy, levels, keys in ((True, self.bids, self.bid_keys), (False, self.asks, self.ask_keys)):
            assert keys == sorted(set(keys)), f"{self.symbol}: level keys not sorted/unique"
            assert set(keys) == set(levels), f"{self.symbol}: level keys differ from levels"
            for key in keys:
                lvl = levels[key]
                assert lvl.price == (key if is_buy else -key)
                assert lvl.count > 0 and lvl.head is not None, f"empty level {lvl}"
                qty = visible = count = 0
                prev: Order | None = None
                last_seq = -1
                cur: Order | None = lvl.head
                while cur is not None:
                    o = cur
                    assert o.order_id not in seen, f"order {o.order_id} twice in the book"
                    seen.add(o.order_id)
                    assert o.prev is prev, f"broken back link at {o}"
                    assert o.level is lvl and o.price == lvl.price and o.is_buy is is_buy
                    assert o.state is OrderState.RESTING
                    assert o.leaves > 0 and o.cum_qty >= 0 and o.cum_qty + o.leaves == o.qty, f"bad qty {o}"
                    if o.peak:
                        assert 0 < o.visible <= min(o.peak, o.leaves), f"bad iceberg slice {o}"
                    else:
                        assert o.visible == o.leaves, f"bad display {o}"
                    assert o.seq > last_seq, f"time priority broken at {o}"
                    last_seq = o.seq
                    assert self.orders.get(o.order_id) is o, f"{o} not indexed"
                    assert self.by_client.get((o.owner, o.cl_ord_id)) is o, f"{o} not indexed by client key"
                    qty += o.leaves
                    visible += o.visible
                    count += 1
                    prev = o
                    cur = o.next
                assert lvl.tail is prev, f"bad tail at {lvl}"
                assert (qty, visible, count) == (lvl.qty, lvl.visible, lvl.count), f"bad totals at {lvl}"
        for stop in self.stops.orders():
            assert stop.order_id not in seen, f"stop {stop.order_id} also elsewhere"
            seen.add(stop.order_id)
            assert stop.state is OrderState.WAITING_TRIGGER and self.orders.get(stop.order_id) is stop
        for oid, parked in self.parked.items():
            assert oid == parked.order_id and oid not in seen, f"parked {oid} also elsewhere"
            seen.add(oid)
            assert parked.state is OrderState.PARKED and self.orders.get(oid) is parked
        assert seen == set(self.orders), f"{self.symbol}: index holds orders that are nowhere"
        assert len(self.by_client) == len(self.orders), f"{self.symbol}: client index size differs"
        for client_key, indexed in self.by_client.items():
            assert client_key == (indexed.owner, indexed.cl_ord_id) and self.orders.get(indexed.order_id) is indexed
        if not allow_crossed:
            assert not self.is_crossed(), f"{self.symbol}: book crossed outside a call phase"
