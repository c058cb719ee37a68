"""Hostile and broken peers against a real acceptor on 127.0.0.1 (plain TCP and TLS).

Raw sockets play the peers a load generator or a broken counterparty would be: garbage, huge
BodyLength, silence, resets mid-message, half-closed sockets, 200 connections at once, a peer
that never reads, plaintext on a TLS port and TLS on a plaintext port, and an application
whose ``from_app`` raises.  Every wait is bounded and event-driven (no sleeps).
"""

from __future__ import annotations

import socket
import struct
import sys
from pathlib import Path

from twisted.internet import defer, protocol, reactor

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import event_waits  # noqa: E402
from certs import make_pki  # noqa: E402
from harness import (  # noqa: E402
    RecordingApp,
    acceptor_from,
    echo,
    free_port,
    start_acceptor,
    wait_until,
)
from test_acceptor_initiator import TransportTestBase, acceptor_cfg, logon_bytes  # noqa: E402
from test_tls import run_client, server_tls  # noqa: E402

from fix_engine.codec.encoding import encode_fields  # noqa: E402
from fix_engine.codec.message import FixMessage, format_epoch_timestamp  # noqa: E402
from fix_engine.session.session_id import SessionID  # noqa: E402

WAIT = 10.0  # seconds: the bound of every wait


class Peer(protocol.Protocol):
    """A raw TCP peer: what it received, and Deferreds for bytes arriving and the hang-up."""

    def __init__(self) -> None:
        self.received = b""
        self.events: list[bytes] = []
        self.waiters: list = []
        self.closed: defer.Deferred = defer.Deferred()
        self.lost = False

    def dataReceived(self, data: bytes) -> None:
        self.received += data
        event_waits.record(self.events, self.waiters, self.received)

    def connectionLost(self, reason: object = None) -> None:
        self.lost = True
        self.closed.callback(None)

    def wait_for(self, needle: bytes, timeout: float = WAIT) -> defer.Deferred:
        """Fires once ``needle`` is among the bytes received."""
        return event_waits.wait_for(
            self.events, self.waiters, lambda seen: needle in seen, timeout,
            describe=lambda: self.received[-300:],
        )

    def reset(self) -> None:
        """Close with a TCP RST (SO_LINGER 0), as a crashed peer does."""
        self.transport.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.loseConnection()


def raw_message(sender: str, seq: int, msg_type: str, *fields: tuple[int, bytes], poss_dup: bool = False) -> bytes:
    now = format_epoch_timestamp(reactor.seconds())
    dup = [(43, b"Y"), (122, now)] if poss_dup else []
    return encode_fields([
        (8, b"FIX.4.4"), (35, msg_type.encode()), (34, b"%d" % seq), *dup[:1], (49, sender.encode()),
        (52, now), (56, b"SERVER"), *dup[1:], *fields,
    ])


def raw_order(sender: str, seq: int, cl_ord_id: str, *, poss_dup: bool = False) -> bytes:
    return raw_message(
        sender, seq, "D", (11, cl_ord_id.encode()), (21, b"1"), (38, b"100"), (40, b"2"), (44, b"10.5"),
        (54, b"1"), (55, b"IBM"), (60, b"20261122-10:00:00.000"), poss_dup=poss_dup,
    )


async def within(d: defer.Deferred, timeout: float) -> bool:
    """True when ``d`` fires within ``timeout`` seconds."""
    outcome: defer.Deferred = defer.Deferred()
    call = reactor.callLater(timeout, lambda: outcome.called or outcome.callback(False))

    def fired(result: object) -> object:
        if not outcome.called:
            call.cancel()
            outcome.callback(True)
        return result

    d.addBoth(fired)
    return bool(await outcome)


def server_id(sender: str) -> SessionID:
    return SessionID("FIX.4.4", "SERVER", sender)


