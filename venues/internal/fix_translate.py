"""Pure translation between FIX messages and venue types, for FIX.4.2, FIX.4.4 and FIXT.1.1/FIX.5.0SP2.

Inbound: :func:`new_order`, :func:`cancel_request`, :func:`replace_request`,
:func:`mass_cancel_request`, :func:`status_query`, :func:`mass_status_query`,
:func:`md_request` turn a client message into a venue request or query.  A missing required tag
raises :class:`~fix_engine.application.FieldNotFoundReject`, a value of the wrong format
:class:`~fix_engine.application.IncorrectDataFormat`, a value outside the enumeration
:class:`~fix_engine.application.IncorrectTagValue` (the session answers with a Reject 35=3);
a well-formed order the venue does not support (OrdType=P, TimeInForce=5, ...) raises
:class:`OrderRefused`, which the exchange answers with an ExecutionReport reject.

Outbound: :func:`execution_report` (every order event, FIX.4.4 semantics in every version),
:func:`cancel_reject`, :func:`mass_cancel_report`, :func:`status_report`, :func:`security_list`,
:func:`security_definition`, :func:`security_status` and the market data builders of
:mod:`venues.internal.fix_market_data`.

Version rules (a field or value is sent only where the version's standard dictionary has it in
that message, so that a QuickFIX counterparty validating with its stock dictionary accepts it):

* FIX.4.2: ExecTransType(20)=0 (3 on status reports); ExecType 1/2 (partial fill / fill) instead
  of F; an OrderStatus answer has ExecType = the order's OrdStatus; no LastLiquidityInd(851), no
  TrdMatchID(880); ExecRestatementReason(378) only for its values 0-5 (so never); OrdRejReason
  outside 0-8 becomes 0 (broker option) and CxlRejReason outside 0-3 becomes 2 (broker option).
* FIX.4.4: ExecType F/I; LastLiquidityInd(851); no TrdMatchID(880) in its ExecutionReport, and
  ExecRestatementReason only 0-10 and 99 (so cancel-on-disconnect 12/13 and STP 17-20 are not
  sent); OrdRejReason/CxlRejReason outside its enumeration become 99.
* FIX.5.0SP2: everything, including TrdMatchID(880) shared by both sides of a trade.
* Triggered stop orders: ExecType L (Triggered or activated by system) exists only in FIX.5.0+;
  FIX.4.2/4.4 get ExecType D (Restated) with the order's new OrdType and Price.
* SecurityTradingStatus(326) values a version lacks (21 pre-open in 4.2, 24-26 everywhere
  before 5.0) become 18 (not available for trading); TradingSessionSubID(625) is 4.4+.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any

from fix_engine.application import FieldNotFoundReject, IncorrectDataFormat, IncorrectTagValue
from fix_engine.codec.errors import FieldValueError
from fix_engine.codec.message import FixMessage, format_epoch_timestamp, to_fix_bytes
from venues import base
from venues.base import (
    Accepted,
    Cancelled,
    CancelRejected,
    CancelRejectResponseTo,
    CancelRequest,
    Expired,
    Fill,
    MassCancelled,
    MassCancelRequest,
    OrderRequest,
    OrdType,
    Rejected,
    RejectReason,
    Replaced,
    ReplaceRequest,
    Restated,
    Side,
    TimeInForce,
    TradingPhase,
    Triggered,
)
from venues.internal.fast_init import positional_constructor

ZERO = Decimal(0)
NONE_ID = "NONE"


class FixVersion(Enum):
    """The application versions the venue speaks, by the session's BeginString."""

    FIX42 = "FIX.4.2"
    FIX44 = "FIX.4.4"
    FIX50SP2 = "FIXT.1.1"

    @classmethod
    def of(cls, begin_string: str) -> FixVersion:
        """The version of a session; ValueError for a BeginString the venue does not speak."""
        try:
            return cls(begin_string)
        except ValueError:
            raise ValueError(f"the venue speaks FIX.4.2, FIX.4.4 and FIXT.1.1 (FIX.5.0SP2), not {begin_string}") from None

    @property
    def fix42(self) -> bool:
        return self is FixVersion.FIX42

    @property
    def fix50(self) -> bool:
        return self is FixVersion.FIX50SP2


_RESTATEMENT_OK = {
    FixVersion.FIX42: frozenset(),
    FixVersion.FIX44: frozenset({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 99}),
    FixVersion.FIX50SP2: None,  # every value
}
_ORD_REJ_OK = {
    FixVersion.FIX42: (frozenset(range(9)), 0),
    FixVersion.FIX44: (frozenset({*range(12), 13, 14, 15, 99}), 99),
    FixVersion.FIX50SP2: (None, 99),
}
_CXL_REJ_OK = {
    FixVersion.FIX42: (frozenset({0, 1, 2, 3}), 2),
    FixVersion.FIX44: (frozenset({0, 1, 2, 3, 4, 5, 6, 99}), 99),
    FixVersion.FIX50SP2: (None, 99),
}
_TRADING_STATUS_MAX = {FixVersion.FIX42: 20, FixVersion.FIX44: 23, FixVersion.FIX50SP2: 10_000}


