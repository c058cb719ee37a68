"""The gateway on 127.0.0.1: the real internal venue, the SQLite registry, fixgate FIX clients."""

from __future__ import annotations

import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from twisted.trial import unittest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import GatewayHarness, is_er, order, reports, wait_report  # noqa: E402

from brokers.registry import Registry  # noqa: E402
from fix_engine.codec.message import FixMessage  # noqa: E402

pytestmark = pytest.mark.network

START_CASH = Decimal("100000000")
START_SHARES = Decimal("1000000")


def balances(db: Path, account: str) -> dict[str, Decimal]:
    with Registry(f"sqlite:///{db}") as registry:
        return {b.asset.code: b.amount for b in registry.balances(account)}


def held(db: Path, account: str) -> dict[str, Decimal]:
    with Registry(f"sqlite:///{db}") as registry:
        return {b.asset.code: b.held for b in registry.balances(account)}


class GatewayIntegrationTest(unittest.TestCase):
    timeout = 60

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="fixgate-gateway-"))
        self.h = GatewayHarness(self.tmp)

    async def _teardown(self) -> None:
        await self.h.disconnect_all()
        await self.h.stop_gateway()

    def tearDown(self):  # type: ignore[no-untyped-def]
        from twisted.internet import defer

        return defer.ensureDeferred(self._teardown())

    async def test_two_clients_trade_and_the_registry_matches_to_the_cent(self) -> None:
        await self.h.start_gateway()
        c1 = await self.h.connect("CLIENT1")
        c2 = await self.h.connect("CLIENT2")
        # CLIENT1 buys 300 IBM at 100.05 (rests), CLIENT2 sells 100 then 150 at 100.00 (trade at 100.05)
        self.h.send(c1, order("B1", "1", "300", "100.05"))
        new = (await wait_report(c1, is_er("B1", "0", "0"))).message
        self.assertEqual(new.get(37).split("-")[0], self.h.gateway.ids.prefix)
        self.assertEqual((new.get(14), new.get(151)), ("0", "300"))
        self.h.send(c2, order("S1", "2", "100", "100.00"))
        self.h.send(c2, order("S2", "2", "150", "100.00"))
        await wait_report(c2, is_er("S2", "F", "2"))
        fill = (await wait_report(c1, lambda m: m.get(150) == "F" and m.get(14) == "250")).message
        self.assertEqual((fill.get(11), fill.get(37), fill.get(39)), ("B1", new.get(37), "1"))
        self.assertEqual((fill.get(31), fill.get(32), fill.get(151), fill.get(6)), ("100.05", "150", "50", "100.05"))
        # cancel the rest: the reservation for the 50 left is released
        self.h.send(c1, FixMessage.new("F", (11, "B1-C"), (41, "B1"), (54, "1"), (55, "IBM"),
                                       (60, "20260101-10:00:00.000")))
        cancelled = (await wait_report(c1, is_er("B1-C", "4", "4"))).message
        self.assertEqual((cancelled.get(41), cancelled.get(37), cancelled.get(151)), ("B1", new.get(37), "0"))
        await self.h.gateway.writer.drain()
        cost = Decimal("250") * Decimal("100.05")
        b1, b2 = balances(self.tmp / "fixgate.db", "DEMO1"), balances(self.tmp / "fixgate.db", "DEMO2")
        self.assertEqual(b1["USD"], START_CASH - cost)
        self.assertEqual(b1["IBM"], START_SHARES + 250)
        self.assertEqual(b2["USD"], START_CASH + cost)
        self.assertEqual(b2["IBM"], START_SHARES - 250)
        self.assertEqual(held(self.tmp / "fixgate.db", "DEMO1")["USD"], 0)
        self.assertEqual(held(self.tmp / "fixgate.db", "DEMO2")["IBM"], 0)
        self.assertEqual(self.h.gateway.registry.check(), [])

    async def test_unentitled_account_and_limit_breach_are_rejected(self) -> None:
        await self.h.start_gateway()
        c1 = await self.h.connect("CLIENT1")
        self.h.send(c1, order("X1", "1", "10", "100.00", account="DEMO2"))
        rej = (await wait_report(c1, is_er("X1", "8", "8"))).message
        self.assertEqual(rej.get(103), "15")
        self.assertIn("DEMO2", rej.get(58))
        self.h.send(c1, order("X2", "1", "2000000", "100.00"))
        rej = (await wait_report(c1, is_er("X2", "8", "8"))).message
        self.assertEqual(rej.get(103), "3")
        self.assertTrue(rej.get(58).startswith("max order quantity:"), rej.get(58))
        self.h.send(c1, order("X3", "1", "10", "100.00", t100="NOWHERE"))
        rej = (await wait_report(c1, is_er("X3", "8", "8"))).message
        self.assertIn("unknown destination", rej.get(58))

    async def test_replace_and_status_on_fix42_and_fixt(self) -> None:
        await self.h.start_gateway()
        c42 = await self.h.connect("CLIENT1", "FIX.4.2")
        self.h.send(c42, order("R1", "1", "100", "99.00"))
        await wait_report(c42, is_er("R1", "0", "0"))
        self.h.send(c42, FixMessage.new("G", (11, "R2"), (41, "R1"), (21, "1"), (38, "200"), (40, "2"), (44, "99.50"),
                                        (54, "1"), (55, "IBM"), (60, "20260101-10:00:00.000")))
        replaced = (await wait_report(c42, is_er("R2", "5", "0"))).message
        self.assertEqual((replaced.get(41), replaced.get(38), replaced.get(44), replaced.get(20)),
                         ("R1", "200", "99.5", "0"))
        c50 = await self.h.connect("CLIENT2", "FIXT.1.1")
        self.h.send(c50, order("T1", "2", "50", "99.50"))
        await wait_report(c50, is_er("T1", "F", "2"))
        partial = (await wait_report(c42, lambda m: m.get(11) == "R2" and m.get(150) == "1")).message
        self.assertEqual((partial.get(39), partial.get(14), partial.get(151)), ("1", "50", "150"))
        self.h.send(c42, FixMessage.new("H", (11, "R2"), (54, "1"), (55, "IBM")))
        status = (await wait_report(c42, lambda m: m.get(20) == "3")).message
        self.assertEqual((status.get(39), status.get(14), status.get(37)), ("1", "50", partial.get(37)))
        await self.h.gateway.writer.drain()
        self.assertEqual(self.h.gateway.registry.check(), [])

    async def test_restart_keeps_balances_working_orders_and_sequence_numbers(self) -> None:
        await self.h.start_gateway()
        c1 = await self.h.connect("CLIENT1")
        c2 = await self.h.connect("CLIENT2")
        self.h.send(c1, order("W1", "1", "100", "101.00"))
        first = (await wait_report(c1, is_er("W1", "0"))).message
        self.h.send(c2, order("W2", "2", "40", "101.00"))
        await wait_report(c1, is_er("W1", "F", "1"))
        gw = self.h.gateway
        await self.h.disconnect_all()
        await self.h.stop_gateway()
        seq_before = {h.session_id: h.session.store.next_sender_seq_num() for h in gw.sessions}
        self.assertTrue(any(seq > 2 for seq in seq_before.values()))
        before = balances(self.tmp / "fixgate.db", "DEMO1")

        await self.h.start_gateway()
        gw2 = self.h.gateway
        self.assertEqual(balances(self.tmp / "fixgate.db", "DEMO1"), before)
        for host in gw2.sessions:
            if host.session_id in seq_before:
                self.assertEqual(host.session.store.next_sender_seq_num(), seq_before[host.session_id])
        working = gw2.application.store.working()
        self.assertEqual([(g.order.cl_ord_id, g.order.cum_qty, g.order.leaves_qty) for g in working],
                         [("W1", Decimal(40), Decimal(60))])
        self.assertEqual(working[0].order_id, first.get(37))
        # the recovered order still rests on the venue: it trades, and can be cancelled by ClOrdID
        c1 = await self.h.connect("CLIENT1")
        c2 = await self.h.connect("CLIENT2")
        self.h.send(c2, order("W3", "2", "10", "101.00"))
        fill = (await wait_report(c1, lambda m: m.get(11) == "W1" and m.get(14) == "50")).message
        self.assertEqual((fill.get(37), fill.get(151)), (first.get(37), "50"))
        self.h.send(c1, FixMessage.new("F", (11, "W1-C"), (41, "W1"), (54, "1"), (55, "IBM"),
                                       (60, "20260101-10:00:00.000")))
        await wait_report(c1, is_er("W1-C", "4", "4"))
        await gw2.writer.drain()
        self.assertEqual(balances(self.tmp / "fixgate.db", "DEMO1")["IBM"], START_SHARES + 50)
        self.assertEqual(balances(self.tmp / "fixgate.db", "DEMO1")["USD"], START_CASH - 50 * Decimal("101.00"))
        self.assertEqual(gw2.registry.check(), [])
        self.assertEqual(len(reports(c1, "3")), 0)
