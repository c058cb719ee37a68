"""Pure translation between venue requests/events and the FIX messages of an external exchange.

Outgoing (requests -> FIX): :func:`new_order_single` (35=D), :func:`order_cancel_request` (F),
:func:`order_cancel_replace_request` (G), :func:`order_mass_cancel_request` (q) and
:func:`order_mass_status_request` (AF).  Incoming (FIX -> records):
:func:`parse_execution_report` (8), :func:`parse_cancel_reject` (9),
:func:`parse_mass_cancel_report` (r) and :func:`parse_business_reject` (j, and session Reject 3).
The records are turned into venue events by :mod:`venues.external.lifecycle`, which knows the
order they belong to.

Version differences (:class:`FixVersion`):

* FIX.4.2: HandlInst(21) on D and G; ExecutionReports carry ExecTransType(20) (0 new, 1 cancel,
  2 correct, 3 status) and report trades as ExecType 1/2 (partial fill / fill); no q, no AF.
* FIX.4.3/4.4: ExecType F (trade), G (trade correct), H (trade cancel), I (order status);
  display quantity is MaxFloor(111).
* FIX.5.0SP2 (on FIXT.1.1): as 4.4; display quantity is DisplayQty(1138); AvgPx is optional.

Every price and quantity is a :class:`~decimal.Decimal` both ways; TransactTime(60) is text
stamped by the caller (this module never reads the clock).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

from fix_engine.codec.message import FixMessage, format_decimal, format_epoch_timestamp, parse_utc_timestamp
from venues.base import (
    CancelReason,
    CancelRejectReason,
    CancelRejectResponseTo,
    Liquidity,
    OrderRequest,
    OrdType,
    RejectReason,
    ReplaceRequest,
    RestatementReason,
    Side,
    TimeInForce,
)

from .dialect import STANDARD, Dialect

# --------------------------------------------------------------------------- versions


class FixVersion(Enum):
    """The application-level FIX versions the external venue speaks (by message layout)."""

    FIX42 = "FIX.4.2"
    FIX44 = "FIX.4.4"
    FIX50SP2 = "FIX.5.0SP2"

    @classmethod
    def of_session(cls, begin_string: str, default_appl_ver_name: str = "") -> FixVersion:
        """The layout for a session: FIX.4.3 reads like 4.4, FIX.5.0/SP1 like 5.0SP2."""
        if begin_string == "FIX.4.2":
            return cls.FIX42
        if begin_string in ("FIX.4.3", "FIX.4.4"):
            return cls.FIX44
        if begin_string == "FIXT.1.1" and default_appl_ver_name.startswith("FIX.5.0"):
            return cls.FIX50SP2
        raise ValueError(f"the external venue does not speak {begin_string} {default_appl_ver_name}".strip())

    @property
    def has_exec_trans_type(self) -> bool:
        """ExecTransType(20) on ExecutionReports and ExecType 1/2 for trades (FIX.4.2)."""
        return self is FixVersion.FIX42

    @property
    def needs_handl_inst(self) -> bool:
        return self is FixVersion.FIX42

    @property
    def has_mass_messages(self) -> bool:
        """OrderMassCancelRequest (q) and OrderMassStatusRequest (AF) exist (FIX.4.3+)."""
        return self is not FixVersion.FIX42

    @property
    def display_qty_tag(self) -> int:
        return 1138 if self is FixVersion.FIX50SP2 else 111


def transact_time(epoch_seconds: float, precision: int = 3) -> str:
    """TransactTime(60) text for a clock reading (the caller owns the clock)."""
    return format_epoch_timestamp(epoch_seconds, precision).decode("ascii")


def _ns_timestamp(epoch_ns: int) -> str:
    """UTCTimestamp (ms) for integer nanoseconds, without going through float."""
    seconds, ns = divmod(epoch_ns, 1_000_000_000)
    return f"{format_epoch_timestamp(seconds, 0).decode('ascii')}.{ns // 1_000_000:03d}"


# --------------------------------------------------------------------------- outgoing


def new_order_single(
    order: OrderRequest,
    cl_ord_id: str,
    transact_time: str,
    version: FixVersion,
    dialect: Dialect = STANDARD,
) -> FixMessage:
    """NewOrderSingle (35=D) for ``order`` under the broker's ``cl_ord_id``."""
    fields: list[tuple[int, str]] = [
        (11, cl_ord_id),
        (38, _dec(order.qty)),
        (40, dialect.ord_type_value(order.ord_type)),
        (54, order.side.value),
        (55, order.symbol),
        (59, dialect.tif_value(order.tif)),
        (60, transact_time),
    ]
    if order.account:
        fields.append((1, order.account))
    if version.needs_handl_inst:
        fields.append((21, dialect.handl_inst))
    if order.price is not None and order.ord_type in (OrdType.LIMIT, OrdType.STOP_LIMIT):
        fields.append((44, _dec(order.price)))
    if order.stop_px is not None and order.ord_type in (OrdType.STOP, OrdType.STOP_LIMIT):
        fields.append((99, _dec(order.stop_px)))
    if order.tif is TimeInForce.GTD and order.expire_time is not None:
        fields.append((126, _ns_timestamp(order.expire_time)))
    if order.min_qty is not None:
        fields.append((110, _dec(order.min_qty)))
    if order.display_qty is not None:
        fields.append((version.display_qty_tag, _dec(order.display_qty)))
    if order.post_only:
        fields.append((18, "6"))  # ExecInst: participate, don't initiate
    out = dialect.outgoing(fields)
    present = {tag for tag, _ in out}
    out.extend((tag, value) for tag, value in dialect.new_order_fields if tag not in present)
    return FixMessage.new("D", *sorted(out, key=lambda f: f[0]))


