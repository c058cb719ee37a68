"""Hostile application messages to the gateway's client application (ClientApplication).

The real composition on one thread: the client application, the OMS vetting, routing to the real
internal venue (file journal), the registry on SQLite, its writer running each batch at once on
the test's thread (``SyncRunner``) and ``task.Clock`` as the reactor.

Property: whatever the field values (see ``tests/hostile_messages.py``), on FIX.4.2, FIX.4.4 and
FIXT.1.1 sessions, ``from_app`` either raises an error the session answers (Reject /
BusinessMessageReject) or the client gets the answer the message type needs (ExecutionReport,
35=9 with CxlRejReason, 35=r); and after every message the registry's invariants hold, the venue's
books are consistent, the gateway's working orders are exactly the venue's, its open-buy and
held amounts match the registry, and every acknowledged order is booked.  Focused regression
tests follow.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.internet import defer, task

sys.path.append(str(Path(__file__).resolve().parents[2]))  # tests/: hostile_messages

from hostile_messages import (  # noqa: E402
    ANSWERED_BY_SESSION,
    BEGIN_STRINGS,
    Inbound,
    check_answer,
    numeric_orders,
    sequences,
)

from brokers.client.accounts import AccountCache  # noqa: E402
from brokers.client.orders import BrokerIds  # noqa: E402
from brokers.client.writer import RegistryWriter  # noqa: E402
from brokers.client.writer_child import perform  # noqa: E402
from brokers.client_fix import ClientApplication, Entitlement  # noqa: E402
from brokers.domain.accounts import Account, Asset, InvalidAmount, to_amount  # noqa: E402
from brokers.domain.limits import Limits, LimitsBook  # noqa: E402
from brokers.domain.orders import ClientOrderStatus  # noqa: E402
from brokers.oms.context import FeeSchedule, InstrumentInfo  # noqa: E402
from brokers.oms.vetting import Vetter  # noqa: E402
from brokers.registry import Registry  # noqa: E402
from brokers.routing.dispatcher import Dispatcher, VenueEntry  # noqa: E402
from brokers.routing.router import RoutingPolicy  # noqa: E402
from fix_engine.codec.message import FixMessage  # noqa: E402
from fix_engine.session.session_id import SessionID  # noqa: E402
from venues import base as v  # noqa: E402
from venues.internal.journal import FileJournal  # noqa: E402
from venues.internal.reference_data import DEMO_INSTRUMENTS, InstrumentSpec  # noqa: E402
from venues.internal.venue import InternalVenue  # noqa: E402

D = Decimal
T = "20260101-10:00:00.000"
VENUE = "INTERNAL"
LOT = InstrumentSpec("LOT", D("0.05"), D(100), min_qty=D(100), max_qty=D(100000), price_band_pct=D(10),
                     reference_price=D("100.00"))
SPECS = (*DEMO_INSTRUMENTS, LOT)
ACCOUNTS = ("ACC1", "ACC2", "ACC3")
TYPES = ("D", "F", "G", "H", "q", "AF", "V", "x")  # V and x: not served, BusinessMessageReject
START_NS = 1_790_000_000 * 1_000_000_000  # 2026-09-21


class SyncRunner:
    """The writer's batch runner, running each batch at once on the caller's thread."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.on_lost: Any = None

    @property
    def started(self) -> bool:
        return True

    def start(self) -> None:
        pass

    def run(self, work: Any) -> defer.Deferred[Any]:
        try:
            return defer.succeed(perform(self.registry, None, work))
        except Exception as exc:  # a batch failing as a whole
            return defer.fail(exc)

    def stop(self) -> defer.Deferred[None]:
        return defer.succeed(None)

    def close(self) -> None:
        pass


@dataclass
class Sessions:
    """The session registry: what the application sends, per session."""

    sent: dict[SessionID, list[FixMessage]] = field(default_factory=dict)
    logouts: list[SessionID] = field(default_factory=list)

    def send_to_target(self, message: FixMessage, session_id: SessionID) -> bool:
        self.sent.setdefault(session_id, []).append(message)
        return True

    def get(self, session_id: SessionID) -> None:
        return None


def _fund(registry: Registry) -> None:
    registry.open_account(Account("ACC1"))
    registry.deposit("ACC1", "1000000", "USD")
    for symbol, qty in (("IBM", "1000"), ("AAPL", "1000"), ("LOT", "100000")):
        registry.deposit_holding("ACC1", symbol, qty)
    registry.open_account(Account("ACC2"))
    registry.deposit("ACC2", "500", "USD")  # little buying power, nothing to sell
    registry.open_account(Account("ACC3", allow_short=True))
    registry.deposit("ACC3", "100000", "USD")


