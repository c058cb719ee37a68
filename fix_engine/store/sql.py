"""SqlStore: a MessageStore in an SQL database through SQLAlchemy (QuickFIX's MySQL/PostgreSQL store).

The only module of ``fix_engine.store`` that imports SQLAlchemy.  Tables have QuickFIX's shape:

``sessions``  beginstring, sendercompid, sendersubid, senderlocid, targetcompid, targetsubid,
              targetlocid, session_qualifier (primary key), creation_time, incoming_seqnum,
              outgoing_seqnum
``messages``  the same identity columns + msgseqnum (primary key), message

Table names (and an optional schema) are configurable, like QuickFIX/J's JdbcSessionTableName /
JdbcMessageTableName, so that several deployments or tests share one database.  Empty sub/location
IDs and qualifiers are stored as ``''`` (never NULL) so that they can be part of the primary key.
The message column is binary: raw FIX may carry any byte, including NUL (which PostgreSQL TEXT
cannot hold).  Creation times are naive UTC ``DateTime`` columns (microsecond precision).

Calls block on the database; the transport runs them in a thread pool (one store is used by one
thread at a time).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    and_,
    create_engine,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

from ..session.session_id import SessionID
from .base import MessageStore, MessageStoreError, MessageStoreFactory

_EPOCH = _dt.datetime(1970, 1, 1)
_MICROSECOND = _dt.timedelta(microseconds=1)

IDENTITY_COLUMNS = (
    "beginstring",
    "sendercompid",
    "sendersubid",
    "senderlocid",
    "targetcompid",
    "targetsubid",
    "targetlocid",
    "session_qualifier",
)


def epoch_to_datetime(epoch_seconds: float) -> _dt.datetime:
    """Seconds since the epoch -> naive UTC datetime, rounded to the microsecond."""
    return _EPOCH + _dt.timedelta(microseconds=round(epoch_seconds * 1_000_000))


def datetime_to_epoch(value: _dt.datetime) -> float:
    """Naive UTC (or aware) datetime -> seconds since the epoch."""
    if value.tzinfo is not None:
        value = value.astimezone(_dt.UTC).replace(tzinfo=None)
    return (value - _EPOCH) / _MICROSECOND / 1_000_000


def session_identity(session_id: SessionID) -> dict[str, str]:
    """The identity columns' values of a session (QuickFIX's column names)."""
    return {
        "beginstring": session_id.begin_string,
        "sendercompid": session_id.sender_comp_id,
        "sendersubid": session_id.sender_sub_id,
        "senderlocid": session_id.sender_location_id,
        "targetcompid": session_id.target_comp_id,
        "targetsubid": session_id.target_sub_id,
        "targetlocid": session_id.target_location_id,
        "session_qualifier": session_id.session_qualifier,
    }


def identity_columns(primary_key: bool = True) -> list[Column[str]]:
    """Fresh identity columns for a QuickFIX-shaped table (primary-key members by default)."""
    lengths = {"beginstring": 16}
    return [
        Column(
            name, String(lengths.get(name, 64)), primary_key=primary_key, nullable=False, server_default=""
        )
        for name in IDENTITY_COLUMNS
    ]


class SqlStoreTables:
    """The ``sessions`` and ``messages`` tables of one store deployment (names configurable)."""

    def __init__(
        self,
        sessions_table: str = "sessions",
        messages_table: str = "messages",
        schema: str | None = None,
    ) -> None:
        self.metadata = MetaData(schema=schema)
        self.sessions = Table(
            sessions_table,
            self.metadata,
            *identity_columns(),
            Column("creation_time", DateTime, nullable=False),
            Column("incoming_seqnum", Integer, nullable=False),
            Column("outgoing_seqnum", Integer, nullable=False),
        )
        self.messages = Table(
            messages_table,
            self.metadata,
            *identity_columns(),
            Column("msgseqnum", Integer, primary_key=True, nullable=False, autoincrement=False),
            Column("message", LargeBinary, nullable=False),
        )

    def create_all(self, engine: Engine) -> None:
        self.metadata.create_all(engine, checkfirst=True)


def _where(table: Table, identity: dict[str, str]) -> Any:
    return and_(*(table.c[name] == value for name, value in identity.items()))


class SqlStore(MessageStore):
    """Sequence numbers and sent messages of one session in SQL tables.

    Sequence numbers are cached in memory and written through on every change; ``refresh``
    re-reads them (QuickFIX RefreshOnLogon).  ``save_and_incr`` and ``reset`` are one transaction.
    Inside a deferred-write window (``defer_writes``) changes are kept in memory and
    ``write_deferred`` writes them in one transaction.
    """

    def __init__(self, engine: Engine, tables: SqlStoreTables, session_id: SessionID, now: float) -> None:
        self._engine = engine
        self._tables = tables
        self._identity = session_identity(session_id)
        self._next_sender = 1
        self._next_target = 1
        self._creation_time = now
        #: messages saved inside an open deferred-write window (None: write through)
        self._deferred: dict[int, bytes] | None = None
        #: session-row columns changed inside the window
        self._deferred_session: dict[str, int] = {}
        self._load(now)

    def _load(self, now: float) -> None:
        sessions = self._tables.sessions
        try:
            with self._engine.begin() as conn:
                row = conn.execute(
                    select(
                        sessions.c.creation_time, sessions.c.incoming_seqnum, sessions.c.outgoing_seqnum
                    ).where(_where(sessions, self._identity))
                ).first()
                if row is None:
                    conn.execute(
                        insert(sessions).values(
                            **self._identity,
                            creation_time=epoch_to_datetime(now),
                            incoming_seqnum=1,
                            outgoing_seqnum=1,
                        )
                    )
                    self._creation_time, self._next_target, self._next_sender = now, 1, 1
                else:
                    self._creation_time = datetime_to_epoch(row.creation_time)
                    self._next_target, self._next_sender = row.incoming_seqnum, row.outgoing_seqnum
        except SQLAlchemyError as exc:
            raise MessageStoreError(f"cannot load session {self._identity}: {exc}") from exc

    def _update_session(self, conn: Connection, **values: Any) -> None:
        sessions = self._tables.sessions
        conn.execute(update(sessions).where(_where(sessions, self._identity)).values(**values))

    def _upsert_message(self, conn: Connection, seq_num: int, raw: bytes) -> None:
        messages = self._tables.messages
        where = and_(_where(messages, self._identity), messages.c.msgseqnum == seq_num)
        result = conn.execute(update(messages).where(where).values(message=raw))
        if result.rowcount == 0:
            conn.execute(insert(messages).values(**self._identity, msgseqnum=seq_num, message=raw))

    def _transaction(self, what: str, work: Callable[[Connection], None]) -> None:
        try:
            with self._engine.begin() as conn:
                work(conn)
        except SQLAlchemyError as exc:
            raise MessageStoreError(f"cannot {what} for session {self._identity}: {exc}") from exc

    def next_sender_seq_num(self) -> int:
        return self._next_sender

    def next_target_seq_num(self) -> int:
        return self._next_target

    def set_next_sender_seq_num(self, value: int) -> None:
        if self._deferred is not None:
            self._deferred_session["outgoing_seqnum"] = self._next_sender = value
            return
        self._transaction(
            "set the next sender seq num", lambda c: self._update_session(c, outgoing_seqnum=value)
        )
        self._next_sender = value

    def set_next_target_seq_num(self, value: int) -> None:
        if self._deferred is not None:
            self._deferred_session["incoming_seqnum"] = self._next_target = value
            return
        self._transaction(
            "set the next target seq num", lambda c: self._update_session(c, incoming_seqnum=value)
        )
        self._next_target = value

    def save(self, seq_num: int, raw: bytes) -> None:
        if self._deferred is not None:
            self._deferred[seq_num] = bytes(raw)
            return
        self._transaction("save a message", lambda c: self._upsert_message(c, seq_num, bytes(raw)))

    def save_and_incr(self, seq_num: int, raw: bytes) -> None:
        if self._deferred is not None:
            self._deferred[seq_num] = bytes(raw)
            self._deferred_session["outgoing_seqnum"] = self._next_sender = seq_num + 1
            return

        def work(conn: Connection) -> None:
            self._upsert_message(conn, seq_num, bytes(raw))
            self._update_session(conn, outgoing_seqnum=seq_num + 1)

        self._transaction("save a message", work)
        self._next_sender = seq_num + 1

    # ------------------------------------------------------------------ deferred writes

    def defer_writes(self) -> None:
        if self._deferred is None:
            self._deferred = {}

    def write_deferred(self) -> None:
        if self._deferred is None:
            return
        try:
            self._drain_deferred()
        finally:
            self._deferred = None

    def _drain_deferred(self) -> None:
        """Write the open window's messages and sequence numbers in one transaction; the window
        stays open."""
        messages = self._deferred
        if not messages and not self._deferred_session:
            return
        session_values = self._deferred_session
        self._deferred, self._deferred_session = {}, {}

        def work(conn: Connection) -> None:
            for seq_num, raw in (messages or {}).items():
                self._upsert_message(conn, seq_num, raw)
            if session_values:
                self._update_session(conn, **session_values)

        self._transaction("save deferred messages", work)

    def get_range(self, begin: int, end: int) -> list[tuple[int, bytes]]:
        if end < begin:
            return []
        self._drain_deferred()
        messages = self._tables.messages
        query = (
            select(messages.c.msgseqnum, messages.c.message)
            .where(_where(messages, self._identity), messages.c.msgseqnum.between(begin, end))
            .order_by(messages.c.msgseqnum)
        )
        try:
            with self._engine.connect() as conn:
                return [(row.msgseqnum, bytes(row.message)) for row in conn.execute(query)]
        except SQLAlchemyError as exc:
            raise MessageStoreError(f"cannot read messages for session {self._identity}: {exc}") from exc

    def creation_time(self) -> float:
        return self._creation_time

    def reset(self, now: float) -> None:
        messages = self._tables.messages
        if self._deferred is not None:  # the reset forgets them anyway
            self._deferred, self._deferred_session = {}, {}

        def work(conn: Connection) -> None:
            conn.execute(delete(messages).where(_where(messages, self._identity)))
            self._update_session(
                conn, creation_time=epoch_to_datetime(now), incoming_seqnum=1, outgoing_seqnum=1
            )

        self._transaction("reset", work)
        self._next_sender = self._next_target = 1
        self._creation_time = now

    def refresh(self) -> None:
        self._drain_deferred()
        self._load(self._creation_time)

    def flush(self) -> None:
        self._drain_deferred()

    def close(self) -> None:
        self.write_deferred()


def owned_engine(url_or_engine: str | Engine) -> tuple[Engine, bool]:
    """(engine, owned): a URL gets a new Engine the caller owns (and disposes); an Engine is lent."""
    if isinstance(url_or_engine, str):
        return create_sql_engine(url_or_engine), True
    return url_or_engine, False


def create_sql_engine(url: str) -> Engine:
    """An Engine for a store URL; in-memory SQLite gets one shared connection for all threads."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        return create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    return create_engine(url)


class SqlStoreFactory(MessageStoreFactory):
    """Creates an SqlStore per session over one Engine; creates the tables if absent.

    Given a URL the factory owns the Engine and disposes it on ``close``; a given Engine is
    left to its owner.
    """

    def __init__(
        self,
        url_or_engine: str | Engine,
        *,
        sessions_table: str = "sessions",
        messages_table: str = "messages",
        schema: str | None = None,
        create_tables: bool = True,
    ) -> None:
        self.engine, self._owns_engine = owned_engine(url_or_engine)
        self.tables = SqlStoreTables(sessions_table, messages_table, schema)
        if create_tables:
            try:
                self.tables.create_all(self.engine)
            except SQLAlchemyError as exc:
                raise MessageStoreError(f"cannot create store tables: {exc}") from exc

    def create(self, session_id: SessionID, now: float) -> MessageStore:
        return SqlStore(self.engine, self.tables, session_id, now)

    def close(self) -> None:
        if self._owns_engine:
            self.engine.dispose()
