"""The fast paths (fast_paths.py) and the general handlers give identical events and state.

Two engines - ``fast_paths=True`` (the default) and ``fast_paths=False`` - take the same generated
commands; after every command the events must be equal and at the end the state hashes.  The mix
leans on what the fast paths take (plain limit orders, moves of resting orders, cancels) and on the
cases they must hand over (crossing moves, same-price replaces, quantity at or below the executed
quantity, wrong owner or side, duplicate ClOrdIDs, stops, icebergs, post-only, calls and halts).
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from venues.base import OrdType, SelfTradePrevention, Side, TimeInForce, TradingPhase
from venues.internal.matching import (
    AdvanceTime,
    CancelOrder,
    Halt,
    Instrument,
    MatchingEngine,
    NewOrder,
    ReplaceOrder,
    Resume,
    SetPhase,
)

OWNERS = ("S1", "S2")
ACCOUNTS = ("A", "B", "C")
PLAIN_TIFS = [TimeInForce.GTC, TimeInForce.DAY, TimeInForce.IOC]
OTHER_TIFS = [TimeInForce.FOK, TimeInForce.GTD, TimeInForce.OPG, TimeInForce.ATC]


def make(fast: bool) -> MatchingEngine:
    instruments = [
        Instrument(
            "X", tick_size=Decimal("0.01"), price_band_pct=Decimal(8), reference_price=Decimal("1.00")
        ),
        Instrument("Y", tick_size=Decimal("0.01"), min_order_qty=Decimal(2), max_order_qty=Decimal(50)),
    ]
    return MatchingEngine(
        instruments, stp_defaults={"C": SelfTradePrevention.DECREMENT_AND_CANCEL}, fast_paths=fast
    )


class Twins:
    """The same commands into a fast and a general engine; every result compared."""

    def __init__(self) -> None:
        self.fast = make(True)
        self.general = make(False)
        self.ts = 0
        self.events = 0

    def run(self, cmd: Any, dt: int = 1) -> list[Any]:
        self.ts += dt
        out = self.fast.process(cmd, self.ts)
        assert out == self.general.process(cmd, self.ts), cmd
        self.events += len(out)
        return out

    def check(self) -> None:
        self.fast.check_invariants()
        assert self.fast.state_hash() == self.general.state_hash()

    def live(self, symbol: str) -> list[tuple[str, str]]:
        return sorted(self.fast.book(symbol).by_client)


class FastPathMachine(RuleBasedStateMachine):
    """Random commands with a bias towards the fast paths."""

    def __init__(self) -> None:
        super().__init__()
        self.t = Twins()
        self.n = 0

    @initialize(depth=st.integers(0, 12))
    def prefill(self, depth: int) -> None:
        """Start from a book of passive orders on both sides of both instruments."""
        for i in range(depth):
            for symbol in ("X", "Y"):
                self.t.run(NewOrder(symbol, OWNERS[i % 2], f"i{symbol}{i}", Side.BUY, 3 + i, 99 - i % 4,
                                    tif=TimeInForce.GTC, account=ACCOUNTS[i % 3]))  # fmt: skip
                self.t.run(NewOrder(symbol, OWNERS[i % 2], f"j{symbol}{i}", Side.SELL, 3 + i, 101 + i % 4,
                                    tif=TimeInForce.DAY, account=ACCOUNTS[i % 3]))  # fmt: skip

    @rule(
        symbol=st.sampled_from(["X", "X", "Y"]),
        side=st.sampled_from([Side.BUY, Side.SELL, Side.SELL_SHORT]),
        qty=st.integers(0, 60),
        price=st.sampled_from([-1, 0, *range(90, 111)]),
        tif=st.sampled_from(PLAIN_TIFS * 3 + OTHER_TIFS),
        kind=st.sampled_from([OrdType.LIMIT] * 8 + [OrdType.MARKET, OrdType.STOP, OrdType.STOP_LIMIT]),
        extra=st.sampled_from(["", "", "", "", "display", "min_qty", "post_only", "stop_px", "stp", "dup"]),
        owner=st.sampled_from(OWNERS),
        account=st.sampled_from(ACCOUNTS),
    )
    def new_order(self, symbol: str, side: Side, qty: int, price: int, tif: TimeInForce, kind: OrdType, extra: str,
                  owner: str, account: str) -> None:  # fmt: skip
        self.n += 1
        cl = f"c{self.n}"
        live = self.t.live(symbol)
        if extra == "dup" and live:
            owner, cl = live[self.n % len(live)]
        stopped = kind in (OrdType.STOP, OrdType.STOP_LIMIT)
        self.t.run(NewOrder(
            symbol, owner, cl, side, qty, price if kind in (OrdType.LIMIT, OrdType.STOP_LIMIT) else 0, kind, tif,
            account, stp_group="G" if account != "A" else "",
            stop_px=(price + 2 if stopped else 0) if extra != "stop_px" else 5,
            expire_time=self.t.ts + 20 if tif is TimeInForce.GTD else 0,
            display_qty=3 if extra == "display" else 0, min_qty=2 if extra == "min_qty" else 0,
            post_only=extra == "post_only", stp=SelfTradePrevention.CANCEL_RESTING if extra == "stp" else None,
        ))  # fmt: skip

    @rule(
        symbol=st.sampled_from(["X", "X", "X", "X", "Y"]),
        pick=st.integers(0, 10**6),
        dp=st.sampled_from([-3, -2, -1, 1, 2, 3, -1, 1, 0, None, 30, -30]),
        dq=st.sampled_from([0, 0, 0, -2, 2, -100, 100]),
        twist=st.sampled_from(
            ["", "", "", "", "", "", "", "", "by_id", "owner", "side", "dup", "same_cl", "stop", "gone"]
        ),
    )
    def move(self, symbol: str, pick: int, dp: int | None, dq: int, twist: str) -> None:
        live = self.t.live(symbol)
        self.n += 1
        if not live or twist == "gone":
            self.t.run(ReplaceOrder(symbol, "S1", f"r{self.n}", Side.BUY, 5, 100, orig_cl_ord_id="nope"))
            return
        owner, cl = live[pick % len(live)]
        o = self.t.fast.book(symbol).by_client[(owner, cl)]
        price = None if dp is None else o.price + dp
        side = o.side
        if twist == "side":
            side = Side.SELL if side is Side.BUY else Side.BUY
        new_cl = f"r{self.n}"
        if twist == "same_cl":
            new_cl = cl
        elif twist == "dup" and len(live) > 1:
            new_cl = live[(pick + 1) % len(live)][1]
        self.t.run(ReplaceOrder(
            symbol, "S2" if twist == "owner" and owner == "S1" else owner, new_cl, side, max(0, o.qty + dq), price,
            stop_px=o.stop_px + 1 if twist == "stop" else None, orig_cl_ord_id="" if twist == "by_id" else cl,
            order_id=o.order_id if twist == "by_id" else 0,
        ))  # fmt: skip

    @rule(symbol=st.sampled_from(["X", "Y"]), pick=st.integers(0, 10**6),
          how=st.sampled_from(["cl", "cl", "id", "owner", "gone", "no_cl"]))  # fmt: skip
    def cancel(self, symbol: str, pick: int, how: str) -> None:
        live = self.t.live(symbol)
        self.n += 1
        if not live or how == "gone":
            self.t.run(CancelOrder(symbol, "S1", f"x{self.n}", orig_cl_ord_id="nope"))
            return
        owner, cl = live[pick % len(live)]
        oid = self.t.fast.book(symbol).by_client[(owner, cl)].order_id
        if how == "id":
            self.t.run(CancelOrder(symbol, owner, f"x{self.n}", order_id=oid))
        elif how == "no_cl":
            self.t.run(CancelOrder(symbol, owner, "", order_id=oid))
        else:
            self.t.run(CancelOrder(symbol, "S2" if how == "owner" and owner == "S1" else owner, f"x{self.n}",
                                   orig_cl_ord_id=cl))  # fmt: skip

    @rule(side=st.sampled_from([Side.BUY, Side.SELL]), off=st.integers(1, 6), owner=st.sampled_from(OWNERS),
          qty=st.integers(2, 9))  # fmt: skip
    def passive(self, side: Side, off: int, owner: str, qty: int) -> None:
        """A resting order away from the touch (keeps the book deep enough to move orders in)."""
        self.n += 1
        self.t.run(NewOrder("X", owner, f"p{self.n}", side, qty, 100 - off if side is Side.BUY else 100 + off,
                            tif=TimeInForce.GTC, account="A"))  # fmt: skip

    @rule(goal=st.sampled_from(list(TradingPhase)), symbol=st.sampled_from(["X", "Y"]), act=st.integers(0, 3))
    def phase(self, goal: TradingPhase, symbol: str, act: int) -> None:
        current = self.t.fast.phase(symbol)
        if act and current is not TradingPhase.HALTED and goal is not TradingPhase.CONTINUOUS:
            return  # phase changes are rarer than the other rules (but the way back is always taken)
        if goal is TradingPhase.HALTED and current in (TradingPhase.CONTINUOUS, TradingPhase.PRE_OPEN):
            self.t.run(Halt(symbol))
        elif current is TradingPhase.HALTED and goal is TradingPhase.CONTINUOUS:
            self.t.run(Resume(symbol))
        elif self.t.fast.can_set_phase(symbol, goal):
            self.t.run(SetPhase(symbol, goal))

    @rule(dt=st.integers(1, 30))
    def advance(self, dt: int) -> None:
        self.t.run(AdvanceTime(), dt)

    @invariant()
    def same_state(self) -> None:
        self.t.check()


FastPathMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestFastPathMachine = FastPathMachine.TestCase


def test_long_walk_of_the_benchmark_mix_is_identical_on_both_paths() -> None:
    """exchange-core's mix (mostly moves) on a deep book, with trades, both engines in lockstep."""
    rng = random.Random(3)
    t = Twins()
    for i in range(1, 20_001):
        book = t.fast.book("X")
        r = rng.random()
        if r < 0.15 or len(book.orders) < 50:
            side = rng.choice([Side.BUY, Side.SELL])
            off = rng.randint(-2, 20)
            price = 100 - off if side is Side.BUY else 100 + off
            t.run(NewOrder("X", rng.choice(OWNERS), f"n{i}", side, rng.randint(1, 30), price,
                           tif=rng.choice(PLAIN_TIFS), account=rng.choice(ACCOUNTS)))  # fmt: skip
            continue
        owner, cl = rng.choice(sorted(book.by_client)) if i % 20 == 0 else next(iter(book.by_client))
        if r < 0.2:
            t.run(CancelOrder("X", owner, f"x{i}", orig_cl_ord_id=cl))
            continue
        o = book.by_client[(owner, cl)]
        off = rng.randint(-1, 20)
        price = 100 - off if o.side is Side.BUY else 100 + off
        t.run(
            ReplaceOrder(
                "X", owner, f"r{i}", o.side, o.qty + rng.choice([0, 0, 1, -1]), price, orig_cl_ord_id=cl
            )
        )
        if i % 1000 == 0:
            t.check()
    t.check()
    assert t.events > 20_000
