"""Benchmark of the matching core on exchange-core's order mix (a script, not a test).

Mix per operation: ~9% GTC limit, 3% IOC, 6% cancel, 82% move (cancel/replace to a new price),
one instrument, ~1,000 resting orders, 1,000 accounts.  The command stream is generated up front
with a seeded random (running a shadow engine so that cancels and moves name live orders), then

* pass 1 times ``MatchingEngine.process`` over the whole stream -> throughput (ops/s), by the wall
  clock and by this process's CPU time (the latter hardly moves with the load of a shared machine);
* pass 2 replays it on a fresh engine timing every call with ``perf_counter_ns`` -> latency
  percentiles (includes ~50-100 ns of timer overhead per call).

Both passes start from the same pre-filled book (not timed) and must end in the same state hash.

    .venv/bin/python bench/matching.py --ops 1000000
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from venues.base import Side, TimeInForce  # noqa: E402
from venues.internal.matching import CancelOrder, Instrument, MatchingEngine, NewOrder, ReplaceOrder  # noqa: E402
from venues.internal.matching import events as ev  # noqa: E402

SYMBOL = "BENCH"
CENTER = 10_000  # ticks
SPREAD = 50  # passive orders rest up to this many ticks from the center


def new_engine() -> MatchingEngine:
    return MatchingEngine([Instrument(SYMBOL, tick_size=Decimal("0.01"), lot_size=Decimal(1))])


class Shadow:
    """Tracks live orders of the generating engine from its events (random choice in O(1))."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.pos: dict[int, int] = {}
        self.info: dict[int, list] = {}  # order id -> [owner, cl_ord_id, side, price]

    def add(self, oid: int, owner: str, cl: str, side: Side, price: int) -> None:
        self.pos[oid] = len(self.ids)
        self.ids.append(oid)
        self.info[oid] = [owner, cl, side, price]

    def remove(self, oid: int) -> None:
        i = self.pos.pop(oid)
        last = self.ids.pop()
        if last != oid:
            self.ids[i] = last
            self.pos[last] = i
        del self.info[oid]

    def apply(self, events: list) -> None:
        for e in events:
            t = type(e)
            if t is ev.Accepted:
                self.add(e.order_id, e.owner, e.cl_ord_id, e.side, e.price)
            elif t is ev.Fill:
                if e.leaves_qty == 0:
                    self.remove(e.order_id)
            elif t is ev.Cancelled:
                self.remove(e.order_id)
            elif t is ev.Replaced:
                info = self.info[e.order_id]
                info[1] = e.cl_ord_id
                info[3] = e.price


def generate(ops: int, seed: int, book_size: int, accounts: int) -> tuple[list, list]:
    """(prefill commands, timed commands); each a list of (command, ts)."""
    rng = random.Random(seed)
    engine = new_engine()
    shadow = Shadow()
    owners = [f"A{i}" for i in range(accounts)]
    cl_seq = 0
    ts = 0

    def run(cmd: object, out: list) -> None:
        nonlocal ts
        ts += 1_000
        out.append((cmd, ts))
        shadow.apply(engine.process(cmd, ts))  # type: ignore[arg-type]

    def passive_price(side: Side) -> int:
        off = rng.randint(1, SPREAD)
        return CENTER - off if side is Side.BUY else CENTER + off

    def aggressive_price(side: Side) -> int:
        off = rng.randint(0, 4)
        return CENTER + off if side is Side.BUY else CENTER - off

    prefill: list = []
    while len(shadow.ids) < book_size:
        cl_seq += 1
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        owner = rng.choice(owners)
        run(NewOrder(SYMBOL, owner, str(cl_seq), side, rng.randint(1, 100), passive_price(side),
                     tif=TimeInForce.GTC, account=owner), prefill)  # fmt: skip

    timed: list = []
    for _ in range(ops):
        r = rng.random()
        live = len(shadow.ids)
        # steer the book towards ``book_size``: more marketable orders when it is too deep
        aggressive_share = min(0.5, max(0.0, 0.05 + 2.0 * (live - book_size) / book_size))
        if r < 0.09 or live < 10:
            cl_seq += 1
            side = Side.BUY if rng.random() < 0.5 else Side.SELL
            owner = rng.choice(owners)
            price = aggressive_price(side) if rng.random() < aggressive_share else passive_price(side)
            cmd: object = NewOrder(SYMBOL, owner, str(cl_seq), side, rng.randint(1, 100), price,
                                   tif=TimeInForce.GTC, account=owner)  # fmt: skip
        elif r < 0.12:
            cl_seq += 1
            side = Side.BUY if rng.random() < 0.5 else Side.SELL
            owner = rng.choice(owners)
            cmd = NewOrder(SYMBOL, owner, str(cl_seq), side, rng.randint(1, 100), aggressive_price(side),
                           tif=TimeInForce.IOC, account=owner)  # fmt: skip
        elif r < 0.18:
            oid = shadow.ids[rng.randrange(live)]
            owner, cl, side, _ = shadow.info[oid]
            cl_seq += 1
            cmd = CancelOrder(SYMBOL, owner, str(cl_seq), orig_cl_ord_id=cl)
        else:
            oid = shadow.ids[rng.randrange(live)]
            owner, cl, side, price = shadow.info[oid]
            cl_seq += 1
            new_price = (
                aggressive_price(side) if rng.random() < aggressive_share * 0.1 else passive_price(side)
            )
            if new_price == price:
                new_price += 1 if side is Side.SELL else -1
            qty = engine.book(SYMBOL).orders[oid].qty
            cmd = ReplaceOrder(SYMBOL, owner, str(cl_seq), side, qty, new_price, orig_cl_ord_id=cl)
        run(cmd, timed)
    return prefill, timed


