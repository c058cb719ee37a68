"""A gateway crash with a child order working at a real QuickFIX exchange (see qf_exchange.py).

Each test: a FixVenue on a file child-order journal and a FIX file store sends an order; the
gateway "crashes" (the link is cut without a Logout, the objects are dropped, the files stay);
the exchange acts while nobody listens; a new FixVenue on the same journal and store files logs
on again.  The exchange's reports must reach the new venue's listeners exactly once: by resend
(the store kept the sequence numbers), by OrderMassStatusRequest, or both -- and a report the
first run already delivered must not be delivered again when the exchange resends it.

Runs on the real reactor inside twisted.trial TestCases; every wait is a Deferred with a bounded
timeout.  "Exactly once" is checked with a barrier: after the expected events one more order
round-trips; the session delivers in sequence, so a duplicate would have come before it.
"""

from __future__ import annotations

import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import pytest
from twisted.internet import defer, reactor
from twisted.trial import unittest

sys.path.insert(0, str(Path(__file__).parent))

from qf_exchange import SKIP_REASON, EventLog, QfExchange, quickfix  # noqa: E402
from test_fix_venue_quickfix import free_port, order, venue_cfg  # noqa: E402

from fix_engine.codec.message import FixMessage  # noqa: E402
from fix_engine.config import parse_config  # noqa: E402
from fix_engine.session.session_id import SessionID  # noqa: E402
from fix_engine.store.file import FileStore  # noqa: E402
from fix_engine.transport.host import SessionRegistry  # noqa: E402
from venues.base import Accepted, Cancelled, CancelReason, CancelRequest, Fill  # noqa: E402
from venues.external.fix_venue import FixVenue  # noqa: E402
from venues.external.journal import FileChildOrderJournal  # noqa: E402
from venues.external.service import external_initiator  # noqa: E402

pytestmark = [pytest.mark.network, pytest.mark.interop]


class GatewayRun:
    """One gateway process: a FixVenue on the journal and store files, its events and app messages."""

    def __init__(self, tmp: Path, port: int, extra: str) -> None:
        settings = parse_config(venue_cfg(port, tmp / "ours", "FIX.4.4", extra), "venue.cfg").sessions[0]
        self.registry = SessionRegistry()
        self.journal = FileChildOrderJournal(tmp / "children.journal", sync=True)
        self.venue = FixVenue(settings, self.registry, cl_ord_id_prefix="T", journal=self.journal)
        self.events = EventLog()
        self.links = EventLog()
        self.received = EventLog()  #: every application message the venue's session delivered
        self.venue.subscribe(self.events.record)
        self.venue.on_connection_change(self.links.record)
        app = self.venue.application
        from_app = app.from_app

        def recording(message: FixMessage, session_id: SessionID) -> None:
            self.received.record(message)
            from_app(message, session_id)

        app.from_app = recording  # type: ignore[method-assign]
        self.service = external_initiator([self.venue], reactor, self.registry)
        self.service.startService()

    def fills(self) -> list[Fill]:
        return [e for e in self.events.events if type(e) is Fill]


