"""State for duplicate detection: ClOrdIDs seen per session and trading day, and recent orders.

Pure: time is passed in as integer nanoseconds, the trading day as a ``date``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from venues.base import OrderRequest, Side

__all__ = ["ClOrdIdRegistry", "OrderFingerprint", "RecentOrders"]


class ClOrdIdRegistry:
    """The ClOrdIDs each session used on each trading day (FIX: unique per session per day).

    Recording a later trading day forgets every earlier one.
    """

    def __init__(self) -> None:
        #: ClOrdIDs as keys of a ``dict[str, None]``: a dict of strings is never tracked by the cyclic
        #: GC (a set always is), so a day's worth of ClOrdIDs adds nothing to full collections
        self._seen: dict[tuple[str, date], dict[str, None]] = {}
        self._latest: date | None = None

    def seen(self, session_key: str, trading_day: date, cl_ord_id: str) -> bool:
        """True when ``cl_ord_id`` was already used by the session on that day."""
        return cl_ord_id in self._seen.get((session_key, trading_day), ())

    def record(self, session_key: str, trading_day: date, cl_ord_id: str) -> None:
        """Note that the session used ``cl_ord_id`` on ``trading_day``."""
        if self._latest is None or trading_day > self._latest:
            self._latest = trading_day
            self._seen = {k: v for k, v in self._seen.items() if k[1] >= trading_day}
        self._seen.setdefault((session_key, trading_day), {})[cl_ord_id] = None


@dataclass(frozen=True, slots=True)
class OrderFingerprint:
    """What makes two orders look like the same order sent twice."""

    account: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal | None

    @classmethod
    def of(cls, order: OrderRequest) -> OrderFingerprint:
        return cls(order.account, order.symbol, order.side, order.qty, order.price)


class RecentOrders:
    """When each order fingerprint was last accepted, forgotten once its window has passed."""

    def __init__(self) -> None:
        self._last: dict[OrderFingerprint, int] = {}
        self._expiries: deque[tuple[int, OrderFingerprint, int]] = deque()

    def last_seen(self, fingerprint: OrderFingerprint, now_ns: int, window_ns: int) -> int | None:
        """When the same fingerprint was last recorded, if within ``window_ns`` before ``now_ns``."""
        self._expire(now_ns)
        at = self._last.get(fingerprint)
        if at is None or now_ns - at >= window_ns:
            return None
        return at

    def record(self, fingerprint: OrderFingerprint, now_ns: int, window_ns: int) -> None:
        """Remember ``fingerprint`` at ``now_ns`` for ``window_ns``."""
        self._last[fingerprint] = now_ns
        self._expiries.append((now_ns + window_ns, fingerprint, now_ns))
        self._expire(now_ns)

    def __len__(self) -> int:
        return len(self._last)

    def _expire(self, now_ns: int) -> None:
        # Expiries are appended roughly in time order; popping only expired heads is always safe and
        # bounds memory by the longest window in use.
        while self._expiries and self._expiries[0][0] <= now_ns:
            _, fingerprint, at = self._expiries.popleft()
            if self._last.get(fingerprint) == at:
                del self._last[fingerprint]
