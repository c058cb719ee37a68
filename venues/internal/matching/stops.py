"""The stop book: stop and stop-limit orders waiting for a trade at or through their stop price.

A buy stop triggers when a trade prints at or above its stop price, a sell stop at or below.
Triggering order: the stop price nearest the market first, then time of entry - the order in which
a rising (falling) market reaches them.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .book import Order


class _Ladder:
    """Stops of one side keyed so that the next to trigger has the smallest key."""

    __slots__ = ("keys", "queues")

    def __init__(self) -> None:
        self.keys: list[int] = []  # ascending
        self.queues: dict[int, dict[int, Order]] = {}  # key -> orders by id, in entry order

    def add(self, key: int, o: Order) -> None:
        q = self.queues.get(key)
        if q is None:
            q = self.queues[key] = {}
            insort(self.keys, key)
        q[o.order_id] = o

    def remove(self, key: int, o: Order) -> None:
        q = self.queues[key]
        del q[o.order_id]
        if not q:
            del self.queues[key]
            del self.keys[bisect_left(self.keys, key)]

    def pop_if_at_most(self, threshold: int) -> Order | None:
        if not self.keys or self.keys[0] > threshold:
            return None
        key = self.keys[0]
        q = self.queues[key]
        oid = next(iter(q))
        o = q.pop(oid)
        if not q:
            del self.queues[key]
            self.keys.pop(0)
        return o

    def __iter__(self) -> Iterator[Order]:
        for key in self.keys:
            yield from self.queues[key].values()


class StopBook:
    """Untriggered stop orders of one instrument, both sides."""

    __slots__ = ("_buys", "_sells")

    def __init__(self) -> None:
        self._buys = _Ladder()  # key = stop price: lowest triggers first on a rise
        self._sells = _Ladder()  # key = -stop price: highest triggers first on a fall

    def __len__(self) -> int:
        return sum(len(q) for q in self._buys.queues.values()) + sum(
            len(q) for q in self._sells.queues.values()
        )

    def __bool__(self) -> bool:
        return bool(self._buys.keys or self._sells.keys)

    def add(self, o: Order) -> None:
        """Park a stop order until triggered."""
        if o.is_buy:
            self._buys.add(o.stop_px, o)
        else:
            self._sells.add(-o.stop_px, o)

    def remove(self, o: Order) -> None:
        """Take an untriggered stop order out (cancel, replace, expiry)."""
        if o.is_buy:
            self._buys.remove(o.stop_px, o)
        else:
            self._sells.remove(-o.stop_px, o)

    def pop_triggered(self, high: int, low: int) -> Order | None:
        """The next stop triggered by trades that printed between ``low`` and ``high``, or None.

        Buy stops come before sell stops; within a side, nearest stop price then entry order.
        """
        o = self._buys.pop_if_at_most(high)
        if o is None:
            o = self._sells.pop_if_at_most(-low)
        return o

    def orders(self) -> Iterator[Order]:
        """All waiting stops, buys then sells, in trigger order."""
        yield from self._buys
        yield from self._sells
