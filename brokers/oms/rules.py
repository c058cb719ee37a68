"""Pre-trade rules: one small class per rule, each ``check(order, ctx) -> RuleRejection | None``.

Every rule has a stable ``name``; its rejection Text(58) starts with that name and names the
limit, e.g. ``"max order quantity: 1500 > limit 1000"``.  Rules read only the order and the
:class:`~brokers.oms.context.VettingContext`.  The few stateful rules (throttles, duplicate
detection) keep their state in :mod:`brokers.oms.throttle` / :mod:`brokers.oms.duplicates` and
update it only in ``record``, which the :class:`~brokers.oms.vetting.Vetter` calls once the verdict
on the message is known.

When ``ctx.replacing`` is set the order is the *replaced* order (new total qty and prices), and
each rule vets what the replace adds: quantity rules look at the increase, price rules run only
when a price changed, buying power and holdings use the delta.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from decimal import Decimal
from enum import Enum
from typing import ClassVar

from brokers.domain.accounts import AMOUNT_LIMIT, AMOUNT_PLACES, AMOUNT_QUANTUM
from brokers.domain.limits import NANOS_PER_SECOND, EffectiveLimits, Throttle, ThrottleAction
from brokers.oms.context import InstrumentStatus, VettingContext
from brokers.oms.duplicates import ClOrdIdRegistry, OrderFingerprint, RecentOrders
from brokers.oms.reservations import reservation_for
from brokers.oms.results import OrdRejReason, RuleRejection
from brokers.oms.throttle import MessageCounter
from venues.base import OrderRequest, OrdType, Side, TimeInForce

__all__ = [
    "AccountActiveRule",
    "AccountThrottleRule",
    "AmountRangeRule",
    "BuyingPowerRule",
    "DuplicateClOrdIdRule",
    "DuplicateOrderRule",
    "ExpireTimeRule",
    "HoldingsRule",
    "InstrumentTradableRule",
    "KillSwitchRule",
    "MarketProtectionRule",
    "MaxOrderNotionalRule",
    "MaxOrderQtyRule",
    "OrderTypeAllowedRule",
    "PositionLimitRule",
    "PriceBoundsRule",
    "PriceCollarRule",
    "PriceTypeRule",
    "QuantityRule",
    "RestrictedListRule",
    "Rule",
    "SessionThrottleRule",
    "ThrottleRule",
    "TickSizeRule",
    "TimeInForceAllowedRule",
    "added_qty",
    "adds_risk",
    "amount_problem",
    "notional_price",
    "order_notional",
    "price_changed",
    "required_reservation_delta",
]

ZERO = Decimal(0)
HUNDRED = Decimal(100)
_PRICED = (OrdType.LIMIT, OrdType.STOP_LIMIT)
_STOPPED = (OrdType.STOP, OrdType.STOP_LIMIT)


def fmt(value: Decimal | int) -> str:
    """A number as plain text (no exponent)."""
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def _names(values: Iterable[Enum]) -> str:
    return ", ".join(sorted(v.name for v in values))


# ---- replace awareness --------------------------------------------------------------------------


def added_qty(order: OrderRequest, ctx: VettingContext) -> Decimal:
    """The quantity this message adds: the order qty, or a replace's increase (<= 0: none)."""
    return order.qty - ctx.replacing.qty if ctx.replacing is not None else order.qty


def price_changed(order: OrderRequest, ctx: VettingContext) -> bool:
    """True for a new order, or a replace that changes the limit or stop price."""
    basis = ctx.replacing
    return basis is None or order.price != basis.price or order.stop_px != basis.stop_px


def adds_risk(order: OrderRequest, ctx: VettingContext) -> bool:
    """True for a new order, or a replace that increases the quantity or changes a price."""
    return ctx.replacing is None or added_qty(order, ctx) > 0 or price_changed(order, ctx)


def notional_price(ord_type: OrdType, price: Decimal | None, stop_px: Decimal | None,
                   ctx: VettingContext) -> Decimal | None:
    """The price an order's notional is valued at: limit price, stop price (stop orders) or the
    reference price (market orders)."""
    if ord_type in _PRICED:
        return price
    if ord_type is OrdType.STOP:
        return stop_px
    return ctx.reference_price


