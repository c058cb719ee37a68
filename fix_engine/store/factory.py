"""create_store_factory: the MessageStoreFactory a session's settings ask for."""

from __future__ import annotations

from ..session.settings import SessionSettings
from .base import MessageStoreFactory
from .file import FileStoreFactory
from .memory import MemoryStoreFactory


def create_store_factory(settings: SessionSettings) -> MessageStoreFactory:
    """SQL if ``sql_store_url`` is set, else a file store if ``file_store_path``, else memory.

    The SQL backend is imported only when configured, so SQLAlchemy stays out of processes that
    do not use it.
    """
    if settings.sql_store_url:
        from .sql import SqlStoreFactory

        return SqlStoreFactory(settings.sql_store_url)
    if settings.file_store_path:
        return FileStoreFactory(settings.file_store_path, sync=settings.file_store_sync)
    return MemoryStoreFactory()
