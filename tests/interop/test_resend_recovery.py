"""A dropped connection recovered by resend, in both directions, against real QuickFIX.

The connection runs through a TCP :class:`Cable` the test cuts (both sides see a dropped
connection, neither can reconnect) and restores.  While it is cut each side sends application
messages, which are only stored; after the reconnect and logon each side detects the gap, asks
for a resend, and gets the messages again with PossDupFlag=Y and OrigSendingTime, exactly once
and in order.
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
    FIX44,
    FixgateApp,
    InteropTestCase,
    fx,
    host_of,
    news,
    order_fields,
)
from qf_peer import free_port, matcher  # noqa: E402

DOWN = 3  # messages each side sends while the cable is cut


class _ResendRecovery:
    fixgate_accepts: bool
    version = FIX44

    async def start_pair_through_cable(self) -> None:
        self.app = FixgateApp()
        upstream = free_port()
        if self.fixgate_accepts:
            await self.fixgate_acceptor(self.app, self.version, upstream)
            self.cable_ = self.cable(upstream)
            self.peer, self.qf = self.qf_initiator(self.version, self.cable_.port)
        else:
            self.peer, self.qf = self.qf_acceptor(self.version, upstream, auto_execute=False)
            self.cable_ = self.cable(upstream)
            self.fixgate_initiator(self.app, self.version, self.cable_.port)
        await self.qf.wait(matcher("logon"))
        await self.app.wait("logon")
        self.host = host_of(self.app, self.version)

    async def test_messages_sent_while_disconnected_arrive_by_resend(self) -> None:
        await self.start_pair_through_cable()
        self.peer.send(order_fields("BEFORE"), "D")
        await self.qf.wait(matcher("app_in", "8", t11="BEFORE"))

        await self.cable_.cut()
        await self.app.wait("logout")
        await self.qf.wait(matcher("logout"))
        self.assertFalse(self.host.connected)
        for i in range(1, DOWN + 1):
            self.assertFalse(self.app.registry.send_to_target(news(f"DOWN-FG-{i}"), self.host.session_id))
            self.peer.send(order_fields(f"DOWN-QF-{i}"), "D")
        self.assertEqual(self.app.count(fx("from_app", "D")), 1)

        self.cable_.restore()
        await self.qf.wait_count(matcher("logon"), 2)
        await self.app.wait(lambda e: self.app.count("logon") >= 2)
        # fixgate's stored News reach quickfix by resend; quickfix's stored orders reach fixgate
        await self.qf.wait(matcher("app_in", "B", t148=f"DOWN-FG-{DOWN}"))
        await self.app.wait(fx("from_app", "D", t11=f"DOWN-QF-{DOWN}"))
        # a barrier each way: anything still in flight from the resend arrives before these
        self.peer.send(order_fields("AFTER"), "D")
        self.app.registry.send_to_target(news("AFTER"), self.host.session_id)
        await self.app.wait(fx("from_app", "D", t11="AFTER"))
        await self.qf.wait(matcher("app_in", "B", t148="AFTER"))
        await self.qf.wait(matcher("app_in", "8", t11="AFTER"))

        # what quickfix received: each News once, in order, the resent ones 43=Y with 122
        items = self.peer.matching(matcher("app_in", "B"))
        self.assertEqual(
            [e.field(148) for e in items], [f"DOWN-FG-{i}" for i in range(1, DOWN + 1)] + ["AFTER"]
        )
        for event in items[:DOWN]:
            self.assertEqual(event.field(43), "Y", event.raw)
            self.assertIsNotNone(event.field(122), event.raw)
        self.assertIsNone(items[-1].field(43))
        self.assertEqual([e.seq for e in items], sorted(e.seq for e in items))
        # what fixgate's application received: each order once, in order, the resent ones 43=Y with 122
        orders = self.app.matching(fx("from_app", "D"))
        expected = ["BEFORE"] + [f"DOWN-QF-{i}" for i in range(1, DOWN + 1)] + ["AFTER"]
        self.assertEqual([e.message.get(11) for e in orders], expected)
        for event in orders[1 : DOWN + 1]:
            self.assertEqual(event.message.get(43), "Y")
            self.assertIsNotNone(event.message.get(122))
        seqs = [event.message.get_int(34) for event in orders]
        self.assertEqual(seqs, sorted(seqs))
        # every order was answered exactly once (fixgate answered the resent ones when they came)
        for cl_ord_id in expected:
            self.assertEqual(self.peer.count(matcher("app_in", "8", t11=cl_ord_id)), 1, cl_ord_id)
        # each side asked for a resend; nobody rejected or complained about sequence numbers
        self.assertGreaterEqual(self.peer.count(matcher("admin_out", "2")), 1)
        self.assertGreaterEqual(self.app.count(fx("to_admin", "2")), 1)
        self.assertEqual(self.app.count(fx("from_admin", "3")), 0)
        self.assertEqual(self.peer.count(matcher("admin_out", "3")), 0)
        logouts = self.peer.matching(lambda e: e.msg_type == "5") + [
            e for e in self.app.events if e.message is not None and e.message.msg_type == "5"
        ]
        self.assertEqual(logouts, [])


class FixgateAcceptorResend(_ResendRecovery, InteropTestCase):
    fixgate_accepts = True


class FixgateInitiatorResend(_ResendRecovery, InteropTestCase):
    fixgate_accepts = False
