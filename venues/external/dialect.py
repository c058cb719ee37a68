"""Per-exchange dialect overrides for the external FIX venue, read from session config keys.

Every key is optional and goes in the initiator's ``[SESSION]`` block (application keys land in
``SessionSettings.extra``; :meth:`Dialect.from_settings` reads them).

``DialectTagMap=100:207,5000:9000``
    Standard tag -> the exchange's tag, comma separated.  Outgoing messages use the exchange tag;
    incoming messages are read as if the exchange had used the standard tag.
``DialectTimeInForceMap=GTD:6,DAY:0``
    TimeInForce (enum name or FIX code) -> the value the exchange uses for it, both ways.
``DialectOrdTypeMap=STOP_LIMIT:4``
    OrdType (enum name or FIX code) -> the exchange's value, both ways.
``DialectNewOrderFields=1:HOUSE,5000:X``
    Constant fields added to every NewOrderSingle (standard or custom tags; the tag map is not
    applied to them, write the exchange's tag).
``DialectPassThroughTags=5001,5002``
    Custom tags (defined in the session's custom dictionary) that are copied out of incoming
    ExecutionReports; :class:`~venues.external.fix_venue.FixVenue` hands them to its
    ``on_custom_fields`` hook together with the event they came with.
``DialectOrderMassStatus=Y``
    The exchange answers OrderMassStatusRequest (35=AF); used to reconcile after a reconnect.
    Default N: reconciliation relies on the exchange resending the ExecutionReports we missed.
``DialectOrderMassCancel=N``
    The exchange does not support OrderMassCancelRequest (35=q): mass cancels are sent as one
    OrderCancelRequest per working order.  Default Y (FIX.4.2 never has q).
``DialectHandlInst=1``
    HandlInst(21) for FIX.4.2 orders (required there); default 1 (automated, private).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TypeVar

from fix_engine.codec.message import FixMessage
from venues.base import OrdType, TimeInForce

E = TypeVar("E", bound=Enum)

KEYS = (
    "DialectTagMap",
    "DialectTimeInForceMap",
    "DialectOrdTypeMap",
    "DialectNewOrderFields",
    "DialectPassThroughTags",
    "DialectOrderMassStatus",
    "DialectOrderMassCancel",
    "DialectHandlInst",
)


class DialectError(ValueError):
    """A dialect key whose value cannot be understood; the message names the key."""


@dataclass(frozen=True)
class Dialect:
    """How one exchange deviates from the standard FIX fields and values."""

    tag_map: Mapping[int, int] = field(default_factory=dict)
    tif_map: Mapping[TimeInForce, str] = field(default_factory=dict)
    ord_type_map: Mapping[OrdType, str] = field(default_factory=dict)
    new_order_fields: tuple[tuple[int, str], ...] = ()
    pass_through_tags: frozenset[int] = frozenset()
    order_mass_status: bool = False
    order_mass_cancel: bool = True
    handl_inst: str = "1"

    def __post_init__(self) -> None:
        venue_tags = list(self.tag_map.values())
        if len(set(venue_tags)) != len(venue_tags):
            raise DialectError("DialectTagMap: two standard tags map to the same exchange tag")

    # ----- construction
    @classmethod
    def from_settings(cls, extra: Mapping[str, str]) -> Dialect:
        """Read the ``Dialect*`` keys of a session's application settings (see the module doc)."""

        def get(key: str) -> str:
            return extra.get(key, "").strip()

        return cls(
            tag_map=_parse_tag_map(get("DialectTagMap")),
            tif_map=_parse_enum_map("DialectTimeInForceMap", get("DialectTimeInForceMap"), TimeInForce),
            ord_type_map=_parse_enum_map("DialectOrdTypeMap", get("DialectOrdTypeMap"), OrdType),
            new_order_fields=tuple(_parse_pairs("DialectNewOrderFields", get("DialectNewOrderFields"))),
            pass_through_tags=frozenset(_parse_tags("DialectPassThroughTags", get("DialectPassThroughTags"))),
            order_mass_status=_parse_bool("DialectOrderMassStatus", get("DialectOrderMassStatus"), False),
            order_mass_cancel=_parse_bool("DialectOrderMassCancel", get("DialectOrderMassCancel"), True),
            handl_inst=get("DialectHandlInst") or "1",
        )

    # ----- values
    def tif_value(self, tif: TimeInForce) -> str:
        return self.tif_map.get(tif, tif.value)

    def tif_from(self, value: str) -> TimeInForce | None:
        for tif, mapped in self.tif_map.items():
            if mapped == value:
                return tif
        return _enum_or_none(TimeInForce, value)

    def ord_type_value(self, ord_type: OrdType) -> str:
        return self.ord_type_map.get(ord_type, ord_type.value)

    def ord_type_from(self, value: str) -> OrdType | None:
        for ord_type, mapped in self.ord_type_map.items():
            if mapped == value:
                return ord_type
        return _enum_or_none(OrdType, value)

    # ----- whole messages
    def outgoing(self, fields: Iterable[tuple[int, str]]) -> list[tuple[int, str]]:
        """Standard ``(tag, value)`` pairs -> the exchange's tags, ascending by tag."""
        tag_map = self.tag_map
        return sorted(((tag_map.get(tag, tag), value) for tag, value in fields), key=lambda f: f[0])

    def incoming(self, message: FixMessage) -> FixMessage:
        """A received message with the exchange's tags renamed to the standard ones."""
        if not self.tag_map:
            return message
        reverse = {venue: std for std, venue in self.tag_map.items()}
        return FixMessage([(reverse.get(tag, tag), value) for tag, value in message.fields])

    def custom_fields(self, message: FixMessage) -> dict[int, str]:
        """The pass-through custom fields present in ``message`` (already renamed by :meth:`incoming`)."""
        found: dict[int, str] = {}
        for tag in self.pass_through_tags:
            value = message.get(tag)
            if value is not None:
                found[tag] = value
        return found


STANDARD = Dialect()


# --------------------------------------------------------------------------- parsing helpers


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _tag(key: str, text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise DialectError(f"{key}: {text!r} is not a tag number")
    return int(text)


def _parse_pairs(key: str, text: str) -> list[tuple[int, str]]:
    pairs = []
    for part in _split(text):
        tag, sep, value = part.partition(":")
        if not sep or not value.strip():
            raise DialectError(f"{key}: {part!r} is not TAG:VALUE")
        pairs.append((_tag(key, tag.strip()), value.strip()))
    return pairs


def _parse_tag_map(text: str) -> dict[int, int]:
    return {tag: _tag("DialectTagMap", value) for tag, value in _parse_pairs("DialectTagMap", text)}


def _parse_tags(key: str, text: str) -> list[int]:
    return [_tag(key, part) for part in _split(text)]


def _parse_enum_map(key: str, text: str, enum: type[E]) -> dict[E, str]:
    mapping: dict[E, str] = {}
    for part in _split(text):
        name, sep, value = part.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not value:
            raise DialectError(f"{key}: {part!r} is not NAME:VALUE")
        member = enum.__members__.get(name.upper()) or _enum_or_none(enum, name)
        if member is None:
            raise DialectError(f"{key}: {name!r} is not a {enum.__name__} (one of {', '.join(enum.__members__)})")
        mapping[member] = value
    return mapping


def _parse_bool(key: str, text: str, default: bool) -> bool:
    if not text:
        return default
    if text.upper() in ("Y", "N"):
        return text.upper() == "Y"
    raise DialectError(f"{key}: {text!r} is not Y or N")


def _enum_or_none(enum: type[E], value: str) -> E | None:
    try:
        return enum(value)
    except ValueError:
        return None
