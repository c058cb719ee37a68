"""Input hold (inbound flow control) of FixProtocol and the acceptor, deterministic.

StringTransport + Clock: ``producerState`` is what the protocol asked of the socket's reading
("paused" / "producing").  A :class:`Peer` plays the kernel: what the client sends is delivered
only while the connection reads.  What must hold: a hold stops further reads (frames already read
are processed); it is independent of the write-side pause (either one keeps reading paused); each
continuous hold lapses after ``max_input_hold`` (at most HeartBtInt/4) until one message was read,
so a held peer is never timed out for silence; the acceptor holds bound connections and those
that bind during the hold, never a connection still to log on; TLS pauses the TCP transport under
the TLS layer only once the handshake is done, and never for the write-side pause.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from twisted.internet import ssl
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.protocols.tls import TLSMemoryBIOFactory, TLSMemoryBIOProtocol
from twisted.python.failure import Failure

from fix_engine.application import Application
from fix_engine.codec.encoding import encode
from fix_engine.codec.message import FixMessage, format_epoch_timestamp
from fix_engine.config import parse_config
from fix_engine.session.session_id import SessionID
from fix_engine.transport.acceptor import AcceptorService, FixAcceptorFactory
from fix_engine.transport.host import SessionRegistry
from fix_engine.transport.protocol import DEFAULT_MAX_INPUT_HOLD, FixFactoryBase, FixProtocol
from fix_engine.transport.session_builder import SessionBuilder
from fix_engine.transport.tls import server_context_factory

sys.path.insert(0, str(Path(__file__).resolve().parent))
from certs import make_pki  # noqa: E402
from harness import RecordingApp, echo, free_port, new_order  # noqa: E402
from test_tls import CLIENT_SIDE, TlsTestBase, client_tls, server_tls  # noqa: E402

NOW = 1_790_000_000.0
PEER = IPv4Address("TCP", "127.0.0.1", 40000)
CLIENT1 = SessionID("FIX.4.4", "SERVER", "CLIENT1")


def message(sender: str, seq: int, msg_type: str, *fields: tuple[int, bytes], sent: float = NOW) -> bytes:
    msg = FixMessage.new(
        msg_type, (49, sender.encode()), (56, b"SERVER"), (34, b"%d" % seq),
        (52, format_epoch_timestamp(sent, 3)), *fields,
    )
    msg.fields.insert(0, (8, b"FIX.4.4"))
    return encode(msg)


def logon(sender: str, heart_bt_int: int = 30, sent: float = NOW) -> bytes:
    return message(sender, 1, "A", (98, b"0"), (108, b"%d" % heart_bt_int), sent=sent)


def order(sender: str, seq: int, cl_ord_id: str, sent: float = NOW) -> bytes:
    return message(
        sender, seq, "D", (11, cl_ord_id.encode()), (21, b"1"), (38, b"100"), (40, b"2"), (44, b"10"),
        (54, b"1"), (55, b"IBM"), (60, b"20260101-00:00:00"), sent=sent,
    )


def heartbeat(sender: str, seq: int, sent: float) -> bytes:
    return message(sender, seq, "0", sent=sent)


class App(Application):
    """Records the ClOrdIDs received; ``on_order`` runs for each (e.g. to hold input mid-read)."""

    def __init__(self) -> None:
        self.orders: list[str] = []
        self.on_order = lambda cl_ord_id: None

    def from_app(self, message: FixMessage, session_id: SessionID) -> None:
        cl_ord_id = message.get(11) or ""
        self.orders.append(cl_ord_id)
        self.on_order(cl_ord_id)


CONFIG = """[DEFAULT]
ConnectionType=acceptor
BeginString=FIX.4.4
SenderCompID=SERVER
SocketAcceptPort=1
FileStorePath={store}
NonStopSession=Y
HeartBtInt=30
DataDictionary=FIX44.xml
[SESSION]
TargetCompID=CLIENT1
[SESSION]
TargetCompID=CLIENT2
"""


class Acceptor:
    """An acceptor factory for CLIENT1 and CLIENT2 on a Clock."""

    def __init__(self, tmp_path: Path) -> None:
        self.clock = Clock()
        self.clock.advance(NOW)
        self.app = App()
        self.registry = SessionRegistry()
        self.settings = parse_config(CONFIG.format(store=tmp_path / "store"), "hold.cfg").sessions
        self.factory = FixAcceptorFactory(self.settings, SessionBuilder(self.app), self.clock, self.registry)

    def connect(self) -> tuple[FixProtocol, StringTransport]:
        protocol = self.factory.buildProtocol(PEER)
        transport = StringTransport(peerAddress=PEER)
        protocol.makeConnection(transport)
        return protocol, transport

    def logged_on(self, sender: str = "CLIENT1", heart_bt_int: int = 30) -> tuple[FixProtocol, StringTransport]:
        protocol, transport = self.connect()
        protocol.dataReceived(logon(sender, heart_bt_int, sent=self.clock.seconds()))
        assert b"35=A\x01" in transport.value(), transport.value()
        transport.clear()
        return protocol, transport


class Peer:
    """The client's side of the socket: what it sends waits (in the 'kernel') while we do not read."""

    def __init__(self, protocol: FixProtocol, transport: StringTransport, sender: str, clock: Clock) -> None:
        self.protocol, self.transport, self.sender, self.clock = protocol, transport, sender, clock
        self.pending: list[bytes] = []
        self.seq = 2

    def send(self, data: bytes) -> None:
        self.pending.append(data)
        self.deliver()

    def send_order(self, cl_ord_id: str) -> None:
        self.send(order(self.sender, self.seq, cl_ord_id, sent=self.clock.seconds()))
        self.seq += 1

    def send_heartbeat(self) -> None:
        self.send(heartbeat(self.sender, self.seq, sent=self.clock.seconds()))
        self.seq += 1

    def deliver(self) -> None:
        """One read per call while the connection reads (a read takes everything pending)."""
        if self.pending and reading(self.transport):
            data, self.pending = b"".join(self.pending), []
            self.protocol.dataReceived(data)


