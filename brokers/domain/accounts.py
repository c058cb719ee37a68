"""Accounts, assets, balances and buying-power holds: the registry's pure vocabulary.

Pure (stdlib only).  Amounts are ``decimal.Decimal`` with at most ``AMOUNT_PLACES`` (8) decimal
places -- the scale of the registry's NUMERIC(24, 8) columns; floats are refused everywhere.

Sign convention: an account's balance in an asset is the signed quantity of that asset it holds.
Deposits come from the external ``@world`` account, so ``@world`` goes negative by what entered the
system, and over all accounts every asset sums to zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from enum import Enum, StrEnum

AMOUNT_PLACES = 8
AMOUNT_QUANTUM = Decimal(1).scaleb(-AMOUNT_PLACES)
#: Largest magnitude a NUMERIC(24, 8) column holds (16 integer digits).
AMOUNT_LIMIT = Decimal(10) ** 16
ZERO = Decimal(0)

#: The external world: deposits come from it, withdrawals go back to it.
WORLD_ACCOUNT = "@world"
#: The house account that collects fees.
FEES_ACCOUNT = "@fees"
_VENUE_PREFIX = "@venue:"


def venue_account(venue: str) -> str:
    """Name of the counterparty account that stands for a venue (e.g. ``@venue:XNAS``)."""
    return f"{_VENUE_PREFIX}{venue}"


# --------------------------------------------------------------------------- errors


class RegistryError(Exception):
    """Base of every error the registry reports to its callers (the CLI prints the message)."""


class InvalidAmount(RegistryError, ValueError):
    """An amount or quantity that is not a finite decimal with at most 8 places, or has the wrong sign."""


class UnknownAccount(RegistryError, LookupError):
    """No account has that name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown account {name!r}")
        self.name = name


class DuplicateAccount(RegistryError):
    """An account with that name already exists."""

    def __init__(self, name: str) -> None:
        super().__init__(f"account {name!r} already exists")
        self.name = name


class InsufficientFunds(RegistryError):
    """The available balance (balance - held, plus allowed credit) does not cover the request."""

    def __init__(self, account: str, asset: Asset, requested: Decimal, available: Decimal) -> None:
        super().__init__(
            f"insufficient {asset.code} in account {account!r}: "
            f"requested {format_amount(requested)}, available {format_amount(available)}"
        )
        self.account = account
        self.asset = asset
        self.requested = requested
        self.available = available


# --------------------------------------------------------------------------- amounts


def to_amount(value: Decimal | int | str, what: str = "amount") -> Decimal:
    """``value`` as an exact Decimal of at most 8 places; floats and inexact values raise InvalidAmount."""
    if type(value) is Decimal:  # the common case: no conversion
        amount = value
    else:
        if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
            raise InvalidAmount(f"{what} must be a Decimal, int or str, not {type(value).__name__}")
        try:
            amount = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
        except InvalidOperation:
            raise InvalidAmount(f"{what} {value!r} is not a number") from None
    if not amount.is_finite():
        raise InvalidAmount(f"{what} {value!r} is not finite")
    if abs(amount) >= AMOUNT_LIMIT:  # before quantize: beyond 28 digits it raises InvalidOperation
        raise InvalidAmount(f"{what} {value!r} is too large")
    quantized = amount.quantize(AMOUNT_QUANTUM, rounding=ROUND_HALF_EVEN)
    if quantized != amount:
        raise InvalidAmount(f"{what} {value!r} has more than {AMOUNT_PLACES} decimal places")
    if abs(quantized) >= AMOUNT_LIMIT:
        raise InvalidAmount(f"{what} {value!r} is too large")
    return quantized


def positive_amount(value: Decimal | int | str, what: str = "amount") -> Decimal:
    """``to_amount`` that also requires a value above zero."""
    amount = to_amount(value, what)
    if amount <= 0:
        raise InvalidAmount(f"{what} must be positive, got {format_amount(amount)}")
    return amount


def round_amount(value: Decimal) -> Decimal:
    """Round a computed value (a notional, a pro-rata share) to 8 places, half-even."""
    return value.quantize(AMOUNT_QUANTUM, rounding=ROUND_HALF_EVEN)


