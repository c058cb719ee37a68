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
``datetime``/``date``/``time`` to their FIX text form.  Parsing never copies the buffer per field
beyond the one ``split``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Union

from .errors import FieldNotFound, FieldValueError, ParseError
from .tags import DATA_LENGTH_TAGS, HEADER_TAGS, SOH, TRAILER_TAGS

FieldValue = Union[bytes, "RepeatingGroup"]
Field = tuple[int, FieldValue]

_UTC = _dt.timezone.utc


class RepeatingGroup(list):  # type: ignore[type-arg]
    """The entries of one repeating group in a built message: a list of field lists.

    Each entry is a ``list`` of ``(tag, value)`` pairs in dictionary order, the delimiter first;
    a value may itself be a nested ``RepeatingGroup``.
    """

    __slots__ = ()


# --------------------------------------------------------------------------- value conversion


def to_fix_bytes(value: Any) -> bytes:
    """Render a Python value as the bytes of a FIX field value."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("latin-1") if value.isascii() else value.encode("utf-8")
    if isinstance(value, bool):
        return b"Y" if value else b"N"
    if isinstance(value, int):
        return str(value).encode("ascii")
    if isinstance(value, Decimal):
        return format_decimal(value).encode("ascii")
    if isinstance(value, _dt.datetime):
        return format_utc_timestamp(value).encode("ascii")
    if isinstance(value, _dt.date):
        return value.strftime("%Y%m%d").encode("ascii")
    if isinstance(value, _dt.time):
        return value.strftime("%H:%M:%S.%f")[:-3].encode("ascii")
    if isinstance(value, float):
        raise TypeError("floats are not FIX values: use Decimal for prices and quantities")
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise TypeError(f"cannot render {type(value).__name__} as a FIX value")


def format_decimal(value: Decimal) -> str:
    """Plain decimal notation without exponent or superfluous trailing zeros (``100.5``, ``3``)."""
    if not value.is_finite():
        raise ValueError(f"{value} is not a FIX decimal")
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text


def format_utc_timestamp(value: _dt.datetime, precision: int = 3) -> str:
    """UTCTimestamp text, ``YYYYMMDD-HH:MM:SS[.sss|.ssssss|.sssssssss]`` (precision 0, 3, 6 or 9)."""
    if value.tzinfo is not None:
        value = value.astimezone(_UTC)
    base = value.strftime("%Y%m%d-%H:%M:%S")
    if precision == 0:
        return base
    micro = f"{value.microsecond:06d}"
    if precision == 3:
        return f"{base}.{micro[:3]}"
    if precision == 6:
        return f"{base}.{micro}"
    if precision == 9:
        return f"{base}.{micro}000"
    raise ValueError(f"timestamp precision must be 0, 3, 6 or 9, not {precision}")


def format_epoch_timestamp(epoch_seconds: float, precision: int = 3) -> bytes:
    """UTCTimestamp bytes for seconds since the epoch (what the session passes as ``now``)."""
    whole = int(epoch_seconds)
    frac = epoch_seconds - whole
    t = _dt.datetime(1970, 1, 1) + _dt.timedelta(seconds=whole)
    base = b"%04d%02d%02d-%02d:%02d:%02d" % (t.year, t.month, t.day, t.hour, t.minute, t.second)
    if precision == 0:
        return base
    if precision == 3:
        return base + b".%03d" % min(int(frac * 1000 + 1e-6), 999)
    if precision == 6:
        return base + b".%06d" % min(int(frac * 1_000_000 + 1e-3), 999_999)
    if precision == 9:
        return base + b".%09d" % min(int(frac * 1_000_000_000), 999_999_999)
    raise ValueError(f"timestamp precision must be 0, 3, 6 or 9, not {precision}")


def parse_utc_timestamp(tag: int, raw: bytes) -> _dt.datetime:
    """Parse UTCTimestamp (seconds, ms, us or ns; ns truncated to us) into an aware datetime."""
    try:
        if len(raw) < 17 or raw[8:9] != b"-" or raw[11:12] != b":" or raw[14:15] != b":":
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


# --------------------------------------------------------------------------- parsing


def _split_fields(buf: bytes, data_length_tags: dict[int, int]) -> list[tuple[int, bytes]]:
    """Split one complete frame into ``(tag, value)`` pairs, honouring raw-data length fields."""
    parts = buf.split(SOH)
    if parts[-1] != b"":
        raise ParseError("message does not end with SOH")
    fields: list[tuple[int, bytes]] = []
    append = fields.append
    tag_cache_get = _TAG_CACHE.get
    # Fast path: one C-level split; fall back to positional parsing at a length field.
    for i in range(len(parts) - 1):
        part = parts[i]
        tag_bytes, sep, value = part.partition(b"=")
        tag = tag_cache_get(tag_bytes)
        if tag is None:
            if not sep:
                raise ParseError(f"field {part[:20]!r} has no '='", offset=i)
            tag = _tag_number(tag_bytes, i)
        elif not sep:
            raise ParseError(f"field {part[:20]!r} has no '='", offset=i)
        append((tag, value))
        if tag in data_length_tags:
            # the remainder may contain SOH inside data values: parse positionally
            offset = sum(len(p) + 1 for p in parts[: i + 1])
            fields.extend(_split_positional(buf, offset, data_length_tags, value, tag))
            return fields
    return fields


_TAG_CACHE: dict[bytes, int] = {str(t).encode(): t for t in range(1, 2000)}
_TAG_CACHE_LIMIT = 20_000


def _tag_number(tag_bytes: bytes, offset: int) -> int:
    """Validate and convert a tag outside the cache (digits only, positive)."""
    if not tag_bytes.isdigit() or not tag_bytes.isascii():
        raise ParseError(f"tag {tag_bytes[:20]!r} is not a number", offset=offset)
    tag = int(tag_bytes)
    if tag <= 0 or tag_bytes[:1] == b"0":
        raise ParseError(f"tag {tag_bytes[:20]!r} is not a positive number without leading zeros", offset=offset)
    if len(_TAG_CACHE) < _TAG_CACHE_LIMIT:
        _TAG_CACHE[tag_bytes] = tag
    return tag


def _split_positional(
    buf: bytes, pos: int, data_length_tags: dict[int, int], length_value: bytes, length_tag: int
) -> list[tuple[int, bytes]]:
    fields: list[tuple[int, bytes]] = []
    pending_data: tuple[int, int] | None = _data_expectation(length_tag, length_value, data_length_tags)
    end = len(buf)
    while pos < end:
        eq = buf.find(b"=", pos)
        if eq < 0:
            raise ParseError("field without '='", offset=pos)
        tag_bytes = buf[pos:eq]
        tag = _TAG_CACHE.get(tag_bytes)
        if tag is None:
            tag = _tag_number(tag_bytes, pos)
        if pending_data is not None and pending_data[0] == tag:
            vend = eq + 1 + pending_data[1]
            if vend >= end or buf[vend : vend + 1] != SOH:
                raise ParseError(f"data field {tag} is not {pending_data[1]} bytes long", tag=tag, offset=pos)
        else:
            vend = buf.find(SOH, eq + 1)
            if vend < 0:
                raise ParseError("field not terminated by SOH", tag=tag, offset=pos)
        value = buf[eq + 1 : vend]
        fields.append((tag, value))
        pending_data = _data_expectation(tag, value, data_length_tags)
        pos = vend + 1
    return fields


def _data_expectation(tag: int, value: bytes, data_length_tags: dict[int, int]) -> tuple[int, int] | None:
    data_tag = data_length_tags.get(tag)
    if data_tag is None:
        return None
    if not value.isdigit():
        raise ParseError(f"length field {tag} has non-numeric value {value[:20]!r}", tag=tag)
    return data_tag, int(value)


# --------------------------------------------------------------------------- the message


class FixMessage:
    """One FIX message: ordered ``(tag, value)`` fields with typed accessors.

    The same class serves parsed messages (flat, wire order) and messages built in code.
    """

    __slots__ = ("fields", "_index")

    def __init__(self, fields: list[Field] | None = None) -> None:
        self.fields: list[Field] = fields if fields is not None else []
        self._index: dict[int, FieldValue] | None = None

    # ----- construction
    @classmethod
    def new(cls, msg_type: str, *fields: tuple[int, Any]) -> FixMessage:
        """A message to send: MsgType (35) plus the given ``(tag, value)`` pairs in order."""
        msg = cls([(35, msg_type.encode("ascii"))])
        for tag, value in fields:
            msg.fields.append((tag, to_fix_bytes(value)))
        return msg

    @classmethod
    def parse(cls, buf: bytes, data_length_tags: dict[int, int] | None = None) -> FixMessage:
        """Parse one complete frame (as returned by ``FrameParser``) into a flat message.

        Raises :class:`ParseError` for a field without ``=``, a non-numeric or non-positive tag, a
        missing final SOH, or a raw-data field shorter than its length field says.
        """
        return cls(_split_fields(buf, DATA_LENGTH_TAGS if data_length_tags is None else data_length_tags))  # type: ignore[arg-type]

    # ----- lookups
    def _build_index(self) -> dict[int, FieldValue]:
        index: dict[int, FieldValue] = {}
        for tag, value in self.fields:
            if tag not in index:
                index[tag] = value
        self._index = index
        return index

    def __contains__(self, tag: object) -> bool:
        index = self._index if self._index is not None else self._build_index()
        return tag in index

    def get_raw(self, tag: int, default: bytes | None = None) -> bytes | None:
        """The first value of ``tag`` as bytes, or ``default``."""
        index = self._index if self._index is not None else self._build_index()
        value = index.get(tag, default)
        if isinstance(value, RepeatingGroup):
            return str(len(value)).encode("ascii")
        return value

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
        if not (value.isdigit() or (value[:1] == b"-" and value[1:].isdigit())):
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
            if len(raw) < 8 or raw[2:3] != b":" or raw[5:6] != b":":
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
        raw = value if isinstance(value, bytes) else to_fix_bytes(value)
        fields = self.fields
        for i, (t, _) in enumerate(fields):
            if t == tag:
                fields[i] = (tag, raw)
                if self._index is not None:
                    self._index[tag] = raw
                return self
        fields.append((tag, raw))
        if self._index is not None:
            self._index[tag] = raw
        return self

    def append(self, tag: int, value: Any) -> FixMessage:
        """Append a field even if the tag is already present."""
        raw = value if isinstance(value, bytes) else to_fix_bytes(value)
        self.fields.append((tag, raw))
        if self._index is not None and tag not in self._index:
            self._index[tag] = raw
        return self

    def remove(self, tag: int) -> bool:
        """Remove every occurrence of ``tag``; returns whether any was present."""
        before = len(self.fields)
        self.fields = [f for f in self.fields if f[0] != tag]
        self._index = None
        return len(self.fields) != before

    def add_group(self, count_tag: int, entries: Iterable[Sequence[tuple[int, Any]]]) -> FixMessage:
        """Add a repeating group: ``entries`` are field sequences in dictionary order."""
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

    def groups(self, count_tag: int, member_tags: frozenset[int] | set[int], delimiter: int | None = None) -> list[FixMessage]:
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


def _iter_group(group: RepeatingGroup) -> Iterator[tuple[int, bytes]]:
    for entry in group:
        for tag, value in entry:
            if isinstance(value, RepeatingGroup):
                yield tag, str(len(value)).encode("ascii")
                yield from _iter_group(value)
            else:
                yield tag, value


_FLOAT_CHARS = frozenset(b"0123456789.-")


def _is_fix_float(value: bytes) -> bool:
    """FIX float: optional leading '-', digits with at most one '.', no exponent, no '+'."""
    if not value or not _FLOAT_CHARS.issuperset(value):
        return False
    body = value[1:] if value[:1] == b"-" else value
    return bool(body) and body.count(b"-") == 0 and body.count(b".") <= 1 and body != b"."
