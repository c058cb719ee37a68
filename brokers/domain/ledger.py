"""The double-entry ledger and the facts it books: fills, trade cancels (35=8 150=H), trade corrections (150=G).

Pure (stdlib only).  A ``LedgerEntry`` is a balanced set of legs: for every asset its legs sum to zero,
so money and instruments only ever move between accounts.  Corrections are reversals -- an entry with
every leg negated -- followed, for a trade correction, by a new entry; nothing booked is ever edited.

A buy of ``qty`` at ``price`` with ``fees`` books five legs (a sell flips the first four signs)::

    account       cash        -(qty*price) - fees
    counterparty  cash        +(qty*price)
    fee account   cash        +fees
    account       instrument  +qty
    counterparty  instrument  -qty
"""

from __future__ import annotations

import datetime as _dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import Enum

from .accounts import (
    FEES_ACCOUNT,
    WORLD_ACCOUNT,
    ZERO,
    Asset,
    InvalidAmount,
    RegistryError,
    positive_amount,
    round_amount,
    to_amount,
    venue_account,
)


class BookingError(RegistryError):
    """A fact that cannot be booked: it contradicts what is already booked (wrong order, busted twice...)."""


class UnknownOrder(BookingError, LookupError):
    """A fill or a release names a broker order id the registry has no record of."""


class UnknownExecution(BookingError, LookupError):
    """A trade cancel or correction references an ExecID that was never booked (or is no longer active)."""


class UnbalancedEntry(RegistryError, ValueError):
    """The legs of an entry do not sum to zero per asset."""


class Side(Enum):
    """Trade direction from the account's point of view (mirrors FIX Side 1/2)."""

    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1


def utc(ts: _dt.datetime) -> _dt.datetime:
    """An aware UTC datetime (naive input is taken as UTC)."""
    tz = ts.tzinfo
    if tz is _dt.UTC:
        return ts
    return ts.replace(tzinfo=_dt.UTC) if tz is None else ts.astimezone(_dt.UTC)


# --------------------------------------------------------------------------- entries


@dataclass(frozen=True)
class Leg:
    """One line of an entry: ``amount`` of ``asset`` added to (positive) or taken from ``account``."""

    account: str
    asset: Asset
    amount: Decimal

    def negated(self) -> Leg:
        return Leg(self.account, self.asset, -self.amount)


class EntryKind(Enum):
    """Why an entry exists."""

    DEPOSIT = "DEPOSIT"  #: cash or holdings entering from the world
    WITHDRAWAL = "WITHDRAWAL"  #: cash leaving to the world
    TRADE = "TRADE"  #: a fill (or the corrected version of one)
    REVERSAL = "REVERSAL"  #: exact negation of an earlier entry (trade cancel, first half of a correction)


@dataclass(frozen=True)
class LedgerEntry:
    """A balanced multi-leg movement; ``reverses`` names the entry a REVERSAL undoes."""

    kind: EntryKind
    legs: tuple[Leg, ...]
    ts: _dt.datetime
    memo: str = ""
    reverses: int | None = None
    entry_id: int | None = None

    def __post_init__(self) -> None:
        legs = tuple(leg for leg in self.legs if leg.amount != 0)
        if not legs:
            raise UnbalancedEntry("an entry needs at least one non-zero leg")
        totals: dict[Asset, Decimal] = defaultdict(Decimal)
        for leg in legs:
            to_amount(leg.amount, "leg amount")
            totals[leg.asset] += leg.amount
        unbalanced = {asset.code: total for asset, total in totals.items() if total != 0}
        if unbalanced:
            raise UnbalancedEntry(f"entry legs do not balance: {unbalanced}")
        object.__setattr__(self, "legs", legs)
        object.__setattr__(self, "ts", utc(self.ts))

    def reversal(self, ts: _dt.datetime, memo: str = "") -> LedgerEntry:
        """The entry that undoes this one (every leg negated)."""
        if self.entry_id is None:
            raise ValueError("only a booked entry (with an entry_id) can be reversed")
        return LedgerEntry(
            EntryKind.REVERSAL,
            tuple(leg.negated() for leg in self.legs),
            ts,
            memo or f"reversal of entry {self.entry_id}",
            reverses=self.entry_id,
        )

    def outflows(self, account: str) -> dict[Asset, Decimal]:
        """What the entry takes from ``account``, per asset (positive numbers; inflows are ignored)."""
        net: dict[Asset, Decimal] = defaultdict(Decimal)
        for leg in self.legs:
            if leg.account == account:
                net[leg.asset] += leg.amount
        return {asset: -amount for asset, amount in net.items() if amount < 0}