@pytest.fixture(scope="module")
def template() -> Iterator[Path]:
    """A migrated, funded registry database, copied for every example."""
    with tempfile.TemporaryDirectory(prefix="fixgate-hostile-template-") as tmp:
        path = Path(tmp) / "registry.db"
        registry = Registry(f"sqlite:///{path}")
        registry.upgrade()
        _fund(registry)
        registry.close()
        yield path


class Gateway:
    """The client application on the real venue and registry, all on this thread."""

    def __init__(self, tmp: Path, template: Path, begins: Sequence[str]) -> None:
        shutil.copy(template, tmp / "registry.db")
        self.registry = Registry(f"sqlite:///{tmp / 'registry.db'}")
        self.clock = task.Clock()
        self.clock.advance(START_NS / 1e9)
        self.now = START_NS
        self.journal = FileJournal(tmp / "venue.journal")
        self.venue = InternalVenue(VENUE, SPECS, self.journal, self._tick)
        self.accounts = AccountCache(FeeSchedule(bps=D(5), minimum=D("1.00")))
        for name in ACCOUNTS:
            self.accounts.load(self.registry.account(name), self.registry.balances(name))
        self.writer = RegistryWriter(self.registry, self.clock, runner=SyncRunner(self.registry),
                                     on_snapshot=self.accounts.snapshot)
        self.sessions = Sessions()
        self.sids = [SessionID(begin, "FIXGATE", f"C{i}") for i, begin in enumerate(begins)]
        entitlements = {
            self.sids[0]: Entitlement(frozenset({"ACC1", "ACC2"}), "ACC1"),
            self.sids[1]: Entitlement(frozenset({"ACC1"}), "ACC1"),  # a second session on ACC1
            self.sids[2]: Entitlement(frozenset({"ACC2", "ACC3"})),  # Account(1) required
        }
        instruments = {s.symbol: InstrumentInfo(s.symbol, tick_size=s.tick_size, lot_size=s.lot_size,
                                                close_px=s.reference_price) for s in SPECS}
        dispatcher = Dispatcher(RoutingPolicy.of({VENUE}, VENUE), [VenueEntry(self.venue)])
        self.app = ClientApplication(
            sessions=self.sessions, dispatcher=dispatcher,  # type: ignore[arg-type]
            vetter=Vetter(LimitsBook(Limits(max_order_qty=D(50000)))), writer=self.writer, accounts=self.accounts,
            instruments=instruments, entitlements=entitlements, ids=BrokerIds("T"), clock_ns=self._tick,
        )
        self.writer.on_committed = self.app.on_batch_committed

    def _tick(self) -> int:
        self.now += 1_000_000
        return self.now

    def close(self) -> None:
        self.writer.close()
        self.registry.close()
        self.journal.close()

    def settle(self) -> None:
        """Run the reactor turns the writer scheduled until every batch committed."""
        for _ in range(100):
            self.clock.advance(0)
            if self.writer.idle and not self.clock.getDelayedCalls():
                return
        raise AssertionError("the registry writer does not settle")

    def sent(self, session: int) -> list[FixMessage]:
        return self.sessions.sent.setdefault(self.sids[session], [])

    # ---- the checks ----------------------------------------------------------------------------

    def feed(self, inbound: Inbound) -> None:
        sid = self.sids[inbound.session]
        before = {s: len(self.sent(i)) for i, s in enumerate(self.sids)}
        try:
            self.app.from_app(inbound.message(), sid)
        except ANSWERED_BY_SESSION:
            answered_by_session = True
        else:
            answered_by_session = False
        self.settle()
        new = {s: self.sent(i)[before[s]:] for i, s in enumerate(self.sids)}
        if answered_by_session:
            assert not new[sid], f"{inbound!r}: rejected by the session and answered as well: {new[sid]}"
        else:
            check_answer(inbound, new[sid], sid.begin_string)
        for messages in new.values():
            for m in messages:
                if m.msg_type == "8" and m.get(150) in ("0", "A"):  # acknowledged: booked, and known
                    order_id = m.get(37) or ""
                    assert self.registry.order(order_id) is not None, f"{inbound!r}: ack of unbooked {order_id}"
                    assert self.app.store.get(order_id) is not None, f"{inbound!r}: ack of unknown {order_id}"
        self.check_invariants(inbound)

    def check_invariants(self, inbound: Inbound) -> None:
        what = repr(inbound)
        assert self.registry.check() == [], what
        self.venue.check_invariants()
        working = {g.order_id: g for g in self.app.store.working()}
        for g in working.values():
            assert g.pending is None, f"{what}: {g.order_id} still pending on a synchronous venue"
            assert g.order.status in (ClientOrderStatus.NEW, ClientOrderStatus.PARTIALLY_FILLED), what
            view = self.venue.order_status(g.owner, cl_ord_id=g.venue_cl_ord_id)
            assert view is not None and view.is_working, f"{what}: gateway order {g.order_id} not at the venue"
            assert view.leaves_qty == g.order.leaves_qty, f"{what}: {g.order_id} leaves {view} vs {g.order}"
            booked = self.registry.order(g.booking_id or "")
            assert booked is not None and booked.status.is_open, f"{what}: {g.order_id} booking {booked}"
        for view in self.venue.working_orders():
            known = self.app.store.by_venue_id(VENUE, view.cl_ord_id)
            assert known is not None and known.order_id in working, f"{what}: venue order {view} unknown to the gateway"
        for account in ACCOUNTS:
            state = self.accounts.state(account)
            assert state is not None
            cash = self.registry.balance(account, "USD")
            assert (state.cash_available, state.reserved) == (cash.amount, cash.held), f"{what}: {account} {state}"
            for spec in SPECS:
                held = self.registry.balance(account, Asset.instrument(spec.symbol)).held
                assert state.open_sells(spec.symbol) == held, f"{what}: {account} {spec.symbol} open sells"
                open_buys = sum((g.order.leaves_qty for g in working.values() if g.order.account == account
                                 and g.order.symbol == spec.symbol and g.order.side is v.Side.BUY), D(0))
                assert state.open_buys(spec.symbol) == open_buys, f"{what}: {account} {spec.symbol} open buys"


