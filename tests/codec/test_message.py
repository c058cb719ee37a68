"""FixMessage: typed accessors, value conversion, the tag index, set/append/remove, groups."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fix_engine.codec import FieldNotFound, FieldValueError, FixMessage, RepeatingGroup
from fix_engine.codec.message import (
    format_decimal,
    format_epoch_timestamp,
    format_utc_timestamp,
    parse_utc_timestamp,
    to_fix_bytes,
)

UTC = dt.UTC


def msg(*fields: tuple[int, bytes]) -> FixMessage:
    return FixMessage(list(fields))


def test_get_int() -> None:
    m = msg((34, b"42"), (1, b"-7"), (2, b"4a"), (3, b"+4"), (4, b" 4"), (5, b"1_0"), (6, b"9" * 5000), (7, b""))
    assert m.get_int(34) == 42
    assert m.get_int(1) == -7
    for tag in (2, 3, 4, 5, 6, 7):
        with pytest.raises(FieldValueError):
            m.get_int(tag)
    with pytest.raises(FieldNotFound):
        m.get_int(99)
    assert m.get_int(99, 0) == 0


@pytest.mark.parametrize("text, value", [(b"100.5", "100.5"), (b"-0.25", "-0.25"), (b"3", "3"), (b".5", "0.5"), (b"5.", "5"), (b"007", "7")])
def test_get_decimal(text: bytes, value: str) -> None:
    assert msg((44, text)).get_decimal(44) == Decimal(value)


@pytest.mark.parametrize("text", [b"1e5", b"1E5", b"+1", b"1.2.3", b"--1", b"-", b".", b"", b"NaN", b"Infinity", b"1,5", b" 1"])
def test_get_decimal_rejects_non_fix_floats(text: bytes) -> None:
    with pytest.raises(FieldValueError):
        msg((44, text)).get_decimal(44)


@pytest.mark.parametrize(
    "text, expected",
    [
        (b"20261122-10:00:00", dt.datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)),
        (b"20261122-10:00:00.123", dt.datetime(2026, 11, 22, 10, 0, 0, 123000, tzinfo=UTC)),
        (b"20261122-10:00:00.123456", dt.datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC)),
        (b"20261122-10:00:00.123456789", dt.datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC)),
        (b"20161231-23:59:60", dt.datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC)),  # leap second
    ],
)
def test_get_timestamp(text: bytes, expected: dt.datetime) -> None:
    assert msg((52, text)).get_timestamp(52) == expected


@pytest.mark.parametrize(
    "text",
    [
        b"20261122-10:00",
        b"20261122 10:00:00",
        b"20261122-10:00:00.12",
        b"20261122-10:00:00.1234",
        b"20261322-10:00:00",
        b"20261122-25:00:00",
        b"+0261122-10:00:00",
        b"2026 122-10:00:00",
        b"2026_122-10:00:00",
        b"20261122-1 :00:00",
        b"20261122-10:00:00.12a",
        b"20261122-10:00:00Z",
    ],
)
def test_get_timestamp_rejects(text: bytes) -> None:
    with pytest.raises(FieldValueError):
        msg((52, text)).get_timestamp(52)


def test_get_utc_time_only() -> None:
    assert msg((273, b"10:01:02")).get_utc_time_only(273) == dt.time(10, 1, 2, tzinfo=UTC)
    assert msg((273, b"10:01:02.345")).get_utc_time_only(273) == dt.time(10, 1, 2, 345000, tzinfo=UTC)
    assert msg((273, b"10:01:02.345678")).get_utc_time_only(273).microsecond == 345678
    assert msg((273, b"10:01:02.345678912")).get_utc_time_only(273).microsecond == 345678
    for bad in (b"10:01", b"10-01-02", b"25:00:00", b"10:01:02.1", b"+1:01:02", b" 1:01:02", b"10:01:02.abc"):
        with pytest.raises(FieldValueError):
            msg((273, bad)).get_utc_time_only(273)


def test_get_date() -> None:
    assert msg((75, b"20261122")).get_date(75) == dt.date(2026, 11, 22)
    for bad in (b"2026112", b"20261332", b"2026-11-22", b"202611220", b"+2026112"):
        with pytest.raises(FieldValueError):
            msg((75, bad)).get_date(75)


def test_get_bool_char_multi_data() -> None:
    m = msg((43, b"Y"), (97, b"N"), (141, b"y"), (54, b"1"), (40, b"12"), (18, b"1 A  5"), (96, b"a\x01b"))
    assert m.get_bool(43) is True
    assert m.get_bool(97) is False
    with pytest.raises(FieldValueError):
        m.get_bool(141)
    assert m.get_bool(999, False) is False
    assert m.get_char(54) == "1"
    with pytest.raises(FieldValueError):
        m.get_char(40)
    assert m.get_multi(18) == ["1", "A", "5"]
    assert m.get_raw(96) == b"a\x01b"
    assert m.get(96) == "a\x01b"


def test_first_occurrence_wins_and_get_all() -> None:
    m = msg((448, b"A"), (448, b"B"))
    assert m[448] == b"A"
    assert m.get_all(448) == [b"A", b"B"]
    assert 448 in m and 449 not in m


def test_index_follows_direct_mutation_of_fields() -> None:
    m = msg((35, b"D"), (55, b"AAPL"))
    assert m.get(55) == "AAPL"
    m.fields.insert(0, (11, b"X"))  # what the reflector does
    assert m.get(11) == "X"
    del m.fields[0]
    assert 11 not in m


def test_set_replaces_first_or_appends() -> None:
    m = FixMessage.new("D", (55, "AAPL"), (448, "A"), (448, "B"))
    m.set(448, "Z").set(44, Decimal("1.50")).set(55, b"MSFT")
    assert m.fields == [(35, b"D"), (55, b"MSFT"), (448, b"Z"), (448, b"B"), (44, b"1.5")]
    assert m.get(448) == "Z"
    assert m.get(44) == "1.5"


def test_append_and_remove() -> None:
    m = FixMessage.new("D")
    assert m.get(58) is None
    m.append(58, "a").append(58, "b")
    assert m.get(58) == "a" and m.get_all(58) == [b"a", b"b"]
    assert m.remove(58) is True
    assert m.remove(58) is False
    assert 58 not in m


def test_new_converts_values() -> None:
    when = dt.datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC)
    m = FixMessage.new(
        "8", (1, "ACC"), (14, Decimal("100.000")), (34, 7), (43, True), (97, False), (60, when),
        (75, dt.date(2026, 1, 2)), (273, dt.time(9, 8, 7, 654321)), (58, "é"), (96, b"\x01"),
    )
    assert m.fields == [
        (35, b"8"), (1, b"ACC"), (14, b"100"), (34, b"7"), (43, b"Y"), (97, b"N"),
        (60, b"20261122-10:00:00.123"), (75, b"20260102"), (273, b"09:08:07.654"), (58, "é".encode()), (96, b"\x01"),
    ]
    with pytest.raises(TypeError):
        FixMessage.new("D", (44, 1.5))
    with pytest.raises(TypeError):
        FixMessage.new("D", (44, None))


@pytest.mark.parametrize(
    "value, text",
    [
        (Decimal("100"), "100"), (Decimal("100.50"), "100.5"), (Decimal("1E+2"), "100"), (Decimal("1E-7"), "0.0000001"),
        (Decimal("-0.00"), "0"), (Decimal("-1.230"), "-1.23"), (Decimal("0.000"), "0"), (Decimal("12345678901234567890.1"), "12345678901234567890.1"),
    ],
)
def test_format_decimal(value: Decimal, text: str) -> None:
    assert format_decimal(value) == text
    assert to_fix_bytes(value) == text.encode()
    assert to_fix_bytes(value) == to_fix_bytes(value)  # cached path gives the same


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_format_decimal_refuses_non_finite(value: Decimal) -> None:
    with pytest.raises(ValueError):
        to_fix_bytes(value)


def test_format_utc_timestamp_precisions() -> None:
    t = dt.datetime(2026, 11, 22, 10, 0, 1, 234567)
    assert format_utc_timestamp(t, 0) == "20261122-10:00:01"
    assert format_utc_timestamp(t) == "20261122-10:00:01.234"
    assert format_utc_timestamp(t, 6) == "20261122-10:00:01.234567"
    assert format_utc_timestamp(t, 9) == "20261122-10:00:01.234567000"
    aware = dt.datetime(2026, 11, 22, 11, 0, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert format_utc_timestamp(aware, 0) == "20261122-10:00:01"
    with pytest.raises(ValueError):
        format_utc_timestamp(t, 2)


def test_format_epoch_timestamp_rounds_float_noise_and_carries() -> None:
    now = 1795341600.123  # float: 1795341600.12299990654...
    assert format_epoch_timestamp(now) == b"20261122-10:00:00.123"
    assert format_epoch_timestamp(now, 0) == b"20261122-10:00:00"
    assert format_epoch_timestamp(now, 6) == b"20261122-10:00:00.123000"
    assert format_epoch_timestamp(1795341600.9999) == b"20261122-10:00:01.000"
    assert format_epoch_timestamp(1795341601.5) == b"20261122-10:00:01.500"  # cache of the second
    assert format_epoch_timestamp(1795341600.5) == b"20261122-10:00:00.500"
    with pytest.raises(ValueError):
        format_epoch_timestamp(now, 4)
    for stamp in (0.0, 951782400.25, 4102444799.999):  # epoch, 2000-02-29, 2099-12-31
        parsed = parse_utc_timestamp(52, format_epoch_timestamp(stamp))
        assert abs(parsed.timestamp() - stamp) < 0.0006


def test_add_group_and_groups_on_built_and_parsed() -> None:
    from fix_engine.codec import FrameParser, encode

    m = FixMessage.new("D", (8, "FIX.4.4"), (55, "X"))
    m.add_group(453, [[(448, "A"), (447, "D"), (452, 1)], [(448, "B"), (447, "D"), (452, 3)]])
    assert isinstance(m.fields[-1][1], RepeatingGroup)
    assert m.get_int(453) == 2
    assert [e.get(448) for e in m.groups(453, {448, 447, 452})] == ["A", "B"]
    parsed = FixMessage.parse(FrameParser().feed(encode(m))[0].raw)
    entries = parsed.groups(453, {448, 447, 452})
    assert [e.get(452) for e in entries] == ["1", "3"]
    assert parsed.groups(454, {1}) == []
    assert parsed == FixMessage.parse(encode(m))  # equality is on flat fields


def test_nested_groups_flatten_in_order() -> None:
    m = FixMessage.new("AB", (8, "FIX.4.4"))
    sub = RepeatingGroup([[(523, b"S1"), (803, b"1")], [(523, b"S2"), (803, b"2")]])
    m.add_group(453, [[(448, "A"), (802, sub)]])
    flat = list(m.iter_flat())
    assert flat[-7:] == [(453, b"1"), (448, b"A"), (802, b"2"), (523, b"S1"), (803, b"1"), (523, b"S2"), (803, b"2")]
    assert m.to_text().endswith("453=1|448=A|802=2|523=S1|803=1|523=S2|803=2|")


def test_copy_is_independent() -> None:
    m = FixMessage.new("D", (55, "A"))
    c = m.copy()
    c.set(55, "B")
    assert m.get(55) == "A" and c.get(55) == "B"


def test_msg_type_and_begin_string() -> None:
    m = FixMessage.parse(b"8=FIX.4.4\x019=5\x0135=AE\x0110=000\x01")
    assert m.msg_type == "AE" and m.begin_string == "FIX.4.4"
    with pytest.raises(FieldNotFound):
        _ = FixMessage().msg_type
