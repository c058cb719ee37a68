"""ClientApplication against a fake asynchronous venue: exact ExecutionReport fields per step."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

from twisted.internet import reactor
from twisted.trial import unittest

from brokers.client.accounts import AccountCache
from brokers.client.orders import BrokerIds
from brokers.client.writer import RegistryWriter
from brokers.client_fix import ClientApplication, Entitlement
from brokers.domain.accounts import Account, Asset
from brokers.domain.limits import Limits, LimitsBook
from brokers.oms.context import InstrumentInfo
from brokers.oms.vetting import Vetter
from brokers.registry import Registry
from brokers.routing.dispatcher import Dispatcher, VenueEntry
from brokers.routing.router import RoutingPolicy
from fix_engine.codec.message import FixMessage
from fix_engine.session.session_id import SessionID
from venues import base as v

SESSION = SessionID("FIX.4.4", "FIXGATE", "CLIENT1")
D = Decimal


class FakeVenue(v.Venue):
    """Records requests; the test plays the venue's answers."""

    def __init__(self, name: str = "XEXT") -> None:
        self._name = name
        self.listeners: list[v.VenueListener] = []
        self.requests: list[object] = []

    @property
    def name(self) -> str:
        return self._name

    def subscribe(self, listener: v.VenueListener) -> None:
        self.listeners.append(listener)

    def emit(self, event: v.VenueEvent) -> None:
        for listener in self.listeners:
            listener(event)

    def submit(self, request: v.OrderRequest) -> None:
        self.requests.append(request)

    def cancel(self, request: v.CancelRequest) -> None:
        self.requests.append(request)

    def replace(self, request: v.ReplaceRequest) -> None:
        self.requests.append(request)

    def mass_cancel(self, request: v.MassCancelRequest) -> None:
        self.requests.append(request)


class FakeSessions:
    def __init__(self) -> None:
        self.sent: list[FixMessage] = []

    def send_to_target(self, message: FixMessage, session_id: SessionID) -> bool:
        self.sent.append(message)
        return True

    def get(self, session_id: SessionID) -> None:
        return None


