"""Journal records of the internal venue: every accepted command as a compact JSON-able dict.

A record is ``{"t": <tag>, ...fields}``; Decimals are strings, enums their values, and fields equal
to their default are left out.  Tags:

``D`` :class:`OrderRequest`   ``F`` :class:`CancelRequest`   ``G`` :class:`ReplaceRequest`
``q`` :class:`MassCancelRequest`
``add`` add an instrument (:class:`InstrumentSpec` fields)       ``ref`` set the reference price
``halt`` / ``resume`` / ``phase``   operator phase changes      ``eod`` end of day   ``time`` advance time
``kill`` / ``release``   kill switch on an account or owner    ``disc`` cancel-on-disconnect of an owner

The record is what replay feeds back, together with the timestamp journaled beside it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from json.encoder import encode_basestring as _js  # type: ignore[attr-defined]
from typing import Any

from venues.base import (
    CancelReason,
    CancelRequest,
    MassCancelRequest,
    OrderRequest,
    OrdType,
    ReplaceRequest,
    SelfTradePrevention,
    Side,
    TimeInForce,
    TradingPhase,
    VenueRequest,
)

from .reference_data import InstrumentSpec


@dataclass(frozen=True, slots=True)
class AddInstrument:
    """Operator: start trading an instrument."""

    spec: InstrumentSpec


@dataclass(frozen=True, slots=True)
class SetReference:
    """Operator: set an instrument's reference price."""

    symbol: str
    price: Decimal


@dataclass(frozen=True, slots=True)
class HaltInstrument:
    """Operator: halt an instrument."""

    symbol: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class ResumeInstrument:
    """Operator: end a halt."""

    symbol: str


@dataclass(frozen=True, slots=True)
class ChangePhase:
    """Operator: move an instrument to a phase."""

    symbol: str
    phase: TradingPhase


@dataclass(frozen=True, slots=True)
class DayEnd:
    """End of the trading day for every instrument."""


@dataclass(frozen=True, slots=True)
class TimeTick:
    """Let time pass (GTD orders due by the timestamp expire)."""


@dataclass(frozen=True, slots=True)
class KillSwitch:
    """Cancel everything of an account or owner and refuse its new orders (``on``) - or release it."""

    on: bool
    account: str | None = None
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class OwnerDisconnected:
    """Cancel an owner's working orders (DAY-type only unless ``day_only`` is False)."""

    owner: str
    day_only: bool = True
    reason: CancelReason = CancelReason.CANCEL_ON_DISCONNECT


VenueCommand = (
    VenueRequest | AddInstrument | SetReference | HaltInstrument | ResumeInstrument | ChangePhase | DayEnd | TimeTick
    | KillSwitch | OwnerDisconnected
)  # fmt: skip


def _dec(v: Any) -> Decimal:
    return Decimal(v)


def _opt_dec(v: Any) -> Decimal | None:
    return None if v is None else Decimal(v)


_CONVERT: dict[str, Callable[[Any], Any]] = {
    "side": Side,
    "ord_type": OrdType,
    "tif": TimeInForce,
    "stp": lambda v: None if v is None else SelfTradePrevention(v),
    "reason": CancelReason,
    "phase": TradingPhase,
    "qty": _dec,
    "price": _opt_dec,
    "stop_px": _opt_dec,
    "display_qty": _opt_dec,
    "min_qty": _opt_dec,
}

_TAGS: dict[type, str] = {
    OrderRequest: "D",
    CancelRequest: "F",
    ReplaceRequest: "G",
    MassCancelRequest: "q",
    SetReference: "ref",
    HaltInstrument: "halt",
    ResumeInstrument: "resume",
    ChangePhase: "phase",
    DayEnd: "eod",
    TimeTick: "time",
    OwnerDisconnected: "disc",
}
_BY_TAG: dict[str, type] = {tag: cls for cls, tag in _TAGS.items()}


