"""Done orders are kept packed (GC-untracked) and still answer exactly as the full objects did.

The same client conversation runs twice against a fake asynchronous venue: once with the real
:class:`OrderStore` (which packs every terminal order into a tuple) and once with a store that
keeps every :class:`GatewayOrder` as it was before (the reference).  Status requests (by ClOrdID,
by OrderID, FIX.4.2 dialect, another session), cancels and replaces of done orders and duplicate
ClOrdIDs must produce byte-identical messages.
"""

from __future__ import annotations

import gc
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from twisted.internet import defer, reactor
from twisted.trial import unittest

from brokers.client.accounts import AccountCache
from brokers.client.orders import BrokerIds, DoneOrder, GatewayOrder, OrderStore
from brokers.client.writer import RegistryWriter
from brokers.client_fix import ClientApplication, Entitlement
from brokers.domain.accounts import Account
from brokers.domain.limits import Limits, LimitsBook
from brokers.domain.orders import ClientOrder, ClientOrderStatus, FinishedOrder
from brokers.oms.context import InstrumentInfo
from brokers.oms.vetting import Vetter
from brokers.registry import Registry
from brokers.routing.dispatcher import Dispatcher, VenueEntry
from brokers.routing.router import RoutingPolicy
from fix_engine.codec.message import FixMessage
from fix_engine.session.session_id import SessionID
from tests.brokers.gateway.test_client_lifecycle import FakeVenue
from venues import base as v

SESSION = SessionID("FIX.4.4", "FIXGATE", "CLIENT1")
SESSION42 = SessionID("FIX.4.2", "FIXGATE", "CLIENT42")
OTHER = SessionID("FIX.4.4", "FIXGATE", "CLIENT2")
D = Decimal


class KeepEverythingStore(OrderStore):
    """The reference: done orders stay full GatewayOrder objects (the store before packing)."""

    def forget(self, order: GatewayOrder) -> None:
        for venue_id in order.venue_ids:
            self._by_venue_id.pop((order.venue, venue_id), None)
        order.venue_ids.clear()


class FakeSessions:
    """Records every message the application sends, with its session."""

    def __init__(self) -> None:
        self.sent: list[tuple[SessionID, FixMessage]] = []

    def send_to_target(self, message: FixMessage, session_id: SessionID) -> bool:
        self.sent.append((session_id, message))
        return True

    def get(self, session_id: SessionID) -> None:
        return None


class Gateway:
    """One ClientApplication over a fresh registry, a fake venue and a fixed clock."""

    def __init__(self, store: OrderStore) -> None:
        tmp = Path(tempfile.mkdtemp(prefix="fixgate-retention-"))
        self.registry = Registry(f"sqlite:///{tmp / 'r.db'}")
        self.registry.upgrade()
        self.registry.open_account(Account("ACC"))
        self.registry.deposit("ACC", "1000000", "USD")
        self.registry.deposit_holding("ACC", "IBM", "10000")
        self.accounts = AccountCache()
        self.accounts.load(self.registry.account("ACC"), self.registry.balances("ACC"))
        self.venue = FakeVenue()
        dispatcher = Dispatcher(RoutingPolicy.of({"XEXT"}, "XEXT"), [VenueEntry(self.venue, asynchronous=True)])
        self.writer = RegistryWriter(self.registry, reactor, on_snapshot=self.accounts.snapshot)
        self.sessions = FakeSessions()
        self.store = store
        entitled = Entitlement(frozenset({"ACC"}), "ACC")
        self.app = ClientApplication(
            sessions=self.sessions, dispatcher=dispatcher,  # type: ignore[arg-type]
            vetter=Vetter(LimitsBook(Limits(max_order_qty=D(5000)))), writer=self.writer, accounts=self.accounts,
            instruments={"IBM": InstrumentInfo("IBM", close_px=D(10))},
            entitlements={SESSION: entitled, SESSION42: entitled, OTHER: entitled}, ids=BrokerIds("T"),
            clock_ns=lambda: 1_700_000_000_000_000_000, store=store,
        )
        self.writer.on_committed = self.app.on_batch_committed
        self.texts: list[str] = []

    async def close(self) -> None:
        await self.writer.stop()
        self.registry.close()

    def send(self, msg_type: str, *fields: tuple[int, object], session: SessionID = SESSION) -> None:
        self.app.from_app(FixMessage.new(msg_type, *fields), session)

    async def settle(self) -> list[FixMessage]:
        await self.writer.drain()
        sent, self.sessions.sent = self.sessions.sent, []
        self.texts.extend(f"{sid}|{m.to_text()}" for sid, m in sent)
        return [m for _, m in sent]

    def new(self, cl: str, side: str = "1", qty: str = "100", session: SessionID = SESSION) -> None:
        self.send("D", (11, cl), (38, qty), (40, "2"), (44, "10.00"), (54, side), (55, "IBM"), session=session)

    def last(self) -> Any:
        return self.venue.requests[-1]

    def accepted(self, r: Any, venue_id: str) -> None:
        self.venue.emit(v.Accepted(1, "IBM", venue_id, r.owner, r.cl_ord_id, f"{venue_id}A", r.side, v.OrdType.LIMIT,
                                   v.TimeInForce.DAY, r.qty, r.price, None))

    def fill(self, r: Any, venue_id: str, cl: str, qty: str, px: str, cum: str, leaves: str, n: int) -> None:
        self.venue.emit(v.Fill(2, "IBM", venue_id, r.owner, cl, f"{venue_id}F{n}", r.side, f"M{venue_id}{n}", D(qty),
                               D(px), D(cum), D(leaves), D(px), v.Liquidity.ADDED, "ACC"))


