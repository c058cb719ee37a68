"""Accounts and the money that enters or leaves them: open an account, deposit, withdraw.

Deposits and withdrawals are ledger entries against the external ``@world`` account, so that every
asset still sums to zero over all accounts.  A withdrawal may only take the available balance
(balance - held); credit lines do not extend to withdrawals.
"""

from __future__ import annotations

from decimal import Decimal

from brokers.domain.accounts import (
    WORLD_ACCOUNT,
    Account,
    AccountKind,
    Asset,
    InsufficientFunds,
    positive_amount,
)
from brokers.domain.ledger import deposit_entry, withdrawal_entry

from .unit_of_work import SqlUnitOfWork


def open_account(uow: SqlUnitOfWork, account: Account) -> Account:
    """Create an account (DuplicateAccount if the name is taken)."""
    return uow.accounts.add(account)


def _world(uow: SqlUnitOfWork) -> None:
    uow.accounts.ensure([Account(WORLD_ACCOUNT, AccountKind.EXTERNAL)])


def deposit(uow: SqlUnitOfWork, account: str, asset: Asset, amount: Decimal | int | str) -> int:
    """Move ``amount`` of ``asset`` (cash or holdings) from the world into ``account``; returns the entry id."""
    value = positive_amount(amount)
    uow.accounts.get(account)
    _world(uow)
    return uow.ledger.post([(deposit_entry(account, asset, value, uow.clock()), None)])[0]


def withdraw(uow: SqlUnitOfWork, account: str, asset: Asset, amount: Decimal | int | str) -> int:
    """Move ``amount`` out of ``account`` to the world, if available; returns the entry id."""
    value = positive_amount(amount)
    uow.accounts.get(account)
    balance = uow.balances.get(account, asset, lock=True)
    if balance.available < value:
        raise InsufficientFunds(account, asset, value, balance.available)
    _world(uow)
    return uow.ledger.post([(withdrawal_entry(account, asset, value, uow.clock()), None)])[0]
