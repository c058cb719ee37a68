"""Random command sequences (Hypothesis stateful testing and a long seeded walk) against the invariants.

Checked after every command: book invariants, conservation (every match has exactly one buy and
one sell fill of the same quantity and price), no negative quantities, per-order cumulative
quantity equal to the sum of its fills; at the end, replaying the journal gives the same events and
the same state hash.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from venues.base import OrdType, SelfTradePrevention, Side, TimeInForce, TradingPhase
from venues.internal.matching import (
    AdvanceTime,
    CancelOrder,
    EndOfDay,
    Halt,
    Instrument,
    MassCancel,
    MatchingEngine,
    NewOrder,
    ReplaceOrder,
    Resume,
    SetPhase,
)
from venues.internal.matching import events as ev

OWNERS = ("S1", "S2")
ACCOUNTS = ("A", "B", "C")


def make_engine() -> MatchingEngine:
    inst = Instrument(
        "X", tick_size=Decimal("0.01"), price_band_pct=Decimal(8), reference_price=Decimal("1.00")
    )
    return MatchingEngine([inst], stp_defaults={"C": SelfTradePrevention.DECREMENT_AND_CANCEL})


class Auditor:
    """Checks every event batch for conservation and sign errors; tracks fills per order."""

    def __init__(self) -> None:
        self.cum: dict[int, int] = {}
        self.sides: dict[int, Side] = {}
        self.bought = self.sold = 0

    def check(self, engine: MatchingEngine, out: list[Any]) -> None:
        matches: dict[int, list[ev.Fill]] = {}
        for e in out:
            for name in (
                "qty",
                "last_qty",
                "cum_qty",
                "leaves_qty",
                "cancelled_qty",
                "expired_qty",
                "display_qty",
            ):
                assert getattr(e, name, 0) >= 0, f"negative {name} in {e}"
            if isinstance(e, ev.Fill):
                assert e.last_qty > 0
                matches.setdefault(e.match_id, []).append(e)
                self.cum[e.order_id] = self.cum.get(e.order_id, 0) + e.last_qty
                assert self.cum[e.order_id] == e.cum_qty
                if e.side is Side.BUY:
                    self.bought += e.last_qty
                else:
                    self.sold += e.last_qty
        for pair in matches.values():
            assert len(pair) == 2, pair
            a, b = pair
            assert a.last_qty == b.last_qty and a.last_px == b.last_px
            assert (a.side is Side.BUY) != (b.side is Side.BUY)
        assert self.bought == self.sold
        engine.check_invariants()
        for o in engine.book("X").orders.values():
            assert o.cum_qty == self.cum.get(o.order_id, 0)


def replay(log: list[tuple[Any, int]], *, fast_paths: bool = True) -> tuple[list[Any], str]:
    engine = make_engine()
    if not fast_paths:
        engine = MatchingEngine(
            [engine.instrument("X")], stp_defaults={"C": SelfTradePrevention.DECREMENT_AND_CANCEL}, fast_paths=False
        )
    out: list[Any] = []
    for cmd, ts in log:
        out.extend(engine.process(cmd, ts))
    return out, engine.state_hash()


class MatchingMachine(RuleBasedStateMachine):
    """Random orders, cancels, replaces, mass cancels, time and phase changes."""

    def __init__(self) -> None:
        super().__init__()
        self.engine = make_engine()
        self.audit = Auditor()
        self.ts = 0
        self.n = 0
        self.log: list[tuple[Any, int]] = []
        self.events: list[Any] = []

    def run(self, cmd: Any, dt: int = 1) -> None:
        self.ts += dt
        self.log.append((cmd, self.ts))
        out = self.engine.process(cmd, self.ts)
        self.events.extend(out)
        self.audit.check(self.engine, out)

    def client_ids(self) -> list[tuple[str, str]]:
        return sorted(self.engine.book("X").by_client)

    @rule(
        side=st.sampled_from([Side.BUY, Side.SELL, Side.SELL_SHORT]),
        qty=st.integers(1, 20),
        price=st.integers(92, 108),
        kind=st.sampled_from([OrdType.LIMIT] * 6 + [OrdType.MARKET, OrdType.STOP, OrdType.STOP_LIMIT]),
        tif=st.sampled_from(
            [
                TimeInForce.DAY,
                TimeInForce.GTC,
                TimeInForce.IOC,
                TimeInForce.FOK,
                TimeInForce.GTD,
                TimeInForce.OPG,
                TimeInForce.ATC,
            ]
        ),  # fmt: skip
        display=st.sampled_from([0, 0, 0, 3]),
        min_qty=st.sampled_from([0, 0, 0, 5]),
        post_only=st.booleans(),
        stp=st.sampled_from([None, None, *SelfTradePrevention]),
        owner=st.sampled_from(OWNERS),
        account=st.sampled_from(ACCOUNTS),
        stop=st.integers(92, 108),
        life=st.integers(1, 30),
    )
    def new_order(self, side: Side, qty: int, price: int, kind: OrdType, tif: TimeInForce, display: int,
                  min_qty: int, post_only: bool, stp: SelfTradePrevention | None, owner: str, account: str,
                  stop: int, life: int) -> None:  # fmt: skip
        self.n += 1
        priced = kind in (OrdType.LIMIT, OrdType.STOP_LIMIT)
        stopped = kind in (OrdType.STOP, OrdType.STOP_LIMIT)
        self.run(NewOrder(
            "X", owner, f"c{self.n}", side, qty, price if priced else 0, kind, tif, account,
            stp_group="G" if account != "A" else "", stop_px=stop if stopped else 0,
            expire_time=self.ts + life if tif is TimeInForce.GTD else 0, display_qty=display, min_qty=min_qty,
            post_only=post_only, stp=stp,
        ))  # fmt: skip

    @rule(pick=st.integers(0, 10**6), by_id=st.booleans())
    def cancel(self, pick: int, by_id: bool) -> None:
        keys = self.client_ids()
        self.n += 1
        if not keys:
            self.run(CancelOrder("X", "S1", f"x{self.n}", orig_cl_ord_id="nope"))
            return
        owner, cl = keys[pick % len(keys)]
        oid = self.engine.book("X").by_client[(owner, cl)].order_id
        self.run(CancelOrder("X", owner, f"x{self.n}", order_id=oid) if by_id
                 else CancelOrder("X", owner, f"x{self.n}", orig_cl_ord_id=cl))  # fmt: skip

    @rule(pick=st.integers(0, 10**6), dq=st.integers(-10, 10), dp=st.sampled_from([None, -2, -1, 0, 1, 2]))
    def replace(self, pick: int, dq: int, dp: int | None) -> None:
        keys = self.client_ids()
        if not keys:
            return
        owner, cl = keys[pick % len(keys)]
        o = self.engine.book("X").by_client[(owner, cl)]
        self.n += 1
        price = None if dp is None or o.ord_type in (OrdType.MARKET, OrdType.STOP) else max(1, o.price + dp)
        self.run(ReplaceOrder("X", owner, f"r{self.n}", o.side, max(1, o.qty + dq), price, orig_cl_ord_id=cl))

    @rule(owner=st.sampled_from([None, *OWNERS]), account=st.sampled_from([None, *ACCOUNTS]))
    def mass_cancel(self, owner: str | None, account: str | None) -> None:
        self.n += 1
        self.run(MassCancel("ops", f"m{self.n}", "X", owner, account))

    @rule(dt=st.integers(1, 40))
    def advance(self, dt: int) -> None:
        self.run(AdvanceTime(), dt)

    @rule(goal=st.sampled_from(list(TradingPhase)))
    def phase(self, goal: TradingPhase) -> None:
        current = self.engine.phase("X")
        if goal is TradingPhase.HALTED and current in (TradingPhase.CONTINUOUS, TradingPhase.PRE_OPEN):
            self.run(Halt("X"))
        elif current is TradingPhase.HALTED and goal is TradingPhase.CONTINUOUS:
            self.run(Resume("X"))
        elif self.engine.can_set_phase("X", goal):
            self.run(SetPhase("X", goal))
        if self.engine.phase("X") is TradingPhase.CLOSED and goal is TradingPhase.CLOSED:
            self.run(EndOfDay())

    @invariant()
    def never_crossed_in_continuous(self) -> None:
        if self.engine.phase("X") is TradingPhase.CONTINUOUS:
            assert not self.engine.book("X").is_crossed()

    def teardown(self) -> None:
        events, digest = replay(self.log)
        assert events == self.events
        assert digest == self.engine.state_hash()
        assert replay(self.log, fast_paths=False) == (events, digest)  # the general handlers agree


MatchingMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestMatchingMachine = MatchingMachine.TestCase


def test_long_seeded_random_walk_keeps_invariants_and_replays() -> None:
    rng = random.Random(7)
    engine = make_engine()
    audit = Auditor()
    log: list[tuple[Any, int]] = []
    events: list[Any] = []
    live: list[tuple[str, str]] = []
    for i in range(1, 6001):
        r = rng.random()
        book = engine.book("X")
        live = sorted(book.by_client) if i % 50 == 0 or not live else [k for k in live if k in book.by_client]
        if r < 0.45 or not live:
            side = rng.choice([Side.BUY, Side.SELL])
            cmd: Any = NewOrder("X", rng.choice(OWNERS), f"n{i}", side, rng.randint(1, 30), rng.randint(94, 106),
                                tif=rng.choice([TimeInForce.GTC, TimeInForce.DAY, TimeInForce.IOC]),
                                account=rng.choice(ACCOUNTS), display_qty=rng.choice([0, 0, 4]))  # fmt: skip
            live.append((cmd.owner, cmd.cl_ord_id))
        elif r < 0.6:
            owner, cl = rng.choice(live)
            cmd = CancelOrder("X", owner, f"x{i}", orig_cl_ord_id=cl)
        else:
            owner, cl = rng.choice(live)
            o = book.by_client[(owner, cl)]
            cmd = ReplaceOrder("X", owner, f"r{i}", o.side, max(1, o.qty + rng.randint(-5, 5)),
                               max(1, o.price + rng.randint(-3, 3)), orig_cl_ord_id=cl)  # fmt: skip
            live.append((owner, f"r{i}"))
        if engine.phase("X") is TradingPhase.HALTED:
            cmd = Resume("X")
        log.append((cmd, i))
        out = engine.process(cmd, i)
        events.extend(out)
        audit.check(engine, out)
    assert audit.bought > 1000
    assert replay(log) == (events, engine.state_hash())