def order_cancel_request(
    cl_ord_id: str,
    orig_cl_ord_id: str,
    order_id: str,
    symbol: str,
    side: Side,
    qty: Decimal,
    transact_time: str,
    dialect: Dialect = STANDARD,
) -> FixMessage:
    """OrderCancelRequest (35=F) for the order working under ``orig_cl_ord_id``."""
    fields = [
        (11, cl_ord_id),
        (38, _dec(qty)),
        (41, orig_cl_ord_id),
        (54, side.value),
        (55, symbol),
        (60, transact_time),
    ]
    if order_id:
        fields.append((37, order_id))
    return FixMessage.new("F", *dialect.outgoing(fields))


def order_cancel_replace_request(
    request: ReplaceRequest,
    cl_ord_id: str,
    orig_cl_ord_id: str,
    order_id: str,
    ord_type: OrdType,
    tif: TimeInForce,
    transact_time: str,
    version: FixVersion,
    dialect: Dialect = STANDARD,
    account: str = "",
) -> FixMessage:
    """OrderCancelReplaceRequest (35=G): the new total quantity and price of a working order."""
    fields = [
        (11, cl_ord_id),
        (38, _dec(request.qty)),
        (40, dialect.ord_type_value(ord_type)),
        (41, orig_cl_ord_id),
        (54, request.side.value),
        (55, request.symbol),
        (59, dialect.tif_value(tif)),
        (60, transact_time),
    ]
    if account:
        fields.append((1, account))
    if order_id:
        fields.append((37, order_id))
    if version.needs_handl_inst:
        fields.append((21, dialect.handl_inst))
    if request.price is not None:
        fields.append((44, _dec(request.price)))
    if request.stop_px is not None:
        fields.append((99, _dec(request.stop_px)))
    return FixMessage.new("G", *dialect.outgoing(fields))


def order_mass_cancel_request(
    cl_ord_id: str, symbol: str | None, transact_time: str, dialect: Dialect = STANDARD
) -> FixMessage:
    """OrderMassCancelRequest (35=q): MassCancelRequestType 1 (one security) or 7 (all orders)."""
    fields = [(11, cl_ord_id), (60, transact_time), (530, "1" if symbol else "7")]
    if symbol:
        fields.append((55, symbol))
    return FixMessage.new("q", *dialect.outgoing(fields))


def order_mass_status_request(
    mass_status_req_id: str, symbol: str | None = None, dialect: Dialect = STANDARD
) -> FixMessage:
    """OrderMassStatusRequest (35=AF): MassStatusReqType 1 (one security) or 7 (all orders)."""
    fields = [(584, mass_status_req_id), (585, "1" if symbol else "7")]
    if symbol:
        fields.append((55, symbol))
    return FixMessage.new("AF", *dialect.outgoing(fields))


