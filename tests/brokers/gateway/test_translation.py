"""Client FIX translation: parsing with session-level rejects, ER building per BeginString."""

from __future__ import annotations

from decimal import Decimal

import pytest

from brokers.client import translation as tr
from brokers.client_fix import Entitlement
from brokers.domain.orders import ClientOrder
from fix_engine.application import FieldNotFoundReject, IncorrectDataFormat, IncorrectTagValue
from fix_engine.codec.message import FixMessage
from venues.base import OrdType, Side, TimeInForce


def nos(*extra: tuple[int, object]) -> FixMessage:
    return FixMessage.new("D", (11, "A1"), (38, "100"), (40, "2"), (44, "10.25"), (54, "1"), (55, "IBM"), *extra)


def test_parse_new_order() -> None:
    parsed = tr.parse_new_order(nos((1, "ACC"), (59, "1"), (100, "XNYS")))
    assert parsed == tr.NewOrderInput("A1", "ACC", "IBM", Side.BUY, Decimal(100), OrdType.LIMIT, Decimal("10.25"),
                                      tif=TimeInForce.GTC, ex_destination="XNYS")


def test_missing_and_bad_fields_raise_session_rejects() -> None:
    with pytest.raises(FieldNotFoundReject) as missing:
        tr.parse_new_order(FixMessage.new("D", (11, "A1"), (40, "2"), (54, "1"), (55, "IBM")))
    assert missing.value.tag == 38
    with pytest.raises(IncorrectTagValue):
        tr.parse_new_order(nos((59, "Z")))
    with pytest.raises(IncorrectDataFormat):
        tr.parse_new_order(FixMessage.new("D", (11, "A1"), (38, "abc"), (40, "2"), (54, "1"), (55, "IBM")))


def test_cancel_needs_orig_or_order_id() -> None:
    with pytest.raises(FieldNotFoundReject):
        tr.parse_cancel(FixMessage.new("F", (11, "C1"), (55, "IBM")))
    assert tr.parse_cancel(FixMessage.new("F", (11, "C1"), (37, "O-1"))).order_id == "O-1"


def _order() -> ClientOrder:
    o = ClientOrder("O-1", "A1", "s", "ACC", "IBM", Side.BUY, OrdType.LIMIT, Decimal(100), Decimal("10.25"))
    o.on_ack()
    o.on_fill(Decimal(40), Decimal("10.25"))
    return o


def test_execution_report_fix44_and_fix42() -> None:
    o = _order()
    er = tr.execution_report("FIX.4.4", o, exec_id="X1", exec_type="F", transact_ns=0, last_qty=Decimal(40),
                             last_px=Decimal("10.25"))
    assert [er.get(t) for t in (37, 11, 17, 39, 150, 14, 151, 6, 31, 32)] == \
        ["O-1", "A1", "X1", "1", "F", "40", "60", "10.25", "10.25", "40"]
    assert 20 not in er
    er42 = tr.execution_report("FIX.4.2", o, exec_id="X1", exec_type="F", transact_ns=0)
    assert (er42.get(150), er42.get(20)) == ("1", "0")
    status42 = tr.execution_report("FIX.4.2", o, exec_id="X2", exec_type="I", transact_ns=0)
    assert (status42.get(150), status42.get(20)) == ("1", "3")


def test_entitlement() -> None:
    ent = Entitlement(frozenset({"DEMO1", "DEMO2"}), "DEMO1")
    assert ent.resolve(None) == ("DEMO1", "")
    assert ent.resolve("DEMO2") == ("DEMO2", "")
    account, text = ent.resolve("OTHER")
    assert account is None and "not entitled to account 'OTHER'" in text
    assert Entitlement(frozenset({"A", "B"})).resolve(None)[0] is None
    assert Entitlement(frozenset({"A"})).resolve(None) == ("A", "")

def test_parse_errors_name_the_tag_and_value() -> None:
    base = [(11, "A1"), (38, "100"), (40, "2"), (44, "10"), (54, "1"), (55, "IBM")]
    cases = [
        ([f for f in base if f[0] != 40], FieldNotFoundReject, 40, "required tag 40 missing"),
        ([f for f in base if f[0] != 11], FieldNotFoundReject, 11, "required tag 11 missing"),
        ([f for f in base if f[0] != 55], FieldNotFoundReject, 55, "required tag 55 missing"),
        ([f for f in base if f[0] != 54], FieldNotFoundReject, 54, "required tag 54 missing"),
        ([*base, (54, "9")][:4] + [(54, "9"), (55, "IBM")], IncorrectTagValue, 54, "unsupported value '9' for tag 54"),
        ([*base[:3], (44, "NaN"), *base[4:]], IncorrectDataFormat, 44, "'NaN' is not a number"),
        ([*base, (99, "1e")], IncorrectDataFormat, 99, "'1e' is not a number"),
        ([*base, (110, "Infinity")], IncorrectDataFormat, 110, "'Infinity' is not a number"),
    ]
    for fields, error, tag, text in cases:
        with pytest.raises(error) as info:
            tr.parse_new_order(FixMessage.new("D", *fields))
        assert (info.value.tag, str(info.value)) == (tag, text), fields


def test_parse_reads_the_same_values_again() -> None:
    first = tr.parse_new_order(nos((110, "5"), (1138, "20")))
    again = tr.parse_new_order(nos((110, "5"), (1138, "20")))
    assert first == again and (first.min_qty, first.display_qty) == (Decimal(5), Decimal(20))
    assert tr.parse_new_order(nos((111, "30"))).display_qty == Decimal(30)


def test_fill_report_carries_a_commission_when_charged() -> None:
    o = _order()
    er = tr.execution_report("FIX.4.4", o, exec_id="X1", exec_type="F", transact_ns=0, last_qty=Decimal(40),
                             last_px=Decimal("10.25"), commission=Decimal("1.25"))
    assert (er.get(12), er.get(13)) == ("1.25", "3")
    free = tr.execution_report("FIX.4.4", o, exec_id="X2", exec_type="F", transact_ns=0, last_qty=Decimal(40),
                               last_px=Decimal("10.25"), commission=Decimal(0))
    assert 12 not in free and 13 not in free


def test_execution_report_fields_are_bytes_in_a_stable_layout() -> None:
    o = _order()
    er = tr.execution_report("FIX.4.4", o, exec_id="X1", exec_type="0", transact_ns=1_700_000_000_123_000_000,
                             orig_cl_ord_id="A0", text="hi", extra=[(584, "M1"), (911, 3)])
    assert all(type(value) is bytes for _, value in er.fields)
    assert [tag for tag, _ in er.fields] == [35, 1, 6, 11, 14, 17, 37, 38, 39, 40, 54, 55, 59, 60, 150, 151,
                                             41, 44, 58, 584, 911]
    assert er.get(60) == "20231114-22:13:20.123" and er.get(911) == "3"


def test_static_fields_give_the_same_report() -> None:
    o = _order()
    plain = tr.execution_report("FIX.4.4", o, exec_id="X1", exec_type="F", transact_ns=5)
    cached = tr.execution_report("FIX.4.4", o, exec_id="X1", exec_type="F", transact_ns=5, static=tr.static_fields(o))
    assert plain.fields == cached.fields
    assert tr.static_fields(o) == (b"ACC", b"O-1", b"2", b"1", b"IBM", b"0")
