"""FileStore: a crash-safe MessageStore in plain files under FileStorePath (QuickFIX FileStore layout).

Per session (``<prefix>`` is :attr:`SessionID.file_prefix`):

``<prefix>.body``
    Append-only log of outgoing messages.  A header line ``FIXGATE-BODY 1 <generation>\\n``, then
    one record per saved message::

        <seq> <len> <crc32 hex> <flag>\\n<len raw bytes>\\n

    ``flag`` is ``M`` (message only) or ``I`` (message *and* next sender seq = seq + 1, written by
    :meth:`FileStore.save_and_incr`, so message and sequence number are one write and one fsync).
    The CRC covers ``"<seq> <len> <flag>"`` and the raw bytes.  A later record for the same seq
    overrides an earlier one.  On open the file is scanned to rebuild the in-memory index
    ``seq -> (offset, length)`` (so ``get_range`` is one ``pread`` per message); the first
    incomplete or corrupt record ends the log and the file is truncated there (a torn write of a
    killed process only ever damages the tail of an append-only file).
``<prefix>.seqnums``
    ``<sender> : <target> : <generation> : <body offset>\\n`` in fixed-width fields.  A sequence
    number change overwrites it in place with one ``pwrite`` (as QuickFIX's FileStore does; a
    write system call is not torn by a killed process, and ``sync=True`` fsyncs it); resets and
    compactions replace it atomically (temp file + rename).  ``body offset`` is the body size when it was
    written: ``I`` records after that offset are newer and advance the sender number further.
    A generation different from the body's (a crash in the middle of a compaction or reset) means
    the seqnums file alone is authoritative.
``<prefix>.session``
    The creation time as UTCTimestamp with microseconds, rewritten atomically on reset.

QuickFIX's ``.header`` index file is not needed: the index is rebuilt by scanning the body.

Durability: with ``sync=True`` (FileStoreSync=Y) every save and every sequence-number change is
fsynced before the call returns; with ``sync=False`` writes go to the OS (they survive a killed
process, not a power loss) and :meth:`FileStore.flush` / :meth:`FileStore.close` fsync.

Compaction: :meth:`FileStore.compact` rewrites the body keeping only the latest record of each seq
``>= keep_from_seq``.  Automatic compaction runs after a save when the body exceeds
``max(max_body_bytes, 2 * size after the previous compaction)`` and keeps the last
``keep_messages`` sequence numbers (``seq >= next_sender - keep_messages``).  A ResendRequest for
older messages finds nothing in the store and the session answers with a SequenceReset-GapFill,
as QuickFIX does for messages it did not persist.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable

from ..codec.errors import FieldValueError
from ..codec.message import format_epoch_timestamp, parse_utc_timestamp_epoch
from ..session.session_id import SessionID
from .base import MessageStore, MessageStoreError, MessageStoreFactory
from .file_body import FLAG_INCR, FLAG_MESSAGE, BodyScan, body_header, encode_record, scan_body

DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
DEFAULT_KEEP_MESSAGES = 100_000


class FileStore(MessageStore):
    """Sequence numbers and sent messages of one session in files that survive a killed process.

    See the module docstring for the file format, the durability rule and the compaction rule.
    A store assumes it is the only writer of its files (one session, one process).
    """

    def __init__(
        self,
        directory: str,
        session_id: SessionID,
        now: float,
        *,
        sync: bool = True,
        max_body_bytes: int | None = DEFAULT_MAX_BODY_BYTES,
        keep_messages: int = DEFAULT_KEEP_MESSAGES,
    ) -> None:
        self._directory = directory
        prefix = os.path.join(directory, session_id.file_prefix)
        self.body_path = prefix + ".body"
        self.seqnums_path = prefix + ".seqnums"
        self.session_path = prefix + ".session"
        self._sync = sync
        self._max_body_bytes = max_body_bytes
        self._keep_messages = keep_messages
        self._compact_threshold = max_body_bytes
        self._fd: int | None = None
        #: size of the body file, kept up to date by our own appends (we are its only writer)
        self._size = 0
        self._seqnums_fd: int | None = None
        self._index: dict[int, tuple[int, int]] = {}
        self._generation = 0
        self._next_sender = 1
        self._next_target = 1
        self._creation_time = now
        #: bytes cut off the end of the body file on the last open (a torn record); for monitoring
        self.discarded_tail_bytes = 0
        #: records appended while a deferred-write window is open (None: write through)
        self._deferred: list[bytes] | None = None
        #: the seqnums record changed inside the window
        self._seqnums_dirty = False
        try:
            os.makedirs(directory, exist_ok=True)
            self._open(now)
        except OSError as exc:
            raise MessageStoreError(f"cannot open file store {prefix}: {exc}") from exc

    # ------------------------------------------------------------------ opening and scanning

    def _open(self, now: float) -> None:
        if os.path.exists(self.session_path):
            self._creation_time = self._read_creation_time()
        else:
            self._creation_time = now
            self._write_creation_time()

        seqnums = self._read_seqnums()
        if not os.path.exists(self.body_path) or os.path.getsize(self.body_path) == 0:
            generation = seqnums[2] if seqnums else 0
            self._replace_file(self.body_path, body_header(generation))

        scan = self._scan()
        self._generation = scan.generation
        self._index = scan.index
        self.discarded_tail_bytes = os.path.getsize(self.body_path) - scan.valid_end
        self._fd = os.open(self.body_path, os.O_RDWR | os.O_APPEND)
        if self.discarded_tail_bytes:
            os.ftruncate(self._fd, scan.valid_end)
            if self._sync:
                os.fsync(self._fd)
        self._size = os.fstat(self._fd).st_size

        if seqnums is None:  # no seqnums file yet: every I record counts
            sender, target, generation, offset = 1, 1, scan.generation, 0
        else:
            sender, target, generation, offset = seqnums
        if generation == scan.generation:
            for record_offset, seq in scan.incr_records:
                if record_offset >= offset:
                    sender = seq + 1
        self._next_sender, self._next_target = sender, target
        if seqnums is None:
            self._write_seqnums()

    def _scan(self) -> BodyScan:
        with open(self.body_path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                raise MessageStoreError(f"{self.body_path}: empty body file")
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return scan_body(buf, self.body_path)

    def _read_seqnums(self) -> tuple[int, int, int, int] | None:
        try:
            with open(self.seqnums_path, "rb") as f:
                text = f.read()
        except FileNotFoundError:
            return None
        try:
            parts = [int(p) for p in text.split(b":")]
        except ValueError:
            raise MessageStoreError(f"{self.seqnums_path}: corrupt sequence number file {text!r}") from None
        if len(parts) == 2:  # QuickFIX's "sender : target"
            return parts[0], parts[1], -1, 0
        if len(parts) != 4:
            raise MessageStoreError(f"{self.seqnums_path}: corrupt sequence number file {text!r}")
        return parts[0], parts[1], parts[2], parts[3]

    def _read_creation_time(self) -> float:
        with open(self.session_path, "rb") as f:
            text = f.read().strip()
        try:
            return parse_utc_timestamp_epoch(0, text)
        except FieldValueError:
            raise MessageStoreError(f"{self.session_path}: corrupt creation time {text!r}") from None

    # ------------------------------------------------------------------ atomic small files

    def _replace_file(self, path: str, content: bytes) -> None:
        tmp = path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_all(fd, content)
            if self._sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        if self._sync:
            self._fsync_directory()

    def _fsync_directory(self) -> None:
        fd = os.open(self._directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _body_size(self) -> int:
        assert self._fd is not None
        return self._size

    def _seqnums_record(self) -> bytes:
        return b"%010d : %010d : %010d : %020d\n" % (
            self._next_sender,
            self._next_target,
            self._generation,
            self._size if self._fd is not None else 0,
        )

    def _write_seqnums(self) -> None:
        """Replace the seqnums file atomically (opening, reset, compaction, flush)."""
        self._close_seqnums_fd()
        self._replace_file(self.seqnums_path, self._seqnums_record())

    def _update_seqnums(self) -> None:
        """Overwrite the fixed-width seqnums record in place (every sequence number change)."""
        if self._deferred is not None:
            self._seqnums_dirty = True
            return
        fd = self._seqnums_fd
        if fd is None:
            fd = self._seqnums_fd = os.open(self.seqnums_path, os.O_RDWR | os.O_CREAT, 0o644)
        record = b"%010d : %010d : %010d : %020d\n" % (
            self._next_sender,
            self._next_target,
            self._generation,
            self._size if self._fd is not None else 0,
        )
        if os.pwrite(fd, record, 0) != len(record):
            raise OSError(f"short write to {self.seqnums_path}")
        if self._sync:
            os.fsync(fd)

    def _close_seqnums_fd(self) -> None:
        fd = getattr(self, "_seqnums_fd", None)
        self._seqnums_fd = None
        if fd is not None:
            os.close(fd)

    def _write_creation_time(self) -> None:
        self._replace_file(self.session_path, format_epoch_timestamp(self._creation_time, 6) + b"\n")

    def _checked_fd(self) -> int:
        if self._fd is None:
            raise MessageStoreError(f"file store {self.body_path} is closed")
        return self._fd

    # ------------------------------------------------------------------ MessageStore

    def next_sender_seq_num(self) -> int:
        return self._next_sender

    def next_target_seq_num(self) -> int:
        return self._next_target

    def set_next_sender_seq_num(self, value: int) -> None:
        self._next_sender = value
        try:
            self._update_seqnums()
        except OSError as exc:
            raise MessageStoreError(f"file store {self.body_path}: {exc}") from exc

    def set_next_target_seq_num(self, value: int) -> None:
        self._next_target = value
        try:
            self._update_seqnums()
        except OSError as exc:
            raise MessageStoreError(f"file store {self.body_path}: {exc}") from exc

    def incr_next_target_seq_num(self) -> None:
        if self._deferred is not None:  # every incoming message: keep it short
            self._next_target += 1
            self._seqnums_dirty = True
            return
        self.set_next_target_seq_num(self._next_target + 1)

    def save(self, seq_num: int, raw: bytes) -> None:
        self._append(seq_num, raw, FLAG_MESSAGE)

    def save_and_incr(self, seq_num: int, raw: bytes) -> None:
        self._append(seq_num, raw, FLAG_INCR)
        self._next_sender = seq_num + 1

    def _append(self, seq_num: int, raw: bytes, flag: bytes) -> None:
        if seq_num < 1:
            raise ValueError(f"MsgSeqNum must be positive, not {seq_num}")
        fd = self._fd
        if fd is None:
            raise MessageStoreError(f"file store {self.body_path} is closed")
        if type(raw) is not bytes:
            raw = bytes(raw)
        record = encode_record(seq_num, raw, flag)
        deferred = self._deferred
        if deferred is not None:
            deferred.append(record)
            end = self._size = self._size + len(record)
            self._index[seq_num] = (end - 1 - len(raw), len(raw))
            if self._compact_threshold is not None and end > self._compact_threshold:
                next_sender = seq_num + 1 if flag == FLAG_INCR else self._next_sender
                self.compact(max(1, next_sender - self._keep_messages))
            return
        try:
            written = os.write(fd, record)
            if written != len(record):
                _write_all(fd, record[written:])
            if self._sync:
                os.fsync(fd)
        except OSError as exc:
            try:  # what reached the file is unknown: take the size from the file again
                self._size = os.fstat(fd).st_size
            except OSError:
                pass
            raise MessageStoreError(f"file store {self.body_path}: {exc}") from exc
        end = self._size = self._size + len(record)  # O_APPEND: the end of what we just wrote
        self._index[seq_num] = (end - 1 - len(raw), len(raw))
        if self._compact_threshold is not None and end > self._compact_threshold:
            next_sender = seq_num + 1 if flag == FLAG_INCR else self._next_sender
            self.compact(max(1, next_sender - self._keep_messages))

    # ------------------------------------------------------------------ deferred writes

    def defer_writes(self) -> None:
        if self._deferred is None and self._fd is not None:
            self._deferred = []

    def write_deferred(self) -> None:
        if self._deferred is None:
            return
        try:
            self._drain_deferred()
        finally:
            self._deferred = None

    def _drain_deferred(self) -> None:
        """Write what the open window holds (body first, then the seqnums record); the window
        stays open.  On failure the records that did not reach the file leave the index."""
        pending = self._deferred
        if pending is None:
            return
        self._deferred = None  # so _update_seqnums writes through
        try:
            if pending:
                fd = self._checked_fd()
                try:
                    _write_all(fd, pending[0] if len(pending) == 1 else b"".join(pending))
                    if self._sync:
                        os.fsync(fd)
                except OSError as exc:
                    self._forget_unwritten(fd)
                    raise MessageStoreError(f"file store {self.body_path}: {exc}") from exc
            if self._seqnums_dirty:
                self._seqnums_dirty = False
                self._guarded(self._update_seqnums)
        finally:
            self._deferred = []

    def _forget_unwritten(self, fd: int) -> None:
        try:
            self._size = os.fstat(fd).st_size
        except OSError:
            return
        size = self._size
        for seq in [seq for seq, (offset, length) in self._index.items() if offset + length >= size]:
            del self._index[seq]

    def get_range(self, begin: int, end: int) -> list[tuple[int, bytes]]:
        if end < begin:
            return []
        self._drain_deferred()
        fd = self._checked_fd()
        index = self._index
        if end - begin + 1 <= len(index):
            seqs = [seq for seq in range(begin, end + 1) if seq in index]
        else:
            seqs = sorted(seq for seq in index if begin <= seq <= end)
        out = []
        try:
            for seq in seqs:
                offset, length = index[seq]
                out.append((seq, os.pread(fd, length, offset)))
        except OSError as exc:
            raise MessageStoreError(f"cannot read {self.body_path}: {exc}") from exc
        return out

    def creation_time(self) -> float:
        return self._creation_time

    def reset(self, now: float) -> None:
        """Empty body (new generation), sequence numbers 1/1, creation time ``now``.

        Order: body, seqnums, session file, so a crash half-way never serves old messages.
        """

        self._drain_deferred()

        def do_reset() -> None:
            self._generation += 1
            self._swap_body(body_header(self._generation), {})
            self._next_sender = self._next_target = 1
            self._write_seqnums()
            self._creation_time = now
            self._write_creation_time()
            self._compact_threshold = self._max_body_bytes

        self._guarded(do_reset)

    def compact(self, keep_from_seq: int) -> None:
        """Rewrite the body with the latest record of every seq ``>= keep_from_seq``; drop the rest."""

        self._drain_deferred()

        def do_compact() -> None:
            fd = self._checked_fd()
            self._write_seqnums()  # make the seqnums file authoritative before the body changes
            generation = self._generation + 1
            parts = [body_header(generation)]
            offset = len(parts[0])
            index: dict[int, tuple[int, int]] = {}
            for seq in sorted(s for s in self._index if s >= keep_from_seq):
                data_offset, length = self._index[seq]
                raw = os.pread(fd, length, data_offset)
                record = encode_record(seq, raw)
                index[seq] = (offset + len(record) - 1 - length, length)
                parts.append(record)
                offset += len(record)
            self._generation = generation
            self._swap_body(b"".join(parts), index)
            self._write_seqnums()
            if self._max_body_bytes is not None:
                self._compact_threshold = max(self._max_body_bytes, 2 * offset)

        self._guarded(do_compact)

    def _swap_body(self, content: bytes, index: dict[int, tuple[int, int]]) -> None:
        self._replace_file(self.body_path, content)
        if self._fd is not None:
            os.close(self._fd)
        self._fd = os.open(self.body_path, os.O_RDWR | os.O_APPEND)
        self._size = os.fstat(self._fd).st_size
        self._index = index

    def refresh(self) -> None:
        """Close and re-read all three files (another process may have written them)."""
        self._drain_deferred()
        self._close_fd()
        self._guarded(lambda: self._open(self._creation_time))

    def flush(self) -> None:
        self._drain_deferred()
        fd = self._checked_fd()

        def do_flush() -> None:
            os.fsync(fd)
            sync, self._sync = self._sync, True
            try:
                self._write_seqnums()
            finally:
                self._sync = sync

        self._guarded(do_flush)

    def close(self) -> None:
        if self._fd is None:
            return
        try:
            self.write_deferred()
            if not self._sync:
                self.flush()
        finally:
            self._close_fd()

    def _close_fd(self) -> None:
        self._close_seqnums_fd()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _guarded(self, action: Callable[[], None]) -> None:
        try:
            action()
        except OSError as exc:
            raise MessageStoreError(f"file store {self.body_path}: {exc}") from exc

    @property
    def body_size(self) -> int:
        """Current size of the body file in bytes."""
        return self._body_size()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class FileStoreFactory(MessageStoreFactory):
    """Creates a FileStore per session under one FileStorePath directory."""

    def __init__(
        self,
        directory: str,
        *,
        sync: bool = True,
        max_body_bytes: int | None = DEFAULT_MAX_BODY_BYTES,
        keep_messages: int = DEFAULT_KEEP_MESSAGES,
    ) -> None:
        self.directory = directory
        self.sync = sync
        self.max_body_bytes = max_body_bytes
        self.keep_messages = keep_messages

    def create(self, session_id: SessionID, now: float) -> MessageStore:
        return FileStore(
            self.directory,
            session_id,
            now,
            sync=self.sync,
            max_body_bytes=self.max_body_bytes,
            keep_messages=self.keep_messages,
        )