def _dec(value: Decimal) -> str:
    return format_decimal(value)


# --------------------------------------------------------------------------- incoming records


class ExecKind(Enum):
    """What an ExecutionReport says happened, independent of the FIX version."""

    NEW = "NEW"
    TRADE = "TRADE"
    TRADE_CANCEL = "TRADE_CANCEL"
    TRADE_CORRECT = "TRADE_CORRECT"
    CANCELLED = "CANCELLED"
    REPLACED = "REPLACED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"  #: ExecType C, and 3 (done for day)
    RESTATED = "RESTATED"
    TRIGGERED = "TRIGGERED"
    STATUS = "STATUS"  #: ExecType I (4.3+) or ExecTransType 3 (4.2): a status answer
    PENDING_NEW = "PENDING_NEW"
    PENDING_CANCEL = "PENDING_CANCEL"
    PENDING_REPLACE = "PENDING_REPLACE"
    OTHER = "OTHER"  #: stopped, suspended, calculated: state sync only


_COMMON_EXEC_TYPES = {
    "0": ExecKind.NEW,
    "3": ExecKind.EXPIRED,
    "4": ExecKind.CANCELLED,
    "5": ExecKind.REPLACED,
    "6": ExecKind.PENDING_CANCEL,
    "8": ExecKind.REJECTED,
    "A": ExecKind.PENDING_NEW,
    "C": ExecKind.EXPIRED,
    "D": ExecKind.RESTATED,
    "E": ExecKind.PENDING_REPLACE,
    "L": ExecKind.TRIGGERED,
}
_FIX42_EXEC_TYPES = {**_COMMON_EXEC_TYPES, "1": ExecKind.TRADE, "2": ExecKind.TRADE}
_FIX44_EXEC_TYPES = {
    **_COMMON_EXEC_TYPES,
    "F": ExecKind.TRADE,
    "G": ExecKind.TRADE_CORRECT,
    "H": ExecKind.TRADE_CANCEL,
    "I": ExecKind.STATUS,
}
_EXEC_TRANS_TYPES = {"1": ExecKind.TRADE_CANCEL, "2": ExecKind.TRADE_CORRECT, "3": ExecKind.STATUS}


def exec_kind(version: FixVersion, exec_type: str, exec_trans_type: str | None = None) -> ExecKind:
    """ExecType (and, for FIX.4.2, ExecTransType) -> :class:`ExecKind`."""
    if version.has_exec_trans_type:
        if exec_trans_type in _EXEC_TRANS_TYPES:
            return _EXEC_TRANS_TYPES[exec_trans_type]
        return _FIX42_EXEC_TYPES.get(exec_type, ExecKind.OTHER)
    return _FIX44_EXEC_TYPES.get(exec_type, ExecKind.OTHER)


@dataclass(frozen=True, slots=True)
class ExecReport:
    """The fields of one ExecutionReport (35=8), version differences resolved, values exact."""

    kind: ExecKind
    exec_type: str
    ord_status: str
    cl_ord_id: str
    orig_cl_ord_id: str
    order_id: str
    exec_id: str
    exec_ref_id: str
    symbol: str
    side: Side | None
    ord_type: OrdType | None
    tif: TimeInForce | None
    qty: Decimal | None
    price: Decimal | None
    stop_px: Decimal | None
    last_qty: Decimal
    last_px: Decimal
    cum_qty: Decimal
    leaves_qty: Decimal
    avg_px: Decimal | None
    display_qty: Decimal | None
    ord_rej_reason: int | None
    exec_restatement_reason: int | None
    text: str
    transact_time_ns: int | None
    poss_dup: bool
    liquidity: Liquidity | None
    match_id: str
    mass_status_req_id: str
    last_rpt_requested: bool
    custom: Mapping[int, str] = field(default_factory=dict)


