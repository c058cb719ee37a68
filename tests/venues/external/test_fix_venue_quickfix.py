"""FixVenue's initiator against a real QuickFIX acceptor on 127.0.0.1 (see qf_exchange.py).

Runs on the real reactor inside twisted.trial TestCases; every wait is a Deferred with a
bounded timeout.  "Exactly once" is checked with a barrier: after the expected events, one more
order round-trips; the session delivers in sequence, so any duplicate would have come first.
"""

from __future__ import annotations

import socket
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from twisted.internet import defer, reactor
from twisted.trial import unittest

sys.path.insert(0, str(Path(__file__).parent))

from qf_exchange import SKIP_REASON, EventLog, QfExchange, quickfix  # noqa: E402

from fix_engine.config import parse_config  # noqa: E402
from fix_engine.transport.host import SessionRegistry  # noqa: E402
from venues.base import (  # noqa: E402
    Accepted,
    Cancelled,
    CancelReason,
    CancelRequest,
    Fill,
    OrderRequest,
    OrdType,
    Rejected,
    RejectReason,
    Replaced,
    ReplaceRequest,
    Side,
)
from venues.external.fix_venue import FixVenue  # noqa: E402
from venues.external.service import external_initiator  # noqa: E402

pytestmark = [pytest.mark.network]
interop = [pytest.mark.interop, pytest.mark.skipif(quickfix is None, reason=SKIP_REASON)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def venue_cfg(port: int, store: Path, begin_string: str, extra: str = "") -> str:
    if begin_string == "FIXT.1.1":
        dictionaries = "DefaultApplVerID=FIX.5.0SP2\nTransportDataDictionary=FIXT11.xml\nAppDataDictionary=FIX50SP2.xml\n"
    else:
        dictionaries = f"DataDictionary={begin_string.replace('.', '')}.xml\n"
    return f"""[DEFAULT]
ConnectionType=initiator
FileStorePath={store}
NonStopSession=Y
HeartBtInt=30
ReconnectInterval=1
[SESSION]
BeginString={begin_string}
SenderCompID=BROKER
TargetCompID=XCHG
SocketConnectHost=127.0.0.1
SocketConnectPort={port}
VenueName=XCHG
{dictionaries}{extra}
"""


def order(cl_ord_id: str, symbol: str, qty: str, px: str, side: Side = Side.BUY) -> OrderRequest:
    return OrderRequest(symbol, "CLIENT1", cl_ord_id, side, Decimal(qty), OrdType.LIMIT, Decimal(px))


class VenueTestBase(unittest.TestCase):
    timeout = 60
    begin_string = "FIX.4.4"

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="fixgate-external-"))
        self.port = free_port()
        self.exchange: QfExchange | None = None
        self.service = None

    async def _stop(self) -> None:
        if self.service is not None and self.service.running:
            await defer.maybeDeferred(self.service.stopService)
        if self.exchange is not None:
            await self.exchange.stop()

    def tearDown(self) -> defer.Deferred:
        return defer.ensureDeferred(self._stop())

    def start_exchange(self, fills: dict[str, list[tuple[int, str]]] | None = None) -> QfExchange:
        self.exchange = QfExchange(self.tmp, self.port, self.begin_string, fills=fills)
        self.exchange.start()
        return self.exchange

    def start_venue(self, extra: str = "") -> FixVenue:
        settings = parse_config(venue_cfg(self.port, self.tmp / "ours", self.begin_string, extra), "venue.cfg").sessions[0]
        self.registry = SessionRegistry()
        self.venue = FixVenue(settings, self.registry, cl_ord_id_prefix="T")
        self.events = EventLog()
        self.links = EventLog()
        self.venue.subscribe(self.events.record)
        self.venue.on_connection_change(self.links.record)
        self.service = external_initiator([self.venue], reactor, self.registry)
        self.service.startService()
        return self.venue

    def event(self, kind: type, cl_ord_id: str, timeout: float = 10.0) -> defer.Deferred:
        return self.events.wait_for(lambda e: type(e) is kind and e.cl_ord_id == cl_ord_id, timeout)

    def broker_id(self, client_cl_ord_id: str) -> str:
        child = self.venue.orders.by_client("CLIENT1", client_cl_ord_id)
        assert child is not None
        return child.cl_ord_id

    async def barrier(self, cl_ord_id: str) -> None:
        """One more order round trip: everything the exchange sent before has been processed."""
        self.venue.submit(order(cl_ord_id, "REST", "1", "1"))
        await self.event(Accepted, cl_ord_id)