async def conversation(gw: Gateway) -> None:
    """Orders that end filled, cancelled, rejected, replaced then filled and expired; then every
    request that reads a done order.  Everything sent lands in ``gw.texts``."""
    # A1: filled in two fills
    gw.new("A1")
    await gw.settle()
    a = gw.last()
    gw.accepted(a, "VA")
    gw.fill(a, "VA", a.cl_ord_id, "40", "9.90", "40", "60", 1)
    gw.fill(a, "VA", a.cl_ord_id, "60", "9.95", "100", "0", 2)
    await gw.settle()
    # B1: a sell cancelled on request (B2)
    gw.new("B1", side="2", qty="50")
    await gw.settle()
    b = gw.last()
    gw.accepted(b, "VB")
    gw.send("F", (11, "B2"), (41, "B1"), (54, "2"), (55, "IBM"))
    await gw.settle()
    cancel = gw.last()
    gw.venue.emit(v.Cancelled(3, "IBM", "VB", b.owner, cancel.cl_ord_id, b.cl_ord_id, "VBC", v.Side.SELL, D(0),
                              D(50), v.CancelReason.CLIENT_REQUEST))
    await gw.settle()
    # C1: refused by the venue
    gw.new("C1")
    await gw.settle()
    c = gw.last()
    gw.venue.emit(v.Rejected(4, "IBM", c.owner, c.cl_ord_id, "VCX", v.Side.BUY, v.RejectReason.EXCHANGE_CLOSED,
                             "closed"))
    await gw.settle()
    # E1: partly filled, replaced to E2 (qty 200), then filled: ClOrdID chain E1 -> E2
    gw.new("E1")
    await gw.settle()
    e = gw.last()
    gw.accepted(e, "VE")
    gw.fill(e, "VE", e.cl_ord_id, "30", "10.00", "30", "70", 1)
    await gw.settle()
    gw.send("G", (11, "E2"), (41, "E1"), (38, "200"), (40, "2"), (44, "10.00"), (54, "1"), (55, "IBM"))
    await gw.settle()
    rep = gw.last()
    gw.venue.emit(v.Replaced(5, "IBM", "VE", e.owner, rep.cl_ord_id, e.cl_ord_id, "VER", v.Side.BUY, D(200),
                             D(10), None, D(30), D(170), False))
    await gw.settle()
    gw.fill(e, "VE", rep.cl_ord_id, "170", "9.99", "200", "0", 2)
    await gw.settle()
    # X1: expired after a partial fill; K1 (FIX.4.2 session): cancelled by the venue (unsolicited)
    gw.new("X1")
    await gw.settle()
    x = gw.last()
    gw.accepted(x, "VX")
    gw.fill(x, "VX", x.cl_ord_id, "10", "10.00", "10", "90", 1)
    gw.venue.emit(v.Expired(6, "IBM", "VX", x.owner, x.cl_ord_id, "VXE", v.Side.BUY, D(10), D(90)))
    await gw.settle()
    gw.new("K1", session=SESSION42)
    await gw.settle()
    k = gw.last()
    gw.accepted(k, "VK")
    gw.venue.emit(v.Cancelled(7, "IBM", "VK", k.owner, k.cl_ord_id, "", "VKC", v.Side.BUY, D(0), D(100),
                              v.CancelReason.TRADING_HALT))
    await gw.settle()
    # L1 stays working
    gw.new("L1")
    await gw.settle()
    gw.accepted(gw.last(), "VL")
    await gw.settle()
    gw.texts.append("---- requests about done orders")

    # status: by every ClOrdID, by OrderID alone, FIX.4.2, unknown, another session's order
    for cl in ("A1", "B1", "B2", "C1", "E1", "E2", "X1", "L1", "NOPE"):
        gw.send("H", (11, cl), (54, "1"), (55, "IBM"))
    for order_id in ("T-1", "T-2", "T-4"):
        gw.send("H", (11, "?"), (37, order_id), (54, "1"), (55, "IBM"))
        gw.send("H", (37, order_id), (54, "1"), (55, "IBM"), session=OTHER)
    gw.send("H", (11, "K1"), (54, "1"), (55, "IBM"), session=SESSION42)
    gw.send("H", (11, "A1"), (54, "1"), (55, "IBM"), session=SESSION42)
    # cancel / replace of done orders: too late (by OrigClOrdID and by OrderID), unknown elsewhere
    gw.send("F", (11, "Z1"), (41, "A1"), (54, "1"), (55, "IBM"))
    gw.send("F", (11, "Z2"), (41, "B2"), (54, "2"), (55, "IBM"))
    gw.send("F", (11, "Z3"), (37, "T-3"), (54, "1"), (55, "IBM"))
    gw.send("G", (11, "Z4"), (41, "E2"), (38, "300"), (40, "2"), (44, "10.00"), (54, "1"), (55, "IBM"))
    gw.send("G", (11, "Z5"), (41, "E1"), (38, "300"), (40, "2"), (44, "10.00"), (54, "1"), (55, "IBM"))
    gw.send("F", (11, "Z6"), (41, "X1"), (54, "1"), (55, "IBM"))
    gw.send("F", (11, "Z7"), (41, "A1"), (54, "1"), (55, "IBM"), session=OTHER)
    # duplicate ClOrdIDs: new orders reusing a done order's ClOrdIDs, a cancel of L1 reusing one
    for cl in ("A1", "B2", "E2", "C1"):
        gw.new(cl)
    gw.send("F", (11, "E1"), (41, "L1"), (54, "1"), (55, "IBM"))
    gw.send("G", (11, "B2"), (41, "L1"), (38, "300"), (40, "2"), (44, "10.00"), (54, "1"), (55, "IBM"))
    # mass status: only the working order
    gw.send("AF", (584, "MS1"), (585, "7"))
    await gw.settle()


