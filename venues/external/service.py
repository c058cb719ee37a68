"""Running external venues: one InitiatorService whose sessions each belong to one FixVenue."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from fix_engine.application import Application, UnsupportedMessageType
from fix_engine.codec.message import FixMessage
from fix_engine.session.session_id import SessionID
from fix_engine.transport.host import SessionRegistry
from fix_engine.transport.initiator import InitiatorService
from fix_engine.transport.session_builder import SessionBuilder

from .fix_venue import FixVenue

if TYPE_CHECKING:
    from twisted.internet.interfaces import IReactorTime

    from fix_engine.log.base import LogFactory
    from fix_engine.store.base import MessageStoreFactory


class ApplicationRouter(Application):
    """One Application for an engine hosting several sessions: dispatches by SessionID."""

    def __init__(self, applications: dict[SessionID, Application]) -> None:
        self.applications = applications

    def _for(self, session_id: SessionID) -> Application | None:
        return self.applications.get(session_id)

    def on_create(self, session_id: SessionID) -> None:
        app = self._for(session_id)
        if app is not None:
            app.on_create(session_id)

    def on_destroy(self, session_id: SessionID) -> None:
        app = self._for(session_id)
        if app is not None:
            app.on_destroy(session_id)

    def on_logon(self, session_id: SessionID) -> None:
        app = self._for(session_id)
        if app is not None:
            app.on_logon(session_id)

    def on_logout(self, session_id: SessionID) -> None:
        app = self._for(session_id)
        if app is not None:
            app.on_logout(session_id)

    def to_admin(self, message: FixMessage, session_id: SessionID) -> None:
        app = self._for(session_id)
        if app is not None:
            app.to_admin(message, session_id)

    def from_admin(self, message: FixMessage, session_id: SessionID) -> None:
        app = self._for(session_id)
        if app is not None:
            app.from_admin(message, session_id)

    def to_app(self, message: FixMessage, session_id: SessionID) -> None:
        app = self._for(session_id)
        if app is not None:
            app.to_app(message, session_id)

    def from_app(self, message: FixMessage, session_id: SessionID) -> None:
        app = self._for(session_id)
        if app is None:
            raise UnsupportedMessageType()
        app.from_app(message, session_id)


def external_initiator(
    venues: Iterable[FixVenue],
    reactor: object,
    registry: SessionRegistry,
    *,
    clock: IReactorTime | None = None,
    store_factory: MessageStoreFactory | None = None,
    log_factory: LogFactory | None = None,
) -> InitiatorService:
    """An InitiatorService running the session of every venue (not started)."""
    venues = list(venues)
    router = ApplicationRouter({v.session_id: v.application for v in venues})
    builder = SessionBuilder(router, store_factory, log_factory)
    return InitiatorService([v.settings for v in venues], builder, reactor, clock=clock, registry=registry)
