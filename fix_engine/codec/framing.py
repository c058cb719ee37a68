"""FrameParser: cut a TCP byte stream into FIX frames by BodyLength, verifying CheckSum.

The shape follows QuickFIX's ``Parser.cpp`` and simplefix's ``append_buffer``/``get_message``:
find ``8=``, read ``9=`` (BodyLength), take exactly that many bytes, expect ``10=nnn<SOH>``.

Each complete frame is returned as a :class:`Frame`.  A frame that is framed but wrong (bad
checksum, BodyLength not landing on ``10=``, first three fields not 8, 9, 35, BodyLength above
the configured maximum) is returned with ``error`` set, so that the session layer can ignore it
without consuming a sequence number.  Bytes that cannot start a message are skipped up to the
next ``8=FIX`` and counted in ``discarded_bytes``.

The parser never raises on input bytes, and what it buffers is bounded by
``max_message_size`` plus the header (:data:`MAX_HEADER_SIZE`) and the trailer.

The scan itself is :func:`py_scan_frames`, or its C twin ``_speedups.scan_frames`` when the
optional extension is loaded (see :mod:`.parsing`); ``FrameParser`` keeps the buffering.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from zlib import adler32

from .parsing import speedups

#: Default upper bound for one message (QuickFIX has no bound; a peer could make it buffer forever).
DEFAULT_MAX_MESSAGE_SIZE = 1 << 20

_BEGIN = b"8=FIX"
_MAX_BEGIN_STRING = 64  # "8=FIXT.1.1<SOH>" fits comfortably; longer is not a BeginString
_MAX_LENGTH_DIGITS = 12  # "9=" + up to 12 characters + SOH
_TRAILER_SIZE = 7  # "10=nnn<SOH>"

#: The most a frame's bytes before the body can take: BeginString, BodyLength and their SOHs.
MAX_HEADER_SIZE = _MAX_BEGIN_STRING + 3 + _MAX_LENGTH_DIGITS + 1

#: ``b"10=nnn<SOH>"`` for every CheckSum value: one ``startswith`` checks the whole trailer.
_TRAILERS: tuple[bytes, ...] = tuple(b"10=%03d\x01" % i for i in range(256))


class FrameError(StrEnum):
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

    A partial frame whose BodyLength is known is kept as a list of chunks and joined once when
    enough bytes have arrived, so a peer dribbling a large message costs linear, not quadratic,
    time.
    """

    __slots__ = ("_chunks", "_pending", "_need", "max_message_size", "validate_checksum", "discarded_bytes")

    def __init__(self, max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE, validate_checksum: bool = True) -> None:
        self._chunks: list[bytes] = []
        self._pending = 0  # bytes in _chunks
        self._need = 0  # bytes needed before the buffered frame can complete (0: rescan on any data)
        self.max_message_size = max_message_size
        self.validate_checksum = validate_checksum
        self.discarded_bytes = 0

    @property
    def buffered(self) -> int:
        """How many bytes wait for the rest of their frame."""
        return self._pending

    def reset(self) -> None:
        """Forget any partial frame (e.g. on reconnect)."""
        self._chunks = []
        self._pending = 0
        self._need = 0

    def feed(self, data: bytes) -> list[Frame]:
        """Add ``data`` and return the frames it completes (garbled ones with ``error`` set)."""
        if self._chunks:
            self._chunks.append(bytes(data))
            self._pending += len(data)
            if self._pending < self._need:
                return []
            buf = b"".join(self._chunks)
            self._chunks = []
        elif type(data) is bytes:
            buf = data
        else:
            buf = bytes(data)
        frames, pos, need, discarded = _scan_frames(buf, self.max_message_size, self.validate_checksum)
        if discarded:
            self.discarded_bytes += discarded
        end = len(buf)
        if pos < end:
            tail = buf[pos:]
            self._chunks = [tail]
            self._pending = len(tail)
            self._need = need
        else:
            self._pending = 0
            self._need = 0
        return frames


