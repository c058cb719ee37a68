"""Differential tests: fixgate against simplefix and the QuickFIX Python binding.

What fixgate encodes, the peers parse to the same fields; what the peers encode, fixgate parses to
the same fields.  QuickFIX also re-serialises in its own canonical order, which must be byte for
byte what fixgate's ``encode`` produces (DESIGN.md section 3, "Wire order").
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fix_engine.codec import FixMessage, FrameParser, encode
from fix_engine.codec.tags import DATA_LENGTH_TAGS, HEADER_TAGS, NUM_IN_GROUP_TAGS, TRAILER_TAGS

simplefix = pytest.importorskip("simplefix", reason="simplefix is not installed (pip install simplefix)")

try:
    import quickfix
except ImportError:  # pragma: no cover - depends on the environment
    quickfix = None

needs_quickfix = pytest.mark.skipif(
    quickfix is None, reason="the quickfix Python binding is not installed (pip install quickfix): QuickFIX differential skipped"
)
FIX44_XML = Path(sys.prefix) / "share" / "quickfix" / "FIX44.xml"

from simplefix.data import RAW_DATA_TAGS, RAW_LEN_TAGS  # noqa: E402

_SPECIAL = (
    HEADER_TAGS | TRAILER_TAGS | NUM_IN_GROUP_TAGS | set(DATA_LENGTH_TAGS) | set(DATA_LENGTH_TAGS.values())
    | {int(t) for t in RAW_LEN_TAGS} | {int(t) for t in RAW_DATA_TAGS}
)
body_tag_st = st.integers(min_value=1, max_value=9999).filter(lambda t: t not in _SPECIAL)
# printable ASCII without '|' confusion concerns; QuickFIX's binding passes str as UTF-8
text_st = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=12)
fields_st = st.dictionaries(body_tag_st, text_st, max_size=20)


def build(body: dict[int, str], msg_type: str = "D") -> FixMessage:
    m = FixMessage.new(msg_type, (8, "FIX.4.4"), (49, "SENDER"), (56, "TARGET"), (34, 12), (52, "20261122-10:00:00.000"))
    for tag, value in body.items():
        m.set(tag, value)
    return m


def fixgate_parse(data: bytes) -> list[tuple[int, bytes]]:
    frames = FrameParser().feed(data)
    assert [f.error for f in frames] == [None]
    return FixMessage.parse(frames[0].raw).fields  # type: ignore[return-value]


# --------------------------------------------------------------------------- simplefix


def simplefix_parse(data: bytes) -> list[tuple[int, bytes]]:
    parser = simplefix.FixParser()
    parser.append_buffer(data)
    message = parser.get_message()
    assert message is not None
    return [(int(tag), value) for tag, value in message.pairs]


@settings(max_examples=150, deadline=None)
@given(fields_st)
def test_simplefix_parses_what_fixgate_encodes(body: dict[int, str]) -> None:
    data = encode(build(body))
    assert simplefix_parse(data) == fixgate_parse(data)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(body_tag_st, text_st), max_size=20))
def test_fixgate_parses_what_simplefix_encodes(pairs: list[tuple[int, str]]) -> None:
    m = simplefix.FixMessage()
    m.append_pair(8, "FIX.4.4", header=True)
    m.append_pair(35, "8", header=True)
    for tag, value in pairs:
        m.append_pair(tag, value)
    data = m.encode()
    assert fixgate_parse(data) == simplefix_parse(data)
    assert [(t, v.decode()) for t, v in fixgate_parse(data)[3:-1]] == pairs


def test_raw_data_agrees_with_simplefix() -> None:
    data = encode(FixMessage.new("B", (8, "FIX.4.4"), (95, 7), (96, b"a\x01b=c\x01d"), (58, "t")))
    assert simplefix_parse(data) == fixgate_parse(data)


# --------------------------------------------------------------------------- QuickFIX


def quickfix_fields(message: object) -> list[tuple[int, bytes]]:
    """QuickFIX's re-serialisation parsed back into fields (its canonical order, its 9 and 10)."""
    return FixMessage.parse(message.toString().encode()).fields  # type: ignore[attr-defined, return-value]


@needs_quickfix
@settings(max_examples=150, deadline=None)
@given(fields_st)
def test_quickfix_reserialises_fixgate_output_byte_for_byte(body: dict[int, str]) -> None:
    data = encode(build(body))
    message = quickfix.Message(data.decode(), False)
    assert message.toString().encode() == data  # same fields, same order, same 9 and 10
    assert quickfix_fields(message) == fixgate_parse(data)


@needs_quickfix
@pytest.mark.skipif(not FIX44_XML.exists(), reason=f"QuickFIX's FIX44.xml not found at {FIX44_XML}")
def test_quickfix_with_dictionary_agrees_on_groups_order() -> None:
    dd = quickfix.DataDictionary(str(FIX44_XML))
    m = build({11: "ORD1", 55: "AAPL", 54: "1", 38: "100", 40: "2", 44: "10.5", 60: "20261122-10:00:00.000", 21: "1"})
    m.add_group(453, [[(448, "P1"), (447, "D"), (452, 1)], [(448, "P2"), (447, "D"), (452, 3)]])
    m.add_group(78, [[(79, "ALLOC1"), (80, 60)], [(79, "ALLOC2"), (80, 40)]])
    data = encode(m)
    message = quickfix.Message(data.decode(), dd, True)  # validates: groups, order, checksum
    assert message.toString().encode() == data
    assert message.getField(453) == "2"
    entry = quickfix.Group(453, 448)
    message.getGroup(2, entry)
    assert (entry.getField(448), entry.getField(452)) == ("P2", "3")
    assert FixMessage.parse(data).groups(453, {448, 447, 452})[1].get(448) == "P2"


@needs_quickfix
@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(body_tag_st, text_st), max_size=15, unique_by=lambda p: p[0]))
def test_fixgate_parses_what_quickfix_builds(pairs: list[tuple[int, str]]) -> None:
    message = quickfix.Message()
    header = message.getHeader()
    header.setField(quickfix.BeginString("FIX.4.4"))
    header.setField(quickfix.MsgType("8"))
    header.setField(quickfix.SenderCompID("SENDER"))
    header.setField(quickfix.MsgSeqNum(5))
    for tag, value in pairs:
        message.setField(quickfix.StringField(tag, value))
    text = message.toString().encode()
    fields = fixgate_parse(text)
    assert sorted((t, v.decode()) for t, v in fields if t not in (8, 9, 10, 34, 35, 49)) == sorted(pairs)
    # and fixgate's canonical order is QuickFIX's
    rebuilt = FixMessage.new("8", *[(t, v) for t, v in fields if t != 35])
    assert encode(rebuilt) == text


@needs_quickfix
def test_quickfix_rejects_what_fixgate_frames_as_garbled() -> None:
    data = encode(build({58: "hello"}))
    bad = data[:-4] + b"%03d\x01" % ((int(data[-4:-1]) + 1) % 256)
    assert FrameParser().feed(bad)[0].garbled
    with pytest.raises(quickfix.InvalidMessage):
        quickfix.Message(bad.decode(), True)
