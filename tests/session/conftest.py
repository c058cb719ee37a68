"""Harness for the pure Session: a scripted counterparty and a wired pair of sessions.

Time is a plain float (``T0`` plus offsets) passed into every call; nothing sleeps.

``make_harness(role=..., begin=..., logged_on=..., **settings)`` -> :class:`Harness`: one Session
  under test; ``h.feed("D", (11, "X"), seq=..., ...)`` crafts exact wire bytes from the peer with
  ``encode_fields`` and returns a :class:`Step` (parsed replies, events, disconnect reason).
``make_pair(begin=..., initiator=dict(...), acceptor=dict(...))`` -> :class:`Pair`: an initiator
  and an acceptor Session whose Send actions are fed to each other through ``FrameParser``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

from fix_engine.application import Application, DoNotSend
from fix_engine.codec import FixMessage, Frame, FrameParser, encode_fields, format_epoch_timestamp
from fix_engine.dictionary.violations import Violation
from fix_engine.session.actions import Action, Disconnect, Event, Send
from fix_engine.session.session import Session
from fix_engine.session.session_id import SessionID
from fix_engine.session.settings import ConnectionType, SessionSettings
from fix_engine.store.memory import MemoryStore

#: 2023-11-14 22:13:20 UTC, a whole second.
T0 = 1_700_000_000.0


def ts(now: float, precision: int = 3) -> bytes:
    return format_epoch_timestamp(now, precision)


class RecordingApp(Application):
    """Records every callback; behaviour is configured by assigning the hooks.

    Without ``from_app_hook`` it behaves like the base Application (UnsupportedMessageType).
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.from_app_hook: Callable[[FixMessage], None] | None = None
        self.from_admin_hook: Callable[[FixMessage], None] | None = None
        self.to_app_hook: Callable[[FixMessage], None] | None = None
        self.received: list[FixMessage] = []

    def on_create(self, session_id: SessionID) -> None:
        self.calls.append(("on_create", session_id))

    def on_logon(self, session_id: SessionID) -> None:
        self.calls.append(("on_logon", session_id))

    def on_logout(self, session_id: SessionID) -> None:
        self.calls.append(("on_logout", session_id))

    def to_admin(self, message: FixMessage, session_id: SessionID) -> None:
        self.calls.append(("to_admin", message.get(35)))

    def from_admin(self, message: FixMessage, session_id: SessionID) -> None:
        self.calls.append(("from_admin", message.get(35)))
        if self.from_admin_hook is not None:
            self.from_admin_hook(message)

    def to_app(self, message: FixMessage, session_id: SessionID) -> None:
        self.calls.append(("to_app", message.get(35)))
        if self.to_app_hook is not None:
            self.to_app_hook(message)

    def from_app(self, message: FixMessage, session_id: SessionID) -> None:
        self.calls.append(("from_app", message.get(35)))
        if self.from_app_hook is None:
            super().from_app(message, session_id)  # UnsupportedMessageType, like Application
        else:
            self.from_app_hook(message)
        self.received.append(message)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def received_ids(self, tag: int = 11) -> list[str | None]:
        return [m.get(tag) for m in self.received]


def do_not_send(message: FixMessage) -> None:
    raise DoNotSend()


def make_settings(
    role: str = "acceptor",
    begin: str = "FIX.4.4",
    ours: str = "ACC",
    theirs: str = "INI",
    **kw: Any,
) -> SessionSettings:
    kw.setdefault("heart_bt_int", 30)
    if begin == "FIXT.1.1":
        kw.setdefault("default_appl_ver_id", "9")
    return SessionSettings(
        session_id=SessionID(begin, ours, theirs),
        connection_type=ConnectionType.INITIATOR if role == "initiator" else ConnectionType.ACCEPTOR,
        **kw,
    )


@dataclass
class Step:
    """The outcome of one call into the Session."""

    actions: list[Action]
    messages: list[FixMessage] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.messages = [FixMessage.parse(a.data) for a in self.actions if isinstance(a, Send)]

    @property
    def types(self) -> list[str]:
        return [m.get(35) or "" for m in self.messages]

    @property
    def disconnect(self) -> str | None:
        for action in self.actions:
            if isinstance(action, Disconnect):
                return action.reason
        return None

    @property
    def events(self) -> list[str]:
        return [a.text for a in self.actions if isinstance(a, Event)]

    def only(self, msg_type: str | None = None) -> FixMessage:
        """The single message sent (of ``msg_type``)."""
        found = [m for m in self.messages if msg_type is None or m.get(35) == msg_type]
        assert len(found) == 1, f"expected one {msg_type} message, got {self.types}"
        return found[0]