def order_notional(order: OrderRequest, ctx: VettingContext) -> Decimal | None:
    """qty * :func:`notional_price`, or None when no price is known."""
    px = notional_price(order.ord_type, order.price, order.stop_px, ctx)
    return None if px is None else order.qty * px


# ---- the rule interface ---------------------------------------------------------------------------


class Rule(ABC):
    """One pre-trade check with a stable name.  Stateless unless it overrides :meth:`record`."""

    name: ClassVar[str]

    @abstractmethod
    def check(self, order: OrderRequest, ctx: VettingContext) -> RuleRejection | None:
        """None when the order passes, else why not."""

    def record(self, order: OrderRequest, ctx: VettingContext, accepted: bool) -> None:
        """Update the rule's state once the verdict on ``order`` is known (default: nothing)."""

    def applies(self, limits: EffectiveLimits) -> bool:
        """False when, under ``limits``, :meth:`check` passes every order and :meth:`record` does
        nothing (a limit the rule enforces is not set); the vetter then skips the rule."""
        return True

    def reject(self, reason: OrdRejReason, text: str, *, disconnect: bool = False) -> RuleRejection:
        return RuleRejection(self.name, reason, f"{self.name}: {text}", disconnect)


# ---- throttles and kill switch --------------------------------------------------------------------


class ThrottleRule(Rule):
    """Sliding-window message throttle keyed by session or account; counts every message."""

    def __init__(self, counter: MessageCounter | None = None) -> None:
        self.counter = counter if counter is not None else MessageCounter()

    @abstractmethod
    def key(self, session_key: str, account: str) -> str:
        """Whose messages this throttle counts."""

    @abstractmethod
    def limit(self, ctx: VettingContext) -> Throttle | None:
        """The throttle that applies, if any."""

    def applies(self, limits: EffectiveLimits) -> bool:
        return self.limit_of(limits) is not None

    @abstractmethod
    def limit_of(self, limits: EffectiveLimits) -> Throttle | None:
        """The throttle of ``limits`` this rule enforces."""

    def check(self, order: OrderRequest, ctx: VettingContext) -> RuleRejection | None:
        throttle = self.limit(ctx)
        if throttle is None:
            return None
        key = self.key(ctx.session_key, order.account)
        count = self.counter.count(key, ctx.now_ns, throttle.window_ns)
        if count < throttle.max_messages:
            return None
        disconnect = throttle.action is ThrottleAction.DISCONNECT
        return self.reject(
            OrdRejReason.OTHER,
            f"{count + 1} messages in {fmt(throttle.window_seconds)}s > limit {throttle.max_messages}"
            + (" (disconnecting)" if disconnect else ""),
            disconnect=disconnect,
        )

    def record(self, order: OrderRequest, ctx: VettingContext, accepted: bool) -> None:
        self.record_message(ctx.session_key, order.account, ctx)

    def record_message(self, session_key: str, account: str, ctx: VettingContext) -> None:
        """Count one message (any kind, cancels included) from this session/account."""
        if self.limit(ctx) is not None:
            self.counter.record(self.key(session_key, account), ctx.now_ns)


class SessionThrottleRule(ThrottleRule):
    """Messages per session in a sliding window; reject or disconnect over the limit."""

    name = "session throttle"

    def key(self, session_key: str, account: str) -> str:
        return session_key

    def limit(self, ctx: VettingContext) -> Throttle | None:
        return ctx.limits.session_throttle

    def limit_of(self, limits: EffectiveLimits) -> Throttle | None:
        return limits.session_throttle


class AccountThrottleRule(ThrottleRule):
    """Messages per account (over all its sessions) in a sliding window."""

    name = "account throttle"

    def key(self, session_key: str, account: str) -> str:
        return account

    def limit(self, ctx: VettingContext) -> Throttle | None:
        return ctx.limits.account_throttle

    def limit_of(self, limits: EffectiveLimits) -> Throttle | None:
        return limits.account_throttle