class HostileTestBase(TransportTestBase):
    timeout = 60

    async def peer(self, port: int) -> Peer:
        peer = Peer()
        await protocol.ClientCreator(reactor, lambda: peer).connectTCP("127.0.0.1", port)
        self.clients.append(peer)
        return peer

    async def serve(self, app: RecordingApp, sessions: str | None = None, extra: str = "") -> tuple[int, object]:
        port = free_port()
        service = await self.acceptor(app, port, sessions=sessions, extra=extra)
        return port, service

    def tight_peer(self, port: int) -> Peer:
        """A peer whose socket has a small, fixed receive buffer (no kernel autotuning), so that
        a peer that stops reading makes the acceptor's output back up quickly."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        sock.connect(("127.0.0.1", port))  # the kernel completes it from the listen backlog
        sock.setblocking(False)
        peer = Peer()
        factory = protocol.Factory.forProtocol(lambda: peer)
        reactor.adoptStreamConnection(sock.fileno(), socket.AF_INET, factory)
        sock.close()  # the reactor holds its own duplicate of the descriptor
        self.clients.append(peer)
        return peer

    async def logged_on_peer(self, port: int, sender: str, *, tight: bool = False) -> Peer:
        peer = self.tight_peer(port) if tight else await self.peer(port)
        peer.transport.write(logon_bytes(sender))
        await peer.wait_for(b"35=A\x01")
        return peer


class GarbageAndFramingTests(HostileTestBase):
    async def test_garbage_before_and_between_messages_is_skipped(self) -> None:
        server = RecordingApp(reply=echo)
        port, _ = await self.serve(server)
        peer = await self.peer(port)
        # before the Logon: bytes without "8=FIX" are skipped (a garbled frame would drop us, as in QuickFIX)
        peer.transport.write(b"\x16\x03\x01\x00\xa5garbage\r\n8=FI\x01junk" + logon_bytes("CLIENT1"))
        await peer.wait_for(b"35=A\x01")
        # after it: garbage and garbled frames are skipped without an answer
        peer.transport.write(b"\x00\x00more junk8=FIX\x01x" + raw_order("CLIENT1", 2, "G1") + b"8=F" + b"\xff" * 50)
        peer.transport.write(raw_order("CLIENT1", 3, "G2"))
        await peer.wait_for(b"11=G2\x01")
        self.assertIn(b"11=G1\x01", peer.received)
        self.assertNotIn(b"35=3\x01", peer.received)  # no Reject
        self.assertNotIn(b"35=2\x01", peer.received)  # no ResendRequest
        self.assertFalse(peer.lost)

    async def test_message_over_max_message_size_drops_that_connection_only(self) -> None:
        server = RecordingApp(reply=echo)
        sessions = "[SESSION]\nBeginString=FIX.4.4\nTargetCompID=CLIENT1\n[SESSION]\nBeginString=FIX.4.4\nTargetCompID=CLIENT2\n"
        port, service = await self.serve(server, sessions=sessions, extra="MaxMessageSize=65536")
        hostile = await self.logged_on_peer(port, "CLIENT1")
        other = await self.logged_on_peer(port, "CLIENT2")
        hostile.transport.write(b"8=FIX.4.4\x019=999999999\x0135=D\x01" + b"x" * 200_000)
        self.assertTrue(await within(hostile.closed, WAIT), "not dropped")
        for factory in service.factories:
            for proto in factory.connections:
                self.assertLessEqual(proto.parser.buffered, 65536 + 1024)
        other.transport.write(raw_order("CLIENT2", 2, "OK2"))
        await other.wait_for(b"11=OK2\x01")
        self.assertFalse(other.lost)


class SilenceAndTimeoutTests(HostileTestBase):
    async def test_socket_that_never_sends_a_logon_is_dropped_after_logon_timeout(self) -> None:
        server = RecordingApp()
        port, service = await self.serve(server, extra="LogonTimeout=0.5")
        silent = await self.peer(port)
        dribbler = await self.peer(port)
        dribbler.transport.write(logon_bytes("CLIENT1")[:20])  # never completes
        self.assertTrue(await within(silent.closed, WAIT), "the silent socket was never dropped")
        self.assertTrue(await within(dribbler.closed, WAIT), "the dribbling socket was never dropped")
        self.assertEqual(silent.received + dribbler.received, b"")
        await wait_until(lambda: not any(f.connections for f in service.factories), timeout=WAIT)
        self.assertEqual(server.count("logon"), 0)

    async def test_first_message_not_a_logon_is_dropped_unanswered(self) -> None:
        server = RecordingApp()
        port, _ = await self.serve(server)
        peer = await self.peer(port)
        peer.transport.write(raw_order("CLIENT1", 1, "EARLY") + logon_bytes("CLIENT1", seq=2))
        self.assertTrue(await within(peer.closed, WAIT))
        self.assertEqual(peer.received, b"")
        self.assertEqual(server.count("from_app"), 0)
        self.assertEqual(server.count("logon"), 0)

    async def test_intruder_with_reset_seq_num_flag_cannot_take_over_a_logged_on_session(self) -> None:
        server = RecordingApp(reply=echo)
        port, _ = await self.serve(server)
        first = await self.logged_on_peer(port, "CLIENT1")
        first.transport.write(raw_order("CLIENT1", 2, "BEFORE"))
        await first.wait_for(b"11=BEFORE\x01")
        host = server.registry.get(server_id("CLIENT1"))
        numbers = (host.session.store.next_sender_seq_num(), host.session.store.next_target_seq_num())
        intruder = await self.peer(port)
        intruder.transport.write(logon_bytes("CLIENT1").replace(b"\x0198=0", b"\x01141=Y\x0198=0"))
        self.assertTrue(await within(intruder.closed, WAIT))
        self.assertEqual(intruder.received, b"")
        self.assertEqual((host.session.store.next_sender_seq_num(), host.session.store.next_target_seq_num()), numbers)
        first.transport.write(raw_order("CLIENT1", 3, "AFTER"))
        await first.wait_for(b"11=AFTER\x01")
        self.assertFalse(first.lost)
        self.assertEqual(server.count("logout"), 0)


class ManyConnectionsTests(HostileTestBase):
    async def test_200_connections_at_once_hostile_and_honest_leave_nothing_behind(self) -> None:
        server = RecordingApp(reply=echo)
        sessions = "[SESSION]\nBeginString=FIX.4.4\nTargetCompID=CLIENT1\n[SESSION]\nBeginString=FIX.4.4\nTargetCompID=*\n"
        port, service = await self.serve(server, sessions=sessions)
        steady = await self.logged_on_peer(port, "CLIENT1")
        peers = await defer.gatherResults([defer.ensureDeferred(self.peer(port)) for _ in range(200)])
        honest = []
        for i, peer in enumerate(peers):
            kind = i % 5
            if kind == 0:  # an honest counterparty of the templated session: logs on, one order
                peer.transport.write(logon_bytes(f"FIRM{i}") + raw_order(f"FIRM{i}", 2, f"F{i}"))
                honest.append((i, peer))
            elif kind == 1:  # reset in the middle of a Logon
                peer.transport.write(logon_bytes(f"FIRM{i}")[:33])
            elif kind == 2:  # garbage then a half-close
                peer.transport.write(b"\x00garbage\x01" * 20)
                peer.transport.loseWriteConnection()
            elif kind == 3:  # an unknown BeginString
                peer.transport.write(logon_bytes("CLIENT9", begin="FIX.4.1"))
            # kind 4: connects and says nothing until closed below
        steady.transport.write(raw_order("CLIENT1", 2, "DURING"))
        await steady.wait_for(b"11=DURING\x01")
        for i, peer in honest:
            await peer.wait_for(f"11=F{i}\x01".encode())
        for i, peer in enumerate(peers):
            if i % 5 == 1:
                peer.reset()
            elif i % 5 in (0, 4):
                peer.transport.loseConnection()
        await defer.gatherResults([defer.ensureDeferred(within(p.closed, WAIT)) for p in peers])
        self.assertTrue(all(p.lost for p in peers))
        await wait_until(lambda: sum(len(f.connections) for f in service.factories) == 1, timeout=WAIT)
        for factory in service.factories:
            self.assertEqual(len(factory._unbound), 0)
        # honest sessions come back; the steady one never noticed
        steady.transport.write(raw_order("CLIENT1", 3, "AFTER"))
        await steady.wait_for(b"11=AFTER\x01")
        again = await self.peer(port)
        again.transport.write(logon_bytes("FIRM0", seq=3))
        await again.wait_for(b"35=A\x01")
        self.assertFalse(again.lost)
        self.assertEqual(server.count("logon"), 1 + len(honest) + 1)

    async def test_peer_reset_mid_message_after_logon_frees_the_session(self) -> None:
        server = RecordingApp(reply=echo)
        port, _ = await self.serve(server)
        peer = await self.logged_on_peer(port, "CLIENT1")
        peer.transport.write(raw_order("CLIENT1", 2, "HALF")[:40])
        peer.reset()
        await server.wait_for("logout", timeout=WAIT)
        again = await self.peer(port)
        again.transport.write(logon_bytes("CLIENT1", seq=2))
        await again.wait_for(b"35=A\x01")
        again.transport.write(raw_order("CLIENT1", 3, "WHOLE"))
        await again.wait_for(b"11=WHOLE\x01")
        self.assertNotIn("HALF", [e.message.get(11) for e in server.events if e.kind == "from_app"])


class NonReadingPeerTests(HostileTestBase):
    async def fill(self, server: RecordingApp, sender: str, limit: int = 20000) -> object:
        """Send until the acceptor's transport pauses us (kernel buffers full); the host."""
        host = server.registry.get(server_id(sender))
        host.protocol.transport.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)
        news = FixMessage.new("B", (148, "news"), (33, "1"), (58, "x" * 4000))
        sent = 0
        while host.protocol is not None and not host.protocol.paused and sent < limit:
            server.registry.send_to_target(news, server_id(sender))
            sent += 1
        self.assertTrue(host.protocol is not None and host.protocol.paused, "never paused")
        return host

    async def test_closing_a_peer_that_never_reads_is_bounded_by_close_timeout(self) -> None:
        server = RecordingApp()
        port, service = await self.serve(server)
        for factory in service.factories:
            factory.close_timeout = 0.5
        peer = await self.logged_on_peer(port, "CLIENT1", tight=True)
        peer.transport.pauseProducing()  # never reads again
        host = await self.fill(server, "CLIENT1")
        host.protocol.drop("closing a peer that does not read")
        await wait_until(lambda: not host.connected, timeout=WAIT)
        await server.wait_for("logout", timeout=WAIT)

    async def test_non_reading_peer_over_max_pending_output_is_cut_others_keep_going(self) -> None:
        server = RecordingApp(reply=echo)
        sessions = "[SESSION]\nBeginString=FIX.4.4\nTargetCompID=CLIENT1\n[SESSION]\nBeginString=FIX.4.4\nTargetCompID=CLIENT2\n"
        port, service = await self.serve(server, sessions=sessions)
        for factory in service.factories:
            factory.max_pending_output = 512 * 1024
        slow = await self.logged_on_peer(port, "CLIENT1", tight=True)
        fast = await self.logged_on_peer(port, "CLIENT2")
        slow.transport.pauseProducing()
        host = await self.fill(server, "CLIENT1")
        news = FixMessage.new("B", (148, "news"), (33, "1"), (58, "x" * 4000))
        for _ in range(200):  # 800 kB more than the kernel takes: over the cap
            if not host.connected or host.protocol.closing:
                break
            server.registry.send_to_target(news, server_id("CLIENT1"))
        await wait_until(lambda: not host.connected, timeout=WAIT)
        fast.transport.write(raw_order("CLIENT2", 2, "FAST"))
        await fast.wait_for(b"11=FAST\x01")


