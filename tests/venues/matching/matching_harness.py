"""Helpers for the matching-core tests: an engine driven step by step with invariants checked.

Imported by the test modules as ``matching_harness`` (``conftest.py`` puts this directory on sys.path).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from venues.base import OrdType, SelfTradePrevention, Side, TimeInForce, TradingPhase
from venues.internal.matching import (
    CancelOrder,
    Instrument,
    MatchingEngine,
    NewOrder,
    ReplaceOrder,
)
from venues.internal.matching import events as ev


def instrument(symbol: str = "X", **kw: Any) -> Instrument:
    kw.setdefault("tick_size", Decimal("0.01"))
    return Instrument(symbol, **kw)


class Harness:
    """Drives a MatchingEngine with increasing timestamps and checks invariants after every step."""

    def __init__(
        self,
        instruments: Iterable[Instrument] | None = None,
        phase: TradingPhase = TradingPhase.CONTINUOUS,
        stp_defaults: dict[str, SelfTradePrevention] | None = None,
    ) -> None:
        self.engine = MatchingEngine(instruments or [instrument()], phase=phase, stp_defaults=stp_defaults)
        self.ts = 0
        self.cl = 0
        self.log: list[tuple[object, int]] = []

    def do(self, cmd: object, ts: int | None = None) -> list[Any]:
        self.ts = self.ts + 1 if ts is None else ts
        self.log.append((cmd, self.ts))
        out = self.engine.process(cmd, self.ts)  # type: ignore[arg-type]
        self.engine.check_invariants()
        return out

    def order(self, side: Side, qty: int, price: int = 0, *, cl: str | None = None, owner: str = "S1",
              symbol: str = "X", ts: int | None = None, **kw: Any) -> list[Any]:  # fmt: skip
        if cl is None:
            self.cl += 1
            cl = f"c{self.cl}"
        return self.do(NewOrder(symbol, owner, cl, side, qty, price, **kw), ts)

    def buy(self, qty: int, price: int = 0, **kw: Any) -> list[Any]:
        return self.order(Side.BUY, qty, price, **kw)

    def sell(self, qty: int, price: int = 0, **kw: Any) -> list[Any]:
        return self.order(Side.SELL, qty, price, **kw)

    def cancel(self, cl: str, owner: str = "S1", symbol: str = "X") -> list[Any]:
        self.cl += 1
        return self.do(CancelOrder(symbol, owner, f"x{self.cl}", orig_cl_ord_id=cl))

    def replace(self, cl: str, new_cl: str, qty: int, price: int | None = None, *, side: Side | None = None,
                owner: str = "S1", symbol: str = "X", **kw: Any) -> list[Any]:  # fmt: skip
        o = self.engine.book(symbol).by_client.get((owner, cl))
        side = side or (o.side if o else Side.BUY)
        return self.do(ReplaceOrder(symbol, owner, new_cl, side, qty, price, orig_cl_ord_id=cl, **kw))

    def oid(self, cl: str, owner: str = "S1", symbol: str = "X") -> int:
        return self.engine.book(symbol).by_client[(owner, cl)].order_id

    def live(self, symbol: str = "X") -> dict[str, Any]:
        return {o.cl_ord_id: o for o in self.engine.book(symbol).orders.values()}

    def queue(self, price: int, side: Side = Side.BUY, symbol: str = "X") -> list[str]:
        book = self.engine.book(symbol)
        levels = book.bids if side is Side.BUY else book.asks
        key = price if side is Side.BUY else -price
        return [o.cl_ord_id for o in levels[key]] if key in levels else []


def kinds(events: list[Any]) -> list[str]:
    return [type(e).__name__ for e in events]


def fills(events: list[Any]) -> list[tuple[str, int, int, str]]:
    """(cl_ord_id, qty, price, liquidity) per fill."""
    return [(e.cl_ord_id, e.last_qty, e.last_px, e.liquidity.name) for e in events if isinstance(e, ev.Fill)]


def of(events: list[Any], cls: type) -> list[Any]:
    return [e for e in events if isinstance(e, cls)]


__all__ = ["Harness", "OrdType", "TimeInForce", "fills", "instrument", "kinds", "of"]
