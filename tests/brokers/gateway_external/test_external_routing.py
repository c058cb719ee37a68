"""External routing end to end: the gateway routes to a QuickFIX exchange (in-process acceptor)
and to a second fixgate process running ``fixgate venue``; bounded, event-driven waits only.
"""

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
from interop_support import ChildProcess  # noqa: E402
from qf_exchange import SKIP_REASON, QfExchange, quickfix  # noqa: E402

pytestmark = pytest.mark.network

START_CASH = Decimal("100000000")
START_SHARES = Decimal("1000000")
FILLS = [(30, "10.5"), (50, "10.25"), (20, "10.75")]
#: (limit, expected LastPx/CumQty/LeavesQty per fill, AvgPx after each fill, cost) for FILLS
EXPECT = ("11.00", [("30", "10.5", "30", "70"), ("50", "10.25", "80", "20"), ("20", "10.75", "100", "0")],
          ["10.5", "10.34375", "10.425"], "1042.50")
FILLS_100 = [(30, "100.5"), (50, "100.25"), (20, "100.75")]
EXPECT_100 = ("101.00", [("30", "100.5", "30", "70"), ("50", "100.25", "80", "20"), ("20", "100.75", "100", "0")],
              ["100.5", "100.34375", "100.425"], "10042.50")


class QuickFixExchangeRoutingTest(unittest.TestCase):
    """Gateway -> external venue XQFX (a quickfix acceptor that fills in three parts)."""

    timeout = 60
    skip = SKIP_REASON if quickfix is None else None

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="fixgate-gw-ext-"))
        self.xport = free_port()
        self.exchange: QfExchange | None = None
        self.h = ExternalGatewayHarness(self.tmp, extra="Route.XYZ=XQFX\n",
                                        blocks=venue_block("XQFX", self.xport))

    async def _teardown(self) -> None:
        await self.h.disconnect_all()
        await self.h.stop_gateway()
        if self.exchange is not None:
            await self.exchange.stop()

    def tearDown(self) -> defer.Deferred:
        return defer.ensureDeferred(self._teardown())

    async def start(self, fills: dict[str, list[tuple[int, str]]]) -> None:
        (self.tmp / "qf").mkdir()
        self.exchange = QfExchange(self.tmp / "qf", self.xport, fills=fills)
        self.exchange.start()
        await self.h.start_gateway()
        await self.exchange.log.wait_for(lambda e: e.kind == "logon", timeout=15)

    async def _three_fills(self, cl_ord_id: str, symbol: str, expect: tuple, **extra: str) -> None:  # type: ignore[type-arg]
        limit, per_fill, avgs, total = expect
        c1 = await self.h.connect("CLIENT1")
        self.h.send(c1, order(cl_ord_id, "1", "100", limit, symbol=symbol, **extra))
        last = (await wait_report(c1, is_er(cl_ord_id, "F", "2"))).message
        ers = [m for m in reports(c1) if m.get(11) == cl_ord_id]
        self.assertEqual([(m.get(150), m.get(39)) for m in ers],
                         [("A", "A"), ("0", "0"), ("F", "1"), ("F", "1"), ("F", "2")])
        order_id = ers[0].get(37)
        self.assertEqual(order_id.split("-")[0], self.h.gateway.ids.prefix)  # the broker's OrderID, not X1
        self.assertEqual({m.get(37) for m in ers}, {order_id})
        self.assertEqual([(m.get(32), m.get(31), m.get(14), m.get(151)) for m in ers[2:]], per_fill)
        self.assertEqual([Decimal(m.get(6)) for m in ers[2:]], [Decimal(a) for a in avgs])
        self.assertEqual(last.get(6), avgs[-1])
        # what the exchange saw: our broker ClOrdID, not the client's
        new = await self.exchange.log.wait_for(lambda e: e.kind == "app_in" and e.msg_type == "D")
        self.assertNotEqual(new.fields[11], cl_ord_id)
        self.assertEqual((new.fields[55], new.fields[38], Decimal(new.fields[44])), (symbol, "100", Decimal(limit)))
        await self.h.gateway.writer.drain()
        db = self.tmp / "fixgate.db"
        cost = sum(Decimal(q) * Decimal(px) for q, px, _, _ in per_fill)
        self.assertEqual(cost, Decimal(total))
        b = balances(db, "DEMO1")
        self.assertEqual(b["USD"], START_CASH - cost)
        self.assertEqual(b[symbol], (START_SHARES if symbol == "IBM" else 0) + 100)
        self.assertEqual(held(db, "DEMO1")["USD"], 0)  # the reservation at 11.00 is fully released
        self.assertEqual(self.h.gateway.registry.check(), [])

    async def test_route_by_symbol_fills_in_three_parts_and_books_to_the_cent(self) -> None:
        await self.start({"XYZ": FILLS})
        await self._three_fills("E1", "XYZ", EXPECT)

    async def test_route_by_ex_destination(self) -> None:
        await self.start({"IBM": FILLS_100})
        await self._three_fills("E2", "IBM", EXPECT_100, t100="XQFX")
        # without ExDestination IBM stays on the internal venue: the exchange sees nothing more
        c1 = self.h.clients["CLIENT1/FIX.4.4"][0]
        self.h.send(c1, order("E3", "1", "10", "99.00"))
        await wait_report(c1, is_er("E3", "0", "0"))
        self.assertEqual(sum(1 for e in self.exchange.log.events if e.kind == "app_in" and e.msg_type == "D"), 1)

    async def test_exchange_down_rejects_with_a_clear_text(self) -> None:
        # no exchange listening: the initiator keeps retrying, the order is refused at once
        await self.h.start_gateway()
        c1 = await self.h.connect("CLIENT1")
        self.h.send(c1, order("D1", "1", "100", "11.00", symbol="XYZ"))
        rej = (await wait_report(c1, is_er("D1", "8", "8"))).message
        self.assertEqual(rej.get(58), "XQFX: venue XQFX is not connected")
        self.assertEqual([m.get(150) for m in reports(c1) if m.get(11) == "D1"], ["A", "8"])
        await self.h.gateway.writer.drain()
        self.assertEqual(held(self.tmp / "fixgate.db", "DEMO1")["USD"], 0)
        self.assertEqual(self.h.gateway.registry.check(), [])