class ApplicationExceptionTests(HostileTestBase):
    async def test_from_app_raising_drops_that_connection_only_and_the_message_comes_again(self) -> None:
        boom = {"armed": True}

        def reply(message: FixMessage, session_id: SessionID) -> FixMessage | None:
            if message.get(11) == "BOOM" and boom["armed"]:
                boom["armed"] = False
                raise RuntimeError("application bug")
            return echo(message, session_id)

        server = RecordingApp(reply=reply)
        sessions = "[SESSION]\nBeginString=FIX.4.4\nTargetCompID=CLIENT1\n[SESSION]\nBeginString=FIX.4.4\nTargetCompID=CLIENT2\n"
        port, _ = await self.serve(server, sessions=sessions)
        bad = await self.logged_on_peer(port, "CLIENT1")
        good = await self.logged_on_peer(port, "CLIENT2")
        bad.transport.write(raw_order("CLIENT1", 2, "BOOM"))
        self.assertTrue(await within(bad.closed, WAIT), "the failing connection stayed up")
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        good.transport.write(raw_order("CLIENT2", 2, "GOOD"))
        await good.wait_for(b"11=GOOD\x01")
        # the message was not consumed: after the next Logon the server asks for it again
        again = await self.peer(port)
        again.transport.write(logon_bytes("CLIENT1", seq=3))
        await again.wait_for(b"35=2\x01")  # ResendRequest from 2
        self.assertIn(b"7=2\x01", again.received)
        again.transport.write(raw_order("CLIENT1", 2, "BOOM", poss_dup=True))
        await again.wait_for(b"11=BOOM\x01")


