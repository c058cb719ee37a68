"""One contract suite for the ``Venue`` interface (DESIGN.md example 7), run against every venue.

* ``InternalVenue``: the matching venue, called directly (events are synchronous).
* ``FixVenue``: an external exchange reached over a FIX initiator session; here the exchange is
  fixgate's own venue front (``VenueFixService``) on 127.0.0.1, so the same rules hold end to end
  through FIX translation in both directions (events are asynchronous).

Every wait is a Deferred with a timeout; no sleeps.
"""

from __future__ import annotations

import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from twisted.internet import defer, reactor
from twisted.trial import unittest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared test helpers
import event_waits  # noqa: E402

from venues.base import (
    Accepted,
    Cancelled,
    CancelRejected,
    CancelRequest,
    Fill,
    OrderRequest,
    OrdType,
    Rejected,
    Replaced,
    ReplaceRequest,
    Side,
    Venue,
    VenueEvent,
)

REPO = Path(__file__).resolve().parents[2]


class EventLog:
    """Collects a venue's events; ``wait`` fires when a matching one has arrived (bounded)."""

    def __init__(self, venue: Venue) -> None:
        self.events: list[VenueEvent] = []
        self._waiters: list[tuple[object, defer.Deferred]] = []
        venue.subscribe(self._on_event)

    def _on_event(self, event: VenueEvent) -> None:
        event_waits.record(self.events, self._waiters, event, next_turn=True)

    def wait(self, predicate, timeout: float = 10.0) -> defer.Deferred:
        return event_waits.wait_for(self.events, self._waiters, predicate, timeout)


def is_(kind: type, cl_ord_id: str):
    return lambda e: isinstance(e, kind) and getattr(e, "cl_ord_id", None) == cl_ord_id


class VenueContract:
    """The rules every Venue keeps; subclasses provide ``make_venue``."""

    symbol = "IBM"

    async def make_venue(self) -> Venue:
        raise NotImplementedError

    def order(self, cl_ord_id: str, side: Side, qty: str, price: str, owner: str = "OWNER1", account: str = "A1") -> OrderRequest:
        return OrderRequest(self.symbol, owner, cl_ord_id, side, Decimal(qty), OrdType.LIMIT, Decimal(price), account=account)

    async def test_a_limit_order_is_accepted(self) -> None:
        venue = await self.make_venue()
        log = EventLog(venue)
        venue.submit(self.order("C1", Side.BUY, "100", "99.50"))
        event = await log.wait(is_(Accepted, "C1"))
        self.assertEqual(event.qty, Decimal("100"))
        self.assertEqual(event.price, Decimal("99.5"))
        self.assertEqual(event.side, Side.BUY)
        self.assertTrue(event.order_id)

    async def test_crossing_orders_fill_both_sides_at_the_resting_price(self) -> None:
        venue = await self.make_venue()
        log = EventLog(venue)
        venue.submit(self.order("R1", Side.SELL, "100", "100.10", owner="OWNER1", account="A1"))
        await log.wait(is_(Accepted, "R1"))
        venue.submit(self.order("T1", Side.BUY, "40", "100.50", owner="OWNER2", account="A2"))
        taker = await log.wait(is_(Fill, "T1"))
        maker = await log.wait(is_(Fill, "R1"))
        self.assertEqual((taker.last_qty, taker.last_px), (Decimal("40"), Decimal("100.1")))
        self.assertEqual((maker.last_qty, maker.last_px, maker.leaves_qty), (Decimal("40"), Decimal("100.1"), Decimal("60")))
        self.assertEqual(taker.leaves_qty, Decimal("0"))
        self.assertEqual(taker.avg_px, Decimal("100.1"))
        self.assertNotEqual(taker.exec_id, maker.exec_id)

    async def test_cancel_reports_the_cancelled_quantity(self) -> None:
        venue = await self.make_venue()
        log = EventLog(venue)
        venue.submit(self.order("C2", Side.BUY, "70", "99.00"))
        await log.wait(is_(Accepted, "C2"))
        venue.cancel(CancelRequest(self.symbol, "OWNER1", "X2", orig_cl_ord_id="C2"))
        event = await log.wait(lambda e: isinstance(e, Cancelled) and e.orig_cl_ord_id == "C2")
        self.assertEqual(event.cancelled_qty, Decimal("70"))
        self.assertEqual(event.cl_ord_id, "X2")

    async def test_replace_changes_quantity_and_price(self) -> None:
        venue = await self.make_venue()
        log = EventLog(venue)
        venue.submit(self.order("C3", Side.SELL, "50", "101.00"))
        await log.wait(is_(Accepted, "C3"))
        venue.replace(ReplaceRequest(self.symbol, "OWNER1", "C3b", Side.SELL, Decimal("30"), Decimal("101.50"), orig_cl_ord_id="C3"))
        event = await log.wait(is_(Replaced, "C3b"))
        self.assertEqual((event.qty, event.price, event.leaves_qty), (Decimal("30"), Decimal("101.5"), Decimal("30")))
        self.assertEqual(event.orig_cl_ord_id, "C3")

    async def test_cancel_of_an_unknown_order_is_rejected(self) -> None:
        venue = await self.make_venue()
        log = EventLog(venue)
        venue.cancel(CancelRequest(self.symbol, "OWNER1", "X9", orig_cl_ord_id="NEVER-SENT"))
        event = await log.wait(lambda e: isinstance(e, CancelRejected) and e.cl_ord_id == "X9")
        self.assertEqual(event.orig_cl_ord_id, "NEVER-SENT")

    async def test_unknown_symbol_is_rejected_with_reason(self) -> None:
        venue = await self.make_venue()
        log = EventLog(venue)
        venue.submit(OrderRequest("NOSUCH", "OWNER1", "C4", Side.BUY, Decimal("1"), OrdType.LIMIT, Decimal("1"), account="A1"))
        event = await log.wait(is_(Rejected, "C4"))
        self.assertEqual(event.reason.ord_rej_reason, 1)  # unknown symbol