def parse_execution_report(message: FixMessage, version: FixVersion, dialect: Dialect = STANDARD) -> ExecReport:
    """ExecutionReport -> :class:`ExecReport` (tags renamed by the dialect first)."""
    m = dialect.incoming(message)
    ord_type_raw = m.get(40)
    tif_raw = m.get(59)
    return ExecReport(
        kind=exec_kind(version, _text(m, 150), m.get(20)),
        exec_type=_text(m, 150),
        ord_status=_text(m, 39),
        cl_ord_id=_text(m, 11),
        orig_cl_ord_id=_text(m, 41),
        order_id=_text(m, 37),
        exec_id=_text(m, 17),
        exec_ref_id=_text(m, 19),
        symbol=_text(m, 55),
        side=_enum(Side, m.get(54)),
        ord_type=dialect.ord_type_from(ord_type_raw) if ord_type_raw else None,
        tif=dialect.tif_from(tif_raw) if tif_raw else None,
        qty=_opt_dec(m, 38),
        price=_opt_dec(m, 44),
        stop_px=_opt_dec(m, 99),
        last_qty=m.get_decimal(32, Decimal(0)),
        last_px=m.get_decimal(31, Decimal(0)),
        cum_qty=m.get_decimal(14, Decimal(0)),
        leaves_qty=m.get_decimal(151, Decimal(0)),
        avg_px=_opt_dec(m, 6),
        display_qty=_opt_dec(m, version.display_qty_tag),
        ord_rej_reason=_opt_int(m, 103),
        exec_restatement_reason=_opt_int(m, 378),
        text=_text(m, 58),
        transact_time_ns=timestamp_ns(m, 60),
        poss_dup=m.get(43) == "Y",
        liquidity=_liquidity(m.get(851)),
        match_id=_text(m, 880),
        mass_status_req_id=_text(m, 584),
        last_rpt_requested=m.get(912) == "Y",
        custom=dialect.custom_fields(m),
    )


@dataclass(frozen=True, slots=True)
class CancelRejectReport:
    """The fields of one OrderCancelReject (35=9)."""

    cl_ord_id: str
    orig_cl_ord_id: str
    order_id: str
    ord_status: str
    response_to: CancelRejectResponseTo
    cxl_rej_reason: int | None
    text: str
    transact_time_ns: int | None


def parse_cancel_reject(message: FixMessage, dialect: Dialect = STANDARD) -> CancelRejectReport:
    m = dialect.incoming(message)
    return CancelRejectReport(
        cl_ord_id=_text(m, 11),
        orig_cl_ord_id=_text(m, 41),
        order_id=_text(m, 37),
        ord_status=_text(m, 39),
        response_to=_enum(CancelRejectResponseTo, m.get(434)) or CancelRejectResponseTo.CANCEL,
        cxl_rej_reason=_opt_int(m, 102),
        text=_text(m, 58),
        transact_time_ns=timestamp_ns(m, 60),
    )


@dataclass(frozen=True, slots=True)
class MassCancelReport:
    """The fields of one OrderMassCancelReport (35=r); ``accepted`` is MassCancelResponse != 0."""

    cl_ord_id: str
    accepted: bool
    total_affected: int
    reject_reason: int | None
    text: str
    transact_time_ns: int | None


def parse_mass_cancel_report(message: FixMessage, dialect: Dialect = STANDARD) -> MassCancelReport:
    m = dialect.incoming(message)
    return MassCancelReport(
        cl_ord_id=_text(m, 11),
        accepted=m.get(531, "0") != "0",
        total_affected=m.get_int(533, 0),
        reject_reason=_opt_int(m, 532),
        text=_text(m, 58),
        transact_time_ns=timestamp_ns(m, 60),
    )


@dataclass(frozen=True, slots=True)
class BusinessRejectReport:
    """A refusal of one of our application messages: BusinessMessageReject (j) or session Reject (3)."""

    ref_msg_type: str
    ref_id: str  #: BusinessRejectRefID(379): our ClOrdID when the exchange sets it
    ref_seq_num: int | None
    reason: int | None  #: BusinessRejectReason(380) or SessionRejectReason(373)
    text: str


def parse_business_reject(message: FixMessage) -> BusinessRejectReport:
    """BusinessMessageReject (35=j) or session Reject (35=3) -> :class:`BusinessRejectReport`."""
    reason_tag = 380 if message.get(35) == "j" else 373
    return BusinessRejectReport(
        ref_msg_type=_text(message, 372),
        ref_id=_text(message, 379),
        ref_seq_num=_opt_int(message, 45),
        reason=_opt_int(message, reason_tag),
        text=_text(message, 58),
    )


