"""Validate parsed FIX messages against a data dictionary, the way QuickFIX does.

``validate(message, dictionary, settings)`` returns a list of :class:`Violation` (empty when the
message is valid).  A :class:`Validator` (one dictionary, one :class:`ValidationSettings`)
compiles what each MsgType needs on first use and then checks a message in a single pass over
``message.fields``; :class:`PairValidator` does the same for FIXT.1.1 (transport + application
dictionaries).  Messages must be *flat* (as ``FixMessage.parse`` returns them).

Order of the returned violations (the session rejects with the first one), following QuickFIX:

1. structure, found while parsing: 14 tag out of required order (header after body, body after
   trailer, first three fields not 8, 9, 35), 13 tag appears more than once, 15 repeating group
   fields out of order, 16 wrong NumInGroup count;
2. 11 invalid MsgType;
3. 1 required tag missing (header, body, trailer, each in tag order, then inside group entries);
4. per field in wire order: 4 tag without a value, 6 incorrect data format, 5 value out of
   range, 0 invalid tag number, 2 tag not defined for this message type.

Checks of BeginString, CompIDs, SendingTime and MsgSeqNum are the session's, not this module's.
A wrong BodyLength or CheckSum (``validate_length_and_checksum``) comes back as a violation with
``garbled=True``: QuickFIX ignores such messages rather than rejecting them.

With the codec's C accelerator loaded (see :mod:`fix_engine.codec.parsing`), ``Validator.validate``
first asks ``_speedups.fast_valid`` whether the message is valid for sure (the common case, in one
C pass); anything it is not sure about goes through the Python loop below, which alone produces
violations, so the results are the same either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from operator import itemgetter, length_hint
from typing import Any, Union, cast

from fix_engine.codec.message import FixMessage
from fix_engine.codec.parsing import speedups

from . import formats
from .formats import ValueCheck, checker_for
from .model import USER_DEFINED_TAG_MIN, DataDictionary, DictionaryPair, FieldDef, GroupDef, SectionDef
from .violations import SessionRejectReason, Violation

R = SessionRejectReason

_HEADER, _BODY, _TRAILER = 0, 1, 2

#: Violation rank: lower ranks are reported first (see the module docstring).
_RANK: dict[int, int] = {
    R.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER: 0,
    R.TAG_APPEARS_MORE_THAN_ONCE: 0,
    R.REPEATING_GROUP_FIELDS_OUT_OF_ORDER: 0,
    R.INCORRECT_NUMINGROUP_COUNT_FOR_REPEATING_GROUP: 0,
    R.INVALID_UNSUPPORTED_APPLICATION_VERSION: 1,
    R.INVALID_MSGTYPE: 1,
    R.REQUIRED_TAG_MISSING: 2,
}


def _rank(violation: Violation) -> int:
    if violation.garbled:
        return -1
    return _RANK.get(violation.reason, 3)


@dataclass(frozen=True, slots=True)
class ValidationSettings:
    """Validation policy, kept apart from the dictionary (QuickFIX setting names in comments).

    Defaults are QuickFIX's except ``validate_length_and_checksum``: BodyLength (9) and CheckSum
    (10) of wire messages are verified by ``FrameParser`` (its ``validate_checksum`` flag is
    where QuickFIX's ValidateLengthAndChecksum belongs), so re-checking them from the parsed
    fields is opt-in here, for messages that did not come through a FrameParser.
    """

    validate_fields_out_of_order: bool = True  # ValidateFieldsOutOfOrder
    validate_fields_have_values: bool = True  # ValidateFieldsHaveValues
    validate_user_defined_fields: bool = True  # ValidateUserDefinedFields (tags >= 5000)
    allow_unknown_msg_fields: bool = False  # AllowUnknownMsgFields (tags < 5000)
    validate_length_and_checksum: bool = False  # ValidateLengthAndChecksum (see above)
    check_msg_type: bool = True  # reject a MsgType the dictionary does not define (11)

    @classmethod
    def from_session_settings(cls, settings: Any) -> ValidationSettings:
        """Take the matching attributes of a ``SessionSettings`` (or any object carrying them).

        ``validate_length_and_checksum`` is not taken: give it to ``FrameParser`` instead.
        """
        names = [name for name in cls.__dataclass_fields__ if name != "validate_length_and_checksum"]
        return cls(**{name: getattr(settings, name) for name in names if hasattr(settings, name)})


DEFAULT_SETTINGS = ValidationSettings()

# --------------------------------------------------------------------------- compiled forms

#: per top-level tag: (section, format check, enum values, multi-value, group)
_FieldInfo = tuple[int, ValueCheck | None, frozenset | None, bool, Union["_Group", None]]
#: per group member tag: (position, format check, enum values, multi-value, nested group)
_MemberInfo = tuple[int, ValueCheck | None, frozenset | None, bool, Union["_Group", None]]


class _Group:
    """A repeating group compiled for validation: delimiter, member positions, checks."""

    __slots__ = ("count_tag", "delimiter", "info", "required", "required_set")

    def __init__(self, group: GroupDef, fields: Mapping[int, FieldDef]) -> None:
        self.count_tag = group.count_tag
        self.delimiter = group.delimiter
        self.required = tuple(sorted(group.required_tags))  # reported in tag order, as QuickFIX
        self.required_set = frozenset(group.required_tags)
        info: dict[int, _MemberInfo] = {}
        for tag, position in group.order.items():
            check, values, multi = _value_checks(fields.get(tag))
            nested = group.nested.get(tag)
            info[tag] = (position, check, values, multi, _Group(nested, fields) if nested is not None else None)
        self.info = info


class _Message:
    """One MsgType compiled for validation: per-tag info and the required tags."""

    __slots__ = ("msg_type", "known", "info", "required", "required_set")

    def __init__(self, msg_type: bytes, known: bool, info: dict[int, _FieldInfo], required: tuple[int, ...]) -> None:
        self.msg_type = msg_type
        self.known = known
        self.info = info
        self.required = required
        self.required_set = frozenset(required)


def _value_checks(field: FieldDef | None) -> tuple[ValueCheck | None, frozenset | None, bool]:
    if field is None:
        return None, None, False
    return checker_for(field.type), (field.enum_values or None), field.is_multi_value


def _section_info(section: SectionDef, kind: int, fields: Mapping[int, FieldDef], out: dict[int, _FieldInfo]) -> None:
    for tag in section.tags:
        check, values, multi = _value_checks(fields.get(tag))
        if tag == 35:
            values = None  # an unknown MsgType is reason 11 (from the messages), not 5
        group = section.groups.get(tag)
        out[tag] = (kind, check, values, multi, _Group(group, fields) if group is not None else None)


def _multi_ok(value: bytes, values: frozenset) -> bool:
    return all(part in values for part in value.split(b" ") if part)


# --------------------------------------------------------------------------- the validator


class Validator:
    """Validates flat messages against one dictionary (header/trailer optionally from a transport one).

    Build it once per session (or take :func:`validator_for`); ``validate`` is the hot path.
    """

    def __init__(
        self,
        dictionary: DataDictionary,
        settings: ValidationSettings = DEFAULT_SETTINGS,
        *,
        transport: DataDictionary | None = None,
    ) -> None:
        self.dictionary = dictionary
        self.transport = transport or dictionary
        self.settings = settings
        fields = dict(self.transport.fields)
        fields.update(dictionary.fields)
        self._fields: dict[int, FieldDef] = fields
        self._ooo = settings.validate_fields_out_of_order
        self._have_values = settings.validate_fields_have_values
        self._user_defined = settings.validate_user_defined_fields
        self._allow_unknown = settings.allow_unknown_msg_fields
        self._length_checksum = settings.validate_length_and_checksum
        self._check_msg_type = settings.check_msg_type
        envelope: dict[int, _FieldInfo] = {}
        _section_info(self.transport.header, _HEADER, fields, envelope)
        _section_info(self.transport.trailer, _TRAILER, fields, envelope)
        self._envelope = envelope
        # required tags are reported header first, then body, then trailer, each in tag order (QuickFIX
        # checks them from sorted sets)
        self._envelope_required = tuple(sorted(self.transport.header.required_tags)) + tuple(
            sorted(self.transport.trailer.required_tags)
        )
        self._compiled: dict[bytes, _Message] = {}

    # ----- compilation (once per MsgType)
    def _compile(self, msg_type: bytes) -> _Message:
        definition = self.dictionary.messages.get(msg_type.decode("latin-1"))
        info = dict(self._envelope)
        if definition is None:
            compiled = _Message(msg_type, False, info, self._envelope_required)
        else:
            body: dict[int, _FieldInfo] = {}
            _section_info(definition.body, _BODY, self._fields, body)
            for tag, entry in body.items():
                info.setdefault(tag, entry)
            required = (
                tuple(sorted(self.transport.header.required_tags))
                + tuple(sorted(definition.body.required_tags))
                + tuple(sorted(self.transport.trailer.required_tags))
            )
            compiled = _Message(msg_type, True, info, required)
        if len(self._compiled) < 10_000:  # unknown MsgTypes must not grow this without bound
            self._compiled[msg_type] = compiled
        return compiled

    # ----- the hot path
    def validate(self, message: FixMessage) -> list[Violation]:
        """Every violation of ``message`` (empty list when valid), in QuickFIX reject order."""
        fields = cast(list[tuple[int, bytes]], message.fields)  # flat: every value is bytes
        out: list[Violation] = []
        n = len(fields)
        msg_type: bytes | None
        if n >= 3 and fields[0][0] == 8 and fields[1][0] == 9 and fields[2][0] == 35:
            msg_type = fields[2][1]
        else:
            msg_type = self._bad_start(fields, out)
        compiled = self._compiled.get(msg_type) if msg_type is not None else None
        if compiled is None:
            compiled = self._compile(msg_type or b"")
        if compiled.known:
            if _fast_valid is not None and not self._length_checksum and _fast_valid(fields, compiled.info, compiled.required):
                return out  # C: valid for sure (else it returns None and the loop below decides)
        elif self._check_msg_type:
            out.append(Violation(R.INVALID_MSGTYPE, 35, f"MsgType {(msg_type or b'').decode('latin-1')!r} is not defined"))

        info_get = compiled.info.get
        have_values = self._have_values
        section = _HEADER
        group_spans: list[tuple[int, int]] | None = None
        it = iter(fields)
        for tag, value in it:
            info = info_get(tag)
            if info is None:
                section = self._other_field(tag, value, section, compiled, out)
                continue
            kind, check, values, multi, group = info
            if kind != section:
                if kind < section:
                    if self._ooo:
                        out.append(Violation(R.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER, tag))
                else:
                    section = kind
            if value:
                if values is not None:
                    if (not _multi_ok(value, values)) if multi else (value not in values):
                        _bad_value(tag, value, check, out)
                elif check is not None and not check(value):
                    out.append(Violation(R.INCORRECT_DATA_FORMAT_FOR_VALUE, tag, _show(value)))
            elif have_values:
                out.append(Violation(R.TAG_SPECIFIED_WITHOUT_A_VALUE, tag))
            if group is not None:
                # rare path: find our position from the iterator, walk the group, skip past it
                start = n - length_hint(it)
                end = self._group(fields, start, n, group, value, out)
                if end > start:
                    if group_spans is None:
                        group_spans = []
                    group_spans.append((start, end))
                    next(islice(it, end - start - 1, None), None)

        # top-level tags: every tag unless groups consumed some
        if group_spans is None:
            seen = set(map(_first, fields))
            top_level = n
        else:
            top = _outside(fields, group_spans)
            seen = set(top)
            top_level = len(top)
        if len(seen) != top_level:
            _duplicates(fields if group_spans is None else _outside(fields, group_spans), out)
        if not compiled.required_set <= seen:
            for tag in compiled.required:
                if tag not in seen:
                    out.append(Violation(R.REQUIRED_TAG_MISSING, tag))
        if n and fields[-1][0] != 10 and 10 in seen and self._ooo:
            self._after_checksum(fields, out)
        if self._length_checksum:
            garbled = check_length_and_checksum(fields)
            if garbled is not None:
                out.append(garbled)
        if len(out) > 1:
            out.sort(key=_rank)
        return out

    # ----- the slow paths
    def _bad_start(self, fields: list[Any], out: list[Violation]) -> bytes | None:
        """The first three fields are not 8, 9, 35: report 14 and find the MsgType anyway."""
        if self._ooo:
            for position, expected in enumerate((8, 9, 35)):
                if position >= len(fields):
                    break
                if fields[position][0] != expected:
                    out.append(Violation(R.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER, fields[position][0], "header must start with 8, 9, 35"))
                    break
        for tag, value in fields:
            if tag == 35:
                return value  # type: ignore[no-any-return]
        return None

    def _after_checksum(self, fields: list[Any], out: list[Violation]) -> None:
        for position, (tag, _) in enumerate(fields):
            if tag == 10 and position + 1 < len(fields):
                after = fields[position + 1][0]
                if any(v.tag == after and v.reason == R.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER for v in out):
                    return
                out.append(Violation(R.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER, fields[position + 1][0], "field after CheckSum"))
                return

    def _other_field(self, tag: int, value: bytes, section: int, compiled: _Message, out: list[Violation]) -> int:
        """A top-level tag the message definition does not list: unknown, misplaced or user-defined."""
        if section == _TRAILER:
            if self._ooo:
                out.append(Violation(R.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER, tag))
        else:
            section = _BODY
        field = self._fields.get(tag)
        if not value:
            if self._have_values:
                out.append(Violation(R.TAG_SPECIFIED_WITHOUT_A_VALUE, tag))
        elif field is not None:
            self._check_value(tag, value, field, out)
        if tag >= USER_DEFINED_TAG_MIN:
            should_check = self._user_defined
        else:
            should_check = not self._allow_unknown
        if should_check:
            if field is None:
                out.append(Violation(R.INVALID_TAG_NUMBER, tag))
            elif compiled.known:
                out.append(Violation(R.TAG_NOT_DEFINED_FOR_MESSAGE_TYPE, tag))
        return section

    @staticmethod
    def _check_value(tag: int, value: bytes, field: FieldDef, out: list[Violation]) -> None:
        check, values, multi = _value_checks(field)
        if values is not None:
            if (not _multi_ok(value, values)) if multi else (value not in values):
                _bad_value(tag, value, check, out)
        elif check is not None and not check(value):
            out.append(Violation(R.INCORRECT_DATA_FORMAT_FOR_VALUE, tag, _show(value)))

    def _group(self, fields: list[Any], i: int, n: int, group: _Group, count_value: bytes, out: list[Violation]) -> int:
        """Walk the entries of ``group`` starting at ``fields[i]``; return the index after them."""
        info_get = group.info.get
        delimiter = group.delimiter
        have_values = self._have_values
        ooo = self._ooo
        entries = 0
        previous = -1
        entry_seen: set[int] = set()
        stray: Violation | None = None
        while i < n:
            tag, value = fields[i]
            info = info_get(tag)
            if info is None:
                break
            position, check, values, multi, nested = info
            if tag == delimiter:
                if entries:
                    self._entry_required(group, entry_seen, out)
                entries += 1
                entry_seen = {tag}
                previous = position
            elif not entries:
                # members before the first delimiter: 15, reported after the count check below
                if stray is None:
                    stray = Violation(R.REPEATING_GROUP_FIELDS_OUT_OF_ORDER, tag, f"group {group.count_tag} entry does not start with {delimiter}")
            else:
                if tag in entry_seen:
                    out.append(Violation(R.TAG_APPEARS_MORE_THAN_ONCE, tag, f"twice in one entry of group {group.count_tag}"))
                elif position < previous and ooo:
                    out.append(Violation(R.REPEATING_GROUP_FIELDS_OUT_OF_ORDER, tag, f"out of order in group {group.count_tag}"))
                entry_seen.add(tag)
                previous = position
            if value:
                if values is not None:
                    if (not _multi_ok(value, values)) if multi else (value not in values):
                        _bad_value(tag, value, check, out)
                elif check is not None and not check(value):
                    out.append(Violation(R.INCORRECT_DATA_FORMAT_FOR_VALUE, tag, _show(value)))
            elif have_values:
                out.append(Violation(R.TAG_SPECIFIED_WITHOUT_A_VALUE, tag))
            if nested is not None:
                i = self._group(fields, i + 1, n, nested, value, out)
            else:
                i += 1
        if entries:
            self._entry_required(group, entry_seen, out)
        # members before the first delimiter make one more entry, as QuickFIX's parser counts
        # them: a NumInGroup that does not count it is reported first (16, as QuickFIX does),
        # then the missing delimiter (15, the FIX session test case 14j)
        counted = entries + (stray is not None)
        if count_value.isdigit() and int(count_value) != counted:
            out.append(
                Violation(
                    R.INCORRECT_NUMINGROUP_COUNT_FOR_REPEATING_GROUP,
                    group.count_tag,
                    f"NumInGroup {count_value.decode('latin-1')} but {counted} entries",
                )
            )
        if stray is not None:
            out.append(stray)
        return i

    @staticmethod
    def _entry_required(group: _Group, entry_seen: set[int], out: list[Violation]) -> None:
        if not group.required_set <= entry_seen:
            for tag in group.required:
                if tag not in entry_seen:
                    out.append(Violation(R.REQUIRED_TAG_MISSING, tag, f"in an entry of group {group.count_tag}"))


def _show(value: bytes) -> str:
    return value[:40].decode("latin-1")


_first = itemgetter(0)


def _bad_value(tag: int, value: bytes, check: ValueCheck | None, out: list[Violation]) -> None:
    """A value outside the enumeration: 6 if it is not even well formed, else 5 (QuickFIX order)."""
    if check is not None and not check(value):
        out.append(Violation(R.INCORRECT_DATA_FORMAT_FOR_VALUE, tag, _show(value)))
    else:
        out.append(Violation(R.VALUE_IS_INCORRECT, tag, _show(value)))


def _outside(fields: list[Any], spans: list[tuple[int, int]]) -> list[int]:
    """The tags of ``fields`` outside the given ``[start, end)`` group spans."""
    tags: list[int] = []
    position = 0
    for start, end in spans:
        tags.extend(tag for tag, _ in fields[position:start])
        position = end
    tags.extend(tag for tag, _ in fields[position:])
    return tags


def _duplicates(tags_or_fields: list[Any], out: list[Violation]) -> None:
    seen: set[int] = set()
    reported: set[int] = set()
    for item in tags_or_fields:
        tag = item if isinstance(item, int) else item[0]
        if tag in seen:
            if tag not in reported:
                reported.add(tag)
                out.append(Violation(R.TAG_APPEARS_MORE_THAN_ONCE, tag))
        else:
            seen.add(tag)


# --------------------------------------------------------------------------- BodyLength / CheckSum


def check_length_and_checksum(fields: list[Any]) -> Violation | None:
    """Recompute BodyLength (9) and CheckSum (10) from flat fields; a ``garbled`` violation if wrong.

    Returns ``None`` when they match or when the fields do not start with 8, 9 and end with 10
    (those structure problems are reported as 14 by the validator).
    """
    if len(fields) < 3 or fields[0][0] != 8 or fields[1][0] != 9 or fields[-1][0] != 10:
        return None
    body = b"".join([b"%d=%b\x01" % field for field in fields[2:-1]])
    declared_length = fields[1][1]
    if not declared_length.isdigit() or int(declared_length) != len(body):
        return Violation(R.OTHER, 9, f"BodyLength {declared_length.decode('latin-1')} but {len(body)} bytes", garbled=True)
    head = b"8=%b\x019=%b\x01" % (fields[0][1], declared_length)
    expected = b"%03d" % ((sum(head) + sum(body)) & 0xFF)
    if fields[-1][1] != expected:
        return Violation(R.OTHER, 10, f"CheckSum {fields[-1][1].decode('latin-1')} but computed {expected.decode()}", garbled=True)
    return None


# --------------------------------------------------------------------------- C accelerator

_FAST_CHECKS = (
    "is_int", "is_non_negative_int", "is_positive_int", "is_float", "is_char", "is_boolean",
    "is_utc_timestamp", "is_utc_time_only", "is_date",
)
if speedups is not None:
    speedups.configure(checks={name: getattr(formats, name) for name in _FAST_CHECKS})

#: ``fast_valid(fields, info, required)``: the C happy path of :meth:`Validator.validate`.  It
#: returns True only for a message the loop would find nothing wrong with (every field defined for
#: the MsgType, in section order, once, with a well-formed value; the required tags present;
#: CheckSum last) and None for anything else, which the Python loop then examines.  ``None`` when
#: the codec runs pure Python (see :mod:`fix_engine.codec.parsing`).
_fast_valid: Callable[[list[Any], dict[int, Any], tuple[int, ...]], bool | None] | None = (
    speedups.fast_valid if speedups is not None else None
)


# --------------------------------------------------------------------------- FIXT.1.1


class PairValidator:
    """Validates FIXT.1.1 messages: session messages against the transport dictionary, application
    messages with the transport header/trailer and the body of the application dictionary named by
    ApplVerID (1128), or the pair's DefaultApplVerID.
    """

    def __init__(self, pair: DictionaryPair, settings: ValidationSettings = DEFAULT_SETTINGS) -> None:
        self.pair = pair
        self.settings = settings
        self._admin = Validator(pair.transport, settings)
        self._apps = {key: Validator(app, settings, transport=pair.transport) for key, app in pair.applications.items()}
        self._default = self._apps[pair.default_appl_ver_id]
        self._transport_types = frozenset(mt.encode("latin-1") for mt in pair.transport.messages)
        self._header_tags = pair.transport.header.all_tags

    def validate(self, message: FixMessage) -> list[Violation]:
        """Every violation of ``message``, by the dictionary its MsgType and ApplVerID select."""
        fields = cast(list[tuple[int, bytes]], message.fields)
        msg_type: bytes | None
        if len(fields) > 2 and fields[2][0] == 35:
            msg_type = fields[2][1]
        else:
            msg_type = message.get_raw(35)
        if msg_type in self._transport_types:
            return self._admin.validate(message)
        appl_ver_id: bytes | None = None
        header_tags = self._header_tags
        for tag, value in fields:
            if tag == 1128:
                appl_ver_id = value
                break
            if tag not in header_tags:
                break
        if appl_ver_id is None:
            return self._default.validate(message)
        validator = self._apps.get(appl_ver_id.decode("latin-1"))
        if validator is None:
            return [Violation(R.INVALID_UNSUPPORTED_APPLICATION_VERSION, 1128, f"ApplVerID {_show(appl_ver_id)!r} has no dictionary")]
        return validator.validate(message)


# --------------------------------------------------------------------------- convenience API

AnyDictionary = DataDictionary | DictionaryPair


@lru_cache(maxsize=256)
def validator_for(dictionary: AnyDictionary, settings: ValidationSettings = DEFAULT_SETTINGS) -> Validator | PairValidator:
    """A cached validator for ``dictionary`` (or a FIXT :class:`DictionaryPair`) and ``settings``."""
    if isinstance(dictionary, DictionaryPair):
        return PairValidator(dictionary, settings)
    return Validator(dictionary, settings)


def validate(
    message: FixMessage, dictionary: AnyDictionary, settings: ValidationSettings = DEFAULT_SETTINGS
) -> list[Violation]:
    """Every violation of flat ``message`` against ``dictionary`` under ``settings`` (empty if valid)."""
    return validator_for(dictionary, settings).validate(message)


def msg_type_category(dictionary: AnyDictionary, msg_type: str, appl_ver_id: str | None = None) -> str | None:
    """``"admin"`` or ``"app"`` for a MsgType the dictionary defines, ``None`` when it does not."""
    if isinstance(dictionary, DictionaryPair):
        definition = dictionary.transport.messages.get(msg_type)
        if definition is None:
            app = dictionary.application(appl_ver_id)
            definition = app.messages.get(msg_type) if app is not None else None
    else:
        definition = dictionary.messages.get(msg_type)
    return definition.category if definition is not None else None


#: A ``(message) -> violations`` function, what a session holds.
ValidateFunction = Callable[[FixMessage], list[Violation]]
