"""The venue's cached edge (_FastEdge) converts exactly like the plain DecimalEdge."""

from __future__ import annotations

import random
from decimal import Decimal

from venues.base import CancelRequest, OrderRequest, OrdType, ReplaceRequest, Side, TimeInForce
from venues.internal.matching import DecimalEdge, Instrument, MatchingEngine
from venues.internal.venue import _FastEdge

D = Decimal


def test_fast_edge_gives_the_same_commands_and_events_as_the_plain_edge() -> None:
    engine = MatchingEngine([Instrument("X", tick_size=D("0.05"), lot_size=D(10))])
    fast, plain = _FastEdge(engine), DecimalEdge(engine)
    rng = random.Random(5)
    live: list[tuple[str, str, Side]] = []
    seen: set[str] = set()
    mixed_avg = 0  # fills whose average price is not their own price (the division path)
    for i in range(3000):
        r = rng.random()
        if r < 0.6 or not live:
            side = rng.choice([Side.BUY, Side.SELL])
            px = (
                D("10.00") + D("0.05") * rng.randint(-6, 6) + (D("0.01") if i % 97 == 0 else 0)
            )  # some off grid
            qty = D(10) * rng.randint(1, 30) + (D(5) if i % 89 == 0 else 0)
            request = OrderRequest("X", rng.choice("ab"), f"n{i}", side, qty, price=px,
                                   tif=rng.choice([TimeInForce.DAY, TimeInForce.IOC]),
                                   ord_type=OrdType.MARKET if i % 50 == 0 else OrdType.LIMIT)  # fmt: skip
            if request.ord_type is OrdType.MARKET:
                request = OrderRequest("X", request.owner, request.cl_ord_id, side, qty, OrdType.MARKET)
            live.append((request.owner, request.cl_ord_id, side))
        elif r < 0.8:
            owner, cl, side = live.pop(rng.randrange(len(live)))
            request = CancelRequest("X", owner, f"x{i}", orig_cl_ord_id=cl)  # type: ignore[assignment]
        else:
            owner, cl, side = live.pop(rng.randrange(len(live)))
            request = ReplaceRequest("X", owner, f"r{i}", side, D(10) * rng.randint(1, 30),  # type: ignore[assignment]
                                     price=D("10.00") + D("0.05") * rng.randint(-6, 6), orig_cl_ord_id=cl)  # fmt: skip
            live.append((owner, f"r{i}", side))
        command = fast.to_command(request)
        assert command == plain.to_command(request)
        for event in engine.process(command, i):
            converted = fast.to_event(event)
            assert converted == plain.to_event(event)
            assert repr(converted) == repr(plain.to_event(event))  # same Decimal exponents too
            seen.add(type(converted).__name__)
            mixed_avg += type(converted).__name__ == "Fill" and converted.avg_px != converted.last_px  # type: ignore[attr-defined]
    assert {"Accepted", "Fill", "Cancelled", "Replaced", "Rejected"} <= seen and mixed_avg
