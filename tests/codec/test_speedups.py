"""Differential tests: the C accelerator (``fix_engine.codec._speedups``) against the pure-Python codec.

For random valid and invalid inputs, each C function and its Python twin give identical results or
identical exceptions (type, message, ``tag``, ``offset``).  The whole module is skipped when the
extension is not in use (not built, or ``FIXGATE_PURE_PYTHON`` set); the other codec tests run
against both implementations through the ``codec_impl`` fixture (conftest.py).

FIXGATE_SPEEDUPS_EXAMPLES raises the number of Hypothesis examples (e.g. 20000 for a soak run).
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fix_engine.codec import (
    FixMessage,
    FrameError,
    FrameParser,
    ParseError,
    encode,
    encode_fields,
    encoding,
    framing,
    parsing,
)
from fix_engine.codec.tags import DATA_LENGTH_TAGS
from fix_engine.dictionary import formats, validation

C = parsing.speedups
pytestmark = pytest.mark.skipif(C is None, reason="C accelerator not in use (not built, or FIXGATE_PURE_PYTHON set)")

EXAMPLES = int(os.environ.get("FIXGATE_SPEEDUPS_EXAMPLES", "1500"))
many = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(params=["c"], autouse=True)
def codec_impl(request: pytest.FixtureRequest) -> str:
    """These tests call both implementations themselves: run them once (overrides conftest's)."""
    return str(request.param)


def outcome(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[str, Any]:
    """A comparable result: ``("ok", value)`` or ``("raise", (type, args, tag, offset))``."""
    try:
        return "ok", fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the point is to compare exceptions
        return "raise", (type(exc), exc.args, getattr(exc, "tag", None), getattr(exc, "offset", None))


# --------------------------------------------------------------------------- split_fields

MAPPINGS: list[Any] = [
    DATA_LENGTH_TAGS,
    {},
    {5001: 5002},
    {95: 96, 9000: 9001, 123456: 123457},  # a length tag above the C bitmap
    {95.0: 96},  # a float key: `95 in mapping` is True
    {True: 2},  # bool key == 1
    types.MappingProxyType({95: 96, 7001: 7002}),  # not a dict
    {-5: 1, 10**30: 1},
]


def same_split(buf: Any, *mapping: Any) -> None:
    c = outcome(C.split_fields, buf, *mapping)
    py = outcome(parsing.py_split_fields, buf, *mapping)
    assert c == py
    if c[0] == "ok":
        assert all(type(t) is int and type(v) is type(py[1][i][1]) for i, (t, v) in enumerate(c[1]))


@many
@given(st.binary(max_size=300), st.sampled_from(range(len(MAPPINGS))))
def test_split_random_bytes(buf: bytes, which: int) -> None:
    same_split(buf, MAPPINGS[which])


PIECES = [b"1", b"58", b"0", b"=", b"\x01", b"x", b"95", b"96", b"3", b"01", b"5001", b"5002", b"9000", b"2",
          b"123456789", b"1234567890", b"-1", b" 1", b"\xff", b"\xd9", b"10=", b"35=D", b"8=FIX.4.4"]


@many
@given(st.lists(st.sampled_from(PIECES), max_size=40), st.sampled_from(range(len(MAPPINGS))))
def test_split_fix_looking_noise(pieces: list[bytes], which: int) -> None:
    buf = b"".join(pieces)
    same_split(buf, MAPPINGS[which])
    same_split(buf + b"\x01", MAPPINGS[which])


tag_st = st.one_of(st.integers(1, 2000), st.integers(1, 10**9 - 1), st.sampled_from(sorted(DATA_LENGTH_TAGS)))
value_st = st.binary(max_size=16)


@many
@given(st.lists(st.tuples(tag_st, value_st), max_size=40), st.sampled_from(range(len(MAPPINGS))))
def test_split_messages_with_raw_data_and_bad_values(fields: list[tuple[int, bytes]], which: int) -> None:
    buf = b"".join(b"%d=%b\x01" % f for f in fields)
    same_split(buf, MAPPINGS[which])


@many
@given(st.lists(st.tuples(st.integers(1, 99999), st.binary(max_size=12).filter(lambda v: b"\x01" not in v)), max_size=40))
def test_split_valid_frames_take_the_c_path(fields: list[tuple[int, bytes]]) -> None:
    fields = [(t, v) for t, v in fields if t not in DATA_LENGTH_TAGS]
    buf = b"".join(b"%d=%b\x01" % f for f in fields)
    assert C.split_fields(buf) == parsing.py_split_fields(buf) == fields
    assert C.split_fields(buf, {}) == fields


def test_split_default_argument_and_non_bytes_input() -> None:
    buf = b"8=FIX.4.4\x0135=0\x01"
    assert C.split_fields(buf) == [(8, b"FIX.4.4"), (35, b"0")]
    for other in (bytearray(buf), memoryview(buf), "8=FIX.4.4\x01", None, 12):
        same_split(other)
        same_split(other, {})
    with pytest.raises(TypeError):
        C.split_fields()
    with pytest.raises(TypeError):
        C.split_fields(buf, {}, 3)


def test_split_notices_a_mapping_that_changed() -> None:
    pairs: dict[Any, int] = {}
    buf = b"7001=2\x017002=x\x01"
    assert C.split_fields(buf, pairs) == [(7001, b"2"), (7002, b"x")]
    pairs[7001] = 7002
    same_split(buf, pairs)
    with pytest.raises(ParseError):
        C.split_fields(buf, pairs)
    del pairs[7001]
    pairs[9999] = 1  # same size, other key: a new dict state with the same length
    same_split(buf, pairs)
    swapped: dict[int, int] = {9999: 1}
    assert C.split_fields(buf, swapped) == [(7001, b"2"), (7002, b"x")]
    del swapped[9999]
    swapped[7001] = 7002  # same size, new length tag
    if sys.version_info < (3, 12):  # the C cache sees the dict's version tag there
        same_split(buf, swapped)
    for i in range(20):  # more mappings than the C cache holds
        same_split(buf, {7001 + i: 7002})


def test_split_all_standard_data_pairs() -> None:
    for length_tag, data_tag in DATA_LENGTH_TAGS.items():
        buf = b"8=FIX.4.4\x01%d=3\x01%d=\x01=\x01\x0158=z\x01" % (length_tag, data_tag)
        same_split(buf)
        same_split(buf, {})


# --------------------------------------------------------------------------- scan_frames


def frames_out(result: tuple[list[Any], int, int, int]) -> tuple[list[tuple[bytes, FrameError | None]], int, int, int]:
    frames, pos, need, discarded = result
    return [(f.raw, f.error) for f in frames], pos, need, discarded


def same_scan(buf: Any, max_size: Any, validate: Any) -> None:
    c = outcome(C.scan_frames, buf, max_size, validate)
    py = outcome(framing.py_scan_frames, buf, max_size, validate)
    if c[0] == "ok" and py[0] == "ok":
        assert frames_out(c[1]) == frames_out(py[1])
    else:
        assert c == py


def nos(seq: int, text: bytes = b"hello") -> bytes:
    return encode_fields([(8, b"FIX.4.4"), (35, b"D"), (34, b"%d" % seq), (49, b"C"), (56, b"G"), (58, text)])


def mutate(msg: bytes, how: int, where: int) -> bytes:
    i = where % max(len(msg), 1)
    if how == 0:
        return msg
    if how == 1:  # flip a byte
        return msg[:i] + bytes([msg[i] ^ 0x21]) + msg[i + 1 :]
    if how == 2:  # drop a byte
        return msg[:i] + msg[i + 1 :]
    if how == 3:  # insert SOH
        return msg[:i] + b"\x01" + msg[i:]
    if how == 4:  # cut
        return msg[:i]
    if how == 5:  # bad body length digits
        return msg.replace(b"\x019=", b"\x019=1", 1)
    return msg.replace(b"\x0135=", b"\x0136=", 1)


MAX_SIZES: list[Any] = [1 << 20, 0, 5, 40, 60, -1, 10**30, -(10**30), 2**63 - 1, 2**63]
message_st = st.builds(mutate, st.builds(nos, st.integers(0, 10**6), st.binary(max_size=20)), st.integers(0, 6), st.integers(0, 300))
noise_st = st.sampled_from([b"", b"8=FIX", b"8=FI", b"8=F", b"8=", b"8", b"\x01", b"garbage", b"10=000\x01", b"\x0110=",
                            b"8=FIX.4.4\x01", b"9=", b"9=12\x01", b"35=D\x01", b"\x018=FIX", b"8=FIXT.1.1\x01", b"=" * 70])


@many
@given(st.lists(st.one_of(message_st, noise_st), max_size=8), st.sampled_from(range(len(MAX_SIZES))), st.sampled_from([True, False, 0, 1, None]))
def test_scan_streams(parts: list[bytes], which: int, validate: Any) -> None:
    same_scan(b"".join(parts), MAX_SIZES[which], validate)


@many
@given(st.binary(max_size=400), st.sampled_from([True, False]))
def test_scan_random_bytes(buf: bytes, validate: bool) -> None:
    same_scan(buf, 1 << 20, validate)
    same_scan(b"8=FIX.4.4\x019=" + buf, 1 << 20, validate)


@settings(max_examples=max(EXAMPLES // 5, 50), deadline=None)
@given(st.lists(st.one_of(message_st, noise_st), max_size=6), st.lists(st.integers(1, 40), min_size=1, max_size=10))
def test_frame_parser_both_implementations_in_random_chunks(parts: list[bytes], sizes: list[int]) -> None:
    data = b"".join(parts)
    results = []
    for scan in (C.scan_frames, framing.py_scan_frames):
        original = framing._scan_frames
        framing._scan_frames = scan  # type: ignore[assignment]
        try:
            parser = FrameParser(max_message_size=200)
            frames = []
            pos = i = 0
            while pos < len(data):
                frames += parser.feed(data[pos : pos + sizes[i % len(sizes)]])
                pos += sizes[i % len(sizes)]
                i += 1
            results.append(([(f.raw, f.error) for f in frames], parser.buffered, parser.discarded_bytes))
        finally:
            framing._scan_frames = original  # type: ignore[assignment]
    assert results[0] == results[1]


def test_scan_large_frame_checksum_and_fallbacks() -> None:
    big = nos(1, b"\xff" * 5000) + nos(2, b"x" * 70000)
    for validate in (True, False):
        same_scan(big, 1 << 20, validate)
    for buf in (bytearray(big), memoryview(big)):
        same_scan(buf, 1 << 20, True)
    same_scan(big, 1.5e9, True)  # not an int: Python compares
    same_scan(big, "x", True)  # Python raises TypeError at the first comparison
    same_scan(b"", 1 << 20, True)

    class Flag:
        def __bool__(self) -> bool:
            raise ZeroDivisionError

    for buf in (big, big[:50], b"noise", b""):
        same_scan(buf, 1 << 20, Flag())  # asked at the first complete frame only
    with pytest.raises(TypeError):
        C.scan_frames(big, 1)


# --------------------------------------------------------------------------- encoding


@many
@given(st.binary(max_size=20), st.binary(max_size=300))
def test_finish(begin: bytes, body: bytes) -> None:
    assert C.finish(begin, body) == encoding.py_finish(begin, body)


def test_finish_fallback_for_other_types() -> None:
    for begin, body in ((bytearray(b"FIX.4.4"), b"35=0\x01"), (b"FIX.4.4", bytearray(b"35=0\x01")), ("FIX.4.4", b"")):
        assert outcome(C.finish, begin, body) == outcome(encoding.py_finish, begin, body)


def encode_py(msg: FixMessage, *args: Any, **kwargs: Any) -> bytes:
    saved = encoding._encode_cached, encoding._finish
    encoding._encode_cached, encoding._finish = None, encoding.py_finish
    try:
        return encode(msg, *args, **kwargs)
    finally:
        encoding._encode_cached, encoding._finish = saved


field_value_st = st.one_of(st.binary(max_size=10), st.sampled_from([b"x\x01y", b"", b"FIX.4.4"]))
enc_tag_st = st.one_of(st.sampled_from([8, 9, 10, 35, 34, 49, 52, 56, 89, 93, 95, 96, 55, 58, 453, 448]), st.integers(1, 6000))


@many
@given(
    st.lists(st.tuples(enc_tag_st, field_value_st), max_size=25),
    st.sampled_from([None, b"FIX.4.2", bytearray(b"FIXT.1.1"), "FIX.4.4"]),
    st.booleans(),
)
def test_encode_c_equals_python(fields: list[tuple[int, Any]], begin: Any, keep: bool) -> None:
    msg = FixMessage(list(fields))
    expected = outcome(encode_py, msg, begin, keep_body_order=keep)
    for _ in range(2):  # the first call may build the plan; the second finds it cached (C path)
        assert outcome(encode, msg, begin, keep_body_order=keep) == expected


def test_encode_odd_values_take_the_python_path() -> None:
    base = [(8, b"FIX.4.4"), (35, b"D"), (55, b"X")]
    odd: list[list[tuple[Any, Any]]] = [
        base + [(58, bytearray(b"t"))],
        base + [(58, "text")],
        base + [(True, b"x")],
        base + [(58, b"a\x01b")],
        base + [(96, b"a\x01b"), (95, b"3")],
        [(35, b"D")],
        base + [("58", b"x")],
        base + [(58, b"x", b"extra")],  # type: ignore[list-item]
    ]
    for fields in odd:
        msg = FixMessage(list(fields))
        expected = outcome(encode_py, msg)
        assert outcome(encode, msg) == expected
        assert outcome(encode, msg) == expected
        assert outcome(C.encode_cached, fields, None, {}, frozenset(), False) == ("ok", None)
    assert C.encode_cached((), None, {}, frozenset(), False) is None
    with pytest.raises(TypeError):
        C.encode_cached([], None, {})


def test_encode_fields_uses_the_same_finish() -> None:
    fields = [(8, b"FIX.4.4"), (35, b"0"), (34, b"1")]
    raw = encode_fields(fields)
    assert raw == encoding.py_finish(b"FIX.4.4", b"35=0\x0134=1\x01")
    assert encode_fields([(8, bytearray(b"FIX.4.4")), (35, b"0"), (34, b"1")]) == raw


# --------------------------------------------------------------------------- validator happy path

ENVELOPE = {8: (0, None, None, False, None), 9: (0, formats.is_non_negative_int, None, False, None),
            35: (0, None, None, False, None), 10: (2, None, None, False, None)}
CHECK_NAMES = ["is_int", "is_non_negative_int", "is_positive_int", "is_float", "is_char", "is_boolean",
               "is_utc_timestamp", "is_utc_time_only", "is_date", "is_month_year", "is_tz_timestamp"]


def fast(value: bytes, check: Any, values: Any = None, multi: Any = False) -> bool | None:
    info = dict(ENVELOPE)
    info[44] = (1, check, values, multi, None)
    fields = [(8, b"FIX.4.4"), (9, b"5"), (35, b"D"), (44, value), (10, b"000")]
    return C.fast_valid(fields, info, (8, 9, 35, 10))  # type: ignore[no-any-return]


value_chars = st.sampled_from(list(b"0123456789") * 3 + list(b"-.:+ ZYNw\x00\xff"))
check_value_st = st.one_of(
    st.lists(value_chars, max_size=30).map(bytes),
    st.builds(lambda d, t, f: b"%08d-%s%s" % (d, t, f), st.integers(0, 10**8 - 1),
              st.sampled_from([b"00:00:00", b"23:59:60", b"24:00:00", b"12:60:00", b"12:00:61", b"1:00:00"]),
              st.sampled_from([b"", b".", b".1", b".123", b".123456789", b".1234567890", b"Z"])),
    st.sampled_from([b"20261122", b"20261301", b"20260230", b"20260100", b"12:30:45.5", b"-1", b"-", b".", b"-.", b".-1",
                     b"1.2.3", b"-1.5", b"1-", b"0", b"00", b"Y", b"N", b"YN", b"202611", b"202611w3", b"20261122-10:00"]),
)


@many
@given(check_value_st, st.sampled_from(CHECK_NAMES))
def test_value_checks_match_formats(value: bytes, name: str) -> None:
    check = getattr(formats, name)
    expected = bool(value) and bool(check(value))
    assert (fast(value, check) is True) == expected


def test_fast_valid_shapes() -> None:
    assert fast(b"1", None) is True
    assert fast(b"", None) is None  # no value: Python decides
    assert fast(b"A", None, frozenset({b"A"})) is True
    assert fast(b"B", None, frozenset({b"A"})) is None
    assert fast(b"A", None, {b"A"}) is None  # not a frozenset
    assert fast(b"A", None, frozenset({b"A"}), True) is None  # multi-value: Python
    assert fast(b"x", lambda v: v == b"x") is True  # a Python check is called
    assert fast(b"y", lambda v: v == b"x") is None
    with pytest.raises(ZeroDivisionError):
        fast(b"x", lambda v: 1 / 0)
    good = [(8, b"F"), (9, b"5"), (35, b"D"), (10, b"000")]
    assert C.fast_valid(good, ENVELOPE, (8, 9, 35, 10)) is True
    assert C.fast_valid(good, ENVELOPE, (8, 9, 35, 10, 49)) is None  # required missing
    assert C.fast_valid(good, ENVELOPE, (8, 9, 35, 10, 10**30)) is None
    assert C.fast_valid(good + [(10, b"000")], ENVELOPE, ()) is None  # duplicate
    assert C.fast_valid(good[:3] + [(10, b"0"), (35, b"D")], ENVELOPE, ()) is None  # out of order
    assert C.fast_valid([good[1], good[0]] + good[2:], ENVELOPE, ()) is None
    assert C.fast_valid(good[:3] + [(9999, b"1"), (10, b"0")], {**ENVELOPE, 9999: (1, None, None, False, None)}, (9999,)) is True  # type: ignore[arg-type]
    assert C.fast_valid(good[:3] + [(9999, b"1"), (9999, b"1"), (10, b"0")], {**ENVELOPE, 9999: (1, None, None, False, None)}, ()) is None  # type: ignore[arg-type]
    assert C.fast_valid(good[:3] + [(58, b"x"), (10, b"0")], ENVELOPE, ()) is None  # undefined field
    assert C.fast_valid(good[:3], ENVELOPE, ()) is None  # CheckSum not last
    for odd in (tuple(good), good[:2], [(8, b"F", 1)] + good[1:], [(8, "F")] + good[1:], [(-8, b"F")] + good[1:]):
        assert C.fast_valid(odd, ENVELOPE, ()) is None
    assert C.fast_valid(good, {**ENVELOPE, 8: (0, None, None, False, object())}, ()) is None  # a group
    assert C.fast_valid(good, {**ENVELOPE, 8: (0, None)}, ()) is None
    assert C.fast_valid(good, ENVELOPE, [8]) is None
    with pytest.raises(TypeError):
        C.fast_valid(good, ENVELOPE)


@pytest.fixture(scope="module")
def fix44() -> Any:
    from fix_engine.dictionary import load_project_dictionary

    return load_project_dictionary("FIX44")


NOS: list[tuple[int, bytes]] = [
    (8, b"FIX.4.4"), (9, b"0"), (35, b"D"), (34, b"2"), (49, b"CLIENT"), (52, b"20240102-10:11:12.123"), (56, b"GW"),
    (1, b"ACC1"), (11, b"ORD-1"), (21, b"1"), (38, b"100"), (40, b"2"), (44, b"101.25"), (54, b"1"), (55, b"AAPL"),
    (59, b"0"), (60, b"20240102-10:11:12.123"), (10, b"000"),
]
EDIT_TAGS = [1, 11, 21, 38, 40, 44, 54, 55, 59, 60, 58, 9999, 5000, 453, 448, 34, 52, 10, 35, 8, 9, 1128, 100]
EDIT_VALUES = [b"", b"1", b"0", b"-1", b"X", b"1.5", b"abc", b"20240102-10:11:12", b"2024-01-02", b"Y", b"D", b"8"]


@many
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 40), st.sampled_from(EDIT_TAGS), st.sampled_from(EDIT_VALUES)), max_size=4),
       st.sampled_from([validation.DEFAULT_SETTINGS, validation.ValidationSettings(validate_fields_out_of_order=False, validate_fields_have_values=False, allow_unknown_msg_fields=True, validate_user_defined_fields=False, check_msg_type=False)]))
