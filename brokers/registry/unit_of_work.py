"""The unit of work: one database transaction and the repositories that work inside it (cosmicpython).

``with uow:`` opens a connection and a transaction; leaving the block normally commits, leaving it
with an exception rolls back.  ``commit()`` may also be called explicitly (then the block ends the
transaction it finds already committed and does nothing more).  Ids created inside the transaction
become visible to other units of work only after the commit.
"""

from __future__ import annotations

import datetime as _dt
from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.engine import Connection, RootTransaction

from .repository import (
    AccountRepository,
    BalanceRepository,
    Clock,
    ExecutionRepository,
    HoldRepository,
    IdCache,
    IdResolver,
    LedgerRepository,
    OrderRepository,
)


def utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


class SqlUnitOfWork:
    """One transaction on the registry database, with its repositories as attributes."""

    accounts: AccountRepository
    balances: BalanceRepository
    ledger: LedgerRepository
    executions: ExecutionRepository
    orders: OrderRepository
    holds: HoldRepository
    ids: IdResolver

    def __init__(self, engine: Engine, cache: IdCache | None = None, clock: Clock = utc_now) -> None:
        self._engine = engine
        self._cache = cache if cache is not None else IdCache()
        self.clock = clock
        self._connection: Connection | None = None
        self._transaction: RootTransaction | None = None

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("the unit of work is not open (use it in a with block)")
        return self._connection

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def __enter__(self) -> SqlUnitOfWork:
        if self._connection is not None:
            raise RuntimeError("a unit of work is not re-entrant")
        self._connection = self._engine.connect()
        self._transaction = self._connection.begin()
        conn, clock = self._connection, self.clock
        self.ids = IdResolver(conn, self._cache, clock)
        self.accounts = AccountRepository(conn, self.ids, clock)
        self.balances = BalanceRepository(conn, self.ids)
        self.ledger = LedgerRepository(conn, self.ids, self.balances)
        self.executions = ExecutionRepository(conn)
        self.orders = OrderRepository(conn, self.ids, clock)
        self.holds = HoldRepository(conn, self.ids, clock)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                self.commit()
            else:
                self.rollback()
        finally:
            if self._connection is not None:
                self._connection.close()
            self._connection = None
            self._transaction = None

    def commit(self) -> None:
        if self._transaction is not None and self._transaction.is_active:
            self._transaction.commit()
            self.ids.publish()

    def rollback(self) -> None:
        if self._transaction is not None and self._transaction.is_active:
            self._transaction.rollback()


class UnitOfWorkFactory:
    """Makes units of work on one engine, sharing the committed-id cache."""

    def __init__(self, engine: Engine, clock: Clock = utc_now) -> None:
        self.engine = engine
        self.clock = clock
        self._cache = IdCache()

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self._cache, self.clock)