@pytest.fixture
def gateway(template: Path, tmp_path: Path) -> Iterator[Gateway]:
    gw = Gateway(tmp_path, template, ("FIX.4.4", "FIX.4.2", "FIXT.1.1"))
    yield gw
    gw.close()


_SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large,
                                                         HealthCheck.function_scoped_fixture]}


@settings(max_examples=120, **_SETTINGS)  # type: ignore[arg-type]
@given(begins=st.permutations(BEGIN_STRINGS),
       batch=sequences(TYPES, sessions=len(BEGIN_STRINGS), accounts=ACCOUNTS, order_ids=("T-1", "T-2", "T-3")))
def test_every_hostile_message_is_answered_and_the_books_balance(template: Path, begins: list[str],
                                                                 batch: list[Inbound]) -> None:
    with tempfile.TemporaryDirectory(prefix="fixgate-hostile-") as tmp:
        gw = Gateway(Path(tmp), template, begins)
        try:
            for inbound in batch:
                gw.feed(inbound)
        finally:
            gw.close()


@settings(max_examples=100, **_SETTINGS)  # type: ignore[arg-type]
@given(begin=st.sampled_from(BEGIN_STRINGS), batch=st.lists(numeric_orders(), min_size=1, max_size=6))
def test_numbers_of_any_size_are_booked_exactly_or_refused(template: Path, begin: str,
                                                           batch: list[Inbound]) -> None:
    with tempfile.TemporaryDirectory(prefix="fixgate-hostile-") as tmp:
        gw = Gateway(Path(tmp), template, [begin, *(b for b in BEGIN_STRINGS if b != begin)])
        try:
            for inbound in batch:
                gw.feed(inbound)
        finally:
            gw.close()


# ---- regressions ----------------------------------------------------------------------------------


def send(gw: Gateway, msg_type: str, *fields: tuple[int, str], session: int = 0) -> list[FixMessage]:
    """One message from a session; what the application sent back to it."""
    before = len(gw.sent(session))
    gw.app.from_app(FixMessage.new(msg_type, *fields), gw.sids[session])
    gw.settle()
    return gw.sent(session)[before:]


def new_order(cl: str, qty: str, price: str, side: str = "1", **extra: str) -> list[tuple[int, str]]:
    return [(11, cl), (38, qty), (40, "2"), (44, price), (54, side), (55, "IBM"), (60, T),
            *((int(k[1:]), x) for k, x in extra.items())]