def ord_rej_reason(version: FixVersion, reason: RejectReason) -> int:
    """OrdRejReason(103) of ``reason`` as ``version`` can say it."""
    allowed, fallback = _ORD_REJ_OK[version]
    code = reason.ord_rej_reason
    return code if allowed is None or code in allowed else fallback


def cxl_rej_reason(version: FixVersion, code: int) -> int:
    """CxlRejReason(102) ``code`` as ``version`` can say it."""
    allowed, fallback = _CXL_REJ_OK[version]
    return code if allowed is None or code in allowed else fallback


def restatement_reason(version: FixVersion, code: int | None) -> int | None:
    """ExecRestatementReason(378) ``code`` if ``version`` has it, else None (not sent)."""
    if code is None:
        return None
    allowed = _RESTATEMENT_OK[version]
    return code if allowed is None or code in allowed else None


def trading_status(version: FixVersion, phase: TradingPhase) -> int:
    """SecurityTradingStatus(326) of a phase; values the version lacks become 18."""
    code = phase.security_trading_status
    return code if code <= _TRADING_STATUS_MAX[version] else 18


_LAST_TIME: list[Any] = [None, b""]  # the last (ts_ns, text): every event of one command shares its ts


def transact_time(ts_ns: int) -> bytes:
    """TransactTime/SendingTime text (UTC, milliseconds) of integer nanoseconds since the epoch."""
    last = _LAST_TIME
    if last[0] == ts_ns:
        return last[1]  # type: ignore[no-any-return]
    text = format_epoch_timestamp(ts_ns / 1e9, 3)
    last[0], last[1] = ts_ns, text
    return text


# =========================================================================== inbound


class OrderRefused(Exception):
    """A well-formed order the venue cannot take: answered with an ExecutionReport reject."""

    def __init__(self, reason: RejectReason, text: str) -> None:
        super().__init__(text)
        self.reason = reason
        self.text = text


def _required(msg: FixMessage, tag: int) -> str:
    value = msg.get_raw(tag)
    if value is None or value == b"":
        raise FieldNotFoundReject(tag, f"Required tag missing: {tag}")
    return value.decode("latin-1")


def _optional(msg: FixMessage, tag: int) -> str:
    value = msg.get_raw(tag)
    return "" if value is None else value.decode("latin-1")


def _decimal(msg: FixMessage, tag: int, required: bool = False) -> Decimal | None:
    if msg.get_raw(tag) is None:
        if required:
            raise FieldNotFoundReject(tag, f"Required tag missing: {tag}")
        return None
    try:
        return msg.get_decimal(tag)
    except FieldValueError:
        raise IncorrectDataFormat(tag, f"Incorrect data format for value: {tag}") from None


def _enum(enum: type[Enum], msg: FixMessage, tag: int, default: Any = None) -> Any:
    raw = msg.get_raw(tag)
    if raw is None:
        if default is None:
            raise FieldNotFoundReject(tag, f"Required tag missing: {tag}")
        return default
    try:
        return enum(raw.decode("latin-1"))
    except ValueError:
        raise IncorrectTagValue(tag, f"Value is incorrect (out of range) for this tag: {tag}") from None


_SIDES = {"1": Side.BUY, "2": Side.SELL, "5": Side.SELL_SHORT}
_ORD_TYPES = {t.value: t for t in OrdType}
_TIFS = {t.value: t for t in TimeInForce}
_SIDES_RAW = {k.encode(): v for k, v in _SIDES.items()}
_ORD_TYPES_RAW = {k.encode(): v for k, v in _ORD_TYPES.items()}
_TIFS_RAW = {k.encode(): v for k, v in _TIFS.items()}


def side_of(msg: FixMessage) -> Side:
    """Side(54): buy, sell and sell short; other sides are refused with an ER reject."""
    text = _required(msg, 54)
    side = _SIDES.get(text)
    if side is None:
        raise OrderRefused(RejectReason.UNSUPPORTED_ORDER_CHARACTERISTIC, f"Unsupported Side(54)={text}")
    return side


_DECIMALS: dict[bytes, Decimal] = {}  # validated field text -> Decimal (prices and quantities repeat)


def _dec_of(msg: FixMessage, tag: int, value: bytes | None, required: bool = False) -> Decimal | None:
    """:func:`_decimal` for a value already fetched (same errors; parsed text is cached)."""
    if value is None:
        if required:
            raise FieldNotFoundReject(tag, f"Required tag missing: {tag}")
        return None
    d = _DECIMALS.get(value)
    if d is None:
        d = _decimal(msg, tag, required)
        if len(_DECIMALS) >= 4096:
            _DECIMALS.clear()
        _DECIMALS[value] = d  # type: ignore[assignment]
    return d


def _field_getter(msg: FixMessage) -> Callable[[int], bytes | None]:
    """``msg.get_raw`` as a plain dict lookup on the message's own index (built once per message,
    usually already by the session): one C-level call per tag instead of a Python one.  Only for
    tags that are never a group's count tag (where ``get_raw`` answers the count, not the group)."""
    return msg.field_index().get  # type: ignore[return-value]


