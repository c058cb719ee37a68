"""Buying power: orders and the holds that reserve cash (or holdings, for sells) while they work.

``reserve`` checks the account's available balance (balance - held) against the request, allowing the
account's credit line for cash and unlimited shortfall in instruments for ``allow_short`` accounts;
non-client accounts are not limited.  The hold and the balance's ``held`` column move together.
``release`` ends every PENDING hold of an order (cancel, expiry, reject); fills settle holds in
``booking``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal

from brokers.domain.accounts import ZERO, Asset, Hold, InsufficientFunds, positive_amount
from brokers.domain.ledger import BookedOrder, BookingError, OrderState, UnknownOrder

from .repository import BalanceKey
from .unit_of_work import SqlUnitOfWork


def as_asset(asset: Asset | str) -> Asset:
    """A bare string names a currency."""
    return asset if isinstance(asset, Asset) else Asset.currency(asset)


def open_order(
    uow: SqlUnitOfWork,
    order: BookedOrder,
    reservations: Mapping[Asset | str, Decimal | int | str] | None = None,
) -> list[Hold]:
    """Record a new order and reserve its buying power, all or nothing."""
    uow.orders.add(order)
    return [
        reserve(uow, order.account, asset, amount, order.order_id)
        for asset, amount in (reservations or {}).items()
    ]


def reserve(
    uow: SqlUnitOfWork, account: str, asset: Asset | str, amount: Decimal | int | str, order_id: str
) -> Hold:
    """Reserve ``amount`` of ``asset`` in ``account`` for ``order_id`` (a PENDING hold)."""
    target = as_asset(asset)
    value = positive_amount(amount, "reservation")
    order = uow.orders.get(order_id)
    if order is None:
        raise UnknownOrder(f"unknown order {order_id!r}")
    if order.account != account:
        raise BookingError(f"order {order_id!r} belongs to {order.account!r}, not {account!r}")
    if not order.status.is_open:
        raise BookingError(f"order {order_id!r} is {order.status.value}: nothing to reserve for")
    floor = uow.accounts.get(account).floor(target)
    balance = uow.balances.get(account, target, lock=True)
    if floor is not None and balance.available - value < floor:
        raise InsufficientFunds(account, target, value, balance.available - floor)
    hold = uow.holds.add(Hold.reserve(account, target, order_id, value))
    uow.balances.move_held({(account, target): value})
    return hold


def release(uow: SqlUnitOfWork, order_id: str) -> Decimal:
    """Release every PENDING hold of ``order_id``; returns the total released."""
    holds = uow.holds.pending([order_id], lock=True).get(order_id, [])
    deltas: dict[BalanceKey, Decimal] = defaultdict(Decimal)
    for hold in holds:
        deltas[(hold.account, hold.asset)] += hold.release()
    uow.holds.save(holds)
    uow.balances.move_held(deltas)
    return -sum(deltas.values(), ZERO)


def close_order(uow: SqlUnitOfWork, order_id: str, status: OrderState = OrderState.CANCELLED) -> BookedOrder:
    """Cancel, expire or reject an order and release what it still holds."""
    order = uow.orders.get(order_id, lock=True)
    if order is None:
        raise UnknownOrder(f"unknown order {order_id!r}")
    order.close(status)
    uow.orders.save([order])
    release(uow, order_id)
    return order
