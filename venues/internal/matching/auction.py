"""Auction uncrossing price: the pure calculation (no book mutation).

Among the limit prices in the book, the uncrossing price is the one that

1. maximises the executable volume ``min(buy volume at or above p, sell volume at or below p)``;
2. then minimises the surplus ``|buy volume - sell volume|`` at that price;
3. then follows market pressure: the highest price if every remaining candidate has a buy surplus,
   the lowest if every one has a sell surplus;
4. otherwise is the candidate closest to the reference price (ties, or no reference: the higher).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Uncross:
    """Outcome of an uncross calculation; ``price`` is None when nothing would execute."""

    price: int | None
    volume: int
    surplus: int  #: buy volume minus sell volume at ``price``


NO_UNCROSS = Uncross(None, 0, 0)


def equilibrium(
    bids: Iterable[tuple[int, int]], asks: Iterable[tuple[int, int]], reference: int | None
) -> Uncross:
    """Uncrossing price of ``bids``/``asks`` given as ``(price, quantity)`` per level (any order)."""
    bid_qty: dict[int, int] = {}
    ask_qty: dict[int, int] = {}
    for p, q in bids:
        bid_qty[p] = bid_qty.get(p, 0) + q
    for p, q in asks:
        ask_qty[p] = ask_qty.get(p, 0) + q
    if not bid_qty or not ask_qty or max(bid_qty) < min(ask_qty):
        return NO_UNCROSS
    prices = sorted(p for p in set(bid_qty) | set(ask_qty) if min(ask_qty) <= p <= max(bid_qty))
    buy_at: dict[int, int] = {}
    cum = sum(q for p, q in bid_qty.items() if p > prices[-1])
    for p in reversed(prices):
        cum += bid_qty.get(p, 0)
        buy_at[p] = cum
    sell_at: dict[int, int] = {}
    cum = sum(q for p, q in ask_qty.items() if p < prices[0])
    for p in prices:
        cum += ask_qty.get(p, 0)
        sell_at[p] = cum
    best_volume = max(min(buy_at[p], sell_at[p]) for p in prices)
    if best_volume <= 0:
        return NO_UNCROSS
    candidates = [p for p in prices if min(buy_at[p], sell_at[p]) == best_volume]
    least = min(abs(buy_at[p] - sell_at[p]) for p in candidates)
    candidates = [p for p in candidates if abs(buy_at[p] - sell_at[p]) == least]
    surpluses = [buy_at[p] - sell_at[p] for p in candidates]
    if all(s > 0 for s in surpluses):
        price = candidates[-1]
    elif all(s < 0 for s in surpluses):
        price = candidates[0]
    elif reference is None:
        price = candidates[-1]
    else:
        price = min(candidates, key=lambda p: (abs(p - reference), -p))
    return Uncross(price, best_volume, buy_at[price] - sell_at[price])