def reading(transport: StringTransport) -> bool:
    return transport.producerState == "producing"


@pytest.fixture
def acceptor(tmp_path: Path) -> Acceptor:
    return Acceptor(tmp_path)


# --------------------------------------------------------------------------- one connection


def test_hold_stops_reading_and_release_resumes(acceptor: Acceptor) -> None:
    protocol, transport = acceptor.logged_on()
    assert reading(transport) and not protocol.input_held
    protocol.hold_input()
    protocol.hold_input()  # a boolean: repeated requests change nothing
    assert transport.producerState == "paused" and protocol.input_held and protocol.reading_paused
    protocol.release_input()
    assert reading(transport) and not protocol.input_held and not protocol.reading_paused
    protocol.release_input()
    assert reading(transport)
    assert acceptor.clock.getDelayedCalls() == []  # the hold's cap timer went with it


def test_frames_already_read_are_processed_when_a_hold_starts_mid_read(acceptor: Acceptor) -> None:
    protocol, transport = acceptor.logged_on()
    acceptor.app.on_order = lambda cl_ord_id: protocol.hold_input() if cl_ord_id == "A1" else None
    protocol.dataReceived(order("CLIENT1", 2, "A1") + order("CLIENT1", 3, "A2") + order("CLIENT1", 4, "A3"))
    assert acceptor.app.orders == ["A1", "A2", "A3"]
    assert transport.producerState == "paused"
    protocol.release_input()
    protocol.dataReceived(order("CLIENT1", 5, "A4"))
    assert acceptor.app.orders == ["A1", "A2", "A3", "A4"]


def test_write_side_pause_and_hold_are_independent(acceptor: Acceptor) -> None:
    protocol, transport = acceptor.logged_on()
    # write pause first, hold second; the write side resumes: still held
    protocol.pauseProducing()
    assert transport.producerState == "paused"
    protocol.hold_input()
    protocol.resumeProducing()
    assert transport.producerState == "paused" and not protocol.paused
    protocol.release_input()
    assert reading(transport)
    # hold first, write pause second; the hold ends: still paused for the write side
    protocol.hold_input()
    protocol.pauseProducing()
    protocol.release_input()
    assert transport.producerState == "paused" and protocol.paused
    protocol.resumeProducing()
    assert reading(transport)


def test_a_hold_lapses_after_the_cap_until_one_message_was_read_then_holds_again(acceptor: Acceptor) -> None:
    protocol, transport = acceptor.logged_on()
    peer = Peer(protocol, transport, "CLIENT1", acceptor.clock)
    assert protocol.max_input_hold == DEFAULT_MAX_INPUT_HOLD  # HeartBtInt 30: the factory's 1 s
    protocol.hold_input()
    peer.send_order("B1")
    assert acceptor.app.orders == []  # waits in the kernel
    acceptor.clock.advance(0.9)
    assert transport.producerState == "paused"
    acceptor.clock.advance(0.2)
    assert reading(transport) and protocol.input_held  # lapsed: reads although still asked to hold
    peer.deliver()
    assert acceptor.app.orders == ["B1"]
    assert transport.producerState == "paused"  # heard from the peer: held again, for another period
    # a read without a complete message does not end the lapse
    acceptor.clock.advance(1.0)
    assert reading(transport)
    raw = order("CLIENT1", 3, "B2", sent=acceptor.clock.seconds())
    protocol.dataReceived(raw[:20])
    assert reading(transport)
    protocol.dataReceived(raw[20:])
    assert acceptor.app.orders == ["B1", "B2"] and transport.producerState == "paused"
    protocol.release_input()
    assert reading(transport) and acceptor.clock.getDelayedCalls() == []


