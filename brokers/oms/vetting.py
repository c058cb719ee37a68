"""The rule chain: vets new orders, replaces and cancels and says what buying power to hold.

:class:`Vetter` resolves the effective limits from a :class:`~brokers.domain.limits.LimitsBook`,
runs its rules in order (all must pass; the first failure is the verdict), then lets stateful rules
record the message.  It is pure: snapshots and time come in as arguments, and the caller applies
the returned reservation atomically with the verdict (pre-trade hold, DESIGN.md example 10).

* New orders run every rule; an accepted buy returns the :class:`Reservation` to hold.
* Replaces are vetted on what they add (see :mod:`brokers.oms.rules`) and return the new
  reservation and the delta to take (positive) or release (negative).
* Cancels always pass; they still count against the message throttles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace as dc_replace
from datetime import date
from decimal import Decimal

from brokers.domain.limits import EffectiveLimits, LimitsBook
from brokers.domain.orders import ClientOrder, ClientOrderStatus
from brokers.oms.context import AccountState, InstrumentInfo, ReplaceBasis, VettingContext
from brokers.oms.duplicates import ClOrdIdRegistry, RecentOrders
from brokers.oms.reservations import Reservation, reservation_for
from brokers.oms.results import CxlRejReason, OrdRejReason, RuleRejection, VetResult
from brokers.oms.rules import (
    AccountActiveRule,
    AccountThrottleRule,
    AmountRangeRule,
    BuyingPowerRule,
    DuplicateClOrdIdRule,
    DuplicateOrderRule,
    ExpireTimeRule,
    HoldingsRule,
    InstrumentTradableRule,
    KillSwitchRule,
    MarketProtectionRule,
    MaxOrderNotionalRule,
    MaxOrderQtyRule,
    OrderTypeAllowedRule,
    PositionLimitRule,
    PriceBoundsRule,
    PriceCollarRule,
    PriceTypeRule,
    QuantityRule,
    RestrictedListRule,
    Rule,
    SessionThrottleRule,
    ThrottleRule,
    TickSizeRule,
    TimeInForceAllowedRule,
)
from venues.base import CancelRequest, OrderRequest, ReplaceRequest, Side

__all__ = ["REPLACE_ELIGIBILITY", "Vetter", "default_rules", "order_request_of"]

ZERO = Decimal(0)
_CHAIN_CACHE_MAX = 10_000
REPLACE_ELIGIBILITY = "replace eligibility"


def default_rules() -> list[Rule]:
    """The standard chain, cheapest and most fundamental checks first."""
    return [
        SessionThrottleRule(),
        AccountThrottleRule(),
        AccountActiveRule(),
        KillSwitchRule(),
        DuplicateClOrdIdRule(ClOrdIdRegistry()),
        InstrumentTradableRule(),
        RestrictedListRule(),
        OrderTypeAllowedRule(),
        TimeInForceAllowedRule(),
        AmountRangeRule(),
        QuantityRule(),
        PriceTypeRule(),
        TickSizeRule(),
        ExpireTimeRule(),
        MaxOrderQtyRule(),
        PriceBoundsRule(),
        PriceCollarRule(),
        MarketProtectionRule(),
        MaxOrderNotionalRule(),
        DuplicateOrderRule(RecentOrders()),
        HoldingsRule(),
        PositionLimitRule(),
        BuyingPowerRule(),
    ]


def order_request_of(order: ClientOrder) -> OrderRequest:
    """The venue request describing a live client order's current terms."""
    return OrderRequest(
        symbol=order.symbol, owner=order.session_key, cl_ord_id=order.cl_ord_id, side=order.side,
        qty=order.qty, ord_type=order.ord_type, price=order.price, stop_px=order.stop_px, tif=order.tif,
        account=order.account, expire_time=order.expire_time,
    )


