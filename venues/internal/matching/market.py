"""Per-instrument state held by the engine: reference data, book, phase, reference price and bands."""

from __future__ import annotations

from venues.base import TradingPhase

from .book import OrderBook
from .instrument import Instrument


class Market:
    """One instrument inside the matching engine (one writer: the engine that holds it)."""

    __slots__ = (
        "instrument",
        "symbol",
        "book",
        "phase",
        "halted_from",
        "reference",
        "band_lo",
        "band_hi",
        "indicative",
    )

    def __init__(self, instrument: Instrument, phase: TradingPhase) -> None:
        self.instrument = instrument
        self.symbol = instrument.symbol
        self.book = OrderBook(instrument.symbol)
        self.phase = phase
        self.halted_from: TradingPhase | None = None
        self.reference: int | None = None
        self.band_lo = 0
        self.band_hi = 0
        self.indicative: tuple[int, int, int] | None = None
        self.set_reference(instrument.reference_ticks)

    def set_reference(self, price: int | None) -> None:
        """Take a new reference price (the last trade or an auction price) and recompute the band."""
        self.reference = price
        self.band_lo, self.band_hi = self.instrument.band_limits(price)

    def canonical(self) -> tuple[object, ...]:
        """Stable tuple of the non-book state, for hashing."""
        return (
            self.symbol,
            self.phase.value,
            None if self.halted_from is None else self.halted_from.value,
            self.reference,
            self.indicative,
        )
