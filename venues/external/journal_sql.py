"""SqlChildOrderJournal: the child-order journal in an SQL database (SQLite, PostgreSQL).

For gateways whose FIX stores live in PostgreSQL (DESIGN.md, scale-out: a gateway holds no state
outside its stores).  It is the internal venue's :class:`~venues.internal.journal_sql.SqlJournal`
(``seq``, ``ts``, ``data`` rows; one single-row transaction per append, so a record is committed
or absent) in a table of its own per venue; this module imports no SQLAlchemy itself.  Calls
block on the database, like the venue's other journal writes.
"""

from __future__ import annotations

from typing import Any

from venues.internal.journal_sql import SqlJournal

from .journal import LogBackedJournal


class SqlChildOrderJournal(LogBackedJournal):
    """The journal in table ``table`` (and an unused ``<table>_snapshot``) of ``url_or_engine``."""

    def __init__(self, url_or_engine: Any, *, table: str = "child_orders", schema: str | None = None) -> None:
        self.table = table
        super().__init__(SqlJournal(url_or_engine, journal_table=table, snapshot_table=f"{table}_snapshot",
                                    schema=schema))
