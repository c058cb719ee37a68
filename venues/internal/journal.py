"""The internal venue's append-only command journal, and the file implementation.

Every command the venue accepts is appended here, under the next sequence number, *before* it is
processed and before any event is delivered ("durability before acknowledgement"); recovery reads
it back strictly by sequence.  A journal also keeps snapshots of the venue state so that recovery
can start from the latest snapshot and replay only the tail.

Interface (:class:`Journal`, one contract test suite for every implementation):

``append(seq, record, ts, *, flush=True)``  ``seq`` must be ``last_sequence + 1``; ``record`` is
    bytes or a JSON-able dict (stored as compact JSON).  With ``flush=True`` the record is durable
    when the call returns; with ``flush=False`` it is buffered (group commit) until :meth:`flush`.
``flush()``            make every buffered record durable.
``read_from(seq)``     iterator of :class:`JournalRecord` with sequence >= ``seq``, ascending
    (durable and buffered records alike).
``last_sequence``      the highest appended sequence (0 when empty).
``save_snapshot(seq, state, state_hash)`` / ``latest_snapshot()``  the venue state after ``seq``.
    :class:`FileJournal` also has ``write_snapshot(seq, state, state_hash)``: the snapshot file only,
    without flushing the log (the caller made ``seq`` durable), safe to run in another thread.
``close()``

Implementations: :class:`FileJournal` and :class:`MemoryJournal` (tests, benchmarks; not durable)
in this module, and ``journal_sql.SqlJournal`` (SQLite by default, PostgreSQL in production; the
only SQLAlchemy import of the venue).

File format - one record per line, like a write-ahead log::

    <seq:16 hex><ts:16 hex><len:8 hex><crc32:8 hex><data: len bytes>\\n

The CRC covers the first 32 header characters and the data.  On open the file is scanned; the first
record that is incomplete, fails its CRC, lacks its newline or breaks the sequence ends the log, and
the file is truncated there (a torn tail left by a crash during a write).  Snapshots are separate
files ``<path>.snap.<seq>`` written atomically (temporary file, fsync, rename); the two most recent
are kept.
"""

from __future__ import annotations

import json
import logging
import os
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

log = logging.getLogger(__name__)

_HEADER = 48
_SNAPSHOTS_KEPT = 2


class JournalError(Exception):
    """The journal refused an operation (sequence gap, closed journal, unreadable snapshot)."""


@dataclass(frozen=True, slots=True)
class JournalRecord:
    """One journaled command: its sequence number, the venue timestamp and the encoded command."""

    seq: int
    ts: int
    data: bytes

    def decode(self) -> Any:
        """The record as it was appended when it was a dict (JSON-decoded)."""
        return json.loads(self.data)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The venue state after command ``seq``, with the state hash it must reproduce."""

    seq: int
    state: bytes
    state_hash: str


def encode_record(record: bytes | dict[str, Any]) -> bytes:
    """Bytes as they are; a dict as compact JSON (the caller turns Decimals into strings)."""
    if isinstance(record, bytes | bytearray | memoryview):
        return bytes(record)
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode()


class Journal(ABC):
    """Append-only, sequence-numbered command log with snapshots (see the module docstring)."""

    @property
    @abstractmethod
    def last_sequence(self) -> int:
        """The highest appended sequence number; 0 when the journal is empty."""

    @abstractmethod
    def append(self, seq: int, record: bytes | dict[str, Any], ts: int, *, flush: bool = True) -> None:
        """Append the command ``seq``; durable on return unless ``flush`` is False (then buffered)."""

    @abstractmethod
    def flush(self) -> None:
        """Make every buffered record durable."""

    @abstractmethod
    def read_from(self, seq: int = 1) -> Iterator[JournalRecord]:
        """The records with sequence >= ``seq`` in ascending order."""

    @abstractmethod
    def save_snapshot(self, seq: int, state: bytes, state_hash: str) -> None:
        """Store the venue state after command ``seq`` (flushes buffered records first)."""

    @abstractmethod
    def latest_snapshot(self) -> Snapshot | None:
        """The most recent usable snapshot (never one beyond :attr:`last_sequence`), or None."""

    @abstractmethod
    def close(self) -> None:
        """Flush and release the journal's resources."""

    def _check_next(self, seq: int) -> None:
        if seq != self.last_sequence + 1:
            raise JournalError(
                f"sequence {seq} appended after {self.last_sequence}: replay is strictly by sequence"
            )

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------- memory journal


