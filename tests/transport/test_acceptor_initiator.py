"""Acceptor and initiator over real sockets on 127.0.0.1 (fixgate on both ends)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from twisted.internet import defer, protocol, reactor
from twisted.trial import unittest

sys.path.insert(0, str(Path(__file__).parent))

from harness import (  # noqa: E402
    RecordingApp,
    acceptor_from,
    echo,
    free_port,
    initiator_from,
    new_order,
    start_acceptor,
    wait_until,
)

from fix_engine.codec.encoding import encode_fields  # noqa: E402
from fix_engine.codec.message import format_epoch_timestamp  # noqa: E402
from fix_engine.session.session_id import SessionID  # noqa: E402


def acceptor_cfg(port: int, store: Path, extra: str = "", sessions: str | None = None) -> str:
    sessions = sessions or "[SESSION]\nBeginString=FIX.4.4\nTargetCompID=CLIENT1\n"
    return f"""[DEFAULT]
ConnectionType=acceptor
SenderCompID=SERVER
SocketAcceptPort={port}
SocketAcceptAddress=127.0.0.1
FileStorePath={store}
NonStopSession=Y
HeartBtInt=30
DataDictionary=FIX44.xml
{extra}
{sessions}"""


def initiator_cfg(hosts: list[int], store: Path, sender: str = "CLIENT1", extra: str = "") -> str:
    lines = [f"SocketConnectHost=127.0.0.1\nSocketConnectPort={hosts[0]}"]
    for i, port in enumerate(hosts[1:], start=1):
        lines.append(f"SocketConnectHost{i}=127.0.0.1\nSocketConnectPort{i}={port}")
    connect = "\n".join(lines)
    return f"""[DEFAULT]
