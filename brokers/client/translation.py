"""FIX <-> domain translation for client sessions (pure: no I/O, no clock).

Parsing turns client requests into frozen ``*Input`` records (Decimal prices and quantities,
venue enums); a missing required tag raises :class:`FieldNotFoundReject` and a bad value
:class:`IncorrectTagValue` / :class:`IncorrectDataFormat`, which the session answers with a
Reject (35=3).  Building turns a :class:`~brokers.domain.orders.ClientOrder` (or the bare facts
of an order that never got that far) into an ExecutionReport, OrderCancelReject or
OrderMassCancelReport in the dialect of the client's BeginString:

* FIX.4.4 and FIXT.1.1 (FIX.5.0+): ExecType F for trades, I for status.
* FIX.4.2: ExecTransType(20) is added, trades are ExecType 1 (partial) / 2 (filled), a status
  report is ExecTransType 3 with ExecType = OrdStatus.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from brokers.domain.orders import ClientOrder, ClientOrderStatus, FinishedOrder
from fix_engine.application import FieldNotFoundReject, IncorrectDataFormat, IncorrectTagValue
from fix_engine.codec.errors import FieldValueError
from fix_engine.codec.message import (
    FixMessage,
    decimal_bytes,
    format_epoch_timestamp,
    to_fix_bytes,
)
from venues.base import OrdType, Side, TimeInForce

__all__ = [
    "CancelInput",
    "MassCancelInput",
    "MassStatusInput",
    "NewOrderInput",
    "ReplaceInput",
    "StatusInput",
    "cancel_reject",
    "execution_report",
    "mass_cancel_report",
    "ord_rej_reason_for",
    "parse_cancel",
    "parse_mass_cancel",
    "parse_mass_status",
    "parse_new_order",
    "parse_replace",
    "parse_status",
    "reject_report",
    "static_fields",
]

NONE = "NONE"
ZERO = Decimal(0)


# ---- inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewOrderInput:
    """A NewOrderSingle (35=D) as the broker reads it; ``account`` None when Account(1) is absent."""

    cl_ord_id: str
    account: str | None
    symbol: str
    side: Side
    qty: Decimal
    ord_type: OrdType
    price: Decimal | None = None
    stop_px: Decimal | None = None
    tif: TimeInForce = TimeInForce.DAY
    expire_time: int | None = None
    ex_destination: str | None = None
    min_qty: Decimal | None = None
    display_qty: Decimal | None = None
    post_only: bool = False  #: ExecInst(18) has 6, participate don't initiate (other values ignored)


@dataclass(frozen=True, slots=True)
class CancelInput:
    """An OrderCancelRequest (35=F): the order named by OrigClOrdID(41) and/or OrderID(37)."""

    cl_ord_id: str
    orig_cl_ord_id: str | None
    order_id: str | None
    symbol: str | None
    side: Side | None
    account: str | None


@dataclass(frozen=True, slots=True)
class ReplaceInput:
    """An OrderCancelReplaceRequest (35=G): new total quantity and/or price."""

    cl_ord_id: str
    orig_cl_ord_id: str | None
    order_id: str | None
    symbol: str
    side: Side
    qty: Decimal
    ord_type: OrdType
    price: Decimal | None
    stop_px: Decimal | None
    account: str | None
    tif: TimeInForce | None = None  #: TimeInForce(59) when given (a replace cannot change it)


@dataclass(frozen=True, slots=True)
class StatusInput:
    """An OrderStatusRequest (35=H)."""

    cl_ord_id: str | None
    order_id: str | None
    symbol: str | None


@dataclass(frozen=True, slots=True)
class MassCancelInput:
    """An OrderMassCancelRequest (35=q): 530=1 by symbol, 530=7 all orders."""

    cl_ord_id: str
    request_type: str
    symbol: str | None
    account: str | None


@dataclass(frozen=True, slots=True)
class MassStatusInput:
    """An OrderMassStatusRequest (35=AF): 585=1 by symbol, 7 all orders (others read as all)."""

    mass_status_req_id: str
    request_type: str
    symbol: str | None
    account: str | None


# ---- field readers ------------------------------------------------------------------------------


def _required(msg: FixMessage, tag: int) -> str:
    value = msg.get(tag)
    if value is None or value == "":
        raise FieldNotFoundReject(tag, f"required tag {tag} missing")
    return value


#: a FIX float (Price, Qty, ...): optional '-', digits with at most one '.'; no exponent, no '+', no
#: blanks, no NaN/Infinity (what the codec's ``get_decimal`` and the venue accept; ``Decimal()`` alone
#: would take ``1e5``, `` 5`` or ``1E+999999``)
_FIX_FLOAT = re.compile(rb"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")


def _decimal(msg: FixMessage, tag: int, *, required: bool = False) -> Decimal | None:
    return _fast_decimal(msg.get_raw(tag), tag, required)


def _enum(msg: FixMessage, tag: int, enum: type, default: object = None, *, required: bool = False):  # type: ignore[no-untyped-def]
    raw = msg.get(tag)
    if raw is None or raw == "":
        if required:
            raise FieldNotFoundReject(tag, f"required tag {tag} missing")
        return default
    try:
        return enum(raw)
    except ValueError:
        raise IncorrectTagValue(tag, f"unsupported value {raw!r} for tag {tag}") from None


def _timestamp_ns(msg: FixMessage, tag: int) -> int | None:
    raw = msg.get_raw(tag)
    if not raw:
        return None
    try:
        return int(msg.get_timestamp(tag).timestamp() * 1_000_000) * 1000
    except FieldValueError:
        raise IncorrectDataFormat(tag, f"{raw!r} is not a UTCTimestamp") from None


def _opt(msg: FixMessage, tag: int) -> str | None:
    value = msg.get(tag)
    return value if value else None


# ---- parsing ------------------------------------------------------------------------------------


_SIDE_OF: dict[bytes, Side] = {m.value.encode("ascii"): m for m in Side}
_ORD_TYPE_OF: dict[bytes, OrdType] = {m.value.encode("ascii"): m for m in OrdType}
_TIF_OF: dict[bytes, TimeInForce] = {m.value.encode("ascii"): m for m in TimeInForce}


class _DecimalOf(dict):  # type: ignore[type-arg]
    """Raw FIX bytes -> finite Decimal (None: not a number), bounded (prices and sizes repeat)."""

    def __missing__(self, raw: bytes) -> Decimal | None:
        value: Decimal | None = None
        if _FIX_FLOAT.fullmatch(raw):
            try:
                value = Decimal(raw.decode("ascii"))
            except InvalidOperation:  # pragma: no cover - guarded by _FIX_FLOAT
                value = None
        if len(self) >= 4096:
            self.clear()
        self[raw] = value
        return value


_decimal_of = _DecimalOf().__getitem__


def _fast_decimal(raw: bytes | None, tag: int, required: bool = False) -> Decimal | None:
    if not raw:
        if required:
            raise FieldNotFoundReject(tag, f"required tag {tag} missing")
        return None
    value = _decimal_of(raw)
    if value is None:
        raise IncorrectDataFormat(tag, f"{raw.decode('ascii', 'replace')!r} is not a number")
    return value


def _fast_enum(raw: bytes | None, tag: int, table: dict[bytes, Any], default: Any = None,
               required: bool = False) -> Any:
    if not raw:
        if required:
            raise FieldNotFoundReject(tag, f"required tag {tag} missing")
        return default
    value = table.get(raw)
    if value is None:
        raise IncorrectTagValue(tag, f"unsupported value {raw.decode('ascii', 'replace')!r} for tag {tag}")
    return value


def _fast_str(raw: bytes | None) -> str | None:
    return raw.decode("latin-1") if raw else None


def parse_new_order(msg: FixMessage) -> NewOrderInput:
    """NewOrderSingle (35=D) -> :class:`NewOrderInput` (raw bytes read once per tag)."""
    raw = msg.get_raw
    ord_type = _fast_enum(raw(40), 40, _ORD_TYPE_OF, required=True)
    cl_ord_id = raw(11)
    if not cl_ord_id:
        raise FieldNotFoundReject(11, "required tag 11 missing")
    account = _fast_str(raw(1))
    symbol = raw(55)
    if not symbol:
        raise FieldNotFoundReject(55, "required tag 55 missing")
    exec_inst = raw(18)
    return NewOrderInput(
        cl_ord_id.decode("latin-1"),
        account,
        symbol.decode("latin-1"),
        _fast_enum(raw(54), 54, _SIDE_OF, required=True),
        _fast_decimal(raw(38), 38, True),  # type: ignore[arg-type]
        ord_type,
        _fast_decimal(raw(44), 44),
        _fast_decimal(raw(99), 99),
        _fast_enum(raw(59), 59, _TIF_OF, TimeInForce.DAY),
        _timestamp_ns(msg, 126),
        _fast_str(raw(100)),
        _fast_decimal(raw(110), 110),
        _fast_decimal(raw(1138), 1138) if raw(1138) else _fast_decimal(raw(111), 111),
        exec_inst is not None and b"6" in exec_inst.split(),
    )


def parse_cancel(msg: FixMessage) -> CancelInput:
    """OrderCancelRequest (35=F) -> :class:`CancelInput` (needs OrigClOrdID or OrderID)."""
    orig, order_id = _opt(msg, 41), _opt(msg, 37)
    if orig is None and (order_id is None or order_id == NONE):
        raise FieldNotFoundReject(41, "required tag 41 missing")
    return CancelInput(_required(msg, 11), orig, order_id, _opt(msg, 55), _enum(msg, 54, Side), _opt(msg, 1))


def parse_replace(msg: FixMessage) -> ReplaceInput:
    """OrderCancelReplaceRequest (35=G) -> :class:`ReplaceInput`."""
    orig, order_id = _opt(msg, 41), _opt(msg, 37)
    if orig is None and (order_id is None or order_id == NONE):
        raise FieldNotFoundReject(41, "required tag 41 missing")
    return ReplaceInput(
        cl_ord_id=_required(msg, 11), orig_cl_ord_id=orig, order_id=order_id, symbol=_required(msg, 55),
        side=_enum(msg, 54, Side, required=True), qty=_decimal(msg, 38, required=True),  # type: ignore[arg-type]
        ord_type=_enum(msg, 40, OrdType, required=True), price=_decimal(msg, 44), stop_px=_decimal(msg, 99),
        account=_opt(msg, 1), tif=_enum(msg, 59, TimeInForce),
    )


def parse_status(msg: FixMessage) -> StatusInput:
    """OrderStatusRequest (35=H) -> :class:`StatusInput`."""
    cl_ord_id, order_id = _opt(msg, 11), _opt(msg, 37)
    if cl_ord_id is None and order_id is None:
        raise FieldNotFoundReject(11, "required tag 11 missing")
    return StatusInput(cl_ord_id, order_id, _opt(msg, 55))


def parse_mass_cancel(msg: FixMessage) -> MassCancelInput:
    """OrderMassCancelRequest (35=q) -> :class:`MassCancelInput`."""
    request_type = _required(msg, 530)
    symbol = _opt(msg, 55)
    if request_type == "1" and symbol is None:
        raise FieldNotFoundReject(55, "MassCancelRequestType=1 needs Symbol(55)")
    return MassCancelInput(_required(msg, 11), request_type, symbol, _opt(msg, 1))


def parse_mass_status(msg: FixMessage) -> MassStatusInput:
    """OrderMassStatusRequest (35=AF) -> :class:`MassStatusInput`."""
    return MassStatusInput(_required(msg, 584), _required(msg, 585), _opt(msg, 55), _opt(msg, 1))


# ---- building -----------------------------------------------------------------------------------


def _ts(ns: int) -> bytes:
    return format_epoch_timestamp(ns / 1_000_000_000)


def _is_42(begin_string: str) -> bool:
    return begin_string in ("FIX.4.0", "FIX.4.1", "FIX.4.2")


_decimal_bytes = decimal_bytes  # the codec's bounded cache
_ZERO_BYTES = b"0"
_STATUS_B: dict[ClientOrderStatus, bytes] = {s: s.ord_status.encode("ascii") for s in ClientOrderStatus}
_NOT_WORKING = frozenset(s for s in ClientOrderStatus if s.is_terminal or s is ClientOrderStatus.DONE_FOR_DAY)


def _bytes(value: object) -> bytes:
    """A field value of an extra (tag, value) pair as bytes (see :func:`to_fix_bytes`)."""
    if type(value) is bytes:
        return value
    if type(value) is str:
        return value.encode()
    if type(value) is Decimal:
        return _decimal_bytes(value)
    return to_fix_bytes(value)


#: OrdRejReason(103) values each FIX version's dictionary knows; others are sent as the fallback
#: (FIX.4.2 has no 99 "Other": 0 "Broker option"), the Text keeps the rule's explanation.
_ORD_REJ_KNOWN: dict[str, tuple[frozenset[int], int]] = {
    "FIX.4.2": (frozenset(range(0, 9)), 0),
    "FIX.4.3": (frozenset((*range(0, 12), 13, 14, 15, 99)), 99),
    "FIX.4.4": (frozenset((*range(0, 12), 13, 14, 15, 99)), 99),
}


def ord_rej_reason_for(begin_string: str, reason: int) -> int:
    """``reason`` if ``begin_string``'s dictionary has it, else that version's catch-all."""
    known = _ORD_REJ_KNOWN.get(begin_string)
    if known is None or reason in known[0]:
        return reason
    return known[1]


def _exec_type_for(begin_string: str, exec_type: str, ord_status: str) -> tuple[str, str | None]:
    """(ExecType, ExecTransType or None) in the dialect of ``begin_string``."""
    if not _is_42(begin_string):
        return exec_type, None
    if exec_type == "F":
        return ("2" if ord_status == "2" else "1"), "0"
    if exec_type == "I":
        return ord_status, "3"
    return exec_type, "0"


def static_fields(order: ClientOrder | FinishedOrder) -> tuple[bytes, bytes, bytes, bytes, bytes, bytes]:
    """The report fields an order never changes, as bytes: Account(1), OrderID(37), OrdType(40),
    Side(54), Symbol(55), TimeInForce(59) (a replace keeps them all); see ``execution_report``."""
    # the enums' ``_value_`` (their FIX chars): hashing an Enum member runs Enum.__hash__ in Python
    return (order.account.encode(), order.order_id.encode(), order.ord_type._value_.encode(),
            order.side._value_.encode(), order.symbol.encode(), order.tif._value_.encode())


def execution_report(
    begin_string: str,
    order: ClientOrder | FinishedOrder,
    *,
    exec_id: str,
    exec_type: str,
    transact_ns: int,
    cl_ord_id: str | None = None,
    orig_cl_ord_id: str | None = None,
    last_qty: Decimal | None = None,
    last_px: Decimal | None = None,
    text: str | None = None,
    ord_rej_reason: int | None = None,
    restatement_reason: int | None = None,
    commission: Decimal | None = None,
    extra: Iterable[tuple[int, object]] = (),
    static: tuple[bytes, bytes, bytes, bytes, bytes, bytes] | None = None,
) -> FixMessage:
    """An ExecutionReport (35=8) for ``order`` as it stands now (a finished order may be given as
    its :class:`~brokers.domain.orders.FinishedOrder`: the same report).

    37 is the broker's OrderID, 11 the ClOrdID being answered (default: the order's current one),
    41 the one before it; 39/14/151/6 come from the order's status and executions.  A non-zero
    ``commission`` is sent as Commission(12) with CommType(13)=3 (absolute).

    Built straight into ``bytes`` values (the hot path of every report the gateway sends);
    ``static`` is :func:`static_fields` of ``order``, kept by the caller across reports.
    """
    account, order_id, ord_type, side, symbol, tif = static if static is not None else static_fields(order)
    status = order.status
    dec = _decimal_bytes
    cum_qty = order.cum_qty
    if _is_42(begin_string):
        fix_exec_type, exec_trans_type = _exec_type_for(begin_string, exec_type, status.value)
    else:
        fix_exec_type, exec_trans_type = exec_type, None
    leaves = _ZERO_BYTES if status in _NOT_WORKING else dec(order.qty - cum_qty)
    fields: list[tuple[int, object]] = [
        (35, b"8"),
        (1, account),
        (6, _ZERO_BYTES if not cum_qty else dec(order.gross_notional / cum_qty)),
        (11, (cl_ord_id or order.cl_ord_id).encode()),
        (14, dec(cum_qty)),
        (17, exec_id.encode()),
        (37, order_id),
        (38, dec(order.qty)),
        (39, _STATUS_B[status]),
        (40, ord_type),
        (54, side),
        (55, symbol),
        (59, tif),
        (60, _ts(transact_ns)),
        (150, fix_exec_type.encode()),
        (151, leaves),
    ]
    append = fields.append
    if orig_cl_ord_id:
        append((41, orig_cl_ord_id.encode()))
    if order.price is not None:
        append((44, dec(order.price)))
    if order.stop_px is not None:
        append((99, dec(order.stop_px)))
    if last_qty is not None:
        append((32, dec(last_qty)))
        append((31, dec(last_px if last_px is not None else ZERO)))
    if commission:
        append((12, dec(commission)))
        append((13, b"3"))
    if text:
        append((58, text.encode()))
    if ord_rej_reason is not None:
        append((103, b"%d" % ord_rej_reason_for(begin_string, int(ord_rej_reason))))
    if restatement_reason is not None:
        append((378, b"%d" % int(restatement_reason)))
    if exec_trans_type is not None:
        append((20, exec_trans_type.encode()))
    for tag, value in extra:
        append((tag, _bytes(value)))
    return FixMessage(fields)  # type: ignore[arg-type]


def reject_report(
    begin_string: str,
    new: NewOrderInput,
    *,
    order_id: str,
    exec_id: str,
    account: str | None,
    reason: int,
    text: str,
    transact_ns: int,
) -> FixMessage:
    """ExecutionReport 39=8 / 150=8 for a NewOrderSingle refused before it became an order."""
    _, exec_trans_type = _exec_type_for(begin_string, "8", "8")
    fields: list[tuple[int, object]] = [
        (6, ZERO), (11, new.cl_ord_id), (14, ZERO), (17, exec_id), (37, order_id), (38, new.qty),
        (39, "8"), (40, new.ord_type.value), (54, new.side.value), (55, new.symbol), (58, text),
        (59, new.tif.value), (60, _ts(transact_ns)), (103, ord_rej_reason_for(begin_string, int(reason))),
        (150, "8"), (151, ZERO),
    ]
    if account:
        fields.append((1, account))
    if new.price is not None:
        fields.append((44, new.price))
    if exec_trans_type is not None:
        fields.append((20, exec_trans_type))
    return FixMessage.new("8", *fields)


def cancel_reject(
    *,
    order_id: str | None,
    cl_ord_id: str,
    orig_cl_ord_id: str | None,
    ord_status: str,
    response_to: str,
    reason: int,
    text: str,
    account: str | None = None,
) -> FixMessage:
    """OrderCancelReject (35=9): 434=1 for a cancel, 2 for a replace; 102 the CxlRejReason."""
    fields: list[tuple[int, object]] = [
        (11, cl_ord_id), (37, order_id or NONE), (39, ord_status), (41, orig_cl_ord_id or NONE),
        (58, text), (102, reason), (434, response_to),
    ]
    if account:
        fields.append((1, account))
    return FixMessage.new("9", *fields)


def mass_cancel_report(
    *, cl_ord_id: str, request_type: str, response: str, affected: int, text: str = "",
    reject_reason: int | None = None, symbol: str | None = None, order_id: str = NONE,
) -> FixMessage:
    """OrderMassCancelReport (35=r): 531=0 refused (with 532), else the request type echoed."""
    fields: list[tuple[int, object]] = [
        (11, cl_ord_id), (37, order_id), (530, request_type), (531, response), (533, affected),
    ]
    if symbol:
        fields.append((55, symbol))
    if text:
        fields.append((58, text))
    if reject_reason is not None:
        fields.append((532, reject_reason))
    return FixMessage.new("r", *fields)