class OrderFlowTests(VenueTestBase):
    """Accepted, three partial fills with exact cum/avg, Cancelled, Replaced, Rejected, in order."""

    async def test_order_flow(self) -> None:
        self.start_exchange(fills={"IBM": [(30, "10.5"), (30, "10.4"), (40, "10.4")]})
        venue = self.start_venue()
        await self.links.wait_for(lambda up: up is True)
        self.assertTrue(venue.connected)

        venue.submit(order("C-1", "IBM", "100", "10.5"))
        fills = await self.events.wait_count(lambda e: type(e) is Fill, 3)
        self.assertEqual(
            [(f.last_qty, f.last_px, f.cum_qty, f.leaves_qty, f.avg_px) for f in fills],
            [
                (Decimal(30), Decimal("10.5"), Decimal(30), Decimal(70), Decimal("10.5")),
                (Decimal(30), Decimal("10.4"), Decimal(60), Decimal(40), Decimal("10.45")),
                (Decimal(40), Decimal("10.4"), Decimal(100), Decimal(0), Decimal("10.43")),
            ],
        )
        self.assertEqual({(f.owner, f.cl_ord_id, f.order_id) for f in fills}, {("CLIENT1", "C-1", "X1")})
        self.assertEqual(len({f.exec_id for f in fills}), 3)

        venue.submit(order("C-2", "REST", "50", "20"))
        await self.event(Accepted, "C-2")
        venue.cancel(CancelRequest("REST", "CLIENT1", "C-2X", orig_cl_ord_id="C-2"))
        cancelled = await self.event(Cancelled, "C-2X")
        self.assertEqual(
            (cancelled.orig_cl_ord_id, cancelled.cum_qty, cancelled.cancelled_qty, cancelled.reason),
            ("C-2", Decimal(0), Decimal(50), CancelReason.CLIENT_REQUEST),
        )

        venue.submit(order("C-3", "REST", "10", "5"))
        await self.event(Accepted, "C-3")
        venue.replace(ReplaceRequest("REST", "CLIENT1", "C-3R", Side.BUY, Decimal(20), Decimal("5.5"), orig_cl_ord_id="C-3"))
        replaced = await self.event(Replaced, "C-3R")
        self.assertEqual(
            (replaced.orig_cl_ord_id, replaced.qty, replaced.price, replaced.leaves_qty, replaced.priority_kept),
            ("C-3", Decimal(20), Decimal("5.5"), Decimal(20), False),
        )

        venue.submit(order("C-4", "BAD", "1", "1", Side.SELL))
        rejected = await self.event(Rejected, "C-4")
        self.assertEqual((rejected.reason, rejected.text, rejected.side), (RejectReason.UNKNOWN_SYMBOL, "Unknown symbol", Side.SELL))

        self.assertEqual(
            [(type(e).__name__, e.cl_ord_id) for e in self.events.events],
            [("Accepted", "C-1"), ("Fill", "C-1"), ("Fill", "C-1"), ("Fill", "C-1"), ("Accepted", "C-2"),
             ("Cancelled", "C-2X"), ("Accepted", "C-3"), ("Replaced", "C-3R"), ("Rejected", "C-4")],
        )
        sent = [e for e in self.exchange.log.events if e.kind == "app_in"]
        self.assertTrue(all(e.fields[11].startswith("T-") for e in sent))  # the broker's ClOrdIDs

    test_order_flow = pytest.mark.interop(test_order_flow)  # type: ignore[assignment]


class OrderFlowFix42Tests(OrderFlowTests):
    begin_string = "FIX.4.2"


class OrderFlowFix50Sp2Tests(OrderFlowTests):
    begin_string = "FIXT.1.1"


class DisconnectedVenueTests(VenueTestBase):
    async def test_submit_while_down_is_rejected_at_once(self) -> None:
        venue = self.start_venue()  # nothing listens on the port
        self.assertFalse(venue.connected)
        venue.submit(order("C-1", "IBM", "100", "10"))
        [rejected] = self.events.events
        self.assertEqual(
            (type(rejected), rejected.cl_ord_id, rejected.reason, rejected.text),
            (Rejected, "C-1", RejectReason.EXCHANGE_CLOSED, "venue XCHG is not connected"),
        )