_order_request = positional_constructor(OrderRequest)


def new_order(msg: FixMessage, owner: str) -> OrderRequest:
    """NewOrderSingle (35=D) -> :class:`OrderRequest` owned by ``owner`` (the session)."""
    get = _field_getter(msg)
    raw = get(11)
    if not raw:
        raise FieldNotFoundReject(11, "Required tag missing: 11")
    cl_ord_id = raw.decode("latin-1")
    raw = get(55)
    if not raw:
        raise FieldNotFoundReject(55, "Required tag missing: 55")
    symbol = raw.decode("latin-1")
    raw = get(54)
    side = _SIDES_RAW.get(raw)  # type: ignore[arg-type]
    if side is None:
        side = side_of(msg)
    qty = _dec_of(msg, 38, get(38), True)
    raw = get(40)
    ord_type = _ORD_TYPES_RAW.get(raw)  # type: ignore[arg-type]
    if ord_type is None:
        ord_type_text = _required(msg, 40)
        raise OrderRefused(RejectReason.UNSUPPORTED_ORDER_CHARACTERISTIC, f"Unsupported OrdType(40)={ord_type_text}")
    raw = get(59)
    tif = _TIFS_RAW.get(raw or b"0")
    if tif is None:
        tif_text = _optional(msg, 59) or "0"
        raise OrderRefused(RejectReason.UNSUPPORTED_ORDER_CHARACTERISTIC, f"Unsupported TimeInForce(59)={tif_text}")
    expire_time = None
    if get(126) is not None:
        try:
            expire_time = epoch_ns(msg.get_timestamp(126))
        except FieldValueError:
            raise IncorrectDataFormat(126, "Incorrect data format for value: 126") from None
    # optional decimals: _dec_of only for the tags present (most orders carry Price only)
    raw = get(1138)
    display = None if raw is None else _dec_of(msg, 1138, raw)
    if display is None:
        raw = get(111)  # MaxFloor (FIX.4.2/4.4)
        display = None if raw is None else _dec_of(msg, 111, raw)
    raw = get(18)
    post_only = raw is not None and "6" in raw.decode("latin-1").split()  # ExecInst 6: participate don't initiate
    raw = get(44)
    price = None if raw is None else _DECIMALS.get(raw) or _dec_of(msg, 44, raw)
    raw = get(99)
    stop_px = None if raw is None else _dec_of(msg, 99, raw)
    raw = get(110)
    min_qty = None if raw is None else _dec_of(msg, 110, raw)
    raw = get(1)
    account = "" if raw is None else raw.decode("latin-1")
    return _order_request(
        symbol, owner, cl_ord_id, side, qty, ord_type, price, stop_px, tif, account, "", expire_time, display,
        min_qty, post_only, None,
    )  # fmt: skip


def cancel_request(msg: FixMessage, owner: str) -> CancelRequest:
    """OrderCancelRequest (35=F) -> :class:`CancelRequest` (by OrderID(37) or OrigClOrdID(41))."""
    return CancelRequest(
        symbol=_required(msg, 55),
        owner=owner,
        cl_ord_id=_required(msg, 11),
        orig_cl_ord_id=_optional(msg, 41),
        order_id=_venue_order_id(msg),
    )


def replace_request(msg: FixMessage, owner: str) -> ReplaceRequest:
    """OrderCancelReplaceRequest (35=G) -> :class:`ReplaceRequest` (new total OrderQty and Price)."""
    return ReplaceRequest(
        symbol=_required(msg, 55),
        owner=owner,
        cl_ord_id=_required(msg, 11),
        side=_enum(Side, msg, 54),
        qty=_decimal(msg, 38, required=True),  # type: ignore[arg-type]
        price=_decimal(msg, 44),
        stop_px=_decimal(msg, 99),
        orig_cl_ord_id=_optional(msg, 41),
        order_id=_venue_order_id(msg),
    )


_FIXED_ON_REPLACE = "{} cannot change on a replace (order has {}, request {})"


def replace_change_refused(msg: FixMessage, view: Any) -> str | None:
    """Why a replace of the working order ``view`` asks for what the venue cannot change (its
    OrdType(40) or TimeInForce(59); a replace only sets quantity and prices), else None.

    Only tags present are compared; a triggered stop order may still be named by its stop type."""
    raw = msg.get_raw(40)
    if raw:
        ord_type = _ORD_TYPES_RAW.get(raw)
        allowed = {view.ord_type}
        if view.stop_px is not None:  # triggered: stop -> market, stop limit -> limit
            allowed |= {OrdType.STOP} if view.ord_type is OrdType.MARKET else {OrdType.STOP_LIMIT}
        if ord_type not in allowed:
            return _FIXED_ON_REPLACE.format("OrdType(40)", view.ord_type.value, raw.decode("latin-1"))
    raw = msg.get_raw(59)
    if raw and _TIFS_RAW.get(raw) is not view.tif:
        return _FIXED_ON_REPLACE.format("TimeInForce(59)", view.tif.value, raw.decode("latin-1"))
    return None


