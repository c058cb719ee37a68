"""FrameParser: framing by BodyLength, CheckSum, resync on garbage, bounded buffering.

DESIGN.md example 3: every byte-stream consumer is fed one byte at a time, then in every chunk
size, then in random chunks (Hypothesis).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fix_engine.codec import FixMessage, Frame, FrameError, FrameParser, checksum, encode, encode_fields
from fix_engine.codec.framing import MAX_HEADER_SIZE


def nos(seq: int = 1, text: bytes = b"hello") -> bytes:
    return encode_fields(
        [(8, b"FIX.4.4"), (35, b"D"), (34, b"%d" % seq), (49, b"CLIENT"), (56, b"GATE"), (11, b"ORD%d" % seq), (58, text)]
    )


HEARTBEAT = encode_fields([(8, b"FIX.4.4"), (35, b"0"), (34, b"7"), (49, b"A"), (56, b"B")])
STREAM = nos(1) + HEARTBEAT + nos(2, b"x=y") + nos(3)


def feed_in_chunks(parser: FrameParser, data: bytes, sizes: list[int]) -> list[Frame]:
    frames: list[Frame] = []
    pos = 0
    i = 0
    while pos < len(data):
        size = sizes[i % len(sizes)] if sizes else len(data)
        frames += parser.feed(data[pos : pos + size])
        pos += size
        i += 1
    return frames


def test_one_message_one_frame() -> None:
    frames = FrameParser().feed(nos())
    assert frames == [Frame(nos())]
    assert not frames[0].garbled


def test_checksum_helper_matches_sum() -> None:
    for data in (b"", b"\x01", bytes(range(256)) * 5, b"\xff" * 1000, b"a" * 515, b"a" * 516):
        assert checksum(data) == sum(data) % 256


def test_every_chunk_size_from_one_byte() -> None:
    expected = [Frame(nos(1)), Frame(HEARTBEAT), Frame(nos(2, b"x=y")), Frame(nos(3))]
    for size in range(1, len(STREAM) + 1):
        parser = FrameParser()
        assert feed_in_chunks(parser, STREAM, [size]) == expected, size
        assert parser.buffered == 0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=80), min_size=1, max_size=40))
def test_random_chunkings(sizes: list[int]) -> None:
    parser = FrameParser()
    assert [f.raw for f in feed_in_chunks(parser, STREAM, sizes)] == [nos(1), HEARTBEAT, nos(2, b"x=y"), nos(3)]
    assert parser.buffered == 0


def test_many_messages_in_one_feed() -> None:
    data = b"".join(nos(i) for i in range(1, 501))
    frames = FrameParser().feed(data)
    assert len(frames) == 500
    assert all(not f.garbled for f in frames)
    assert FixMessage.parse(frames[-1].raw).get_int(34) == 500


def test_garbage_before_and_between_messages_is_skipped() -> None:
    parser = FrameParser()
    frames = parser.feed(b"\r\nnoise 8=FI" + nos(1) + b"garbage\x01\x01" + nos(2))
    assert [f.raw for f in frames] == [nos(1), nos(2)]
    assert parser.discarded_bytes == len(b"\r\nnoise 8=FI") + len(b"garbage\x01\x01")


def test_partial_begin_string_at_end_of_chunk_is_kept() -> None:
    parser = FrameParser()
    data = nos(1)
    for cut in range(1, 6):  # "8", "8=", "8=F", "8=FI", "8=FIX"
        parser = FrameParser()
        assert parser.feed(b"junk" + data[:cut]) == []
        assert parser.buffered == cut
        assert parser.feed(data[cut:]) == [Frame(data)]


def test_wrong_checksum_is_garbled_and_next_message_still_framed() -> None:
    bad = nos(1)[:-4] + b"%03d\x01" % ((int(nos(1)[-4:-1]) + 1) % 256)
    frames = FrameParser().feed(bad + nos(2))
    assert [f.error for f in frames] == [FrameError.CHECKSUM, None]
    assert frames[0].raw == bad


@pytest.mark.parametrize("trailer", [b"10=abc\x01", b"10=1a3\x01", b"10=-12\x01"])
def test_non_digit_checksum_is_garbled(trailer: bytes) -> None:
    bad = nos(1)[:-7] + trailer
    assert [f.error for f in FrameParser().feed(bad + nos(2))] == [FrameError.CHECKSUM, None]


def test_checksum_not_validated_when_disabled() -> None:
    bad = nos(1)[:-4] + b"000\x01"
    assert FrameParser(validate_checksum=False).feed(bad) == [Frame(bad)]
    assert FrameParser(validate_checksum=False).feed(nos(1)[:-7] + b"10=abc\x01")[0].error is FrameError.CHECKSUM


@pytest.mark.parametrize("length", [b"abc", b"-5", b"", b"+5", b" 5", b"1_0", b"5.0"])
def test_non_numeric_body_length(length: bytes) -> None:
    data = b"8=FIX.4.4\x019=" + length + b"\x0135=0\x0110=000\x01"
    frames = FrameParser().feed(data + nos(1))
    assert frames[0].error is FrameError.BAD_BODY_LENGTH
    assert frames[-1] == Frame(nos(1))


def test_body_length_too_long_for_its_field() -> None:
    frames = FrameParser().feed(b"8=FIX.4.4\x019=" + b"9" * 40 + b"\x0135=0\x01" + nos(1))
    assert frames[0].error is FrameError.BAD_BODY_LENGTH
    assert frames[-1] == Frame(nos(1))


def test_body_length_wrong_consumes_up_to_the_real_trailer() -> None:
    good = nos(1)
    wrong = good.replace(b"9=%d" % (len(good) - 7 - good.index(b"35=")), b"9=20", 1)
    frames = FrameParser().feed(wrong + nos(2))
    assert frames[0].error is FrameError.BODY_LENGTH
    assert frames[0].raw == wrong
    assert frames[1] == Frame(nos(2))


def test_soh_inside_ordinary_field_makes_a_garbled_or_unparseable_frame() -> None:
    # the sender counted the extra SOH: frames fine, parsing refuses the field without '='
    inner = encode_fields([(8, b"FIX.4.4"), (35, b"0"), (58, b"a\x01b")])
    frame = FrameParser().feed(inner)[0]
    assert frame.error is None
    with pytest.raises(Exception) as info:
        FixMessage.parse(frame.raw)
    assert type(info.value).__name__ == "ParseError"


def test_first_fields_not_8_9_35() -> None:
    no_msg_type = encode_fields([(8, b"FIX.4.4"), (34, b"1"), (35, b"0")])
    frames = FrameParser().feed(no_msg_type + nos(1))
    assert frames[0].error is FrameError.HEADER_ORDER
    assert frames[1] == Frame(nos(1))
    no_length = b"8=FIX.4.4\x0135=0\x0110=000\x01"
    frames = FrameParser().feed(no_length + nos(2))
    assert frames[0].error is FrameError.HEADER_ORDER
    assert frames[-1] == Frame(nos(2))


def test_duplicate_begin_string() -> None:
    data = b"8=FIX.4.4\x018=FIX.4.4\x019=5\x0135=0\x0110=000\x01"
    frames = FrameParser().feed(data + nos(1))
    assert frames[0].error is FrameError.HEADER_ORDER
    assert frames[-1] == Frame(nos(1))


def test_duplicate_body_length_and_msg_type_are_framed_as_garbled_or_left_to_the_parser() -> None:
    dup9 = b"8=FIX.4.4\x019=5\x019=5\x0135=0\x0110=000\x01"
    frames = FrameParser().feed(dup9 + nos(1))
    assert frames[0].garbled
    assert frames[-1] == Frame(nos(1))
    dup35 = encode_fields([(8, b"FIX.4.4"), (35, b"0"), (35, b"1")])
    frame = FrameParser().feed(dup35)[0]
    assert not frame.garbled  # framing is fine; the session/validator rejects tag 35 twice
    assert FixMessage.parse(frame.raw).get_all(35) == [b"0", b"1"]


def test_begin_string_without_soh_is_skipped() -> None:
    parser = FrameParser()
    frames = parser.feed(b"8=FIX" + b"x" * 100 + nos(1))
    assert frames == [Frame(nos(1))]


def test_too_large_announced_length_is_reported_and_buffer_stays_bounded() -> None:
    limit = 4096
    parser = FrameParser(max_message_size=limit)
    frames = parser.feed(b"8=FIX.4.4\x019=99999999\x01")
    assert [f.error for f in frames] == [FrameError.TOO_LARGE]
    for _ in range(200):
        assert parser.feed(b"\x00garbage\x01" * 100) == []
        assert parser.buffered <= limit + MAX_HEADER_SIZE
    assert parser.feed(nos(1)) == [Frame(nos(1))]


def test_length_below_limit_but_wrong_waits_at_most_the_limit() -> None:
    limit = 2000
    parser = FrameParser(max_message_size=limit)
    head = b"8=FIX.4.4\x019=%d\x01" % limit
    assert parser.feed(head + b"35=0\x01") == []
    frames: list[Frame] = []
    for _ in range(100):
        frames += parser.feed(b"x" * 50)
        assert parser.buffered <= limit + MAX_HEADER_SIZE + 7
    assert frames and frames[0].garbled
    assert parser.feed(nos(1))[-1] == Frame(nos(1))


def test_dribbling_a_large_message_is_linear_and_exact() -> None:
    big = encode_fields([(8, b"FIX.4.4"), (35, b"B"), (58, b"z" * 50_000)])
    parser = FrameParser()
    frames: list[Frame] = []
    for i in range(0, len(big), 7):
        frames += parser.feed(big[i : i + 7])
    assert frames == [Frame(big)]


def test_reset_forgets_partial_frame() -> None:
    parser = FrameParser()
    parser.feed(nos(1)[:30])
    parser.reset()
    assert parser.buffered == 0
    assert parser.feed(nos(2)) == [Frame(nos(2))]


def test_bytearray_and_memoryview_input() -> None:
    assert FrameParser().feed(bytearray(nos(1))) == [Frame(nos(1))]
    assert FrameParser().feed(memoryview(nos(1))) == [Frame(nos(1))]


def test_fixt_begin_string() -> None:
    msg = FixMessage.new("A", (49, "A"), (56, "B"), (34, 1), (98, 0), (108, 30), (1137, "9"))
    data = encode(msg, b"FIXT.1.1")
    assert FrameParser().feed(data) == [Frame(data)]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.lists(st.integers(min_value=1, max_value=64), min_size=1, max_size=20))
def test_random_bytes_never_raise_and_buffer_is_bounded(noise: bytes, sizes: list[int]) -> None:
    parser = FrameParser(max_message_size=256)
    frames = feed_in_chunks(parser, noise + nos(1), sizes)
    assert parser.buffered <= 256 + MAX_HEADER_SIZE + 7
    for frame in frames:
        assert isinstance(frame.raw, bytes)
        if frame.error is None:
            FixMessage.parse(frame.raw)  # a clean frame is either parseable or raises ParseError only


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"8=FIX.4.4\x01", b"9=", b"12", b"\x01", b"35=D\x01", b"10=", b"000", b"8=FI", b"=", b"x"]), max_size=40))
def test_fix_looking_noise_never_raises(pieces: list[bytes]) -> None:
    parser = FrameParser(max_message_size=128)
    data = b"".join(pieces) + nos(1)
    for i in range(0, len(data), 5):
        for frame in parser.feed(data[i : i + 5]):
            assert frame.raw
    assert parser.buffered <= 128 + MAX_HEADER_SIZE + 7