class Harness:
    """One Session under test, and a scripted counterparty that writes exact wire bytes."""

    def __init__(
        self,
        settings: SessionSettings,
        *,
        validator: Callable[[FixMessage], list[Violation]] | None = None,
        is_known_msg_type: Callable[[str], bool] | None = None,
        now: float = T0,
        store: MemoryStore | None = None,
        log: Any = None,
    ) -> None:
        self.settings = settings
        self.now = now
        self.app = RecordingApp()
        self.store = store if store is not None else MemoryStore(now)
        self.session = Session(
            settings, self.store, self.app, validator=validator, is_known_msg_type=is_known_msg_type, log=log
        )
        sid = settings.session_id
        self.begin = sid.begin_string
        self.peer = sid.target_comp_id
        self.us = sid.sender_comp_id
        self.peer_seq = 1
        self.parser = FrameParser()
        self.history: list[Step] = []

    # ----- driving
    def _step(self, actions: list[Action]) -> Step:
        step = Step(actions)
        self.history.append(step)
        return step

    def connect(self) -> Step:
        return self._step(self.session.on_connect(self.now))

    def tick(self, seconds: float = 0.0) -> Step:
        self.now += seconds
        return self._step(self.session.on_timer(self.now))

    def disconnect(self) -> Step:
        return self._step(self.session.on_disconnect(self.now))

    def send(self, message: FixMessage) -> Step:
        return self._step(self.session.send(message, self.now))

    def build(
        self,
        msg_type: str,
        *body: tuple[int, Any],
        seq: int | None = None,
        begin: str | None = None,
        sender: str | None = None,
        target: str | None = None,
        sending_time: bytes | None = None,
        poss_dup: bool = False,
        orig_sending_time: bytes | None = None,
        header: Iterable[tuple[int, Any]] = (),
        omit: Iterable[int] = (),
    ) -> bytes:
        """Exact wire bytes from the counterparty (``seq`` None: its next number, which advances)."""
        if seq is None:
            seq = self.peer_seq
            self.peer_seq += 1
        fields: list[tuple[int, bytes]] = [
            (8, (begin or self.begin).encode()),
            (35, msg_type.encode()),
            (49, (self.peer if sender is None else sender).encode()),
            (56, (self.us if target is None else target).encode()),
            (34, str(seq).encode()),
        ]
        if poss_dup:
            fields.append((43, b"Y"))
        fields.append((52, ts(self.now) if sending_time is None else sending_time))
        if orig_sending_time is not None:
            fields.append((122, orig_sending_time))
        fields += [(t, _b(v)) for t, v in header]
        fields += [(t, _b(v)) for t, v in body]
        skip = set(omit)
        return encode_fields([f for f in fields if f[0] not in skip])

    def feed_raw(self, raw: bytes) -> Step:
        actions: list[Action] = []
        for frame in self.parser.feed(raw):
            actions += self.session.on_frame(frame, self.now)
        return self._step(actions)

    def feed_frame(self, frame: Frame) -> Step:
        return self._step(self.session.on_frame(frame, self.now))

    def feed(self, msg_type: str, *body: tuple[int, Any], **kw: Any) -> Step:
        return self.feed_raw(self.build(msg_type, *body, **kw))

    def logon(self, *body: tuple[int, Any], heart_bt_int: int = 30, **kw: Any) -> Step:
        """The counterparty's Logon (acceptor under test) or its answer (initiator under test)."""
        fields: list[tuple[int, Any]] = [(98, "0"), (108, heart_bt_int)]
        if self.begin == "FIXT.1.1":
            fields.append((1137, "9"))
        return self.feed("A", *fields, *body, **kw)

    def ts(self, offset: float = 0.0, precision: int = 3) -> bytes:
        """UTCTimestamp of ``now + offset``."""
        return ts(self.now + offset, precision)

    def app_message(self, cl_ord_id: str = "1") -> FixMessage:
        return FixMessage.new(
            "D", (11, cl_ord_id), (21, "1"), (55, "IBM"), (54, "1"), (60, ts(self.now)), (40, "1")
        )

    # ----- inspection
    @property
    def state(self) -> Any:
        return self.session.state

    def stored(self) -> list[FixMessage]:
        return [FixMessage.parse(raw) for _, raw in self.store.get_range(1, 10**6)]