def _venue_order_id(msg: FixMessage) -> str:
    order_id = _optional(msg, 37)
    return "" if order_id == NONE_ID else order_id


#: MassCancelRequestType(530) values the venue serves: 1 by symbol, 7 all orders.
MASS_CANCEL_BY_SYMBOL = "1"
MASS_CANCEL_ALL = "7"


@dataclass(frozen=True, slots=True)
class MassCancelQuery:
    """OrderMassCancelRequest (35=q) as read; ``request`` is None when the type is not served."""

    cl_ord_id: str
    request_type: str
    symbol: str | None
    request: MassCancelRequest | None


def mass_cancel_request(msg: FixMessage, owner: str) -> MassCancelQuery:
    """OrderMassCancelRequest -> the owner's orders for a symbol (530=1) or all of them (530=7)."""
    cl_ord_id = _required(msg, 11)
    request_type = _required(msg, 530)
    symbol = _optional(msg, 55) or None
    if request_type == MASS_CANCEL_BY_SYMBOL and symbol is None:
        raise FieldNotFoundReject(55, "Required tag missing: 55 (MassCancelRequestType=1)")
    if request_type not in (MASS_CANCEL_BY_SYMBOL, MASS_CANCEL_ALL):
        return MassCancelQuery(cl_ord_id, request_type, symbol, None)
    request = MassCancelRequest(
        requester=owner,
        cl_ord_id=cl_ord_id,
        symbol=symbol if request_type == MASS_CANCEL_BY_SYMBOL else None,
        owner=owner,
    )
    return MassCancelQuery(cl_ord_id, request_type, request.symbol, request)


@dataclass(frozen=True, slots=True)
class StatusQuery:
    """OrderStatusRequest (35=H): which order, by OrderID and/or ClOrdID."""

    cl_ord_id: str
    order_id: str
    symbol: str
    side: str
    ord_status_req_id: str


def status_query(msg: FixMessage) -> StatusQuery:
    cl_ord_id = _optional(msg, 11)
    order_id = _venue_order_id(msg)
    if not cl_ord_id and not order_id:
        raise FieldNotFoundReject(11, "Required tag missing: 11 (or OrderID 37)")
    return StatusQuery(cl_ord_id, order_id, _optional(msg, 55), _optional(msg, 54), _optional(msg, 790))


@dataclass(frozen=True, slots=True)
class MassStatusQuery:
    """OrderMassStatusRequest (35=AF): 585=1 one symbol, 7 (or anything else) all orders."""

    mass_status_req_id: str
    request_type: str
    symbol: str | None


def mass_status_query(msg: FixMessage) -> MassStatusQuery:
    req_id = _required(msg, 584)
    request_type = _required(msg, 585)
    symbol = _optional(msg, 55) or None
    if request_type == "1" and symbol is None:
        raise FieldNotFoundReject(55, "Required tag missing: 55 (MassStatusReqType=1)")
    return MassStatusQuery(req_id, request_type, symbol if request_type == "1" else None)


# =========================================================================== order state


@dataclass(slots=True)
class OrderState:
    """What the exchange remembers of a live order to fill in ExecutionReports."""

    order_id: str
    symbol: str
    side: Side
    ord_type: OrdType
    tif: TimeInForce
    qty: Decimal
    price: Decimal | None
    stop_px: Decimal | None
    cl_ord_id: str
    account: str = ""
    cum_qty: Decimal = ZERO
    avg_px: Decimal = ZERO

    @property
    def leaves_qty(self) -> Decimal:
        return max(ZERO, self.qty - self.cum_qty)

    @property
    def ord_status(self) -> str:
        if self.cum_qty <= 0:
            return "0"
        return "2" if self.cum_qty >= self.qty else "1"

    @classmethod
    def from_view(cls, view: Any) -> OrderState:
        """From the venue's OrderView (used after a restart, when the cache is empty)."""
        return cls(
            order_id=view.order_id, symbol=view.symbol, side=view.side, ord_type=view.ord_type, tif=view.tif,
            qty=view.qty, price=view.price, stop_px=view.stop_px, cl_ord_id=view.cl_ord_id,
            account=getattr(view, "account", ""), cum_qty=view.cum_qty, avg_px=view.avg_px,
        )


