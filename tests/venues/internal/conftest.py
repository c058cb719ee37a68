"""Fixtures for the internal venue service tests: a stepping clock, journals of every kind, venues.

``journal_factory``  (parametrized: memory, file, sqlite, postgres) -> ``open()`` returns a journal on
                     the same storage every call, so tests can close and reopen it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from venues.internal.journal import FileJournal, Journal, MemoryJournal

sys.path.insert(0, str(Path(__file__).resolve().parent))


class StepClock:
    """A clock that moves by ``step`` ns on every reading (and by ``advance`` on demand)."""

    def __init__(self, start: int = 1_700_000_000_000_000_000, step: int = 1000) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> int:
        self.now += self.step
        return self.now

    def advance(self, ns: int) -> None:
        self.now += ns


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


class JournalFactory:
    """Opens journals on one storage location (reopening gives the same content)."""

    def __init__(self, kind: str, opener: Callable[[], Journal]) -> None:
        self.kind = kind
        self._opener = opener
        self._opened: list[Journal] = []

    def open(self) -> Journal:
        j = self._opener()
        self._opened.append(j)
        return j

    def close_all(self) -> None:
        for j in self._opened:
            try:
                j.close()
            except Exception:  # noqa: BLE001 - best effort at teardown
                pass


@pytest.fixture(params=["memory", "file", "sqlite", "postgres"])
def journal_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JournalFactory]:
    kind = request.param
    if kind == "memory":
        shared = MemoryJournal()
        factory = JournalFactory(kind, lambda: shared)
    elif kind == "file":
        factory = JournalFactory(kind, lambda: FileJournal(tmp_path / "venue.journal"))
    elif kind == "sqlite":
        from venues.internal.journal_sql import SqlJournal

        url = f"sqlite:///{tmp_path / 'venue.sqlite'}"
        factory = JournalFactory(kind, lambda: SqlJournal(url))
    else:
        engine = request.getfixturevalue("postgres_schema_engine")
        from venues.internal.journal_sql import SqlJournal

        factory = JournalFactory(kind, lambda: SqlJournal(engine))
    yield factory
    factory.close_all()