class RetentionTest(unittest.TestCase):
    """Done orders, packed, answer every request byte for byte as the full objects did."""

    timeout = 60

    def setUp(self) -> None:
        self.gateways: list[Gateway] = []

    def tearDown(self) -> defer.Deferred[None]:
        async def down() -> None:
            for gw in self.gateways:
                await gw.close()

        return defer.ensureDeferred(down())

    def gateway(self, store: OrderStore) -> Gateway:
        gw = Gateway(store)
        self.gateways.append(gw)
        return gw

    async def test_done_orders_answer_exactly_as_before(self) -> None:
        packed, reference = self.gateway(OrderStore()), self.gateway(KeepEverythingStore())
        await conversation(packed)
        await conversation(reference)
        self.assertEqual(len(packed.texts), len(reference.texts))
        for got, want in zip(packed.texts, reference.texts, strict=True):
            self.assertEqual(got, want)
        # every order but L1 is done, and kept packed only
        store = packed.store
        self.assertEqual(store.live_count, 1)
        self.assertEqual(len(store), len(reference.store))
        self.assertEqual(sorted(type(o).__name__ for o in store), ["DoneOrder"] * (len(store) - 1) + ["GatewayOrder"])

    async def test_answers_read_from_the_packed_record(self) -> None:
        gw = self.gateway(OrderStore())
        await conversation(gw)
        messages = gw.texts[gw.texts.index("---- requests about done orders") + 1:]
        status_a1 = next(t for t in messages if "|11=A1|" in t and "|150=I|" in t and t.startswith(str(SESSION)))
        for tag_value in ("|14=100|", "|39=2|", "|151=0|", "|6=9.93|", "|37=T-1|", "|38=100|"):
            self.assertIn(tag_value, status_a1)
        status_e1 = next(t for t in messages if "|11=E2|" in t and "|150=I|" in t)
        for tag_value in ("|41=E1|", "|38=200|", "|14=200|", "|39=2|"):
            self.assertIn(tag_value, status_e1)
        status_k1 = next(t for t in messages if t.startswith(str(SESSION42)) and "|11=K1|" in t)
        for tag_value in ("|150=4|", "|20=3|", "|39=4|"):  # FIX.4.2: ExecTransType 3, ExecType = OrdStatus
            self.assertIn(tag_value, status_k1)
        too_late = next(t for t in messages if "|11=Z1|" in t)
        for tag_value in ("|35=9|", "|102=0|", "|39=2|", "|58=order T-1 is FILLED|", "|1=ACC|"):
            self.assertIn(tag_value, too_late)
        duplicate = next(t for t in messages if "|11=B2|" in t and "|103=6|" in t)
        self.assertIn("|58=duplicate ClOrdID: B2 already used on this session|", duplicate)
        dup_cancel = next(t for t in messages if "|11=E1|" in t and "|35=9|" in t)
        self.assertIn("|102=6|", dup_cancel)

    async def test_done_orders_are_not_tracked_by_the_cyclic_gc(self) -> None:
        gw = self.gateway(OrderStore())
        await conversation(gw)
        gc.collect()  # the first collection that meets a packed order untracks it
        archives = list(gw.store._done.values())
        for archive in archives:
            archive.settle()
        packed = [t for archive in archives for t in archive.values()]
        self.assertEqual(len(packed), len(gw.store) - 1)
        self.assertFalse(any(gc.is_tracked(t) for t in packed))
        self.assertFalse(any(gc.is_tracked(archive._old) for archive in archives))
        self.assertEqual([archive.recent_size for archive in archives], [0] * len(archives))
        self.assertFalse(any(gc.is_tracked(index) for index in gw.store._by_cl_ord_id.values()))
        self.assertEqual([g.order.cl_ord_id for g in gw.store.working()], ["L1"])


