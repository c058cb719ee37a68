"""The broker registry: accounts, cash, holdings, orders, holds and a double-entry ledger in SQL.

Fills are booked exactly once per (venue, ExecID).  The only SQLAlchemy / Alembic imports in
``brokers``; the domain types it stores live in ``brokers.domain.accounts`` and ``.ledger``.

Quick start::

    registry = Registry("sqlite:///fixgate.db")   # or a PostgreSQL URL
    registry.upgrade()                            # alembic upgrade head
    registry.open_account(Account("ACME"))
    registry.deposit("ACME", "1000000", "USD")
    registry.book_fill(FillToBook(...))           # Booked(...) or AlreadyBooked(...)
"""

from __future__ import annotations

from .booking import AlreadyBooked, Booked, BookingResult
from .database import DATABASE_URL_ENV, DEFAULT_DATABASE_URL, create_registry_engine, database_url
from .invariants import Violation, check_invariants
from .service import Registry
from .unit_of_work import SqlUnitOfWork, UnitOfWorkFactory

__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_DATABASE_URL",
    "AlreadyBooked",
    "Booked",
    "BookingResult",
    "Registry",
    "SqlUnitOfWork",
    "UnitOfWorkFactory",
    "Violation",
    "check_invariants",
    "create_registry_engine",
    "database_url",
]