_MISSING: Any = dataclasses.MISSING
_FIELDS: dict[type, tuple[tuple[str, Any], ...]] = {}


def encode(command: VenueCommand) -> dict[str, Any]:
    """The journal record of a command."""
    if isinstance(command, AddInstrument):
        return {"t": "add", **command.spec.to_dict()}
    if isinstance(command, KillSwitch):
        out: dict[str, Any] = {"t": "kill" if command.on else "release"}
        if command.account is not None:
            out["account"] = command.account
        if command.owner is not None:
            out["owner"] = command.owner
        return out
    cls = type(command)
    tag = _TAGS.get(cls)
    if tag is None:
        raise TypeError(f"not a venue command: {command!r}")
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = _FIELDS[cls] = tuple((f.name, f.default) for f in dataclasses.fields(command))
    rec: dict[str, Any] = {"t": tag}
    for name, default in fields:
        value = getattr(command, name)
        if value is default or (default is not _MISSING and value == default):
            continue
        if isinstance(value, Enum):
            value = value.value
        elif isinstance(value, Decimal):
            value = str(value)
        rec[name] = value
    return rec


_LIMIT = OrdType.LIMIT
_DAY = TimeInForce.DAY


def _json_value(value: Any) -> str:
    if type(value) is str:
        return _js(value)  # type: ignore[no-any-return]
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return int.__repr__(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def encode_bytes(command: VenueCommand) -> bytes:
    """The journal record of a command as the bytes the journal stores: exactly
    ``journal.encode_record(encode(command))`` (compact JSON), built without the dict for a new order."""
    if type(command) is not OrderRequest:
        return json.dumps(encode(command), separators=(",", ":"), ensure_ascii=False).encode()
    c = command
    parts = [
        '{"t":"D","symbol":',
        _js(c.symbol),
        ',"owner":',
        _js(c.owner),
        ',"cl_ord_id":',
        _js(c.cl_ord_id),
        ',"side":',
        _js(c.side._value_),  # str-valued enums: _json_value(member.value) without Enum.value's Python code
        ',"qty":',
        _js(str(c.qty)),
    ]
    if c.ord_type is not _LIMIT:
        parts += (',"ord_type":', _js(c.ord_type._value_))
    if c.price is not None:
        parts += (',"price":', _js(str(c.price)))
    if c.stop_px is not None:
        parts += (',"stop_px":', _js(str(c.stop_px)))
    if c.tif is not _DAY:
        parts += (',"tif":', _js(c.tif._value_))
    if c.account != "":
        parts += (',"account":', _json_value(c.account))
    if c.stp_group != "":
        parts += (',"stp_group":', _json_value(c.stp_group))
    if c.expire_time is not None:
        parts += (',"expire_time":', _json_value(c.expire_time))
    if c.display_qty is not None:
        parts += (',"display_qty":', _js(str(c.display_qty)))
    if c.min_qty is not None:
        parts += (',"min_qty":', _js(str(c.min_qty)))
    if c.post_only is not False:
        parts += (',"post_only":', _json_value(c.post_only))
    if c.stp is not None:
        parts += (',"stp":', _json_value(c.stp.value))
    parts.append("}")
    return "".join(parts).encode()


def decode(record: dict[str, Any]) -> VenueCommand:
    """The command of a journal record (inverse of :func:`encode`)."""
    fields = dict(record)
    tag = fields.pop("t")
    if tag == "add":
        return AddInstrument(InstrumentSpec.from_dict(fields))
    if tag in ("kill", "release"):
        return KillSwitch(tag == "kill", fields.get("account"), fields.get("owner"))
    cls = _BY_TAG.get(tag)
    if cls is None:
        raise ValueError(f"unknown journal record tag {tag!r}")
    if cls is SetReference:
        return SetReference(fields["symbol"], Decimal(fields["price"]))
    kwargs = {k: (_CONVERT[k](v) if k in _CONVERT else v) for k, v in fields.items()}
    return cls(**kwargs)  # type: ignore[no-any-return]
