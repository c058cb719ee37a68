"""Snapshots of the internal venue: the matching engine's full state as JSON, and back.

A snapshot must make the engine continue *exactly* as if it had replayed the journal: the id
counters (so ExecIDs stay unique across restarts), phases, reference prices, every live order with
its time priority, the stop queues in trigger order, parked ATC orders and the GTD expiry queue.
:func:`dump_engine` / :func:`load_engine` do that and are checked by comparing
:meth:`MatchingEngine.state_hash` before and after.

The matching core offers no serialization of its own, so this module reads and sets the engine's
internals (``_markets``, ``_order_seq``, ...).  It is the only place outside ``matching/`` that does.

Encoding: compact JSON compressed with zlib (:func:`encode_state` / :func:`decode_state`).
"""

from __future__ import annotations

import heapq
import json
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from venues.base import OrdType, SelfTradePrevention, Side, TimeInForce, TradingPhase
from venues.internal.matching import MatchingEngine, Order, OrderState

from .reference_data import InstrumentSpec

FORMAT = 1


class SnapshotError(Exception):
    """A snapshot cannot be used (unknown format, or it does not reproduce its state hash)."""


def encode_state(state: Mapping[str, Any]) -> bytes:
    """A JSON-able state as compressed bytes."""
    return zlib.compress(json.dumps(state, separators=(",", ":")).encode(), 1)


def decode_state(data: bytes) -> dict[str, Any]:
    """Inverse of :func:`encode_state`."""
    try:
        state = json.loads(zlib.decompress(data))
    except (zlib.error, ValueError) as exc:
        raise SnapshotError(f"unreadable snapshot: {exc}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise SnapshotError("unknown snapshot format")
    return state


def _order_row(o: Order) -> list[Any]:
    return [
        o.order_id, o.owner, o.cl_ord_id, o.account, o.stp_group, o.side.value, o.ord_type.value, o.tif.value,
        o.price, o.stop_px, o.qty, o.leaves, o.cum_qty, o.notional, o.peak, o.visible, o.min_qty, o.post_only,
        None if o.stp is None else o.stp.value, o.expire_time, o.seq, o.state.value,
    ]  # fmt: skip


def _order_from_row(r: list[Any]) -> Order:
    (oid, owner, cl, account, group, side, ord_type, tif, price, stop_px, qty, leaves, cum, notional, peak,
     visible, min_qty, post_only, stp, expire_time, seq, state) = r  # fmt: skip
    o = Order(
        oid, owner, cl, account, group, Side(side), OrdType(ord_type), TimeInForce(tif), price, stop_px, qty, peak,
        min_qty, post_only, None if stp is None else SelfTradePrevention(stp), expire_time,
    )  # fmt: skip
    o.leaves = leaves
    o.cum_qty = cum
    o.notional = notional
    o.visible = visible
    o.seq = seq
    o.state = OrderState(state)
    return o


def dump_engine(engine: MatchingEngine) -> dict[str, Any]:
    """The engine's complete state as JSON-able data."""
    e: Any = engine
    markets = []
    for symbol in engine.symbols():
        m = e._markets[symbol]
        book = m.book
        markets.append(
            {
                "symbol": symbol,
                "phase": m.phase.value,
                "halted_from": None if m.halted_from is None else m.halted_from.value,
                "reference": m.reference,
                "indicative": None if m.indicative is None else list(m.indicative),
                "orders": [_order_row(o) for o in book.orders.values()],
                "stops": [o.order_id for o in book.stops.orders()],
                "parked": list(book.parked),
            }
        )
    return {
        "counters": [e._order_seq, e._exec_seq, e._match_seq, e._prio_seq],
        "markets": markets,
    }


def load_engine(
    specs: Iterable[InstrumentSpec],
    state: Mapping[str, Any],
    *,
    stp_defaults: Mapping[str, SelfTradePrevention] | None = None,
) -> MatchingEngine:
    """A new engine in the state saved by :func:`dump_engine` (``specs`` give the instruments)."""
    by_symbol = {s.symbol: s for s in specs}
    engine = MatchingEngine(stp_defaults=stp_defaults)
    e: Any = engine
    e._order_seq, e._exec_seq, e._match_seq, e._prio_seq = state["counters"]
    gtd: list[tuple[int, int, str]] = []
    for ms in state["markets"]:
        symbol = ms["symbol"]
        engine.add_instrument(by_symbol[symbol].to_instrument(), TradingPhase(ms["phase"]))
        m = e._markets[symbol]
        m.halted_from = None if ms["halted_from"] is None else TradingPhase(ms["halted_from"])
        m.set_reference(ms["reference"])
        m.indicative = None if ms["indicative"] is None else tuple(ms["indicative"])
        book = m.book
        orders = [_order_from_row(r) for r in ms["orders"]]
        index = {o.order_id: o for o in orders}
        for o in orders:  # the index keeps entry order (mass cancels and expiries walk it)
            book.orders[o.order_id] = o
            book.by_client[(o.owner, o.cl_ord_id)] = o
            if o.tif is TimeInForce.GTD and o.expire_time:
                gtd.append((o.expire_time, o.order_id, symbol))
        for o in sorted((o for o in orders if o.state is OrderState.RESTING), key=lambda o: o.seq):
            book.add(o)  # queues in time priority
        for oid in ms["stops"]:
            book.stops.add(index[oid])
        for oid in ms["parked"]:
            book.parked[oid] = index[oid]
    heapq.heapify(gtd)
    e._gtd = gtd
    return engine
