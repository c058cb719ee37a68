"""fixgate <-> real QuickFIX: logon, application messages both ways, logout from each side.

Both topologies (fixgate acceptor with a quickfix SocketInitiator, fixgate initiator with a
quickfix SocketAcceptor), in FIX.4.4, FIX.4.2 and FIXT.1.1/FIX.5.0SP2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.interop
pytest.importorskip(
    "quickfix", reason="quickfix (the interop extra) is not installed: pip install -e '.[interop]'"
)

sys.path.insert(0, str(Path(__file__).parent))

from interop_support import (  # noqa: E402
    FIX42,
    FIX44,
    FIX50SP2,
    FixgateApp,
    InteropTestCase,
    Version,
    fx,
    host_of,
    news,
    order_fields,
)
from qf_peer import free_port, matcher  # noqa: E402

from fix_engine.codec.message import FixMessage  # noqa: E402


class _Exchange:
    """The scenario, whichever side accepts; subclasses set ``version`` and ``fixgate_accepts``."""

    version: Version
    fixgate_accepts: bool

    async def start_pair(self):
        port = free_port()
        self.app = FixgateApp()
        if self.fixgate_accepts:
            await self.fixgate_acceptor(self.app, self.version, port)
            self.peer, self.qf = self.qf_initiator(self.version, port)
        else:
            self.peer, self.qf = self.qf_acceptor(self.version, port)
            self.fixgate_initiator(self.app, self.version, port)
        await self.qf.wait(matcher("logon"))
        await self.app.wait("logon")
        self.host = host_of(self.app, self.version)

    async def exchange_application_messages(self) -> None:
        # quickfix sends a NewOrderSingle, fixgate answers with an ExecutionReport
        self.peer.send(order_fields("A1"), "D")
        order = await self.app.wait(fx("from_app", "D", t11="A1"))
        self.assertEqual(order.message.get(55), "IBM")
        self.assertEqual(order.message.get(60), "20260101-10:00:00.000")
        report = await self.qf.wait(matcher("app_in", "8", t11="A1"))
        self.assertEqual(report.field(39), "2")
        self.assertEqual(report.field(17), "E-A1")
        self.assertEqual(report.field(8), self.version.begin_string)
        # fixgate sends unsolicited News (with a repeating group)
        self.app.registry.send_to_target(news("N1"), self.host.session_id)
        item = await self.qf.wait(matcher("app_in", "B", t148="N1"))
        self.assertEqual(item.field(33), "1")
        self.assertEqual(item.field(58), "text of N1")
        if not self.fixgate_accepts:
            # the quickfix acceptor executes: fixgate's order comes back filled
            order = FixMessage.new("D", *order_fields("B1"))
            self.app.registry.send_to_target(order, self.host.session_id)
            fill = await self.app.wait(fx("from_app", "8", t11="B1"))
            self.assertEqual(fill.message.get(39), "2")
        self.assertEqual(self.app.count(fx("from_admin", "3")), 0, "fixgate rejected something")
        self.assertEqual(self.qf.peer.count(matcher("admin_in", "3")), 0, "quickfix rejected something")
        self.assertEqual(self.qf.peer.count(matcher("admin_out", "3")), 0, "quickfix rejected something")
        self.assertEqual(self.qf.peer.count(matcher("admin_out", "j")), 0, "quickfix rejected something")

    async def test_logon_messages_both_ways_and_quickfix_logs_out(self) -> None:
        await self.start_pair()
        await self.exchange_application_messages()
        self.peer.session().logout("bye from quickfix")
        logout = await self.app.wait(fx("from_admin", "5"))
        self.assertEqual(logout.message.get(58), "bye from quickfix")
        await self.app.wait("logout")
        await self.qf.wait(matcher("logout"))
        self.assertEqual(self.qf.peer.count(matcher("admin_in", "5")), 1, "fixgate answers the Logout")

    async def test_logon_messages_both_ways_and_fixgate_logs_out(self) -> None:
        await self.start_pair()
        await self.exchange_application_messages()
        self.host.logout("bye from fixgate")
        logout = await self.qf.wait(matcher("admin_in", "5"))
        self.assertEqual(logout.field(58), "bye from fixgate")
        await self.qf.wait(matcher("logout"))
        await self.app.wait("logout")
        answer = await self.app.wait(fx("from_admin", "5"))
        self.assertNotEqual(answer.message.get(58), "bye from fixgate")


class FixgateAcceptorFIX44(_Exchange, InteropTestCase):
    version = FIX44
    fixgate_accepts = True


class FixgateAcceptorFIX42(_Exchange, InteropTestCase):
    version = FIX42
    fixgate_accepts = True


class FixgateAcceptorFIX50SP2(_Exchange, InteropTestCase):
    version = FIX50SP2
    fixgate_accepts = True


class FixgateInitiatorFIX44(_Exchange, InteropTestCase):
    version = FIX44
    fixgate_accepts = False


class FixgateInitiatorFIX42(_Exchange, InteropTestCase):
    version = FIX42
    fixgate_accepts = False


class FixgateInitiatorFIX50SP2(_Exchange, InteropTestCase):
    version = FIX50SP2
    fixgate_accepts = False
