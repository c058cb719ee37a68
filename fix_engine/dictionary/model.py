"""The data dictionary model: frozen dataclasses for fields, groups, components and messages.

A :class:`DataDictionary` is pure data, built once by :mod:`fix_engine.dictionary.loader` from a
QuickFIX-format XML file.  Components are inlined where they are used, so a message's
``members`` is a flat tuple of :class:`FieldRef` and (possibly nested) :class:`GroupDef`; a
member's ``required`` flag already accounts for the components it came through (a required
field inside an optional component is not required).  Lookups are dicts and frozensets wrapped
read-only; validation policy lives elsewhere (:mod:`fix_engine.dictionary.validation`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

#: Field types of the QuickFIX XML format (FIX.4.0 - FIX.5.0SP2, FIXT.1.1).
FIELD_TYPES: frozenset[str] = frozenset(
    {
        "AMT", "BOOLEAN", "CHAR", "COUNTRY", "CURRENCY", "DATA", "DATE", "DAYOFMONTH", "EXCHANGE",
        "FLOAT", "INT", "LANGUAGE", "LENGTH", "LOCALMKTDATE", "LOCALMKTTIME", "MONTHYEAR",
        "MULTIPLECHARVALUE", "MULTIPLESTRINGVALUE", "MULTIPLEVALUESTRING", "NUMINGROUP", "PERCENTAGE",
        "PRICE", "PRICEOFFSET", "QTY", "SEQNUM", "STRING", "TAGNUM", "TIME", "TZTIMEONLY",
        "TZTIMESTAMP", "UTCDATE", "UTCDATEONLY", "UTCTIMEONLY", "UTCTIMESTAMP", "XID", "XIDREF",
        "XMLDATA",
    }
)

#: Types whose value is a space-separated list (each element is checked against the enums).
MULTI_VALUE_TYPES: frozenset[str] = frozenset({"MULTIPLECHARVALUE", "MULTIPLESTRINGVALUE", "MULTIPLEVALUESTRING"})

#: Tags from this number up are user-defined (QuickFIX ``FIELD::UserMin``).
USER_DEFINED_TAG_MIN = 5000

#: ApplVerID (1128) values and the BeginString-style version they name.
APPL_VER_IDS: Mapping[str, str] = {
    "0": "FIX.2.7",
    "1": "FIX.3.0",
    "2": "FIX.4.0",
    "3": "FIX.4.1",
    "4": "FIX.4.2",
    "5": "FIX.4.3",
    "6": "FIX.4.4",
    "7": "FIX.5.0",
    "8": "FIX.5.0SP1",
    "9": "FIX.5.0SP2",
}


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One field of the dictionary's ``<fields>`` section: tag number, name, type and enums."""

    number: int
    name: str
    type: str
    #: enum value -> description, in file order (empty when the field has no enumeration)
    enums: Mapping[str, str]
    #: the enum values as wire bytes, for validation
    enum_values: frozenset[bytes]
    line: int = 0

    @property
    def is_multi_value(self) -> bool:
        return self.type in MULTI_VALUE_TYPES

    @property
    def is_user_defined(self) -> bool:
        return self.number >= USER_DEFINED_TAG_MIN


@dataclass(frozen=True, slots=True)
class FieldRef:
    """A field used as a member of a message, component, group, header or trailer."""

    tag: int
    name: str
    required: bool


@dataclass(frozen=True, slots=True)
class GroupDef:
    """A repeating group: its NumInGroup count field and the ordered members of one entry.

    ``delimiter`` is the first member's tag (every entry must start with it); ``order`` maps each
    direct member tag (fields and nested count tags) to its position; ``required_tags`` are the
    members every entry must carry; ``nested`` holds the groups directly inside an entry.
    """

    count_tag: int
    name: str
    required: bool
    members: tuple[Member, ...]
    delimiter: int
    order: Mapping[int, int]
    member_tags: frozenset[int]
    required_tags: tuple[int, ...]
    nested: Mapping[int, GroupDef]
    line: int = 0

    @property
    def all_tags(self) -> frozenset[int]:
        """Every tag that may appear inside an entry, nested groups included."""
        tags = set(self.member_tags)
        for group in self.nested.values():
            tags |= group.all_tags
        return frozenset(tags)


Member = FieldRef | GroupDef


@dataclass(frozen=True, slots=True)
class ComponentDef:
    """A named component as declared (members inlined recursively, flags as written)."""

    name: str
    members: tuple[Member, ...]
    line: int = 0


@dataclass(frozen=True, slots=True)
class SectionDef:
    """An ordered run of members with its lookups: the header, the trailer or a message body.

    ``tags`` are the tags that may appear directly in the section (fields and group count
    tags); ``required_tags`` is in declaration order; ``groups`` maps count tag -> group.
    """

    members: tuple[Member, ...]
    tags: frozenset[int]
    required_tags: tuple[int, ...]
    groups: Mapping[int, GroupDef]

    @property
    def all_tags(self) -> frozenset[int]:
        """Every tag of the section, group members included."""
        tags = set(self.tags)
        for group in self.groups.values():
            tags |= group.all_tags
        return frozenset(tags)