def test_the_cap_is_at_most_a_quarter_of_the_heartbeat_interval(acceptor: Acceptor) -> None:
    protocol, transport = acceptor.logged_on(heart_bt_int=2)
    assert protocol.max_input_hold == 0.5
    protocol.hold_input()
    acceptor.clock.advance(0.5)
    assert reading(transport)
    acceptor.factory.max_input_hold = 0.1
    assert protocol.max_input_hold == 0.1


def test_a_held_peer_is_never_tested_nor_logged_out_for_silence(acceptor: Acceptor) -> None:
    """Held for 10 minutes (never released) while the peer heartbeats every 30 s and keeps
    ordering: every cap period one read gets through, the session never sends a TestRequest."""
    protocol, transport = acceptor.logged_on()
    peer = Peer(protocol, transport, "CLIENT1", acceptor.clock)
    acceptor.factory.hold_input()
    assert transport.producerState == "paused"
    sent = 0
    for tick in range(1, 601):
        acceptor.clock.advance(1.0)
        acceptor.factory.tick()  # the AcceptorService's once-a-second timer
        if tick % 30 == 0:
            peer.send_heartbeat()
        if tick % 3 == 0:
            peer.send_order(f"C{sent}")
            sent += 1
        peer.deliver()
    out = transport.value()
    assert b"35=1\x01" not in out and b"35=5\x01" not in out  # no TestRequest, no Logout
    assert not transport.disconnecting
    assert acceptor.registry.get(CLIENT1).session.state.name == "ACTIVE"
    assert acceptor.app.orders == [f"C{i}" for i in range(len(acceptor.app.orders))]
    assert len(acceptor.app.orders) >= sent - 1  # throttled to one read per period, never starved
    acceptor.factory.release_input()
    peer.deliver()
    assert acceptor.app.orders == [f"C{i}" for i in range(sent)]


def test_closing_a_held_connection_cancels_its_cap(acceptor: Acceptor) -> None:
    protocol, transport = acceptor.logged_on()
    protocol.hold_input()
    protocol.drop("test")
    protocol.connectionLost(Failure(ConnectionDone()))
    acceptor.clock.advance(60)
    assert not any(call.active() for call in acceptor.clock.getDelayedCalls())
    protocol.release_input()  # after the close: nothing happens (no error)
    protocol.hold_input()


def test_a_factory_without_a_clock_cannot_hold() -> None:
    protocol = FixProtocol(FixFactoryBase())
    transport = StringTransport(peerAddress=PEER)
    protocol.makeConnection(transport)
    protocol.hold_input()
    assert protocol.input_held and reading(transport)


# --------------------------------------------------------------------------- the acceptor


def test_the_factory_holds_bound_connections_and_those_binding_later_not_those_logging_on(
        acceptor: Acceptor) -> None:
    bound, bound_transport = acceptor.logged_on("CLIENT1")
    fresh, fresh_transport = acceptor.connect()
    acceptor.factory.hold_input()
    assert acceptor.factory.input_held
    assert bound_transport.producerState == "paused"
    assert reading(fresh_transport) and not fresh.input_held  # no Logon yet: keeps reading
    acceptor.clock.advance(5)  # within LogonTimeout (10 s): the Logon is read and answered
    fresh.dataReceived(logon("CLIENT2", sent=acceptor.clock.seconds()))
    assert b"35=A\x01" in fresh_transport.value()
    assert fresh.input_held and fresh_transport.producerState == "paused"  # held from now on
    acceptor.factory.release_input()
    assert reading(bound_transport) and reading(fresh_transport)
    assert not bound.input_held and not fresh.input_held and not acceptor.factory.input_held


def test_the_acceptor_service_holds_every_port(tmp_path: Path) -> None:
    clock = Clock()
    clock.advance(NOW)
    text = CONFIG.format(store=tmp_path / "store") + "SocketAcceptPort=2\n"  # CLIENT2 on another port
    service = AcceptorService(parse_config(text, "hold.cfg").sessions, SessionBuilder(App()), clock,
                              registry=SessionRegistry())
    assert len(service.factories) == 2 and service.max_input_hold == DEFAULT_MAX_INPUT_HOLD
    service.max_input_hold = 0.25
    assert [f.max_input_hold for f in service.factories] == [0.25, 0.25]
    with pytest.raises(ValueError):
        service.max_input_hold = 0
    service.hold_input()
    assert service.input_held and all(f.input_held for f in service.factories)
    service.release_input()
    assert not service.input_held and not any(f.input_held for f in service.factories)


# --------------------------------------------------------------------------- TLS