class ReconnectTests(VenueTestBase):
    """Orders work, the link drops, the exchange acts while we are away, the link comes back."""

    async def drop_link(self) -> None:
        assert self.exchange is not None
        self.exchange.refuse_logons = True  # the venue may only come back when the test says so
        host = self.registry.get(self.venue.session_id)
        host.protocol.transport.abortConnection()
        await self.links.wait_for(lambda up: up is False)
        await self.exchange.log.wait_for(lambda e: e.kind == "logout")
        self.assertFalse(self.venue.connected)

    async def reopen(self) -> None:
        ups = sum(1 for up in self.links.events if up)
        self.exchange.refuse_logons = False
        await self.links.wait_count(lambda up: up is True, ups + 1, timeout=15)

    async def two_working_orders(self) -> None:
        await self.links.wait_for(lambda up: up is True)
        self.venue.submit(order("C-1", "REST", "100", "10"))
        self.venue.submit(order("C-2", "REST", "50", "11"))
        await self.event(Accepted, "C-1")
        await self.event(Accepted, "C-2")

    async def test_fill_sent_while_down_arrives_once_by_resend(self) -> None:
        self.start_exchange()
        self.start_venue()
        await self.two_working_orders()
        await self.drop_link()
        self.exchange.fill(self.broker_id("C-1"), 40, "10.2")  # stored by quickfix, resent later
        await self.reopen()
        fill = await self.event(Fill, "C-1", timeout=15)
        await self.barrier("C-9")
        fills = [e for e in self.events.events if type(e) is Fill]
        self.assertEqual(fills, [fill])
        self.assertEqual(
            (fill.last_qty, fill.last_px, fill.cum_qty, fill.leaves_qty, fill.avg_px),
            (Decimal(40), Decimal("10.2"), Decimal(40), Decimal(60), Decimal("10.2")),
        )
        self.assertEqual(self.venue.mass_status_requests, [])
        # it came back by resend: the venue's session asked for it
        self.assertTrue(any(e.kind == "admin_in" and e.msg_type == "2" for e in self.exchange.log.events))

    async def test_mass_status_and_resend_together_bring_the_view_up_to_date_once(self) -> None:
        self.start_exchange()
        self.start_venue("DialectOrderMassStatus=Y")
        await self.two_working_orders()
        status_requests = len(self.venue.mass_status_requests)
        await self.drop_link()
        self.exchange.fill(self.broker_id("C-1"), 40, "10.2")  # resent and reported by AF
        self.exchange.fill(self.broker_id("C-2"), 10, "11", silent=True)  # only AF tells
        self.exchange.cancel(self.broker_id("C-2"), silent=True)
        await self.reopen()
        await self.exchange.log.wait_for(lambda e: e.kind == "app_in" and e.msg_type == "AF")
        cancelled = await self.event(Cancelled, "C-2", timeout=15)
        await self.barrier("C-9")
        after_drop = [e for e in self.events.events if type(e) in (Fill, Cancelled)]
        self.assertEqual([(type(e).__name__, e.cl_ord_id) for e in after_drop],
                         [("Fill", "C-1"), ("Fill", "C-2"), ("Cancelled", "C-2")])
        fill1, fill2, _ = after_drop
        self.assertEqual((fill1.last_qty, fill1.last_px, fill1.cum_qty), (Decimal(40), Decimal("10.2"), Decimal(40)))
        self.assertEqual((fill2.last_qty, fill2.last_px, fill2.cum_qty, fill2.leaves_qty, fill2.exec_id),
                         (Decimal(10), Decimal(11), Decimal(10), Decimal(40), f"{fill2.order_id}:10"))
        self.assertEqual((cancelled.cum_qty, cancelled.cancelled_qty, cancelled.reason),
                         (Decimal(10), Decimal(40), CancelReason.CANCEL_ON_DISCONNECT))
        self.assertEqual(len(self.venue.mass_status_requests), status_requests + 1)

    test_fill_sent_while_down_arrives_once_by_resend = pytest.mark.interop(test_fill_sent_while_down_arrives_once_by_resend)  # type: ignore[assignment]
    test_mass_status_and_resend_together_bring_the_view_up_to_date_once = pytest.mark.interop(  # type: ignore[assignment]
        test_mass_status_and_resend_together_bring_the_view_up_to_date_once
    )


if quickfix is None:  # skip the quickfix classes cleanly, keep the disconnected test
    for _cls in (OrderFlowTests, OrderFlowFix42Tests, OrderFlowFix50Sp2Tests, ReconnectTests):
        _cls.skip = SKIP_REASON  # type: ignore[attr-defined]
