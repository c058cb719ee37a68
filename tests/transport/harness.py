"""Helpers for transport tests on the real reactor: services from config text, a recording app.

Every wait is a Deferred with a timeout (no sleeps): ``RecordingApp.wait_for`` fires when the
matching callback happens, or fails after ``timeout`` seconds.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from twisted.internet import defer, reactor

from fix_engine.application import Application
from fix_engine.codec.message import FixMessage
from fix_engine.config import parse_config
from fix_engine.session.session_id import SessionID
from fix_engine.transport.acceptor import AcceptorService
from fix_engine.transport.host import SessionRegistry
from fix_engine.transport.initiator import InitiatorService
from fix_engine.transport.session_builder import SessionBuilder

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared test helpers
import event_waits  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class AppEvent:
    """One Application callback: kind in create/logon/logout/from_app/from_admin/to_app/to_admin."""

    kind: str
    session_id: SessionID
    message: FixMessage | None = None


@dataclass
class RecordingApp(Application):
    """Records every callback; ``reply`` (optional) answers application messages."""

    registry: SessionRegistry = field(default_factory=SessionRegistry)
    reply: Callable[[FixMessage, SessionID], FixMessage | None] | None = None
    events: list[AppEvent] = field(default_factory=list)
    _waiters: list[tuple[Callable[[AppEvent], bool], defer.Deferred]] = field(default_factory=list)
    unsupported: bool = False

    def _record(self, event: AppEvent) -> None:
        event_waits.record(self.events, self._waiters, event)

    def on_create(self, session_id: SessionID) -> None:
        self._record(AppEvent("create", session_id))

    def on_logon(self, session_id: SessionID) -> None:
        self._record(AppEvent("logon", session_id))

    def on_logout(self, session_id: SessionID) -> None:
        self._record(AppEvent("logout", session_id))

    def from_admin(self, message: FixMessage, session_id: SessionID) -> None:
        self._record(AppEvent("from_admin", session_id, message))

    def to_admin(self, message: FixMessage, session_id: SessionID) -> None:
        self._record(AppEvent("to_admin", session_id, message))

    def from_app(self, message: FixMessage, session_id: SessionID) -> None:
        self._record(AppEvent("from_app", session_id, message))
        if self.unsupported:
            super().from_app(message, session_id)
        if self.reply is not None:
            answer = self.reply(message, session_id)
            if answer is not None:
                self.registry.send_to_target(answer, session_id)

    def count(self, kind: str) -> int:
        return sum(1 for e in self.events if e.kind == kind)

    def wait_for(self, predicate: Callable[[AppEvent], bool] | str, timeout: float = 10.0, *, seen: bool = True) -> defer.Deferred:
        """Fires with the first event matching (already recorded ones count when ``seen``)."""
        if isinstance(predicate, str):
            kind = predicate
            predicate = lambda e: e.kind == kind  # noqa: E731
        return event_waits.wait_for(
            self.events, self._waiters, predicate, timeout, seen=seen,
            describe=lambda: [(e.kind, e.message and e.message.msg_type) for e in self.events],
        )


def wait_until(condition: Callable[[], bool], timeout: float = 10.0, interval: float = 0.02) -> defer.Deferred:
    """Poll ``condition`` on the reactor until true (fails after ``timeout``): bounded, no sleeps."""
    d: defer.Deferred = defer.Deferred()
    deadline = reactor.seconds() + timeout

    def check() -> None:
        if condition():
            d.callback(None)
        elif reactor.seconds() > deadline:
            d.errback(AssertionError("condition not met in time"))
        else:
            reactor.callLater(interval, check)

    check()
    return d


def acceptor_from(cfg: str, app: RecordingApp, base_dir: Path | None = None) -> AcceptorService:
    sessions = parse_config(cfg, "test-acceptor.cfg", base_dir=base_dir).sessions
    return AcceptorService(sessions, SessionBuilder(app), reactor, registry=app.registry)


def initiator_from(cfg: str, app: RecordingApp, base_dir: Path | None = None) -> InitiatorService:
    sessions = parse_config(cfg, "test-initiator.cfg", base_dir=base_dir).sessions
    return InitiatorService(sessions, SessionBuilder(app), reactor, registry=app.registry)


async def start_acceptor(service: AcceptorService) -> AcceptorService:
    await service.listen()
    service.startService()
    return service


def new_order(cl_ord_id: str, symbol: str = "IBM") -> FixMessage:
    return FixMessage.new(
        "D", (11, cl_ord_id), (21, "1"), (38, "100"), (40, "2"), (44, "10.5"), (54, "1"), (55, symbol),
        (60, "20261122-10:00:00.000"),
    )


def echo(message: FixMessage, session_id: SessionID) -> FixMessage:
    """Answer a NewOrderSingle with a filled ExecutionReport (FIX.4.4 shape)."""
    return FixMessage.new(
        "8", (6, message.get_raw(44)), (11, message.get_raw(11)), (14, message.get_raw(38)), (17, b"E-" + message.get_raw(11)),
        (31, message.get_raw(44)), (32, message.get_raw(38)), (37, b"O-" + message.get_raw(11)), (38, message.get_raw(38)),
        (39, "2"), (54, message.get_raw(54)), (55, message.get_raw(55)), (150, "F"), (151, "0"),
    )
