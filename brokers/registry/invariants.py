"""What must always hold in the registry, checked by ``check_invariants`` and ``fixgate registry check``.

``ledger-balanced``         per asset, the legs of all accounts (world, venues, house included) sum to zero
``balances-match-ledger``   every balance row equals the sum of its account's legs in that asset
``held-matches-holds``      every balance's ``held`` equals the sum of its PENDING holds' remaining
``holds-on-open-orders``    PENDING holds belong to open orders, and no hold reserves more than it was given
``available-not-negative``  no client account's available balance is below its floor (credit line for
                            cash; zero for instruments unless the account may go short)
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from brokers.domain.accounts import ZERO, Balance, Hold, format_amount

from .repository import BalanceKey
from .unit_of_work import SqlUnitOfWork


@dataclass(frozen=True)
class Violation:
    """One broken invariant: the rule's name and what was found."""

    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.detail}"


def check_invariants(uow: SqlUnitOfWork) -> list[Violation]:
    """Every violation found (an empty list means the registry is sound)."""
    balances = uow.balances.all()
    pending = uow.holds.all_pending()
    return [
        *_ledger_balanced(uow),
        *_balances_match_ledger(uow, balances),
        *_held_matches_holds(balances, pending),
        *_holds_on_open_orders(uow, pending),
        *_available_not_negative(uow, balances),
    ]


def _ledger_balanced(uow: SqlUnitOfWork) -> list[Violation]:
    return [
        Violation("ledger-balanced", f"{asset.code} legs sum to {format_amount(total)}")
        for asset, total in sorted(uow.ledger.totals_per_asset().items())
        if total != 0
    ]


def _compare(
    rule: str, what: str, actual: dict[BalanceKey, Decimal], expected: dict[BalanceKey, Decimal]
) -> list[Violation]:
    found = []
    for key in sorted(actual.keys() | expected.keys()):
        have, want = actual.get(key, ZERO), expected.get(key, ZERO)
        if have != want:
            account, asset = key
            found.append(
                Violation(
                    rule,
                    f"{account} {asset.code}: {what} {format_amount(have)}, expected {format_amount(want)}",
                )
            )
    return found


def _balances_match_ledger(uow: SqlUnitOfWork, balances: list[Balance]) -> list[Violation]:
    actual = {(b.account, b.asset): b.amount for b in balances}
    return _compare("balances-match-ledger", "balance", actual, uow.ledger.totals_per_account_asset())


def _held_matches_holds(balances: list[Balance], pending: list[Hold]) -> list[Violation]:
    reserved: dict[BalanceKey, Decimal] = defaultdict(Decimal)
    for hold in pending:
        reserved[(hold.account, hold.asset)] += hold.remaining
    actual = {(b.account, b.asset): b.held for b in balances}
    return _compare("held-matches-holds", "held", actual, reserved)


def _holds_on_open_orders(uow: SqlUnitOfWork, pending: list[Hold]) -> list[Violation]:
    found = []
    orders = uow.orders.get_many({hold.order_id for hold in pending})
    for hold in pending:
        order = orders.get(hold.order_id)
        if order is None or not order.status.is_open:
            status = order.status.value if order else "missing"
            found.append(
                Violation(
                    "holds-on-open-orders",
                    f"hold {hold.hold_id} is PENDING on order {hold.order_id} ({status})",
                )
            )
        if hold.remaining < 0 or hold.posted < 0 or hold.remaining + hold.posted > hold.amount:
            found.append(
                Violation("holds-on-open-orders", f"hold {hold.hold_id} reserves more than its amount")
            )
    return found


def _available_not_negative(uow: SqlUnitOfWork, balances: list[Balance]) -> list[Violation]:
    found = []
    accounts = {account.name: account for account in uow.accounts.list()}
    for balance in balances:
        floor = accounts[balance.account].floor(balance.asset)
        if floor is not None and balance.available < floor:
            found.append(
                Violation(
                    "available-not-negative",
                    f"{balance.account} {balance.asset.code}: available {format_amount(balance.available)} "
                    f"below {format_amount(floor)}",
                )
            )
    return found
