"""Sequence resets and gaps against real QuickFIX (fixgate acceptor, quickfix initiator, FIX.4.4).

* quickfix with ResetOnLogon=Y logs on again: both sides restart at 1 and continue;
* quickfix sends SequenceReset-Reset (no GapFillFlag) and jumps its numbers: fixgate follows;
* either side skips sequence numbers: the other asks for a resend and gets a SequenceReset-GapFill.
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
    poll_until,
)
from qf_peer import free_port, matcher  # noqa: E402


class SequenceResetTests(InteropTestCase):
    version = FIX44

    async def start_pair(self, session_extra: str = "") -> None:
        port = free_port()
        self.app = FixgateApp()
        await self.fixgate_acceptor(self.app, self.version, port)
        self.peer, self.qf = self.qf_initiator(self.version, port, session_extra=session_extra)
        await self.qf.wait(matcher("logon"))
        await self.app.wait("logon")
        self.host = host_of(self.app, self.version)

    async def round_trip(self, cl_ord_id: str) -> None:
        self.peer.send(order_fields(cl_ord_id), "D")
        await self.qf.wait(matcher("app_in", "8", t11=cl_ord_id))

    def assert_no_trouble(self) -> None:
        self.assertEqual(self.app.count(fx("from_admin", "3")), 0)
        self.assertEqual(self.peer.count(matcher("admin_out", "3")), 0)
        self.assertEqual(self.peer.count(matcher("admin_in", "3")), 0)
        texts = [e.field(58) or "" for e in self.peer.matching(lambda e: e.msg_type == "5")]
        self.assertFalse([t for t in texts if "too low" in t or "too high" in t], texts)

    async def test_reset_on_logon_restarts_both_sides_at_one(self) -> None:
        await self.start_pair("ResetOnLogon=Y\n")
        await self.round_trip("R1")
        await self.round_trip("R2")
        self.assertEqual(self.host.session.next_target_seq_num, 4)
        session = self.peer.session()
        session.logout("see you")
        await self.app.wait("logout")
        await self.qf.wait(matcher("logout"))
        session.logon()
        await self.qf.wait_count(matcher("logon"), 2)
        await self.app.wait(lambda e: self.app.count("logon") >= 2)
        logons_out = self.peer.matching(matcher("admin_out", "A"))
        self.assertEqual([(e.seq, e.field(141)) for e in logons_out], [(1, "Y"), (1, "Y")])
        answer = self.peer.matching(matcher("admin_in", "A"))[-1]
        self.assertEqual((answer.seq, answer.field(141)), (1, "Y"))
        self.assertEqual(self.host.session.next_target_seq_num, 2)
        self.assertEqual(self.host.session.next_sender_seq_num, 2)
        await self.round_trip("R3")
        self.assertEqual(self.host.session.next_target_seq_num, 3)
        await poll_until(lambda: session.getExpectedTargetNum() == 3)  # set after fromApp returns
        self.assert_no_trouble()

    async def test_sequence_reset_reset_from_quickfix_is_followed(self) -> None:
        await self.start_pair()
        await self.round_trip("S1")
        session = self.peer.session()
        jump = session.getExpectedSenderNum() + 20
        self.peer.send([(36, str(jump))], "4")  # SequenceReset-Reset: no GapFillFlag
        session.setNextSenderMsgSeqNum(jump)
        reset = await self.app.wait(fx("from_admin", "4"))
        self.assertEqual(reset.message.get_int(36), jump)
        self.assertIsNone(reset.message.get(123))
        await self.round_trip("S2")
        order = self.app.matching(fx("from_app", "D", t11="S2"))[0]
        self.assertEqual(order.message.get_int(34), jump)
        self.assertEqual(self.host.session.next_target_seq_num, jump + 1)
        self.assert_no_trouble()

    async def test_gap_left_by_fixgate_is_gap_filled(self) -> None:
        await self.start_pair()
        await self.round_trip("G0")
        skipped_from = self.host.session.next_sender_seq_num
        self.host.session.next_sender_seq_num = skipped_from + 10
        self.app.registry.send_to_target(news("G1"), self.host.session_id)
        request = await self.qf.wait(matcher("admin_out", "2"))
        self.assertEqual(int(request.field(7)), skipped_from)
        fill = await self.qf.wait(matcher("admin_in", "4"))
        self.assertEqual(fill.field(123), "Y")
        self.assertEqual(int(fill.field(36)), skipped_from + 10)
        item = await self.qf.wait(matcher("app_in", "B", t148="G1"))
        self.assertEqual(item.seq, skipped_from + 10)
        await self.round_trip("G2")
        self.assertEqual(self.peer.count(matcher("app_in", "B")), 1)
        self.assert_no_trouble()

    async def test_gap_left_by_quickfix_is_gap_filled(self) -> None:
        await self.start_pair()
        await self.round_trip("Q0")
        session = self.peer.session()
        skipped_from = session.getExpectedSenderNum()
        session.setNextSenderMsgSeqNum(skipped_from + 10)
        await self.round_trip("Q1")
        request = self.app.matching(fx("to_admin", "2"))[0]
        self.assertEqual(request.message.get_int(7), skipped_from)
        fill = self.app.matching(fx("from_admin", "4"))[0]
        self.assertEqual(fill.message.get(123), "Y")
        self.assertEqual(fill.message.get_int(36), skipped_from + 10)
        self.assertEqual([e.message.get(11) for e in self.app.matching(fx("from_app", "D"))], ["Q0", "Q1"])
        await self.round_trip("Q2")
        self.assert_no_trouble()