class InternalVenueContractTests(VenueContract, unittest.TestCase):
    async def make_venue(self) -> Venue:
        from venues.internal.journal import MemoryJournal
        from venues.internal.reference_data import DEMO_INSTRUMENTS
        from venues.internal.venue import InternalVenue

        return InternalVenue("INTERNAL", DEMO_INSTRUMENTS, MemoryJournal(), time.time_ns)


class FixVenueContractTests(VenueContract, unittest.TestCase):
    """FixVenue over FIX.4.4 to fixgate's own venue front on 127.0.0.1."""

    timeout = 60

    async def make_venue(self) -> Venue:
        from fix_engine.config import parse_config
        from fix_engine.transport.host import SessionRegistry
        from venues.cli import VenueFixService, load_venue_config
        from venues.external.fix_venue import FixVenue
        from venues.external.service import external_initiator

        tmp = Path(tempfile.mkdtemp(prefix="fixgate-venue-contract-"))
        port = _free_port()
        text = (REPO / "session_configs" / "venue.cfg").read_text()
        text = text.replace("JournalURL=sqlite:///fixgate-venue.db", f"JournalFile={tmp / 'venue.journal'}")
        text = text.replace("AdminPort=9881", "AdminPort=0").replace("SocketAcceptPort=9880", f"SocketAcceptPort={port}")
        (tmp / "venue.cfg").write_text(text)
        exchange = VenueFixService(load_venue_config(tmp / "venue.cfg"), reactor)
        await exchange.start()
        self.addCleanup(lambda: defer.ensureDeferred(exchange.stop()))

        cfg = f"""[DEFAULT]
ConnectionType=initiator
NonStopSession=Y
HeartBtInt=30
ReconnectInterval=1
ResetOnLogon=Y
[SESSION]
BeginString=FIX.4.4
SenderCompID=BROKER
TargetCompID=FIXGATE
SocketConnectHost=127.0.0.1
SocketConnectPort={port}
VenueName=XFG
"""
        registry = SessionRegistry()
        venue = FixVenue(parse_config(cfg, "contract-initiator.cfg").sessions[0], registry, name="XFG")
        initiator = external_initiator([venue], reactor, registry)
        initiator.startService()
        self.addCleanup(initiator.stopService)
        deadline = reactor.seconds() + 15
        while not venue.connected:  # bounded: fails after 15 s
            if reactor.seconds() > deadline:
                raise AssertionError("FixVenue did not log on to the venue")
            await _tick()
        return venue


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tick() -> defer.Deferred:
    d: defer.Deferred = defer.Deferred()
    reactor.callLater(0.02, d.callback, None)
    return d