class KillSwitchRule(Rule):
    """An engaged kill switch (firm, account, session or instrument) blocks new orders and
    risk-adding replaces; quantity reductions still pass."""

    name = "kill switch"

    def applies(self, limits: EffectiveLimits) -> bool:
        return bool(limits.kill_switches)

    def check(self, order: OrderRequest, ctx: VettingContext) -> RuleRejection | None:
        if not ctx.limits.kill_switches or not adds_risk(order, ctx):
            return None
        where = ", ".join(str(k) for k in ctx.limits.kill_switches)
        return self.reject(OrdRejReason.BROKER_OPTION, f"engaged for {where}")


# ---- who and what ---------------------------------------------------------------------------------


class AccountActiveRule(Rule):
    """The account must be known, and active unless a replace only reduces the order."""

    name = "account active"

    def check(self, order: OrderRequest, ctx: VettingContext) -> RuleRejection | None:
        if ctx.account is None:
            return self.reject(OrdRejReason.UNKNOWN_ACCOUNT, f"unknown account {order.account!r}")
        if not ctx.account.active and adds_risk(order, ctx):
            return self.reject(OrdRejReason.BROKER_OPTION, f"account {ctx.account.account} is inactive")
        return None


class DuplicateClOrdIdRule(Rule):
    """A ClOrdID may be used once per session per trading day (remembered even when rejected)."""

    name = "duplicate ClOrdID"

    def __init__(self, registry: ClOrdIdRegistry | None = None) -> None:
        self.registry = registry if registry is not None else ClOrdIdRegistry()

    def check(self, order: OrderRequest, ctx: VettingContext) -> RuleRejection | None:
        if self.registry.seen(ctx.session_key, ctx.trading_day, order.cl_ord_id):
            return self.reject(
                OrdRejReason.DUPLICATE_ORDER,
                f"{order.cl_ord_id} already used on session {ctx.session_key} on {ctx.trading_day.isoformat()}",
            )
        return None

    def record(self, order: OrderRequest, ctx: VettingContext, accepted: bool) -> None:
        self.registry.record(ctx.session_key, ctx.trading_day, order.cl_ord_id)


class InstrumentTradableRule(Rule):
    """The instrument must be known and open for trading."""

    name = "instrument tradable"

    def check(self, order: OrderRequest, ctx: VettingContext) -> RuleRejection | None:
        info = ctx.instrument
        if info is None:
            return self.reject(OrdRejReason.UNKNOWN_SYMBOL, f"unknown symbol {order.symbol!r}")
        if info.status in (InstrumentStatus.CLOSED, InstrumentStatus.HALTED):
            return self.reject(OrdRejReason.EXCHANGE_CLOSED, f"{info.symbol} is {info.status.value}")
        if info.status is InstrumentStatus.NOT_TRADABLE:
            return self.reject(OrdRejReason.BROKER_OPTION, f"{info.symbol} is not tradable")
        return None


class RestrictedListRule(Rule):
    """Symbols on a restricted list may not be traded."""

    name = "restricted list"

    def applies(self, limits: EffectiveLimits) -> bool:
        return bool(limits.limits.restricted_symbols)

    def check(self, order: OrderRequest, ctx: VettingContext) -> RuleRejection | None:
        restricted = ctx.rules.restricted_symbols
        if restricted and order.symbol in restricted and adds_risk(order, ctx):
            return self.reject(OrdRejReason.BROKER_OPTION, f"{order.symbol} is restricted")
        return None


class OrderTypeAllowedRule(Rule):
    """Only the configured order types are accepted."""

    name = "order type allowed"

    def applies(self, limits: EffectiveLimits) -> bool:
        return limits.limits.allowed_ord_types is not None

    def check(self, order: OrderRequest, ctx: VettingContext) -> RuleRejection | None:
        allowed = ctx.rules.allowed_ord_types
        if allowed is not None and order.ord_type not in allowed:
            return self.reject(
                OrdRejReason.UNSUPPORTED_ORDER_CHARACTERISTIC,
                f"{order.ord_type.name} not allowed (allowed: {_names(allowed) or 'none'})",
            )
        return None


