"""Store backends for the shared contract suite: every MessageStore implementation, one fixture."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from fix_engine.session.session_id import SessionID
from fix_engine.store.base import MessageStore, MessageStoreFactory
from fix_engine.store.file import FileStoreFactory
from fix_engine.store.memory import MemoryStoreFactory


@dataclass
class StoreBackend:
    """One storage medium; ``open`` makes a new store (new factory) on that same medium."""

    name: str
    persistent: bool  # a new store instance sees what an earlier one wrote
    make_factory: Callable[[], MessageStoreFactory]
    _factories: list[MessageStoreFactory] = field(default_factory=list)
    _stores: list[MessageStore] = field(default_factory=list)

    def open(self, session_id: SessionID, now: float) -> MessageStore:
        factory = self.make_factory()
        self._factories.append(factory)
        store = factory.create(session_id, now)
        self._stores.append(store)
        return store

    def close(self) -> None:
        for store in self._stores:
            store.close()
        for factory in self._factories:
            factory.close()


BACKENDS = [
    "memory",
    "file",
    "file-nosync",
    "sqlite-file",
    "sqlite-memory",
    pytest.param("postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[StoreBackend]:
    name = request.param
    directory = str(tmp_path)
    cleanup: list[Callable[[], None]] = []
    if name == "memory":
        made = StoreBackend(name, False, MemoryStoreFactory)
    elif name in ("file", "file-nosync"):
        sync = name == "file"
        made = StoreBackend(name, True, lambda: FileStoreFactory(directory, sync=sync))
    elif name == "sqlite-file":
        from fix_engine.store.sql import SqlStoreFactory

        url = f"sqlite:///{directory}/store.db"
        made = StoreBackend(name, True, lambda: SqlStoreFactory(url))
    elif name == "sqlite-memory":
        from fix_engine.store.sql import SqlStoreFactory, create_sql_engine

        engine = create_sql_engine("sqlite://")  # one in-memory database, shared by the factories
        cleanup.append(engine.dispose)
        made = StoreBackend(name, True, lambda: SqlStoreFactory(engine))
    else:
        from fix_engine.store.sql import SqlStoreFactory

        schema = request.getfixturevalue("postgres_schema")
        engine = request.getfixturevalue("postgres_engine")
        made = StoreBackend(name, True, lambda: SqlStoreFactory(engine, schema=schema))
    try:
        yield made
    finally:
        made.close()
        for action in cleanup:
            action()
