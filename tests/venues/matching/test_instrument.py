"""Instrument grid: Decimal <-> integer conversions reject off-grid values, bands are integer maths."""

from __future__ import annotations

from decimal import Decimal

import pytest

from venues.internal.matching import Instrument, OffGridError, TickBand
from venues.internal.matching.instrument import UNBOUNDED


def test_price_and_quantity_round_trip() -> None:
    inst = Instrument("X", tick_size=Decimal("0.05"), lot_size=Decimal("100"))
    assert inst.price_to_ticks(Decimal("12.35")) == 247
    assert inst.ticks_to_price(247) == Decimal("12.35")
    assert inst.qty_to_lots(Decimal("500")) == 5 and inst.lots_to_qty(5) == Decimal(500)


@pytest.mark.parametrize("price", [Decimal("12.34"), Decimal("0"), Decimal("-0.05")])
def test_off_grid_or_non_positive_prices_are_refused(price: Decimal) -> None:
    with pytest.raises(OffGridError):
        Instrument("X", tick_size=Decimal("0.05")).price_to_ticks(price)


@pytest.mark.parametrize("qty", [Decimal("150"), Decimal("0"), Decimal("-100")])
def test_off_lot_quantities_are_refused(qty: Decimal) -> None:
    with pytest.raises(OffGridError):
        Instrument("X", tick_size=Decimal("0.01"), lot_size=Decimal(100)).qty_to_lots(qty)


def test_tick_table_by_price_band() -> None:
    inst = Instrument(
        "X", tick_size=Decimal("0.001"),
        tick_table=(TickBand(Decimal(0), Decimal("0.001")), TickBand(Decimal(1), Decimal("0.005")),
                    TickBand(Decimal(10), Decimal("0.01"))),
    )  # fmt: skip
    assert inst.price_to_ticks(Decimal("0.999")) == 999
    assert inst.price_to_ticks(Decimal("1.005")) == 1005
    with pytest.raises(OffGridError):
        inst.price_to_ticks(Decimal("1.001"))
    with pytest.raises(OffGridError):
        inst.price_to_ticks(Decimal("10.005"))
    assert inst.has_tick_table and inst.price_on_grid(10_010)


def test_tick_table_ticks_must_be_multiples_of_the_tick_size() -> None:
    with pytest.raises(ValueError):
        Instrument("X", tick_size=Decimal("0.02"), tick_table=(TickBand(Decimal(0), Decimal("0.03")),))


def test_band_limits_and_protection_width_are_integer() -> None:
    inst = Instrument(
        "X", tick_size=Decimal("0.01"), price_band_pct=Decimal("2.5"), market_protection_pct=Decimal(1)
    )
    assert inst.band_limits(10_000) == (9_750, 10_250)
    assert inst.band_limits(None) == (-UNBOUNDED, UNBOUNDED)
    assert Instrument("Y", tick_size=Decimal(1)).band_limits(100) == (-UNBOUNDED, UNBOUNDED)
    assert inst.protection_width(10_000) == 100 and inst.protection_width(5) == 1


def test_quantity_limits_in_lots() -> None:
    inst = Instrument("X", tick_size=Decimal("0.01"), lot_size=Decimal(10), min_order_qty=Decimal(20),
                      max_order_qty=Decimal(1000), reference_price=Decimal("5.00"))  # fmt: skip
    assert (inst.min_lots, inst.max_lots, inst.reference_ticks) == (2, 100, 500)
