"""split_fields(): one complete frame -> ``[(tag, value), ...]``, the hot path of every inbound message.

Fast path (no raw-data length fields, every field ``tag=value<SOH>`` with no ``=`` or SOH inside
values): three C-level passes (``translate`` to check that separators alternate ``=``/SOH,
``replace`` + ``split`` to cut tags and values) and one ``zip(map(...))`` that turns tag text
into ints through a cache of known, valid tag numbers.

Anything else (a value containing ``=``, a raw-data field, an unknown or invalid tag number, a
malformed field) takes the careful path, which either parses it exactly or raises
:class:`ParseError` saying what is wrong and where.

C accelerator: when the optional extension :mod:`fix_engine.codec._speedups` is built (``pip
install`` builds it where a compiler exists) and ``FIXGATE_PURE_PYTHON`` is not set, ``split_fields``
is its C twin, which handles well-formed frames without raw-data fields in one pass and hands
every other input to :func:`py_split_fields` (so results and ``ParseError`` are the same).
:data:`IMPLEMENTATION` says which one is in use; :mod:`.framing` and :mod:`.encoding` follow the
same switch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from types import ModuleType

from .errors import ParseError
from .tags import DATA_LENGTH_TAGS, SOH

#: Longest tag number accepted (FIX tags are positive 32-bit ints in practice; QuickFIX uses int).
MAX_TAG_DIGITS = 9
#: Longest value accepted for a length field that announces a raw-data field.
_MAX_LENGTH_DIGITS = 12

#: Tag text -> tag for every tag seen valid: the careful path's cache.
_TAG_CACHE: dict[bytes, int] = {str(t).encode(): t for t in range(1, 2000)}
#: The same without the standard data-length tags: a hit here means "no raw data field follows".
_FAST_TAGS: dict[bytes, int] = {k: v for k, v in _TAG_CACHE.items() if v not in DATA_LENGTH_TAGS}
_TAG_CACHE_LIMIT = 20_000

_NON_SEPARATORS = bytes(c for c in range(256) if c not in (0x01, 0x3D))
_MAX_FAST_FIELDS = 4096
_ALTERNATING = b"=\x01" * _MAX_FAST_FIELDS

_fast_tag = _FAST_TAGS.__getitem__
_alternating = _ALTERNATING.startswith

# id(mapping) -> (mapping, len(mapping), length tags beyond the standard ones)
_EXTRA_LENGTH_TAGS: dict[int, tuple[Mapping[int, int], int, frozenset[int]]] = {}


def py_split_fields(buf: bytes, data_length_tags: Mapping[int, int] = DATA_LENGTH_TAGS) -> list[tuple[int, bytes]]:
    """Split one complete frame into ``(tag, value)`` pairs, honouring raw-data length fields.

    The pure-Python ``split_fields``: the reference its C twin matches.

    Raises :class:`ParseError` for a field without ``=``, a tag that is not a positive number
    without leading zeros, a missing final SOH, or a raw-data field whose length field is wrong.
    """
    seps = buf.translate(None, _NON_SEPARATORS)
    if not len(seps) & 1 and _alternating(seps):
        tokens = buf.replace(b"=", b"\x01").split(b"\x01")
        if not tokens.pop():  # the frame ends with SOH
            it = iter(tokens)
            try:
                fields = list(zip(map(_fast_tag, it), it, strict=False))  # tag, value, tag, ...
            except KeyError:
                pass  # a tag not seen before, an invalid tag or a data-length tag
            else:
                if data_length_tags is DATA_LENGTH_TAGS or _no_extra_length_tag(fields, data_length_tags):
                    return fields
    return _split_careful(buf, data_length_tags)


def _no_extra_length_tag(fields: list[tuple[int, bytes]], data_length_tags: Mapping[int, int]) -> bool:
    """True if none of ``fields`` is a length tag of ``data_length_tags`` beyond the standard ones."""
    entry = _EXTRA_LENGTH_TAGS.get(id(data_length_tags))
    if entry is None or entry[0] is not data_length_tags or entry[1] != len(data_length_tags):
        extra = frozenset(data_length_tags) - DATA_LENGTH_TAGS.keys()
        if len(_EXTRA_LENGTH_TAGS) > 64:
            _EXTRA_LENGTH_TAGS.clear()
        entry = (data_length_tags, len(data_length_tags), extra)
        _EXTRA_LENGTH_TAGS[id(data_length_tags)] = entry
    extra = entry[2]
    return not extra or extra.isdisjoint([tag for tag, _ in fields])


def _split_careful(buf: bytes, data_length_tags: Mapping[int, int]) -> list[tuple[int, bytes]]:
    """Field by field, positional from the first length field on (data values may hold SOH)."""
    parts = buf.split(SOH)
    if parts[-1] != b"":
        raise ParseError("message does not end with SOH", offset=len(buf) - len(parts[-1]))
    fields: list[tuple[int, bytes]] = []
    append = fields.append
    offset = 0
    for i in range(len(parts) - 1):
        part = parts[i]
        tag_bytes, sep, value = part.partition(b"=")
        if not sep:
            raise ParseError(f"field {part[:20]!r} has no '='", offset=offset)
        tag = _TAG_CACHE.get(tag_bytes)
        if tag is None:
            tag = tag_number(tag_bytes, offset)
        append((tag, value))
        offset += len(part) + 1
        if tag in data_length_tags:
            # the remainder may contain SOH inside data values: parse positionally
            fields.extend(_split_positional(buf, offset, data_length_tags, value, tag))
            return fields
    return fields


def tag_number(tag_bytes: bytes, offset: int | None = None) -> int:
    """Validate and convert tag text: ASCII digits, positive, no leading zero, at most 9 digits.

    ``0`` alone is tag 0: a well-formed field with a tag no dictionary defines, which validation
    answers as QuickFIX does (Reject, SessionRejectReason 0 "Invalid tag number", RefTagID 0)
    instead of dropping the whole message as garbled."""
    tag = _TAG_CACHE.get(tag_bytes)
    if tag is not None:
        return tag
    if tag_bytes == b"0":
        return 0
    if not tag_bytes.isdigit() or len(tag_bytes) > MAX_TAG_DIGITS:
        raise ParseError(f"tag {tag_bytes[:20]!r} is not a number", offset=offset)
    tag = int(tag_bytes)
    if tag <= 0 or tag_bytes[:1] == b"0":
        raise ParseError(f"tag {tag_bytes[:20]!r} is not a positive number without leading zeros", offset=offset)
    if len(_TAG_CACHE) < _TAG_CACHE_LIMIT:
        _TAG_CACHE[tag_bytes] = tag
        if tag not in DATA_LENGTH_TAGS:
            _FAST_TAGS[tag_bytes] = tag
    return tag


def _split_positional(
    buf: bytes, pos: int, data_length_tags: Mapping[int, int], length_value: bytes, length_tag: int
) -> list[tuple[int, bytes]]:
    fields: list[tuple[int, bytes]] = []
    pending_data = _data_expectation(length_tag, length_value, data_length_tags)
    end = len(buf)
    while pos < end:
        eq = buf.find(b"=", pos)
        if eq < 0:
            raise ParseError(f"field {buf[pos:pos + 20]!r} has no '='", offset=pos)
        tag_bytes = buf[pos:eq]
        if SOH in tag_bytes:
            raise ParseError(f"field {tag_bytes[: tag_bytes.index(SOH)][:20]!r} has no '='", offset=pos)
        tag = tag_number(tag_bytes, pos)
        if pending_data is not None and pending_data[0] == tag:
            vend = eq + 1 + pending_data[1]
            if vend >= end or buf[vend] != 1:
                raise ParseError(f"data field {tag} is not {pending_data[1]} bytes long", tag=tag, offset=pos)
        else:
            vend = buf.find(SOH, eq + 1)
            if vend < 0:  # pragma: no cover - the buffer ends with SOH (checked by the caller)
                raise ParseError("field not terminated by SOH", tag=tag, offset=pos)
        value = buf[eq + 1 : vend]
        fields.append((tag, value))
        pending_data = _data_expectation(tag, value, data_length_tags)
        pos = vend + 1
    return fields


def _data_expectation(tag: int, value: bytes, data_length_tags: Mapping[int, int]) -> tuple[int, int] | None:
    data_tag = data_length_tags.get(tag)
    if data_tag is None:
        return None
    if not value.isdigit() or len(value) > _MAX_LENGTH_DIGITS:
        raise ParseError(f"length field {tag} has non-numeric value {value[:20]!r}", tag=tag)
    return data_tag, int(value)


# --------------------------------------------------------------------------- C accelerator


def _load_speedups() -> ModuleType | None:
    """The C extension, unless FIXGATE_PURE_PYTHON is set (to anything but ``0``) or it is not built."""
    if os.environ.get("FIXGATE_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        from . import _speedups  # type: ignore[attr-defined]
    except ImportError:
        return None
    _speedups.configure(split_fallback=py_split_fields, data_length_tags=DATA_LENGTH_TAGS)
    return _speedups  # type: ignore[no-any-return]


#: The extension module, or ``None`` when the pure-Python codec is in use.
speedups: ModuleType | None = _load_speedups()
#: ``"C"`` or ``"pure Python"``: which codec implementation this process runs.
IMPLEMENTATION = "C" if speedups is not None else "pure Python"

#: Split one complete frame into ``(tag, value)`` pairs (see :func:`py_split_fields`): the C
#: twin when the extension is loaded, else the pure-Python function.
split_fields: Callable[..., list[tuple[int, bytes]]] = speedups.split_fields if speedups is not None else py_split_fields
