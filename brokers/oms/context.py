"""Snapshots the vetting rules read: the account, the instrument, fees, limits and the time.

All frozen and pure.  The caller (the client FIX application) takes these snapshots from the
registry and market data, passes them in, and applies the :class:`~brokers.oms.vetting.VetResult`
(including the buying-power reservation) atomically with the check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import MAX_PREC, ROUND_CEILING, Context, Decimal
from enum import Enum
from typing import Any

from brokers.domain.limits import EffectiveLimits, Limits

__all__ = [
    "AccountState",
    "FeeSchedule",
    "FeeSchedules",
    "NO_FEES",
    "InstrumentInfo",
    "InstrumentStatus",
    "ReplaceBasis",
    "VettingContext",
]

ZERO = Decimal(0)
CENT = Decimal("0.01")
BPS = Decimal(10_000)
#: quantize in a context wide enough for any notional (the default 28 digits raise InvalidOperation
#: on a fee of more than 26 integer digits; the vetting refuses such an order, after computing it)
_WIDE = Context(prec=MAX_PREC)


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Commission charged per fill: ``bps`` basis points of the fill's notional plus ``fixed`` (a
    flat amount per fill), at least ``minimum``, rounded up to ``quantum`` (the currency's minor
    unit).  An order reserves the fee of one fill of its whole notional (:meth:`fee`); each fill is
    charged the fee on its own notional, so an order filled in several parts pays ``fixed`` (and
    ``minimum``) once per fill -- the part above the reservation is taken from cash at booking."""

    bps: Decimal = ZERO
    minimum: Decimal = ZERO
    quantum: Decimal = CENT
    fixed: Decimal = ZERO

    def __post_init__(self) -> None:
        if self.bps < 0 or self.minimum < 0 or self.fixed < 0 or self.quantum <= 0:
            raise ValueError(f"invalid fee schedule: {self}")

    @property
    def is_zero(self) -> bool:
        """True when every fill is free."""
        return not (self.bps or self.minimum or self.fixed)

    def fee(self, notional: Decimal) -> Decimal:
        """The fee of one fill of ``notional`` (0 for a zero notional; rounded up to the quantum)."""
        if notional <= 0:
            return ZERO
        raw = max(notional * self.bps / BPS + self.fixed, self.minimum)
        return raw.quantize(self.quantum, rounding=ROUND_CEILING, context=_WIDE)

    def describe(self) -> str:
        """``"5 bps + 1.00 per fill, min 1.00"`` (``"none"`` when zero)."""
        if self.is_zero:
            return "none"
        parts = [f"{format(self.bps, 'f')} bps"] if self.bps else []
        if self.fixed:
            parts.append(f"{format(self.fixed, 'f')} per fill")
        text = " + ".join(parts) or "0"
        return text + (f", min {format(self.minimum, 'f')}" if self.minimum else "")


NO_FEES = FeeSchedule()


@dataclass(frozen=True, slots=True)
class FeeSchedules:
    """The fee schedule of every account: ``default`` unless ``by_account`` names the account."""

    default: FeeSchedule = NO_FEES
    by_account: Mapping[str, FeeSchedule] = field(default_factory=dict)

    def for_account(self, account: str) -> FeeSchedule:
        """The schedule that applies to ``account``."""
        return self.by_account.get(account, self.default)


@dataclass(frozen=True, slots=True)
class AccountState:
    """What the registry knows about an account at vetting time.

    ``cash_available`` is the settled cash balance; ``reserved`` is what open buy orders already
    hold of it (buying power = cash_available - reserved).  ``holdings`` and the open order
    quantities are per symbol.
    """

    account: str
    active: bool = True
    currency: str = "USD"
    cash_available: Decimal = ZERO
    reserved: Decimal = ZERO
    holdings: Mapping[str, Decimal] = field(default_factory=dict)
    open_buy_qty: Mapping[str, Decimal] = field(default_factory=dict)
    open_sell_qty: Mapping[str, Decimal] = field(default_factory=dict)
    allow_short: bool = False
    allow_credit: bool = False
    fees: FeeSchedule = FeeSchedule()

    @property
    def buying_power(self) -> Decimal:
        """Cash not yet held for open buys."""
        return self.cash_available - self.reserved

    def holding(self, symbol: str) -> Decimal:
        """Quantity held in ``symbol`` (negative when short)."""
        return self.holdings.get(symbol, ZERO)

    def open_buys(self, symbol: str) -> Decimal:
        """Quantity of open (unfilled) buy orders in ``symbol``."""
        return self.open_buy_qty.get(symbol, ZERO)

    def open_sells(self, symbol: str) -> Decimal:
        """Quantity of open (unfilled) sell orders in ``symbol``."""
        return self.open_sell_qty.get(symbol, ZERO)


class InstrumentStatus(Enum):
    """Whether an instrument takes orders now.

    OPEN          orders accepted.
    HALTED        trading halted (reported as exchange closed).
    CLOSED        market closed for this instrument.
    NOT_TRADABLE  known but not offered to clients by the broker (suspended, delisted, ...).
    """

    OPEN = "open"
    HALTED = "halted"
    CLOSED = "closed"
    NOT_TRADABLE = "not_tradable"


@dataclass(frozen=True, slots=True)
class InstrumentInfo:
    """Static and market data of one instrument: tick and lot sizes, status and reference prices."""

    symbol: str
    status: InstrumentStatus = InstrumentStatus.OPEN
    tick_size: Decimal = CENT
    lot_size: Decimal = Decimal(1)
    last_trade_px: Decimal | None = None
    close_px: Decimal | None = None
    currency: str = "USD"

    def __post_init__(self) -> None:
        if self.tick_size <= 0 or self.lot_size <= 0:
            raise ValueError(f"{self.symbol}: tick and lot size must be positive")

    @property
    def tradable(self) -> bool:
        """True when orders are accepted now."""
        return self.status is InstrumentStatus.OPEN

    @property
    def reference_price(self) -> Decimal | None:
        """The last trade price, else the previous close, else None."""
        return self.last_trade_px if self.last_trade_px is not None else self.close_px


@dataclass(frozen=True, slots=True)
class ReplaceBasis:
    """The live order a replace would change: its current terms, fills and reservation.

    ``reserved`` is the buying power the order holds now (0 for sells); the replace is vetted on
    what it adds to it.
    """

    qty: Decimal
    price: Decimal | None
    stop_px: Decimal | None
    cum_qty: Decimal
    reserved: Decimal = ZERO

    @property
    def leaves_qty(self) -> Decimal:
        return self.qty - self.cum_qty


@dataclass(frozen=True, slots=True)
class VettingContext:
    """Everything a rule may read besides the order itself.

    ``session_key`` is the owning FIX session; ``account``/``instrument`` are None when unknown;
    ``now_ns`` is the time the message was received (ns since the epoch) and ``trading_day`` the
    business day ClOrdID uniqueness is scoped to.  ``replacing`` is set when vetting a replace.
    """

    session_key: str
    account: AccountState | None
    instrument: InstrumentInfo | None
    limits: EffectiveLimits = EffectiveLimits(Limits())
    now_ns: int = 0
    trading_day: date = date(1970, 1, 1)
    replacing: ReplaceBasis | None = None
    #: a new buy's :class:`~brokers.oms.reservations.Reservation`, computed once by the vetter
    #: (None: not computed -- rules compute it themselves)
    reservation: Any = None

    @property
    def rules(self) -> Limits:
        """The merged limit set (shorthand for ``limits.limits``)."""
        return self.limits.limits

    @property
    def reference_price(self) -> Decimal | None:
        return self.instrument.reference_price if self.instrument is not None else None
