"""encode(): canonical wire order, computed 9 and 10, groups, and the encode->frame->parse round trip."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fix_engine.codec import (
    FieldValueError,
    FixMessage,
    FrameParser,
    RepeatingGroup,
    checksum,
    encode,
    encode_fields,
)
from fix_engine.codec.tags import DATA_LENGTH_TAGS


def tags_of(data: bytes) -> list[int]:
    return [int(p.split(b"=", 1)[0]) for p in data.split(b"\x01")[:-1]]


def test_canonical_order() -> None:
    m = FixMessage.new(
        "8", (151, 0), (55, "X"), (52, b"20261122-10:00:00.000"), (8, "FIX.4.4"), (10, "999"), (9, "1"),
        (34, 3), (17, "E"), (49, "S"), (56, "T"), (89, "sig"), (93, 3), (1, "A"),
    )
    m.add_group(453, [[(448, "Z"), (447, "D"), (452, 3)], [(448, "Y"), (447, "D"), (452, 1)]])
    m.set(11, "C")
    data = encode(m)
    assert tags_of(data) == [8, 9, 35, 34, 49, 52, 56, 1, 11, 17, 55, 151, 453, 448, 447, 452, 448, 447, 452, 93, 89, 10]


def test_body_length_and_checksum() -> None:
    data = encode(FixMessage.new("0", (8, "FIX.4.4"), (34, 1)))
    assert data == b"8=FIX.4.4\x019=10\x0135=0\x0134=1\x0110=%03d\x01" % checksum(data[:-7])
    assert FrameParser().feed(data)[0].error is None


def test_begin_string_argument_and_missing_fields() -> None:
    assert encode(FixMessage.new("0"), b"FIXT.1.1").startswith(b"8=FIXT.1.1\x019=")
    assert encode(FixMessage.new("0", (8, "FIX.4.2")), b"FIX.4.4").startswith(b"8=FIX.4.4\x01")
    with pytest.raises(ValueError):
        encode(FixMessage.new("0"))
    with pytest.raises(ValueError):
        encode(FixMessage([(8, b"FIX.4.4"), (34, b"1")]))


@pytest.mark.parametrize("tag", [0, -1, "55", True])
def test_invalid_tags_are_refused(tag: object) -> None:
    with pytest.raises(ValueError):
        encode(FixMessage([(8, b"FIX.4.4"), (35, b"0"), (tag, b"x")]))  # type: ignore[list-item]


def test_non_bytes_value_is_refused() -> None:
    with pytest.raises(TypeError):
        encode(FixMessage([(8, b"FIX.4.4"), (35, b"0"), (58, "text")]))  # type: ignore[list-item]


def test_soh_in_ordinary_value_is_refused_but_allowed_in_raw_data() -> None:
    with pytest.raises(FieldValueError):
        encode(FixMessage.new("0", (8, "FIX.4.4"), (58, "a\x01b")))
    m = FixMessage.new("B", (8, "FIX.4.4"), (96, b"a\x01b"), (95, 3))
    data = encode(m)
    assert FixMessage.parse(FrameParser().feed(data)[0].raw)[96] == b"a\x01b"
    with pytest.raises(FieldValueError):
        m.add_group(453, [[(448, "bad\x01")]])
        encode(m)


def test_parsed_message_with_flat_group_keeps_its_order() -> None:
    wire = encode_fields(
        [(8, b"FIX.4.4"), (35, b"D"), (49, b"S"), (56, b"T"), (55, b"X"), (453, b"2"),
         (448, b"B"), (447, b"D"), (452, b"3"), (448, b"A"), (447, b"D"), (452, b"1"), (11, b"C")]
    )
    parsed = FixMessage.parse(wire)
    assert encode(parsed) == wire
    # the reflector's pattern: body of a parsed message under a new MsgType
    reply = FixMessage([(t, v) for t, v in parsed.fields if t not in (8, 9, 10, 35, 49, 56)])
    reply.fields.insert(0, (35, b"D"))
    assert tags_of(encode(reply, b"FIX.4.4"))[3:-1] == [55, 453, 448, 447, 452, 448, 447, 452, 11]
    # without a group, a parsed body is put in canonical order
    plain = FixMessage.parse(encode_fields([(8, b"FIX.4.4"), (35, b"D"), (55, b"X"), (11, b"C"), (49, b"S")]))
    assert tags_of(encode(plain)) == [8, 9, 35, 49, 11, 55, 10]
    assert tags_of(encode(plain, keep_body_order=True)) == [8, 9, 35, 49, 55, 11, 10]


def test_header_is_canonical_even_when_a_flat_body_group_keeps_the_body_order() -> None:
    # what the session does to a reply built from a parsed body: header fields appended after it
    reply = FixMessage([(35, b"D"), (453, b"1"), (448, b"B"), (447, b"D"), (452, b"3"), (11, b"C")])
    for tag, value in ((49, b"ISLD"), (56, b"TW"), (34, b"6"), (52, b"20261122-10:00:00.000"), (43, b"Y")):
        reply.fields.append((tag, value))
    assert tags_of(encode(reply, b"FIX.4.4")) == [8, 9, 35, 34, 43, 49, 52, 56, 453, 448, 447, 452, 11, 10]
    # a flat NoHops group in the header keeps the header as given
    hops = FixMessage([(35, b"0"), (49, b"S"), (627, b"2"), (628, b"H1"), (628, b"H2"), (34, b"3"), (56, b"T")])
    assert tags_of(encode(hops, b"FIX.4.4")) == [8, 9, 35, 49, 627, 628, 628, 34, 56, 10]


def test_built_groups_in_header_and_nested() -> None:
    m = FixMessage.new("D", (8, "FIX.4.4"), (49, "S"))
    m.add_group(627, [[(628, "HOP1"), (629, b"20261122-10:00:00")]])
    nested = RepeatingGroup([[(523, b"s1"), (803, b"1")]])
    m.add_group(453, [[(448, "P"), (802, nested)]])
    assert tags_of(encode(m)) == [8, 9, 35, 49, 627, 628, 629, 453, 448, 802, 523, 803, 10]


def test_same_shape_different_values_share_a_plan() -> None:
    a = encode(FixMessage.new("D", (8, "FIX.4.4"), (55, "A"), (44, Decimal("1"))))
    b = encode(FixMessage.new("D", (8, "FIX.4.4"), (55, "BBB"), (44, Decimal("2.5"))))
    assert a.count(b"55=A\x0144=1") == 0 and b"44=1\x0155=A\x01" in a
    assert b"44=2.5\x0155=BBB\x01" in b


def test_encode_fields_keeps_order() -> None:
    data = encode_fields([(8, b"FIX.4.4"), (9, b"0"), (35, b"0"), (58, b"b"), (34, b"1"), (10, b"000")])
    assert tags_of(data) == [8, 9, 35, 58, 34, 10]
    with pytest.raises(ValueError):
        encode_fields([(35, b"0")])


# --------------------------------------------------------------------------- round trip (Hypothesis)

value_st = st.binary(min_size=1, max_size=16).filter(lambda v: b"\x01" not in v)
_DATA_TAGS = set(DATA_LENGTH_TAGS) | set(DATA_LENGTH_TAGS.values())
body_tag_st = st.integers(min_value=1, max_value=20000).filter(lambda t: t not in (8, 9, 10, 35) and t not in _DATA_TAGS)
entry_st = st.lists(st.tuples(st.sampled_from([524, 525, 538]), value_st), min_size=0, max_size=3)


@st.composite
def messages(draw: st.DrawFn) -> FixMessage:
    from fix_engine.codec.tags import HEADER_TAGS, NUM_IN_GROUP_TAGS

    m = FixMessage.new(draw(st.sampled_from(["D", "8", "0", "AE", "U1"])), (8, draw(st.sampled_from(["FIX.4.4", "FIXT.1.1"]))))
    seen: set[int] = set()
    for tag, value in draw(st.lists(st.tuples(body_tag_st, value_st), max_size=25)):
        if tag in seen or tag in NUM_IN_GROUP_TAGS or tag in HEADER_TAGS:
            continue
        seen.add(tag)
        m.set(tag, value)
    if draw(st.booleans()):
        entries = draw(st.lists(entry_st, min_size=1, max_size=4))
        m.add_group(539, [[(524, b"ID%d" % i), *rest] for i, rest in enumerate(entries)])
    if draw(st.booleans()):
        data = draw(st.binary(max_size=30))  # anything, SOH and '=' included
        m.set(95, len(data)).set(96, data)
    return m


@settings(max_examples=300, deadline=None)
@given(messages(), st.integers(min_value=1, max_value=50))
def test_encode_frame_parse_round_trip(m: FixMessage, chunk: int) -> None:
    data = encode(m)
    parser = FrameParser()
    frames = []
    for i in range(0, len(data), chunk):
        frames += parser.feed(data[i : i + chunk])
    assert [f.error for f in frames] == [None]
    parsed = FixMessage.parse(frames[0].raw)
    expected = sorted(((t, v) for t, v in m.iter_flat() if t not in (8, 35)), key=lambda f: f[0])
    got = [(t, v) for t, v in parsed.fields if t not in (8, 9, 10, 35)]
    assert sorted(got, key=lambda f: f[0]) == expected  # same multiset of fields
    assert parsed[35] == m[35] and parsed[8] == m[8]
    assert encode(parsed) == data  # re-encoding a parsed message reproduces it
