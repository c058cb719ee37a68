"""Instrument reference data and the Decimal <-> integer conversions of the matching core.

Inside the core a price is an integer number of *ticks* (units of :attr:`Instrument.tick_size`,
the finest tick of the instrument) and a quantity an integer number of *lots*.  A tick table can
make coarser ticks mandatory above given prices; :meth:`Instrument.price_on_grid` checks that.
Conversions refuse values that are not on the grid instead of rounding them, and values beyond
:data:`UNBOUNDED` ticks or lots; they are exact whatever the number of digits (a Decimal division
rounds to the context's 28 digits: ``1.00000000000000000000000000001 / 0.01`` would look integral).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from decimal import Decimal

UNBOUNDED = 1 << 62
"""Price limit meaning "no limit" (larger than any real tick count)."""


class OffGridError(ValueError):
    """A Decimal price or quantity is not a whole number of ticks or lots (or not positive)."""


@dataclass(frozen=True, slots=True)
class TickBand:
    """From ``from_price`` upward (until the next band) prices must be multiples of ``tick``."""

    from_price: Decimal
    tick: Decimal


def _ratio(pct: Decimal) -> tuple[int, int]:
    """A percentage as an exact fraction ``num/den`` of one."""
    num, den = pct.as_integer_ratio()
    return num, den * 100


@dataclass(frozen=True)
class Instrument:
    """Reference data of one tradable instrument, with its integer grid.

    ``price_band_pct`` is the dynamic band around the reference (last trade) price: a trade that
    would print outside it halts the instrument.  ``market_protection_pct`` caps how far a market
    order may walk from the best opposite price (or from the reference price in a call).
    """

    symbol: str
    tick_size: Decimal
    lot_size: Decimal = Decimal(1)
    min_order_qty: Decimal | None = None
    max_order_qty: Decimal | None = None
    tick_table: tuple[TickBand, ...] = ()
    price_band_pct: Decimal | None = None
    market_protection_pct: Decimal = Decimal(5)
    reference_price: Decimal | None = None

    has_tick_table: bool = field(init=False, repr=False, compare=False)
    """True when some prices need a coarser tick than :attr:`tick_size`."""
    min_lots: int = field(init=False, repr=False, compare=False)
    max_lots: int = field(init=False, repr=False, compare=False)
    reference_ticks: int | None = field(init=False, repr=False, compare=False)
    _band_from: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _band_step: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _band_ratio: tuple[int, int] | None = field(init=False, repr=False, compare=False)
    _protection_ratio: tuple[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.tick_size <= 0 or self.lot_size <= 0:
            raise ValueError(f"{self.symbol}: tick and lot sizes must be positive")
        put = object.__setattr__
        put(
            self,
            "min_lots",
            1 if self.min_order_qty is None else max(1, self.qty_to_lots(self.min_order_qty)),
        )
        put(
            self,
            "max_lots",
            UNBOUNDED if self.max_order_qty is None else self.qty_to_lots(self.max_order_qty),
        )
        starts: list[int] = []
        steps: list[int] = []
        for band in sorted(self.tick_table, key=lambda b: b.from_price):
            step = band.tick / self.tick_size
            if step != step.to_integral_value() or step < 1:
                raise ValueError(f"{self.symbol}: tick {band.tick} is not a multiple of {self.tick_size}")
            starts.append(int(band.from_price / self.tick_size))
            steps.append(int(step))
        put(self, "_band_from", tuple(starts))
        put(self, "_band_step", tuple(steps))
        put(self, "has_tick_table", bool(steps))
        put(self, "_band_ratio", None if self.price_band_pct is None else _ratio(self.price_band_pct))
        put(self, "_protection_ratio", _ratio(self.market_protection_pct))
        put(
            self,
            "reference_ticks",
            None if self.reference_price is None else self.price_to_ticks(self.reference_price),
        )

    # ------------------------------------------------------------------ prices

    def price_on_grid(self, ticks: int) -> bool:
        """Whether an integer price is positive and a multiple of the tick of its price band."""
        if ticks <= 0:
            return False
        if not self._band_step:
            return True
        i = bisect_right(self._band_from, ticks) - 1
        return i < 0 or ticks % self._band_step[i] == 0

    def price_to_ticks(self, price: Decimal) -> int:
        """Exact integer ticks of a Decimal price; :class:`OffGridError` if off the grid."""
        units = price / self.tick_size
        if units != units.to_integral_value():
            raise OffGridError(f"{self.symbol}: price {price} is not a multiple of {self.tick_size}")
        if abs(units) > UNBOUNDED:
            raise OffGridError(f"{self.symbol}: price {price} is out of range")
        ticks = int(units)
        if ticks * self.tick_size != price:  # the division rounded: more digits than the context keeps
            raise OffGridError(f"{self.symbol}: price {price} is not a multiple of {self.tick_size}")
        if not self.price_on_grid(ticks):
            raise OffGridError(f"{self.symbol}: price {price} is not on the tick table grid")
        return ticks

    def ticks_to_price(self, ticks: int) -> Decimal:
        """The Decimal price of an integer tick count."""
        return Decimal(ticks) * self.tick_size

    # ------------------------------------------------------------------ quantities

    def qty_to_lots(self, qty: Decimal) -> int:
        """Exact integer lots of a positive Decimal quantity; :class:`OffGridError` otherwise."""
        units = qty / self.lot_size
        if units != units.to_integral_value() or units <= 0:
            raise OffGridError(f"{self.symbol}: quantity {qty} is not a positive multiple of {self.lot_size}")
        if units > UNBOUNDED:
            raise OffGridError(f"{self.symbol}: quantity {qty} is out of range")
        lots = int(units)
        if lots * self.lot_size != qty:  # the division rounded: more digits than the context keeps
            raise OffGridError(f"{self.symbol}: quantity {qty} is not a positive multiple of {self.lot_size}")
        return lots

    def lots_to_qty(self, lots: int) -> Decimal:
        """The Decimal quantity of an integer lot count."""
        return Decimal(lots) * self.lot_size

    # ------------------------------------------------------------------ bands

    def band_limits(self, reference: int | None) -> tuple[int, int]:
        """The lowest and highest tick a trade may print at around ``reference`` (inclusive)."""
        if self._band_ratio is None or reference is None:
            return -UNBOUNDED, UNBOUNDED
        num, den = self._band_ratio
        width = reference * num // den
        return reference - width, reference + width

    def protection_width(self, base: int) -> int:
        """How many ticks a market order may walk from ``base`` (at least one)."""
        num, den = self._protection_ratio
        return max(1, base * num // den)