def test_validator_c_equals_python(fix44: Any, edits: list[tuple[int, int, int, bytes]], settings_: Any) -> None:
    fields = list(NOS)
    for op, where, tag, value in edits:
        i = where % (len(fields) + 1)
        if op == 0:
            fields.insert(i, (tag, value))
        elif op == 1 and i < len(fields):
            fields[i] = (fields[i][0], value)
        elif op == 2 and i < len(fields):
            del fields[i]
        elif op == 3 and i < len(fields):
            fields[i] = (tag, fields[i][1])
    validator = validation.Validator(fix44, settings_)
    msg = FixMessage(fields)
    c_result = validator.validate(msg)
    saved = validation._fast_valid
    validation._fast_valid = None
    try:
        py_result = validation.Validator(fix44, settings_).validate(FixMessage(list(fields)))
    finally:
        validation._fast_valid = saved
    assert c_result == py_result


def test_validator_fast_path_is_taken_for_a_valid_message(fix44: Any) -> None:
    validator = validation.Validator(fix44)
    msg = FixMessage(list(NOS))
    compiled = validator._compile(b"D")
    assert C.fast_valid(msg.fields, compiled.info, compiled.required) is True
    assert validator.validate(msg) == []


# --------------------------------------------------------------------------- new_fields, has_any_tag