def py_scan_frames(buf: bytes, max_message_size: int, validate_checksum: bool) -> tuple[list[Frame], int, int, int]:
    """Cut the frames out of ``buf``: ``(frames, pos, need, discarded)``.

    ``buf[pos:]`` is the unconsumed tail (a partial frame or a partial ``8=FIX``), ``need`` how many
    bytes that partial frame needs in all (0: unknown yet), ``discarded`` how many bytes were skipped.
    The pure-Python scan: the reference its C twin (``_speedups.scan_frames``) matches.
    """
    frames: list[Frame] = []
    pos = 0
    need = 0
    discarded = 0
    end = len(buf)
    find = buf.find
    startswith = buf.startswith
    while pos < end:
        start = find(_BEGIN, pos)
        if start < 0:
            # keep a tail that could be the start of "8=FIX"
            keep = _partial_begin_suffix(buf, pos)
            discarded += end - pos - keep
            pos = end - keep
            break
        if start > pos:
            discarded += start - pos
            pos = start
        soh1 = find(b"\x01", start, start + _MAX_BEGIN_STRING)
        if soh1 < 0:
            if end - start < _MAX_BEGIN_STRING:
                break  # BeginString not complete yet
            discarded += 2
            pos = start + 2
            continue
        if not startswith(b"9=", soh1 + 1):
            if end - soh1 < 3:
                break  # BodyLength tag not complete yet
            frames.append(Frame(buf[start : soh1 + 1], FrameError.HEADER_ORDER))
            pos = soh1 + 1
            continue
        soh2 = find(b"\x01", soh1 + 3, soh1 + 4 + _MAX_LENGTH_DIGITS)
        if soh2 < 0:
            if end < soh1 + 4 + _MAX_LENGTH_DIGITS:
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
        if body_length > max_message_size:
            frames.append(Frame(buf[start : soh2 + 1], FrameError.TOO_LARGE))
            pos = soh2 + 1
            continue
        trailer = soh2 + 1 + body_length
        frame_end = trailer + _TRAILER_SIZE
        if frame_end > end:
            need = frame_end - start
            break  # body not complete yet
        if validate_checksum:
            if trailer - start <= _SUM_CHUNK:  # inline the common case of _byte_sum
                ok = startswith(_TRAILERS[adler32(buf[start:trailer], 0) & 0xFF], trailer)
            else:
                ok = startswith(_TRAILERS[_byte_sum(buf[start:trailer]) & 0xFF], trailer)
        else:
            ok = startswith(b"10=", trailer) and buf[frame_end - 1] == 1 and buf[trailer + 3 : frame_end - 1].isdigit()
        if ok and buf[trailer - 1] == 1:
            raw = buf[start:frame_end]
            frames.append(Frame(raw) if startswith(b"35=", soh2 + 1) else Frame(raw, FrameError.HEADER_ORDER))
            pos = frame_end
            continue
        if startswith(b"10=", trailer) and buf[trailer - 1] == 1 and buf[frame_end - 1] == 1:
            # the frame lands on its trailer: only the CheckSum is wrong (or not three digits)
            frames.append(Frame(buf[start:frame_end], FrameError.CHECKSUM))
            pos = frame_end
            continue
        # BodyLength wrong: consume up to the next real trailer, or up to the next message
        frame = _bad_length_frame(buf, start, soh2 + 1)
        frames.append(frame)
        pos = start + len(frame.raw)
    return frames, pos, need, discarded


def _bad_length_frame(buf: bytes, start: int, body_start: int) -> Frame:
    """The garbled frame for a BodyLength that does not land on ``10=``."""
    next_begin = buf.find(b"\x01" + _BEGIN, body_start)
    trailer = buf.find(b"\x0110=", body_start)
    if trailer >= 0 and (next_begin < 0 or trailer < next_begin):
        stop = buf.find(b"\x01", trailer + 4)
        if stop >= 0 and (next_begin < 0 or stop <= next_begin):
            return Frame(buf[start : stop + 1], FrameError.BODY_LENGTH)
    if next_begin >= 0:
        return Frame(buf[start : next_begin + 1], FrameError.BODY_LENGTH)
    return Frame(buf[start:body_start], FrameError.BODY_LENGTH)


def _partial_begin_suffix(buf: bytes, pos: int) -> int:
    """Length of the longest suffix of ``buf[pos:]`` that is a proper prefix of ``8=FIX``."""
    for keep in range(min(len(_BEGIN) - 1, len(buf) - pos), 0, -1):
        if buf.endswith(_BEGIN[:keep]):
            return keep
    return 0


# Adler-32's first half is the byte sum modulo 65521: exact while the sum stays below 65521, i.e.
# for up to 256 arbitrary bytes (256 * 255) or 515 ASCII bytes (515 * 127).
_SUM_CHUNK = 256
_SUM_CHUNK_ASCII = 515


def _byte_sum(data: bytes) -> int:
    """The plain sum of ``data``'s bytes, at C speed (Adler-32's A over chunks that cannot wrap)."""
    n = len(data)
    if n <= _SUM_CHUNK:
        return adler32(data, 0) & 0xFFFF
    step = _SUM_CHUNK_ASCII if data.isascii() else _SUM_CHUNK
    if n <= step:
        return adler32(data, 0) & 0xFFFF
    total = 0
    for i in range(0, n, step):
        total += adler32(data[i : i + step], 0) & 0xFFFF
    return total


def checksum(data: bytes) -> int:
    """The FIX CheckSum (10) of ``data``: the byte sum modulo 256."""
    return _byte_sum(data) & 0xFF


# --------------------------------------------------------------------------- C accelerator

if speedups is not None:
    speedups.configure(
        scan_fallback=py_scan_frames,
        frame_type=Frame,
        frame_errors=(
            FrameError.CHECKSUM,
            FrameError.BODY_LENGTH,
            FrameError.BAD_BODY_LENGTH,
            FrameError.HEADER_ORDER,
            FrameError.TOO_LARGE,
        ),
    )

#: ``(buf, max_message_size, validate_checksum) -> (frames, pos, need, discarded)``: the C scan when
#: the extension is loaded (see :mod:`.parsing`), else :func:`py_scan_frames`.
_scan_frames: Callable[[bytes, int, bool], tuple[list[Frame], int, int, int]] = (
    speedups.scan_frames if speedups is not None else py_scan_frames
)