ConnectionType=initiator
FileStorePath={store}
NonStopSession=Y
HeartBtInt=30
ReconnectInterval=1
DataDictionary=FIX44.xml
{extra}
[SESSION]
BeginString=FIX.4.4
SenderCompID={sender}
TargetCompID=SERVER
{connect}
"""


class RawClient(protocol.Protocol):
    """A bare TCP client: records what it receives and when the server hangs up."""

    def __init__(self) -> None:
        self.received = b""
        self.closed: defer.Deferred = defer.Deferred()

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: object = None) -> None:
        self.closed.callback(None)


def logon_bytes(sender: str, target: str = "SERVER", seq: int = 1, begin: str = "FIX.4.4") -> bytes:
    sending_time = format_epoch_timestamp(reactor.seconds())
    return encode_fields([
        (8, begin.encode()), (35, b"A"), (34, str(seq).encode()), (49, sender.encode()), (52, sending_time),
        (56, target.encode()), (98, b"0"), (108, b"30"),
    ])


class TransportTestBase(unittest.TestCase):
    timeout = 30

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="fixgate-transport-"))
        self.services: list[object] = []
        self.clients: list[object] = []

    async def _stop_all(self) -> None:
        for client in self.clients:
            if client.transport is not None:
                client.transport.abortConnection()
        for service in reversed(self.services):
            if service.running:
                await defer.maybeDeferred(service.stopService)
            for port in getattr(service, "ports", []):
                await defer.maybeDeferred(port.stopListening)

    def tearDown(self) -> defer.Deferred:
        return defer.ensureDeferred(self._stop_all())

    async def acceptor(self, app: RecordingApp, port: int, **kw: str):
        service = acceptor_from(acceptor_cfg(port, self.tmp / "acc", **kw), app)
        self.services.append(service)
        await start_acceptor(service)
        return service

    def initiator(self, app: RecordingApp, hosts: list[int], **kw: str):
        service = initiator_from(initiator_cfg(hosts, self.tmp / f"ini-{len(self.services)}", **kw), app)
        self.services.append(service)
        service.startService()
        return service

    async def raw_client(self, port: int) -> RawClient:
        client = RawClient()
        await protocol.ClientCreator(reactor, lambda: client).connectTCP("127.0.0.1", port)
        self.clients.append(client)
        return client


class AcceptorInitiatorTests(TransportTestBase):
    async def test_logon_and_application_messages_both_ways(self) -> None:
        port = free_port()
        server = RecordingApp(reply=echo)
        client = RecordingApp()
        await self.acceptor(server, port)
        self.initiator(client, [port])
        await client.wait_for("logon")
        await server.wait_for("logon")
        session = SessionID("FIX.4.4", "CLIENT1", "SERVER")
        client.registry.send_to_target(new_order("A1"), session)
        event = await client.wait_for("from_app")
        self.assertEqual(event.message.msg_type, "8")
        self.assertEqual(event.message.get(11), "A1")
        self.assertEqual(event.message.get(39), "2")

    async def test_many_sessions_share_one_port_routed_by_compid(self) -> None:
        port = free_port()
        server = RecordingApp(reply=echo)
        sessions = "".join(f"[SESSION]\nBeginString=FIX.4.4\nTargetCompID=C{i}\n" for i in range(3))
        await self.acceptor(server, port, sessions=sessions)
        clients = []
        for i in range(3):
            app = RecordingApp()
            self.initiator(app, [port], sender=f"C{i}")
            clients.append(app)
        for i, app in enumerate(clients):
            await app.wait_for("logon")
            app.registry.send_to_target(new_order(f"O{i}"), SessionID("FIX.4.4", f"C{i}", "SERVER"))
        for i, app in enumerate(clients):
            event = await app.wait_for("from_app")
            self.assertEqual(event.message.get(11), f"O{i}")
        logged_on = {str(e.session_id) for e in server.events if e.kind == "logon"}
        self.assertEqual(logged_on, {f"FIX.4.4:SERVER->C{i}" for i in range(3)})

    async def test_templated_session_accepts_any_counterparty(self) -> None:
        port = free_port()
        server = RecordingApp(reply=echo)
        await self.acceptor(server, port, sessions="[SESSION]\nBeginString=FIX.4.4\nTargetCompID=*\n")
        app = RecordingApp()
        self.initiator(app, [port], sender="NEWFIRM")
        await app.wait_for("logon")
        created = [e.session_id for e in server.events if e.kind == "create"]
        self.assertIn(SessionID("FIX.4.4", "SERVER", "NEWFIRM"), created)
        app.registry.send_to_target(new_order("T1"), SessionID("FIX.4.4", "NEWFIRM", "SERVER"))
        event = await app.wait_for("from_app")
        self.assertEqual(event.message.get(11), "T1")
        # its own store was created on the fly
        self.assertTrue(any("NEWFIRM" in p.name for p in (self.tmp / "acc").iterdir()))

    async def test_unknown_session_is_dropped_without_reply(self) -> None:
        port = free_port()
        server = RecordingApp()
        await self.acceptor(server, port)
        client = await self.raw_client(port)
        client.transport.write(logon_bytes("STRANGER"))
        await client.closed
        self.assertEqual(client.received, b"")

    async def test_garbled_first_message_is_dropped_without_reply(self) -> None:
        port = free_port()
        await self.acceptor(RecordingApp(), port)
        client = await self.raw_client(port)
        good = logon_bytes("CLIENT1")
        client.transport.write(good[:-4] + b"000\x01")  # wrong checksum
        await client.closed
        self.assertEqual(client.received, b"")

    async def test_huge_body_length_is_dropped_without_buffering(self) -> None:
        port = free_port()
        await self.acceptor(RecordingApp(), port)
        client = await self.raw_client(port)
        client.transport.write(b"8=FIX.4.4\x019=999999999\x0135=A\x01" + b"x" * 1000)
        await client.closed
        self.assertEqual(client.received, b"")

    async def test_second_connection_for_logged_on_session_is_dropped_first_untouched(self) -> None:
        port = free_port()
        server = RecordingApp(reply=echo)
        await self.acceptor(server, port)
        app = RecordingApp()
        self.initiator(app, [port])
        await app.wait_for("logon")
        intruder = await self.raw_client(port)
        intruder.transport.write(logon_bytes("CLIENT1", seq=1))
        await intruder.closed
        self.assertEqual(intruder.received, b"")
        app.registry.send_to_target(new_order("STILL"), SessionID("FIX.4.4", "CLIENT1", "SERVER"))
        event = await app.wait_for("from_app")
        self.assertEqual(event.message.get(11), "STILL")
        self.assertEqual(app.count("logout"), 0)

    async def test_allowed_remote_addresses_rejects_other_peers(self) -> None:
        port = free_port()
        server = RecordingApp()
        await self.acceptor(server, port, extra="AllowedRemoteAddresses=10.9.9.9")
        client = await self.raw_client(port)
        client.transport.write(logon_bytes("CLIENT1"))
        await client.closed
        self.assertEqual(client.received, b"")
        self.assertEqual(server.count("logon"), 0)

    async def test_allowed_remote_addresses_accepts_listed_peer(self) -> None:
        port = free_port()
        server = RecordingApp()
        await self.acceptor(server, port, extra="AllowedRemoteAddresses=10.9.9.9,127.0.0.1")
        app = RecordingApp()
        self.initiator(app, [port])
        await app.wait_for("logon")

    async def test_initiator_rotates_to_failover_host(self) -> None:
        dead_port = free_port()  # nothing listens here
        port = free_port()
        server = RecordingApp()
        await self.acceptor(server, port)
        app = RecordingApp()
        service = self.initiator(app, [dead_port, port])
        await app.wait_for("logon", timeout=15)
        self.assertGreaterEqual(service.sessions[0].endpoint.attempt, 2)

    async def test_initiator_reconnects_after_connection_loss_and_recovers_by_resend(self) -> None:
        port = free_port()
        server = RecordingApp(reply=echo)
        acceptor = await self.acceptor(server, port)
        app = RecordingApp()
        self.initiator(app, [port])
        await app.wait_for("logon")
        # drop every connection from the acceptor side
        for factory in acceptor.factories:
            for proto in list(factory.connections):
                proto.transport.abortConnection()
        await app.wait_for("logout")
        # an order sent while disconnected is stored and goes out by resend after logon
        session = SessionID("FIX.4.4", "CLIENT1", "SERVER")
        app.registry.send_to_target(new_order("WHILE-DOWN"), session)
        await wait_until(lambda: app.count("logon") >= 2, timeout=15)
        event = await app.wait_for(lambda e: e.kind == "from_app" and e.message.get(11) == "WHILE-DOWN", timeout=15)
        self.assertEqual(event.message.get(39), "2")

    async def test_logon_timeout_disconnects_silent_acceptor(self) -> None:
        port = free_port()
        connections: list[protocol.Protocol] = []

        class Silent(protocol.Protocol):
            def connectionMade(self) -> None:
                connections.append(self)

        listening = reactor.listenTCP(port, protocol.Factory.forProtocol(Silent), interface="127.0.0.1")
        self.addCleanup(listening.stopListening)
        app = RecordingApp()
        self.initiator(app, [port], extra="LogonTimeout=1")
        await wait_until(lambda: len(connections) >= 2, timeout=15)  # timed out, reconnected
        for proto in connections:
            if proto.transport.connected:
                proto.transport.abortConnection()
        self.assertEqual(app.count("logon"), 0)

    async def test_graceful_stop_logs_out(self) -> None:
        port = free_port()
        server = RecordingApp()
        await self.acceptor(server, port)
        app = RecordingApp()
        initiator = self.initiator(app, [port])
        await app.wait_for("logon")
        await server.wait_for("logon")
        await initiator.stopService()
        await server.wait_for("logout")
        logouts = [e for e in server.events if e.kind == "from_admin" and e.message.msg_type == "5"]
        self.assertTrue(logouts)