class ArchiveTest(unittest.TestCase):
    """``fix_engine.gc_tuning.UntrackedArchive``: a dict whose settled part the GC never scans."""

    def test_a_dict_of_lookups(self) -> None:
        from fix_engine.gc_tuning import UntrackedArchive

        archive = UntrackedArchive(settle_every=4)
        for n in range(10):
            archive[f"k{n}"] = (f"v{n}", n, D(n))
        self.assertEqual(len(archive), 10)
        self.assertEqual(archive.get("k3"), ("v3", 3, D(3)))
        self.assertIsNone(archive.get("nope"))
        self.assertIn("k9", archive)
        archive["k3"] = ("again",)
        self.assertEqual(archive.get("k3"), ("again",))
        self.assertEqual(archive.pop("k4"), ("v4", 4, D(4)))
        self.assertIsNone(archive.pop("k4"))
        self.assertEqual(sorted(archive.keys()), sorted(f"k{n}" for n in range(10) if n != 4))
        self.assertEqual(dict(archive.items())["k0"], ("v0", 0, D(0)))
        self.assertEqual(len(list(archive.values())), 9)

    def test_settled_values_live_in_a_dict_that_is_never_tracked(self) -> None:
        from fix_engine.gc_tuning import UntrackedArchive

        archive = UntrackedArchive(settle_every=100)
        for n in range(1000):
            archive[str(n)] = (str(n), D(n), None)
            if n % 250 == 0:
                gc.collect(0)
        gc.collect()
        archive.settle()
        self.assertEqual(archive.recent_size, 0)
        self.assertFalse(gc.is_tracked(archive._old))
        archive["fresh"] = ("a", "b")
        self.assertFalse(gc.is_tracked(archive._old))  # only the recent part holds the fresh tuple
        self.assertEqual(len(archive), 1001)
        holder = [1]
        archive["tracked"] = (holder,)  # never untracked: it stays recent, and is still found
        gc.collect()
        archive.settle()
        self.assertEqual(archive.get("tracked"), (holder,))
        self.assertEqual(archive.recent_size, 1)


