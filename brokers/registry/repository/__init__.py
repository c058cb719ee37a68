"""Repositories: domain objects in, domain objects out, SQL (Core) inside.

Each repository works on the one connection (and transaction) of its unit of work.  Writes are
batched (``executemany`` / multi-row ``INSERT ... RETURNING``) so that a batch of fills costs a
handful of statements, not a handful per fill.  Rows another transaction may change while we decide
(orders, holds, executions, balances) are read ``FOR UPDATE`` on PostgreSQL; on SQLite the whole
transaction holds the write lock (``BEGIN IMMEDIATE``).

Lock order, everywhere: executions -> orders -> holds -> balances (sorted by key), so that concurrent
bookings cannot deadlock.
"""

from __future__ import annotations

from .accounts import AccountRepository, BalanceRepository
from .executions import ExecutionRepository
from .ids import BalanceKey, Clock, IdCache, IdResolver
from .ledger import LedgerRepository
from .orders import HoldRepository, OrderRepository

__all__ = [
    "AccountRepository",
    "BalanceKey",
    "BalanceRepository",
    "Clock",
    "ExecutionRepository",
    "HoldRepository",
    "IdCache",
    "IdResolver",
    "LedgerRepository",
    "OrderRepository",
]