# --------------------------------------------------------------------------- reason codes

_REJECT_REASONS = {reason.ord_rej_reason: reason for reason in RejectReason if reason is not RejectReason.POST_ONLY_WOULD_TAKE}
_CANCEL_REJECT_REASONS = {reason.cxl_rej_reason: reason for reason in CancelRejectReason}
_CANCEL_REJECT_FALLBACK = {0: CancelRejectReason.UNKNOWN_ORDER}  # 0 too late to cancel: the order is done
_CANCEL_REASONS = {
    12: CancelReason.CANCEL_ON_DISCONNECT,
    13: CancelReason.CANCEL_ON_LOGOUT,
    17: CancelReason.STP_DECREMENT,
    18: CancelReason.STP_INCOMING,
    19: CancelReason.STP_RESTING,
    20: CancelReason.STP_BOTH,
    6: CancelReason.TRADING_HALT,
}
_RESTATEMENT_REASONS = {reason.exec_restatement_reason: reason for reason in RestatementReason}


def reject_reason(code: int | None) -> tuple[RejectReason, bool]:
    """OrdRejReason(103) -> (reason, exact).  Codes without a :class:`RejectReason` map to
    UNSUPPORTED_ORDER_CHARACTERISTIC with ``exact`` False (callers keep the code in the text)."""
    if code in _REJECT_REASONS:
        return _REJECT_REASONS[code], True
    return RejectReason.UNSUPPORTED_ORDER_CHARACTERISTIC, False


def cancel_reject_reason(code: int | None) -> tuple[CancelRejectReason, bool]:
    """CxlRejReason(102) -> (reason, exact); unknown codes -> INVALID_CHANGE, not exact."""
    if code in _CANCEL_REJECT_REASONS:
        return _CANCEL_REJECT_REASONS[code], True
    if code in _CANCEL_REJECT_FALLBACK:
        return _CANCEL_REJECT_FALLBACK[code], False
    return CancelRejectReason.INVALID_CHANGE, False


def cancel_reason(exec_restatement_reason: int | None) -> CancelReason | None:
    """ExecRestatementReason(378) of an unsolicited cancel -> :class:`CancelReason` (None: unknown)."""
    return _CANCEL_REASONS.get(exec_restatement_reason)  # type: ignore[arg-type]


def restatement_reason(exec_restatement_reason: int | None) -> RestatementReason | None:
    return _RESTATEMENT_REASONS.get(exec_restatement_reason)  # type: ignore[arg-type]


def annotate(text: str, tag: int, code: int | None) -> str:
    """``text`` with the raw reason code appended, for codes a venue enum cannot name exactly."""
    if code is None:
        return text
    note = f"({tag}={code})"
    return f"{text} {note}" if text else note


# --------------------------------------------------------------------------- helpers


def timestamp_ns(message: FixMessage, tag: int) -> int | None:
    """A UTCTimestamp field as integer nanoseconds since the epoch (exact to the microsecond)."""
    raw = message.get_raw(tag)
    if raw is None:
        return None
    moment = parse_utc_timestamp(tag, raw)
    whole = int(moment.replace(microsecond=0).timestamp())
    return whole * 1_000_000_000 + moment.microsecond * 1000


def _text(message: FixMessage, tag: int) -> str:
    return message.get(tag) or ""


def _opt_dec(message: FixMessage, tag: int) -> Decimal | None:
    return message.get_decimal(tag) if tag in message else None


def _opt_int(message: FixMessage, tag: int) -> int | None:
    return message.get_int(tag) if tag in message else None


def _enum(enum: type, value: str | None):  # type: ignore[no-untyped-def]
    if value is None:
        return None
    try:
        return enum(value)
    except ValueError:
        return None


_LIQUIDITY = {"1": Liquidity.ADDED, "2": Liquidity.REMOVED, "4": Liquidity.AUCTION}


def _liquidity(value: str | None) -> Liquidity | None:
    return _LIQUIDITY.get(value or "")
