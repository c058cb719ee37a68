"""FrameParser: cut a TCP byte stream into FIX frames by BodyLength, verifying CheckSum.

The shape follows QuickFIX's ``Parser.cpp`` and simplefix's ``append_buffer``/``get_message``:
find ``8=``, read ``9=`` (BodyLength), take exactly that many bytes, expect ``10=nnn<SOH>``.

Each complete frame is returned as a :class:`Frame`.  A frame that is framed but wrong (bad
checksum, BodyLength not landing on ``10=``, first three fields not 8, 9, 35, BodyLength above
the configured maximum) is returned with ``error`` set, so that the session layer can ignore it
without consuming a sequence number.  Bytes that cannot start a message are skipped up to the
next ``8=FIX`` and counted in ``discarded_bytes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

#: Default upper bound for one message (QuickFIX has no bound; a peer could make it buffer forever).
DEFAULT_MAX_MESSAGE_SIZE = 1 << 20

_BEGIN = b"8=FIX"
_MAX_HEADER = 64  # "8=FIXT.1.1<SOH>9=nnnnnnnn<SOH>" fits comfortably


class FrameError(str, Enum):
    """Why a frame is garbled (the session ignores such frames without consuming a MsgSeqNum)."""

    CHECKSUM = "CheckSum does not match"
    BODY_LENGTH = "BodyLength does not end on the CheckSum field"
    BAD_BODY_LENGTH = "BodyLength is not a non-negative integer"
    HEADER_ORDER = "first three fields are not 8, 9, 35"
    TOO_LARGE = "BodyLength exceeds the maximum message size"


@dataclass(slots=True)
class Frame:
    """One framed message: its exact bytes and, when garbled, why."""

    raw: bytes
    error: FrameError | None = None

    @property
    def garbled(self) -> bool:
        return self.error is not None


class FrameParser:
    """Incremental framer over one connection's byte stream (a buffer object, no I/O).

    ``feed(data)`` appends bytes and returns every frame completed by them, in order; a
    partial frame stays buffered.  ``max_message_size`` bounds what one frame may announce, so
    a peer cannot make the buffer grow without limit; ``validate_checksum=False`` (QuickFIX's
    ``ValidateLengthAndChecksum=N``) skips the CheckSum check.
    """

    __slots__ = ("_buf", "max_message_size", "validate_checksum", "discarded_bytes")

    def __init__(self, max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE, validate_checksum: bool = True) -> None:
        self._buf = b""
        self.max_message_size = max_message_size
        self.validate_checksum = validate_checksum
        self.discarded_bytes = 0

    @property
    def buffered(self) -> int:
        """How many bytes wait for the rest of their frame."""
        return len(self._buf)

    def reset(self) -> None:
        self._buf = b""

    def feed(self, data: bytes) -> list[Frame]:
        buf = self._buf + data if self._buf else bytes(data)
        frames: list[Frame] = []
        pos = 0
        end = len(buf)
        while pos < end:
            start = buf.find(_BEGIN, pos)
            if start < 0:
                # keep a tail that could be the start of "8=FIX"
                keep = _partial_begin_suffix(buf, pos)
                self.discarded_bytes += end - pos - keep
                pos = end - keep
                break
            if start > pos:
                self.discarded_bytes += start - pos
                pos = start
            soh1 = buf.find(b"\x01", start, start + _MAX_HEADER)
            if soh1 < 0:
                if end - start < _MAX_HEADER:
                    break  # BeginString not complete yet
                self.discarded_bytes += 2
                pos = start + 2
                continue
            if buf[soh1 + 1 : soh1 + 3] != b"9=":
                if end - soh1 < 3:
                    break
                frames.append(Frame(buf[start : soh1 + 1], FrameError.HEADER_ORDER))
                pos = soh1 + 1
                continue
            soh2 = buf.find(b"\x01", soh1 + 3, soh1 + 3 + 12)
            if soh2 < 0:
                if end - soh1 < 16:
                    break  # BodyLength not complete yet
                frames.append(Frame(buf[start : soh1 + 3], FrameError.BAD_BODY_LENGTH))
                pos = soh1 + 3
                continue
            length_bytes = buf[soh1 + 3 : soh2]
            if not length_bytes.isdigit():
                frames.append(Frame(buf[start : soh2 + 1], FrameError.BAD_BODY_LENGTH))
                pos = soh2 + 1
                continue
            body_length = int(length_bytes)
            if body_length > self.max_message_size:
                frames.append(Frame(buf[start : soh2 + 1], FrameError.TOO_LARGE))
                pos = soh2 + 1
                continue
            body_start = soh2 + 1
            trailer = body_start + body_length
            frame_end = trailer + 7  # "10=nnn<SOH>"
            if frame_end > end:
                # maybe the BodyLength is wrong and a trailer already sits earlier
                if end - body_start > self.max_message_size:
                    frames.append(Frame(buf[start:end], FrameError.TOO_LARGE))
                    pos = end
                break
            if buf[trailer : trailer + 3] != b"10=" or buf[frame_end - 1] != 1 or buf[trailer - 1] != 1:
                # BodyLength wrong: consume up to the next real trailer, or up to the next message
                frames.append(self._bad_length_frame(buf, start, body_start))
                pos = start + len(frames[-1].raw)
                continue
            raw = buf[start:frame_end]
            if buf[body_start : body_start + 3] != b"35=":
                frames.append(Frame(raw, FrameError.HEADER_ORDER))
            elif self.validate_checksum and not _checksum_matches(raw, trailer - start):
                frames.append(Frame(raw, FrameError.CHECKSUM))
            else:
                frames.append(Frame(raw))
            pos = frame_end
        self._buf = buf[pos:] if pos < end else b""
        return frames

    def _bad_length_frame(self, buf: bytes, start: int, body_start: int) -> Frame:
        next_begin = buf.find(b"\x01" + _BEGIN, body_start)
        trailer = buf.find(b"\x0110=", body_start)
        if trailer >= 0 and (next_begin < 0 or trailer < next_begin):
            stop = buf.find(b"\x01", trailer + 4)
            if stop >= 0:
                return Frame(buf[start : stop + 1], FrameError.BODY_LENGTH)
        if next_begin >= 0:
            return Frame(buf[start : next_begin + 1], FrameError.BODY_LENGTH)
        return Frame(buf[start:body_start], FrameError.BODY_LENGTH)


def _checksum_matches(raw: bytes, trailer_offset: int) -> bool:
    digits = raw[trailer_offset + 3 : trailer_offset + 6]
    if not digits.isdigit():
        return False
    return sum(raw[:trailer_offset]) & 0xFF == int(digits)


def _partial_begin_suffix(buf: bytes, pos: int) -> int:
    """Length of the longest suffix of ``buf[pos:]`` that is a proper prefix of ``8=FIX``."""
    for keep in range(min(len(_BEGIN) - 1, len(buf) - pos), 0, -1):
        if buf.endswith(_BEGIN[:keep]):
            return keep
    return 0


def checksum(data: bytes) -> int:
    """The FIX CheckSum (10) of ``data``: the byte sum modulo 256."""
    return sum(data) & 0xFF
