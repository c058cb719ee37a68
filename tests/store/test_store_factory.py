"""create_store_factory picks the backend the settings name."""

from __future__ import annotations

from pathlib import Path

from fix_engine.session.session_id import SessionID
from fix_engine.session.settings import SessionSettings
from fix_engine.store import create_store_factory
from fix_engine.store.file import FileStoreFactory
from fix_engine.store.memory import MemoryStoreFactory
from fix_engine.store.sql import SqlStoreFactory

SESSION = SessionID("FIX.4.4", "BROKER", "CLIENT")


def test_no_store_settings_give_memory() -> None:
    assert isinstance(create_store_factory(SessionSettings(SESSION)), MemoryStoreFactory)


def test_file_store_path_gives_a_file_store_with_its_sync_flag(tmp_path: Path) -> None:
    factory = create_store_factory(
        SessionSettings(SESSION, file_store_path=str(tmp_path), file_store_sync=False)
    )
    assert isinstance(factory, FileStoreFactory)
    assert factory.directory == str(tmp_path)
    assert factory.sync is False


def test_sql_wins_over_file(tmp_path: Path) -> None:
    settings = SessionSettings(
        SESSION, file_store_path=str(tmp_path), sql_store_url=f"sqlite:///{tmp_path}/s.db"
    )
    factory = create_store_factory(settings)
    try:
        assert isinstance(factory, SqlStoreFactory)
        factory.create(SESSION, 0.0).save_and_incr(1, b"x")
        assert (tmp_path / "s.db").exists()
    finally:
        factory.close()
