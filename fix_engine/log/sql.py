"""SqlLog: message and event logs in SQL tables (QuickFIX's messages_log / event_log).

The only module of ``fix_engine.log`` that imports SQLAlchemy.  Tables (names and schema
configurable, like QuickFIX/J's JdbcLogIncomingTable / JdbcLogEventTable):

``messages_log``  id, time, the session identity columns, direction (``I``/``O``), text
``event_log``     id, time, the session identity columns, text

``time`` is a naive UTC DateTime (microseconds).  Message text is binary: raw FIX may contain any
byte, including NUL, which PostgreSQL TEXT cannot hold.  Rows of the engine-wide log
(``create(None)``) have ``GLOBAL`` as BeginString and empty CompIDs.  Every call is one INSERT
in its own transaction; the transport runs log calls for SQL off the reactor thread.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    insert,
)
from sqlalchemy.exc import SQLAlchemyError

from ..session.session_id import SessionID
from ..store.sql import epoch_to_datetime, identity_columns, owned_engine, session_identity
from .base import GLOBAL_LOG_NAME, Log, LogError, LogFactory

_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements only INTEGER PRIMARY KEY


class SqlLogTables:
    """The message and event log tables of one deployment (names configurable)."""

    def __init__(
        self, messages_table: str = "messages_log", events_table: str = "event_log", schema: str | None = None
    ) -> None:
        self.metadata = MetaData(schema=schema)
        self.messages = Table(
            messages_table,
            self.metadata,
            Column("id", _ID, primary_key=True, autoincrement=True),
            Column("time", DateTime, nullable=False),
            *identity_columns(primary_key=False),
            Column("direction", String(1), nullable=False),
            Column("text", LargeBinary, nullable=False),
        )
        self.events = Table(
            events_table,
            self.metadata,
            Column("id", _ID, primary_key=True, autoincrement=True),
            Column("time", DateTime, nullable=False),
            *identity_columns(primary_key=False),
            Column("text", Text, nullable=False),
        )

    def create_all(self, engine: Engine) -> None:
        self.metadata.create_all(engine, checkfirst=True)


class SqlLog(Log):
    """Inserts one session's messages and events as rows."""

    def __init__(self, engine: Engine, tables: SqlLogTables, session_id: SessionID | None) -> None:
        self._engine = engine
        self._tables = tables
        if session_id is None:
            session_id = SessionID(GLOBAL_LOG_NAME, "", "")
        self._identity = session_identity(session_id)
        #: rows of an open write window, by table (None: insert at once)
        self._deferred: dict[Table, list[dict[str, Any]]] | None = None

    def _insert(self, table: Table, now: float, **values: Any) -> None:
        if self._deferred is not None:
            self._deferred.setdefault(table, []).append(
                {"time": epoch_to_datetime(now), **self._identity, **values}
            )
            return
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(table).values(time=epoch_to_datetime(now), **self._identity, **values))
        except SQLAlchemyError as exc:
            raise LogError(f"cannot write {table.name}: {exc}") from exc

    def on_incoming(self, raw: bytes, now: float) -> None:
        self._insert(self._tables.messages, now, direction="I", text=bytes(raw))

    def on_outgoing(self, raw: bytes, now: float) -> None:
        self._insert(self._tables.messages, now, direction="O", text=bytes(raw))

    def on_event(self, text: str, now: float) -> None:
        self._insert(self._tables.events, now, text=text)

    def defer_writes(self) -> None:
        if self._deferred is None:
            self._deferred = {}

    def write_deferred(self) -> None:
        """Insert the window's rows in one transaction (one executemany per table)."""
        rows, self._deferred = self._deferred, None
        if not rows:
            return
        try:
            with self._engine.begin() as conn:
                for table, values in rows.items():
                    conn.execute(insert(table), values)
        except SQLAlchemyError as exc:
            raise LogError(f"cannot write log rows: {exc}") from exc

    def clear(self) -> None:
        """Delete this session's rows from both tables."""
        try:
            with self._engine.begin() as conn:
                for table in (self._tables.messages, self._tables.events):
                    conn.execute(
                        delete(table).where(and_(*(table.c[k] == v for k, v in self._identity.items())))
                    )
        except SQLAlchemyError as exc:
            raise LogError(f"cannot clear the log: {exc}") from exc


class SqlLogFactory(LogFactory):
    """Creates SqlLogs over one Engine; creates the tables if absent.

    Given a URL the factory owns the Engine and disposes it on ``close``.
    """

    def __init__(
        self,
        url_or_engine: str | Engine,
        *,
        messages_table: str = "messages_log",
        events_table: str = "event_log",
        schema: str | None = None,
        create_tables: bool = True,
    ) -> None:
        self.engine, self._owns_engine = owned_engine(url_or_engine)
        self.tables = SqlLogTables(messages_table, events_table, schema)
        if create_tables:
            try:
                self.tables.create_all(self.engine)
            except SQLAlchemyError as exc:
                raise LogError(f"cannot create log tables: {exc}") from exc

    def create(self, session_id: SessionID | None) -> Log:
        return SqlLog(self.engine, self.tables, session_id)

    def close(self) -> None:
        if self._owns_engine:
            self.engine.dispose()