class MemoryJournal(Journal):
    """A :class:`Journal` in memory: for tests and benchmarks (nothing survives the process)."""

    def __init__(self) -> None:
        self.records: list[JournalRecord] = []
        self.snapshots: list[Snapshot] = []
        self.flushed = 0  #: sequence covered by the last flush (what a crash would keep)

    @property
    def last_sequence(self) -> int:
        return len(self.records)

    def append(self, seq: int, record: bytes | dict[str, Any], ts: int, *, flush: bool = True) -> None:
        self._check_next(seq)
        self.records.append(JournalRecord(seq, ts, encode_record(record)))
        if flush:
            self.flush()

    def flush(self) -> None:
        self.flushed = len(self.records)

    def read_from(self, seq: int = 1) -> Iterator[JournalRecord]:
        return iter(self.records[max(seq, 1) - 1 :])

    def save_snapshot(self, seq: int, state: bytes, state_hash: str) -> None:
        if seq > self.last_sequence:
            raise JournalError(f"snapshot at {seq} beyond the last sequence {self.last_sequence}")
        self.flush()
        self.snapshots = [*self.snapshots[-(_SNAPSHOTS_KEPT - 1) :], Snapshot(seq, state, state_hash)]

    def latest_snapshot(self) -> Snapshot | None:
        usable = [s for s in self.snapshots if s.seq <= self.last_sequence]
        return max(usable, key=lambda s: s.seq) if usable else None

    def close(self) -> None:
        self.flush()


# --------------------------------------------------------------------------- file journal


def _crc(header32: bytes, data: bytes) -> int:
    return zlib.crc32(data, zlib.crc32(header32))


def _read_frame(f: BinaryIO) -> JournalRecord | None:
    """The next record at the file position, or None at the end or at a torn/corrupt record."""
    header = f.read(_HEADER)
    if len(header) < _HEADER:
        return None
    try:
        seq = int(header[0:16], 16)
        ts = int(header[16:32], 16)
        length = int(header[32:40], 16)
        crc = int(header[40:48], 16)
    except ValueError:
        return None
    body = f.read(length + 1)
    if len(body) < length + 1 or body[-1:] != b"\n":
        return None
    data = body[:-1]
    if _crc(header[:32], data) != crc:
        return None
    return JournalRecord(seq, ts, data)


