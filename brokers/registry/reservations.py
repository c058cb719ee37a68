"""Buying power: orders and the holds that reserve cash (or holdings, for sells) while they work.

``reserve`` checks the account's available balance (balance - held) against the request, allowing the
account's credit line for cash and unlimited shortfall in instruments for ``allow_short`` accounts;
non-client accounts are not limited.  The hold and the balance's ``held`` column move together.
``release`` ends every PENDING hold of an order (cancel, expiry, reject); fills settle holds in
``booking``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
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


def open_orders(
    uow: SqlUnitOfWork,
    items: Sequence[tuple[BookedOrder, Mapping[Asset | str, Decimal | int | str] | None]],
) -> list[Hold]:
    """``open_order`` for many orders in one pass, with the same checks and the same outcome as calling
    it for each in turn: a fixed number of statements for the whole list; all or nothing (the first
    refusal raises, as the sequential calls would).  The returned holds have no ``hold_id``.
    """
    if not items:
        return []
    uow.orders.add_many([order for order, _ in items])
    wanted: list[tuple[BookedOrder, Asset, Decimal]] = []
    for order, reservations in items:
        if not order.status.is_open:
            raise BookingError(f"order {order.order_id!r} is {order.status.value}: nothing to reserve for")
        for asset, amount in (reservations or {}).items():
            wanted.append((order, as_asset(asset), positive_amount(amount, "reservation")))
    if not wanted:
        return []
    balances = uow.balances.get_many({(order.account, asset) for order, asset, _ in wanted}, lock=True)
    accounts = uow.accounts.get_many({order.account for order, _, _ in wanted})
    taken: dict[BalanceKey, Decimal] = defaultdict(Decimal)
    holds: list[Hold] = []
    for order, asset, value in wanted:
        key = (order.account, asset)
        floor = accounts[order.account].floor(asset)
        available = balances[key].available - taken[key]
        if floor is not None and available - value < floor:
            raise InsufficientFunds(order.account, asset, value, available - floor)
        taken[key] += value
        holds.append(Hold.reserve(order.account, asset, order.order_id, value))
    uow.holds.add_many(holds)
    uow.balances.move_held(taken)
    return holds


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


def close_orders(
    uow: SqlUnitOfWork, items: Sequence[tuple[str, OrderState]], *, skip_unknown: bool = False
) -> list[BookedOrder | None]:
    """``close_order`` for many orders in one pass (same outcome as calling it for each in turn, a fixed
    number of statements); unknown orders raise ``UnknownOrder`` unless ``skip_unknown`` (then ``None``).
    """
    if not items:
        return []
    orders = uow.orders.get_many({order_id for order_id, _ in items}, lock=True)
    out: list[BookedOrder | None] = []
    closed: dict[str, BookedOrder] = {}
    for order_id, status in items:
        order = orders.get(order_id)
        if order is None:
            if not skip_unknown:
                raise UnknownOrder(f"unknown order {order_id!r}")
            out.append(None)
            continue
        order.close(status)
        closed[order_id] = order
        out.append(order)
    if not closed:
        return out
    uow.orders.save(closed.values())
    holds = uow.holds.pending(closed, lock=True)
    deltas: dict[BalanceKey, Decimal] = defaultdict(Decimal)
    released = []
    for order_holds in holds.values():
        for hold in order_holds:
            deltas[(hold.account, hold.asset)] += hold.release()
            released.append(hold)
    uow.holds.save(released)
    uow.balances.move_held(deltas)
    return out