field_values = st.one_of(
    st.binary(max_size=8),
    st.text(max_size=8),  # includes non-ASCII (UTF-8) and surrogates (an encoding error)
    st.integers(-5, 5),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.booleans(),
    st.none(),
)


def py_new(msg_type: Any, fields: tuple[Any, ...]) -> list[Any]:
    original = message_module._new_fields
    message_module._new_fields = None
    try:
        return FixMessage.new(msg_type, *fields).fields
    finally:
        message_module._new_fields = original


import fix_engine.codec.message as message_module  # noqa: E402
from fix_engine.session import outbound  # noqa: E402


@many
@given(
    st.one_of(st.sampled_from(["D", "8", "AE"]), st.text(max_size=3)),
    st.lists(st.tuples(st.integers(1, 10_000), field_values), max_size=6),
)
def test_new_fields_c_equals_python(msg_type: str, fields: list[tuple[int, Any]]) -> None:
    c = outcome(lambda: FixMessage.new(msg_type, *fields).fields)
    py = outcome(py_new, msg_type, tuple(fields))
    assert c == py
    if c[0] == "ok":
        assert all(type(v) is bytes for _, v in c[1])


def test_new_fields_leaves_unusual_input_to_python() -> None:
    assert C.new_fields("D", ((11, 5),)) is None  # an int value: Python converts it
    assert C.new_fields("D", ((11,),)) is None  # not a pair: Python raises its own error
    assert C.new_fields(b"D", ()) is None
    assert C.new_fields("D", [(11, b"x")]) is None  # a list, not the varargs tuple
    assert C.new_fields("D", ((11, "é"),)) == [(35, b"D"), (11, "é".encode())]
    with pytest.raises(UnicodeEncodeError):
        C.new_fields("é", ())