class TimeInForceAllowedRule(Rule):
    """Only the configured times in force are accepted."""

    name = "time in force allowed"

    def applies(self, limits: EffectiveLimits) -> bool:
        return limits.limits.allowed_tifs is not None

    def check(self, order: OrderRequest, ctx: VettingContext) -> RuleRejection | None:
        allowed = ctx.rules.allowed_tifs
        if allowed is not None and order.tif not in allowed:
            return self.reject(
                OrdRejReason.UNSUPPORTED_ORDER_CHARACTERISTIC,
                f"{order.tif.name} not allowed (allowed: {_names(allowed) or 'none'})",
            )
        return None


# ---- static sanity --------------------------------------------------------------------------------


def amount_problem(value: Decimal) -> str | None:
    """Why the registry could not hold ``value`` exactly (its amounts are below ``AMOUNT_LIMIT``
    with at most ``AMOUNT_PLACES`` decimals), or None when it can."""
    if abs(value) >= AMOUNT_LIMIT:
        return f"out of range (at most {AMOUNT_LIMIT.adjusted()} integer digits)"
    if value != value.quantize(AMOUNT_QUANTUM):  # exact: below the limit, 24 digits at most
        return f"has more than {AMOUNT_PLACES} decimals"
    return None


class AmountRangeRule(Rule):
    """Quantity, prices and notional must be amounts the registry can book exactly: below 10^16
    with at most 8 decimals.  Runs before the rules that compute with them (a Decimal remainder or
    quantize of a 30-digit number raises instead of answering)."""

    name = "amount range"

    def check(self, order: OrderRequest, ctx: VettingContext) -> RuleRejection | None:
        problem = amount_problem(order.qty)
        if problem is not None:
            return self.reject(OrdRejReason.INCORRECT_QUANTITY, f"quantity {fmt(order.qty)} {problem}")
        for label, px in (("price", order.price), ("stop price", order.stop_px)):
            if px is None:
                continue
            problem = amount_problem(px)
            if problem is not None:
                reason = (OrdRejReason.PRICE_EXCEEDS_CURRENT_PRICE_BAND if abs(px) >= AMOUNT_LIMIT
                          else OrdRejReason.INVALID_PRICE_INCREMENT)
                return self.reject(reason, f"{label} {fmt(px)} {problem}")
        px = notional_price(order.ord_type, order.price, order.stop_px, ctx)
        if px is not None and abs(order.qty * px) >= AMOUNT_LIMIT:
            return self.reject(OrdRejReason.ORDER_EXCEEDS_LIMIT,
                               f"notional {fmt(order.qty)} @ {fmt(px)} out of range "
                               f"(at most {AMOUNT_LIMIT.adjusted()} integer digits)")
        return None


class QuantityRule(Rule):
    """Quantity must be positive, a multiple of the lot size, and (replace) not below what is filled."""

    name = "quantity"

    def check(self, order: OrderRequest, ctx: VettingContext) -> RuleRejection | None:
        if order.qty <= 0:
            return self.reject(OrdRejReason.INCORRECT_QUANTITY, f"{fmt(order.qty)} must be positive")
        if ctx.replacing is not None and order.qty < ctx.replacing.cum_qty:
            return self.reject(OrdRejReason.INCORRECT_QUANTITY,
                               f"{fmt(order.qty)} below filled quantity {fmt(ctx.replacing.cum_qty)}")
        lot = ctx.instrument.lot_size if ctx.instrument is not None else None
        if lot is not None and order.qty % lot != 0:
            return self.reject(OrdRejReason.INCORRECT_QUANTITY,
                               f"{fmt(order.qty)} not a multiple of lot size {fmt(lot)}")
        return None


class PriceTypeRule(Rule):
    """Limit and stop-limit orders carry a positive price, market and stop orders none; stop
    orders carry a positive stop price, the others none."""

    name = "price type"

    def check(self, order: OrderRequest, ctx: VettingContext) -> RuleRejection | None:
        kind = order.ord_type.name
        bad = OrdRejReason.UNSUPPORTED_ORDER_CHARACTERISTIC
        if order.ord_type in _PRICED and order.price is None:
            return self.reject(bad, f"{kind} order needs a price")
        if order.ord_type not in _PRICED and order.price is not None:
            return self.reject(bad, f"{kind} order must not carry a price")
        if order.ord_type in _STOPPED and order.stop_px is None:
            return self.reject(bad, f"{kind} order needs a stop price")
        if order.ord_type not in _STOPPED and order.stop_px is not None:
            return self.reject(bad, f"{kind} order must not carry a stop price")
        for label, px in (("price", order.price), ("stop price", order.stop_px)):
            if px is not None and px <= 0:
                return self.reject(OrdRejReason.OTHER, f"{label} {fmt(px)} must be positive")
        return None