class FixgateVenueSubprocessTest(unittest.TestCase):
    """A second fixgate process (``fixgate venue``) as external venue XFG."""

    timeout = 90

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="fixgate-gw-xfg-"))
        self.vport = free_port()
        self.child: ChildProcess | None = None
        block = venue_block("XFG", self.vport, sender="BROKER", target="FIXGATE", extra="ResetOnLogon=Y\n")
        self.h = ExternalGatewayHarness(self.tmp, extra="Route.AAPL=XFG\n", blocks=block)

    async def _teardown(self) -> None:
        await self.h.disconnect_all()
        await self.h.stop_gateway()
        if self.child is not None:
            await self.child.stop()

    def tearDown(self) -> defer.Deferred:
        return defer.ensureDeferred(self._teardown())

    async def test_order_is_acked_and_fills_when_a_second_client_crosses_it(self) -> None:
        (self.tmp / "venue").mkdir()
        self.child = ChildProcess.spawn(
            [sys.executable, "-m", "brokers.cli", "venue", "--port", str(self.vport), "--admin-port", "0"],
            cwd=self.tmp / "venue")
        await self.child.wait_output(b"listening on port(s)", timeout=30)
        gw = await self.h.start_gateway()
        venue = gw.dispatcher.entry("XFG").venue
        up: defer.Deferred = defer.Deferred()
        if venue.connected:
            up.callback(True)
        else:
            venue.on_connection_change(lambda ok: ok and not up.called and up.callback(True))
        await up.addTimeout(20, __import__("twisted.internet.reactor", fromlist=["reactor"]))
        c1 = await self.h.connect("CLIENT1")
        c2 = await self.h.connect("CLIENT2")
        self.h.send(c1, order("B1", "1", "100", "100.05", symbol="AAPL"))
        ack = (await wait_report(c1, is_er("B1", "0", "0"))).message
        self.assertEqual([m.get(150) for m in reports(c1) if m.get(11) == "B1"], ["A", "0"])
        self.h.send(c2, order("S1", "2", "60", "100.00", symbol="AAPL"))
        sold = (await wait_report(c2, is_er("S1", "F", "2"))).message
        self.assertEqual((sold.get(32), sold.get(31), sold.get(14)), ("60", "100.05", "60"))
        fill = (await wait_report(c1, is_er("B1", "F", "1"))).message
        self.assertEqual((fill.get(37), fill.get(32), fill.get(31), fill.get(14), fill.get(151)),
                         (ack.get(37), "60", "100.05", "60", "40"))
        await gw.writer.drain()
        db = self.tmp / "fixgate.db"
        cost = Decimal(60) * Decimal("100.05")
        self.assertEqual(balances(db, "DEMO1")["USD"], START_CASH - cost)
        self.assertEqual(balances(db, "DEMO1")["AAPL"], START_SHARES + 60)
        self.assertEqual(balances(db, "DEMO2")["USD"], START_CASH + cost)
        self.assertEqual(balances(db, "DEMO2")["AAPL"], START_SHARES - 60)
        self.assertEqual(held(db, "DEMO1")["USD"], Decimal(40) * Decimal("100.05"))
        self.assertEqual(gw.registry.check(), [])