@many
@given(
    st.lists(st.tuples(st.integers(1, 200), st.binary(max_size=2)), max_size=10),
    st.frozensets(st.integers(1, 200), max_size=5),
)
def test_has_any_tag_c_equals_python(fields: list[tuple[int, bytes]], tags: frozenset[int]) -> None:
    assert C.has_any_tag(fields, tags) is (not tags.isdisjoint(t for t, _ in fields))


def test_has_any_tag_leaves_unusual_input_to_python() -> None:
    assert C.has_any_tag([(1, b"")], {1}) is None  # a set, not a frozenset
    assert C.has_any_tag(((1, b""),), frozenset({1})) is None  # a tuple, not a list
    assert C.has_any_tag([[1, b""]], frozenset({1})) is None
    assert C.has_any_tag([(True, b"")], frozenset({1})) is None  # bool is not exactly int
    assert outbound._has_any_tag is C.has_any_tag


# --------------------------------------------------------------------------- UTCTimestamps

from fix_engine.codec import message as codec_message  # noqa: E402
from fix_engine.session import checks  # noqa: E402


def py_epoch(raw: bytes) -> tuple[str, Any]:
    original = checks._utc_epoch
    checks._utc_epoch = None
    try:
        return outcome(checks.utc_timestamp_epoch, 52, raw)
    finally:
        checks._utc_epoch = original


