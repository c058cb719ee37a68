"""``Registry``: the registry's front door for the gateway and the CLI -- one method, one unit of work.

Callers that must combine steps atomically (e.g. record an order and reserve its buying power) use
``registry.uow()`` with the functions of ``funding``, ``reservations`` and ``booking`` directly.
All methods block on the database: from the reactor, call them in a thread pool.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

from sqlalchemy import Engine

from brokers.domain.accounts import Account, Asset, Balance, Hold
from brokers.domain.ledger import (
    BookedExecution,
    BookedOrder,
    FillToBook,
    LedgerEntry,
    OrderState,
    TradeCancel,
    TradeCorrection,
)

from . import booking, funding
from . import reservations as buying_power
from .booking import BookingResult
from .database import create_registry_engine
from .invariants import Violation, check_invariants
from .repository import Clock
from .unit_of_work import SqlUnitOfWork, UnitOfWorkFactory, utc_now


class Registry:
    """Accounts, cash, holdings, orders, holds and the ledger of one database."""

    def __init__(self, url_or_engine: str | Engine | None = None, *, clock: Clock = utc_now) -> None:
        self._owns_engine = not isinstance(url_or_engine, Engine)
        self.engine = create_registry_engine(url_or_engine)
        self.uow = UnitOfWorkFactory(self.engine, clock)

    def close(self) -> None:
        if self._owns_engine:
            self.engine.dispose()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def upgrade(self) -> str | None:
        """Create or migrate the schema to the newest revision (keeps the data)."""
        from .migrations import upgrade

        return upgrade(self.engine)

    def _work(self) -> SqlUnitOfWork:
        return self.uow()

    # accounts and funding ------------------------------------------------------------------
    def open_account(self, account: Account) -> Account:
        with self._work() as uow:
            return funding.open_account(uow, account)

    def account(self, name: str) -> Account:
        with self._work() as uow:
            return uow.accounts.get(name)

    def accounts(self) -> list[Account]:
        with self._work() as uow:
            return uow.accounts.list()

    def deposit(self, account: str, amount: Decimal | int | str, currency: str = "USD") -> int:
        with self._work() as uow:
            return funding.deposit(uow, account, Asset.currency(currency), amount)

    def deposit_holding(self, account: str, symbol: str, qty: Decimal | int | str) -> int:
        with self._work() as uow:
            return funding.deposit(uow, account, Asset.instrument(symbol), qty)

    def withdraw(self, account: str, amount: Decimal | int | str, currency: str = "USD") -> int:
        with self._work() as uow:
            return funding.withdraw(uow, account, Asset.currency(currency), amount)

    def balances(self, account: str) -> list[Balance]:
        with self._work() as uow:
            uow.accounts.get(account)
            return uow.balances.for_account(account)

    def balance(self, account: str, asset: Asset | str) -> Balance:
        with self._work() as uow:
            uow.accounts.get(account)
            return uow.balances.get(account, buying_power.as_asset(asset))

    def entries(self, account: str) -> list[LedgerEntry]:
        with self._work() as uow:
            return uow.ledger.for_account(account)

    # orders and buying power ---------------------------------------------------------------
    def open_order(
        self, order: BookedOrder, reservations: Mapping[Asset | str, Decimal | int | str] | None = None
    ) -> list[Hold]:
        with self._work() as uow:
            return buying_power.open_order(uow, order, reservations)

    def reserve(self, account: str, asset: Asset | str, amount: Decimal | int | str, order_id: str) -> Hold:
        with self._work() as uow:
            return buying_power.reserve(uow, account, asset, amount, order_id)

    def release(self, order_id: str) -> Decimal:
        with self._work() as uow:
            return buying_power.release(uow, order_id)

    def close_order(self, order_id: str, status: OrderState = OrderState.CANCELLED) -> BookedOrder:
        with self._work() as uow:
            return buying_power.close_order(uow, order_id, status)

    def order(self, order_id: str) -> BookedOrder | None:
        with self._work() as uow:
            return uow.orders.get(order_id)

    def holds(self, order_id: str) -> list[Hold]:
        with self._work() as uow:
            return uow.holds.for_order(order_id)

    # booking -------------------------------------------------------------------------------
    def book_fill(self, fill: FillToBook) -> BookingResult:
        with self._work() as uow:
            return booking.book_fill(uow, fill)

    def book_fills(self, fills: Sequence[FillToBook]) -> list[BookingResult]:
        with self._work() as uow:
            return booking.book_fills(uow, fills)

    def book_trade_cancel(self, cancel: TradeCancel) -> BookingResult:
        with self._work() as uow:
            return booking.book_trade_cancel(uow, cancel)

    def book_trade_correction(self, correction: TradeCorrection) -> BookingResult:
        with self._work() as uow:
            return booking.book_trade_correction(uow, correction)

    def fills(self, account: str | None = None, since: _dt.datetime | None = None) -> list[BookedExecution]:
        with self._work() as uow:
            if account is not None:
                uow.accounts.get(account)
            return uow.executions.fills(account, since)

    # invariants ----------------------------------------------------------------------------
    def check(self) -> list[Violation]:
        with self._work() as uow:
            return check_invariants(uow)
