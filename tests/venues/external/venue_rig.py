"""A FixVenue without sockets: a fake session host records what is sent; reports are fed in."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from twisted.internet import task

from fix_engine.codec.message import FixMessage
from fix_engine.config import parse_config
from fix_engine.session.session_id import SessionID
from fix_engine.transport.host import SessionRegistry
from venues.external.fix_venue import FixVenue
from venues.external.journal import ChildOrderJournal

SID44 = SessionID("FIX.4.4", "BROKER", "XCHG")


def settings_for(begin: str = "FIX.4.4", extra: str = "") -> Any:
    cfg = f"""[DEFAULT]
ConnectionType=initiator
NonStopSession=Y
[SESSION]
BeginString={begin}
SenderCompID=BROKER
TargetCompID=XCHG
SocketConnectHost=127.0.0.1
SocketConnectPort=9999
VenueName=XCHG-EU
{extra}
"""
    return parse_config(cfg, "venue.cfg").sessions[0]


@dataclass
class FakeHost:
    """Stands in for a SessionHost: numbers and records what the venue sends."""

    session_id: SessionID
    logged_on: bool = True
    sent: list[FixMessage] = field(default_factory=list)

    @property
    def connected(self) -> bool:
        return self.logged_on

    @property
    def session(self) -> SimpleNamespace:
        return SimpleNamespace(is_logged_on=self.logged_on)

    def send(self, message: FixMessage) -> bool:
        message.set(34, len(self.sent) + 2)
        self.sent.append(message)
        return True


class Rig:
    """A FixVenue on a FakeHost and a Clock; ``journal`` is its child-order journal (default memory).

    A "restarted gateway" is a new Rig on the reopened journal: new venue, table rebuilt from it."""

    def __init__(self, begin: str = "FIX.4.4", extra: str = "", logged_on: bool = True,
                 journal: ChildOrderJournal | None = None, prefix: str = "T") -> None:
        self.clock = task.Clock()
        self.clock.advance(1_767_348_000)
        self.registry = SessionRegistry()
        settings = settings_for(begin, extra)
        self.host = FakeHost(settings.session_id, logged_on)
        self.registry.add(self.host)  # type: ignore[arg-type]
        self.venue = FixVenue(settings, self.registry, clock=self.clock, cl_ord_id_prefix=prefix, journal=journal)
        self.events: list[object] = []
        self.venue.subscribe(self.events.append)

    def feed(self, msg_type: str, *pairs: tuple[int, str]) -> list[object]:
        before = len(self.events)
        self.venue.application.from_app(FixMessage.new(msg_type, *pairs), self.host.session_id)
        return self.events[before:]

    def er(self, cl: str, exec_id: str, exec_type: str, status: str, cum: str, leaves: str, avg: str,
           *extra: tuple[int, str]) -> list[object]:
        return self.feed(
            "8", (6, avg), (11, cl), (14, cum), (17, exec_id), (37, "EX-1"), (39, status), (54, "1"), (55, "IBM"),
            (60, "20260102-10:00:01.000"), (150, exec_type), (151, leaves), *extra,
        )