timestamp_text = st.builds(
    lambda y, mo, d, h, mi, s, frac: b"%04d%02d%02d-%02d:%02d:%02d" % (y, mo, d, h, mi, s) + frac,
    st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32), st.integers(0, 24), st.integers(0, 60),
    st.integers(0, 61),
    st.sampled_from([b"", b".", b".1", b".12", b".123", b".1234", b".123456", b".123456789", b".12x", b".1234567890"]),
)


@many
@given(st.one_of(timestamp_text, st.binary(min_size=15, max_size=28)))
def test_utc_epoch_c_equals_python(raw: bytes) -> None:
    fast = C.utc_epoch(raw)
    py = py_epoch(raw)
    if fast is None:
        return  # Python decides (both paths then run the same code)
    assert py == ("ok", fast)


def test_utc_epoch_known_values() -> None:
    assert C.utc_epoch(b"19700101-00:00:00") == 0.0
    assert C.utc_epoch(b"20240229-23:59:60") == 1709251199.0  # leap day, leap second
    assert C.utc_epoch(b"20230229-00:00:00") is None  # no such day: Python raises
    assert C.utc_epoch(b"19691231-23:59:59.500") == -0.5
    assert C.utc_epoch(b"20261122-10:00:00.123456789") == 1795341600.123456
    assert C.utc_epoch("20261122-10:00:00") is None
    with pytest.raises(Exception, match="UTCTimestamp"):
        checks.utc_timestamp_epoch(52, b"20230229-00:00:00")


