"""encode(): FixMessage -> wire bytes with BodyLength (9) and CheckSum (10) computed.

Canonical order (DESIGN.md section 3, what QuickFIX puts on the wire): 8, 9, 35, then the other
header fields ascending by tag, then the body ascending by tag, then the trailer (93, 89) and 10.
A repeating group built with :meth:`FixMessage.add_group` is one ``(count_tag, RepeatingGroup)``
unit: it sorts at its count tag and its entries keep the order given (dictionary order).

A message that holds a *flat* repeating group (a standard NumInGroup tag with a plain value, as
in a message parsed from the wire) cannot be sorted without tearing the group apart, so its body
keeps its given order (the trailer still last); ``keep_body_order=True`` asks for that on any
message.  The header is sorted in every case (8, 9, 35 first, then ascending), unless it holds a
flat NoHops (627) group itself, in which case it too keeps its given order.

The hot path is C-level: the layout of a tag sequence (which fields, in which order) is computed
once and cached as a ``%b`` template, so encoding a message of a known shape is one ``%`` over
its values plus the CheckSum; only built repeating groups are rendered field by field.

With the optional C extension loaded (see :mod:`.parsing`), a message of a cached shape whose values
are all plain bytes is rendered by ``_speedups.encode_cached`` in one pass (body, BodyLength and
CheckSum), and the last step of every other encode by ``_speedups.finish``; anything unusual goes
through the Python code below.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat
from operator import itemgetter

from .errors import FieldValueError
from .framing import _TRAILERS, _byte_sum
from .message import FixMessage, RepeatingGroup
from .parsing import speedups
from .tags import DATA_LENGTH_TAGS, HEADER_TAGS, NUM_IN_GROUP_TAGS, TRAILER_TAGS

_SOH = b"\x01"
_first = itemgetter(0)
_second = itemgetter(1)
_join = _SOH.join
_concat = bytes.__add__
_DATA_TAGS = frozenset(DATA_LENGTH_TAGS.values())


class _PrefixCache(dict):  # type: ignore[type-arg]
    """tag -> ``b"tag="``; computes (and validates) tags it has not seen."""

    def __missing__(self, tag: int) -> bytes:
        if type(tag) is not int or tag <= 0:
            raise ValueError(f"{tag!r} is not a FIX tag number")
        prefix = b"%d=" % tag
        if len(self) < 20_000:
            self[tag] = prefix
        return prefix


_PREFIX = _PrefixCache((t, b"%d=" % t) for t in range(1, 2000))
_prefix = _PREFIX.__getitem__

# Sort ranks: 8, 9 and 10 are dropped (they are computed), 35 first, header, body, trailer.
_DROP = -(1 << 62)
_MSG_TYPE = -(1 << 61)
_HEADER = -(1 << 60)
_TRAILER = 1 << 60


def _ranks(header_tags: frozenset[int], keep_header_order: bool) -> dict[int, int]:
    ranks = {tag: _HEADER if keep_header_order else _HEADER + tag for tag in header_tags}
    ranks.update({8: _DROP, 9: _DROP, 10: _DROP, 35: _MSG_TYPE, 93: _TRAILER, 89: _TRAILER + 1})
    for tag in TRAILER_TAGS - {10, 89, 93}:  # pragma: no cover - no other standard trailer tag
        ranks[tag] = _TRAILER + 2
    return ranks


_RANKS: dict[tuple[frozenset[int], bool], dict[int, int]] = {}


def _rank_table(header_tags: frozenset[int], keep_header_order: bool) -> dict[int, int]:
    table = _RANKS.get((header_tags, keep_header_order))
    if table is None:
        if len(_RANKS) > 32:
            _RANKS.clear()
        table = _RANKS[(header_tags, keep_header_order)] = _ranks(header_tags, keep_header_order)
    return table


class _Plan:
    """How to lay out a message with a given tag sequence: cached, since a program sends the same
    shapes again and again.  ``template % pick(values)`` renders the body when every value is bytes."""

    __slots__ = ("order", "pick", "template", "begin_index", "keep_order", "emit")

    def __init__(self, tags: tuple[int, ...], header_tags: frozenset[int], keep_body_order: bool) -> None:
        if 35 not in tags:
            raise ValueError("message has no MsgType (35)")
        for tag in tags:
            if type(tag) is not int:
                raise ValueError(f"{tag!r} is not a FIX tag number")
        prefixes = list(map(_prefix, tags))  # raises ValueError for a tag that is not positive
        keep_order = keep_body_order or not NUM_IN_GROUP_TAGS.isdisjoint(tags)
        order = _layout(tags, header_tags, keep_order)
        self.order = order
        self.keep_order = keep_order
        self.pick = itemgetter(*order) if len(order) > 1 else lambda values, i=order[0]: (values[i],)
        self.template = b"".join([prefixes[i] + b"%b\x01" for i in order])
        #: ``(field index, b"tag=")`` in wire order: the same layout for the C encoder
        self.emit = tuple([(i, prefixes[i]) for i in order])
        self.begin_index = tags.index(8) if 8 in tags else -1


_PLANS: dict[tuple[tuple[int, ...], frozenset[int], bool], _Plan] = {}
_MAX_PLANS = 4096


def encode(
    message: FixMessage,
    begin_string: bytes | None = None,
    *,
    header_tags: frozenset[int] = HEADER_TAGS,
    keep_body_order: bool = False,
) -> bytes:
    """Serialise ``message``: BeginString from the message (or ``begin_string``), 9 and 10 computed.

    Any 9 and 10 already in the message are ignored and recomputed.  Raises ``ValueError`` when
    BeginString or MsgType is missing or a tag is not a positive int, ``TypeError`` for a value
    that is neither bytes nor a :class:`RepeatingGroup`, and :class:`FieldValueError` when a value
    other than a raw-data field contains SOH.
    """
    fields = message.fields
    if _encode_cached is not None:
        data = _encode_cached(fields, begin_string, _PLANS, header_tags, keep_body_order)
        if data is not None:
            return data  # C: plain fields, a cached plan, no SOH in values
    tags = tuple(map(_first, fields))
    key = (tags, header_tags, keep_body_order)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _Plan(tags, header_tags, keep_body_order)
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()
        _PLANS[key] = plan
    values = list(map(_second, fields))
    if begin_string is None:
        if plan.begin_index < 0:
            raise ValueError("message has no BeginString (8) and none was given")
        begin_string = values[plan.begin_index]
    try:
        body = plan.template % plan.pick(values)
        separators = len(plan.order)
    except TypeError:  # a built repeating group, or a value that is not bytes
        body, separators = _render_with_groups(fields, plan, header_tags, keep_body_order)
    if body.count(_SOH) != separators:
        _reject_soh(fields)
    return _finish(begin_string, body)


def py_finish(begin_string: bytes, body: bytes) -> bytes:
    """``8=<begin_string><SOH>9=<len(body)><SOH><body>10=<checksum><SOH>`` (the C twin's reference)."""
    data = b"8=%b\x019=%d\x01%b" % (begin_string, len(body), body)
    return data + _TRAILERS[_byte_sum(data) & 0xFF]


if speedups is not None:
    speedups.configure(finish_fallback=py_finish)

#: :func:`py_finish`, or its C twin (one allocation, the CheckSum summed in the same pass) when the
#: extension is loaded; the twin hands anything but exact ``bytes`` arguments to ``py_finish``.
_finish = speedups.finish if speedups is not None else py_finish
#: C: encode()'s common case in one pass (every value bytes, the plan cached, no SOH in values);
#: returns None for anything else, which the Python path handles.
_encode_cached = speedups.encode_cached if speedups is not None else None


def _has_flat_group(fields: Sequence[tuple[int, object]]) -> bool:
    return any(tag in NUM_IN_GROUP_TAGS and not isinstance(value, RepeatingGroup) for tag, value in fields)


def _render_with_groups(
    fields: Sequence[tuple[int, object]], plan: _Plan, header_tags: frozenset[int], keep_body_order: bool
) -> tuple[bytes, int]:
    """The body when some values are built groups: each group flattened at its count tag."""
    order = plan.order
    if plan.keep_order and not keep_body_order and not _has_flat_group(fields):
        # the NumInGroup tags all hold built groups: the body can be sorted after all
        order = _layout(tuple(map(_first, fields)), header_tags, keep_order=False)
    out: list[bytes] = []
    for i in order:
        tag, value = fields[i]
        if isinstance(value, RepeatingGroup):
            out.append(_prefix(tag) + b"%d" % len(value))
            _emit_group(out, value)
        elif isinstance(value, bytes | bytearray):
            out.append(_prefix(tag) + value)
        else:
            raise TypeError(f"tag {tag}: value must be bytes or a RepeatingGroup, not {type(value).__name__}")
    out.append(b"")
    return _join(out), len(out) - 1


_HEADER_GROUP_COUNT = 627  # NoHops: the standard header's repeating group


def _layout(tags: tuple[int, ...], header_tags: frozenset[int], keep_order: bool) -> list[int]:
    """Indexes of the fields to emit, in wire order (8, 9 and 10 left out: they are computed).

    ``keep_order`` keeps the body as given; the header is sorted unless a flat NoHops group is in it.
    """
    ranks = _rank_table(header_tags, keep_order and _HEADER_GROUP_COUNT in tags)
    keys = list(map(ranks.get, tags, repeat(0) if keep_order else tags))
    return sorted(range(len(keys)), key=keys.__getitem__)[keys.count(_DROP) :]


def _emit_group(out: list[bytes], group: RepeatingGroup) -> None:
    for entry in group:
        for tag, value in entry:
            if isinstance(value, RepeatingGroup):
                out.append(_prefix(tag) + b"%d" % len(value))
                _emit_group(out, value)
            else:
                out.append(_prefix(tag) + value)


def _reject_soh(fields: Sequence[tuple[int, object]]) -> None:
    """Raise for the first non-data value containing SOH (data fields may hold any byte)."""
    for tag, value in FixMessage(list(fields)).iter_flat():  # type: ignore[arg-type]
        if _SOH in value and tag not in _DATA_TAGS:
            raise FieldValueError(tag, value, "value without SOH (only raw-data fields may contain SOH)")


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
    body_bytes = _join(out)
    if type(begin) is bytes:
        return _finish(begin, body_bytes)
    data = b"8=" + begin + b"\x019=%d\x01" % len(body_bytes) + body_bytes
    return data + _TRAILERS[_byte_sum(data) & 0xFF]
