"""positional_constructor builds the same objects as the frozen dataclasses' own ``__init__``."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from venues import base
from venues.base import CancelReason, Liquidity, OrdType, SelfTradePrevention, Side, TimeInForce
from venues.internal.fast_init import positional_constructor
from venues.internal.market_data import MarketStats, TradePrinted

D = Decimal
SAMPLES = [
    base.OrderRequest("X", "o", "c1", Side.SELL, D(5), OrdType.LIMIT, D("1.5"), None, TimeInForce.GTC, "A", "G",
                      None, D(2), None, True, SelfTradePrevention.CANCEL_BOTH),
    base.Accepted(1, "X", "7", "o", "c1", "9", Side.BUY, OrdType.LIMIT, TimeInForce.DAY, D(5), D("1.50"), None),
    base.Fill(2, "X", "7", "o", "c1", "10", Side.BUY, "3", D(2), D("1.50"), D(2), D(3), D("1.50"),
              Liquidity.ADDED, "A"),
    base.Cancelled(3, "X", "7", "o", "c2", "c1", "11", Side.BUY, D(2), D(3), CancelReason.CLIENT_REQUEST),
    TradePrinted(4, "X", D("1.5"), D(2), "3", 99, Side.SELL),
    MarketStats(D("1.5"), D(2), D("1.4"), D("1.6"), D("1.3"), None, D(20), None, None),
]  # fmt: skip


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: type(s).__name__)
def test_builds_an_equal_object(sample: object) -> None:
    cls = type(sample)
    build = positional_constructor(cls)
    assert build is not cls
    values = [getattr(sample, f.name) for f in dataclasses.fields(sample)]  # type: ignore[arg-type]
    made = build(*values)
    assert type(made) is cls and made == sample and repr(made) == repr(sample) and hash(made) == hash(sample)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(made, dataclasses.fields(made)[0].name, values[0])  # type: ignore[arg-type]  # still frozen


def test_classes_that_validate_or_have_no_slots_keep_their_own_init() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        x: int

        def __post_init__(self) -> None:
            if self.x < 0:
                raise ValueError("negative")

    @dataclasses.dataclass(frozen=True)
    class Plain:
        x: int

    assert positional_constructor(Checked) is Checked
    assert positional_constructor(Plain) is Plain
    assert positional_constructor(dict) is dict  # type: ignore[arg-type]
