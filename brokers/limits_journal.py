"""Runtime limit edits that survive a restart: the audit trail of a LimitsBook, journaled.

Every edit made while the gateway runs (``fixgate oms limits set``, ``fixgate oms kill`` /
``release``) is a list of :class:`~brokers.domain.limits.LimitChange` records (who, when, which
scope and field, old -> new).  :class:`LimitsJournal` appends each edit as one record to a
:class:`venues.internal.journal.Journal` (a CRC-framed append-only file under the gateway's working
directory by default: a torn last record left by a crash is cut off when it is opened) and, at
start, replays them on the book built from the configuration, through the book's own ``update``:
the edits apply again in their order, with their original who/when/reason, so the audit trail
is whole again too.  An engaged kill switch therefore stays engaged across a restart.

The configuration is the starting point and the journal the edits on top of it: a field edited
at runtime keeps its runtime value even if the config file changes it later; set it again with
``fixgate oms limits set`` (or delete the journal file to start over from the config).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import fields
from decimal import Decimal, InvalidOperation
from typing import Any

from venues.base import OrdType, TimeInForce
from venues.internal.journal import Journal, JournalError

from .domain.limits import LimitChange, Limits, LimitsBook, LimitScope, Throttle, ThrottleAction

_DECIMAL_FIELDS = frozenset({
    "max_order_qty", "max_order_notional", "min_price", "max_price", "collar_pct", "market_protection_pct",
    "max_long_position", "max_short_position", "duplicate_window_seconds",
})
_BOOL_FIELDS = frozenset({"short_selling_allowed", "credit_allowed", "kill_switch"})
_ENUM_SET_FIELDS: dict[str, Callable[[str], Any]] = {
    "allowed_ord_types": OrdType,
    "allowed_tifs": TimeInForce,
    "restricted_symbols": str,
}


class LimitsJournalError(Exception):
    """The limits journal holds a record this version cannot apply (names the record)."""


def encode_value(name: str, value: Any) -> Any:
    """A limit field's value as JSON (Decimals as text, sets as sorted lists, a Throttle as a dict)."""
    if value is None:
        return None
    if name in _DECIMAL_FIELDS:
        return str(value)
    if name in _BOOL_FIELDS:
        return bool(value)
    if name in _ENUM_SET_FIELDS:
        return sorted(v.value if hasattr(v, "value") else str(v) for v in value)
    if name == "throttle":
        return {"max": value.max_messages, "window": str(value.window_seconds), "action": value.action.value}
    raise ValueError(f"unknown limit field {name!r}")


def decode_value(name: str, data: Any) -> Any:
    """The inverse of :func:`encode_value`; ValueError for data that does not fit the field."""
    if data is None:
        return None
    try:
        if name in _DECIMAL_FIELDS:
            return Decimal(data)
        if name in _BOOL_FIELDS:
            if not isinstance(data, bool):
                raise ValueError(f"{data!r} is not a boolean")
            return data
        if name in _ENUM_SET_FIELDS:
            return frozenset(_ENUM_SET_FIELDS[name](v) for v in data)
        if name == "throttle":
            return Throttle(int(data["max"]), Decimal(data["window"]), ThrottleAction(data["action"]))
    except (InvalidOperation, KeyError, TypeError) as exc:
        raise ValueError(f"{data!r} is not a value of {name}: {exc}") from None
    raise ValueError(f"unknown limit field {name!r}")


_FIELD_NAMES = frozenset(f.name for f in fields(Limits))


class LimitsJournal:
    """Appends a LimitsBook's runtime edits to a journal and replays them at start."""

    def __init__(self, journal: Journal, *, source: str = "") -> None:
        self.journal = journal
        self.source = source or str(getattr(journal, "path", "limits journal"))

    def record(self, changes: Iterable[LimitChange]) -> None:
        """Append one edit (the changes one book call returned: same scope, who and time) as one
        record and make it durable; call it before the edit is confirmed to the operator."""
        changes = list(changes)
        if not changes:
            return
        first = changes[0]
        if any((c.scope, c.who, c.at_ns, c.reason) != (first.scope, first.who, first.at_ns, first.reason)
               for c in changes):
            raise ValueError("record() takes the changes of one edit")
        self.journal.append(self.journal.last_sequence + 1, {
            "at": first.at_ns,
            "who": first.who,
            "scope": first.scope.scope.value,
            "key": first.scope.key,
            "reason": first.reason,
            "changes": {c.field: encode_value(c.field, c.new) for c in changes},
        }, first.at_ns)

    def restore(self, book: LimitsBook) -> int:
        """Apply every journaled edit to ``book`` in order; returns how many edits were applied.

        Raises :class:`LimitsJournalError` naming the record for one that cannot be applied.
        """
        applied = 0
        for record in self.journal.read_from(1):
            try:
                data = record.decode()
                unknown = set(data["changes"]) - _FIELD_NAMES
                if unknown:
                    raise ValueError(f"unknown limit field(s) {', '.join(sorted(unknown))}")
                book.update(
                    LimitScope(data["scope"]), data["key"], who=data["who"], at_ns=int(data["at"]),
                    reason=data.get("reason", ""),
                    **{name: decode_value(name, new) for name, new in data["changes"].items()},
                )
            except (ValueError, KeyError, TypeError, AttributeError, JournalError) as exc:
                raise LimitsJournalError(f"{self.source}: record {record.seq}: cannot apply it: {exc}") from None
            applied += 1
        return applied

    def close(self) -> None:
        self.journal.close()
