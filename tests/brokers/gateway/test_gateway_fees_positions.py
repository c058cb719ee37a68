"""The gateway config's fee schedule and position limits, end to end on 127.0.0.1 (real venue, SQLite)."""

from __future__ import annotations

import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from twisted.internet import defer
from twisted.trial import unittest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import GatewayHarness, is_er, order, wait_report  # noqa: E402

from brokers.domain.accounts import FEES_ACCOUNT  # noqa: E402

pytestmark = pytest.mark.network

D = Decimal


class GatewayFeesAndPositionsTest(unittest.TestCase):
    timeout = 60

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="fixgate-gw-fees-"))
        # DEMO1/DEMO2 hold 1,000,000 IBM: a long limit of 1,000,150 leaves room for 150 more
        self.h = GatewayHarness(self.tmp, extra="FeeFixed=1.50\nFees.DEMO2=bps:10\nMaxLongPosition=1000150\n")

    def tearDown(self):  # type: ignore[no-untyped-def]
        async def down() -> None:
            await self.h.disconnect_all()
            await self.h.stop_gateway()
        return defer.ensureDeferred(down())

    async def test_fees_booked_and_reported_and_open_buys_limit_the_position(self) -> None:
        await self.h.start_gateway()
        c1 = await self.h.connect("CLIENT1")
        c2 = await self.h.connect("CLIENT2")
        self.h.send(c1, order("B1", "1", "100", "100.00"))
        await wait_report(c1, is_er("B1", "0", "0"))
        self.h.send(c1, order("B2", "1", "51", "100.00"))
        rejected = (await wait_report(c1, is_er("B2", "8", "8"))).message
        self.assertEqual((rejected.get(103), rejected.get(58)), ("3", "position limit: resulting long 1000151 > "
                         "limit 1000150 (held 1000000, open buys 100, order 51)"))
        self.h.send(c2, order("S1", "2", "100", "100.00"))
        sell_fill = (await wait_report(c2, is_er("S1", "F", "2"))).message
        buy_fill = (await wait_report(c1, is_er("B1", "F", "2"))).message
        self.assertEqual((buy_fill.get(12), buy_fill.get(13)), ("1.5", "3"))  # firm: 1.50 per fill
        self.assertEqual((sell_fill.get(12), sell_fill.get(13)), ("10", "3"))  # DEMO2: 10 bps of 10,000
        await self.h.gateway.writer.drain()
        registry = self.h.gateway.registry
        self.assertEqual(registry.balance(FEES_ACCOUNT, "USD").amount, D("11.50"))
        self.assertEqual(registry.balance("DEMO1", "USD").amount, D("100000000") - D("10000") - D("1.50"))
        self.assertEqual(registry.balance("DEMO2", "USD").amount, D("100000000") + D("10000") - D("10"))
        self.assertEqual(registry.check(), [])
        # the 100 bought are held now, not open: still no room for 51 more
        self.h.send(c1, order("B3", "1", "51", "100.00"))
        again = (await wait_report(c1, is_er("B3", "8", "8"))).message
        self.assertEqual(again.get(58), "position limit: resulting long 1000151 > limit 1000150 "
                                        "(held 1000100, open buys 0, order 51)")
        self.h.send(c1, order("B4", "1", "50", "100.00"))
        await wait_report(c1, is_er("B4", "0", "0"))
