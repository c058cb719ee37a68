"""FixExchange on a real InternalVenue with fake sessions: exact tags per message and version."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fakes import Rig  # noqa: E402

from fix_engine.application import FieldNotFoundReject, UnsupportedMessageType  # noqa: E402
from fix_engine.codec.message import FixMessage  # noqa: E402

T = "20260101-10:00:00.000"


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path)


def body(msg: FixMessage, drop: tuple[int, ...] = (60,)) -> dict[int, str]:
    return {t: v.decode() for t, v in msg.iter_flat() if t not in drop}


def all_of(msg: FixMessage, tag: int) -> list[str]:
    return [v.decode() for t, v in msg.iter_flat() if t == tag]


def md_request(req_id: str, sub: str = "1", depth: str = "0", types: str = "0127", symbols: tuple[str, ...] = ("IBM",)) -> FixMessage:
    msg = FixMessage.new("V", (262, req_id), (263, sub), (264, depth))
    msg.add_group(267, [[(269, t)] for t in types])
    return msg.add_group(146, [[(55, s)] for s in symbols])


def test_new_order_ack_fix44_exact_tags(rig: Rig) -> None:
    a = rig.session("A")
    rig.order(a, "A1", "1", "100", "10.5", t1="ACC1")
    (ack,) = a.sent
    assert body(ack) == {35: "8", 1: "ACC1", 6: "0", 11: "A1", 14: "0", 17: ack.get(17), 37: ack.get(37), 38: "100",
                         39: "0", 40: "2", 44: "10.5", 54: "1", 55: "IBM", 59: "0", 150: "0", 151: "100"}


@pytest.mark.parametrize(("begin", "partial_exec_type", "fill_exec_type", "has_851", "has_880", "has_20"), [
    ("FIX.4.2", "1", "2", False, False, True),
    ("FIX.4.4", "F", "F", True, False, False),
    ("FIXT.1.1", "F", "F", True, True, False),
])
def test_partial_fill_and_fill_per_version(rig: Rig, begin: str, partial_exec_type: str, fill_exec_type: str,
                                           has_851: bool, has_880: bool, has_20: bool) -> None:
    maker = rig.session("M", begin)
    taker = rig.session("T", "FIX.4.4")
    rig.order(maker, "M1", "1", "100", "10.5")
    rig.order(taker, "T1", "2", "40", "10.5")
    rig.order(taker, "T2", "2", "60", "10.4")
    ack, partial, fill = maker.sent
    assert (partial.get(150), partial.get(39), partial.get(14), partial.get(151), partial.get(32), partial.get(31),
            partial.get(6)) == (partial_exec_type, "1", "40", "60", "40", "10.5", "10.5")
    assert (fill.get(150), fill.get(39), fill.get(14), fill.get(151), fill.get(32)) == (fill_exec_type, "2", "100", "0", "60")
    assert (851 in fill) is has_851 and (880 in fill) is has_880 and (20 in fill) is has_20
    if has_851:
        assert fill.get(851) == "1"  # the maker added liquidity
        assert taker.of_type("8")[-1].get(851) == "2"
    if has_20:
        assert fill.get(20) == "0"
    # ExecIDs unique, OrderID stable
    ids = [m.get(17) for m in (*maker.sent, *taker.sent)]
    assert len(set(ids)) == len(ids)
    assert {m.get(37) for m in maker.sent} == {ack.get(37)}


def test_trd_match_id_shared_by_both_sides_in_fix50(rig: Rig) -> None:
    a, b = rig.session("A", "FIXT.1.1"), rig.session("B", "FIXT.1.1")
    rig.order(a, "A1", "1", "10", "10")
    rig.order(b, "B1", "2", "10", "10")
    assert a.sent[-1].get(880) == b.sent[-1].get(880) is not None


def test_cancel_replace_and_other_session_cannot_cancel(rig: Rig) -> None:
    a, b = rig.session("A"), rig.session("B")
    rig.order(a, "A1", "1", "100", "10.5")
    order_id = a.sent[0].get(37)
    rig.send(b, "F", (11, "B9"), (37, order_id), (41, "A1"), (54, "1"), (55, "IBM"), (60, T))
    (reject,) = b.sent
    assert body(reject) == {35: "9", 11: "B9", 37: reject.get(37), 39: reject.get(39), 41: "A1", 58: reject.get(58),
                            102: "1", 434: "1"}
    rig.send(a, "G", (11, "A2"), (41, "A1"), (38, "50"), (40, "2"), (44, "10.6"), (54, "1"), (55, "IBM"), (60, T))
    replaced = a.sent[-1]
    assert (replaced.get(150), replaced.get(39), replaced.get(11), replaced.get(41), replaced.get(38), replaced.get(44),
            replaced.get(151), replaced.get(37)) == ("5", "0", "A2", "A1", "50", "10.6", "50", order_id)
    rig.send(a, "F", (11, "A3"), (41, "A2"), (54, "1"), (55, "IBM"), (60, T))
    cancelled = a.sent[-1]
    assert (cancelled.get(150), cancelled.get(39), cancelled.get(11), cancelled.get(41), cancelled.get(151)) == ("4", "4", "A3", "A2", "0")
    rig.send(a, "G", (11, "A4"), (41, "A3"), (38, "50"), (40, "2"), (44, "10.6"), (54, "1"), (55, "IBM"), (60, T))
    assert (a.sent[-1].msg_type, a.sent[-1].get(434), a.sent[-1].get(102)) == ("9", "2", "1")


def test_duplicate_cl_ord_id_and_unknown_symbol_are_rejected(rig: Rig) -> None:
    a, b = rig.session("A"), rig.session("B")
    rig.order(a, "A1", "1", "100", "10.5")
    rig.order(a, "A1", "1", "100", "10.5")
    rig.order(b, "A1", "1", "100", "10.5")  # another session may use the same ClOrdID
    dup = a.sent[-1]
    assert (dup.get(150), dup.get(39), dup.get(103), dup.get(37)) == ("8", "8", "6", "NONE")
    assert b.sent[-1].get(150) == "0"
    rig.order(a, "A2", "1", "1", "1", symbol="NOPE")
    assert (a.sent[-1].get(39), a.sent[-1].get(103), a.sent[-1].get(58) is not None) == ("8", "1", True)
    rig.order(a, "A3", "1", "1", "1", ord_type="P")
    assert (a.sent[-1].get(39), a.sent[-1].get(103)) == ("8", "11")


def test_fix42_reject_reason_outside_its_enumeration(rig: Rig) -> None:
    c = rig.session("C", "FIX.4.2")
    rig.order(c, "C1", "1", "100", "10.503")  # off the tick grid
    rej = c.sent[-1]
    assert rej.get(39) == "8" and int(rej.get(103)) <= 8 and rej.get(20) == "0"


def test_missing_required_tag_raises_typed_error(rig: Rig) -> None:
    a = rig.session("A")
    with pytest.raises(FieldNotFoundReject) as info:
        rig.send(a, "D", (11, "A1"), (40, "2"), (54, "1"), (55, "IBM"), (60, T))
    assert info.value.tag == 38
    with pytest.raises(UnsupportedMessageType):
        rig.send(a, "B", (148, "news"))


def test_order_status_and_mass_status(rig: Rig) -> None:
    a, c = rig.session("A"), rig.session("C", "FIX.4.2")
    rig.order(a, "A1", "1", "100", "10.5")
    rig.order(a, "A2", "2", "5", "11", symbol="AAPL")
    rig.send(a, "H", (11, "A1"), (54, "1"), (55, "IBM"))
    status = a.sent[-1]
    assert (status.get(150), status.get(39), status.get(11), status.get(151), status.get(38)) == ("I", "0", "A1", "100", "100")
    rig.send(a, "H", (11, "ZZ"), (54, "1"), (55, "IBM"))
    assert (a.sent[-1].get(150), a.sent[-1].get(39), a.sent[-1].get(37)) == ("I", "8", "NONE")
    rig.order(c, "C1", "1", "7", "10")
    rig.send(c, "H", (11, "C1"), (54, "1"), (55, "IBM"))
    assert (c.sent[-1].get(20), c.sent[-1].get(150), c.sent[-1].get(39)) == ("3", "0", "0")
    n = len(a.sent)
    rig.send(a, "AF", (584, "MS1"), (585, "7"))
    reports = a.sent[n:]
    assert [r.get(11) for r in reports] == ["A1", "A2"]
    assert [r.get(912) for r in reports] == [None, "Y"] and {r.get(584) for r in reports} == {"MS1"}


def test_mass_cancel_by_symbol_and_all(rig: Rig) -> None:
    a, b = rig.session("A"), rig.session("B")
    rig.order(a, "A1", "1", "1", "10")
    rig.order(a, "A2", "1", "1", "10", symbol="AAPL")
    rig.order(a, "A3", "1", "1", "10", symbol="AAPL")
    rig.order(b, "B1", "1", "1", "10", symbol="AAPL")
    rig.send(a, "q", (11, "MC1"), (530, "1"), (55, "AAPL"), (60, T))
    report = a.of_type("r")[-1]
    assert body(report) == {35: "r", 11: "MC1", 37: "MC1", 55: "AAPL", 530: "1", 531: "1", 533: "2"}
    assert [m.get(41) for m in a.sent if m.get(150) == "4"] == [None, None]
    rig.send(a, "q", (11, "MC2"), (530, "7"), (60, T))
    assert a.of_type("r")[-1].get(533) == "1"
    assert b.sent[-1].get(150) == "0"  # B's order untouched
    rig.send(a, "q", (11, "MC3"), (530, "3"), (60, T))
    assert (a.of_type("r")[-1].get(531), a.of_type("r")[-1].get(532)) == ("0", "99")


def test_security_list_and_definition(rig: Rig) -> None:
    a, f = rig.session("A"), rig.session("F", "FIXT.1.1")
    rig.send(a, "x", (320, "S1"), (559, "4"))
    y = a.sent[-1]
    assert y.msg_type == "y" and y.get(560) == "0" and all_of(y, 55) == ["AAPL", "MSFT", "IBM"]
    rig.send(f, "x", (320, "S2"), (559, "0"), (55, "IBM"))
    assert all_of(f.sent[-1], 969) == ["0.01"]
    rig.send(a, "x", (320, "S3"), (559, "0"), (55, "NOPE"))
    assert a.sent[-1].get(560) == "2"
    rig.send(a, "c", (320, "D1"), (321, "3"), (55, "MSFT"))
    assert (a.sent[-1].msg_type, a.sent[-1].get(323)) == ("d", "1")


def test_market_data_snapshot_then_incrementals(rig: Rig) -> None:
    a, m = rig.session("A"), rig.session("M")
    rig.order(a, "A1", "1", "100", "10.5")
    rig.order(a, "A2", "1", "50", "10.4")
    rig.exchange.from_app(md_request("MD1", types="0127B"), m.session_id)
    (snapshot,) = m.sent
    entries = snapshot.groups(268, {269, 270, 271, 346, 290})
    assert snapshot.msg_type == "W" and snapshot.get(262) == "MD1" and snapshot.get(55) == "IBM"
    assert [(e.get(269), e.get(270), e.get(271), e.get(290)) for e in entries] == [("0", "10.5", "100", "1"), ("0", "10.4", "50", "2")]
    b = rig.session("B")
    rig.order(b, "B1", "2", "100", "10.5")
    (x,) = m.of_type("X")
    entries = x.groups(268, {279, 269, 55, 270, 271, 346, 290})
    got = [(e.get(279), e.get(269), e.get(270), e.get(271)) for e in entries]
    assert ("2", "0", "10.5", "100") in got  # level gone
    assert ("0", "2", "10.5", "100") in got  # the trade
    assert ("0", "7", "10.5", None) in got and ("0", "B", None, "100") in got
    assert x.get(262) == "MD1"


def test_market_data_depth_one_and_rejects(rig: Rig) -> None:
    a, m = rig.session("A"), rig.session("M", "FIX.4.2")
    rig.exchange.from_app(md_request("D1", depth="1", types="01"), m.session_id)
    rig.order(a, "A1", "1", "100", "10.5")
    rig.order(a, "A2", "1", "100", "10.6")  # better bid: 10.5 leaves the top
    xs = m.of_type("X")
    last = [(e.get(279), e.get(270), e.get(290)) for e in xs[-1].groups(268, {279, 269, 55, 270, 271, 346, 290})]
    assert last == [("2", "10.5", "1"), ("0", "10.6", "1")]
    rig.exchange.from_app(md_request("D1", depth="1", types="01"), m.session_id)
    assert (m.sent[-1].msg_type, m.sent[-1].get(281)) == ("Y", "1")
    rig.exchange.from_app(md_request("D2", symbols=("NOPE",)), m.session_id)
    assert (m.sent[-1].msg_type, m.sent[-1].get(281)) == ("Y", "0")
    rig.exchange.from_app(md_request("D1", sub="2"), m.session_id)
    n = len(m.sent)
    rig.order(a, "A3", "1", "100", "10.7")
    assert len(m.sent) == n  # unsubscribed


def test_slow_subscriber_is_conflated(rig: Rig) -> None:
    a, m = rig.session("A"), rig.session("M")
    rig.exchange.from_app(md_request("C1", types="01"), m.session_id)
    m.protocol._paused = True
    for i in range(50):
        rig.order(a, f"A{i}", "1", "1", "10.5")
    assert not m.of_type("X") and rig.exchange.market_data.conflations >= 1
    m.protocol._paused = False
    rig.clock.advance(0.1)
    (x,) = m.of_type("X")
    assert [(e.get(279), e.get(270), e.get(271), e.get(346)) for e in x.groups(268, {279, 269, 55, 270, 271, 346, 290})] == [
        ("0", "10.5", "50", "50")]


def test_security_status_on_halt_and_resume(rig: Rig) -> None:
    m, c = rig.session("M"), rig.session("C", "FIX.4.2")
    rig.exchange.from_app(md_request("H1", types="0"), m.session_id)
    rig.exchange.from_app(md_request("H2", types="0"), c.session_id)
    rig.venue.halt("IBM", "operator")
    rig.venue.resume("IBM")
    statuses = m.of_type("f")
    assert [s.get(326) for s in statuses][0] == "2" and statuses[-1].get(326) == "17"
    assert statuses[0].get(324) == "H1" and statuses[0].get(625) == "7"
    assert c.of_type("f")[0].get(625) is None


def test_cancel_on_disconnect(rig: Rig) -> None:
    a = rig.session("A", "FIXT.1.1", CancelOnDisconnect="Y")
    k = rig.session("K", "FIX.4.4", CancelOnDisconnect="Y", CancelOnDisconnectScope="all")
    n = rig.session("N")
    rig.order(a, "A1", "1", "1", "10")
    rig.order(a, "A2", "1", "1", "10", t59="1")  # GTC survives scope=day
    rig.order(k, "K1", "1", "1", "10", t59="1")
    rig.order(n, "N1", "1", "1", "10")
    for host in (a, k, n):
        rig.exchange.on_logout(host.session_id)
    cancelled = [m for m in a.sent if m.get(150) == "4"]
    assert [(m.get(11), m.get(378)) for m in cancelled] == [("A1", "12")]
    assert [(m.get(11), m.get(378)) for m in k.sent if m.get(150) == "4"] == [("K1", None)]  # 4.4 has no 12
    assert not [m for m in n.sent if m.get(150) == "4"]


def test_market_data_levels_are_computed_from_the_first_request_on(rig: Rig) -> None:
    """The venue computes level diffs of a book only once someone asked for it; the first X after
    the request still carries the whole level (orders entered before the request included)."""
    a, m = rig.session("A"), rig.session("M")
    rig.order(a, "A1", "1", "100", "10.5")
    rig.order(a, "A2", "1", "70", "10.4", symbol="MSFT")  # a book nobody asks for
    rig.exchange.from_app(md_request("MD1", types="01"), m.session_id)
    rig.order(a, "A3", "1", "50", "10.5")
    (x,) = m.of_type("X")
    entries = x.groups(268, {279, 269, 55, 270, 271, 346, 290})
    assert [(e.get(279), e.get(269), e.get(270), e.get(271)) for e in entries] == [("1", "0", "10.5", "150")]
    rig.order(a, "A4", "2", "70", "10.4", symbol="MSFT")  # trades on MSFT: nothing for an IBM subscriber
    assert len(m.of_type("X")) == 1
    rig.venue.check_invariants()


def test_group_commit_sends_each_sessions_reports_as_one_group(tmp_path: Path) -> None:
    from fakes import FakeRegistry

    from venues.internal.fix_exchange import FixExchange
    from venues.internal.journal import FileJournal
    from venues.internal.reference_data import DEMO_INSTRUMENTS
    from venues.internal.venue import InternalVenue

    rig = Rig(tmp_path)
    rig.journal.close()
    rig.journal = FileJournal(tmp_path / "gc.journal")
    rig.venue = InternalVenue("TEST", DEMO_INSTRUMENTS, rig.journal, rig.now_ns, group_commit=True)
    rig.registry = FakeRegistry()
    rig.exchange = FixExchange(rig.venue, rig.registry, rig.clock)
    buyer, seller = rig.session("BUYER"), rig.session("SELLER")
    for n in range(3):
        rig.exchange.from_app(FixMessage.new("D", (11, f"B{n}"), (38, "10"), (40, "2"), (54, "1"), (55, "IBM"),
                                             (44, "100"), (60, "20260101-10:00:00.000")), buyer.session_id)
    rig.exchange.from_app(FixMessage.new("D", (11, "S1"), (38, "30"), (40, "2"), (54, "2"), (55, "IBM"),
                                         (44, "100"), (60, "20260101-10:00:00.000")), seller.session_id)
    assert buyer.sent == [] and seller.sent == []  # held until the journal commits
    rig.clock.advance(0)
    assert [m.get(150) for m in buyer.sent] == ["0", "0", "0", "F", "F", "F"]
    assert [m.get(150) for m in seller.sent] == ["0", "F", "F", "F"]
    assert buyer.groups == [(0, 6)] and seller.groups == [(0, 4)]  # one group per session per commit


def test_on_destroy_forgets_a_refused_templated_session(rig: Rig) -> None:
    """A templated session released after a refused Logon leaves nothing in the exchange's maps."""
    from fix_engine.session.session_id import SessionID

    kept = rig.session("KEPT")
    sizes = (len(rig.exchange._sessions), len(rig.exchange._versions), len(rig.exchange._routes),
             len(rig.exchange._inbound))
    for i in range(50):
        sid = SessionID("FIX.4.4", "FIXGATE", f"SPRAY{i}")
        rig.exchange.on_create(sid)
        rig.exchange.on_destroy(SessionID("FIX.4.4", "FIXGATE", f"SPRAY{i}"))  # an equal, not identical, id
    assert (len(rig.exchange._sessions), len(rig.exchange._versions), len(rig.exchange._routes),
            len(rig.exchange._inbound)) == sizes
    rig.order(kept, "K1", "1", "10", "100.00")
    assert kept.of_type("8")[-1].get(150) == "0"