def py_format(epoch: Any, precision: Any) -> tuple[str, Any]:
    original = codec_message._format_timestamp
    codec_message._format_timestamp = None
    try:
        return outcome(codec_message.format_epoch_timestamp, epoch, precision)
    finally:
        codec_message._format_timestamp = original


@many
@given(
    st.one_of(
        st.floats(min_value=-62135596800.0, max_value=253402300799.0),
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(0, 2_000_000_000).map(lambda n: n + 0.5),  # exact halves: round half to even
        st.integers(0, 2_000_000_000_000).map(lambda n: n / 1000 + 0.0005),
    ),
    st.sampled_from([0, 3, 6, 9, 1, -3]),
)
def test_format_timestamp_c_equals_python(epoch: float, precision: int) -> None:
    fast = C.format_timestamp(epoch, precision)
    py = py_format(epoch, precision)
    if fast is None:
        return
    assert py == ("ok", fast)


def test_format_timestamp_known_values() -> None:
    assert C.format_timestamp(0.0, 3) == b"19700101-00:00:00.000"
    assert C.format_timestamp(1790000000.1235, 3) == py_format(1790000000.1235, 3)[1]
    assert C.format_timestamp(-0.5, 0) == b"19700101-00:00:00"  # round half to even: -0.5 -> 0
    assert C.format_timestamp(-1.5, 0) == b"19691231-23:59:58"
    assert C.format_timestamp(1.0, 2) is None and C.format_timestamp(1, 3) is None
    assert C.format_timestamp(1e300, 3) is None


