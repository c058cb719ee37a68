"""Child-order journal records (pure): what FixVenue writes, and the state rebuilt from them.

Every record is a small JSON-able dict with a kind ``"t"``; Decimals are strings, enums their
names.  A record may carry, besides its own fields, the three parts of a state step:

``"o"``  order snapshots -- the whole mutable state of each child order the step changed
         (:func:`order_snapshot`): phase, exchange OrderID, qty/price/stop, CumQty/AvgPx, the broker
         and client ClOrdID chains, the mass-cancel flag and the keys of its still open changes;
``"x"``  ExecIDs acted on (so that a resent ExecutionReport is not applied twice, even across a
         restart);
``"f"``  the :class:`~venues.base.Fill` events emitted (so that a restarted gateway can book a fill
         it journaled but did not book before it died; the registry is idempotent on ExecID).

Kinds:

``new``  a child order, before its NewOrderSingle goes out: ``cl`` (broker ClOrdID), ``req``
         (the :class:`~venues.base.OrderRequest`, whose owner/ClOrdID are the client's).
``chg``  a cancel (``k="CANCEL"``) or replace (``k="REPLACE"``) before it goes out: ``cl`` (its
         broker ClOrdID), ``of`` (the order's first broker ClOrdID), ``ccl``/``cocl`` (client
         ClOrdID / OrigClOrdID), ``qty``/``px``/``stop`` (replace terms), ``why`` (cancel reason).
         Its outcome is in later snapshots: the key leaves ``pend`` when the change was answered,
         ``cls`` grows when a replace took effect, the phase turns DONE when a cancel did, and
         ``done`` maps the key to ``applied``/``rejected``/``closed``.
``upd``  a report from the exchange changed the state (snapshots, ExecIDs, fills).
``ms``   an OrderMassStatusRequest went out (``cl``: its MassStatusReqID).
``mc``   an OrderMassCancelRequest went out (``cl``), with the snapshots of the orders it flags.

:func:`rebuild` replays records strictly in order into a fresh :class:`~.orders.OrderTable`.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from venues.base import CancelReason, Fill, OrderRequest

from .orders import ChangeKind, ChildOrder, OrderPhase, OrderTable, PendingChange

T = TypeVar("T")

KINDS = ("new", "chg", "upd", "ms", "mc")


class RecordError(ValueError):
    """A journal record that cannot be applied (unknown kind, unknown order, bad field)."""


# --------------------------------------------------------------------------- value codec


def _enc(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.name
    return value


def _dec_opt(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def _decode_value(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(options) == 1:
            return _decode_value(options[0], value)
        return value
    if hint is Decimal:
        return Decimal(value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint[value]
    if hint is int:
        return int(value)
    return value


def encode_dataclass(obj: Any) -> dict[str, Any]:
    """A frozen venue dataclass (OrderRequest, Fill, ...) as a JSON-able dict."""
    return {f.name: _enc(getattr(obj, f.name)) for f in dataclasses.fields(obj)}


def decode_dataclass(cls: type[T], data: dict[str, Any]) -> T:
    """The inverse of :func:`encode_dataclass` (absent fields take their defaults)."""
    hints = _hints(cls)
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    return cls(**{f.name: _decode_value(hints[f.name], data[f.name]) for f in fields if f.name in data})


# --------------------------------------------------------------------------- records


def order_key(order: ChildOrder) -> str:
    """The stable key of a child order in the journal: its first broker ClOrdID."""
    return order.cl_ord_ids[0]


def order_snapshot(order: ChildOrder, table: OrderTable) -> dict[str, Any]:
    """The mutable state of ``order`` (the ``"o"`` entries; see the module doc)."""
    return {
        "of": order_key(order),
        "ph": order.phase.name,
        "oid": order.order_id,
        "qty": str(order.qty),
        "px": _enc(order.price),
        "stop": _enc(order.stop_px),
        "cum": str(order.cum_qty),
        "avg": str(order.avg_px),
        "cls": list(order.cl_ord_ids),
        "ccls": list(order.client_cl_ord_ids),
        "mc": order.mass_cancel_requested,
        "pend": sorted(p.cl_ord_id for p in table.pending_for(order)),
    }


def new_record(order: ChildOrder) -> dict[str, Any]:
    return {"t": "new", "cl": order.cl_ord_id, "req": encode_dataclass(order.request)}


def change_record(change: PendingChange) -> dict[str, Any]:
    return {
        "t": "chg", "k": change.kind.name, "cl": change.cl_ord_id, "of": order_key(change.order),
        "ccl": change.client_cl_ord_id, "cocl": change.client_orig_cl_ord_id,
        "qty": str(change.qty), "px": _enc(change.price), "stop": _enc(change.stop_px), "why": change.reason.name,
    }


def step_record(
    kind: str,
    snapshots: list[dict[str, Any]],
    exec_ids: Iterable[str] = (),
    fills: Iterable[Fill] = (),
    outcomes: dict[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    record: dict[str, Any] = {"t": kind, **extra}
    if snapshots:
        record["o"] = snapshots
    exec_ids = list(exec_ids)
    if exec_ids:
        record["x"] = exec_ids
    fill_dicts = [encode_dataclass(f) for f in fills]
    if fill_dicts:
        record["f"] = fill_dicts
    if outcomes:
        record["done"] = outcomes
    return record


# --------------------------------------------------------------------------- rebuild


@dataclass
class RebuiltState:
    """What a journal replay yields: the table, the ExecIDs acted on, the journaled fills."""

    table: OrderTable = field(default_factory=OrderTable)
    seen_exec_ids: set[str] = field(default_factory=set)
    fills: list[Fill] = field(default_factory=list)
    issued_ids: list[str] = field(default_factory=list)  #: every broker ClOrdID / request id, in order
    mass_status_requests: list[str] = field(default_factory=list)
    records: int = 0


def rebuild(records: Iterable[dict[str, Any]]) -> RebuiltState:
    """Replay journal records in order (see the module doc); raises :class:`RecordError`."""
    state = RebuiltState()
    table = state.table
    by_key: dict[str, ChildOrder] = {}
    for record in records:
        state.records += 1
        kind = record.get("t")
        if kind not in KINDS:
            raise RecordError(f"record {state.records}: unknown kind {kind!r}")
        try:
            if "cl" in record:
                state.issued_ids.append(record["cl"])
            if kind == "new":
                request = decode_dataclass(OrderRequest, record["req"])
                order = ChildOrder(request, record["cl"], request.cl_ord_id)
                table.add(order)
                by_key[record["cl"]] = order
            elif kind == "chg":
                order = _known(by_key, record["of"], state.records)
                table.pending[record["cl"]] = PendingChange(
                    ChangeKind[record["k"]], record["cl"], record["ccl"], record["cocl"], order,
                    Decimal(record["qty"]), _dec_opt(record["px"]), _dec_opt(record["stop"]),
                    CancelReason[record["why"]],
                )
            elif kind == "ms":
                state.mass_status_requests.append(record["cl"])
            for snap in record.get("o", ()):
                _apply_snapshot(table, _known(by_key, snap["of"], state.records), snap)
            state.seen_exec_ids.update(record.get("x", ()))
            state.fills.extend(decode_dataclass(Fill, f) for f in record.get("f", ()))
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            if isinstance(exc, RecordError):
                raise
            raise RecordError(f"record {state.records} ({kind}): {exc!r}") from exc
    return state


def _known(by_key: dict[str, ChildOrder], key: str, n: int) -> ChildOrder:
    order = by_key.get(key)
    if order is None:
        raise RecordError(f"record {n}: unknown child order {key!r}")
    return order


def _apply_snapshot(table: OrderTable, order: ChildOrder, snap: dict[str, Any]) -> None:
    chain, client_chain = snap["cls"], snap["ccls"]
    for i in range(len(order.cl_ord_ids), len(chain)):
        table.renamed(order, chain[i], client_chain[i])
    order.phase = OrderPhase[snap["ph"]]
    table.link_order_id(order, snap["oid"])
    order.qty = Decimal(snap["qty"])
    order.price = _dec_opt(snap["px"])
    order.stop_px = _dec_opt(snap["stop"])
    order.cum_qty = Decimal(snap["cum"])
    order.avg_px = Decimal(snap["avg"])
    order.mass_cancel_requested = bool(snap["mc"])
    still_open = set(snap["pend"])
    for key in [p.cl_ord_id for p in table.pending_for(order) if p.cl_ord_id not in still_open]:
        del table.pending[key]
