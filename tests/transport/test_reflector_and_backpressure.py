"""The conformance reflector, and a slow reader that must not stall other sessions."""

from __future__ import annotations

import sys
from pathlib import Path

from twisted.internet import reactor

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
from test_acceptor_initiator import TransportTestBase, acceptor_cfg, initiator_cfg, logon_bytes  # noqa: E402

from fix_engine.codec.message import FixMessage  # noqa: E402
from fix_engine.reflector import ReflectorApplication  # noqa: E402
from fix_engine.session.session_id import SessionID  # noqa: E402
from fix_engine.transport.session_builder import SessionBuilder  # noqa: E402

CLIENT = SessionID("FIX.4.4", "CLIENT1", "SERVER")


class ReflectorTests(TransportTestBase):
    async def start_reflector(self, port: int) -> None:
        from fix_engine.config import parse_config
        from fix_engine.transport.acceptor import AcceptorService
        from fix_engine.transport.host import SessionRegistry

        registry = SessionRegistry()
        sessions = parse_config(acceptor_cfg(port, self.tmp / "refl"), "reflector-test.cfg").sessions
        service = AcceptorService(sessions, SessionBuilder(ReflectorApplication(registry)), reactor, registry=registry)
        self.services.append(service)
        await start_acceptor(service)

    async def test_echoes_new_order_single_and_security_definition(self) -> None:
        port = free_port()
        await self.start_reflector(port)
        app = RecordingApp()
        self.initiator(app, [port])
        await app.wait_for("logon")
        app.registry.send_to_target(new_order("E1"), CLIENT)
        event = await app.wait_for("from_app")
        self.assertEqual(event.message.msg_type, "D")
        self.assertEqual(event.message.get(11), "E1")
        self.assertEqual(event.message.get(55), "IBM")
        definition = FixMessage.new("d", (320, "REQ1"), (322, "RESP1"), (323, "1"), (55, "IBM"))
        app.registry.send_to_target(definition, CLIENT)
        event = await app.wait_for(lambda e: e.kind == "from_app" and e.message.msg_type == "d")
        self.assertEqual(event.message.get(322), "RESP1")

    async def test_drops_possible_resend_of_an_already_echoed_order(self) -> None:
        port = free_port()
        await self.start_reflector(port)
        app = RecordingApp()
        self.initiator(app, [port])
        await app.wait_for("logon")
        app.registry.send_to_target(new_order("DUP"), CLIENT)
        await app.wait_for(lambda e: e.kind == "from_app" and e.message.get(11) == "DUP")
        again = new_order("DUP").set(97, "Y")
        app.registry.send_to_target(again, CLIENT)
        fresh = new_order("DUP2").set(97, "Y")  # PossResend but never seen: echoed
        app.registry.send_to_target(fresh, CLIENT)
        await app.wait_for(lambda e: e.kind == "from_app" and e.message.get(11) == "DUP2")
        echoed = [e.message.get(11) for e in app.events if e.kind == "from_app"]
        self.assertEqual(echoed, ["DUP", "DUP2"])

    async def test_other_application_messages_get_business_message_reject(self) -> None:
        port = free_port()
        await self.start_reflector(port)
        app = RecordingApp()
        self.initiator(app, [port])
        await app.wait_for("logon")
        cancel = FixMessage.new("F", (11, "C1"), (41, "E1"), (54, "1"), (55, "IBM"), (60, "20261122-10:00:00.000"))
        app.registry.send_to_target(cancel, CLIENT)
        event = await app.wait_for(lambda e: e.kind == "from_app" and e.message.msg_type == "j")
        self.assertEqual(event.message.get(380), "3")
        self.assertEqual(event.message.get(372), "F")
        self.assertEqual(event.message.get(58), "Unsupported Message Type")


class BackpressureTests(TransportTestBase):
    async def test_slow_reader_is_dropped_and_other_sessions_keep_working(self) -> None:
        port = free_port()
        server = RecordingApp(reply=echo)
        sessions = "[SESSION]\nBeginString=FIX.4.4\nTargetCompID=SLOW\n[SESSION]\nBeginString=FIX.4.4\nTargetCompID=CLIENT1\n"
        service = await self.acceptor(server, port, sessions=sessions)
        for factory in service.factories:
            factory.max_pending_output = 256 * 1024
        slow = await self.raw_client(port)
        slow.transport.write(logon_bytes("SLOW"))
        slow_id = SessionID("FIX.4.4", "SERVER", "SLOW")
        await server.wait_for(lambda e: e.kind == "logon" and e.session_id == slow_id)
        slow.transport.pauseProducing()  # stop reading: the kernel buffers fill, then ours
        fast = RecordingApp()
        self.initiator(fast, [port])
        await fast.wait_for("logon")
        padding = "x" * 4000
        sent = 0
        host = server.registry.get(slow_id)
        while host.connected and not host.protocol.closing and sent < 20000:  # bounded
            server.registry.send_to_target(FixMessage.new("B", (148, "news"), (33, "1"), (58, padding)), slow_id)
            sent += 1
        await wait_until(lambda: not host.connected, timeout=10)
        self.assertLess(sent, 20000, "the slow reader was never cut off")
        # the other session is unaffected
        fast.registry.send_to_target(new_order("FAST"), CLIENT)
        event = await fast.wait_for(lambda e: e.kind == "from_app" and e.message.get(11) == "FAST")
        self.assertEqual(event.message.get(39), "2")


# keep the helpers referenced for linters
_ = (acceptor_from, initiator_from, initiator_cfg)
