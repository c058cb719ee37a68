"""Buying-power reservations for buy orders: what to hold at entry and what to release later.

Pre-trade hold before the order works, release after (exchange-core's RiskEngine, DESIGN.md
example 10).  A :class:`Reservation` holds ``qty * price`` (exact Decimal) plus the fee on that
notional.  The price is the limit price, or for market and stop buys the reference price widened
by the market-protection band and rounded up to the tick (:func:`reserve_price`).

Release rules (all exact Decimal arithmetic, no rounding):

* cancel / expiry / reject: everything still held (:meth:`Reservation.release_all`);
* a fill of ``q`` at ``px`` with fee ``f``: the part held for those ``q`` (``q * price`` plus the
  fee charged, capped at the fee still held; the whole remaining fee on the last fill) minus the
  actual cost ``q * px + f`` (:meth:`Reservation.on_fill`).  Negative only when the fill cost more
  than was held (a market order trading outside its band, or fees above the reserved fee);
* a replace: a fresh reservation for the new leaves and price; take or release the difference
  (:meth:`Reservation.rebase`).

Over an order's life: amount reserved == sum of releases + sum of actual costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from brokers.domain.limits import Limits
from brokers.oms.context import FeeSchedule, InstrumentInfo
from venues.base import OrdType, Side

__all__ = ["FillRelease", "Reservation", "reservation_for", "reserve_price"]

ZERO = Decimal(0)
HUNDRED = Decimal(100)


def reserve_price(
    ord_type: OrdType,
    price: Decimal | None,
    stop_px: Decimal | None,
    instrument: InstrumentInfo | None,
    limits: Limits,
) -> Decimal | None:
    """The per-unit price a buy reserves at, or None when it cannot be known.

    LIMIT / STOP_LIMIT: the limit price.  MARKET: the reference price plus the market-protection
    band.  STOP: the higher of the stop price and the reference price, plus the band.  Band
    prices are rounded up to the instrument's tick.
    """
    if ord_type in (OrdType.LIMIT, OrdType.STOP_LIMIT):
        return price
    reference = instrument.reference_price if instrument is not None else None
    base: Decimal | None
    if ord_type is OrdType.STOP and stop_px is not None:
        base = stop_px if reference is None else max(stop_px, reference)
    else:
        base = reference
    if base is None:
        return None
    pct = limits.market_protection_pct or ZERO
    banded = base * (HUNDRED + pct) / HUNDRED
    tick = instrument.tick_size if instrument is not None else None
    if tick is None:
        return banded
    return (banded / tick).to_integral_value(rounding=ROUND_CEILING) * tick


@dataclass(frozen=True, slots=True)
class FillRelease:
    """What a fill frees: ``release`` goes back to buying power, ``remaining`` stays held."""

    release: Decimal
    remaining: Reservation


@dataclass(frozen=True, slots=True)
class Reservation:
    """Buying power held by one buy order for its ``qty`` open units at ``price`` each.

    ``notional`` is held for the units, ``fee`` for the commission; ``amount`` is the total.
    """

    qty: Decimal
    price: Decimal
    notional: Decimal
    fee: Decimal

    @classmethod
    def for_buy(cls, qty: Decimal, price: Decimal, fees: FeeSchedule) -> Reservation:
        """Hold ``qty * price`` plus the fee on it."""
        if qty < 0 or price < 0:
            raise ValueError(f"cannot reserve {qty} @ {price}")
        notional = qty * price
        return cls(qty, price, notional, fees.fee(notional))

    @classmethod
    def none(cls) -> Reservation:
        """An empty reservation (nothing held)."""
        return cls(ZERO, ZERO, ZERO, ZERO)

    @property
    def amount(self) -> Decimal:
        """Everything held: notional + fee."""
        return self.notional + self.fee

    def held_for(self, qty: Decimal, fee_charged: Decimal) -> Decimal:
        """The part of the reservation attributable to ``qty`` units that were charged ``fee_charged``."""
        if qty >= self.qty:
            return self.amount
        return qty * self.price + min(fee_charged, self.fee)

    def on_fill(self, fill_qty: Decimal, fill_px: Decimal, fee_charged: Decimal) -> FillRelease:
        """Release for a fill: held-for-those-units minus actual cost (``fill_qty * fill_px + fee``)."""
        if fill_qty <= 0 or fill_qty > self.qty:
            raise ValueError(f"fill of {fill_qty} against a reservation for {self.qty}")
        held = self.held_for(fill_qty, fee_charged)
        cost = fill_qty * fill_px + fee_charged
        if fill_qty == self.qty:
            remaining = Reservation.none()
        else:
            fee_used = min(fee_charged, self.fee)
            remaining = Reservation(self.qty - fill_qty, self.price, self.notional - fill_qty * self.price,
                                    self.fee - fee_used)
        return FillRelease(held - cost, remaining)

    def release_all(self) -> Decimal:
        """What to give back when the order is cancelled, expires or is rejected: all still held."""
        return self.amount

    def rebase(self, leaves_qty: Decimal, price: Decimal, fees: FeeSchedule) -> tuple[Reservation, Decimal]:
        """The reservation after a replace to ``leaves_qty`` open units at ``price``, and the delta
        to take now (positive) or release (negative)."""
        new = Reservation.for_buy(leaves_qty, price, fees)
        return new, new.amount - self.amount


def reservation_for(
    side: Side,
    ord_type: OrdType,
    qty: Decimal,
    price: Decimal | None,
    stop_px: Decimal | None,
    instrument: InstrumentInfo | None,
    limits: Limits,
    fees: FeeSchedule,
) -> Reservation | None:
    """The reservation a buy of ``qty`` needs (None for sells, or when no price is known)."""
    if side is not Side.BUY:
        return None
    px = reserve_price(ord_type, price, stop_px, instrument, limits)
    if px is None:
        return None
    return Reservation.for_buy(qty, px, fees)