class CrashRestartTests(unittest.TestCase):
    timeout = 60

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="fixgate-external-restart-"))
        self.port = free_port()
        self.exchange = QfExchange(self.tmp, self.port, "FIX.4.4")
        self.exchange.start()
        self.runs: list[GatewayRun] = []

    async def _stop(self) -> None:
        for run in self.runs:
            if run.service.running:
                await defer.maybeDeferred(run.service.stopService)
        await self.exchange.stop()
        for run in self.runs:
            run.journal.close()

    def tearDown(self) -> defer.Deferred:
        return defer.ensureDeferred(self._stop())

    # ----- the gateway's life
    async def start_gateway(self, extra: str = "") -> GatewayRun:
        run = GatewayRun(self.tmp, self.port, extra)
        self.runs.append(run)
        self.exchange.refuse_logons = False
        await run.links.wait_for(lambda up: up is True, timeout=15)
        return run

    async def crash(self, run: GatewayRun) -> None:
        """Cut the link without a Logout and stop the objects; no file is closed or cleaned."""
        self.exchange.refuse_logons = True  # the gateway comes back when the test says so
        logouts = sum(1 for e in self.exchange.log.events if e.kind == "logout")
        run.registry.get(run.venue.session_id).protocol.transport.abortConnection()
        await run.links.wait_for(lambda up: up is False)
        await self.exchange.log.wait_count(lambda e: e.kind == "logout", logouts + 1)
        await defer.maybeDeferred(run.service.stopService)

    @staticmethod
    async def working(run: GatewayRun, *cl_ord_ids: str) -> None:
        for n, cl in enumerate(cl_ord_ids):
            run.venue.submit(order(cl, "REST", "100", str(10 + n)))
        for cl in cl_ord_ids:
            await run.events.wait_for(lambda e, cl=cl: type(e) is Accepted and e.cl_ord_id == cl)

    def broker_id(self, run: GatewayRun, client_cl_ord_id: str) -> str:
        child = run.venue.orders.by_client("CLIENT1", client_cl_ord_id)
        assert child is not None
        return child.cl_ord_id

    @staticmethod
    async def barrier(run: GatewayRun, cl_ord_id: str) -> None:
        """One more order round trip: everything the exchange sent before has been processed."""
        run.venue.submit(order(cl_ord_id, "REST", "1", "1"))
        await run.events.wait_for(lambda e: type(e) is Accepted and e.cl_ord_id == cl_ord_id)

    # ----- tests
    async def test_fill_while_down_is_delivered_once_by_resend_after_restart(self) -> None:
        first = await self.start_gateway()
        await self.working(first, "C-1")
        child = self.broker_id(first, "C-1")
        await self.crash(first)
        del first  # the crashed gateway's objects are gone; its files stay

        self.exchange.fill(child, 40, "10.2")  # quickfix stores it; the session will resend it
        second = await self.start_gateway()
        fill = await second.events.wait_for(lambda e: type(e) is Fill and e.cl_ord_id == "C-1", timeout=15)
        await self.barrier(second, "C-9")
        self.assertEqual(second.fills(), [fill])
        self.assertEqual(
            (fill.owner, fill.order_id, fill.last_qty, fill.last_px, fill.cum_qty, fill.leaves_qty, fill.avg_px),
            ("CLIENT1", "X1", Decimal(40), Decimal("10.2"), Decimal(40), Decimal(60), Decimal("10.2")),
        )
        # nothing of the first run was told again, and the exchange resent the fill on request
        self.assertEqual([(type(e).__name__, e.cl_ord_id) for e in second.events.events],
                         [("Fill", "C-1"), ("Accepted", "C-9")])
        self.assertTrue(any(e.kind == "admin_in" and e.msg_type == "2" for e in self.exchange.log.events))
        resent = [m for m in second.received.events if m.get(11) == child and m.get(150) == "F"]
        self.assertEqual([m.get(43) for m in resent], ["Y"])
        # the ClOrdID counter went on past the journaled T-1 (no reuse at the exchange)
        self.assertEqual(second.venue.orders.by_client("CLIENT1", "C-9").cl_ord_id, "T-2")
        # the restarted venue still works the order in the client's terms
        second.venue.cancel(CancelRequest("REST", "CLIENT1", "C-1X", orig_cl_ord_id="C-1"))
        cancelled = await second.events.wait_for(lambda e: type(e) is Cancelled and e.cl_ord_id == "C-1X")
        self.assertEqual((cancelled.orig_cl_ord_id, cancelled.cum_qty, cancelled.cancelled_qty, cancelled.reason),
                         ("C-1", Decimal(40), Decimal(60), CancelReason.CLIENT_REQUEST))

    async def test_resend_and_mass_status_after_restart_deliver_each_execution_once(self) -> None:
        first = await self.start_gateway("DialectOrderMassStatus=Y")
        await self.working(first, "C-1", "C-2")
        c1, c2 = self.broker_id(first, "C-1"), self.broker_id(first, "C-2")
        await self.crash(first)
        del first

        self.exchange.fill(c1, 40, "10.2")  # resent, and reported again by the AF answer
        self.exchange.fill(c2, 10, "11", silent=True)  # only the AF answer tells
        self.exchange.cancel(c2, silent=True)
        second = await self.start_gateway("DialectOrderMassStatus=Y")
        await self.exchange.log.wait_for(lambda e: e.kind == "app_in" and e.msg_type == "AF")
        await second.events.wait_for(lambda e: type(e) is Cancelled and e.cl_ord_id == "C-2", timeout=15)
        await second.received.wait_for(lambda m: m.get(584) is not None and m.get(912) == "Y", timeout=15)
        await self.barrier(second, "C-9")
        self.assertEqual([(type(e).__name__, e.cl_ord_id) for e in second.events.events],
                         [("Fill", "C-1"), ("Fill", "C-2"), ("Cancelled", "C-2"), ("Accepted", "C-9")])
        fill1, fill2 = second.fills()
        self.assertEqual((fill1.last_qty, fill1.last_px, fill1.cum_qty), (Decimal(40), Decimal("10.2"), Decimal(40)))
        self.assertEqual((fill2.last_qty, fill2.last_px, fill2.cum_qty, fill2.exec_id),
                         (Decimal(10), Decimal(11), Decimal(10), f"{fill2.order_id}:10"))
        # one AF from the new run, under an id no earlier request used (the first run may have sent one)
        self.assertEqual(len(second.venue.mass_status_requests), 1)
        requests = [e.fields[584] for e in self.exchange.log.events if e.kind == "app_in" and e.msg_type == "AF"]
        self.assertEqual(requests[-1], second.venue.mass_status_requests[0])
        sent_ids = [e.fields[11] for e in self.exchange.log.events if e.kind == "app_in" and 11 in e.fields]
        self.assertEqual(len(set(requests + sent_ids)), len(requests + sent_ids))

    async def test_fill_delivered_before_the_crash_and_resent_after_it_is_not_delivered_again(self) -> None:
        first = await self.start_gateway()
        await self.working(first, "C-1")
        child = self.broker_id(first, "C-1")
        self.exchange.fill(child, 40, "10.2")
        fill = await first.events.wait_for(lambda e: type(e) is Fill and e.cl_ord_id == "C-1")
        await self.crash(first)
        del first
        # killed after the venue journaled the reports but before the FIX store recorded their
        # sequence numbers: the store says the New and the fill were never received
        self.rewind_incoming(2)

        second = await self.start_gateway()
        self.assertEqual(second.venue.journaled_fills, [fill])  # for the gateway's booking recovery
        resent = await second.received.wait_for(
            lambda m: m.get(11) == child and m.get(150) == "F" and m.get(43) == "Y", timeout=15)
        self.assertEqual(resent.get(17), fill.exec_id)
        await self.barrier(second, "C-9")
        self.assertEqual([(type(e).__name__, e.cl_ord_id) for e in second.events.events], [("Accepted", "C-9")])
        # and what happens next still counts from the journaled state
        self.exchange.fill(child, 60, "10.0")
        last = await second.events.wait_for(lambda e: type(e) is Fill and e.cl_ord_id == "C-1")
        self.assertEqual((last.last_qty, last.cum_qty, last.leaves_qty, last.avg_px),
                         (Decimal(60), Decimal(100), Decimal(0), Decimal("10.08")))

    def rewind_incoming(self, messages: int) -> None:
        session_id = SessionID("FIX.4.4", "BROKER", "XCHG")
        store = FileStore(str(self.tmp / "ours"), session_id, time.time())
        store.set_next_target_seq_num(store.next_target_seq_num() - messages)
        store.close()


if quickfix is None:  # pragma: no cover
    CrashRestartTests.skip = SKIP_REASON  # type: ignore[attr-defined]