class OrderCache:
    """Live orders by venue OrderID, updated from venue events, dropped when the order is done.

    ``lookup(order_id, owner)`` fills a miss (after a restart) from the venue's order status.
    """

    def __init__(self, lookup: Callable[[str, str], Any] | None = None) -> None:
        self._orders: dict[str, OrderState] = {}
        self._lookup = lookup
        self._accounts: dict[tuple[str, str], str] = {}

    def note_account(self, owner: str, cl_ord_id: str, account: str) -> None:
        """Remember the Account(1) of an order being submitted (venue events do not carry it)."""
        if account:
            self._accounts[(owner, cl_ord_id)] = account

    def __len__(self) -> int:
        return len(self._orders)

    def get(self, order_id: str, owner: str = "") -> OrderState | None:
        state = self._orders.get(order_id)
        if state is None and self._lookup is not None and order_id:
            view = self._lookup(order_id, owner)
            if view is not None:
                state = OrderState.from_view(view)
                if view.leaves_qty > 0:
                    self._orders[order_id] = state
        return state

    def apply(self, event: base.VenueEvent) -> OrderState | None:
        """Update from one event; the state as of this event (None for events without an order)."""
        kind = type(event)
        if kind is Rejected and self._accounts:
            self._accounts.pop((event.owner, event.cl_ord_id), None)  # type: ignore[union-attr]
            return None
        if kind is Accepted:
            e: Any = event
            account = self._accounts.pop((e.owner, e.cl_ord_id), "") if self._accounts else ""
            state = OrderState(e.order_id, e.symbol, e.side, e.ord_type, e.tif, e.qty, e.price, e.stop_px, e.cl_ord_id,
                               account)
            self._orders[e.order_id] = state
            return state
        order_id = getattr(event, "order_id", "")
        if not order_id:
            return None
        state = self.get(order_id, getattr(event, "owner", ""))
        if state is None:
            return None
        if kind is Fill:
            e = event
            state.cum_qty, state.avg_px, state.cl_ord_id = e.cum_qty, e.avg_px, e.cl_ord_id
            state.account = e.account or state.account
            if e.leaves_qty <= 0:
                state.qty = state.cum_qty
                self._orders.pop(order_id, None)
            else:
                state.qty = e.cum_qty + e.leaves_qty
        elif kind is Replaced:
            e = event
            state.qty, state.price, state.stop_px, state.cl_ord_id = e.qty, e.price, e.stop_px, e.cl_ord_id
            state.cum_qty = e.cum_qty
        elif kind is Triggered:
            e = event
            state.ord_type, state.price = e.ord_type, e.price
        elif kind is Restated:
            e = event
            state.qty = e.qty
        elif kind is Cancelled or kind is Expired:
            self._orders.pop(order_id, None)
            if kind is Cancelled and event.orig_cl_ord_id:  # type: ignore[union-attr]
                state.cl_ord_id = event.cl_ord_id  # type: ignore[union-attr]
        return state


# =========================================================================== outbound

_LIQUIDITY = {base.Liquidity.ADDED: 1, base.Liquidity.REMOVED: 2, base.Liquidity.AUCTION: 4}


def _px(value: Decimal | None) -> list[tuple[int, Any]]:
    return [] if value is None else [(44, value)]


def execution_report(event: base.ExecutionEvent, state: OrderState | None, version: FixVersion) -> FixMessage:
    """The ExecutionReport (35=8) of one order event; ``state`` is the order after the event."""
    kind = type(event)
    if kind is Accepted and state is not None and state.stop_px is None and not state.account:
        return _ack(event, version)  # type: ignore[arg-type]
    if kind is Fill and state is not None:
        return _fill(event, state, version)  # type: ignore[arg-type]
    fields: list[tuple[int, Any]] = [(17, event.exec_id), (54, event.side.value), (55, event.symbol), (60, transact_time(event.ts))]
    if version.fix42:
        fields.append((20, "0"))
    if kind is Rejected:
        e: Any = event
        fields += [
            (11, e.cl_ord_id), (37, NONE_ID), (150, "8"), (39, "8"), (14, ZERO), (151, ZERO), (6, ZERO),
            (103, ord_rej_reason(version, e.reason)), (58, e.text or e.reason.value),
        ]
        return FixMessage.new("8", *fields)
    e = event
    fields.append((37, e.order_id))
    if state is not None:
        fields += [(38, state.qty), (40, state.ord_type.value), (59, state.tif.value), *_px(state.price)]
        if state.stop_px is not None:
            fields.append((99, state.stop_px))
        if state.account:
            fields.append((1, state.account))
    if kind is Accepted:
        fields += [(11, e.cl_ord_id), (150, "0"), (39, "0"), (14, ZERO), (151, e.qty), (6, ZERO)]
    elif kind is Fill:
        done = e.leaves_qty <= 0
        exec_type = ("2" if done else "1") if version.fix42 else "F"
        fields += [
            (11, e.cl_ord_id), (150, exec_type), (39, "2" if done else "1"), (14, e.cum_qty), (151, e.leaves_qty),
            (6, e.avg_px), (31, e.last_px), (32, e.last_qty),
        ]
        if not version.fix42:
            fields.append((851, _LIQUIDITY[e.liquidity]))
        if version.fix50:
            fields.append((880, e.match_id))
        if e.account and (state is None or not state.account):
            fields.append((1, e.account))
    elif kind is Cancelled:
        fields += [(11, e.cl_ord_id), (150, "4"), (39, "4"), (14, e.cum_qty), (151, ZERO),
                   (6, state.avg_px if state else ZERO)]
        if e.orig_cl_ord_id:
            fields.append((41, e.orig_cl_ord_id))
        else:
            reason = restatement_reason(version, e.reason.exec_restatement_reason)
            if reason is not None:
                fields.append((378, reason))
            fields.append((58, e.reason.value))
    elif kind is Replaced:
        status = "0" if e.cum_qty <= 0 else ("2" if e.leaves_qty <= 0 else "1")
        fields += [(11, e.cl_ord_id), (41, e.orig_cl_ord_id), (150, "5"), (39, status), (14, e.cum_qty),
                   (151, e.leaves_qty), (6, state.avg_px if state else ZERO)]
    elif kind is Expired:
        fields += [(11, e.cl_ord_id), (150, "C"), (39, "C"), (14, e.cum_qty), (151, ZERO),
                   (6, state.avg_px if state else ZERO)]
    elif kind is Triggered:
        cum = state.cum_qty if state else ZERO
        fields += [(11, e.cl_ord_id), (150, "L" if version.fix50 else "D"), (39, state.ord_status if state else "0"),
                   (14, cum), (151, state.leaves_qty if state else ZERO), (6, state.avg_px if state else ZERO)]
        fields = [f for f in fields if f[0] not in (40, 44)] + [(40, e.ord_type.value), *_px(e.price)]
    elif kind is Restated:
        reason = restatement_reason(version, e.reason.exec_restatement_reason)
        cum = e.qty - e.leaves_qty
        fields += [(11, e.cl_ord_id), (150, "D"), (39, "0" if cum <= 0 else "1"), (14, cum), (151, e.leaves_qty),
                   (6, state.avg_px if state else ZERO), (1138 if version.fix50 else 111, e.display_qty)]
        if reason is not None:
            fields.append((378, reason))
    else:  # pragma: no cover - every ExecutionEvent is handled above
        raise TypeError(f"not an execution event: {event!r}")
    return FixMessage.new("8", *_dedupe(fields))