def transfer_entry(
    kind: EntryKind,
    source: str,
    destination: str,
    asset: Asset,
    amount: Decimal | int | str,
    ts: _dt.datetime,
    memo: str = "",
) -> LedgerEntry:
    """Two legs moving a positive ``amount`` of ``asset`` from ``source`` to ``destination``."""
    value = positive_amount(amount)
    return LedgerEntry(kind, (Leg(source, asset, -value), Leg(destination, asset, value)), ts, memo)


def deposit_entry(account: str, asset: Asset, amount: Decimal | int | str, ts: _dt.datetime) -> LedgerEntry:
    """Cash or holdings entering ``account`` from the world."""
    return transfer_entry(EntryKind.DEPOSIT, WORLD_ACCOUNT, account, asset, amount, ts, f"deposit {asset}")


def withdrawal_entry(
    account: str, asset: Asset, amount: Decimal | int | str, ts: _dt.datetime
) -> LedgerEntry:
    """Cash or holdings leaving ``account`` to the world."""
    return transfer_entry(
        EntryKind.WITHDRAWAL, account, WORLD_ACCOUNT, asset, amount, ts, f"withdraw {asset}"
    )


# --------------------------------------------------------------------------- facts from venues


@dataclass(frozen=True)
class FillToBook:
    """One execution (35=8 150=F) to book, keyed by (venue, exec_id).

    ``counterparty_account`` defaults to the venue's account, ``fee_account`` to the house fees account.
    ``order_id`` is the broker's order id (the registry's orders table); ``None`` books without an order.
    """

    venue: str
    exec_id: str
    order_id: str | None
    account: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    currency: str
    ts: _dt.datetime
    fees: Decimal = ZERO
    counterparty_account: str = ""
    fee_account: str = FEES_ACCOUNT

    def __post_init__(self) -> None:
        if not self.venue or not self.exec_id:
            raise ValueError("a fill needs a venue and an exec_id")
        object.__setattr__(self, "qty", positive_amount(self.qty, "fill quantity"))
        object.__setattr__(self, "price", to_amount(self.price, "fill price"))
        if self.price < 0:
            raise InvalidAmount("fill price must not be negative")
        object.__setattr__(self, "fees", to_amount(self.fees, "fees"))
        object.__setattr__(self, "currency", self.currency.strip().upper())
        object.__setattr__(self, "ts", utc(self.ts))
        if not self.counterparty_account:
            object.__setattr__(self, "counterparty_account", venue_account(self.venue))

    @property
    def key(self) -> tuple[str, str]:
        return (self.venue, self.exec_id)

    @property
    def notional(self) -> Decimal:
        return round_amount(self.qty * self.price)

    @property
    def cash_asset(self) -> Asset:
        return Asset.currency(self.currency)

    @property
    def instrument(self) -> Asset:
        return Asset.instrument(self.symbol)

    def entry(self) -> LedgerEntry:
        """The TRADE entry of this fill (see the module docstring for its legs)."""
        sign = self.side.sign
        cash, instrument, notional = self.cash_asset, self.instrument, self.notional
        legs = (
            Leg(self.account, cash, -sign * notional),
            Leg(self.counterparty_account, cash, sign * notional),
            Leg(self.account, cash, -self.fees),
            Leg(self.fee_account, cash, self.fees),
            Leg(self.account, instrument, sign * self.qty),
            Leg(self.counterparty_account, instrument, -sign * self.qty),
        )
        memo = f"{self.venue} {self.exec_id} {self.side.value} {self.qty} {self.symbol} @ {self.price}"
        return LedgerEntry(EntryKind.TRADE, legs, self.ts, memo)

    def corrected(self, correction: TradeCorrection) -> FillToBook:
        """The fill as the correction restates it (new exec id, quantity, price and maybe fees)."""
        fees = self.fees if correction.fees is None else correction.fees
        return replace(
            self,
            exec_id=correction.exec_id,
            qty=correction.qty,
            price=correction.price,
            fees=fees,
            ts=correction.ts,
        )


@dataclass(frozen=True)
class TradeCancel:
    """A trade bust (150=H): ``exec_id`` is the cancel report's own ExecID, ``ref_exec_id`` the busted fill."""

    venue: str
    exec_id: str
    ref_exec_id: str
    ts: _dt.datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "ts", utc(self.ts))

    @property
    def key(self) -> tuple[str, str]:
        return (self.venue, self.exec_id)


