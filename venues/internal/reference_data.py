"""Reference data of the internal venue: :class:`InstrumentSpec` and loading it from configuration.

Format (chosen: CSV, one instrument per line, ``#`` comments and blank lines ignored)::

    symbol,tick_size,lot_size,reference_price,min_qty,max_qty,price_band_pct,market_protection_pct,currency,phase
    AAPL,0.01,1,100.00
    MSFT,0.01,1,100.00,,,10

Only ``symbol`` and ``tick_size`` are required; later columns may be omitted or left empty (the
defaults of :class:`InstrumentSpec`).  The header line is optional.

From a venue configuration's ``[DEFAULT]`` section (:func:`instruments_from_settings`):

``InstrumentsFile=instruments.csv``          the CSV above (relative to the configuration's directory)
``Instruments=AAPL 0.01 1 100.00;MSFT 0.01 1 100.00``   inline ``symbol tick lot [reference]`` entries

Instruments added at run time (``add-instrument`` on the admin channel) are journaled by the venue and
so survive restarts without touching the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from venues.base import TradingPhase
from venues.internal.matching import Instrument

COLUMNS = (
    "symbol",
    "tick_size",
    "lot_size",
    "reference_price",
    "min_qty",
    "max_qty",
    "price_band_pct",
    "market_protection_pct",
    "currency",
    "phase",
)

_NUMERIC = (
    "tick_size",
    "lot_size",
    "reference_price",
    "min_qty",
    "max_qty",
    "price_band_pct",
    "market_protection_pct",
)


class ReferenceDataError(ValueError):
    """Instrument configuration that cannot be used; the message names the line."""


@dataclass(frozen=True, slots=True)
class InstrumentSpec:
    """Reference data of one instrument of the internal venue, in Decimal (the edge's view).

    ``price_band_pct`` None = no dynamic price band; ``phase`` is the phase the instrument starts in.
    """

    symbol: str
    tick_size: Decimal
    lot_size: Decimal = Decimal(1)
    min_qty: Decimal | None = None
    max_qty: Decimal | None = None
    price_band_pct: Decimal | None = None
    market_protection_pct: Decimal = Decimal(5)
    reference_price: Decimal | None = None
    currency: str = "USD"
    phase: TradingPhase = TradingPhase.CONTINUOUS

    def to_instrument(self) -> Instrument:
        """The matching core's integer-grid instrument (raises ValueError on inconsistent data)."""
        return Instrument(
            symbol=self.symbol,
            tick_size=self.tick_size,
            lot_size=self.lot_size,
            min_order_qty=self.min_qty,
            max_order_qty=self.max_qty,
            price_band_pct=self.price_band_pct,
            market_protection_pct=self.market_protection_pct,
            reference_price=self.reference_price,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (Decimals as strings, None fields omitted) for the journal and snapshots."""
        out: dict[str, Any] = {}
        for name in COLUMNS:
            value = getattr(self, name)
            if value is None:
                continue
            out[name] = value.value if isinstance(value, TradingPhase) else str(value)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> InstrumentSpec:
        """Inverse of :meth:`to_dict`."""
        return cls(
            symbol=str(d["symbol"]),
            tick_size=Decimal(d["tick_size"]),
            lot_size=Decimal(d.get("lot_size", 1)),
            min_qty=_opt(d.get("min_qty")),
            max_qty=_opt(d.get("max_qty")),
            price_band_pct=_opt(d.get("price_band_pct")),
            market_protection_pct=Decimal(d.get("market_protection_pct", 5)),
            reference_price=_opt(d.get("reference_price")),
            currency=str(d.get("currency", "USD")),
            phase=TradingPhase(d.get("phase", TradingPhase.CONTINUOUS.value)),
        )


def _opt(v: Any) -> Decimal | None:
    return None if v is None or v == "" else Decimal(v)


DEMO_INSTRUMENTS: tuple[InstrumentSpec, ...] = tuple(
    InstrumentSpec(sym, Decimal("0.01"), Decimal(1), reference_price=Decimal("100.00"))
    for sym in ("AAPL", "MSFT", "IBM")
)
"""The demo set: AAPL, MSFT, IBM - tick 0.01, lot 1, reference 100.00, continuous trading."""

DEMO_CSV = (
    "symbol,tick_size,lot_size,reference_price\nAAPL,0.01,1,100.00\nMSFT,0.01,1,100.00\nIBM,0.01,1,100.00\n"
)
"""The demo set as an ``instruments.csv`` file."""


def spec_from_fields(fields: list[str], where: str = "") -> InstrumentSpec:
    """An instrument from CSV fields in :data:`COLUMNS` order (trailing ones may be missing)."""
    fields = [f.strip() for f in fields]
    if len(fields) < 2 or not fields[0]:
        raise ReferenceDataError(f"{where}need at least symbol and tick_size")
    if len(fields) > len(COLUMNS):
        raise ReferenceDataError(f"{where}too many columns ({len(fields)} > {len(COLUMNS)})")
    values = dict(zip(COLUMNS, fields, strict=False))
    d = {k: v for k, v in values.items() if v != ""}
    for name in _NUMERIC:
        if name in d:
            try:
                Decimal(d[name])
            except InvalidOperation:
                raise ReferenceDataError(f"{where}{fields[0]}: {name} {d[name]!r} is not a number") from None
    try:
        spec = InstrumentSpec.from_dict(d)
        spec.to_instrument()  # validates tick/lot/reference consistency
    except (InvalidOperation, ValueError) as exc:
        raise ReferenceDataError(f"{where}{exc or 'bad number'}") from None
    return spec


def parse_instruments_csv(text: str, source: str = "<instruments>") -> list[InstrumentSpec]:
    """Instruments from CSV text (see the module docstring); errors name ``source:line``."""
    out: list[InstrumentSpec] = []
    seen: set[str] = set()
    for lineno, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if row[0].strip().lower() == "symbol":
            continue  # header
        spec = spec_from_fields(row, f"{source}:{lineno}: ")
        if spec.symbol in seen:
            raise ReferenceDataError(f"{source}:{lineno}: duplicate symbol {spec.symbol}")
        seen.add(spec.symbol)
        out.append(spec)
    return out


def load_instruments_csv(path: str | Path) -> list[InstrumentSpec]:
    """Instruments from a CSV file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReferenceDataError(f"{p}: {exc.strerror}") from None
    return parse_instruments_csv(text, str(p))


def parse_inline(value: str) -> list[InstrumentSpec]:
    """``"AAPL 0.01 1 100.00;MSFT 0.01 1"`` -> specs (``symbol tick lot [reference]`` per entry)."""
    out = []
    for i, entry in enumerate(e for e in value.split(";") if e.strip()):
        parts = entry.split()
        if len(parts) not in (2, 3, 4):
            raise ReferenceDataError(f"Instruments entry {i + 1}: expected 'symbol tick lot [reference]'")
        out.append(spec_from_fields(parts, f"Instruments entry {i + 1}: "))
    return out


def instruments_from_settings(
    settings: Mapping[str, str],
    base_dir: str | Path = ".",
    *,
    default: Iterable[InstrumentSpec] = DEMO_INSTRUMENTS,
) -> list[InstrumentSpec]:
    """The instruments a venue configuration names (``InstrumentsFile`` and/or ``Instruments``).

    Without either key, ``default`` (the demo set).
    """
    specs: list[InstrumentSpec] = []
    path = settings.get("InstrumentsFile")
    if path:
        p = Path(path)
        specs.extend(load_instruments_csv(p if p.is_absolute() else Path(base_dir) / p))
    inline = settings.get("Instruments")
    if inline:
        specs.extend(parse_inline(inline))
    if not path and not inline:
        return list(default)
    symbols = [s.symbol for s in specs]
    dupes = sorted({s for s in symbols if symbols.count(s) > 1})
    if dupes:
        raise ReferenceDataError(f"duplicate instruments: {', '.join(dupes)}")
    return specs