_ZERO_BYTES = to_fix_bytes(ZERO)
_FIX42 = FixVersion.FIX42
_FIX50 = FixVersion.FIX50SP2
# The hot builders below avoid Python-level calls per field: enum members by ``_value_`` (an
# Enum's ``__hash__`` and ``.value`` are Python code) and Decimals through a local text cache.
_DEC_BYTES: dict[Decimal, bytes] = {}


def _dec_miss(value: Decimal) -> bytes:
    """Fill the Decimal -> FIX bytes cache (bounded) on a miss."""
    if len(_DEC_BYTES) >= 4096:
        _DEC_BYTES.clear()
    text = _DEC_BYTES[value] = to_fix_bytes(value)
    return text


def _ack(e: Accepted, version: FixVersion) -> FixMessage:
    """The hot path: ExecType=0 for a plain order (same tags and bytes as the general builder,
    built as bytes directly - what ``FixMessage.new`` would make of them)."""
    dec = _DEC_BYTES.get
    qty = dec(e.qty) or _dec_miss(e.qty)
    fields: list[tuple[int, bytes]] = [
        (35, b"8"), (17, e.exec_id.encode()), (54, e.side._value_.encode()), (55, e.symbol.encode()),
        (60, transact_time(e.ts)), (37, e.order_id.encode()), (38, qty), (40, e.ord_type._value_.encode()),
        (59, e.tif._value_.encode()),
    ]  # fmt: skip
    price = e.price
    if price is not None:
        fields.append((44, dec(price) or _dec_miss(price)))
    if version is _FIX42:
        fields.append((20, b"0"))
    fields += [(11, e.cl_ord_id.encode()), (150, b"0"), (39, b"0"), (14, _ZERO_BYTES), (151, qty), (6, _ZERO_BYTES)]
    return FixMessage(fields)


_LIQUIDITY_BYTES = {k._value_: b"%d" % v for k, v in _LIQUIDITY.items()}


def _fill(e: Fill, state: OrderState, version: FixVersion) -> FixMessage:
    """The ExecutionReport of a fill, as the general builder makes it (no tag repeats there, so
    nothing to dedupe), built as bytes directly."""
    dec = _DEC_BYTES.get
    fields: list[tuple[int, bytes]] = [
        (35, b"8"), (17, e.exec_id.encode()), (54, e.side._value_.encode()), (55, e.symbol.encode()),
        (60, transact_time(e.ts)),
    ]
    fix42 = version is _FIX42
    if fix42:
        fields.append((20, b"0"))
    qty = state.qty
    fields += [(37, e.order_id.encode()), (38, dec(qty) or _dec_miss(qty)), (40, state.ord_type._value_.encode()),
               (59, state.tif._value_.encode())]  # fmt: skip
    price = state.price
    if price is not None:
        fields.append((44, dec(price) or _dec_miss(price)))
    stop_px = state.stop_px
    if stop_px is not None:
        fields.append((99, dec(stop_px) or _dec_miss(stop_px)))
    if state.account:
        fields.append((1, state.account.encode()))
    done = e.leaves_qty <= 0
    exec_type = (b"2" if done else b"1") if fix42 else b"F"
    cum, leaves, avg, last_px, last_qty = e.cum_qty, e.leaves_qty, e.avg_px, e.last_px, e.last_qty
    fields += [
        (11, e.cl_ord_id.encode()), (150, exec_type), (39, b"2" if done else b"1"), (14, dec(cum) or _dec_miss(cum)),
        (151, dec(leaves) or _dec_miss(leaves)), (6, dec(avg) or _dec_miss(avg)),
        (31, dec(last_px) or _dec_miss(last_px)), (32, dec(last_qty) or _dec_miss(last_qty)),
    ]  # fmt: skip
    if not fix42:
        fields.append((851, _LIQUIDITY_BYTES[e.liquidity._value_]))
    if version is _FIX50:
        fields.append((880, e.match_id.encode()))
    if e.account and not state.account:
        fields.append((1, e.account.encode()))
    return FixMessage(fields)


