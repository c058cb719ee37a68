"""Fixtures for the external venue tests.

``child_journal_factory``  (parametrized: memory, file, sqlite, postgres) -> ``open()`` returns a
                           child-order journal on the same storage every call, so a test can
                           close one and reopen the storage, as a restarted gateway does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from venues.external.journal import ChildOrderJournal, FileChildOrderJournal, MemoryChildOrderJournal


class ChildJournalFactory:
    """Opens child-order journals on one storage location (reopening gives the same records)."""

    def __init__(self, kind: str, opener: Callable[[], ChildOrderJournal], durable: bool = True) -> None:
        self.kind = kind
        self.durable = durable
        self._opener = opener
        self._opened: list[ChildOrderJournal] = []

    def open(self) -> ChildOrderJournal:
        journal = self._opener()
        self._opened.append(journal)
        return journal

    def close_all(self) -> None:
        for journal in self._opened:
            journal.close()


@pytest.fixture(params=["memory", "file", "sqlite", "postgres"])
def child_journal_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ChildJournalFactory]:
    kind = request.param
    if kind == "memory":
        shared = MemoryChildOrderJournal()
        factory = ChildJournalFactory(kind, shared.reopen, durable=False)
    elif kind == "file":
        factory = ChildJournalFactory(kind, lambda: FileChildOrderJournal(tmp_path / "children.journal"))
    elif kind == "sqlite":
        from venues.external.journal_sql import SqlChildOrderJournal

        url = f"sqlite:///{tmp_path / 'children.sqlite'}"
        factory = ChildJournalFactory(kind, lambda: SqlChildOrderJournal(url, table="child_orders_xchg"))
    else:
        engine = request.getfixturevalue("postgres_schema_engine")
        from venues.external.journal_sql import SqlChildOrderJournal

        factory = ChildJournalFactory(kind, lambda: SqlChildOrderJournal(engine, table="child_orders_xchg"))
    yield factory
    factory.close_all()
