"""FixMessage.parse / split_fields: the fast path agrees with a reference parser, bad input raises ParseError."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fix_engine.codec import FixMessage, ParseError, encode_fields, parsing


def split_fields(*args: object) -> list[tuple[int, bytes]]:
    """The implementation under test (``parsing.split_fields`` as the ``codec_impl`` fixture set it)."""
    return parsing.split_fields(*args)  # type: ignore[arg-type]


def reference_split(buf: bytes) -> list[tuple[int, bytes]]:
    """The obvious field-by-field parser (no raw-data support), the oracle for the fast path."""
    if not buf:
        return []
    assert buf.endswith(b"\x01")
    out = []
    for part in buf[:-1].split(b"\x01"):
        tag, sep, value = part.partition(b"=")
        assert sep and tag.isdigit() and tag[:1] != b"0" and len(tag) <= 9
        out.append((int(tag), value))
    return out


def test_parse_keeps_wire_order_and_every_field() -> None:
    raw = encode_fields([(8, b"FIX.4.4"), (35, b"D"), (55, b"A"), (55, b"B"), (58, b"a=b=c"), (5000, b"custom")])
    msg = FixMessage.parse(raw)
    assert [t for t, _ in msg.fields] == [8, 9, 35, 55, 55, 58, 5000, 10]
    assert msg.get_all(55) == [b"A", b"B"]
    assert msg[58] == b"a=b=c"
    assert msg.get_raw(5000) == b"custom"


def test_empty_values_are_kept() -> None:
    assert split_fields(b"8=FIX.4.4\x0158=\x01") == [(8, b"FIX.4.4"), (58, b"")]


def test_tag_zero_is_a_field() -> None:
    """``0=x`` is well formed: tag 0, which validation rejects as an invalid tag (as QuickFIX)."""
    assert split_fields(b"8=FIX.4.4\x010=x\x01") == [(8, b"FIX.4.4"), (0, b"x")]
    assert parsing.py_split_fields(b"8=FIX.4.4\x010=x\x01") == [(8, b"FIX.4.4"), (0, b"x")]


@pytest.mark.parametrize(
    "buf",
    [
        b"8=FIX.4.4\x0158",  # no final SOH
        b"8=FIX.4.4\x0158\x01",  # field without '='
        b"8=FIX.4.4\x01=x\x01",  # empty tag
        b"8=FIX.4.4\x01abc=x\x01",  # non-numeric tag
        b"8=FIX.4.4\x01058=x\x01",  # leading zero
        b"8=FIX.4.4\x01-5=x\x01",  # negative
        b"8=FIX.4.4\x01+5=x\x01",
        b"8=FIX.4.4\x01 5=x\x01",
        b"8=FIX.4.4\x011_0=x\x01",
        b"8=FIX.4.4\x01\xd9\xa3=x\x01",  # non-ASCII digit
        b"8=FIX.4.4\x01" + b"1" * 5000 + b"=x\x01",  # beyond int()'s digit limit
        b"8=FIX.4.4\x0112345678901=x\x01",  # more than 9 digits
        b"55\x0158=1=2\x01",  # a part without '=' hidden by a part with two
        b"8=FIX.4.4\x0195=3\x0196=ab\x01",  # raw data shorter than announced
        b"8=FIX.4.4\x0195=10\x0196=ab\x01",  # longer than the frame
        b"8=FIX.4.4\x0195=x\x0196=ab\x01",  # non-numeric length
        b"8=FIX.4.4\x0195=-1\x0196=ab\x01",
        b"8=FIX.4.4\x0195=" + b"9" * 5000 + b"\x0196=ab\x01",
        b"8=FIX.4.4\x0195=2\x0196=ab\x01junk\x01",  # field without '=' after the data
    ],
)
def test_malformed_input_raises_parse_error(buf: bytes) -> None:
    with pytest.raises(ParseError):
        FixMessage.parse(buf)


def test_raw_data_with_soh_and_equals() -> None:
    data = b"a\x01b=c\x0110=000\x01"
    raw = encode_fields([(8, b"FIX.4.4"), (35, b"B"), (95, b"%d" % len(data)), (96, data), (58, b"after")])
    msg = FixMessage.parse(raw)
    assert msg[96] == data
    assert msg[58] == b"after"
    assert msg.get_int(10) >= 0


def test_raw_data_without_soh_still_checks_its_length() -> None:
    with pytest.raises(ParseError):
        FixMessage.parse(b"8=FIX.4.4\x0195=5\x0196=abc\x01")
    assert FixMessage.parse(b"8=FIX.4.4\x0195=3\x0196=abc\x01")[96] == b"abc"


def test_custom_data_length_tags() -> None:
    buf = b"8=FIX.4.4\x015001=3\x015002=a\x01b\x01"
    assert split_fields(buf, {5001: 5002})[-1] == (5002, b"a\x01b")
    with pytest.raises(ParseError):
        split_fields(buf)  # without the pair, "b" is a field without '='
    # a custom mapping that drops a standard pair parses its tags as ordinary fields
    assert split_fields(b"95=3\x0196=abc\x01", {}) == [(95, b"3"), (96, b"abc")]
    # the per-mapping cache notices a mapping that grew
    pairs: dict[int, int] = {}
    assert split_fields(b"7001=1\x017002=x\x01", pairs) == [(7001, b"1"), (7002, b"x")]
    pairs[7001] = 7002
    with pytest.raises(ParseError):
        split_fields(b"7001=2\x017002=x\x01", pairs)


def test_all_standard_data_pairs() -> None:
    from fix_engine.codec.tags import DATA_LENGTH_TAGS

    for length_tag, data_tag in DATA_LENGTH_TAGS.items():
        buf = b"8=FIX.4.4\x01%d=3\x01%d=\x01=\x01\x0158=z\x01" % (length_tag, data_tag)
        assert split_fields(buf) == [(8, b"FIX.4.4"), (length_tag, b"3"), (data_tag, b"\x01=\x01"), (58, b"z")]


tag_st = st.integers(min_value=1, max_value=99999)
value_st = st.binary(min_size=0, max_size=12).filter(lambda v: b"\x01" not in v)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(tag_st, value_st), min_size=1, max_size=30))
def test_fast_path_equals_reference(fields: list[tuple[int, bytes]]) -> None:
    from fix_engine.codec.tags import DATA_LENGTH_TAGS

    fields = [(t, v) for t, v in fields if t not in DATA_LENGTH_TAGS]
    buf = b"".join(b"%d=%b\x01" % f for f in fields)
    assert split_fields(buf) == reference_split(buf) == fields


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_parse_or_raise_parse_error(buf: bytes) -> None:
    try:
        fields = split_fields(buf)
    except ParseError:
        return
    assert all(isinstance(t, int) and t > 0 and isinstance(v, bytes) for t, v in fields)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"1", b"58", b"0", b"=", b"\x01", b"x", b"95", b"96", b"3", b"01"]), max_size=30))
def test_fix_looking_noise_parses_exactly_or_raises(pieces: list[bytes]) -> None:
    buf = b"".join(pieces)
    try:
        fields = split_fields(buf, {})
    except ParseError:
        with pytest.raises(AssertionError):
            reference_split(buf)
        return
    assert fields == reference_split(buf)
