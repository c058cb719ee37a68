"""Hostile application messages to the venue's FIX front (FixExchange on a real InternalVenue).

Property: whatever the field values (see ``tests/hostile_messages.py``), on FIX.4.2, FIX.4.4 and
FIXT.1.1 sessions, ``from_app`` either raises an error the session answers (Reject /
BusinessMessageReject) or sends the answer the message type needs (ExecutionReport, 35=9 with
CxlRejReason, 35=r, 35=W/Y, 35=y, 35=d); the books stay consistent (``check_invariants``) and
every order acknowledged is known to the venue.  Focused regression tests follow.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.append(str(Path(__file__).resolve().parents[2]))  # tests/: hostile_messages

from fakes import FakeHost, Rig  # noqa: E402
from hostile_messages import (  # noqa: E402
    ANSWERED_BY_SESSION,
    BEGIN_STRINGS,
    Inbound,
    check_answer,
    numeric_orders,
    sequences,
)

from fix_engine.codec.message import FixMessage  # noqa: E402
from venues.base import TradingPhase  # noqa: E402
from venues.internal.matching import Instrument  # noqa: E402
from venues.internal.matching.instrument import OffGridError  # noqa: E402
from venues.internal.reference_data import InstrumentSpec  # noqa: E402

D = Decimal
T = "20260101-10:00:00.000"
#: lot 100, tick 0.05, min 100 / max 100000, a 10 % price band: the grid checks get exercised
LOT = InstrumentSpec("LOT", D("0.05"), D(100), min_qty=D(100), max_qty=D(100000), price_band_pct=D(10),
                     reference_price=D("100.00"))
TYPES = ("D", "F", "G", "H", "q", "AF", "V", "x", "c")


def make_rig(tmp: Path, begins: Sequence[str] = BEGIN_STRINGS) -> tuple[Rig, list[FakeHost]]:
    rig = Rig(tmp)
    rig.venue.add_instrument(LOT)
    hosts = [rig.session(f"S{i}", begin) for i, begin in enumerate(begins)]
    return rig, hosts


def feed(rig: Rig, hosts: list[FakeHost], inbound: Inbound) -> None:
    """One message in; the checks of the module docstring."""
    host = hosts[inbound.session]
    before = {id(h): len(h.sent) for h in hosts}
    try:
        rig.exchange.from_app(inbound.message(), host.session_id)
    except ANSWERED_BY_SESSION:
        answered_by_session = True
    else:
        answered_by_session = False
    rig.clock.advance(0)  # market data flushes once per reactor turn
    sent = host.sent[before[id(host)]:]
    if not answered_by_session:
        silent = inbound.msg_type == "V" and inbound.get(263) == "2"  # an unsubscribe has no answer
        check_answer(inbound, sent, host.session_id.begin_string, silent_ok=silent)
    rig.venue.check_invariants()
    for h in hosts:  # every order acknowledged (to anyone) is known to the venue
        for m in h.sent[before[id(h)]:]:
            if m.msg_type == "8" and m.get(150) == "0":
                view = rig.venue.order_status(str(h.session_id), order_id=m.get(37))
                assert view is not None, f"{inbound!r}: acknowledged order {m.get(37)} unknown to the venue"
                assert view.qty == D(m.get(38) or "NaN"), f"{inbound!r}: ack says {m.get(38)}, the venue holds {view.qty}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.permutations(BEGIN_STRINGS), sequences(TYPES, sessions=len(BEGIN_STRINGS)))
def test_every_hostile_message_is_answered_and_the_books_hold(begins: list[str], batch: list[Inbound]) -> None:
    with tempfile.TemporaryDirectory(prefix="fixgate-hostile-") as tmp:
        rig, hosts = make_rig(Path(tmp), begins)
        for inbound in batch:
            feed(rig, hosts, inbound)
        rig.journal.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(BEGIN_STRINGS), st.lists(numeric_orders(), min_size=1, max_size=6))
def test_numbers_of_any_size_are_taken_exactly_or_refused(begin: str, batch: list[Inbound]) -> None:
    """Prices and quantities are acknowledged (and booked) exactly as sent, or the order is refused."""
    with tempfile.TemporaryDirectory(prefix="fixgate-hostile-") as tmp:
        rig, hosts = make_rig(Path(tmp), [begin])
        for inbound in batch:
            feed(rig, hosts, inbound)
        rig.journal.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(sequences(("D", "F", "G", "q"), sessions=len(BEGIN_STRINGS), max_size=10))
def test_journal_replay_reproduces_the_venue_after_hostile_orders(batch: list[Inbound]) -> None:
    """Whatever hostile orders were journaled, a restart replays them into the same state."""
    from venues.internal.journal import FileJournal
    from venues.internal.venue import InternalVenue

    with tempfile.TemporaryDirectory(prefix="fixgate-hostile-") as tmp:
        rig, hosts = make_rig(Path(tmp))
        for inbound in batch:
            feed(rig, hosts, inbound)
        state = rig.venue.state_hash()
        rig.journal.close()
        journal = FileJournal(Path(tmp) / "venue.journal")
        replayed = InternalVenue.recover("TEST", journal, rig.now_ns)
        assert replayed.state_hash() == state
        journal.close()


# ---- regressions ----------------------------------------------------------------------------------


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path)


@pytest.mark.parametrize(("price", "qty"), [
    ("1.00000000000000000000000000001", "10"),  # 30 digits: the division rounded it onto the grid
    ("99999999999999999999999999999.99", "10"),  # and this one to 1E+29
    ("10", "10.00000000000000000000000000001"),
    ("1000000000000000000000000000000", "10"),  # beyond 2**62 ticks
])
def test_prices_and_quantities_with_more_digits_than_the_context_are_not_rounded(rig: Rig, price: str,
                                                                                 qty: str) -> None:
    a = rig.session("A")
    rig.order(a, "A1", "2", qty, price)
    (report,) = a.sent
    assert (report.get(150), report.get(39)) == ("8", "8"), report
    assert report.get(103) in ("13", "99") and report.get(58)
    assert rig.venue.working_orders() == []


def test_instrument_conversions_are_exact() -> None:
    inst = Instrument("X", D("0.01"))
    assert inst.price_to_ticks(D("123.45")) == 12345
    assert inst.qty_to_lots(D("7")) == 7
    for price in ("1.00000000000000000000000000001", "99999999999999999999999999999.99", "1" + "0" * 30):
        with pytest.raises(OffGridError):
            inst.price_to_ticks(D(price))
    for qty in ("10.00000000000000000000000000001", "1" + "0" * 30):
        with pytest.raises(OffGridError):
            inst.qty_to_lots(D(qty))


@pytest.mark.parametrize(("tag", "value", "text"), [
    (110, "-5", "minimum quantity not a positive number of lots"),
    (110, "0.5", "minimum quantity not a positive number of lots"),
    (111, "-5", "display quantity not a positive number of lots"),
    (110, "500", "minimum quantity above quantity"),
])
def test_bad_min_qty_and_max_floor_are_named_in_the_reject(rig: Rig, tag: int, value: str, text: str) -> None:
    a = rig.session("A")
    rig.order(a, "A1", "1", "100", "10", **{f"t{tag}": value})
    (report,) = a.sent
    assert (report.get(39), report.get(103), report.get(58)) == ("8", "13", text)


def test_replace_of_an_order_in_a_closed_instrument_and_unknown_ids(rig: Rig) -> None:
    a = rig.session("A", "FIX.4.2")
    rig.order(a, "A1", "1", "100", "10")
    rig.venue.set_phase("IBM", TradingPhase.CLOSED)
    for msg_type, fields in (("G", [(11, "A2"), (41, "A1"), (38, "50"), (40, "2"), (44, "10"), (54, "1")]),
                             ("F", [(11, "A3"), (37, "99999999999999999999999"), (54, "1")]),
                             ("F", [(11, "A4"), (37, "-1"), (41, "ZZ"), (54, "1")])):
        before = len(a.sent)
        rig.exchange.from_app(FixMessage.new(msg_type, *fields, (55, "IBM"), (60, T)), a.session_id)
        (reject,) = a.sent[before:]
        assert reject.msg_type == "9" and reject.get(102) is not None and reject.get(58)


@pytest.mark.parametrize(("change", "text"), [
    ((40, "1"), "OrdType(40) cannot change on a replace (order has 2, request 1)"),
    ((59, "1"), "TimeInForce(59) cannot change on a replace (order has 0, request 1)"),
])
def test_replace_asking_for_another_order_type_or_tif_is_refused(rig: Rig, change: tuple[int, str],
                                                                 text: str) -> None:
    """It was answered Replaced while the venue kept the order type and time in force."""
    a = rig.session("A")
    rig.order(a, "A1", "1", "100", "10")
    fields = dict([(11, "A2"), (41, "A1"), (38, "50"), (40, "2"), (44, "10.5"), (54, "1"), (55, "IBM"), (60, T)])
    fields[change[0]] = change[1]
    rig.send(a, "G", *fields.items())
    reject = a.sent[-1]
    assert (reject.msg_type, reject.get(434), reject.get(102), reject.get(58)) == ("9", "2", "99", text)
    assert (reject.get(39), reject.get(37)) == ("0", a.sent[0].get(37))  # the order works on, unchanged
    (view,) = rig.venue.working_orders()
    assert (view.cl_ord_id, view.qty, view.price) == ("A1", D(100), D(10))


def test_refused_replace_of_a_live_order_carries_its_status_and_order_id(rig: Rig) -> None:
    """Named by OrigClOrdID only, the refused replace was reported with OrdStatus 8 and OrderID NONE."""
    a = rig.session("A")
    rig.order(a, "A1", "1", "100", "10")
    rig.send(a, "G", (11, "A2"), (41, "A1"), (38, "50"), (40, "2"), (44, "10"), (54, "2"), (55, "IBM"), (60, T))
    reject = a.sent[-1]
    assert (reject.msg_type, reject.get(58), reject.get(39), reject.get(37)) == (
        "9", "side cannot change", "0", a.sent[0].get(37))


@pytest.mark.parametrize(("ord_type", "fields", "text"), [
    ("2", [], "limit order without a price"),
    ("4", [(44, "10")], "stop order without a stop price"),
    ("3", [], "stop order without a stop price"),
])
def test_missing_prices_are_named_in_the_reject(rig: Rig, ord_type: str, fields: list[tuple[int, str]],
                                                text: str) -> None:
    a = rig.session("A")
    rig.send(a, "D", (11, "A1"), (38, "10"), (40, ord_type), (54, "1"), (55, "IBM"), (60, T), *fields)
    (report,) = a.sent
    assert (report.get(39), report.get(58)) == ("8", text)