class TickSizeRule(Rule):
    """Limit and stop prices must be multiples of the instrument's tick size."""

    name = "tick size"

    def check(self, order: OrderRequest, ctx: VettingContext) -> RuleRejection | None:
        if ctx.instrument is None or not price_changed(order, ctx):
            return None
        tick = ctx.instrument.tick_size
        for label, px in (("price", order.price), ("stop price", order.stop_px)):
            if px is not None and px % tick != 0:
                return self.reject(OrdRejReason.INVALID_PRICE_INCREMENT,
                                   f"{label} {fmt(px)} not a multiple of tick size {fmt(tick)}")
        return None


class ExpireTimeRule(Rule):
    """A GTD order needs an ExpireTime in the future."""

    name = "expire time"

    def check(self, order: OrderRequest, ctx: VettingContext) -> RuleRejection | None:
        if order.tif is not TimeInForce.GTD or ctx.replacing is not None:
            return None
        if order.expire_time is None:
            return self.reject(OrdRejReason.UNSUPPORTED_ORDER_CHARACTERISTIC, "GTD order needs an expire time")
        if order.expire_time <= ctx.now_ns:
            return self.reject(OrdRejReason.UNSUPPORTED_ORDER_CHARACTERISTIC,
                               f"expire time {order.expire_time} is not after now {ctx.now_ns}")
        return None


# ---- size and price limits ------------------------------------------------------------------------


class MaxOrderQtyRule(Rule):
    """An order's quantity may not exceed the maximum (checked on replaces that increase it)."""

    name = "max order quantity"

    def applies(self, limits: EffectiveLimits) -> bool:
        return limits.limits.max_order_qty is not None

    def check(self, order: OrderRequest, ctx: VettingContext) -> RuleRejection | None:
        limit = ctx.rules.max_order_qty
        if limit is None or added_qty(order, ctx) <= 0 or order.qty <= limit:
            return None
        return self.reject(OrdRejReason.ORDER_EXCEEDS_LIMIT, f"{fmt(order.qty)} > limit {fmt(limit)}")


class MaxOrderNotionalRule(Rule):
    """qty * price (reference price for market orders) may not exceed the maximum notional
    (checked on replaces that increase the notional)."""

    name = "max order notional"

    def applies(self, limits: EffectiveLimits) -> bool:
        return limits.limits.max_order_notional is not None

    def check(self, order: OrderRequest, ctx: VettingContext) -> RuleRejection | None:
        limit = ctx.rules.max_order_notional
        if limit is None:
            return None
        px = notional_price(order.ord_type, order.price, order.stop_px, ctx)
        if px is None:
            return None  # market order without a reference price: market protection rejects it
        notional = order.qty * px
        basis = ctx.replacing
        if basis is not None:
            old_px = notional_price(order.ord_type, basis.price, basis.stop_px, ctx)
            if old_px is not None and notional <= basis.qty * old_px:
                return None
        if notional <= limit:
            return None
        return self.reject(OrdRejReason.ORDER_EXCEEDS_LIMIT,
                           f"{fmt(notional)} > limit {fmt(limit)} ({fmt(order.qty)} @ {fmt(px)})")


class PriceBoundsRule(Rule):
    """Limit and stop prices must lie within the absolute [min, max] bounds."""

    name = "price bounds"

    def applies(self, limits: EffectiveLimits) -> bool:
        return limits.limits.min_price is not None or limits.limits.max_price is not None

    def check(self, order: OrderRequest, ctx: VettingContext) -> RuleRejection | None:
        low, high = ctx.rules.min_price, ctx.rules.max_price
        if (low is None and high is None) or not price_changed(order, ctx):
            return None
        for label, px in (("price", order.price), ("stop price", order.stop_px)):
            if px is None:
                continue
            if low is not None and px < low:
                return self.reject(OrdRejReason.PRICE_EXCEEDS_CURRENT_PRICE_BAND,
                                   f"{label} {fmt(px)} < min {fmt(low)}")
            if high is not None and px > high:
                return self.reject(OrdRejReason.PRICE_EXCEEDS_CURRENT_PRICE_BAND,
                                   f"{label} {fmt(px)} > max {fmt(high)}")
        return None


