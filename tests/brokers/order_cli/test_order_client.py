"""run_order against an in-process stub gateway: real sockets on 127.0.0.1, one reactor, no sleeps.

Every wait is bounded by the client's own ``wait`` deadline (a reactor ``callLater``) and by
trial's test timeout.
"""

from __future__ import annotations

import socket
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

from twisted.internet import defer, reactor
from twisted.trial import unittest

sys.path.insert(0, str(Path(__file__).parent))

from order_stub_gateway import StubGateway, stub_acceptor  # noqa: E402

from brokers.order_client import (  # noqa: E402
    CancelOrder,
    ClientOptions,
    ExitStatus,
    NewOrder,
    OrderResult,
    OrderStatus,
    ReplaceOrder,
    Report,
    run_order,
)


def unused_port() -> int:
    """A port nothing listens on (bound once, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OrderClientTests(unittest.TestCase):
    timeout = 60

    async def _start(self) -> None:
        self.gateway = StubGateway()
        self.acceptor = stub_acceptor(self.gateway, reactor)
        await self.acceptor.listen()
        self.acceptor.startService()
        self.port = self.acceptor.bound_ports[0]

    def setUp(self) -> defer.Deferred:
        return defer.ensureDeferred(self._start())

    def tearDown(self) -> defer.Deferred:
        return defer.maybeDeferred(self.acceptor.stopService)

    def options(self, **kw: object) -> ClientOptions:
        values: dict[str, object] = {"port": self.port, "wait": 5.0, "quiet": 0.2}
        values.update(kw)
        return ClientOptions(**values)  # type: ignore[arg-type]

    async def order(self, request: object, **kw: object) -> tuple[OrderResult, list[Report]]:
        printed: list[Report] = []
        result = await run_order(request, self.options(**kw), reactor=reactor, on_report=printed.append)  # type: ignore[arg-type]
        return result, printed

    def received(self, msg_type: str) -> list:
        return [m for _, m in self.gateway.received if m.msg_type == msg_type]

    # ---- new orders

    async def test_limit_buy_is_acknowledged_then_filled(self) -> None:
        result, printed = await self.order(NewOrder("buy", "IBM", Decimal(100), Decimal("100.00"), cl_ord_id="ORD-1"))
        self.assertEqual(result.status, ExitStatus.ACCEPTED)
        self.assertEqual(printed, result.reports)
        self.assertEqual([r.ord_status for r in result.reports], ["0", "2"])
        self.assertEqual(
            result.reports[1].line(),
            "ExecutionReport CLIENT1 ClOrdID=ORD-1 OrderID=G-1 Symbol=IBM Side=1(Buy) ExecType=F(Trade) "
            "OrdStatus=2(Filled) OrderQty=100 Price=100 LastQty=100 LastPx=100 CumQty=100 LeavesQty=0 AvgPx=100",
        )
        [sent] = self.received("D")
        self.assertEqual(
            [(t, sent.get(t)) for t in (11, 21, 38, 40, 44, 54, 55, 59)],
            [(11, "ORD-1"), (21, "1"), (38, "100"), (40, "2"), (44, "100"), (54, "1"), (55, "IBM"), (59, "0")],
        )
        self.assertIsNotNone(sent.get(60))
        self.assertEqual(result.sent.get(11), "ORD-1")  # type: ignore[union-attr]

    async def test_market_sell_with_account_tif_and_destination(self) -> None:
        request = NewOrder("sell", "MSFT", Decimal(5), None, account="DEMO1", tif="ioc", cl_ord_id="M-1",
                           ex_destination="XNAS")
        result, _ = await self.order(request)
        self.assertEqual(result.status, ExitStatus.ACCEPTED)
        [sent] = self.received("D")
        self.assertEqual((sent.get(1), sent.get(40), sent.get(44), sent.get(54), sent.get(59), sent.get(100)),
                         ("DEMO1", "1", None, "2", "3", "XNAS"))

    async def test_order_reject_exits_rejected_with_reason_and_text(self) -> None:
        result, _ = await self.order(NewOrder("buy", "BAD", Decimal(100), Decimal(100), cl_ord_id="B-1"))
        self.assertEqual(result.status, ExitStatus.REJECTED)
        [report] = result.reports
        self.assertEqual((report.ord_status, report.get(103)), ("8", "1"))
        line = report.line()
        self.assertIn("OrdStatus=8(Rejected) OrdRejReason=1(UnknownSymbol)", line)
        self.assertTrue(line.endswith("Text=unknown symbol BAD"), line)

    async def test_resting_order_is_accepted_after_the_quiet_period(self) -> None:
        result, _ = await self.order(NewOrder("buy", "REST", Decimal(10), Decimal("99.5"), cl_ord_id="R-1"))
        self.assertEqual(result.status, ExitStatus.ACCEPTED)
        self.assertEqual([r.ord_status for r in result.reports], ["0"])

    async def test_session_reject_and_business_reject_count_as_rejected(self) -> None:
        result, _ = await self.order(NewOrder("buy", "REJ", Decimal(1), None, cl_ord_id="J-1"))
        self.assertEqual(result.status, ExitStatus.REJECTED)
        self.assertEqual([r.name for r in result.reports], ["Reject"])
        self.assertIn("RefTagID=55 RefMsgType=D SessionRejectReason=5(ValueIsIncorrect)", result.reports[0].line())
        result, _ = await self.order(NewOrder("buy", "BIZ", Decimal(1), None, cl_ord_id="J-2"))
        self.assertEqual(result.status, ExitStatus.REJECTED)
        self.assertEqual([r.name for r in result.reports], ["BusinessMessageReject"])
        self.assertIn("BusinessRejectRefID=J-2", result.reports[0].line())

    async def test_no_answer_within_wait(self) -> None:
        result, _ = await self.order(NewOrder("buy", "SILENT", Decimal(1), None, cl_ord_id="S-1"), wait=0.5)
        self.assertEqual(result.status, ExitStatus.NO_ANSWER)
        self.assertEqual(result.reports, [])
        self.assertIn("no answer to NewOrderSingle S-1", result.message)

    # ---- cancel / replace / status

    async def test_cancel_replace_and_status_of_a_resting_order(self) -> None:
        await self.order(NewOrder("buy", "REST", Decimal(10), Decimal(99), cl_ord_id="O-1"))
        result, _ = await self.order(ReplaceOrder("O-1", "REST", "buy", Decimal(20), Decimal("98.5"), cl_ord_id="O-2"))
        self.assertEqual(result.status, ExitStatus.ACCEPTED)
        [replaced] = result.reports
        self.assertEqual((replaced.exec_type, replaced.get(41), replaced.get(38)), ("5", "O-1", "20"))
        [g] = self.received("G")
        self.assertEqual((g.get(38), g.get(40), g.get(41), g.get(44)), ("20", "2", "O-1", "98.5"))

        result, _ = await self.order(OrderStatus("O-2", "REST", "buy"))
        self.assertEqual(result.status, ExitStatus.ACCEPTED)
        self.assertIn("ExecType=I(OrderStatus) OrdStatus=0(New)", result.reports[0].line())

        result, _ = await self.order(CancelOrder("O-2", "REST", "buy", Decimal(20), cl_ord_id="O-3"))
        self.assertEqual(result.status, ExitStatus.ACCEPTED)
        self.assertEqual((result.reports[0].exec_type, result.reports[0].ord_status), ("4", "4"))
        [f] = self.received("F")
        self.assertEqual((f.get(11), f.get(38), f.get(41), f.get(54), f.get(55)), ("O-3", "20", "O-2", "1", "REST"))

    async def test_cancel_and_replace_of_unknown_order_are_rejected(self) -> None:
        result, _ = await self.order(CancelOrder("NOPE", "IBM", "sell", cl_ord_id="C-1"))
        self.assertEqual(result.status, ExitStatus.REJECTED)
        self.assertIn("OrderCancelReject CLIENT1 ClOrdID=C-1 OrigClOrdID=NOPE", result.reports[0].line())
        self.assertIn("CxlRejReason=1(UnknownOrder)", result.reports[0].line())
        result, _ = await self.order(ReplaceOrder("NOPE", "IBM", "sell", Decimal(5), cl_ord_id="C-2"))
        self.assertEqual(result.status, ExitStatus.REJECTED)
        self.assertIn("CxlRejResponseTo=2(OrderCancelReplaceRequest)", result.reports[0].line())

    async def test_status_of_unknown_order_is_rejected(self) -> None:
        result, _ = await self.order(OrderStatus("NOPE", "IBM", "buy"))
        self.assertEqual(result.status, ExitStatus.REJECTED)
        self.assertIn("OrdRejReason=5(UnknownOrder)", result.reports[0].line())

    # ---- versions, sequence numbers

    async def test_fix42_and_fix50sp2_sessions(self) -> None:
        for version, begin in (("4.2", "FIX.4.2"), ("5.0sp2", "FIXT.1.1")):
            result, _ = await self.order(NewOrder("buy", "AAPL", Decimal(3), Decimal(100), cl_ord_id=f"V-{version}"),
                                       fix_version=version)
            self.assertEqual(result.status, ExitStatus.ACCEPTED, version)
            self.assertEqual(result.reports[-1].ord_status, "2")
            session_id, _ = self.gateway.received[-1]
            self.assertEqual(session_id.begin_string, begin)

    async def test_sequence_numbers_persist_without_reset(self) -> None:
        store = Path(tempfile.mkdtemp(prefix="fixgate-order-store-"))
        first, _ = await self.order(NewOrder("buy", "IBM", Decimal(1), Decimal(100), cl_ord_id="Q-1"),
                                  reset=False, store_dir=store)
        second, _ = await self.order(NewOrder("buy", "IBM", Decimal(1), Decimal(100), cl_ord_id="Q-2"),
                                   reset=False, store_dir=store)
        self.assertEqual((first.status, second.status), (ExitStatus.ACCEPTED, ExitStatus.ACCEPTED))
        seq_first, seq_second = (int(r.sent.get(34)) for r in (first, second))  # type: ignore[union-attr]
        self.assertEqual(seq_first, 2)  # Logon 1, NewOrderSingle 2, Logout 3
        self.assertEqual(seq_second, 5)  # Logon 4, NewOrderSingle 5
        self.assertTrue(any(store.iterdir()))
        reset, _ = await self.order(NewOrder("buy", "IBM", Decimal(1), Decimal(100), cl_ord_id="Q-3"), store_dir=store)
        self.assertEqual(int(reset.sent.get(34)), 2)  # type: ignore[union-attr]

    # ---- cannot log on

    async def test_connection_refused(self) -> None:
        port = unused_port()
        result, _ = await self.order(NewOrder("buy", "IBM", Decimal(1), None), port=port, wait=1.0)
        self.assertEqual(result.status, ExitStatus.NOT_LOGGED_ON)
        self.assertEqual(result.message, f"could not log on to 127.0.0.1:{port} as CLIENT1 within 1s: connection refused")
        self.assertEqual(self.gateway.received, [])

    async def test_unknown_sender_is_not_logged_on(self) -> None:
        result, _ = await self.order(NewOrder("buy", "IBM", Decimal(1), None), sender="NOBODY", wait=1.0)
        self.assertEqual(result.status, ExitStatus.NOT_LOGGED_ON)
        self.assertIn(f"could not log on to 127.0.0.1:{self.port} as NOBODY within 1s: connected", result.message)
