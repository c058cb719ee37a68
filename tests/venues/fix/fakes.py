"""In-memory doubles for FixExchange unit tests: a registry of fake session hosts and a venue factory."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType, SimpleNamespace

from twisted.internet import task

from fix_engine.codec.message import FixMessage
from fix_engine.session.session_id import SessionID
from venues.internal.fix_exchange import FixExchange
from venues.internal.journal import FileJournal
from venues.internal.reference_data import DEMO_INSTRUMENTS
from venues.internal.venue import InternalVenue


@dataclass
class FakeHost:
    """Records what the application sends on one session."""

    session_id: SessionID
    extra: dict[str, str] = field(default_factory=dict)
    sent: list[FixMessage] = field(default_factory=list)
    paused: bool = False
    #: (number of messages sent before, after) of every ``batched()`` group
    groups: list[tuple[int, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.session = SimpleNamespace(settings=SimpleNamespace(extra=MappingProxyType(self.extra)))
        self.protocol = SimpleNamespace(closing=False, _paused=False)

    def send(self, message: FixMessage) -> bool:
        self.sent.append(message)
        return True

    def event(self, text: str) -> None:
        pass

    @contextmanager
    def batched(self) -> Iterator[None]:
        before = len(self.sent)
        yield
        self.groups.append((before, len(self.sent)))

    def of_type(self, msg_type: str) -> list[FixMessage]:
        return [m for m in self.sent if m.msg_type == msg_type]


class FakeRegistry(dict):
    def get(self, session_id):  # type: ignore[override]
        return dict.get(self, session_id)


class Rig:
    """A venue with the demo instruments, a FixExchange on it, and fake sessions."""

    def __init__(self, tmp: Path) -> None:
        self.clock = task.Clock()
        self.clock.advance(1_790_000_000)
        self.now_ns = lambda: int(self.clock.seconds() * 1e9)
        self.journal = FileJournal(tmp / "venue.journal")
        self.venue = InternalVenue("TEST", DEMO_INSTRUMENTS, self.journal, self.now_ns)
        self.registry = FakeRegistry()
        self.exchange = FixExchange(self.venue, self.registry, self.clock)

    def session(self, client: str, begin: str = "FIX.4.4", **extra: str) -> FakeHost:
        sid = SessionID(begin, "FIXGATE", client)
        host = FakeHost(sid, dict(extra))
        self.registry[sid] = host
        self.exchange.on_create(sid)
        self.exchange.on_logon(sid)
        return host

    def send(self, host: FakeHost, msg_type: str, *fields: tuple[int, object]) -> None:
        self.exchange.from_app(FixMessage.new(msg_type, *fields), host.session_id)
        self.clock.advance(0)  # market data flushes once per reactor turn

    def order(self, host: FakeHost, cl: str, side: str, qty: str, px: str | None, symbol: str = "IBM",
              ord_type: str = "2", **more: str) -> None:
        fields: list[tuple[int, object]] = [(11, cl), (38, qty), (40, ord_type), (54, side), (55, symbol),
                                            (60, "20260101-10:00:00.000")]
        if px is not None:
            fields.append((44, px))
        fields += [(int(k[1:]), v) for k, v in more.items()]
        self.send(host, "D", *fields)
