"""SessionBuilder: turns SessionSettings into a hosted Session (store, log, dictionaries wired in).

One builder per engine.  It shares store and log factories between sessions that use the same
backend (one SQL engine for many sessions), loads each data dictionary once, and calls the
application's ``on_create`` for every session it builds, templated ones included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ..application import Application
from ..log import create_log_factory
from ..log.base import LogFactory
from ..session.session import Session
from ..session.session_id import SessionID
from ..session.settings import SessionSettings
from ..store import create_store_factory
from ..store.base import MessageStoreFactory
from .host import SessionHost
from .validation_wiring import validation_for


class SessionBuilder:
    """Creates :class:`SessionHost` objects for an engine (acceptor or initiator)."""

    def __init__(
        self,
        application: Application,
        store_factory: MessageStoreFactory | None = None,
        log_factory: LogFactory | None = None,
    ) -> None:
        self.application = application
        self._store_factory = store_factory
        self._log_factory = log_factory
        self._store_factories: dict[tuple[str, str, bool], MessageStoreFactory] = {}
        self._log_factories: dict[tuple[object, ...], LogFactory] = {}

    def _stores_for(self, settings: SessionSettings) -> MessageStoreFactory:
        if self._store_factory is not None:
            return self._store_factory
        key = (settings.sql_store_url, settings.file_store_path, settings.file_store_sync)
        factory = self._store_factories.get(key)
        if factory is None:
            factory = self._store_factories[key] = create_store_factory(settings)
        return factory

    def _logs_for(self, settings: SessionSettings) -> LogFactory:
        if self._log_factory is not None:
            return self._log_factory
        key = (
            settings.sql_log_url,
            settings.file_log_path,
            settings.screen_log,
            settings.screen_log_show_incoming,
            settings.screen_log_show_outgoing,
            settings.screen_log_show_events,
        )
        factory = self._log_factories.get(key)
        if factory is None:
            factory = self._log_factories[key] = create_log_factory(settings)
        return factory

    def build(self, settings: SessionSettings, session_id: SessionID, now: Callable[[], float]) -> SessionHost:
        if session_id != settings.session_id:
            settings = replace(settings, session_id=session_id)
        store = self._stores_for(settings).create(session_id, now())
        log = self._logs_for(settings).create(session_id)
        validation = validation_for(settings)
        session = Session(
            settings,
            store,
            self.application,
            validator=validation.validator,
            is_known_msg_type=validation.is_known_msg_type,
            data_length_tags=validation.data_length_tags,
            log=log,
        )
        host = SessionHost(session, now, log)
        self.application.on_create(session_id)
        return host

    def close(self) -> None:
        for factory in self._store_factories.values():
            factory.close()
        for log_factory in self._log_factories.values():
            close = getattr(log_factory, "close", None)
            if close is not None:
                close()
