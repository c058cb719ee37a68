"""Hostile and broken peers against the acceptor, on StringTransport with a Clock (deterministic).

Each test drives :class:`FixAcceptorFactory` the way the reactor would: ``buildProtocol``,
``makeConnection`` on a :class:`StringTransport`, ``dataReceived`` with what the peer sends and
``Clock.advance`` for time.  What the acceptor must do (QuickFIX's reactions): skip garbage,
drop a first message that is not a valid Logon without answering, refuse unknown CompIDs and a
second connection for a logged-on session, drop a socket that never logs on after LogonTimeout,
drop a peer announcing more than MaxMessageSize, never buffer without bound, and keep one
connection's failure (an application exception included) away from the others.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python import log as twisted_log
from twisted.python.failure import Failure

from fix_engine.application import Application
from fix_engine.codec.encoding import encode
from fix_engine.codec.errors import FieldNotFound, FieldValueError
from fix_engine.codec.framing import MAX_HEADER_SIZE
from fix_engine.codec.message import FixMessage, format_epoch_timestamp
from fix_engine.config import parse_config
from fix_engine.log.base import Log, LogFactory
from fix_engine.session.session_id import SessionID
from fix_engine.transport.acceptor import FixAcceptorFactory
from fix_engine.transport.host import SessionRegistry
from fix_engine.transport.protocol import FixProtocol
from fix_engine.transport.session_builder import SessionBuilder

NOW = 1_790_000_000.0
PEER = IPv4Address("TCP", "127.0.0.1", 40000)
CLIENT1 = SessionID("FIX.4.4", "SERVER", "CLIENT1")
CLIENT2 = SessionID("FIX.4.4", "SERVER", "CLIENT2")


class RecordingLog(Log):
    def __init__(self, events: list[str]) -> None:
        self.events = events

    def on_incoming(self, raw: bytes, now: float) -> None:
        pass

    def on_outgoing(self, raw: bytes, now: float) -> None:
        pass

    def on_event(self, text: str, now: float) -> None:
        self.events.append(text)


class RecordingLogFactory(LogFactory):
    """Every session's events, by SessionID."""

    def __init__(self) -> None:
        self.events: dict[SessionID | None, list[str]] = {}

    def create(self, session_id: SessionID | None) -> Log:
        return RecordingLog(self.events.setdefault(session_id, []))


class App(Application):
    """Records callbacks; ``explode`` maps a ClOrdID to the exception ``from_app`` raises for it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, SessionID, str]] = []
        self.lifecycle: list[tuple[str, SessionID]] = []  #: on_create / on_destroy
        self.explode: dict[str, Exception] = {}

    def on_logon(self, session_id: SessionID) -> None:
        self.calls.append(("logon", session_id, ""))

    def on_create(self, session_id: SessionID) -> None:
        self.lifecycle.append(("create", session_id))

    def on_destroy(self, session_id: SessionID) -> None:
        self.lifecycle.append(("destroy", session_id))

    def on_logout(self, session_id: SessionID) -> None:
        self.calls.append(("logout", session_id, ""))

    def from_app(self, message: FixMessage, session_id: SessionID) -> None:
        cl_ord_id = message.get(11) or ""
        self.calls.append(("from_app", session_id, cl_ord_id))
        error = self.explode.get(cl_ord_id)
        if error is not None:
            raise error

    def received(self, session_id: SessionID) -> list[str]:
        return [c for kind, sid, c in self.calls if kind == "from_app" and sid == session_id]


def message(
    sender: str, seq: int, msg_type: str, *fields: tuple[int, bytes], target: str = "SERVER", sent: float = NOW
) -> bytes:
    msg = FixMessage.new(
        msg_type, (49, sender.encode()), (56, target.encode()), (34, b"%d" % seq),
        (52, format_epoch_timestamp(sent, 3)), *fields,
    )
    msg.fields.insert(0, (8, b"FIX.4.4"))
    return encode(msg)


def logon(sender: str, seq: int = 1, target: str = "SERVER", sent: float = NOW) -> bytes:
    return message(sender, seq, "A", (98, b"0"), (108, b"30"), target=target, sent=sent)


def order(sender: str, seq: int, cl_ord_id: str) -> bytes:
    return message(
        sender, seq, "D", (11, cl_ord_id.encode()), (21, b"1"), (38, b"100"), (40, b"2"), (44, b"10"),
        (54, b"1"), (55, b"IBM"), (60, b"20260101-00:00:00"),
    )


class Acceptor:
    """An acceptor factory for CLIENT1 and CLIENT2 (and any ``sessions``) on a Clock."""

    def __init__(self, tmp_path: Path, extra: str = "", sessions: str = "") -> None:
        sessions = sessions or "[SESSION]\nTargetCompID=CLIENT1\n[SESSION]\nTargetCompID=CLIENT2\n"
        config = f"""[DEFAULT]
