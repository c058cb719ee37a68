"""Where the registry lives: URL resolution and engines prepared for exact, serialised booking.

SQLite (the default, ``sqlite:///fixgate.db`` in the working directory) gets, on every connection:
the exact-decimal functions of ``types``, foreign keys, WAL journaling, a busy timeout, and
``BEGIN IMMEDIATE`` transactions -- a transaction takes the write lock when it starts, so the
read-check-write of a reservation or a withdrawal cannot interleave with another writer.
PostgreSQL needs nothing special for correctness: row locks (``FOR UPDATE``) and the executions UNIQUE
key do that; psycopg2 engines made here batch ``executemany`` UPDATEs (fewer round trips per batch).
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from .types import SQLITE_ADD, SQLITE_SUM, SqliteAmountSum, sqlite_amount_add

DATABASE_URL_ENV = "FIXGATE_DATABASE_URL"
DEFAULT_DATABASE_URL = "sqlite:///fixgate.db"
SQLITE_BUSY_TIMEOUT_SECONDS = 30


def database_url(explicit: str | None = None) -> str:
    """``explicit``, else ``$FIXGATE_DATABASE_URL``, else the SQLite file ``fixgate.db``."""
    return explicit or os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL


def display_url(url: str) -> str:
    """``url`` safe to print: the password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # unparsable: shown as given
        return url


def is_memory_database(url: str) -> bool:
    """True when ``url`` names an in-memory SQLite database (private to one process: a writer child
    process cannot share it)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return False
    database = parsed.database or ""
    return database in ("", ":memory:") or database.startswith("file::memory:") or "mode=memory" in database \
        or parsed.query.get("mode") == "memory"


def without_password(url: str) -> tuple[str, str | None]:
    """``url`` without its password (what may be shown on a command line) and the password."""
    parsed = make_url(url)
    if parsed.password is None:
        return url, None
    return parsed._replace(password=None).render_as_string(hide_password=False), str(parsed.password)


def prepare_sqlite_connection(dbapi_connection: Any, connection_record: Any = None) -> None:
    """Register the amount functions and pragmas; hand transaction control to SQLAlchemy's events."""
    if not isinstance(dbapi_connection, sqlite3.Connection):  # pragma: no cover - other sqlite drivers
        return
    dbapi_connection.isolation_level = None  # we emit BEGIN IMMEDIATE ourselves
    dbapi_connection.create_function(SQLITE_ADD, 2, sqlite_amount_add, deterministic=True)
    dbapi_connection.create_aggregate(SQLITE_SUM, 1, SqliteAmountSum)  # type: ignore[arg-type]
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()


def _begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def prepare_engine(engine: Engine) -> Engine:
    """Make an engine fit for the registry (idempotent; only SQLite needs anything)."""
    if engine.dialect.name != "sqlite" or event.contains(engine, "begin", _begin_immediate):
        return engine
    event.listen(engine, "connect", prepare_sqlite_connection)
    event.listen(engine, "begin", _begin_immediate)
    engine.dispose()  # pooled connections made before the listener lack the functions
    return engine


def create_registry_engine(url_or_engine: str | Engine | None = None) -> Engine:
    """An engine for ``url_or_engine`` (default: ``database_url()``), prepared by ``prepare_engine``."""
    if isinstance(url_or_engine, Engine):
        return prepare_engine(url_or_engine)
    url = make_url(database_url(url_or_engine))
    kwargs: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
        if url.database in (None, "", ":memory:"):
            kwargs["poolclass"] = StaticPool  # one in-memory database shared by every unit of work
    elif url.get_driver_name() == "psycopg2":
        kwargs["executemany_mode"] = "values_plus_batch"  # batched UPDATEs of orders and holds
    return prepare_engine(create_engine(url, **kwargs))
