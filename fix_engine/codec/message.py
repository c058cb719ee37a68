"""FixMessage: an ordered list of FIX fields with typed accessors, groups and raw-data fields.

Representation (the contract every other module relies on):

* ``message.fields`` is a list of ``(tag: int, value)`` pairs in order.
* A message parsed from the wire is *flat*: every value is ``bytes`` and the list is the wire
  order, including 8, 9 and 10.  Repeating groups are the flat run of their fields; call
  :meth:`FixMessage.groups` with the group's delimiter and member tags (or a dictionary's group
  definition) to read them.
* A message built in code holds its repeating groups as one ``(count_tag, RepeatingGroup)`` pair,
  added with :meth:`FixMessage.add_group`; :func:`fix_engine.codec.encoding.encode` flattens them.

Values are ``bytes`` inside; :meth:`set` converts ``str``, ``int``, ``Decimal``, ``bool``,
``datetime``/``date``/``time`` to their FIX text form.  Parsing (:mod:`.parsing`) never copies the buffer per field
beyond the one ``split``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Union

from .errors import FieldNotFound, FieldValueError
from .parsing import speedups, split_fields
from .tags import DATA_LENGTH_TAGS, HEADER_TAGS, TRAILER_TAGS

FieldValue = Union[bytes, "RepeatingGroup"]
Field = tuple[int, FieldValue]

_UTC = _dt.UTC


class RepeatingGroup(list):  # type: ignore[type-arg]
    """The entries of one repeating group in a built message: a list of field lists.

    Each entry is a ``list`` of ``(tag, value)`` pairs in dictionary order, the delimiter first;
    a value may itself be a nested ``RepeatingGroup``.
    """

    __slots__ = ()


# --------------------------------------------------------------------------- value conversion


def to_fix_bytes(value: Any) -> bytes:
    """Render a Python value as the bytes of a FIX field value.

    ``str`` (UTF-8, which is ASCII for ASCII text), ``int``, ``bool`` (``Y``/``N``), ``Decimal``
    (plain notation), ``datetime`` (UTCTimestamp, ms), ``date`` (``YYYYMMDD``), ``time``
    (UTCTimeOnly, ms).  ``float`` is refused: money is ``Decimal``.
    """
    convert = _CONVERTERS.get(type(value))
    if convert is not None:
        return convert(value)
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, str):
        return str(value).encode()
    if isinstance(value, bool):
        return b"Y" if value else b"N"
    if isinstance(value, int):
        return b"%d" % value
    if isinstance(value, Decimal):
        return format_decimal(value).encode("ascii")
    if isinstance(value, _dt.datetime):
        return format_utc_timestamp(value).encode("ascii")
    if isinstance(value, _dt.date):
        return _format_date(value)
    if isinstance(value, _dt.time):
        return _format_time(value)
    if isinstance(value, float):
        raise TypeError("floats are not FIX values: use Decimal for prices and quantities")
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise TypeError(f"cannot render {type(value).__name__} as a FIX value")


def _format_date(value: _dt.date) -> bytes:
    return b"%04d%02d%02d" % (value.year, value.month, value.day)


def _format_time(value: _dt.time) -> bytes:
    return b"%02d:%02d:%02d.%03d" % (value.hour, value.minute, value.second, value.microsecond // 1000)


_PLAIN_DECIMAL = frozenset("0123456789.-")


def format_decimal(value: Decimal) -> str:
    """Plain decimal notation without exponent or superfluous trailing zeros (``100.5``, ``3``)."""
    text = str(value)
    if not _PLAIN_DECIMAL.issuperset(text):  # exponent, NaN or Infinity
        if not value.is_finite():
            raise ValueError(f"{value} is not a FIX decimal")
        text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text


def format_utc_timestamp(value: _dt.datetime, precision: int = 3) -> str:
    """UTCTimestamp text, ``YYYYMMDD-HH:MM:SS[.sss|.ssssss|.sssssssss]`` (precision 0, 3, 6 or 9).

    A naive datetime is taken to be UTC; an aware one is converted to UTC.
    """
    if value.tzinfo is not None:
        value = value.astimezone(_UTC)
    base = f"{value.year:04d}{value.month:02d}{value.day:02d}-{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    if precision == 0:
        return base
    if precision == 3:
        return f"{base}.{value.microsecond // 1000:03d}"
    if precision == 6:
        return f"{base}.{value.microsecond:06d}"
    if precision == 9:
        return f"{base}.{value.microsecond:06d}000"
    raise ValueError(f"timestamp precision must be 0, 3, 6 or 9, not {precision}")


_EPOCH = _dt.datetime(1970, 1, 1)
_last_second: tuple[int, bytes] = (-(1 << 62), b"")  # the whole second formatted last, and its text


def format_epoch_timestamp(epoch_seconds: float, precision: int = 3) -> bytes:
    """UTCTimestamp bytes for seconds since the epoch (what the session passes as ``now``).

    The fraction is rounded to the precision (a float like ``x.123`` is ``x.12299999``), carrying
    into the seconds when needed.
    """
    global _last_second
    if _format_timestamp is not None and type(epoch_seconds) is float:
        fast = _format_timestamp(epoch_seconds, precision)
        if fast is not None:
            return fast  # type: ignore[no-any-return]
    units = _UNITS.get(precision)
    if units is None:
        raise ValueError(f"timestamp precision must be 0, 3, 6 or 9, not {precision}")
    whole, frac = divmod(round(epoch_seconds * units), units)
    last = _last_second  # one read: safe if threads race on the cache
    if whole == last[0]:
        base = last[1]
    else:
        t = _EPOCH + _dt.timedelta(seconds=whole)
        base = b"%04d%02d%02d-%02d:%02d:%02d" % (t.year, t.month, t.day, t.hour, t.minute, t.second)
        _last_second = (whole, base)
    if precision == 0:
        return base
    return base + _FRACTION_FORMATS[precision] % frac


_UNITS = {0: 1, 3: 1000, 6: 1_000_000, 9: 1_000_000_000}
_FRACTION_FORMATS = {3: b".%03d", 6: b".%06d", 9: b".%09d"}


class _DecimalTextCache(dict):  # type: ignore[type-arg]
    """Decimal -> FIX bytes.  Equal decimals have the same text, so a hit is exact; bounded."""

    def __missing__(self, value: Decimal) -> bytes:
        text = format_decimal(value).encode("ascii")
        if len(self) >= 4096:
            self.clear()
        self[value] = text
        return text


_DECIMAL_TEXT = _DecimalTextCache()
#: ``Decimal`` -> its FIX bytes (plain notation), cached: what ``FixMessage.new`` uses for Decimals
decimal_bytes = _DECIMAL_TEXT.__getitem__

_CONVERTERS: dict[type, Any] = {
    str: str.encode,
    bytes: lambda value: value,
    int: lambda value: b"%d" % value,
    bool: lambda value: b"Y" if value else b"N",
    Decimal: _DECIMAL_TEXT.__getitem__,
    _dt.datetime: lambda value: format_utc_timestamp(value).encode("ascii"),
    _dt.date: _format_date,
    _dt.time: _format_time,
}


def parse_utc_timestamp(tag: int, raw: bytes) -> _dt.datetime:
    """Parse UTCTimestamp (seconds, ms, us or ns; ns truncated to us) into an aware datetime."""
    try:
        if (
            len(raw) < 17
            or raw[8:9] != b"-"
            or raw[11:12] != b":"
            or raw[14:15] != b":"
            or not (raw[0:8] + raw[9:11] + raw[12:14] + raw[15:17]).isdigit()
        ):
            raise ValueError
        year, month, day = int(raw[0:4]), int(raw[4:6]), int(raw[6:8])
        hour, minute, second = int(raw[9:11]), int(raw[12:14]), int(raw[15:17])
        micro = 0
        if len(raw) > 17:
            if raw[17:18] != b"." or len(raw) not in (21, 24, 27) or not raw[18:].isdigit():
                raise ValueError
            micro = int((raw[18:] + b"000000")[:6])
        if second == 60:  # leap second: FIX allows 60
            second = 59
        return _dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=_UTC)
    except ValueError:
        raise FieldValueError(tag, raw, "UTCTimestamp") from None


def parse_utc_timestamp_epoch(tag: int, raw: bytes) -> float:
    """UTCTimestamp as float seconds since the epoch."""
    return parse_utc_timestamp(tag, raw).timestamp()


# --------------------------------------------------------------------------- the message


def _py_build_index(message: FixMessage) -> dict[int, FieldValue]:
    """tag -> first value.  Rebuilt whenever ``fields`` changed length behind our back."""
    fields = message.fields
    index: dict[int, FieldValue] = dict(reversed(fields))  # the first occurrence wins
    message._index = index
    message._indexed_len = len(fields)
    return index


def _py_field_index(message: FixMessage) -> dict[int, FieldValue]:
    index = message._index
    if index is None or message._indexed_len != len(message.fields):
        index = message._build_index()
    return index


def _py_get_raw(message: FixMessage, tag: int, default: bytes | None = None) -> bytes | None:
    index = message._index
    if index is None or message._indexed_len != len(message.fields):
        index = message._build_index()
    value = index.get(tag, default)
    if isinstance(value, RepeatingGroup):
        return str(len(value)).encode("ascii")
    return value  # type: ignore[return-value]


if TYPE_CHECKING or speedups is None:
    _MessageBase: type = object
else:
    #: the C base type: FixMessage's three slots and get_raw / field_index / _build_index in C
    _MessageBase = speedups.MessageCore
    speedups.configure(message_fallbacks=(_py_build_index, _py_get_raw))


class FixMessage(_MessageBase):  # type: ignore[misc,valid-type]
    """One FIX message: ordered ``(tag, value)`` fields with typed accessors.

    The same class serves parsed messages (flat, wire order) and messages built in code.  With the
    C accelerator its slots and hot lookups live in the C base ``_speedups.MessageCore``; the
    pure-Python twins below are the reference.
    """

    __slots__ = () if _MessageBase is not object else ("fields", "_index", "_indexed_len")
    if TYPE_CHECKING:
        fields: list[Field]
        _index: dict[int, FieldValue] | None
        _indexed_len: int

    def __init__(self, fields: list[Field] | None = None) -> None:
        self.fields: list[Field] = fields if fields is not None else []
        self._index: dict[int, FieldValue] | None = None
        self._indexed_len = -1

    # ----- construction
    @classmethod
    def new(cls, msg_type: str, *fields: tuple[int, Any]) -> FixMessage:
        """A message to send: MsgType (35) plus the given ``(tag, value)`` pairs in order.

        Values are converted with :func:`to_fix_bytes`; ``bytes`` values are taken as they are.
        """
        if _new_fields is not None:
            fast = _new_fields(msg_type, fields)
            if fast is not None:
                msg = _new_message(cls)
                msg.fields = fast
                msg._index = None
                msg._indexed_len = -1
                return msg
        convert = _CONVERTERS.get
        converted: list[Field] = [
            (tag, value.encode()) if type(value) is str
            else (tag, value) if type(value) is bytes
            else (tag, convert(type(value), to_fix_bytes)(value))
            for tag, value in fields
        ]
        converted.insert(0, (35, msg_type.encode("ascii")))
        msg = _new_message(cls)
        msg.fields = converted
        msg._index = None
        msg._indexed_len = -1
        return msg

    @classmethod
    def parse(cls, buf: bytes, data_length_tags: Mapping[int, int] | None = None) -> FixMessage:
        """Parse one complete frame (as returned by ``FrameParser``) into a flat message.

        Raises :class:`ParseError` for a field without ``=``, a tag that is not a positive number
        without leading zeros, a missing final SOH, or a raw-data field whose length field is wrong.
        """
        msg = _new_message(cls)
        msg.fields = split_fields(buf, DATA_LENGTH_TAGS if data_length_tags is None else data_length_tags)  # type: ignore[assignment]
        msg._index = None
        msg._indexed_len = -1
        return msg

    # ----- lookups
    if TYPE_CHECKING or _MessageBase is object:  # else the C base provides these three

        def _build_index(self) -> dict[int, FieldValue]:
            """tag -> first value.  Rebuilt whenever ``fields`` changed length behind our back."""
            return _py_build_index(self)

        def field_index(self) -> dict[int, FieldValue]:
            """``tag -> first value`` for every tag of the message (read-only; built once, rebuilt
            when ``fields`` changes length).  For reading many tags at once, e.g. a header."""
            return _py_field_index(self)

        def get_raw(self, tag: int, default: bytes | None = None) -> bytes | None:
            """The first value of ``tag`` as bytes, or ``default``."""
            return _py_get_raw(self, tag, default)

    def __contains__(self, tag: object) -> bool:
        index = self._index
        if index is None or self._indexed_len != len(self.fields):
            index = self._build_index()
        return tag in index

    def __getitem__(self, tag: int) -> bytes:
        value = self.get_raw(tag)
        if value is None:
            raise FieldNotFound(tag)
        return value

    def get(self, tag: int, default: str | None = None) -> str | None:
        """The first value of ``tag`` as ``str`` (latin-1), or ``default``."""
        value = self.get_raw(tag)
        return default if value is None else value.decode("latin-1")

    def get_str(self, tag: int) -> str:
        return self[tag].decode("latin-1")

    def get_int(self, tag: int, default: int | None = None) -> int:
        value = self.get_raw(tag)
        if value is None:
            if default is not None:
                return default
            raise FieldNotFound(tag)
        if not (value.isdigit() or (value[:1] == b"-" and value[1:].isdigit())) or len(value) > _MAX_INT_DIGITS:
            raise FieldValueError(tag, value, "int")
        return int(value)

    def get_decimal(self, tag: int, default: Decimal | None = None) -> Decimal:
        """Price, Qty, Amt, Percentage and float fields as ``Decimal`` (never float)."""
        value = self.get_raw(tag)
        if value is None:
            if default is not None:
                return default
            raise FieldNotFound(tag)
        if not _is_fix_float(value):
            raise FieldValueError(tag, value, "float")
        try:
            return Decimal(value.decode("ascii"))
        except InvalidOperation:  # pragma: no cover - guarded by _is_fix_float
            raise FieldValueError(tag, value, "float") from None

    def get_bool(self, tag: int, default: bool | None = None) -> bool:
        value = self.get_raw(tag)
        if value is None:
            if default is not None:
                return default
            raise FieldNotFound(tag)
        if value == b"Y":
            return True
        if value == b"N":
            return False
        raise FieldValueError(tag, value, "Boolean")

    def get_char(self, tag: int) -> str:
        value = self[tag]
        if len(value) != 1:
            raise FieldValueError(tag, value, "char")
        return value.decode("latin-1")

    def get_timestamp(self, tag: int) -> _dt.datetime:
        """UTCTimestamp as an aware datetime (nanoseconds are truncated to microseconds)."""
        return parse_utc_timestamp(tag, self[tag])

    def get_utc_time_only(self, tag: int) -> _dt.time:
        raw = self[tag]
        try:
            if len(raw) < 8 or raw[2:3] != b":" or raw[5:6] != b":" or not (raw[0:2] + raw[3:5] + raw[6:8]).isdigit():
                raise ValueError
            micro = 0
            if len(raw) > 8:
                if raw[8:9] != b"." or not raw[9:].isdigit() or len(raw) not in (12, 15, 18):
                    raise ValueError
                micro = int((raw[9:] + b"000000")[:6])
            return _dt.time(int(raw[0:2]), int(raw[3:5]), min(int(raw[6:8]), 59), micro, tzinfo=_UTC)
        except ValueError:
            raise FieldValueError(tag, raw, "UTCTimeOnly") from None

    def get_date(self, tag: int) -> _dt.date:
        """LocalMktDate or UTCDateOnly (``YYYYMMDD``)."""
        raw = self[tag]
        try:
            if len(raw) != 8 or not raw.isdigit():
                raise ValueError
            return _dt.date(int(raw[0:4]), int(raw[4:6]), int(raw[6:8]))
        except ValueError:
            raise FieldValueError(tag, raw, "LocalMktDate") from None

    def get_multi(self, tag: int) -> list[str]:
        """MultipleValueString / MultipleCharValue: the space-separated values."""
        return self[tag].decode("latin-1").split()

    def get_all(self, tag: int) -> list[bytes]:
        """Every value of ``tag`` in order (a tag repeated inside groups appears many times)."""
        return [v if isinstance(v, bytes) else str(len(v)).encode() for t, v in self.fields if t == tag]

    @property
    def msg_type(self) -> str:
        return self[35].decode("ascii", "replace")

    @property
    def begin_string(self) -> str:
        return self[8].decode("ascii", "replace")

    # ----- mutation
    def set(self, tag: int, value: Any) -> FixMessage:
        """Replace the first occurrence of ``tag`` or append it; returns ``self`` for chaining."""
        raw = value if type(value) is bytes else to_fix_bytes(value)
        fields = self.fields
        index = self._index
        if index is None or self._indexed_len != len(fields):
            index = self._build_index()
        if tag in index:
            fields[list(map(_first, fields)).index(tag)] = (tag, raw)
        else:
            fields.append((tag, raw))
            self._indexed_len += 1
        index[tag] = raw
        return self

    def append(self, tag: int, value: Any) -> FixMessage:
        """Append a field even if the tag is already present."""
        raw = value if type(value) is bytes else to_fix_bytes(value)
        fields = self.fields
        index = self._index
        if index is not None and self._indexed_len == len(fields):
            index.setdefault(tag, raw)
            self._indexed_len += 1
        fields.append((tag, raw))
        return self

    def remove(self, tag: int) -> bool:
        """Remove every occurrence of ``tag``; returns whether any was present."""
        before = len(self.fields)
        self.fields = [f for f in self.fields if f[0] != tag]
        self._index = None
        return len(self.fields) != before

    def add_group(self, count_tag: int, entries: Iterable[Sequence[tuple[int, Any]]]) -> FixMessage:
        """Add a repeating group: ``entries`` are field sequences in dictionary order.

        The group replaces any field ``count_tag`` already present and is one unit in ``fields``:
        ``(count_tag, RepeatingGroup)``; a value inside an entry may itself be a ``RepeatingGroup``
        (nested group).  An empty ``entries`` adds no field (FIX sends no group with 0 entries).
        """
        group = RepeatingGroup(
            [[(t, v if isinstance(v, RepeatingGroup) else to_fix_bytes(v)) for t, v in entry] for entry in entries]
        )
        self.remove(count_tag)
        self.fields.append((count_tag, group))
        self._index = None
        return self

    def copy(self) -> FixMessage:
        return FixMessage(list(self.fields))

    # ----- structure
    def iter_flat(self) -> Iterator[tuple[int, bytes]]:
        """Every field as flat ``(tag, bytes)``, built groups expanded in place."""
        for tag, value in self.fields:
            if isinstance(value, RepeatingGroup):
                yield tag, str(len(value)).encode("ascii")
                yield from _iter_group(value)
            else:
                yield tag, value

    def header_fields(self, header_tags: frozenset[int] = HEADER_TAGS) -> list[tuple[int, bytes]]:
        return [(t, v) for t, v in self.iter_flat() if t in header_tags]

    def body_fields(
        self, header_tags: frozenset[int] = HEADER_TAGS, trailer_tags: frozenset[int] = TRAILER_TAGS
    ) -> list[tuple[int, bytes]]:
        return [(t, v) for t, v in self.iter_flat() if t not in header_tags and t not in trailer_tags]

    def trailer_fields(self, trailer_tags: frozenset[int] = TRAILER_TAGS) -> list[tuple[int, bytes]]:
        return [(t, v) for t, v in self.iter_flat() if t in trailer_tags]

    def groups(self, count_tag: int, member_tags: AbstractSet[int], delimiter: int | None = None) -> list[FixMessage]:
        """The entries of the first repeating group counted by ``count_tag``.

        On a flat (parsed) message, an entry starts at each ``delimiter`` (by default the first
        tag after the count) and runs while the tags are in ``member_tags``.  Nested groups are
        included in their entry's fields; call ``groups`` on the entry for them.
        """
        value = None
        start = -1
        for i, (tag, v) in enumerate(self.fields):
            if tag == count_tag:
                value, start = v, i
                break
        if value is None:
            return []
        if isinstance(value, RepeatingGroup):
            return [FixMessage(list(entry)) for entry in value]
        entries: list[FixMessage] = []
        fields = self.fields
        i = start + 1
        if i < len(fields) and delimiter is None:
            delimiter = fields[i][0]
        while i < len(fields):
            tag = fields[i][0]
            if tag == delimiter:
                entries.append(FixMessage([fields[i]]))
            elif tag in member_tags and entries:
                entries[-1].fields.append(fields[i])
            else:
                break
            i += 1
        return entries

    # ----- dunder
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FixMessage):
            return NotImplemented
        return list(self.iter_flat()) == list(other.iter_flat())

    def __len__(self) -> int:
        return len(self.fields)

    def __repr__(self) -> str:
        return f"FixMessage({self.to_text()!r})"

    def to_text(self, separator: str = "|") -> str:
        """Human-readable ``tag=value`` text with the given separator (``|`` by default)."""
        return "".join(f"{t}={v.decode('latin-1')}{separator}" for t, v in self.iter_flat())

    def __bytes__(self) -> bytes:
        from .encoding import encode

        return encode(self)


_new_message = FixMessage.__new__
#: the C twin of the body of ``FixMessage.new`` for bytes/str values (None without the accelerator)
_new_fields = speedups.new_fields if speedups is not None else None
#: the C twin of ``format_epoch_timestamp`` for floats (None without the accelerator)
_format_timestamp = speedups.format_timestamp if speedups is not None else None
_first = itemgetter(0)


def _iter_group(group: RepeatingGroup) -> Iterator[tuple[int, bytes]]:
    for entry in group:
        for tag, value in entry:
            if isinstance(value, RepeatingGroup):
                yield tag, str(len(value)).encode("ascii")
                yield from _iter_group(value)
            else:
                yield tag, value


_FLOAT_CHARS = frozenset(b"0123456789.-")
_MAX_INT_DIGITS = 4000  # int() refuses more than 4300 digits (ValueError, not FieldValueError)


def _is_fix_float(value: bytes) -> bool:
    """FIX float: optional leading '-', digits with at most one '.', no exponent, no '+'."""
    if not value or not _FLOAT_CHARS.issuperset(value):
        return False
    body = value[1:] if value[:1] == b"-" else value
    return bool(body) and body.count(b"-") == 0 and body.count(b".") <= 1 and body != b"."
