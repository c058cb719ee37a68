"""A gateway restart with an order working at an external exchange (a QuickFIX acceptor): the
order stays open (crash recovery does not mistake it for a dead internal-venue order), the fill
the exchange sends while the gateway is down is reported to the client and booked exactly once
after the restart, and the child-order journal lies beside the OrderJournal."""

from __future__ import annotations

import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from twisted.internet import defer
from twisted.trial import unittest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ext_support import (  # noqa: E402
    ExternalGatewayHarness,
    balances,
    held,
    is_er,
    order,
    reports,
    venue_block,
    wait_report,
)
from harness import free_port  # noqa: E402
from qf_exchange import SKIP_REASON, QfExchange, quickfix  # noqa: E402

pytestmark = pytest.mark.network

START_CASH = Decimal("100000000")


class ExternalOrderAcrossARestartTest(unittest.TestCase):
    timeout = 90
    skip = SKIP_REASON if quickfix is None else None

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="fixgate-gw-ext-restart-"))
        self.xport = free_port()
        self.exchange: QfExchange | None = None
        self.h = ExternalGatewayHarness(self.tmp, extra="Route.XYZ=XQFX\n", blocks=venue_block("XQFX", self.xport))

    async def _teardown(self) -> None:
        await self.h.disconnect_all()
        await self.h.stop_gateway()
        if self.exchange is not None:
            await self.exchange.stop()

    def tearDown(self) -> defer.Deferred:
        return defer.ensureDeferred(self._teardown())

    async def test_a_fill_sent_while_the_gateway_is_down_is_reported_and_booked_once(self) -> None:
        (self.tmp / "qf").mkdir()
        self.exchange = QfExchange(self.tmp / "qf", self.xport, fills={})  # XYZ rests at the exchange
        self.exchange.start()
        await self.h.start_gateway()
        await self.exchange.log.wait_for(lambda e: e.kind == "logon", timeout=15)
        c1 = await self.h.connect("CLIENT1")
        self.h.send(c1, order("R1", "1", "100", "11.00", symbol="XYZ"))
        await wait_report(c1, is_er("R1", "0", "0"))
        new = await self.exchange.log.wait_for(lambda e: e.kind == "app_in" and e.msg_type == "D")
        broker_cl_ord_id = new.fields[11]
        self.assertTrue((self.tmp / "fixgate-child-orders-XQFX.journal").exists())
        await self.h.gateway.writer.drain()
        await self.h.disconnect_all()
        await self.h.stop_gateway()

        # the exchange fills the order while the gateway is down (its store keeps the report)
        self.exchange.fill(broker_cl_ord_id, 100, "10.50")
        await self.h.start_gateway()
        gw = self.h.gateway
        self.assertFalse(any("R1" in line and "closed" in line for line in self.h.log))
        c1 = await self.h.connect("CLIENT1")
        fill = (await wait_report(c1, is_er("R1", "F", "2"), timeout=30)).message
        self.assertEqual((fill.get(32), fill.get(31), fill.get(14)), ("100", "10.5", "100"))
        await gw.writer.drain()
        db = self.tmp / "fixgate.db"
        self.assertEqual(balances(db, "DEMO1")["USD"], START_CASH - Decimal("1050.00"))
        self.assertEqual(balances(db, "DEMO1")["XYZ"], 100)
        self.assertEqual(held(db, "DEMO1")["USD"], 0)
        self.assertEqual(gw.registry.check(), [])
        self.assertEqual(sum(1 for m in reports(c1) if m.get(11) == "R1" and m.get(150) == "F"), 1)