class LifecycleTest(unittest.TestCase):
    timeout = 30

    def setUp(self) -> None:
        tmp = Path(tempfile.mkdtemp(prefix="fixgate-client-"))
        self.registry = Registry(f"sqlite:///{tmp / 'r.db'}")
        self.registry.upgrade()
        self.registry.open_account(Account("ACC"))
        self.registry.deposit("ACC", "100000", "USD")
        self.registry.deposit_holding("ACC", "IBM", "1000")
        self.accounts = AccountCache()
        self.accounts.load(self.registry.account("ACC"), self.registry.balances("ACC"))
        self.venue = FakeVenue()
        self.dispatcher = Dispatcher(RoutingPolicy.of({"XEXT"}, "XEXT"), [VenueEntry(self.venue, asynchronous=True)])
        self.writer = RegistryWriter(self.registry, reactor, on_snapshot=self.accounts.snapshot)
        self.sessions = FakeSessions()
        self.clock = 1_700_000_000_000_000_000
        self.app = ClientApplication(
            sessions=self.sessions, dispatcher=self.dispatcher,  # type: ignore[arg-type]
            vetter=Vetter(LimitsBook(Limits(max_order_qty=D(500)))), writer=self.writer, accounts=self.accounts,
            instruments={"IBM": InstrumentInfo("IBM", close_px=D(10))},
            entitlements={SESSION: Entitlement(frozenset({"ACC"}), "ACC")}, ids=BrokerIds("T"),
            clock_ns=lambda: self.clock,
        )
        self.writer.on_committed = self.app.on_batch_committed

    async def _down(self) -> None:
        await self.writer.stop()
        self.registry.close()

    def tearDown(self):  # type: ignore[no-untyped-def]
        from twisted.internet import defer

        return defer.ensureDeferred(self._down())

    def fields(self, message: FixMessage, *tags: int) -> list[str | None]:
        return [message.get(t) for t in tags]

    async def settle(self) -> list[FixMessage]:
        await self.writer.drain()
        sent, self.sessions.sent = self.sessions.sent, []
        return sent

    async def test_ack_partial_fills_replace_cancel(self) -> None:
        self.app.from_app(FixMessage.new("D", (11, "A1"), (38, "100"), (40, "2"), (44, "10.00"), (54, "1"),
                                         (55, "IBM")), SESSION)
        self.assertEqual(self.sessions.sent, [])  # nothing before the registry commit
        (pending,) = await self.settle()
        self.assertEqual(self.fields(pending, 37, 11, 39, 150, 14, 151, 6), ["T-1", "A1", "A", "A", "0", "100", "0"])
        self.assertEqual(self.registry.balance("ACC", "USD").held, D(1000))
        (request,) = self.venue.requests
        self.assertEqual((request.cl_ord_id, request.account, request.owner), ("T-1", "ACC", str(SESSION)))
        self.venue.emit(v.Accepted(1, "IBM", "V1", request.owner, "T-1", "VE1", v.Side.BUY, v.OrdType.LIMIT,
                                   v.TimeInForce.DAY, D(100), D(10), None))
        (new,) = await self.settle()
        self.assertEqual(self.fields(new, 37, 11, 39, 150, 14, 151), ["T-1", "A1", "0", "0", "0", "100"])
        self.venue.emit(v.Fill(2, "IBM", "V1", request.owner, "T-1", "VF1", v.Side.BUY, "M1", D(30), D("9.90"),
                               D(30), D(70), D("9.90"), v.Liquidity.ADDED, "ACC"))
        (fill,) = await self.settle()
        self.assertEqual(self.fields(fill, 37, 11, 39, 150, 14, 151, 6, 31, 32),
                         ["T-1", "A1", "1", "F", "30", "70", "9.9", "9.9", "30"])
        self.assertEqual(self.registry.balance("ACC", "USD").amount, D(100000) - D(297))
        # replace: PendingReplace while the venue works, then Replaced with the ClOrdID chain
        self.app.from_app(FixMessage.new("G", (11, "A2"), (41, "A1"), (38, "150"), (40, "2"), (44, "10.00"),
                                         (54, "1"), (55, "IBM")), SESSION)
        (pending_replace,) = await self.settle()
        self.assertEqual(self.fields(pending_replace, 37, 11, 41, 39, 150), ["T-1", "A2", "A1", "E", "E"])
        replace = self.venue.requests[-1]
        self.venue.emit(v.Replaced(3, "IBM", "V1", request.owner, replace.cl_ord_id, "T-1", "VR1", v.Side.BUY,
                                   D(150), D(10), None, D(30), D(120), False))
        (replaced,) = await self.settle()
        self.assertEqual(self.fields(replaced, 37, 11, 41, 39, 150, 14, 151, 38),
                         ["T-1", "A2", "A1", "1", "5", "30", "120", "150"])
        # cancel: PendingCancel, then Canceled; every hold released
        self.app.from_app(FixMessage.new("F", (11, "A3"), (41, "A2"), (54, "1"), (55, "IBM")), SESSION)
        (pending_cancel,) = await self.settle()
        self.assertEqual(self.fields(pending_cancel, 11, 41, 39, 150), ["A3", "A2", "6", "6"])
        cancel = self.venue.requests[-1]
        self.assertEqual((cancel.orig_cl_ord_id, cancel.order_id), (replace.cl_ord_id, "V1"))
        self.venue.emit(v.Cancelled(4, "IBM", "V1", request.owner, cancel.cl_ord_id, replace.cl_ord_id, "VC1",
                                    v.Side.BUY, D(30), D(120), v.CancelReason.CLIENT_REQUEST))
        (cancelled,) = await self.settle()
        self.assertEqual(self.fields(cancelled, 37, 11, 41, 39, 150, 14, 151), ["T-1", "A3", "A2", "4", "4", "30", "0"])
        self.assertEqual(self.registry.balance("ACC", "USD").held, 0)
        self.assertEqual(self.registry.check(), [])

    async def test_rejects(self) -> None:
        # OMS limit
        self.app.from_app(FixMessage.new("D", (11, "B1"), (38, "600"), (40, "2"), (44, "10"), (54, "1"),
                                         (55, "IBM")), SESSION)
        (rej,) = await self.settle()
        self.assertEqual(self.fields(rej, 11, 39, 150, 103), ["B1", "8", "8", "3"])
        self.assertIn("max order quantity: 600 > limit 500", rej.get(58))
        # the venue refuses
        self.app.from_app(FixMessage.new("D", (11, "B2"), (38, "10"), (40, "2"), (44, "10"), (54, "2"),
                                         (55, "IBM")), SESSION)
        (sell_pending,) = await self.settle()
        self.assertEqual(self.fields(sell_pending, 11, 39), ["B2", "A"], sell_pending.to_text())
        request = self.venue.requests[-1]
        self.assertEqual(self.registry.balance("ACC", Asset.instrument("IBM")).held, D(10))
        self.venue.emit(v.Rejected(5, "IBM", request.owner, request.cl_ord_id, "VX", v.Side.SELL,
                                   v.RejectReason.EXCHANGE_CLOSED, "closed"))
        (vrej,) = await self.settle()
        self.assertEqual(self.fields(vrej, 11, 37, 39, 150, 103), ["B2", "T-2", "8", "8", "2"])
        self.assertEqual(self.registry.balance("ACC", Asset.instrument("IBM")).held, 0)
        # unknown order cancel -> 35=9
        self.app.from_app(FixMessage.new("F", (11, "B3"), (41, "NOPE"), (54, "1"), (55, "IBM")), SESSION)
        (cxl,) = await self.settle()
        self.assertEqual(self.fields(cxl, 35, 11, 41, 102, 434), ["9", "B3", "NOPE", "1", "1"])
        # a buy over the buying power
        self.app.from_app(FixMessage.new("D", (11, "B4"), (38, "200"), (40, "2"), (44, "999"), (54, "1"),
                                         (55, "IBM")), SESSION)
        (bp,) = await self.settle()
        self.assertEqual(self.fields(bp, 39, 103), ["8", "3"])
        self.assertTrue(bp.get(58).startswith("buying power:"), bp.get(58))