class Vetter:
    """Pre-trade vetting: the rule chain, configured through a :class:`LimitsBook`."""

    def __init__(self, limits: LimitsBook, rules: Sequence[Rule] | None = None) -> None:
        self.limits = limits
        self.rules: tuple[Rule, ...] = tuple(rules if rules is not None else default_rules())
        #: id(effective limits) -> (those limits, the chain they were resolved for, its applicable
        #: rules, the applicable rules that keep state); emptied when ``rules`` is replaced
        self._chains: dict[int, tuple[EffectiveLimits, tuple[Rule, ...], tuple[Rule, ...], tuple[Rule, ...]]] = {}

    def _chain(self, limits: EffectiveLimits) -> tuple[tuple[Rule, ...], tuple[Rule, ...]]:
        """The rules of the chain that apply under ``limits`` (``Rule.applies``), and those of them
        that keep state (override ``record``).  Cached per resolved limits object (the book hands
        out the same object until a limit set is edited) and per ``rules`` tuple."""
        rules = self.rules
        cached = self._chains.get(id(limits))
        if cached is not None and cached[0] is limits and cached[1] is rules:
            return cached[2], cached[3]
        if len(self._chains) >= _CHAIN_CACHE_MAX:
            self._chains.clear()
        active = tuple(r for r in rules if r.applies(limits))
        recorders = tuple(r for r in active if type(r).record is not Rule.record)
        self._chains[id(limits)] = (limits, rules, active, recorders)
        return active, recorders

    def context(self, order: OrderRequest, *, account: AccountState | None, instrument: InstrumentInfo | None,
                now_ns: int, trading_day: date, replacing: ReplaceBasis | None = None) -> VettingContext:
        """The context the rules see for ``order`` (effective limits resolved from the book)."""
        return VettingContext(
            session_key=order.owner, account=account, instrument=instrument,
            limits=self.limits.effective(order.account, order.owner, order.symbol),
            now_ns=now_ns, trading_day=trading_day, replacing=replacing,
        )

    # ---- new orders ------------------------------------------------------------------------------

    def vet_new(self, order: OrderRequest, *, account: AccountState | None, instrument: InstrumentInfo | None,
                now_ns: int, trading_day: date) -> VetResult:
        """Vet a new order (35=D).  Accepted buys carry the reservation to hold (notional + fees)."""
        limits = self.limits.effective(order.account, order.owner, order.symbol)
        reservation = None
        if (account is not None and order.side is Side.BUY and order.qty > 0
                and (order.price is None or order.price > 0) and (order.stop_px is None or order.stop_px > 0)):
            reservation = reservation_for(order.side, order.ord_type, order.qty, order.price, order.stop_px,
                                          instrument, limits.limits, account.fees)
        ctx = VettingContext(order.owner, account, instrument, limits, now_ns, trading_day, None, reservation)
        rejection = self._run(order, ctx)
        if rejection is not None:
            return VetResult.reject(rejection)
        if account is None:  # only with a custom chain that does not require a known account
            return VetResult.accept()
        if reservation is None:
            reservation = reservation_for(order.side, order.ord_type, order.qty, order.price,
                                          order.stop_px, instrument, ctx.rules, account.fees)
        return VetResult.accept(reservation)

    # ---- replaces --------------------------------------------------------------------------------

    def vet_replace(self, order: ClientOrder | None, request: ReplaceRequest, *, account: AccountState | None,
                    instrument: InstrumentInfo | None, now_ns: int, trading_day: date,
                    reservation: Reservation | None = None) -> VetResult:
        """Vet a cancel/replace (35=G) of ``order`` on what it adds.

        ``reservation`` is what the order holds now (None for sells).  An accepted buy replace
        carries the new reservation and the delta to take (+) or release (-).  A ``None`` price in
        the request keeps the current price.
        """
        if order is None:
            name = request.orig_cl_ord_id or request.order_id
            return VetResult.reject(_ineligible(OrdRejReason.UNKNOWN_ORDER, f"unknown order {name!r}",
                                                CxlRejReason.UNKNOWN_ORDER))
        eligibility = self._replace_eligibility(order, request)
        if eligibility is not None:
            return VetResult.reject(eligibility)
        held = reservation.amount if reservation is not None else ZERO
        basis = ReplaceBasis(order.qty, order.price, order.stop_px, order.cum_qty, held)
        replaced = dc_replace(
            order_request_of(order), cl_ord_id=request.cl_ord_id, qty=request.qty,
            price=request.price if request.price is not None else order.price,
            stop_px=request.stop_px if request.stop_px is not None else order.stop_px,
        )
        ctx = self.context(replaced, account=account, instrument=instrument, now_ns=now_ns,
                           trading_day=trading_day, replacing=basis)
        rejection = self._run(replaced, ctx)
        if rejection is not None:
            return VetResult.reject(rejection)
        if account is None:
            return VetResult.accept()
        new = reservation_for(replaced.side, replaced.ord_type, replaced.qty - order.cum_qty, replaced.price,
                              replaced.stop_px, instrument, ctx.rules, account.fees)
        if new is None:
            return VetResult.accept(None, -held)
        return VetResult.accept(new, new.amount - held)

    @staticmethod
    def _replace_eligibility(order: ClientOrder, request: ReplaceRequest) -> RuleRejection | None:
        """Only a working order, not already pending, may be replaced; symbol and side are fixed."""
        if order.status.is_terminal or order.status is ClientOrderStatus.PENDING_NEW:
            return _ineligible(OrdRejReason.OTHER, f"order {order.order_id} is {order.status.name}",
                               CxlRejReason.TOO_LATE_TO_CANCEL)
        if order.status in (ClientOrderStatus.PENDING_CANCEL, ClientOrderStatus.PENDING_REPLACE):
            return _ineligible(OrdRejReason.OTHER, f"order {order.order_id} is {order.status.name}",
                               CxlRejReason.ALREADY_PENDING)
        if request.symbol != order.symbol or request.side is not order.side:
            return _ineligible(OrdRejReason.UNSUPPORTED_ORDER_CHARACTERISTIC,
                               "symbol and side cannot be changed", CxlRejReason.OTHER)
        return None

    # ---- cancels ---------------------------------------------------------------------------------

    def vet_cancel(self, request: CancelRequest, *, account: str, now_ns: int, trading_day: date) -> VetResult:
        """Cancels always pass; the message is still counted by the throttles."""
        limits = self.limits.effective(account, request.owner, request.symbol)
        ctx = VettingContext(request.owner, None, None, limits, now_ns, trading_day)
        for rule in self.rules:
            if isinstance(rule, ThrottleRule):
                rule.record_message(request.owner, account, ctx)
        return VetResult.accept()

    # ---- the chain -------------------------------------------------------------------------------

    def _run(self, order: OrderRequest, ctx: VettingContext) -> RuleRejection | None:
        active, recorders = self._chain(ctx.limits)
        rejection = None
        for rule in active:
            rejection = rule.check(order, ctx)
            if rejection is not None:
                break
        accepted = rejection is None
        for rule in recorders:
            rule.record(order, ctx, accepted)
        return rejection


def _ineligible(reason: OrdRejReason, text: str, cxl: CxlRejReason) -> RuleRejection:
    return RuleRejection(REPLACE_ELIGIBILITY, reason, f"{REPLACE_ELIGIBILITY}: {text}", False, cxl)