class TlsHostileTests(HostileTestBase):
    def setUp(self) -> None:
        super().setUp()
        self.pki = make_pki(self.tmp / "pki")

    async def tls_acceptor(self, server: RecordingApp, extra: str = "") -> tuple[int, object]:
        port = free_port()
        cfg = acceptor_cfg(port, self.tmp / "acc", extra=server_tls(self.pki, level=0) + extra)
        service = acceptor_from(cfg, server)
        self.services.append(service)
        await start_acceptor(service)
        return port, service

    async def test_plaintext_client_on_a_tls_port_fails_cleanly(self) -> None:
        server = RecordingApp(reply=echo)
        port, service = await self.tls_acceptor(server, extra="LogonTimeout=0.5\n")
        talker = await self.peer(port)
        talker.transport.write(logon_bytes("CLIENT1"))
        silent = await self.peer(port)
        self.assertTrue(await within(talker.closed, WAIT), "plaintext Logon on the TLS port not dropped")
        self.assertTrue(await within(silent.closed, WAIT), "silent plaintext socket on the TLS port not dropped")
        self.assertNotIn(b"8=FIX", talker.received + silent.received)
        self.assertEqual(server.count("logon"), 0)
        self.flushLoggedErrors()
        # a real TLS client still gets in
        result = await run_client(port, self.pki.ca, send=logon_bytes("CLIENT1"))
        self.assertTrue(result.handshake, result.error)
        self.assertIn(b"35=A\x01", result.received)

    async def test_tls_client_on_a_plaintext_port_fails_cleanly(self) -> None:
        server = RecordingApp()
        port, service = await self.serve(server, extra="LogonTimeout=0.5")
        result = await run_client(port, self.pki.ca, send=logon_bytes("CLIENT1"))
        self.assertFalse(result.handshake)
        self.assertIsNotNone(result.error)
        self.assertNotIn("timed out", result.error or "")
        self.assertEqual(server.count("logon"), 0)
        await wait_until(lambda: not any(f.connections for f in service.factories), timeout=WAIT)