@dataclass(frozen=True)
class TradeCorrection:
    """A trade correction (150=G): restates the fill ``ref_exec_id`` with a new quantity / price (/ fees)."""

    venue: str
    exec_id: str
    ref_exec_id: str
    qty: Decimal
    price: Decimal
    ts: _dt.datetime
    fees: Decimal | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "qty", positive_amount(self.qty, "corrected quantity"))
        object.__setattr__(self, "price", to_amount(self.price, "corrected price"))
        if self.fees is not None:
            object.__setattr__(self, "fees", to_amount(self.fees, "fees"))
        object.__setattr__(self, "ts", utc(self.ts))

    @property
    def key(self) -> tuple[str, str]:
        return (self.venue, self.exec_id)


class ExecutionKind(Enum):
    """What an executions row records."""

    FILL = "FILL"
    CORRECTION = "CORRECTION"  #: a corrected fill; it replaces the one it references
    CANCEL = "CANCEL"  #: a trade bust; carries no fill of its own


class ExecutionState(Enum):
    """Whether a booked fill still stands."""

    BOOKED = "BOOKED"
    CANCELLED = "CANCELLED"  #: busted by a trade cancel
    CORRECTED = "CORRECTED"  #: replaced by a trade correction


@dataclass(frozen=True)
class BookedExecution:
    """A row of the executions journal: the fill as booked, what kind of report it was, and its state."""

    row_id: int
    kind: ExecutionKind
    state: ExecutionState
    fill: FillToBook | None
    ref_exec_id: str | None = None
    venue: str = ""
    exec_id: str = ""


# --------------------------------------------------------------------------- orders


class OrderState(Enum):
    """The registry's view of an order's status (cum qty decides between the first three)."""

    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"

    @property
    def is_closed_by_request(self) -> bool:
        return self in (OrderState.CANCELLED, OrderState.EXPIRED, OrderState.REJECTED)

    @property
    def is_open(self) -> bool:
        return self in (OrderState.NEW, OrderState.PARTIALLY_FILLED)


@dataclass
class BookedOrder:
    """The registry's record of a broker order: what was asked, and what fills have booked against it.

    ``notional`` is the exact sum of qty*price over standing fills, so ``avg_px`` never drifts.
    """

    order_id: str
    account: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal | None
    currency: str
    status: OrderState = OrderState.NEW
    cum_qty: Decimal = ZERO
    notional: Decimal = ZERO
    created: _dt.datetime | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        self.qty = positive_amount(self.qty, "order quantity")
        if self.price is not None:
            self.price = to_amount(self.price, "order price")
        self.currency = self.currency.strip().upper()

    @property
    def avg_px(self) -> Decimal:
        return round_amount(self.notional / self.cum_qty) if self.cum_qty else ZERO

    @property
    def leaves_qty(self) -> Decimal:
        """Quantity still working (zero once the order is done)."""
        if not self.status.is_open:
            return ZERO
        return max(ZERO, self.qty - self.cum_qty)

    def check_fill(self, fill: FillToBook) -> None:
        """Refuse a fill that does not belong to this order."""
        mismatched = [
            name
            for name, ours, theirs in (
                ("account", self.account, fill.account),
                ("symbol", self.symbol, fill.symbol),
                ("side", self.side, fill.side),
                ("currency", self.currency, fill.currency),
            )
            if ours != theirs
        ]
        if mismatched:
            raise BookingError(
                f"fill {fill.venue}/{fill.exec_id} does not match order {self.order_id}: {mismatched}"
            )

    def add_fill(self, qty: Decimal, notional: Decimal) -> None:
        """Add (or, with negative numbers, take back) a fill and recompute the status."""
        self.cum_qty += qty
        self.notional += notional
        if self.cum_qty < 0:
            raise BookingError(f"order {self.order_id} would have a negative cumulative quantity")
        if not self.status.is_closed_by_request:
            if self.cum_qty >= self.qty:
                self.status = OrderState.FILLED
            elif self.cum_qty > 0:
                self.status = OrderState.PARTIALLY_FILLED
            else:
                self.status = OrderState.NEW

    def close(self, status: OrderState) -> None:
        """Cancel, expire or reject the order (fills already booked stay)."""
        if not status.is_closed_by_request:
            raise ValueError(f"{status.value} is not a closing status")
        if self.status.is_open:
            self.status = status


def pro_rata_remaining(reserved: Decimal, order: BookedOrder) -> Decimal:
    """The part of a reservation still needed for the order's leaves quantity."""
    return round_amount(reserved * order.leaves_qty / order.qty)


def net_by_account_asset(entries: Iterable[LedgerEntry]) -> dict[tuple[str, Asset], Decimal]:
    """Sum of legs per (account, asset) over ``entries`` (zero sums dropped)."""
    totals: dict[tuple[str, Asset], Decimal] = defaultdict(Decimal)
    for entry in entries:
        for leg in entry.legs:
            totals[(leg.account, leg.asset)] += leg.amount
    return {key: value for key, value in totals.items() if value != 0}