@pytest.mark.parametrize(("qty", "price", "side", "reason", "text"), [
    ("1e30", "10", "1", None, None),  # not a FIX float: session Reject
    ("10", "1E+999999", "1", None, None),
    ("10", " 5", "2", None, None),
    ("5 ", "10", "2", None, None),
    ("1000000000000000000000000000000", "10", "1", "13", "amount range: quantity"),
    ("10", "1000000000000000000000000000000.5", "1", "99", "amount range: price"),
    ("10", "999999999999999999999", "2", "99", "amount range: price"),  # a sell: crashed in BookedOrder
    ("10", "1.00000000000000000000000000001", "1", "99", "amount range: price"),
    ("0.000000001", "10", "2", "13", "amount range: quantity"),
    ("10000000000", "10000000", "2", "3", "amount range: notional"),
])
def test_absurd_numbers_get_a_reject_not_an_exception(gateway: Gateway, qty: str, price: str, side: str,
                                                      reason: str | None, text: str | None) -> None:
    """decimal.InvalidOperation (DivisionImpossible in ``qty % lot``, quantize beyond 28 digits)
    escaped from_app, after the order was added to the gateway's store for the sell case."""
    fields = new_order("A1", qty, price, side)
    if reason is None:
        with pytest.raises(ANSWERED_BY_SESSION):
            gateway.app.from_app(FixMessage.new("D", *fields), gateway.sids[0])
        gateway.settle()
        assert gateway.sent(0) == []
    else:
        (report,) = send(gateway, "D", *fields)
        assert (report.get(150), report.get(39), report.get(103)) == ("8", "8", reason), report
        assert (report.get(58) or "").startswith(text or "")
    assert list(gateway.app.store.working()) == [] and gateway.registry.check() == []
    gateway.check_invariants(Inbound(0, "D", tuple(fields)))


def test_to_amount_refuses_numbers_beyond_the_context_precision() -> None:
    for value in ("1e30", "9" * 40, "-" + "9" * 40):
        with pytest.raises(InvalidAmount, match="too large"):
            to_amount(D(value))


def test_fee_of_a_huge_notional_is_computed() -> None:
    assert FeeSchedule(bps=D(5)).fee(D("1e30")) == D("5E+26")


def test_replace_asking_for_another_time_in_force_is_refused(gateway: Gateway) -> None:
    """The venue request of a replace carries no TimeInForce: the change was answered Replaced and dropped."""
    (ack,) = send(gateway, "D", *new_order("A1", "10", "10"))
    assert ack.get(150) == "0"
    (reject,) = send(gateway, "G", (11, "A2"), (41, "A1"), (38, "20"), (40, "2"), (44, "10"), (54, "1"),
                     (55, "IBM"), (59, "1"), (60, T))
    assert (reject.msg_type, reject.get(434), reject.get(102), reject.get(39), reject.get(58)) == (
        "9", "2", "99", "0", "replace: the time in force cannot be changed")
    (replaced,) = send(gateway, "G", (11, "A3"), (41, "A1"), (38, "20"), (40, "2"), (44, "10"), (54, "1"),
                       (55, "IBM"), (59, "0"), (60, T))
    assert (replaced.get(150), replaced.get(38), replaced.get(59)) == ("5", "20", "0")


def test_cancel_of_an_unknown_order_id_names_it(gateway: Gateway) -> None:
    (reject,) = send(gateway, "F", (11, "Z1"), (37, "T-99"), (54, "1"), (55, "IBM"), (60, T))
    assert (reject.msg_type, reject.get(102), reject.get(58)) == ("9", "1", "unknown OrderID 'T-99'")


def test_post_only_exec_inst_reaches_the_venue(gateway: Gateway) -> None:
    """ExecInst(18)=6 was dropped: a participate-don't-initiate order took liquidity."""
    (ack,) = send(gateway, "D", *new_order("S1", "10", "10", side="2"))
    assert ack.get(150) == "0"
    (reject,) = send(gateway, "D", *new_order("B1", "10", "10", side="1", t18="6"))
    assert (reject.get(150), reject.get(39), reject.get(58)) == ("8", "8", "INTERNAL: post-only order would take liquidity")
    (ack,) = send(gateway, "D", *new_order("B2", "10", "9.99", side="1", t18="G 6"))
    assert ack.get(150) == "0"
    assert gateway.registry.check() == []