class TlsPair:
    """A TLS server connection (FixProtocol inside TLSMemoryBIOProtocol over a StringTransport)
    and a TLS client, pumped in memory; the server's TCP reads respect its ``producerState``."""

    def __init__(self, acceptor: Acceptor, tmp_path: Path) -> None:
        pki = make_pki(tmp_path / "pki")
        tls_config = CONFIG.format(store=tmp_path / "tls-store") + server_tls(pki, level=0)
        server_options = server_context_factory(parse_config(tls_config, "tls.cfg").sessions[-1])  # CLIENT2: the keys
        client_options = ssl.optionsForClientTLS("localhost", trustRoot=ssl.Certificate.loadPEM(pki.ca.read_bytes()))
        self.received: list[bytes] = []
        received = self.received

        class Client(Protocol):
            def dataReceived(self, data: bytes) -> None:
                received.append(data)

        server_factory = TLSMemoryBIOFactory(server_options, False, acceptor.factory)
        client_factory = TLSMemoryBIOFactory(client_options, True, Factory.forProtocol(Client))
        # the plain TLS protocol: its buffering subclass delays small writes on the global reactor
        server_factory.protocol = client_factory.protocol = TLSMemoryBIOProtocol
        self.server = server_factory.buildProtocol(PEER)
        self.tcp = StringTransport(peerAddress=PEER)
        self.client = client_factory.buildProtocol(PEER)
        self.client_tcp = StringTransport()
        self.server.makeConnection(self.tcp)
        self.client.makeConnection(self.client_tcp)
        assert isinstance(self.server, TLSMemoryBIOProtocol)
        self.fix: FixProtocol = self.server.wrappedProtocol

    def pump(self) -> None:
        for _ in range(50):
            moved = False
            if self.client_tcp.value() and reading(self.tcp):
                data = self.client_tcp.value()
                self.client_tcp.clear()
                self.server.dataReceived(data)
                moved = True
            if self.tcp.value():
                data = self.tcp.value()
                self.tcp.clear()
                self.client.dataReceived(data)
                moved = True
            if not moved:
                return


def test_tls_holds_the_tcp_reads_once_the_handshake_is_done(acceptor: Acceptor, tmp_path: Path) -> None:
    pair = TlsPair(acceptor, tmp_path)
    fix = pair.fix
    fix.hold_input()  # during the handshake: TLS must keep reading
    assert reading(pair.tcp)
    pair.pump()
    assert fix.input_held and pair.tcp.producerState == "paused"  # handshake done: held
    fix.release_input()
    assert reading(pair.tcp)
    pair.client.write(logon("CLIENT1", sent=acceptor.clock.seconds()))
    pair.pump()
    assert b"35=A\x01" in b"".join(pair.received) and fix.host is not None
    # the write-side pause never stops TLS reads; the hold does, until released
    fix.pauseProducing()
    assert reading(pair.tcp)
    fix.hold_input()
    assert pair.tcp.producerState == "paused"
    fix.resumeProducing()
    assert pair.tcp.producerState == "paused"
    pair.client.write(order("CLIENT1", 2, "T1"))
    pair.pump()
    assert acceptor.app.orders == []  # waits in the (TCP) kernel buffer
    fix.release_input()
    pair.pump()
    assert acceptor.app.orders == ["T1"] and reading(pair.tcp)
    # the cap applies to TLS connections too
    fix.hold_input()
    acceptor.clock.advance(fix.max_input_hold)
    assert reading(pair.tcp)
    pair.client.write(order("CLIENT1", 3, "T2"))
    pair.pump()
    assert acceptor.app.orders == ["T1", "T2"] and pair.tcp.producerState == "paused"


# --------------------------------------------------------------------------- TLS on real sockets


@pytest.mark.network
class RealTlsHoldTests(TlsTestBase):
    """The acceptor's real TLS wiring (SSL4ServerEndpoint) tells the protocol that the handshake
    is done, so a hold pauses the TCP reads of a logged-on TLS client; released, it reads again."""

    async def test_a_logged_on_tls_client_is_held_then_released(self) -> None:
        port = free_port()
        server, client = RecordingApp(reply=echo), RecordingApp()
        service = await self.acceptor(server, port, server_tls(self.pki, level=2))
        self.initiator(client, port, client_tls(self.pki, ca=self.pki.ca))
        await server.wait_for("logon")
        await client.wait_for("logon")
        (protocol,) = service.factories[0].connections
        self.assertIsInstance(protocol.transport, TLSMemoryBIOProtocol)
        service.hold_input()
        self.assertTrue(protocol.input_held and protocol.reading_paused)
        client.registry.send_to_target(new_order("HELD1"), CLIENT_SIDE)
        service.release_input()
        self.assertFalse(protocol.reading_paused)
        received = await server.wait_for("from_app")
        self.assertEqual(received.message.get(11), "HELD1")
        answer = await client.wait_for("from_app")
        self.assertEqual(answer.message.get(39), "2")