# --------------------------------------------------------------------------- MessageCore


@many
@given(
    st.lists(st.tuples(st.integers(1, 30), st.binary(max_size=3)), max_size=12),
    st.lists(st.integers(0, 35), max_size=6),
    st.one_of(st.none(), st.binary(max_size=2)),
    st.lists(st.sampled_from(["append", "set", "remove", "group", "raw_append"]), max_size=4),
)
def test_message_core_lookups_equal_the_python_twins(
    fields: list[tuple[int, bytes]], probes: list[int], default: bytes | None, edits: list[str]
) -> None:
    msg = FixMessage(list(fields))
    for n, edit in enumerate(edits):  # the index must follow every kind of change
        if edit == "append":
            msg.append(5 + n, b"a")
        elif edit == "set":
            msg.set(probes[0] if probes else 7, b"s%d" % n)
        elif edit == "remove":
            msg.remove(probes[-1] if probes else 7)
        elif edit == "group":
            msg.add_group(453, [[(448, b"P%d" % n)]] * (n + 1))
        else:
            msg.fields.append((9 + n, b"r"))  # behind the message's back
        for tag in probes + [453]:
            assert outcome(msg.get_raw, tag, default) == outcome(codec_message._py_get_raw, msg, tag, default)
            assert outcome(msg.get_raw, tag) == outcome(codec_message._py_get_raw, msg, tag)
            assert (tag in msg) == (tag in codec_message._py_build_index(msg))
    assert msg.field_index() == dict(reversed(msg.fields))


def test_message_core_is_the_base_and_argument_errors() -> None:
    assert FixMessage.__mro__[1] is C.MessageCore
    msg = FixMessage.parse(b"8=FIX.4.4\x019=5\x0135=0\x0110=000\x01")
    assert msg.get_raw(35) == b"0" and msg.get_raw(1) is None and msg.get_raw(1, b"d") == b"d"
    with pytest.raises(TypeError):
        msg.get_raw()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        msg.get_raw(1, None, 3)  # type: ignore[call-arg]
    msg.fields = ((35, b"x"),)  # type: ignore[assignment]  # not a list: the Python twin decides
    assert msg.get_raw(35) == b"x"
    assert FixMessage.new("D", (11, b"a")).get_raw(11, "str default") == b"a"