class PriceCollarRule(Rule):
    """A limit buy may be at most collar% above the reference price, a limit sell at most collar%
    below it.  Passes when there is no reference price (nothing to collar against); stop orders
    are not collared (they are meant to be away from the market)."""

    name = "price collar"

    def applies(self, limits: EffectiveLimits) -> bool:
        return limits.limits.collar_pct is not None

    def check(self, order: OrderRequest, ctx: VettingContext) -> RuleRejection | None:
        pct = ctx.rules.collar_pct
        reference = ctx.reference_price
        if (pct is None or reference is None or order.ord_type is not OrdType.LIMIT
                or order.price is None or not price_changed(order, ctx)):
            return None
        if order.side is Side.BUY:
            bound = reference * (HUNDRED + pct) / HUNDRED
            if order.price > bound:
                return self.reject(
                    OrdRejReason.PRICE_EXCEEDS_CURRENT_PRICE_BAND,
                    f"buy {fmt(order.price)} > {fmt(bound)} (reference {fmt(reference)} + {fmt(pct)}%)",
                )
        else:
            bound = reference * (HUNDRED - pct) / HUNDRED
            if order.price < bound:
                return self.reject(
                    OrdRejReason.PRICE_EXCEEDS_CURRENT_PRICE_BAND,
                    f"sell {fmt(order.price)} < {fmt(bound)} (reference {fmt(reference)} - {fmt(pct)}%)",
                )
        return None


class MarketProtectionRule(Rule):
    """A market order needs a reference price to be protected (and valued) against."""

    name = "market order protection"

    def check(self, order: OrderRequest, ctx: VettingContext) -> RuleRejection | None:
        if order.ord_type is OrdType.MARKET and ctx.reference_price is None:
            return self.reject(OrdRejReason.BROKER_OPTION, f"no reference price for {order.symbol}")
        return None


class DuplicateOrderRule(Rule):
    """The same account, symbol, side, qty and price accepted again within the configured window
    is taken for a duplicate (new orders only)."""

    name = "duplicate order"

    def applies(self, limits: EffectiveLimits) -> bool:
        return limits.limits.duplicate_window_seconds is not None

    def __init__(self, recent: RecentOrders | None = None) -> None:
        self.recent = recent if recent is not None else RecentOrders()

    def check(self, order: OrderRequest, ctx: VettingContext) -> RuleRejection | None:
        window = self._window_ns(ctx)
        if window is None or ctx.replacing is not None:
            return None
        seen = self.recent.last_seen(OrderFingerprint.of(order), ctx.now_ns, window)
        if seen is None:
            return None
        ago = Decimal(ctx.now_ns - seen) / NANOS_PER_SECOND
        return self.reject(
            OrdRejReason.DUPLICATE_ORDER,
            f"same account, symbol, side, qty and price {fmt(ago)}s ago "
            f"(window {fmt(ctx.rules.duplicate_window_seconds or ZERO)}s)",
        )

    def record(self, order: OrderRequest, ctx: VettingContext, accepted: bool) -> None:
        window = self._window_ns(ctx)
        if accepted and window is not None and ctx.replacing is None:
            self.recent.record(OrderFingerprint.of(order), ctx.now_ns, window)

    @staticmethod
    def _window_ns(ctx: VettingContext) -> int | None:
        seconds = ctx.rules.duplicate_window_seconds
        return None if seconds is None else int(seconds * NANOS_PER_SECOND)


# ---- money and positions --------------------------------------------------------------------------


