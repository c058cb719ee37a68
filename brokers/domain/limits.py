"""Pre-trade limit sets per firm, account, session and instrument, and the book that resolves them.

A :class:`Limits` is one frozen set of limits; every field is optional and ``None`` means "no
limit here".  The same shape is used at every :class:`LimitScope`.  :class:`LimitsBook` holds one set
per (scope, key), resolves the *effective* limits for an (account, session, instrument) triple --
the tightest of all applicable sets -- and records every runtime edit in an audit trail
(who, when, which field, old -> new).  Pure: time is passed in as integer nanoseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from venues.base import OrdType, TimeInForce

__all__ = [
    "EffectiveLimits",
    "LimitChange",
    "LimitScope",
    "Limits",
    "LimitsBook",
    "ScopeKey",
    "Throttle",
    "ThrottleAction",
]

NANOS_PER_SECOND = 1_000_000_000


class ThrottleAction(Enum):
    """What to do with a message over the throttle: reject it, or reject it and drop the session."""

    REJECT = "reject"
    DISCONNECT = "disconnect"


@dataclass(frozen=True, slots=True)
class Throttle:
    """A message rate limit: at most ``max_messages`` in any sliding ``window_seconds``."""

    max_messages: int
    window_seconds: Decimal = Decimal(1)
    action: ThrottleAction = ThrottleAction.REJECT

    def __post_init__(self) -> None:
        if self.max_messages < 1:
            raise ValueError(f"throttle max_messages must be >= 1, got {self.max_messages}")
        if self.window_seconds <= 0:
            raise ValueError(f"throttle window must be positive, got {self.window_seconds}")

    @property
    def window_ns(self) -> int:
        """The window in integer nanoseconds."""
        return int(self.window_seconds * NANOS_PER_SECOND)

    def is_tighter_than(self, other: Throttle) -> bool:
        """Lower rate is tighter; at equal rates, DISCONNECT is tighter than REJECT."""
        mine = Decimal(self.max_messages) / self.window_seconds
        theirs = Decimal(other.max_messages) / other.window_seconds
        if mine != theirs:
            return mine < theirs
        return self.action is ThrottleAction.DISCONNECT and other.action is ThrottleAction.REJECT


@dataclass(frozen=True, slots=True)
class Limits:
    """One limit set.  ``None`` everywhere means "no limit"; percentages are in percent (5 = 5 %).

    max_order_qty            largest quantity of one order
    max_order_notional       largest qty * price of one order (reference price for market orders)
    min_price / max_price    absolute price bounds for limit and stop prices
    collar_pct               a buy may be at most this % above the reference price, a sell at most
                             this % below it
    market_protection_pct    band around the reference price within which a market order may trade;
                             also the band buying power is reserved with for market buys
    allowed_ord_types        the order types accepted (None: all)
    allowed_tifs             the times in force accepted (None: all)
    restricted_symbols       symbols that may not be traded
    max_long_position        largest resulting long position per instrument
    max_short_position       largest resulting short position per instrument (a positive number)
    short_selling_allowed    False forbids selling what is not held (and Side=SELL_SHORT)
    credit_allowed           False forbids buying beyond the cash available
    duplicate_window_seconds same account/symbol/side/qty/price within this many seconds is a duplicate
    throttle                 message rate for the session or account this set is attached to
    kill_switch              True blocks every new order (and risk-adding replaces) in this scope
    """

    max_order_qty: Decimal | None = None
    max_order_notional: Decimal | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    collar_pct: Decimal | None = None
    market_protection_pct: Decimal | None = None
    allowed_ord_types: frozenset[OrdType] | None = None
    allowed_tifs: frozenset[TimeInForce] | None = None
    restricted_symbols: frozenset[str] | None = None
    max_long_position: Decimal | None = None
    max_short_position: Decimal | None = None
    short_selling_allowed: bool | None = None
    credit_allowed: bool | None = None
    duplicate_window_seconds: Decimal | None = None
    throttle: Throttle | None = None
    kill_switch: bool | None = None

    def __post_init__(self) -> None:
        for name in ("max_order_qty", "max_order_notional", "duplicate_window_seconds"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")
        for name in ("min_price", "max_price", "collar_pct", "market_protection_pct",
                     "max_long_position", "max_short_position"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative, got {value}")

    def check_consistent(self) -> None:
        """Raise ValueError when the set contradicts itself (min_price above max_price).

        Checked when a set is attached, not on merges: sets from different scopes may together
        leave no acceptable price, which the price bounds rule then reports for every price.
        """
        if self.min_price is not None and self.max_price is not None and self.min_price > self.max_price:
            raise ValueError(f"min_price {self.min_price} > max_price {self.max_price}")

    def tightest(self, other: Limits) -> Limits:
        """The field-by-field tightest of two sets (the order of the operands does not matter)."""
        return Limits(**{f.name: _MERGE[f.name](getattr(self, f.name), getattr(other, f.name))
                         for f in fields(Limits)})

    def changes_to(self, other: Limits) -> dict[str, tuple[Any, Any]]:
        """The fields that differ between ``self`` and ``other``: name -> (old, new)."""
        return {f.name: (getattr(self, f.name), getattr(other, f.name))
                for f in fields(Limits) if getattr(self, f.name) != getattr(other, f.name)}


T = TypeVar("T")


def _either(pick: Callable[[T, T], T]) -> Callable[[T | None, T | None], T | None]:
    def merge(a: T | None, b: T | None) -> T | None:
        if a is None:
            return b
        if b is None:
            return a
        return pick(a, b)
    return merge


_MERGE: Mapping[str, Callable[[Any, Any], Any]] = {
    "max_order_qty": _either(min),
    "max_order_notional": _either(min),
    "min_price": _either(max),
    "max_price": _either(min),
    "collar_pct": _either(min),
    "market_protection_pct": _either(min),
    "allowed_ord_types": _either(lambda a, b: a & b),
    "allowed_tifs": _either(lambda a, b: a & b),
    "restricted_symbols": _either(lambda a, b: a | b),
    "max_long_position": _either(min),
    "max_short_position": _either(min),
    "short_selling_allowed": _either(lambda a, b: a and b),
    "credit_allowed": _either(lambda a, b: a and b),
    "duplicate_window_seconds": _either(max),
    "throttle": _either(lambda a, b: a if a.is_tighter_than(b) or a == b else b),
    "kill_switch": _either(lambda a, b: a or b),
}


class LimitScope(Enum):
    """Where a limit set is attached.  FIRM is the default for everything (its key is "")."""

    FIRM = "firm"
    ACCOUNT = "account"
    SESSION = "session"
    INSTRUMENT = "instrument"


@dataclass(frozen=True, slots=True)
class ScopeKey:
    """One place a limit set hangs: (scope, key), e.g. (ACCOUNT, "ACC1")."""

    scope: LimitScope
    key: str = ""

    def __str__(self) -> str:
        return self.scope.value if self.scope is LimitScope.FIRM else f"{self.scope.value} {self.key}"


FIRM = ScopeKey(LimitScope.FIRM)

#: resolved (account, session, symbol) triples kept by a LimitsBook before the cache starts over
_EFFECTIVE_CACHE_MAX = 100_000


@dataclass(frozen=True, slots=True)
class LimitChange:
    """One audited edit of one field: who changed what, when (ns since the epoch), old -> new."""

    at_ns: int
    who: str
    scope: ScopeKey
    field: str
    old: Any
    new: Any
    reason: str = ""

    def __str__(self) -> str:
        return f"{self.at_ns} {self.who}: {self.scope} {self.field} {self.old!r} -> {self.new!r}"


@dataclass(frozen=True, slots=True)
class EffectiveLimits:
    """The limits that apply to one (account, session, instrument).

    ``limits`` is the tightest merge of the firm, account, session and instrument sets.  Throttles
    count messages per session and per account separately, so they are resolved per scope
    (firm default tightened by the scope's own set).  ``kill_switches`` names every scope whose
    kill switch is engaged.
    """

    limits: Limits
    session_throttle: Throttle | None = None
    account_throttle: Throttle | None = None
    kill_switches: tuple[ScopeKey, ...] = ()


class LimitsBook:
    """All configured limit sets, their resolution for an order, and the audit trail of edits."""

    def __init__(self, firm: Limits | None = None) -> None:
        self._sets: dict[ScopeKey, Limits] = {}
        self._audit: list[LimitChange] = []
        #: (account, session, symbol) -> resolved limits; emptied on every edit of a set
        self._effective: dict[tuple[str, str, str], EffectiveLimits] = {}
        if firm is not None:
            self._sets[FIRM] = firm

    # ---- reading ---------------------------------------------------------------------------------

    def get(self, scope: LimitScope, key: str = "") -> Limits:
        """The set attached at (scope, key), or an empty set (no limits)."""
        return self._sets.get(ScopeKey(scope, key), Limits())

    def effective(self, account: str, session: str, symbol: str) -> EffectiveLimits:
        """The tightest applicable limits for an order of ``account`` on ``session`` in ``symbol``.

        Resolved once per triple and cached until a limit set is edited (sets are frozen and every
        edit goes through :meth:`set_limits`, which empties the cache).
        """
        cache_key = (account, session, symbol)
        cached = self._effective.get(cache_key)
        if cached is not None:
            return cached
        if len(self._effective) >= _EFFECTIVE_CACHE_MAX:
            self._effective.clear()
        resolved = self._effective[cache_key] = self._resolve(account, session, symbol)
        return resolved

    def _resolve(self, account: str, session: str, symbol: str) -> EffectiveLimits:
        keys = (FIRM, ScopeKey(LimitScope.ACCOUNT, account), ScopeKey(LimitScope.SESSION, session),
                ScopeKey(LimitScope.INSTRUMENT, symbol))
        merged = Limits()
        for key in keys:
            merged = merged.tightest(self._sets.get(key, Limits()))
        firm = self._sets.get(FIRM, Limits())
        session_limits = firm.tightest(self._sets.get(keys[2], Limits()))
        account_limits = firm.tightest(self._sets.get(keys[1], Limits()))
        kill = tuple(k for k in keys if self._sets.get(k, Limits()).kill_switch)
        return EffectiveLimits(merged, session_limits.throttle, account_limits.throttle, kill)

    @property
    def audit_trail(self) -> tuple[LimitChange, ...]:
        """Every edit so far, oldest first."""
        return tuple(self._audit)

    def scopes(self) -> Iterable[ScopeKey]:
        """Every (scope, key) that has a limit set attached."""
        return tuple(self._sets)

    # ---- editing ---------------------------------------------------------------------------------

    def set_limits(self, scope: LimitScope, key: str, limits: Limits, *, who: str, at_ns: int,
            reason: str = "") -> tuple[LimitChange, ...]:
        """Attach ``limits`` at (scope, key), replacing what was there; audits each changed field."""
        where = _check_key(scope, key)
        limits.check_consistent()
        old = self._sets.get(where, Limits())
        changes = tuple(LimitChange(at_ns, who, where, name, before, after, reason)
                        for name, (before, after) in old.changes_to(limits).items())
        if limits == Limits():
            self._sets.pop(where, None)
        else:
            self._sets[where] = limits
        self._effective.clear()
        self._audit.extend(changes)
        return changes

    def update(self, scope: LimitScope, key: str, *, who: str, at_ns: int, reason: str = "",
               **changes: Any) -> tuple[LimitChange, ...]:
        """Change some fields of the set at (scope, key) (``None`` removes a limit); audited."""
        unknown = set(changes) - {f.name for f in fields(Limits)}
        if unknown:
            raise ValueError(f"unknown limit field(s): {', '.join(sorted(unknown))}")
        return self.set_limits(scope, key, replace(self.get(scope, key), **changes), who=who, at_ns=at_ns,
                        reason=reason)

    def clear(self, scope: LimitScope, key: str, *, who: str, at_ns: int,
              reason: str = "") -> tuple[LimitChange, ...]:
        """Remove every limit at (scope, key); audited."""
        return self.set_limits(scope, key, Limits(), who=who, at_ns=at_ns, reason=reason)

    def engage_kill_switch(self, scope: LimitScope, key: str, *, who: str, at_ns: int,
                           reason: str = "") -> tuple[LimitChange, ...]:
        """Block new orders in (scope, key) until released; audited."""
        return self.update(scope, key, who=who, at_ns=at_ns, reason=reason, kill_switch=True)

    def release_kill_switch(self, scope: LimitScope, key: str, *, who: str, at_ns: int,
                            reason: str = "") -> tuple[LimitChange, ...]:
        """Let new orders through again in (scope, key); audited."""
        return self.update(scope, key, who=who, at_ns=at_ns, reason=reason, kill_switch=None)


def _check_key(scope: LimitScope, key: str) -> ScopeKey:
    if scope is LimitScope.FIRM and key:
        raise ValueError("the firm scope has no key")
    if scope is not LimitScope.FIRM and not key:
        raise ValueError(f"the {scope.value} scope needs a key")
    return ScopeKey(scope, key)

