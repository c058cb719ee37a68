"""FileStore body records: encoding, and scanning with torn-tail detection.

A header line ``FIXGATE-BODY 1 <generation>\\n``, then records
``<seq> <len> <crc32 hex> <flag>\\n<len raw bytes>\\n``; see ``fix_engine.store.file`` for the rules.
"""

from __future__ import annotations

import mmap
import zlib

from .base import MessageStoreError

BODY_MAGIC = b"FIXGATE-BODY 1 "
_MAX_RECORD_HEADER = 64  # "<seq> <len> <crc> <flag>\n" is far shorter than this
FLAG_MESSAGE = b"M"
FLAG_INCR = b"I"


_crc32 = zlib.crc32


def _record_crc(seq: int, length: int, flag: bytes, raw: bytes) -> int:
    return zlib.crc32(raw, zlib.crc32(b"%d %d %s" % (seq, length, flag)))


def encode_record(seq: int, raw: bytes, flag: bytes = FLAG_MESSAGE) -> bytes:
    """One body record (exposed for tests that build or damage files by hand)."""
    length = len(raw)
    crc = _crc32(raw, _crc32(b"%d %d %s" % (seq, length, flag)))  # _record_crc, inlined
    return b"%d %d %08x %s\n" % (seq, length, crc, flag) + raw + b"\n"


def body_header(generation: int) -> bytes:
    """The first line of a body file of the given generation."""
    return BODY_MAGIC + b"%d\n" % generation


class BodyScan:
    """Result of scanning a body file: the index, the generation, the valid length and the ``I`` records."""

    def __init__(self) -> None:
        self.generation = 0
        self.index: dict[int, tuple[int, int]] = {}
        self.valid_end = 0
        self.incr_records: list[tuple[int, int]] = []  # (record start offset, seq)


def scan_body(buf: bytes | mmap.mmap, path: str) -> BodyScan:
    """Index a body file; raises MessageStoreError if the header line is not ours."""
    scan = BodyScan()
    size = len(buf)
    nl = buf.find(b"\n", 0, _MAX_RECORD_HEADER)
    if nl < 0 or not buf[:nl].startswith(BODY_MAGIC):
        raise MessageStoreError(f"{path}: not a fixgate body file (bad header line)")
    try:
        scan.generation = int(buf[len(BODY_MAGIC) : nl])
    except ValueError:
        raise MessageStoreError(f"{path}: bad generation in header line") from None
    pos = nl + 1
    while pos < size:
        record = parse_record(buf, pos, size)
        if record is None:
            break
        seq, data_start, length, flag, end = record
        scan.index[seq] = (data_start, length)
        if flag == FLAG_INCR:
            scan.incr_records.append((pos, seq))
        pos = end
    scan.valid_end = pos
    return scan


def parse_record(buf: bytes | mmap.mmap, pos: int, size: int) -> tuple[int, int, int, bytes, int] | None:
    """``(seq, data offset, length, flag, end offset)`` of the record at ``pos``, None if torn/corrupt."""
    nl = buf.find(b"\n", pos, min(size, pos + _MAX_RECORD_HEADER))
    if nl < 0:
        return None
    parts = bytes(buf[pos:nl]).split(b" ")
    if len(parts) != 4 or parts[3] not in (FLAG_MESSAGE, FLAG_INCR):
        return None
    try:
        seq, length, crc = int(parts[0]), int(parts[1]), int(parts[2], 16)
    except ValueError:
        return None
    data_start = nl + 1
    data_end = data_start + length
    if seq < 1 or length < 0 or data_end + 1 > size or buf[data_end : data_end + 1] != b"\n":
        return None
    raw = bytes(buf[data_start:data_end])
    if _record_crc(seq, length, parts[3], raw) != crc:
        return None
    return seq, data_start, length, parts[3], data_end + 1