ConnectionType=acceptor
BeginString=FIX.4.4
SenderCompID=SERVER
SocketAcceptPort=1
FileStorePath={tmp_path}/store
NonStopSession=Y
HeartBtInt=30
DataDictionary=FIX44.xml
{extra}
{sessions}"""
        self.clock = Clock()
        self.clock.advance(NOW)
        self.app = App()
        self.logs = RecordingLogFactory()
        self.registry = SessionRegistry()
        settings = parse_config(config, "hostile.cfg").sessions
        self.factory = FixAcceptorFactory(settings, SessionBuilder(self.app, log_factory=self.logs), self.clock, self.registry)

    def connect(self) -> tuple[FixProtocol, StringTransport]:
        protocol = self.factory.buildProtocol(PEER)
        transport = StringTransport(peerAddress=PEER)
        protocol.makeConnection(transport)
        return protocol, transport

    def logged_on(self, sender: str) -> tuple[FixProtocol, StringTransport]:
        protocol, transport = self.connect()
        protocol.dataReceived(logon(sender))
        assert b"35=A\x01" in transport.value(), transport.value()
        transport.clear()
        return protocol, transport

    def lose(self, protocol: FixProtocol) -> None:
        """What the reactor does once a dropped connection is closed."""
        protocol.connectionLost(Failure(ConnectionDone()))

    def events(self, session_id: SessionID) -> list[str]:
        return self.logs.events.get(session_id, [])


@pytest.fixture
def acceptor(tmp_path: Path) -> Acceptor:
    return Acceptor(tmp_path)


@pytest.fixture
def engine_log() -> list[str]:
    """What the engine logs outside any session (twisted's log)."""
    lines: list[str] = []

    def observer(event: dict) -> None:
        text = twisted_log.textFromEventDict(event)
        if text:
            lines.append(text)

    twisted_log.addObserver(observer)
    yield lines
    twisted_log.removeObserver(observer)


def dropped(transport: StringTransport) -> bool:
    return bool(transport.disconnecting or transport.disconnected)


def bound(limit_body: int) -> int:
    """The most a parser may buffer for a frame of ``limit_body`` bytes."""
    return MAX_HEADER_SIZE + limit_body + 7


# --------------------------------------------------------------------------- garbage and framing


@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_garbage_before_the_logon_is_skipped(acceptor: Acceptor, chunk: int) -> None:
    protocol, transport = acceptor.connect()
    data = b"\x00\xffGET / HTTP/1.1\r\n8=FIY\x0110=000\x01garbage" + logon("CLIENT1")
    for i in range(0, len(data), chunk):
        protocol.dataReceived(data[i : i + chunk])
    assert b"35=A\x01" in transport.value()
    assert not dropped(transport)
    assert protocol.host is not None and protocol.host.session.is_logged_on


def test_garbage_between_messages_is_skipped_without_reject(acceptor: Acceptor) -> None:
    protocol, transport = acceptor.logged_on("CLIENT1")
    protocol.dataReceived(b"\r\n\x00junk" + order("CLIENT1", 2, "O2") + b"8=FI" + b"\x01\x01" + order("CLIENT1", 3, "O3"))
    assert acceptor.app.received(CLIENT1) == ["O2", "O3"]
    assert transport.value() == b""  # no Reject, no ResendRequest
    assert not dropped(transport)


def test_huge_body_length_as_first_message_is_dropped_unanswered(acceptor: Acceptor, engine_log: list[str]) -> None:
    protocol, transport = acceptor.connect()
    protocol.dataReceived(b"8=FIX.4.4\x019=999999999\x0135=A\x01" + b"x" * 4096)
    assert dropped(transport)
    assert transport.value() == b""
    assert protocol.parser.buffered <= MAX_HEADER_SIZE
    assert any("garbled first message" in line for line in engine_log)


def test_message_over_max_message_size_after_logon_drops_the_connection(tmp_path: Path) -> None:
    acceptor = Acceptor(tmp_path, extra="MaxMessageSize=4096")
    protocol, transport = acceptor.logged_on("CLIENT1")
    other, other_transport = acceptor.logged_on("CLIENT2")
    protocol.dataReceived(b"8=FIX.4.4\x019=999999999\x0135=D\x01" + b"x" * 10_000)
    assert dropped(transport)
    assert protocol.parser.buffered <= bound(4096)
    assert any("MaxMessageSize" in text for text in acceptor.events(CLIENT1)), acceptor.events(CLIENT1)
    acceptor.lose(protocol)
    # the other session goes on
    other.dataReceived(order("CLIENT2", 2, "X2"))
    assert acceptor.app.received(CLIENT2) == ["X2"]
    assert not dropped(other_transport)


def test_a_message_of_exactly_max_message_size_is_accepted(tmp_path: Path) -> None:
    acceptor = Acceptor(tmp_path, extra="MaxMessageSize=4096")
    protocol, transport = acceptor.logged_on("CLIENT1")
    small = order("CLIENT1", 2, "FITS")
    body = small[small.index(b"\x0135=") + 1 : small.rindex(b"10=")]
    assert len(body) <= 4096
    protocol.dataReceived(small)
    assert acceptor.app.received(CLIENT1) == ["FITS"]
    assert not dropped(transport)


@pytest.mark.parametrize(
    "endless",
    [
        b"x" * 997,  # no SOH, no 8=
        b"8=FIX.4.4" + b"y" * 990,  # a BeginString that never ends
        b"8=FIX.4.4\x019=" + b"9" * 985,  # a BodyLength that never ends
    ],
)
def test_endless_input_without_a_frame_stays_bounded_before_logon(acceptor: Acceptor, endless: bytes) -> None:
    protocol, transport = acceptor.connect()
    head, tail = endless[:20], endless[20:]
    protocol.dataReceived(head)
    for _ in range(2000):  # ~2 MB
        protocol.dataReceived(tail)
        assert protocol.parser.buffered <= MAX_HEADER_SIZE + len(tail)
        if dropped(transport):
            break
    assert transport.value() == b""
    assert acceptor.app.calls == []


def test_endless_message_after_logon_stays_bounded(tmp_path: Path) -> None:
    acceptor = Acceptor(tmp_path, extra="MaxMessageSize=8192")
    protocol, transport = acceptor.logged_on("CLIENT1")
    protocol.dataReceived(b"8=FIX.4.4\x019=8000\x0135=D\x01")  # announces 8000 bytes, sends far more, no SOH
    for _ in range(1000):
        protocol.dataReceived(b"z" * 1000)
        assert protocol.parser.buffered <= bound(8192) + 1000
    assert not acceptor.app.received(CLIENT1)


# --------------------------------------------------------------------------- logon timeout


def test_silent_connection_is_dropped_after_logon_timeout(acceptor: Acceptor, engine_log: list[str]) -> None:
    protocol, transport = acceptor.connect()
    acceptor.clock.advance(9.9)
    assert not dropped(transport)
    acceptor.clock.advance(0.2)
    assert dropped(transport)
    assert transport.value() == b""
    assert any("LogonTimeout" in line or "logon" in line.lower() for line in engine_log), engine_log
    acceptor.lose(protocol)
    assert protocol not in acceptor.factory.connections
    assert not acceptor.clock.getDelayedCalls()


def test_configured_logon_timeout_applies_to_a_connection_with_a_partial_logon(tmp_path: Path) -> None:
    acceptor = Acceptor(tmp_path, extra="LogonTimeout=3")
    protocol, transport = acceptor.connect()
    protocol.dataReceived(logon("CLIENT1")[:30])  # a Logon that never completes
    acceptor.clock.advance(2.9)
    assert not dropped(transport)
    acceptor.clock.advance(0.2)
    assert dropped(transport)


def test_logon_timeout_of_a_port_is_the_longest_of_its_sessions(tmp_path: Path) -> None:
    sessions = "[SESSION]\nTargetCompID=CLIENT1\nLogonTimeout=2\n[SESSION]\nTargetCompID=CLIENT2\nLogonTimeout=5\n"
    acceptor = Acceptor(tmp_path, sessions=sessions)
    _, transport = acceptor.connect()
    acceptor.clock.advance(4.9)
    assert not dropped(transport)
    acceptor.clock.advance(0.2)
    assert dropped(transport)


def test_a_connection_that_logs_on_in_time_is_not_timed_out(acceptor: Acceptor) -> None:
    protocol, transport = acceptor.connect()
    acceptor.clock.advance(5)
    protocol.dataReceived(logon("CLIENT1"))
    acceptor.clock.advance(20)
    assert not dropped(transport)
    assert protocol.host is not None and protocol.host.session.is_logged_on


def test_connection_closed_by_the_peer_cancels_its_logon_timer(acceptor: Acceptor) -> None:
    protocol, _ = acceptor.connect()
    acceptor.lose(protocol)
    assert not acceptor.clock.getDelayedCalls()
    assert not acceptor.factory.connections


# --------------------------------------------------------------------------- first message


@pytest.mark.parametrize("first", ["heartbeat", "order", "logout"])
def test_first_message_not_a_logon_is_dropped_unanswered(acceptor: Acceptor, first: str) -> None:
    protocol, transport = acceptor.connect()
    data = {
        "heartbeat": message("CLIENT1", 1, "0"),
        "order": order("CLIENT1", 1, "EARLY"),
        "logout": message("CLIENT1", 1, "5"),
    }[first]
    protocol.dataReceived(data + logon("CLIENT1", 2))
    assert dropped(transport)
    assert transport.value() == b""
    assert acceptor.app.calls == []
    acceptor.lose(protocol)
    # the session is free for a proper logon afterwards
    _, again = acceptor.logged_on("CLIENT1")
    assert not dropped(again)


def test_logon_for_an_unknown_session_is_dropped_unanswered(acceptor: Acceptor, engine_log: list[str]) -> None:
    protocol, transport = acceptor.connect()
    protocol.dataReceived(logon("STRANGER"))
    assert dropped(transport)
    assert transport.value() == b""
    assert len(acceptor.registry) == 2  # no session was created for it
    assert any("unknown session" in line for line in engine_log), engine_log


def test_logon_naming_another_target_comp_id_is_dropped(acceptor: Acceptor) -> None:
    protocol, transport = acceptor.connect()
    protocol.dataReceived(logon("CLIENT1", target="NOTUS"))
    assert dropped(transport)
    assert transport.value() == b""


def test_logon_with_a_wrong_begin_string_is_dropped(acceptor: Acceptor) -> None:
    protocol, transport = acceptor.connect()
    protocol.dataReceived(logon("CLIENT1").replace(b"8=FIX.4.4", b"8=FIX.4.2", 1))  # checksum now wrong too
    assert dropped(transport)
    assert transport.value() == b""


def test_second_connection_for_a_logged_on_session_is_refused_first_unharmed(acceptor: Acceptor) -> None:
    first, first_transport = acceptor.logged_on("CLIENT1")
    session = first.host.session
    next_target = session.store.next_target_seq_num()
    intruder, intruder_transport = acceptor.connect()
    intruder.dataReceived(logon("CLIENT1", seq=1) + order("CLIENT1", 2, "INTRUDER"))
    assert dropped(intruder_transport)
    assert intruder_transport.value() == b""
    acceptor.lose(intruder)
    # the first connection is untouched: same host binding, same numbers, still working
    assert first.host is not None and first.host.protocol is first
    assert session.store.next_target_seq_num() == next_target
    first.dataReceived(order("CLIENT1", 2, "STILL"))
    assert acceptor.app.received(CLIENT1) == ["STILL"]
    assert not dropped(first_transport)
    assert ("logout", CLIENT1, "") not in acceptor.app.calls


# --------------------------------------------------------------------------- templated sessions


TEMPLATED = "[SESSION]\nTargetCompID=CLIENT1\n[SESSION]\nTargetCompID=*\n"


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0


def test_refused_logons_with_sprayed_comp_ids_leave_no_sessions_behind(tmp_path: Path) -> None:
    acceptor = Acceptor(tmp_path, sessions=TEMPLATED)
    before_fds = open_fds()
    for i in range(100):
        protocol, transport = acceptor.connect()
        protocol.dataReceived(logon(f"SPRAY{i}", sent=NOW - 3600))  # SendingTime far off: refused
        assert dropped(transport)
        acceptor.lose(protocol)
    assert [str(h.session_id) for h in acceptor.registry] == ["FIX.4.4:SERVER->CLIENT1"]
    assert len(acceptor.factory.hosts) == 1
    assert open_fds() <= before_fds + 2  # the refused sessions' stores were closed
    created = [sid for kind, sid in acceptor.app.lifecycle if kind == "create" and sid.target_comp_id.startswith("SPRAY")]
    destroyed = [sid for kind, sid in acceptor.app.lifecycle if kind == "destroy"]
    assert len(created) == 100 and destroyed == created  # the application forgot each one (on_destroy)
    # a counterparty that logs on keeps its session after it disconnects
    protocol, _ = acceptor.logged_on("NEWFIRM")
    acceptor.lose(protocol)
    assert SessionID("FIX.4.4", "SERVER", "NEWFIRM") in acceptor.registry
    again, transport = acceptor.connect()
    again.dataReceived(logon("NEWFIRM", seq=2))
    assert b"35=A\x01" in transport.value()


def test_only_a_logon_creates_a_templated_session(tmp_path: Path, engine_log: list[str]) -> None:
    acceptor = Acceptor(tmp_path, sessions=TEMPLATED)
    protocol, transport = acceptor.connect()
    protocol.dataReceived(message("NOBODY", 1, "0"))
    assert dropped(transport)
    assert transport.value() == b""
    assert len(acceptor.registry) == 1
    assert any("is not a Logon" in line for line in engine_log), engine_log


def test_templated_session_is_not_created_for_a_peer_outside_allowed_remote_addresses(tmp_path: Path) -> None:
    acceptor = Acceptor(tmp_path, sessions=TEMPLATED, extra="AllowedRemoteAddresses=10.9.9.9")
    protocol, transport = acceptor.connect()
    protocol.dataReceived(logon("NEWFIRM"))
    assert dropped(transport)
    assert len(acceptor.registry) == 1
    assert acceptor.app.calls == []


# --------------------------------------------------------------------------- many connections, resets


def test_many_connections_open_and_close_leave_nothing_behind(acceptor: Acceptor) -> None:
    protocols = [acceptor.connect() for _ in range(200)]
    half = logon("CLIENT1")[:25]
    for i, (protocol, _) in enumerate(protocols):
        if i % 3 == 0:
            protocol.dataReceived(half)  # reset mid-message
        elif i % 3 == 1:
            protocol.dataReceived(b"noise")
    for protocol, _ in protocols:
        acceptor.lose(protocol)
    assert not acceptor.factory.connections
    assert not acceptor.clock.getDelayedCalls()
    _, transport = acceptor.logged_on("CLIENT1")
    assert not dropped(transport)


def test_peer_reset_mid_message_after_logon_frees_the_session(acceptor: Acceptor) -> None:
    protocol, _ = acceptor.logged_on("CLIENT1")
    protocol.dataReceived(order("CLIENT1", 2, "HALF")[:40])
    acceptor.lose(protocol)
    assert not protocol.host.connected
    assert ("logout", CLIENT1, "") in acceptor.app.calls
    again, transport = acceptor.connect()
    again.dataReceived(logon("CLIENT1", seq=2))
    assert b"35=A\x01" in transport.value()
    assert acceptor.app.received(CLIENT1) == []


def test_data_after_the_drop_is_ignored(acceptor: Acceptor) -> None:
    protocol, transport = acceptor.connect()
    protocol.dataReceived(logon("STRANGER"))
    assert dropped(transport)
    for _ in range(100):
        protocol.dataReceived(b"8=FIX.4.4\x019=500000\x0135=D\x01" + b"q" * 1000)
    assert protocol.parser.buffered == 0
    assert transport.value() == b""


# --------------------------------------------------------------------------- slow consumers


def test_unsent_output_over_the_limit_aborts_only_that_connection(acceptor: Acceptor) -> None:
    acceptor.factory.max_pending_output = 64 * 1024
    slow, slow_transport = acceptor.logged_on("CLIENT1")
    fast, fast_transport = acceptor.logged_on("CLIENT2")
    slow.pauseProducing()  # the transport's buffer is full: the peer does not read
    news = FixMessage.new("B", (148, b"news"), (33, b"1"), (58, b"x" * 1000))
    for _ in range(100):
        acceptor.registry.send_to_target(news, SessionID("FIX.4.4", "SERVER", "CLIENT1"))
        if slow_transport.disconnected:
            break
    assert slow_transport.disconnected  # aborted, not waiting to flush
    assert len(slow_transport.value()) < 64 * 1024 + 2048
    fast.dataReceived(order("CLIENT2", 2, "FAST"))
    assert acceptor.app.received(CLIENT2) == ["FAST"]
    assert not dropped(fast_transport)


def test_max_pending_output_is_read_per_session_from_the_config(tmp_path: Path) -> None:
    sessions = "[SESSION]\nTargetCompID=CLIENT1\nMaxPendingOutput=16384\n[SESSION]\nTargetCompID=CLIENT2\n"
    acceptor = Acceptor(tmp_path, sessions=sessions)
    assert acceptor.factory.max_pending_output is None  # no factory-wide override
    small, small_transport = acceptor.logged_on("CLIENT1")
    default, default_transport = acceptor.logged_on("CLIENT2")
    assert small.max_pending_output == 16384
    assert default.max_pending_output == 64 << 20
    news = FixMessage.new("B", (148, b"news"), (33, b"1"), (58, b"x" * 1000))
    for protocol, session_id in ((small, CLIENT1), (default, CLIENT2)):
        protocol.pauseProducing()  # neither peer reads
        for _ in range(40):  # about 40 kB each: over CLIENT1's 16 kB, far below CLIENT2's 64 MiB
            acceptor.registry.send_to_target(news, session_id)
            if protocol.closing:
                break
    assert small_transport.disconnected  # aborted
    assert len(small_transport.value()) < 16384 + 2048
    assert any("slow consumer" in text for text in acceptor.events(CLIENT1)), acceptor.events(CLIENT1)
    assert not dropped(default_transport)
    assert default_transport.value().count(b"\x0135=B\x01") == 40


def test_a_dropped_connection_that_never_flushes_is_aborted(acceptor: Acceptor) -> None:
    protocol, transport = acceptor.logged_on("CLIENT1")
    protocol.pauseProducing()  # the peer stopped reading
    protocol.drop("test")
    assert transport.disconnecting and not transport.disconnected
    acceptor.clock.advance(acceptor.factory.close_timeout + 0.1)
    assert transport.disconnected


def test_close_timer_is_cancelled_when_the_connection_closes(acceptor: Acceptor) -> None:
    protocol, _ = acceptor.logged_on("CLIENT1")
    protocol.drop("test")
    acceptor.lose(protocol)
    assert not acceptor.clock.getDelayedCalls()


# --------------------------------------------------------------------------- application exceptions


def test_exception_in_from_app_is_logged_and_drops_only_that_connection(acceptor: Acceptor) -> None:
    acceptor.app.explode["BOOM"] = RuntimeError("application bug")
    bad, bad_transport = acceptor.logged_on("CLIENT1")
    good, good_transport = acceptor.logged_on("CLIENT2")
    bad.dataReceived(order("CLIENT1", 2, "BOOM"))
    errors = [e for e in _flush_errors() if isinstance(e.value, RuntimeError)]
    assert errors, "the application's exception was not logged"
    assert dropped(bad_transport)
    assert any("internal error" in text or "application" in text.lower() for text in acceptor.events(CLIENT1))
    acceptor.lose(bad)
    good.dataReceived(order("CLIENT2", 2, "G2"))
    assert acceptor.app.received(CLIENT2) == ["G2"]
    assert not dropped(good_transport)
    # the failing message was not consumed: it comes again after the next logon (resend)
    assert bad.host.session.store.next_target_seq_num() == 2


def test_exception_in_on_create_of_a_templated_session_drops_only_that_connection(tmp_path: Path) -> None:
    acceptor = Acceptor(tmp_path, sessions="[SESSION]\nTargetCompID=CLIENT1\n[SESSION]\nTargetCompID=*\n")
    good, good_transport = acceptor.logged_on("CLIENT1")

    def explode(session_id: SessionID) -> None:
        raise RuntimeError("on_create failed")

    acceptor.app.on_create = explode  # type: ignore[method-assign]
    protocol, transport = acceptor.connect()
    protocol.dataReceived(logon("NEWFIRM"))  # must not raise into the reactor
    assert any(isinstance(e.value, RuntimeError) for e in _flush_errors())
    assert dropped(transport)
    assert transport.value() == b""
    good.dataReceived(order("CLIENT1", 2, "G"))
    assert acceptor.app.received(CLIENT1) == ["G"]


@pytest.mark.parametrize(
    ("error", "answer"),
    [
        (FieldNotFound(55), b"\x01380=5\x01"),  # FIX.4.2+ application message: BMR ConditionallyRequiredFieldMissing
        (FieldValueError(38, b"x", "QTY"), b"\x01373=6\x01"),  # Reject IncorrectDataFormatForValue
    ],
)
def test_field_errors_from_from_app_are_rejected_as_quickfix_does(acceptor: Acceptor, error: Exception, answer: bytes) -> None:
    acceptor.app.explode["BAD"] = error
    protocol, transport = acceptor.logged_on("CLIENT1")
    protocol.dataReceived(order("CLIENT1", 2, "BAD"))
    assert answer in transport.value()
    assert not dropped(transport)
    assert protocol.host.session.store.next_target_seq_num() == 3


def _flush_errors() -> list[Failure]:
    """The failures logged through twisted's log since the last call (pytest has no trial flush)."""
    return list(_LOGGED)


_LOGGED: list[Failure] = []


@pytest.fixture(autouse=True)
def _capture_logged_failures() -> None:
    def observer(event: dict) -> None:
        if event.get("isError") and event.get("failure") is not None:
            _LOGGED.append(event["failure"])

    twisted_log.addObserver(observer)
    yield
    twisted_log.removeObserver(observer)
    _LOGGED.clear()