class FinishedOrderTest(unittest.TestCase):
    """``ClientOrder.finished`` / ``FinishedOrder``: the packed form of a terminal order."""

    def order(self) -> ClientOrder:
        o = ClientOrder("O1", "C1", "S", "ACC", "IBM", v.Side.SELL, v.OrdType.STOP_LIMIT, D(100), D("10.00"),
                        D("10.50"), v.TimeInForce.GTD, 123, "XEXT")
        o.on_ack()
        o.on_fill(D(40), D("10.00"))
        o.on_replace_requested("C2", D(150), D("10.10"))
        o.on_replaced(D(150), D("10.10"))
        o.on_cancelled()
        return o

    def test_reads_like_the_client_order(self) -> None:
        o = self.order()
        f = FinishedOrder.unpack(o.finished())
        for name in ("order_id", "cl_ord_id", "session_key", "account", "symbol", "side", "ord_type", "tif", "qty",
                     "price", "stop_px", "expire_time", "ex_destination", "status", "cum_qty", "gross_notional",
                     "cl_ord_id_chain", "leaves_qty", "avg_px", "orig_cl_ord_id", "original_cl_ord_id"):
            self.assertEqual(getattr(f, name), getattr(o, name), name)
        self.assertIs(f.status, ClientOrderStatus.CANCELED)

    def test_packed_form_is_a_plain_untracked_tuple(self) -> None:
        packed = self.order().finished()
        self.assertIs(type(packed), tuple)
        gc.collect()  # the first collection that meets it untracks it
        self.assertFalse(gc.is_tracked(packed))
        done = DoneOrder._make(packed)
        self.assertIs(done.order, done)
        self.assertEqual(done.owner, "S")

    def test_a_working_order_cannot_be_packed(self) -> None:
        o = ClientOrder("O2", "C1", "S", "ACC", "IBM", v.Side.BUY, v.OrdType.LIMIT, D(1), D(1))
        o.on_ack()
        with self.assertRaises(ValueError):
            o.finished()


class FastConstructorsTest(unittest.TestCase):
    """The positional constructors of the hot path build what the classes themselves build."""

    def test_order_request_and_account_state(self) -> None:
        from brokers.client.accounts import _account_state
        from brokers.client_fix import _order_request
        from brokers.oms.context import AccountState, FeeSchedule

        args = ("IBM", "owner", "C1", v.Side.SELL, D(5), v.OrdType.STOP_LIMIT, D("9.5"), D(9), v.TimeInForce.GTD,
                "ACC", "", 123, D(1), D(2), False, None)
        self.assertEqual(_order_request(*args), v.OrderRequest(*args))
        self.assertIsNot(_order_request, v.OrderRequest)
        state = ("ACC", True, "USD", D(10), D(1), {"IBM": D(3)}, {}, {"IBM": D(1)}, False, False, FeeSchedule())
        self.assertEqual(_account_state(*state), AccountState(*state))
        self.assertIsNot(_account_state, AccountState)