def format_amount(value: Decimal) -> str:
    """Plain notation without trailing zeros: ``Decimal('1000000.00000000')`` -> ``'1000000'``."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


# --------------------------------------------------------------------------- assets


class AssetKind(StrEnum):
    """What an asset is: money or a traded instrument."""

    CURRENCY = "CURRENCY"
    INSTRUMENT = "INSTRUMENT"


@dataclass(frozen=True, order=True)
class Asset:
    """Something an account can hold: a currency (``USD``) or an instrument (``AAPL``)."""

    kind: AssetKind
    code: str

    def __post_init__(self) -> None:
        if not self.code or self.code != self.code.strip() or " " in self.code:
            raise ValueError(f"invalid asset code {self.code!r}")

    @classmethod
    def currency(cls, code: str) -> Asset:
        return cls(AssetKind.CURRENCY, code.strip().upper())

    @classmethod
    def instrument(cls, symbol: str) -> Asset:
        return cls(AssetKind.INSTRUMENT, symbol.strip())

    @property
    def is_currency(self) -> bool:
        return self.kind is AssetKind.CURRENCY

    def __str__(self) -> str:
        return self.code


# --------------------------------------------------------------------------- accounts


class AccountKind(Enum):
    """Who owns an account; only CLIENT accounts are held to their balance limits."""

    CLIENT = "CLIENT"  #: a customer of the broker
    VENUE = "VENUE"  #: the counterparty side of trades on one venue
    HOUSE = "HOUSE"  #: the broker's own accounts (fees, errors)
    EXTERNAL = "EXTERNAL"  #: the world outside: the source of deposits, the sink of withdrawals


@dataclass(frozen=True)
class Account:
    """A named holder of balances, with the limits that apply to it (client accounts only)."""

    name: str
    kind: AccountKind = AccountKind.CLIENT
    currency: str = "USD"
    allow_short: bool = False
    credit_limit: Decimal = ZERO

    def __post_init__(self) -> None:
        if not self.name or self.name != self.name.strip() or any(c.isspace() for c in self.name):
            raise ValueError(f"invalid account name {self.name!r}")
        object.__setattr__(self, "currency", self.currency.strip().upper())
        object.__setattr__(self, "credit_limit", to_amount(self.credit_limit, "credit limit"))
        if self.credit_limit < 0:
            raise InvalidAmount("credit limit must not be negative")

    def floor(self, asset: Asset) -> Decimal | None:
        """The lowest available balance allowed in ``asset``; ``None`` means no limit."""
        if self.kind is not AccountKind.CLIENT:
            return None
        if asset.is_currency:
            return -self.credit_limit
        return None if self.allow_short else ZERO


@dataclass(frozen=True)
class Balance:
    """An account's position in one asset: the booked amount and the part reserved by holds."""

    account: str
    asset: Asset
    amount: Decimal
    held: Decimal = ZERO

    @property
    def available(self) -> Decimal:
        return self.amount - self.held


# --------------------------------------------------------------------------- holds


class HoldState(Enum):
    """Lifecycle of a buying-power reservation."""

    #: Reserved for an open order; ``remaining`` counts against the account's available balance.
    PENDING = "PENDING"
    #: Done, and at least part of it was used by fills (the unused rest was released).
    POSTED = "POSTED"
    #: Released without any use (order cancelled, expired or rejected before any fill).
    VOIDED = "VOIDED"


#: Allowed transitions; PENDING -> PENDING is a partial fill shrinking the hold.
HOLD_TRANSITIONS: dict[HoldState, frozenset[HoldState]] = {
    HoldState.PENDING: frozenset({HoldState.PENDING, HoldState.POSTED, HoldState.VOIDED}),
    HoldState.POSTED: frozenset(),
    HoldState.VOIDED: frozenset(),
}


class HoldStateError(RegistryError):
    """A hold was asked to move along a transition that ``HOLD_TRANSITIONS`` does not allow."""


@dataclass
class Hold:
    """A reservation of ``amount`` of an asset in an account for one order (exchange-core's pre-trade hold).

    ``remaining`` is still reserved; ``posted`` was used by fills; the rest was released.
    """

    account: str
    asset: Asset
    order_id: str
    amount: Decimal
    remaining: Decimal = field(default=ZERO)
    posted: Decimal = ZERO
    state: HoldState = HoldState.PENDING
    hold_id: int | None = None

    @classmethod
    def reserve(cls, account: str, asset: Asset, order_id: str, amount: Decimal | int | str) -> Hold:
        value = positive_amount(amount, "reservation")
        return cls(account, asset, order_id, value, remaining=value)

    @property
    def released(self) -> Decimal:
        return self.amount - self.remaining - self.posted

    def _move(self, target: HoldState) -> None:
        if target not in HOLD_TRANSITIONS[self.state]:
            raise HoldStateError(f"hold {self.hold_id} cannot go from {self.state.value} to {target.value}")
        self.state = target

    def settle(self, used: Decimal, remaining_after: Decimal) -> Decimal:
        """Book a fill against the hold: shrink it to ``remaining_after`` (never grows it), posting up to
        ``used`` of the reduction and releasing the rest.  Returns the change of the held amount (<= 0).
        """
        target = max(ZERO, min(remaining_after, self.remaining))
        reduction = self.remaining - target
        posted_now = min(max(used, ZERO), reduction)
        self.posted += posted_now
        self.remaining = target
        if target == 0:
            self._move(HoldState.POSTED if self.posted > 0 else HoldState.VOIDED)
        else:
            self._move(HoldState.PENDING)
        return -reduction

    def release(self) -> Decimal:
        """Release whatever is still reserved (cancel, expiry, reject).  Returns the change of held (<= 0)."""
        released = self.remaining
        self.remaining = ZERO
        self._move(HoldState.POSTED if self.posted > 0 else HoldState.VOIDED)
        return -released