class FileJournal(Journal):
    """A :class:`Journal` in one append-only file (``sync=True`` fsyncs every flush).

    Opening scans the file, verifies every record and truncates a torn tail; ``truncated_bytes``
    tells how much was cut.
    """

    def __init__(self, path: str | os.PathLike[str], *, sync: bool = False) -> None:
        self.path = Path(path)
        self.sync = sync
        self.truncated_bytes = 0
        self._last = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch(exist_ok=True)
        good = self._scan()
        size = self.path.stat().st_size
        if good < size:
            self.truncated_bytes = size - good
            log.warning(
                "journal %s: torn tail of %d bytes truncated at offset %d", self.path, size - good, good
            )
            with open(self.path, "r+b") as f:
                f.truncate(good)
                f.flush()
                os.fsync(f.fileno())
        self._file: BinaryIO | None = open(self.path, "ab")  # noqa: SIM115 - held open for appends

    def _scan(self) -> int:
        """Verify the file; set the last sequence; return the offset after the last good record."""
        good = 0
        with open(self.path, "rb") as f:
            while True:
                rec = _read_frame(f)
                if rec is None or rec.seq != self._last + 1:
                    return good
                self._last = rec.seq
                good = f.tell()

    @property
    def last_sequence(self) -> int:
        return self._last

    def _open_file(self) -> BinaryIO:
        if self._file is None:
            raise JournalError(f"journal {self.path} is closed")
        return self._file

    def append(self, seq: int, record: bytes | dict[str, Any], ts: int, *, flush: bool = True) -> None:
        f = self._file
        if f is None:
            f = self._open_file()  # raises: closed
        if seq != self._last + 1:
            self._check_next(seq)  # raises
        data = record if type(record) is bytes else encode_record(record)
        # a record: seq, ts, length, CRC-32 of the first 32 header bytes + data (hex), data, newline
        head = b"%016x%016x" % (seq, ts)
        f.write(b"%s%08x%08x%s\n" % (head, len(data), zlib.crc32(data, zlib.crc32(head)), data))
        self._last = seq
        if flush:
            self._durable(f)

    def _durable(self, f: BinaryIO) -> None:
        f.flush()
        if self.sync:
            os.fsync(f.fileno())

    def flush(self) -> None:
        self._durable(self._open_file())

    def read_from(self, seq: int = 1) -> Iterator[JournalRecord]:
        f = self._open_file()
        f.flush()  # buffered records are readable too (by this process)
        last = self._last
        with open(self.path, "rb") as r:
            while True:
                rec = _read_frame(r)
                if rec is None or rec.seq > last:
                    return
                if rec.seq >= seq:
                    yield rec

    # ------------------------------------------------------------------ snapshots

    def _snapshot_paths(self) -> list[tuple[int, Path]]:
        prefix = self.path.name + ".snap."
        found = []
        for p in self.path.parent.iterdir():
            if p.name.startswith(prefix) and p.name[len(prefix) :].isdigit():
                found.append((int(p.name[len(prefix) :]), p))
        return sorted(found, reverse=True)

    def save_snapshot(self, seq: int, state: bytes, state_hash: str) -> None:
        if seq > self._last:
            raise JournalError(f"snapshot at {seq} beyond the last sequence {self._last}")
        self.flush()
        self.write_snapshot(seq, state, state_hash)

    def write_snapshot(self, seq: int, state: bytes, state_hash: str) -> None:
        """Write the snapshot file only (no flush of the log: the caller made ``seq`` durable).

        Touches nothing but the snapshot files, so it may run in another thread than the appends."""
        header = json.dumps({"seq": seq, "hash": state_hash, "len": len(state), "crc": zlib.crc32(state)})
        final = self.path.with_name(f"{self.path.name}.snap.{seq:016d}")
        tmp = final.with_name(final.name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(header.encode() + b"\n" + state)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
        _fsync_dir(self.path.parent)
        for _, old in self._snapshot_paths()[_SNAPSHOTS_KEPT:]:
            old.unlink(missing_ok=True)

    def latest_snapshot(self) -> Snapshot | None:
        for seq, p in self._snapshot_paths():
            if seq > self._last:
                continue  # the journal lost records this snapshot contains: unusable
            snap = _read_snapshot(p)
            if snap is not None and snap.seq == seq:
                return snap
            log.warning("journal %s: unreadable snapshot %s skipped", self.path, p)
        return None

    def close(self) -> None:
        if self._file is not None:
            self._durable(self._file)
            self._file.close()
            self._file = None


def _read_snapshot(p: Path) -> Snapshot | None:
    try:
        raw = p.read_bytes()
        head, _, state = raw.partition(b"\n")
        meta = json.loads(head)
    except (OSError, ValueError):
        return None
    if len(state) != meta.get("len") or zlib.crc32(state) != meta.get("crc"):
        return None
    return Snapshot(int(meta["seq"]), state, str(meta["hash"]))


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
