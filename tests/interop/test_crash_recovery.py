"""Kill the process between storing and sending: after restart no message is lost and the peer
recovers by resend.

A child process (``crash_child.py``) runs a fixgate acceptor with a FileStore that fills each
NewOrderSingle.  Its ``FixProtocol.write`` is patched to ``os._exit(9)`` when the ExecutionReport
for ClOrdID ``CRASH`` is about to be written: the report is in the store (the child checks and
says so), but never on the wire, and the order that caused it was not yet marked as received.
The child is restarted on the same store; quickfix reconnects, logs on, and both sides resend:
quickfix gets the stored ExecutionReport by resend (PossDupFlag=Y), and fixgate gets the order
again (PossDupFlag=Y) and answers it once more (same ExecID: the peer can tell it is the same
execution).  Nothing is lost and nobody is logged out for "MsgSeqNum too low".
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

from interop_support import FIX44, InteropTestCase, order_fields, poll_until  # noqa: E402
from qf_peer import free_port, matcher  # noqa: E402

CHILD = Path(__file__).parent / "crash_child.py"


class CrashBetweenStoreAndSend(InteropTestCase):
    def child(self, port: int, *extra: str):
        return self.spawn(
            [sys.executable, str(CHILD), "--port", str(port), "--workdir", str(self.tmp), *extra]
        )

    async def test_no_execution_report_is_lost(self) -> None:
        port = free_port()
        first = self.child(port, "--crash-on", "CRASH")
        await first.wait_output(b"listening on port", timeout=30)
        peer, qf = self.qf_initiator(FIX44, port)
        await qf.wait(matcher("logon"))

        peer.send(order_fields("A1"), "D")
        await qf.wait(matcher("app_in", "8", t11="A1"))
        peer.send(order_fields("CRASH"), "D")
        exit_code = await first.wait_ended(timeout=20)
        self.assertEqual(exit_code, 9, first.err[-2000:])
        self.assertIn(b"stored", first.out)
        self.assertNotIn(b"NOT-stored", first.out, "the report was written before it was stored")
        await qf.wait(matcher("logout"))
        self.assertEqual(
            peer.count(matcher("app_in", "8", t11="CRASH")), 0, "nothing went out before the crash"
        )

        second = self.child(port)
        await second.wait_output(b"listening on port", timeout=30)
        await qf.wait_count(matcher("logon"), 2, timeout=20)
        resent = await qf.wait(matcher("app_in", "8", t11="CRASH", t43="Y"), timeout=20)
        self.assertIsNotNone(resent.field(122), resent.raw)
        self.assertEqual(resent.field(17), "E-CRASH")
        # a barrier: after the recovery the session carries on normally
        peer.send(order_fields("AFTER"), "D")
        after = await qf.wait(matcher("app_in", "8", t11="AFTER"))
        self.assertIsNone(after.field(43))

        reports = peer.matching(matcher("app_in", "8"))
        # no execution lost; a repeat (the answer to the resent order) has the same ExecID
        self.assertEqual({e.field(17) for e in reports}, {"E-A1", "E-CRASH", "E-AFTER"})
        self.assertEqual(peer.count(matcher("app_in", "8", t11="A1")), 1)
        self.assertEqual(peer.count(matcher("app_in", "8", t11="AFTER")), 1)
        self.assertLessEqual(peer.count(matcher("app_in", "8", t11="CRASH")), 2)
        seqs = [e.seq for e in reports]
        self.assertEqual(seqs, sorted(seqs), "reports in sequence order")
        self.assertEqual(len(set(seqs)), len(seqs), "no sequence number delivered twice")
        # sequence numbers stayed consistent: no reject, no Logout either way after the restart
        self.assertEqual(peer.count(lambda e: e.msg_type == "3"), 0)
        logouts = [e.field(58) or "" for e in peer.matching(lambda e: e.msg_type == "5")]
        self.assertEqual(logouts, [])
        # quickfix resent the order the child had not marked as received
        resent_orders = peer.matching(
            lambda e: e.kind == "app_out" and e.msg_type == "D" and e.field(43) == "Y"
        )
        self.assertEqual([e.field(11) for e in resent_orders], ["CRASH"])
        # quickfix increments its expected number after fromApp returns: poll (bounded) for it
        session = peer.session()
        await poll_until(lambda: session.getExpectedTargetNum() == reports[-1].seq + 1)
