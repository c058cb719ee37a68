"""create_log_factory: the LogFactory a session's settings ask for."""

from __future__ import annotations

from ..session.settings import SessionSettings
from .base import LogFactory, NullLogFactory
from .composite import CompositeLogFactory
from .file import FileLogFactory
from .screen import ScreenLogFactory


def create_log_factory(settings: SessionSettings) -> LogFactory:
    """File (FileLogPath), SQL (sql_log_url) and screen (ScreenLogShow*) logs, composed; NullLog if none.

    The SQL backend is imported only when configured, so SQLAlchemy stays out of processes that
    do not use it.
    """
    factories: list[LogFactory] = []
    if settings.file_log_path:
        factories.append(FileLogFactory(settings.file_log_path))
    if settings.sql_log_url:
        from .sql import SqlLogFactory

        factories.append(SqlLogFactory(settings.sql_log_url))
    if settings.screen_log:
        factories.append(
            ScreenLogFactory(
                incoming=settings.screen_log_show_incoming,
                outgoing=settings.screen_log_show_outgoing,
                events=settings.screen_log_show_events,
            )
        )
    if not factories:
        return NullLogFactory()
    if len(factories) == 1:
        return factories[0]
    return CompositeLogFactory(factories)
