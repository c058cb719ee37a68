"""Seeded random command streams against an InternalVenue (for recovery and market data tests)."""

from __future__ import annotations

import random
from decimal import Decimal

from venues.base import (
    CancelReason,
    CancelRequest,
    MassCancelRequest,
    OrderRequest,
    OrdType,
    ReplaceRequest,
    Side,
    TimeInForce,
    TradingPhase,
)
from venues.internal.reference_data import InstrumentSpec
from venues.internal.venue import InternalVenue

SPECS = (
    InstrumentSpec("AAPL", Decimal("0.01"), Decimal(1), reference_price=Decimal("100.00")),
    InstrumentSpec(
        "MSFT", Decimal("0.05"), Decimal(10), price_band_pct=Decimal(2), reference_price=Decimal("50.00")
    ),
)
OWNERS = ("s1", "s2", "s3")
ACCOUNTS = ("A", "B", "C")


def random_step(v: InternalVenue, rnd: random.Random, n: int, clock) -> None:  # noqa: C901 - a menu
    """Apply one random command (orders mostly, some cancels/replaces, rarely operations)."""
    symbols = [s.symbol for s in v.instruments()]
    symbol = rnd.choice(symbols)
    spec = v.instrument(symbol)
    assert spec is not None
    ref = spec.reference_price or Decimal(100)
    roll = rnd.random()
    clock.advance(rnd.choice((0, 0, 0, 10**6, 10**9)))
    working = v.working_orders()
    if roll < 0.55:
        ord_type = rnd.choices(
            (OrdType.LIMIT, OrdType.MARKET, OrdType.STOP, OrdType.STOP_LIMIT), (85, 7, 4, 4)
        )[0]
        tif = rnd.choices(
            (TimeInForce.DAY, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.GTD, TimeInForce.FOK),
            (50, 25, 10, 10, 5),
        )[0]
        px = ref + spec.tick_size * rnd.randint(-6, 6)
        price = px if ord_type in (OrdType.LIMIT, OrdType.STOP_LIMIT) else None
        stop_px = px if ord_type in (OrdType.STOP, OrdType.STOP_LIMIT) else None
        qty = spec.lot_size * rnd.randint(1, 20)
        display = None
        if ord_type is OrdType.LIMIT and tif in (TimeInForce.DAY, TimeInForce.GTC) and rnd.random() < 0.1:
            display = spec.lot_size * rnd.randint(1, 5)
        v.submit(
            OrderRequest(
                symbol,
                rnd.choice(OWNERS),
                f"c{n}",
                rnd.choice((Side.BUY, Side.SELL)),
                qty,
                ord_type=ord_type,
                price=price,
                stop_px=stop_px,
                tif=tif,
                account=rnd.choice(ACCOUNTS),
                expire_time=clock.now + rnd.choice((10**6, 10**9)) if tif is TimeInForce.GTD else None,
                display_qty=display,
            )
        )
    elif roll < 0.70 and working:
        o = rnd.choice(working)
        v.cancel(CancelRequest(o.symbol, o.owner, f"x{n}", orig_cl_ord_id=o.cl_ord_id))
    elif roll < 0.85 and working:
        o = rnd.choice(working)
        inst = v.instrument(o.symbol)
        assert inst is not None
        new_px = None if o.price is None else o.price + inst.tick_size * rnd.randint(-3, 3)
        v.replace(
            ReplaceRequest(
                o.symbol,
                o.owner,
                f"r{n}",
                o.side,
                inst.lot_size * rnd.randint(1, 25),
                price=new_px,
                orig_cl_ord_id=o.cl_ord_id,
            )  # fmt: skip
        )
    elif roll < 0.87:
        v.mass_cancel(MassCancelRequest(rnd.choice(OWNERS), f"m{n}", symbol=symbol, owner=rnd.choice(OWNERS)))
    elif roll < 0.90:
        target = rnd.choice(
            (TradingPhase.CONTINUOUS, TradingPhase.PRE_OPEN, TradingPhase.CLOSING_CALL, TradingPhase.CLOSED)
        )
        if v._engine.can_set_phase(symbol, target):  # noqa: SLF001 - tests only pick legal moves
            v.set_phase(symbol, target)
    elif roll < 0.92:
        if v.phase(symbol) is TradingPhase.HALTED:
            v.resume(symbol)
        elif v._engine.can_set_phase(symbol, TradingPhase.HALTED):  # noqa: SLF001
            v.halt(symbol, "test")
    elif roll < 0.93:
        v.end_of_day()
    elif roll < 0.95:
        v.advance_time()
    elif roll < 0.965:
        if v.kill_switches():
            account, owner = rnd.choice(v.kill_switches())
            v.release_kill_switch(account=account, owner=owner)
        else:
            v.kill_switch(account=rnd.choice(ACCOUNTS))
    elif roll < 0.975:
        v.owner_disconnected(
            rnd.choice(OWNERS),
            day_only=rnd.random() < 0.7,
            reason=rnd.choice((CancelReason.CANCEL_ON_DISCONNECT, CancelReason.CANCEL_ON_LOGOUT)),
        )
    else:
        # keep trading possible: reopen closed instruments
        for sym in symbols:
            if v.phase(sym) is TradingPhase.CLOSED:
                v.set_phase(sym, TradingPhase.PRE_OPEN)
            if v.phase(sym) is TradingPhase.PRE_OPEN:
                v.set_phase(sym, TradingPhase.CONTINUOUS)


def run_random(
    v: InternalVenue, seed: int, steps: int, clock, *, start: int = 0, check: bool = False
) -> None:
    rnd = random.Random(seed)
    for n in range(start, start + steps):
        random_step(v, rnd, n, clock)
        if check:
            v.check_invariants()
