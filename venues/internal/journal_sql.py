"""SqlJournal: the venue journal in an SQL database (SQLite by default, PostgreSQL in production).

The only module of the internal venue that imports SQLAlchemy.  Two tables, created if missing:

``<journal_table>``   seq BIGINT primary key, ts BIGINT, data BYTEA/BLOB (the encoded command)
``<snapshot_table>``  seq BIGINT primary key, state_hash VARCHAR(64), state BYTEA/BLOB

One writer per journal (the venue); appends are single-row transactions, or one multi-row
transaction per :meth:`SqlJournal.flush` under group commit.  Torn tails cannot happen: a record is
either committed or absent.  Calls block on the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    func,
    insert,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from .journal import Journal, JournalError, JournalRecord, Snapshot, encode_record

DEFAULT_URL = "sqlite:///internal_venue.sqlite"
"""Default database: an SQLite file in the working directory."""

_READ_BATCH = 2000


class SqlJournal(Journal):
    """A :class:`Journal` in two SQL tables (names and schema configurable, for sharing a database)."""

    def __init__(
        self,
        url_or_engine: str | Engine = DEFAULT_URL,
        *,
        journal_table: str = "venue_journal",
        snapshot_table: str = "venue_snapshot",
        schema: str | None = None,
    ) -> None:
        if isinstance(url_or_engine, Engine):
            self._engine = url_or_engine
            self._owns_engine = False
        else:
            url = make_url(url_or_engine)
            kw: dict[str, Any] = {}
            if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
                kw = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
            self._engine = create_engine(url, **kw)
            self._owns_engine = True
        meta = MetaData(schema=schema)
        self._journal = Table(
            journal_table,
            meta,
            Column("seq", BigInteger, primary_key=True, autoincrement=False),
            Column("ts", BigInteger, nullable=False),
            Column("data", LargeBinary, nullable=False),
        )
        self._snapshots = Table(
            snapshot_table,
            meta,
            Column("seq", BigInteger, primary_key=True, autoincrement=False),
            Column("state_hash", String(64), nullable=False),
            Column("state", LargeBinary, nullable=False),
        )
        meta.create_all(self._engine)
        with self._engine.connect() as conn:
            self._last = int(
                conn.execute(select(func.coalesce(func.max(self._journal.c.seq), 0))).scalar_one()
            )
        self._durable_last = self._last
        self._buffer: list[dict[str, Any]] = []
        self._closed = False

    @property
    def last_sequence(self) -> int:
        return self._last

    def append(self, seq: int, record: bytes | dict[str, Any], ts: int, *, flush: bool = True) -> None:
        if self._closed:
            raise JournalError("journal is closed")
        self._check_next(seq)
        self._buffer.append({"seq": seq, "ts": ts, "data": encode_record(record)})
        self._last = seq
        if flush:
            self.flush()

    def flush(self) -> None:
        if not self._buffer:
            return
        rows = self._buffer
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(self._journal), rows)
        except Exception:
            self._buffer = []
            self._last = self._durable_last  # nothing of the failed batch is in the journal
            raise
        self._buffer = []
        self._durable_last = rows[-1]["seq"]

    def read_from(self, seq: int = 1) -> Iterator[JournalRecord]:
        pending = list(self._buffer)
        nxt = seq
        t = self._journal
        while nxt <= self._durable_last:
            with self._engine.connect() as conn:
                rows = conn.execute(
                    select(t.c.seq, t.c.ts, t.c.data)
                    .where(t.c.seq >= nxt)
                    .order_by(t.c.seq)
                    .limit(_READ_BATCH)
                ).all()
            if not rows:
                break
            for r in rows:
                yield JournalRecord(int(r.seq), int(r.ts), bytes(r.data))
            nxt = int(rows[-1].seq) + 1
        for row in pending:
            if row["seq"] >= nxt:
                yield JournalRecord(row["seq"], row["ts"], row["data"])

    def save_snapshot(self, seq: int, state: bytes, state_hash: str) -> None:
        if seq > self._last:
            raise JournalError(f"snapshot at {seq} beyond the last sequence {self._last}")
        self.flush()
        s = self._snapshots
        with self._engine.begin() as conn:
            conn.execute(s.delete().where(s.c.seq == seq))
            conn.execute(insert(s).values(seq=seq, state_hash=state_hash, state=state))
            # keep the two most recent
            seqs = conn.execute(select(s.c.seq).order_by(s.c.seq.desc())).scalars().all()
            if len(seqs) > 2:
                conn.execute(s.delete().where(s.c.seq.in_(seqs[2:])))

    def latest_snapshot(self) -> Snapshot | None:
        s = self._snapshots
        with self._engine.connect() as conn:
            row = conn.execute(
                select(s.c.seq, s.c.state, s.c.state_hash)
                .where(s.c.seq <= self._last)
                .order_by(s.c.seq.desc())
                .limit(1)
            ).first()
        if row is None:
            return None
        return Snapshot(int(row.seq), bytes(row.state), str(row.state_hash))

    def close(self) -> None:
        if self._closed:
            return
        self.flush()
        self._closed = True
        if self._owns_engine:
            self._engine.dispose()
