"""The client-order identity journal: what the registry does not store about a client order.

The registry keeps each order's account, terms, executions and holds; the gateway additionally
needs, after a restart, the client session, the ClOrdID chain, the venue and the ids used there.
Those go to an append-only JSON-lines file, written by the registry writer thread right after
the batch that booked the order commits (and fsync'ed once per batch):

``{"t": "new", ...}``       the order as accepted (see :func:`new_record`)
``{"t": "replaced", ...}``  a replace took effect: new ClOrdID, terms, venue id and booking id
``{"t": "done", "id": ...}`` the order is terminal (replay skips it)

:meth:`OrderJournal.replay` yields the live orders' records; the registry then supplies their
executed quantities and tells which are still open.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from fix_engine.session.session_id import SessionID

__all__ = ["OrderJournal", "session_from", "session_to"]


def session_to(session_id: SessionID) -> list[str]:
    return [session_id.begin_string, session_id.sender_comp_id, session_id.target_comp_id,
            session_id.session_qualifier]


def session_from(parts: list[str]) -> SessionID:
    return SessionID(parts[0], parts[1], parts[2], parts[3] if len(parts) > 3 else "")


class OrderJournal:
    """Append-only JSON lines at ``path`` (created on first write)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._file: Any = None

    def append(self, records: Iterable[dict[str, Any]]) -> None:
        """Write records and fsync (called from the writer thread only)."""
        lines = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
        if not lines:
            return
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open
        self._file.write(lines)
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def records(self) -> Iterator[dict[str, Any]]:
        """Every record in file order; blank lines and a torn last line (a crash) are skipped."""
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    continue  # a torn last line after a crash

    def replay(self) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """Each order not marked done: its ``new`` record and its ``replaced`` records, in order."""
        news: dict[str, dict[str, Any]] = {}
        changes: dict[str, list[dict[str, Any]]] = {}
        for record in self.records():
            kind, order_id = record.get("t"), record.get("id")
            if kind == "new":
                news[order_id] = record
                changes[order_id] = []
            elif kind == "replaced" and order_id in news:
                changes[order_id].append(record)
            elif kind == "done":
                news.pop(order_id, None)
                changes.pop(order_id, None)
        for order_id, record in news.items():
            yield record, changes[order_id]