@dataclass(frozen=True, slots=True)
class MessageDef:
    """One message type: MsgType (35), name, category (``admin``/``app``) and its body."""

    msg_type: str
    name: str
    category: str
    body: SectionDef
    line: int = 0

    @property
    def is_admin(self) -> bool:
        return self.category == "admin"


@dataclass(frozen=True, eq=False)
class DataDictionary:
    """A loaded FIX data dictionary (one XML file): pure data with read-only lookups.

    For FIX.4.x one dictionary holds everything.  Under FIXT.1.1 the transport dictionary
    (``FIXT11.xml``) holds the header, trailer and session messages and an application
    dictionary (``FIX50SP2.xml``...) the application messages; see :class:`DictionaryPair`.
    """

    path: str
    fix_type: str  # "FIX" or "FIXT"
    major: int
    minor: int
    servicepack: int
    fields: Mapping[int, FieldDef]
    fields_by_name: Mapping[str, FieldDef]
    components: Mapping[str, ComponentDef]
    header: SectionDef
    trailer: SectionDef
    messages: Mapping[str, MessageDef]
    #: LENGTH tag -> DATA tag, for ``FixMessage.parse(buf, data_length_tags)``
    data_length_tags: Mapping[int, int]

    @property
    def begin_string(self) -> str:
        """``FIX.4.4``, ``FIXT.1.1``, ``FIX.5.0SP2`` (the version this dictionary describes)."""
        text = f"{self.fix_type}.{self.major}.{self.minor}"
        return f"{text}SP{self.servicepack}" if self.servicepack else text

    @property
    def is_transport(self) -> bool:
        """A FIXT transport dictionary (session layer only)."""
        return self.fix_type == "FIXT"

    @property
    def appl_ver_id(self) -> str | None:
        """The ApplVerID (1128) naming this application version, if it has one."""
        for key, version in APPL_VER_IDS.items():
            if version == self.begin_string:
                return key
        return None

    def field(self, tag_or_name: int | str) -> FieldDef | None:
        """The field by tag number or by name, or ``None``."""
        if isinstance(tag_or_name, int):
            return self.fields.get(tag_or_name)
        return self.fields_by_name.get(tag_or_name)

    def message(self, msg_type: str) -> MessageDef | None:
        return self.messages.get(msg_type)

    def is_msg_type(self, msg_type: str) -> bool:
        """Whether MsgType (35) ``msg_type`` is defined in this dictionary."""
        return msg_type in self.messages

    def is_admin_msg_type(self, msg_type: str) -> bool:
        """Whether ``msg_type`` is defined here with ``msgcat='admin'``."""
        message = self.messages.get(msg_type)
        return message is not None and message.category == "admin"

    def is_app_msg_type(self, msg_type: str) -> bool:
        """Whether ``msg_type`` is defined here with ``msgcat='app'``."""
        message = self.messages.get(msg_type)
        return message is not None and message.category != "admin"

    def __repr__(self) -> str:
        return f"<DataDictionary {self.begin_string} {self.path!r}: {len(self.messages)} messages, {len(self.fields)} fields>"


@dataclass(frozen=True, eq=False)
class DictionaryPair:
    """FIXT.1.1: one transport dictionary plus application dictionaries by ApplVerID (1128).

    Session (admin) messages are validated against ``transport`` alone; application messages
    take their header and trailer from ``transport`` and their body from the application
    dictionary named by the message's ApplVerID, or by ``default_appl_ver_id`` (the
    DefaultApplVerID (1137) agreed at Logon) when the header has none.
    """

    transport: DataDictionary
    applications: Mapping[str, DataDictionary]
    default_appl_ver_id: str

    def application(self, appl_ver_id: str | None = None) -> DataDictionary | None:
        """The application dictionary for ``appl_ver_id`` (default: DefaultApplVerID)."""
        return self.applications.get(appl_ver_id or self.default_appl_ver_id)

    @property
    def data_length_tags(self) -> dict[int, int]:
        """LENGTH -> DATA pairs of the transport and every application dictionary."""
        pairs = dict(self.transport.data_length_tags)
        for app in self.applications.values():
            pairs.update(app.data_length_tags)
        return pairs

    def is_msg_type(self, msg_type: str, appl_ver_id: str | None = None) -> bool:
        if self.transport.is_msg_type(msg_type):
            return True
        app = self.application(appl_ver_id)
        return app is not None and app.is_msg_type(msg_type)

    def is_admin_msg_type(self, msg_type: str) -> bool:
        return self.transport.is_admin_msg_type(msg_type)

    def is_app_msg_type(self, msg_type: str, appl_ver_id: str | None = None) -> bool:
        app = self.application(appl_ver_id)
        return app is not None and app.is_app_msg_type(msg_type)
