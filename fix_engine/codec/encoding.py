"""encode(): FixMessage -> wire bytes with BodyLength (9) and CheckSum (10) computed.

Canonical order (DESIGN.md section 3, what QuickFIX puts on the wire): 8, 9, 35, then the other
header fields ascending by tag, then the body, then the trailer (93, 89) and 10.  Body fields of
a built message are emitted ascending by tag, each repeating group as one unit at its count
tag's place with its entries in the order given (dictionary order); a parsed message keeps its
body in wire order when ``keep_body_order`` is set.
"""

from __future__ import annotations

from .message import FixMessage, RepeatingGroup
from .tags import HEADER_TAGS, TRAILER_TAGS

_PREFIX: dict[int, bytes] = {t: b"%d=" % t for t in range(1, 2000)}


def _prefix(tag: int) -> bytes:
    p = _PREFIX.get(tag)
    if p is None:
        p = b"%d=" % tag
        if len(_PREFIX) < 20_000:
            _PREFIX[tag] = p
    return p


def _emit_group(out: list[bytes], group: RepeatingGroup) -> None:
    for entry in group:
        for tag, value in entry:
            if isinstance(value, RepeatingGroup):
                out.append(_prefix(tag) + b"%d" % len(value))
                _emit_group(out, value)
            else:
                out.append(_prefix(tag) + value)


def encode(
    message: FixMessage,
    begin_string: bytes | None = None,
    *,
    header_tags: frozenset[int] = HEADER_TAGS,
    keep_body_order: bool = False,
) -> bytes:
    """Serialise ``message``: BeginString from the message (or ``begin_string``), 9 and 10 computed.

    Any 9 and 10 already in the message are ignored and recomputed.
    """
    header: list[tuple[int, bytes]] = []
    body: list[tuple[int, bytes | RepeatingGroup]] = []
    trailer: list[tuple[int, bytes]] = []
    msg_type: bytes | None = None
    begin = begin_string
    sorted_body = True
    last_body_tag = 0
    for field in message.fields:
        tag = field[0]
        if tag in header_tags:
            if tag == 35:
                msg_type = field[1]  # type: ignore[assignment]
            elif tag == 8:
                if begin is None:
                    begin = field[1]  # type: ignore[assignment]
            elif tag != 9:
                header.append(field)  # type: ignore[arg-type]
        elif tag == 10:
            continue
        elif tag in TRAILER_TAGS:
            trailer.append(field)  # type: ignore[arg-type]
        else:
            body.append(field)
            if tag < last_body_tag:
                sorted_body = False
            last_body_tag = tag
    if begin is None:
        raise ValueError("message has no BeginString (8) and none was given")
    if msg_type is None:
        raise ValueError("message has no MsgType (35)")
    header.sort(key=_tag_of)
    if not sorted_body and not keep_body_order:
        body.sort(key=_tag_of)
    out: list[bytes] = [b"35=" + msg_type]
    append = out.append
    for tag, value in header:
        append(_prefix(tag) + value)
    for tag, value in body:
        if isinstance(value, RepeatingGroup):
            append(_prefix(tag) + b"%d" % len(value))
            _emit_group(out, value)
        else:
            append(_prefix(tag) + value)
    for tag, value in trailer:
        append(_prefix(tag) + value)
    append(b"")
    body_bytes = b"\x01".join(out)
    head = b"8=" + begin + b"\x019=%d\x01" % len(body_bytes)
    data = head + body_bytes
    return data + b"10=%03d\x01" % (sum(data) & 0xFF)


def encode_fields(fields: list[tuple[int, bytes]]) -> bytes:
    """Serialise flat fields exactly in the given order, recomputing 9 and 10 (tests, tools)."""
    begin = None
    out: list[bytes] = []
    for tag, value in fields:
        if tag == 8:
            begin = value
        elif tag not in (9, 10):
            out.append(_prefix(tag) + value)
    if begin is None:
        raise ValueError("fields have no BeginString (8)")
    out.append(b"")
    body_bytes = b"\x01".join(out)
    data = b"8=" + begin + b"\x019=%d\x01" % len(body_bytes) + body_bytes
    return data + b"10=%03d\x01" % (sum(data) & 0xFF)


def _tag_of(field: tuple[int, object]) -> int:
    return field[0]