class HoldingsRule(Rule):
    """A sell needs holdings not already committed to open sells, unless short selling is allowed
    (account flag, not forbidden by the limits); SELL_SHORT needs short selling allowed."""

    name = "holdings"

    def check(self, order: OrderRequest, ctx: VettingContext) -> RuleRejection | None:
        account = ctx.account
        if account is None or order.side is Side.BUY:
            return None
        add = added_qty(order, ctx)
        if add <= 0:
            return None
        short_ok = account.allow_short and ctx.rules.short_selling_allowed is not False
        if short_ok:
            return None
        if order.side is Side.SELL_SHORT:
            return self.reject(OrdRejReason.BROKER_OPTION, f"short selling not allowed for account {account.account}")
        held = account.holding(order.symbol)
        committed = account.open_sells(order.symbol)
        available = held - committed
        if add <= available:
            return None
        return self.reject(
            OrdRejReason.ORDER_EXCEEDS_LIMIT,
            f"sell {fmt(add)} > available {fmt(available)} (held {fmt(held)}, open sells {fmt(committed)})",
        )


class BuyingPowerRule(Rule):
    """A buy needs cash minus reservations >= its reservation (notional + fees at the reserve
    price), or for a replace >= the increase of its reservation; skipped when credit is allowed."""

    name = "buying power"

    def check(self, order: OrderRequest, ctx: VettingContext) -> RuleRejection | None:
        account = ctx.account
        if account is None or order.side is not Side.BUY:
            return None
        if account.allow_credit and ctx.rules.credit_allowed is not False:
            return None
        needed = required_reservation_delta(order, ctx)
        if needed is None or needed <= 0 or needed <= account.buying_power:
            return None
        return self.reject(
            OrdRejReason.ORDER_EXCEEDS_LIMIT,
            f"{fmt(needed)} required > {fmt(account.buying_power)} available",
        )


def required_reservation_delta(order: OrderRequest, ctx: VettingContext) -> Decimal | None:
    """How much more buying power the order needs held: its reservation, minus (replace) what it
    already holds.  None for sells or when no reserve price is known."""
    if ctx.account is None:
        return None
    if ctx.reservation is not None and ctx.replacing is None:
        return ctx.reservation.amount
    filled = ctx.replacing.cum_qty if ctx.replacing is not None else ZERO
    reservation = reservation_for(order.side, order.ord_type, order.qty - filled, order.price,
                                  order.stop_px, ctx.instrument, ctx.rules, ctx.account.fees)
    if reservation is None:
        return None
    held = ctx.replacing.reserved if ctx.replacing is not None else ZERO
    return reservation.amount - held


class PositionLimitRule(Rule):
    """The position the order could lead to (holdings plus open orders on its side plus the
    order) must stay within the max long / max short per instrument.

    Long: holdings + open buys + the order <= max long.  Short: open sells + the order - holdings
    <= max short.  For a replace "the order" is the quantity it adds (the open quantity of the
    order being replaced is already in the open buys / sells).  The Text names each part, e.g.
    ``"position limit: resulting long 1100 > limit 1000 (held 200, open buys 500, order 400)"``."""

    name = "position limit"

    def applies(self, limits: EffectiveLimits) -> bool:
        return limits.limits.max_long_position is not None or limits.limits.max_short_position is not None

    def check(self, order: OrderRequest, ctx: VettingContext) -> RuleRejection | None:
        account = ctx.account
        add = added_qty(order, ctx)
        if account is None or add <= 0:
            return None
        held = account.holding(order.symbol)
        if order.side is Side.BUY:
            limit = ctx.rules.max_long_position
            if limit is None:
                return None
            open_buys = account.open_buys(order.symbol)
            resulting = held + open_buys + add
            if resulting > limit:
                return self.reject(OrdRejReason.ORDER_EXCEEDS_LIMIT,
                                   f"resulting long {fmt(resulting)} > limit {fmt(limit)} "
                                   f"(held {fmt(held)}, open buys {fmt(open_buys)}, order {fmt(add)})")
            return None
        limit = ctx.rules.max_short_position
        if limit is None:
            return None
        open_sells = account.open_sells(order.symbol)
        resulting = open_sells + add - held
        if resulting > limit:
            return self.reject(OrdRejReason.ORDER_EXCEEDS_LIMIT,
                               f"resulting short {fmt(resulting)} > limit {fmt(limit)} "
                               f"(held {fmt(held)}, open sells {fmt(open_sells)}, order {fmt(add)})")
        return None