def percentile(sorted_values: list[int], p: float) -> int:
    return sorted_values[min(len(sorted_values) - 1, int(p / 100 * len(sorted_values)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ops", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--book", type=int, default=1_000, help="target resting orders")
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--no-latency", action="store_true", help="skip the per-op latency pass")
    args = parser.parse_args(argv)

    t = time.perf_counter()
    prefill, timed = generate(args.ops, args.seed, args.book, args.accounts)
    kinds: dict[str, int] = {}
    for cmd, _ in timed:
        name = type(cmd).__name__
        if name == "NewOrder":
            name += "/" + cmd.tif.name
        kinds[name] = kinds.get(name, 0) + 1
    print(f"generated {len(timed):,} ops in {time.perf_counter() - t:.1f}s  mix: "
          + ", ".join(f"{k} {v / len(timed):.1%}" for k, v in sorted(kinds.items())))  # fmt: skip

    # pass 1: throughput
    engine = new_engine()
    for cmd, ts in prefill:
        engine.process(cmd, ts)
    process = engine.process
    n_events = trades = 0
    gc.collect()
    gc.disable()
    c0 = time.process_time_ns()
    t0 = time.perf_counter_ns()
    for cmd, ts in timed:
        out = process(cmd, ts)
        n_events += len(out)
    t1 = time.perf_counter_ns()
    c1 = time.process_time_ns()
    gc.enable()
    elapsed = (t1 - t0) / 1e9
    cpu = (c1 - c0) / 1e9
    engine.check_invariants()
    book = engine.book(SYMBOL)
    trades = engine._match_seq  # noqa: SLF001 - bench-only peek at the match counter
    print(f"throughput: {len(timed) / elapsed:,.0f} ops/s  ({elapsed:.2f}s for {len(timed):,} ops, "
          f"{n_events:,} events, {trades:,} trades, mean {elapsed / len(timed) * 1e9:,.0f} ns/op)")  # fmt: skip
    print(f"cpu time: {len(timed) / cpu:,.0f} ops/s  ({cpu:.2f}s of CPU: moves far less than the wall-clock figure "
          f"when other processes share the cores)")  # fmt: skip
    print(f"final book: {len(book.orders)} orders, {len(book.bids)} bid / {len(book.asks)} ask levels")

    if args.no_latency:
        return
    # pass 2: latency
    engine2 = new_engine()
    for cmd, ts in prefill:
        engine2.process(cmd, ts)
    process = engine2.process
    clock = time.perf_counter_ns
    lat = [0] * len(timed)
    gc.collect()
    gc.disable()
    for i, (cmd, ts) in enumerate(timed):
        a = clock()
        process(cmd, ts)
        lat[i] = clock() - a
    gc.enable()
    assert engine2.state_hash() == engine.state_hash(), "replay diverged"
    lat.sort()
    print(f"latency per op (ns): p50 {percentile(lat, 50):,}  p90 {percentile(lat, 90):,}  p99 {percentile(lat, 99):,}  p99.9 {percentile(lat, 99.9):,}  max {lat[-1]:,}")  # fmt: skip
    print("state hash:", engine.state_hash()[:16], "(identical in both passes)")


if __name__ == "__main__":
    main()