def _dedupe(fields: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
    """Keep the last value of a tag given twice (state defaults overridden by event values)."""
    seen: dict[int, int] = {}
    for i, (tag, _) in enumerate(fields):
        seen[tag] = i
    return [f for i, f in enumerate(fields) if seen[f[0]] == i]


def cancel_reject(event: CancelRejected, state: OrderState | None, version: FixVersion) -> FixMessage:
    """OrderCancelReject (35=9) with CxlRejReason(102) and CxlRejResponseTo(434)."""
    fields: list[tuple[int, Any]] = [
        (11, event.cl_ord_id), (37, event.order_id or (state.order_id if state else NONE_ID)),
        (41, event.orig_cl_ord_id or NONE_ID), (39, state.ord_status if state else "8"),
        (434, event.response_to.value), (102, cxl_rej_reason(version, event.reason.cxl_rej_reason)),
        (58, event.text or event.reason.value), (60, transact_time(event.ts)),
    ]
    return FixMessage.new("9", *fields)


def local_cancel_reject(cl_ord_id: str, orig_cl_ord_id: str, order_id: str, response_to: CancelRejectResponseTo,
                        text: str, ts_ns: int, version: FixVersion) -> FixMessage:
    """An OrderCancelReject decided by the FIX front (e.g. OrderID of another session's order)."""
    event = CancelRejected(ts_ns, "", order_id, "", cl_ord_id, orig_cl_ord_id, response_to,
                           base.CancelRejectReason.UNKNOWN_ORDER, text)
    return cancel_reject(event, None, version)


def mass_cancel_report(event: MassCancelled, request_type: str, version: FixVersion) -> FixMessage:
    """OrderMassCancelReport (35=r): MassCancelResponse(531) = the request type, or 0 if refused."""
    refused = bool(event.text)
    fields: list[tuple[int, Any]] = [
        (11, event.cl_ord_id), (37, event.cl_ord_id or NONE_ID), (530, request_type), (531, "0" if refused else request_type),
        (533, event.cancelled), (60, transact_time(event.ts)),
    ]
    if event.symbol:
        fields.append((55, event.symbol))
    if refused:
        fields += [(532, 99), (58, event.text)]
    return FixMessage.new("r", *fields)


def status_report(view: Any, exec_id: str, version: FixVersion, *, ts_ns: int, mass_status_req_id: str = "",
                  last: bool = False, ord_status_req_id: str = "") -> FixMessage:
    """ExecutionReport ExecType=I (FIX.4.2: ExecTransType=3, ExecType=OrdStatus) for an OrderView."""
    status = view.ord_status
    fields: list[tuple[int, Any]] = [
        (6, view.avg_px), (11, view.cl_ord_id), (14, view.cum_qty), (17, exec_id), (37, view.order_id),
        (38, view.qty), (39, status), (40, view.ord_type.value), (54, view.side.value), (55, view.symbol),
        (59, view.tif.value), (60, transact_time(ts_ns)), (151, view.leaves_qty), *_px(view.price),
    ]
    if view.stop_px is not None:
        fields.append((99, view.stop_px))
    if getattr(view, "account", ""):
        fields.append((1, view.account))
    if getattr(view, "orig_cl_ord_id", ""):
        fields.append((41, view.orig_cl_ord_id))
    fields += _status_tags(version, status)
    if mass_status_req_id:
        fields.append((584, mass_status_req_id))
        if last and not version.fix42:
            fields.append((912, "Y"))
    if ord_status_req_id and not version.fix42:
        fields.append((790, ord_status_req_id))
    return FixMessage.new("8", *fields)


def _status_tags(version: FixVersion, status: str) -> list[tuple[int, Any]]:
    if version.fix42:
        return [(20, "3"), (150, status)]
    return [(150, "I")]


def unknown_order_status(query: StatusQuery | None, exec_id: str, version: FixVersion, *, ts_ns: int,
                         symbol: str = "", mass_status_req_id: str = "", text: str = "Unknown order") -> FixMessage:
    """The status answer for an order this session does not have: OrdStatus=8 (rejected), OrderID NONE."""
    fields: list[tuple[int, Any]] = [
        (6, ZERO), (14, ZERO), (17, exec_id), (37, NONE_ID), (39, "8"), (54, (query.side if query else "") or "1"),
        (55, (query.symbol if query else symbol) or symbol or "[N/A]"), (58, text), (60, transact_time(ts_ns)), (151, ZERO),
        *_status_tags(version, "8"),
    ]
    if query is not None and query.cl_ord_id:
        fields.append((11, query.cl_ord_id))
    if query is not None and query.ord_status_req_id and not version.fix42:
        fields.append((790, query.ord_status_req_id))
    if mass_status_req_id:
        fields.append((584, mass_status_req_id))
        if not version.fix42:
            fields.append((912, "Y"))
    return FixMessage.new("8", *fields)


def local_reject(cl_ord_id: str, symbol: str, side: str, reason: RejectReason, text: str, exec_id: str, ts_ns: int,
                 version: FixVersion) -> FixMessage:
    """An ExecutionReport reject decided by the FIX front (an order the venue never saw)."""
    fields: list[tuple[int, Any]] = [
        (6, ZERO), (11, cl_ord_id), (14, ZERO), (17, exec_id), (37, NONE_ID), (39, "8"), (54, side or "1"),
        (55, symbol or "[N/A]"), (58, text), (60, transact_time(ts_ns)), (103, ord_rej_reason(version, reason)),
        (150, "8"), (151, ZERO),
    ]
    if version.fix42:
        fields.append((20, "0"))
    return FixMessage.new("8", *fields)


# ----- reference data


def _spec_value(spec: Any, *names: str) -> Any:
    for name in names:
        value = getattr(spec, name, None)
        if value is not None:
            return value
    return None


def security_list(req_id: str, response_id: str, specs: Sequence[Any], version: FixVersion) -> FixMessage:
    """SecurityList (35=y): every instrument with its lot (RoundLot 561, MinTradeVol 562) and
    (FIX.5.0) tick (MinPriceIncrement 969)."""
    entries = []
    for spec in specs:
        lot = _spec_value(spec, "lot_size") or Decimal(1)
        min_qty = _spec_value(spec, "min_order_qty", "min_qty") or lot
        if version.fix50:
            tick = _spec_value(spec, "tick_size", "tick")
            entry: list[tuple[int, Any]] = [(55, spec.symbol)]
            if tick is not None:
                entry.append((969, tick))
            entry += [(562, min_qty), (561, lot)]
        else:
            entry = [(55, spec.symbol), (561, lot), (562, min_qty)]
        entries.append(entry)
    msg = FixMessage.new("y", (320, req_id), (322, response_id), (393, len(entries)), (560, 0), (893, "Y"))
    if entries:
        msg.add_group(146, entries)
    else:
        msg.set(146, 0)
    return msg


def security_list_refused(req_id: str, response_id: str, result: int, text: str) -> FixMessage:
    """SecurityList with SecurityRequestResult(560) != 0 (e.g. 2: no instruments match)."""
    return FixMessage.new("y", (58, text), (320, req_id), (322, response_id), (560, result))


def security_definition(req_id: str, response_id: str, spec: Any | None, symbol: str, version: FixVersion) -> FixMessage:
    """SecurityDefinition (35=d): SecurityResponseType(323) 1 accept with the instrument's data, 5 reject."""
    if spec is None:
        return FixMessage.new("d", (55, symbol or "[N/A]"), (58, f"Unknown symbol {symbol}"), (320, req_id),
                              (322, response_id), (323, 5))
    fields: list[tuple[int, Any]] = [(55, spec.symbol), (320, req_id), (322, response_id), (323, 1)]
    lot = _spec_value(spec, "lot_size")
    if lot is not None and not version.fix42:
        fields.append((561, lot))
    if version.fix50:
        tick = _spec_value(spec, "tick_size", "tick")
        if tick is not None:
            fields.append((969, tick))
    return FixMessage.new("d", *fields)


def security_status(symbol: str, phase: TradingPhase, version: FixVersion, *, ts_ns: int, req_id: str = "",
                    text: str = "") -> FixMessage:
    """SecurityStatus (35=f): SecurityTradingStatus(326), TradingSessionSubID(625, FIX.4.4+)."""
    fields: list[tuple[int, Any]] = [(55, symbol), (326, trading_status(version, phase)), (60, transact_time(ts_ns))]
    if req_id:
        fields.append((324, req_id))
    if not version.fix42:
        fields.append((625, phase.trading_session_sub_id))
        if text:
            fields.append((58, text))
    return FixMessage.new("f", *fields)


# ----- timestamps


def utc_now_ns(clock: Callable[[], float]) -> int:
    """Integer nanoseconds from a seconds clock (``reactor.seconds``)."""
    return int(clock() * 1_000_000_000)


def epoch_ns(value: _dt.datetime) -> int:
    return int(value.timestamp()) * 1_000_000_000 + value.microsecond * 1000


def symbols_of(entries: Iterable[FixMessage]) -> list[str]:
    return [e.get_str(55) for e in entries if 55 in e]


@dataclass(slots=True)
class IdSource:
    """ExecIDs for reports the FIX front makes itself (status answers, local rejects): a prefix
    that cannot collide with the venue's numeric ids, the start time and a counter, so they are
    unique across restarts."""

    start_ns: int
    prefix: str = "X"
    _n: int = field(default=0)

    def next(self) -> str:
        self._n += 1
        return f"{self.prefix}{self.start_ns:x}-{self._n}"
