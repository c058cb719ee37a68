"""The child-order journal of a FixVenue: every child order and its changes, append-only.

:class:`~.fix_venue.FixVenue` appends a record (a JSON-able dict, see :mod:`.records`) *before*
it sends a NewOrderSingle, cancel or replace, and before it passes on the events an
ExecutionReport produced; on start it replays the journal to rebuild its order table and the
ExecIDs it already acted on.  So a restarted gateway still maps the exchange's reports (late
fills, cancels, and the reports the exchange resends after the session logs on again) back to
the client's orders, and applies none of them twice.

Interface (:class:`ChildOrderJournal`; one contract test suite runs against every implementation):

``append(record, ts=0)``  store one record; durable, per the implementation's policy, on return.
``replay()``              every record ever appended, in order.
``count``                 how many records the journal holds.
``close()``               flush and release; appending to a closed journal raises :class:`JournalError`.

Implementations: :class:`MemoryChildOrderJournal` (tests; nothing survives the process),
:class:`FileChildOrderJournal` (one append-only file) and ``journal_sql.SqlChildOrderJournal``.

The file and SQL journals reuse the internal venue's sequence-numbered journals
(:class:`venues.internal.journal.FileJournal`, :class:`venues.internal.journal_sql.SqlJournal`):
the same record framing with a CRC, and the same recovery -- a record torn by a crash during
its write ends the log and is cut off when the file is opened again.  The fsync policy of the
file journal: ``sync=False`` (default, like ``FileStoreSync=N``) writes every record through to
the operating system before ``append`` returns, which survives a killed process; ``sync=True``
also fsyncs it, which survives a power loss.

Session configuration (per initiator ``[SESSION]``, read by :func:`journal_from_settings`):

``ChildOrderJournalPath``  a file path (relative to ``base_dir``, else the working directory) or a
                           SQLAlchemy URL (``postgresql+psycopg2://...``, ``sqlite:///...``).
``ChildOrderJournalSync``  ``Y``: fsync every record, ``N``: write it to the OS only (file journal
                           only; default: the session's ``FileStoreSync`` (``N`` unless set, as
                           in QuickFIX/J), so the journal is as durable as the FIX store it pairs with).
``ChildOrderJournalTable`` the table of an SQL journal (default ``child_orders_<venue>``).
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from venues.internal.journal import FileJournal, Journal, JournalError, encode_record

if TYPE_CHECKING:
    from fix_engine.session.settings import SessionSettings

__all__ = [
    "ChildOrderJournal",
    "FileChildOrderJournal",
    "JournalError",
    "LogBackedJournal",
    "MemoryChildOrderJournal",
    "default_journal_path",
    "journal_from_settings",
    "open_child_order_journal",
]

PATH_KEY = "ChildOrderJournalPath"
SYNC_KEY = "ChildOrderJournalSync"
TABLE_KEY = "ChildOrderJournalTable"


class ChildOrderJournal(ABC):
    """Append-only log of a FixVenue's child-order records (see the module docstring)."""

    @abstractmethod
    def append(self, record: dict[str, Any], ts: int = 0) -> None:
        """Store ``record`` after every earlier one; durable (per the policy) when this returns."""

    @abstractmethod
    def replay(self) -> Iterator[dict[str, Any]]:
        """Every record appended so far, oldest first."""

    @property
    @abstractmethod
    def count(self) -> int:
        """How many records the journal holds."""

    @abstractmethod
    def close(self) -> None:
        """Flush and release the journal (idempotent)."""

    def __enter__(self) -> ChildOrderJournal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MemoryChildOrderJournal(ChildOrderJournal):
    """A journal in memory (tests): records are kept encoded, as a durable journal would store them.

    Closing it keeps the records, so a test can "restart" a venue on the same object:
    :meth:`reopen` makes it appendable again.
    """

    def __init__(self) -> None:
        self._data: list[bytes] = []
        self._closed = False

    def append(self, record: dict[str, Any], ts: int = 0) -> None:
        if self._closed:
            raise JournalError("child-order journal is closed")
        self._data.append(encode_record(record))

    def replay(self) -> Iterator[dict[str, Any]]:
        return (json.loads(data) for data in list(self._data))

    @property
    def count(self) -> int:
        return len(self._data)

    def close(self) -> None:
        self._closed = True

    def reopen(self) -> MemoryChildOrderJournal:
        """The same records, appendable again (what a new process would open)."""
        self._closed = False
        return self


class LogBackedJournal(ChildOrderJournal):
    """A journal on one of the internal venue's sequence-numbered logs (file or SQL)."""

    def __init__(self, log: Journal) -> None:
        self._log = log
        self._closed = False

    def append(self, record: dict[str, Any], ts: int = 0) -> None:
        if self._closed:
            raise JournalError("child-order journal is closed")
        self._log.append(self._log.last_sequence + 1, record, ts)

    def replay(self) -> Iterator[dict[str, Any]]:
        return (rec.decode() for rec in self._log.read_from(1))

    @property
    def count(self) -> int:
        return self._log.last_sequence

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._log.close()


class FileChildOrderJournal(LogBackedJournal):
    """The journal in one append-only file; a torn tail is cut off on open (``truncated_bytes``).

    ``sync=True`` fsyncs every record; otherwise each record reaches the OS before ``append``
    returns (it survives a killed process).
    """

    def __init__(self, path: str | PathLike[str], *, sync: bool = False) -> None:
        self.path = Path(path)
        self.sync = sync
        self._file_log = FileJournal(self.path, sync=sync)
        super().__init__(self._file_log)

    @property
    def truncated_bytes(self) -> int:
        """Bytes of a torn tail cut off when the file was opened."""
        return self._file_log.truncated_bytes


def open_child_order_journal(target: str | PathLike[str], *, sync: bool = False,
                             table: str = "child_orders") -> ChildOrderJournal:
    """A file journal for a path, an SQL journal (in ``table``) for a SQLAlchemy URL."""
    text = str(target)
    if "://" in text:
        from .journal_sql import SqlChildOrderJournal

        return SqlChildOrderJournal(text, table=table)
    return FileChildOrderJournal(text, sync=sync)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "venue"


def default_journal_path(venue_name: str) -> str:
    """``fixgate-child-orders-<venue>.journal`` (relative: the working directory)."""
    return f"fixgate-child-orders-{_safe(venue_name)}.journal"


def journal_from_settings(settings: SessionSettings, venue_name: str, *,
                          base_dir: str | PathLike[str] | None = None,
                          default: str | None = None) -> ChildOrderJournal:
    """The journal the ``ChildOrderJournal*`` keys of a venue's session name (see the module docstring).

    Without ``ChildOrderJournalPath`` the journal is ``default`` (else
    :func:`default_journal_path`); a relative path resolves against ``base_dir`` when given.
    """
    extra = settings.extra
    target = extra.get(PATH_KEY) or default or default_journal_path(venue_name)
    sync_text = (extra.get(SYNC_KEY) or ("Y" if settings.file_store_sync else "N")).strip().upper()
    if sync_text not in ("Y", "N"):
        raise ValueError(f"{SYNC_KEY}: expected Y or N, got {extra.get(SYNC_KEY)!r}")
    table = extra.get(TABLE_KEY) or f"child_orders_{re.sub(r'[^A-Za-z0-9_]', '_', venue_name).lower()}"
    if "://" not in target and base_dir is not None and not Path(target).is_absolute():
        target = str(Path(base_dir) / target)
    return open_child_order_journal(target, sync=sync_text == "Y", table=table)
