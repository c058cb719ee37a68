"""ClientApplication: position limits count working orders' open quantity; fee schedules per account.

Against a fake asynchronous venue and a real SQLite registry (the test plays the venue's answers):

* a buy is refused when holdings + open buys + the order exceed ``max_long_position`` (a sell
  when open sells + the order - holdings exceed ``max_short_position``), with OrdRejReason 3 and
  a Text naming the rule, the limit and each part;
* the open quantity is released exactly as reservations are: on cancel, expiry, venue reject,
  registry refusal and fills (a fill's quantity counts as held until its booking commits);
  a pending replace counts the larger of the old and new open quantity;
* fees: the buying-power check and the reservation include the account's fee of one fill, every
  fill is booked with its fee (fee legs to the house fees account) and reported as
  Commission(12) / CommType(13)=3.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from decimal import Decimal
from pathlib import Path

from twisted.internet import defer, reactor
from twisted.trial import unittest

from brokers.client.accounts import AccountCache
from brokers.client.orders import BrokerIds
from brokers.client.writer import RegistryWriter
from brokers.client_fix import ClientApplication, Entitlement
from brokers.domain.accounts import FEES_ACCOUNT, Account, Asset
from brokers.domain.limits import Limits, LimitsBook
from brokers.oms.context import FeeSchedule, FeeSchedules, InstrumentInfo
from brokers.oms.vetting import Vetter
from brokers.registry import Registry
from brokers.routing.dispatcher import Dispatcher, VenueEntry
from brokers.routing.router import RoutingPolicy
from fix_engine.codec.message import FixMessage
from fix_engine.session.session_id import SessionID
from tests.brokers.gateway.test_client_lifecycle import FakeSessions, FakeVenue
from venues import base as v

D = Decimal
SESSION = SessionID("FIX.4.4", "FIXGATE", "CLIENT1")
SHORT_SESSION = SessionID("FIX.4.4", "FIXGATE", "CLIENT2")
OWNER = str(SESSION)


class _AppTest(unittest.TestCase):
    """One ClientApplication over a fresh registry: ACC (cash, 200 IBM) and SHORTY (short selling)."""

    timeout = 30
    limits = Limits()
    fees = FeeSchedules()
    cash = D("1000000")

    def setUp(self) -> None:
        tmp = Path(tempfile.mkdtemp(prefix="fixgate-posfees-"))
        self.registry = Registry(self.registry_url(tmp))
        self.registry.upgrade()
        self.registry.open_account(Account("ACC"))
        self.registry.deposit("ACC", str(self.cash), "USD")
        self.registry.deposit_holding("ACC", "IBM", "200")
        self.registry.open_account(Account("SHORTY", allow_short=True))
        self.registry.deposit("SHORTY", "1000000", "USD")
        self.accounts = AccountCache(self.fees)
        for name in ("ACC", "SHORTY"):
            self.accounts.load(self.registry.account(name), self.registry.balances(name))
        self.venue = FakeVenue()
        self.dispatcher = Dispatcher(RoutingPolicy.of({"XEXT"}, "XEXT"), [VenueEntry(self.venue, asynchronous=True)])
        self.writer = RegistryWriter(self.registry, reactor, on_snapshot=self.accounts.snapshot)
        self.sessions = FakeSessions()
        self.app = ClientApplication(
            sessions=self.sessions, dispatcher=self.dispatcher,  # type: ignore[arg-type]
            vetter=Vetter(LimitsBook(self.limits)), writer=self.writer, accounts=self.accounts,
            instruments={"IBM": InstrumentInfo("IBM", close_px=D(10))},
            entitlements={SESSION: Entitlement(frozenset({"ACC"}), "ACC"),
                          SHORT_SESSION: Entitlement(frozenset({"SHORTY"}), "SHORTY")},
            ids=BrokerIds("T"), clock_ns=lambda: 1_700_000_000_000_000_000,
        )
        self.writer.on_committed = self.app.on_batch_committed
        self.exec_ids = 0

    def registry_url(self, tmp: Path) -> str:
        return f"sqlite:///{tmp / 'r.db'}"

    def drop_database(self) -> None:
        """Nothing to drop for SQLite (a file in a temp dir)."""

    def tearDown(self):  # type: ignore[no-untyped-def]
        async def down() -> None:
            await self.writer.stop()
            self.registry.close()
            self.drop_database()
        return defer.ensureDeferred(down())

    async def settle(self) -> list[FixMessage]:
        await self.writer.drain()
        sent, self.sessions.sent = self.sessions.sent, []
        return sent

    async def order(self, cl_ord_id: str, side: str, qty: str, price: str = "10.00",
                    session: SessionID = SESSION) -> FixMessage:
        """Send a limit order; returns its one report (39=A PendingNew, or 39=8 rejected)."""
        self.app.from_app(FixMessage.new("D", (11, cl_ord_id), (38, qty), (40, "2"), (44, price), (54, side),
                                         (55, "IBM")), session)
        (report,) = await self.settle()
        return report

    def _next_exec(self) -> str:
        self.exec_ids += 1
        return f"VE{self.exec_ids}"

    def request(self, venue_cl_ord_id: str) -> v.OrderRequest:
        return next(r for r in self.venue.requests if isinstance(r, v.OrderRequest) and r.cl_ord_id == venue_cl_ord_id)

    async def accept(self, venue_cl_ord_id: str) -> FixMessage:
        r = self.request(venue_cl_ord_id)
        self.venue.emit(v.Accepted(1, "IBM", "V" + venue_cl_ord_id, r.owner, venue_cl_ord_id, self._next_exec(),
                                   r.side, r.ord_type, r.tif, r.qty, r.price, None))
        (report,) = await self.settle()
        return report

    async def fill(self, venue_cl_ord_id: str, qty: str, px: str, cum: str, leaves: str) -> FixMessage:
        r = self.request(venue_cl_ord_id)
        self.venue.emit(v.Fill(2, "IBM", "V" + venue_cl_ord_id, r.owner, venue_cl_ord_id, self._next_exec(), r.side,
                               "M" + venue_cl_ord_id, D(qty), D(px), D(cum), D(leaves), D(px), v.Liquidity.ADDED,
                               r.account))
        (report,) = await self.settle()
        return report

    async def unsolicited_cancel(self, venue_cl_ord_id: str, cum: str, cancelled: str) -> FixMessage:
        r = self.request(venue_cl_ord_id)
        self.venue.emit(v.Cancelled(3, "IBM", "V" + venue_cl_ord_id, r.owner, venue_cl_ord_id, "", self._next_exec(),
                                    r.side, D(cum), D(cancelled), v.CancelReason.CLIENT_REQUEST))
        (report,) = await self.settle()
        return report

    def assert_rejected(self, report: FixMessage, text: str) -> None:
        self.assertEqual([report.get(t) for t in (35, 39, 150, 103)], ["8", "8", "8", "3"], report.to_text())
        self.assertEqual(report.get(58), text)

    def assert_pending(self, report: FixMessage) -> None:
        self.assertEqual([report.get(t) for t in (35, 39, 150)], ["8", "A", "A"], report.to_text())


class PositionLimitTest(_AppTest):
    limits = Limits(max_long_position=D(1000), max_short_position=D(300))

    async def test_open_buys_count_until_cancelled(self) -> None:
        self.assert_pending(await self.order("B1", "1", "500"))
        self.assertEqual(self.accounts.open_buys("ACC", "IBM"), D(500))
        self.assert_rejected(await self.order("B2", "1", "400"),
                             "position limit: resulting long 1100 > limit 1000 (held 200, open buys 500, order 400)")
        self.assert_pending(await self.order("B3", "1", "300"))  # exactly 1000
        await self.accept("T-1")
        cancelled = await self.unsolicited_cancel("T-1", "0", "500")
        self.assertEqual(cancelled.get(39), "4")
        self.assertEqual(self.accounts.open_buys("ACC", "IBM"), D(300))
        self.assert_pending(await self.order("B4", "1", "500"))

    async def test_fill_moves_open_quantity_to_holdings(self) -> None:
        self.assert_pending(await self.order("F1", "1", "800"))
        await self.accept("T-1")
        fill = await self.fill("T-1", "300", "10.00", "300", "500")
        self.assertEqual(fill.get(39), "1")
        self.assertEqual(self.accounts.open_buys("ACC", "IBM"), D(500))
        self.assertEqual(self.accounts.state("ACC").holding("IBM"), D(500))  # 200 + 300 booked
        self.assert_rejected(await self.order("F2", "1", "1"),
                             "position limit: resulting long 1001 > limit 1000 (held 500, open buys 500, order 1)")
        await self.fill("T-1", "500", "10.00", "800", "0")
        self.assertEqual(self.accounts.open_buys("ACC", "IBM"), D(0))
        self.assertEqual(self.registry.balance("ACC", Asset.instrument("IBM")).amount, D(1000))
        self.assert_rejected(await self.order("F3", "1", "1"),
                             "position limit: resulting long 1001 > limit 1000 (held 1000, open buys 0, order 1)")

    async def test_fill_counts_as_held_before_its_booking_commits(self) -> None:
        self.assert_pending(await self.order("P1", "1", "800"))
        await self.accept("T-1")
        r = self.request("T-1")
        self.venue.emit(v.Fill(2, "IBM", "VT-1", r.owner, "T-1", "VPF", r.side, "MP", D(300), D(10), D(300),
                               D(500), D(10), v.Liquidity.ADDED, "ACC"))
        # the fill is queued, not committed: its 300 no longer open, but counted as held
        self.app.from_app(FixMessage.new("D", (11, "P2"), (38, "1"), (40, "2"), (44, "10"), (54, "1"),
                                         (55, "IBM")), SESSION)
        sent = await self.settle()
        self.assertEqual([m.get(39) for m in sent], ["1", "8"])
        self.assertEqual(sent[1].get(58),
                         "position limit: resulting long 1001 > limit 1000 (held 500, open buys 500, order 1)")

    async def test_released_on_expiry_and_venue_reject(self) -> None:
        self.assert_pending(await self.order("E1", "1", "800"))
        await self.accept("T-1")
        r = self.request("T-1")
        self.venue.emit(v.Expired(3, "IBM", "VT-1", r.owner, "T-1", "VX1", r.side, D(0), D(800)))
        (expired,) = await self.settle()
        self.assertEqual(expired.get(39), "C")
        self.assertEqual(self.accounts.open_buys("ACC", "IBM"), D(0))
        self.assert_pending(await self.order("E2", "1", "800"))
        r2 = self.request("T-2")
        self.venue.emit(v.Rejected(4, "IBM", r2.owner, "T-2", "VX2", r2.side, v.RejectReason.EXCHANGE_CLOSED, "closed"))
        (rejected,) = await self.settle()
        self.assertEqual(rejected.get(39), "8")
        self.assertEqual(self.accounts.open_buys("ACC", "IBM"), D(0))
        self.assert_pending(await self.order("E3", "1", "800"))

    async def test_released_on_registry_refusal(self) -> None:
        self.registry.withdraw("ACC", "999990", "USD")  # 10.00 left; the vetting snapshot does not know
        refused = await self.order("R1", "1", "800")  # passes vetting, refused by the registry
        self.assertEqual([refused.get(t) for t in (39, 103)], ["8", "3"], refused.to_text())
        self.assertTrue(refused.get(58).startswith("buying power: insufficient USD"), refused.get(58))
        self.assertEqual(self.accounts.open_buys("ACC", "IBM"), D(0))

    async def test_replace_counts_the_larger_while_pending(self) -> None:
        self.assert_pending(await self.order("Q1", "1", "500"))
        await self.accept("T-1")
        self.app.from_app(FixMessage.new("G", (11, "Q2"), (41, "Q1"), (38, "700"), (40, "2"), (44, "10.00"),
                                         (54, "1"), (55, "IBM")), SESSION)
        (pending,) = await self.settle()
        self.assertEqual(pending.get(39), "E")
        self.assertEqual(self.accounts.open_buys("ACC", "IBM"), D(700))
        self.assert_rejected(await self.order("Q3", "1", "101"),
                             "position limit: resulting long 1001 > limit 1000 (held 200, open buys 700, order 101)")
        replace = self.venue.requests[-1]
        self.venue.emit(v.CancelRejected(3, "IBM", "VT-1", OWNER, replace.cl_ord_id, "T-1",
                                         v.CancelRejectResponseTo.REPLACE, v.CancelRejectReason.UNKNOWN_ORDER, "no"))
        (cxl_rej,) = await self.settle()
        self.assertEqual(cxl_rej.get(35), "9")
        self.assertEqual(self.accounts.open_buys("ACC", "IBM"), D(500))
        # a replace down to 300 that takes effect releases the difference
        self.app.from_app(FixMessage.new("G", (11, "Q4"), (41, "Q1"), (38, "300"), (40, "2"), (44, "10.00"),
                                         (54, "1"), (55, "IBM")), SESSION)
        await self.settle()
        self.assertEqual(self.accounts.open_buys("ACC", "IBM"), D(500))
        replace = self.venue.requests[-1]
        self.venue.emit(v.Replaced(4, "IBM", "VT-1", OWNER, replace.cl_ord_id, "T-1", "VR1", v.Side.BUY,
                                   D(300), D(10), None, D(0), D(300), False))
        (replaced,) = await self.settle()
        self.assertEqual(replaced.get(150), "5")
        self.assertEqual(self.accounts.open_buys("ACC", "IBM"), D(300))

    async def test_short_counts_open_sells(self) -> None:
        self.assert_pending(await self.order("S1", "2", "200", session=SHORT_SESSION))
        self.assert_rejected(await self.order("S2", "2", "150", session=SHORT_SESSION),
                             "position limit: resulting short 350 > limit 300 (held 0, open sells 200, order 150)")
        await self.accept("T-1")
        await self.unsolicited_cancel("T-1", "0", "200")
        self.assert_pending(await self.order("S3", "2", "300", session=SHORT_SESSION))


class FeeTest(_AppTest):
    fees = FeeSchedules(FeeSchedule(), {"ACC": FeeSchedule(bps=D(10), fixed=D("1.00"))})
    cash = D("10000.00")

    async def test_buying_power_includes_the_fee(self) -> None:
        # 100 @ 99.90: 9990.00 + 9.99 (10 bps) + 1.00 = 10000.99 > 10000.00
        self.assert_rejected(await self.order("G1", "1", "100", "99.90"),
                             "buying power: 10000.99 required > 10000.00 available")
        # 100 @ 99.00: 9900.00 + 9.90 + 1.00 = 9910.90 reserved
        self.assert_pending(await self.order("G2", "1", "100", "99.00"))
        self.assertEqual(self.registry.balance("ACC", "USD").held, D("9910.90"))
        # 89.10 left: 1 @ 88.00 needs 88.00 + 0.09 + 1.00 = 89.09
        self.assert_pending(await self.order("G3", "1", "1", "88.00"))
        # 0.01 left: 1 @ 0.01 needs 0.01 + 1.01 (0.00001 + 1.00, rounded up to the cent)
        self.assert_rejected(await self.order("G4", "1", "1", "0.01"),
                             "buying power: 1.02 required > 0.01 available")

    async def test_fills_book_and_report_their_fee(self) -> None:
        self.assert_pending(await self.order("H1", "1", "100", "50.00"))  # reserves 5000 + 5 + 1
        self.assertEqual(self.registry.balance("ACC", "USD").held, D("5006.00"))
        await self.accept("T-1")
        first = await self.fill("T-1", "40", "50.00", "40", "60")  # 2000.00: fee 2.00 + 1.00
        self.assertEqual([first.get(t) for t in (39, 32, 31, 12, 13)], ["1", "40", "50", "3", "3"])
        last = await self.fill("T-1", "60", "49.00", "100", "0")  # 2940.00: fee 2.94 + 1.00
        self.assertEqual([last.get(t) for t in (39, 32, 31, 12, 13)], ["2", "60", "49", "3.94", "3"])
        self.assertEqual(self.registry.balance(FEES_ACCOUNT, "USD").amount, D("6.94"))
        self.assertEqual(self.registry.balance("ACC", "USD").amount, D("10000.00") - D("4940.00") - D("6.94"))
        self.assertEqual(self.registry.balance("ACC", "USD").held, 0)
        self.assertEqual(self.registry.check(), [])

    async def test_account_without_its_own_schedule_pays_the_default(self) -> None:
        self.assert_pending(await self.order("Z1", "2", "10", "10.00", session=SHORT_SESSION))
        await self.accept("T-1")
        fill = await self.fill("T-1", "10", "10.00", "10", "0")
        self.assertIsNone(fill.get(12))
        self.assertEqual(self.registry.balance("SHORTY", "USD").amount, D("1000100"))


PG_URL = os.environ.get("FIXGATE_TEST_DATABASE_URL")


class FeeTestPostgres(FeeTest):
    """The fee scenarios with the registry on PostgreSQL (its bulk booking path)."""

    skip = None if PG_URL else "FIXGATE_TEST_DATABASE_URL not set"

    def registry_url(self, tmp: Path) -> str:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        assert PG_URL is not None
        self.schema = f"fees_{uuid.uuid4().hex[:12]}"
        self.admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {self.schema}"))
        return make_url(PG_URL).update_query_dict({"options": f"-csearch_path={self.schema}"}).render_as_string(
            hide_password=False)

    def drop_database(self) -> None:
        from sqlalchemy import text

        with self.admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE"))
        self.admin.dispose()