def _b(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode()


class Pair:
    """An initiator and an acceptor wired through their Send actions (FrameParser in between).

    ``drop`` is a predicate over (direction, parsed message): True loses that message in transit.
    ``transcript`` holds every delivered message as (direction, FixMessage), direction "I>A"/"A>I".
    """

    def __init__(self, initiator: SessionSettings, acceptor: SessionSettings, now: float = T0) -> None:
        self.now = now
        self.ini = Harness(initiator, now=now)
        self.acc = Harness(acceptor, now=now)
        self._parsers = {"I>A": FrameParser(), "A>I": FrameParser()}
        self.transcript: list[tuple[str, FixMessage]] = []
        self.drop: Callable[[str, FixMessage], bool] = lambda direction, message: False
        self.disconnects: list[tuple[str, str]] = []
        self.link_up = False

    def _deliver(self, direction: str, actions: list[Action]) -> None:
        queue: list[tuple[str, list[Action]]] = [(direction, actions)]
        while queue:
            direction, actions = queue.pop(0)
            target = self.acc if direction == "I>A" else self.ini
            back = "A>I" if direction == "I>A" else "I>A"
            for action in actions:
                if isinstance(action, Disconnect):
                    self.disconnects.append((direction, action.reason))
                    if self.link_up:
                        # the transport closes the socket: both ends see connectionLost
                        self.link_up = False
                        self.ini.session.on_disconnect(self.now)
                        self.acc.session.on_disconnect(self.now)
                    continue
                if not isinstance(action, Send) or not self.link_up:
                    continue
                message = FixMessage.parse(action.data)
                if self.drop(direction, message):
                    continue
                self.transcript.append((direction, message))
                for frame in self._parsers[direction].feed(action.data):
                    queue.append((back, target.session.on_frame(frame, self.now)))

    def connect(self) -> None:
        self.link_up = True
        self._parsers = {"I>A": FrameParser(), "A>I": FrameParser()}
        self._deliver("I>A", self.ini.session.on_connect(self.now))

    def send(self, side: str, message: FixMessage) -> None:
        harness = self.ini if side == "initiator" else self.acc
        self._deliver("I>A" if side == "initiator" else "A>I", harness.session.send(message, self.now))

    def tick(self, seconds: float) -> None:
        self.now += seconds
        self._deliver("I>A", self.ini.session.on_timer(self.now))
        self._deliver("A>I", self.acc.session.on_timer(self.now))

    def logout(self, side: str, text: str = "") -> None:
        harness = self.ini if side == "initiator" else self.acc
        self._deliver("I>A" if side == "initiator" else "A>I", harness.session.logout(self.now, text))

    def types(self, direction: str | None = None) -> list[str]:
        return [m.get(35) or "" for d, m in self.transcript if direction is None or d == direction]


@pytest.fixture
def make_harness() -> Callable[..., Harness]:
    def factory(
        role: str = "acceptor",
        begin: str = "FIX.4.4",
        *,
        logged_on: bool = False,
        validator: Callable[[FixMessage], list[Violation]] | None = None,
        is_known_msg_type: Callable[[str], bool] | None = None,
        store: MemoryStore | None = None,
        log: Any = None,
        **settings: Any,
    ) -> Harness:
        h = Harness(
            make_settings(role, begin, **settings),
            validator=validator,
            is_known_msg_type=is_known_msg_type,
            store=store,
            log=log,
        )
        if logged_on:
            h.connect()
            step = h.logon()
            assert h.session.is_logged_on, step.events
        return h

    return factory


@pytest.fixture
def make_pair() -> Callable[..., Pair]:
    def factory(
        begin: str = "FIX.4.4",
        initiator: dict[str, Any] | None = None,
        acceptor: dict[str, Any] | None = None,
    ) -> Pair:
        return Pair(
            make_settings("initiator", begin, ours="INI", theirs="ACC", **(initiator or {})),
            make_settings("acceptor", begin, ours="ACC", theirs="INI", **(acceptor or {})),
        )

    return factory


@pytest.fixture
def T() -> float:
    return T0
