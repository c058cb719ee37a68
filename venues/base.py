"""The venue interface: what the broker and the FIX front send to a venue and what comes back.

Everything here is at the *edge*: prices and quantities are :class:`decimal.Decimal`, ids are
strings, times are integer nanoseconds since the epoch stamped by whoever owns the clock.  The
internal venue converts these to integer ticks and lots (``venues.internal.matching.edge``); the
external FIX venue translates them to FIX messages (``venues.external.translate``).

Enum values are the FIX codes where FIX has one, so translation is ``Enum(value)`` both ways.

Requests: :class:`OrderRequest`, :class:`CancelRequest`, :class:`ReplaceRequest`,
:class:`MassCancelRequest`.
Events (all frozen): :class:`Accepted`, :class:`Fill`, :class:`Cancelled`, :class:`Replaced`,
:class:`Rejected`, :class:`CancelRejected`, :class:`Expired`, :class:`Triggered`, :class:`Restated`,
:class:`MassCancelled`, :class:`PhaseChanged`, :class:`IndicativePrice`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

# --------------------------------------------------------------------------- enums


class Side(Enum):
    """Side(54) of an order.  SELL_SHORT matches like SELL."""

    BUY = "1"
    SELL = "2"
    SELL_SHORT = "5"


class OrdType(Enum):
    """OrdType(40) supported by the venues."""

    MARKET = "1"
    LIMIT = "2"
    STOP = "3"
    STOP_LIMIT = "4"


class TimeInForce(Enum):
    """TimeInForce(59)."""

    DAY = "0"
    GTC = "1"
    OPG = "2"  #: only into the opening auction; the unexecuted rest expires after it
    IOC = "3"
    FOK = "4"
    GTD = "6"  #: expires at ``expire_time``
    ATC = "7"  #: only into the closing auction; the unexecuted rest expires after it


class SelfTradePrevention(Enum):
    """What happens when an incoming order would trade with a resting order of the same account or
    STP group.  Decided by the incoming order's instruction (else the venue default of its account)."""

    CANCEL_INCOMING = 1
    CANCEL_RESTING = 2
    CANCEL_BOTH = 3
    DECREMENT_AND_CANCEL = 4  #: reduce both by the smaller quantity; the smaller is cancelled


class Liquidity(Enum):
    """LastLiquidityInd(851) of a fill."""

    ADDED = 1
    REMOVED = 2
    AUCTION = 4


class TradingPhase(Enum):
    """The trading phase of one instrument (the states of the venue's phase state machine).

    The transition table lives with the matching core (``venues.internal.matching.phases``).
    """

    CLOSED = "CLOSED"
    """No trading and no order entry; cancels are accepted, GTC/GTD orders keep resting."""
    PRE_OPEN = "PRE_OPEN"
    """Opening call: orders accumulate without matching, an indicative price is published."""
    OPENING_AUCTION = "OPENING_AUCTION"
    """Transient: the opening uncross is running (entered and left inside one command)."""
    CONTINUOUS = "CONTINUOUS"
    """Continuous trading in price-time priority; the book is never crossed."""
    CLOSING_CALL = "CLOSING_CALL"
    """Closing call: ATC orders join the book, orders accumulate without matching."""
    CLOSING_AUCTION = "CLOSING_AUCTION"
    """Transient: the closing uncross is running."""
    HALTED = "HALTED"
    """No matching (after a price band breach or an operator halt); orders accumulate as in a call."""
    RESUMPTION_AUCTION = "RESUMPTION_AUCTION"
    """Transient: the uncross that ends a halt and resumes continuous trading."""

    @property
    def trading_session_sub_id(self) -> str:
        """TradingSessionSubID(625) for this phase."""
        return _SESSION_SUB_ID[self]

    @property
    def security_trading_status(self) -> int:
        """SecurityTradingStatus(326) for this phase."""
        return _TRADING_STATUS[self]

    @property
    def is_call(self) -> bool:
        """True when orders accumulate without matching (PRE_OPEN, CLOSING_CALL, HALTED)."""
        return self in _CALL_PHASES


_SESSION_SUB_ID = {
    TradingPhase.CLOSED: "5",
    TradingPhase.PRE_OPEN: "1",
    TradingPhase.OPENING_AUCTION: "2",
    TradingPhase.CONTINUOUS: "3",
    TradingPhase.CLOSING_CALL: "4",
    TradingPhase.CLOSING_AUCTION: "4",
    TradingPhase.HALTED: "7",
    TradingPhase.RESUMPTION_AUCTION: "9",
}
_TRADING_STATUS = {
    TradingPhase.CLOSED: 26,
    TradingPhase.PRE_OPEN: 21,
    TradingPhase.OPENING_AUCTION: 25,
    TradingPhase.CONTINUOUS: 17,
    TradingPhase.CLOSING_CALL: 24,
    TradingPhase.CLOSING_AUCTION: 25,
    TradingPhase.HALTED: 2,
    TradingPhase.RESUMPTION_AUCTION: 25,
}
_CALL_PHASES = frozenset({TradingPhase.PRE_OPEN, TradingPhase.CLOSING_CALL, TradingPhase.HALTED})


class CancelReason(Enum):
    """Why an order was cancelled; :attr:`exec_restatement_reason` is ExecRestatementReason(378)."""

    CLIENT_REQUEST = "CLIENT_REQUEST"
    MASS_CANCEL = "MASS_CANCEL"
    CANCEL_ON_DISCONNECT = "CANCEL_ON_DISCONNECT"
    CANCEL_ON_LOGOUT = "CANCEL_ON_LOGOUT"
    STP_INCOMING = "STP_INCOMING"
    STP_RESTING = "STP_RESTING"
    STP_BOTH = "STP_BOTH"
    STP_DECREMENT = "STP_DECREMENT"
    IOC_REMAINDER = "IOC_REMAINDER"
    FOK_NOT_FILLED = "FOK_NOT_FILLED"
    MIN_QTY_NOT_MET = "MIN_QTY_NOT_MET"
    POST_ONLY_WOULD_TAKE = "POST_ONLY_WOULD_TAKE"
    MARKET_PROTECTION = "MARKET_PROTECTION"
    TRADING_HALT = "TRADING_HALT"
    KILL_SWITCH = "KILL_SWITCH"
    REPLACED_BELOW_EXECUTED = "REPLACED_BELOW_EXECUTED"

    @property
    def exec_restatement_reason(self) -> int | None:
        """ExecRestatementReason(378) to send with ExecType=4, or None when the cancel was asked for."""
        return _RESTATEMENT.get(self)


_RESTATEMENT: dict[CancelReason, int] = {
    CancelReason.CANCEL_ON_DISCONNECT: 12,
    CancelReason.CANCEL_ON_LOGOUT: 13,
    CancelReason.STP_DECREMENT: 17,  # CXLD_SMP
    CancelReason.STP_INCOMING: 18,  # CXLD_SMP_AGGRESSIVE
    CancelReason.STP_RESTING: 19,  # CXLD_SMP_PASSIVE
    CancelReason.STP_BOTH: 20,  # CXLD_SMP_AGGRESSIVE_PASSIVE
    CancelReason.MIN_QTY_NOT_MET: 8,
    CancelReason.POST_ONLY_WOULD_TAKE: 8,
    CancelReason.MARKET_PROTECTION: 8,
    CancelReason.TRADING_HALT: 6,
    CancelReason.KILL_SWITCH: 8,
}


class RestatementReason(Enum):
    """Why a live order was restated (ExecType=D); :attr:`exec_restatement_reason` is tag 378."""

    ICEBERG_REFRESH = "ICEBERG_REFRESH"  #: a new display slice with a new time priority
    STP_DECREMENT = "STP_DECREMENT"  #: quantity reduced by decrement-and-cancel STP

    @property
    def exec_restatement_reason(self) -> int:
        return 14 if self is RestatementReason.ICEBERG_REFRESH else 17


class RejectReason(Enum):
    """Why an order was rejected; :attr:`ord_rej_reason` is OrdRejReason(103)."""

    UNKNOWN_SYMBOL = "UNKNOWN_SYMBOL"
    EXCHANGE_CLOSED = "EXCHANGE_CLOSED"
    TOO_LATE_TO_ENTER = "TOO_LATE_TO_ENTER"
    DUPLICATE_ORDER = "DUPLICATE_ORDER"
    STALE_ORDER = "STALE_ORDER"
    UNSUPPORTED_ORDER_CHARACTERISTIC = "UNSUPPORTED_ORDER_CHARACTERISTIC"
    INCORRECT_QUANTITY = "INCORRECT_QUANTITY"
    INVALID_PRICE_INCREMENT = "INVALID_PRICE_INCREMENT"
    INVALID_PRICE = "INVALID_PRICE"
    REFERENCE_PRICE_NOT_AVAILABLE = "REFERENCE_PRICE_NOT_AVAILABLE"
    POST_ONLY_WOULD_TAKE = "POST_ONLY_WOULD_TAKE"

    @property
    def ord_rej_reason(self) -> int:
        """OrdRejReason(103)."""
        return _ORD_REJ[self]


_ORD_REJ = {
    RejectReason.UNKNOWN_SYMBOL: 1,
    RejectReason.EXCHANGE_CLOSED: 2,
    RejectReason.TOO_LATE_TO_ENTER: 4,
    RejectReason.DUPLICATE_ORDER: 6,
    RejectReason.STALE_ORDER: 8,
    RejectReason.UNSUPPORTED_ORDER_CHARACTERISTIC: 11,
    RejectReason.INCORRECT_QUANTITY: 13,
    RejectReason.INVALID_PRICE_INCREMENT: 18,
    RejectReason.INVALID_PRICE: 99,
    RejectReason.REFERENCE_PRICE_NOT_AVAILABLE: 19,
    RejectReason.POST_ONLY_WOULD_TAKE: 99,
}


class CancelRejectReason(Enum):
    """Why a cancel or replace was refused; :attr:`cxl_rej_reason` is CxlRejReason(102)."""

    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    EXCHANGE_CLOSED = "EXCHANGE_CLOSED"
    DUPLICATE_CL_ORD_ID = "DUPLICATE_CL_ORD_ID"
    INVALID_PRICE_INCREMENT = "INVALID_PRICE_INCREMENT"
    INVALID_CHANGE = "INVALID_CHANGE"  #: side or symbol change, bad quantity, price on a market order

    @property
    def cxl_rej_reason(self) -> int:
        """CxlRejReason(102)."""
        return _CXL_REJ[self]


_CXL_REJ = {
    CancelRejectReason.UNKNOWN_ORDER: 1,
    CancelRejectReason.EXCHANGE_CLOSED: 2,
    CancelRejectReason.DUPLICATE_CL_ORD_ID: 6,
    CancelRejectReason.INVALID_PRICE_INCREMENT: 18,
    CancelRejectReason.INVALID_CHANGE: 99,
}


class CancelRejectResponseTo(Enum):
    """CxlRejResponseTo(434): which request an OrderCancelReject answers."""

    CANCEL = "1"
    REPLACE = "2"


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A new order (35=D) as the venue sees it.

    ``owner`` is the session (or other principal) that owns the order: it scopes ``cl_ord_id``
    uniqueness and cancel-on-disconnect.  ``account`` and ``stp_group`` scope self-trade prevention.
    """

    symbol: str
    owner: str
    cl_ord_id: str
    side: Side
    qty: Decimal
    ord_type: OrdType = OrdType.LIMIT
    price: Decimal | None = None
    stop_px: Decimal | None = None
    tif: TimeInForce = TimeInForce.DAY
    account: str = ""
    stp_group: str = ""
    expire_time: int | None = None
    display_qty: Decimal | None = None
    min_qty: Decimal | None = None
    post_only: bool = False
    stp: SelfTradePrevention | None = None


@dataclass(frozen=True, slots=True)
class CancelRequest:
    """Cancel one order (35=F), named by venue ``order_id`` or by the owner's ``orig_cl_ord_id``."""

    symbol: str
    owner: str
    cl_ord_id: str
    orig_cl_ord_id: str = ""
    order_id: str = ""


@dataclass(frozen=True, slots=True)
class ReplaceRequest:
    """Cancel/replace (35=G): new total quantity and/or price.  ``None`` leaves a price unchanged.

    Priority is kept only when the price is unchanged and the quantity does not increase.
    """

    symbol: str
    owner: str
    cl_ord_id: str
    side: Side
    qty: Decimal
    price: Decimal | None = None
    stop_px: Decimal | None = None
    orig_cl_ord_id: str = ""
    order_id: str = ""


@dataclass(frozen=True, slots=True)
class MassCancelRequest:
    """Cancel every live order matching all given filters (35=q, or an unsolicited sweep).

    ``requester``/``cl_ord_id`` identify the request; ``symbol``, ``owner`` and ``account`` filter
    (None = any).  ``reason`` distinguishes a client mass cancel from cancel-on-disconnect or a
    kill switch.
    """

    requester: str
    cl_ord_id: str
    symbol: str | None = None
    owner: str | None = None
    account: str | None = None
    reason: CancelReason = CancelReason.MASS_CANCEL


VenueRequest = OrderRequest | CancelRequest | ReplaceRequest | MassCancelRequest


# --------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class Accepted:
    """The order is live on the venue (ExecType=0)."""

    ts: int
    symbol: str
    order_id: str
    owner: str
    cl_ord_id: str
    exec_id: str
    side: Side
    ord_type: OrdType
    tif: TimeInForce
    qty: Decimal
    price: Decimal | None
    stop_px: Decimal | None


@dataclass(frozen=True, slots=True)
class Fill:
    """One side of a trade (ExecType=F).  Both sides of a trade share ``match_id``."""

    ts: int
    symbol: str
    order_id: str
    owner: str
    cl_ord_id: str
    exec_id: str
    side: Side
    match_id: str
    last_qty: Decimal
    last_px: Decimal
    cum_qty: Decimal
    leaves_qty: Decimal
    avg_px: Decimal
    liquidity: Liquidity
    account: str


@dataclass(frozen=True, slots=True)
class Cancelled:
    """The order is done without (further) execution (ExecType=4).

    For a client cancel ``cl_ord_id`` is the cancel request's and ``orig_cl_ord_id`` the order's;
    for an unsolicited cancel ``cl_ord_id`` is the order's and ``orig_cl_ord_id`` is empty.
    """

    ts: int
    symbol: str
    order_id: str
    owner: str
    cl_ord_id: str
    orig_cl_ord_id: str
    exec_id: str
    side: Side
    cum_qty: Decimal
    cancelled_qty: Decimal
    reason: CancelReason


@dataclass(frozen=True, slots=True)
class Replaced:
    """A cancel/replace took effect (ExecType=5)."""

    ts: int
    symbol: str
    order_id: str
    owner: str
    cl_ord_id: str
    orig_cl_ord_id: str
    exec_id: str
    side: Side
    qty: Decimal
    price: Decimal | None
    stop_px: Decimal | None
    cum_qty: Decimal
    leaves_qty: Decimal
    priority_kept: bool


@dataclass(frozen=True, slots=True)
class Rejected:
    """The order was refused (ExecutionReport ExecType=8, OrdStatus=8)."""

    ts: int
    symbol: str
    owner: str
    cl_ord_id: str
    exec_id: str
    side: Side
    reason: RejectReason
    text: str


@dataclass(frozen=True, slots=True)
class CancelRejected:
    """A cancel or replace was refused (OrderCancelReject 35=9)."""

    ts: int
    symbol: str
    order_id: str
    owner: str
    cl_ord_id: str
    orig_cl_ord_id: str
    response_to: CancelRejectResponseTo
    reason: CancelRejectReason
    text: str


@dataclass(frozen=True, slots=True)
class Expired:
    """The order reached the end of its time in force (ExecType=C): DAY, GTD, OPG, ATC."""

    ts: int
    symbol: str
    order_id: str
    owner: str
    cl_ord_id: str
    exec_id: str
    side: Side
    cum_qty: Decimal
    expired_qty: Decimal


@dataclass(frozen=True, slots=True)
class Triggered:
    """A stop order was triggered and now works as ``ord_type`` (ExecType=L)."""

    ts: int
    symbol: str
    order_id: str
    owner: str
    cl_ord_id: str
    exec_id: str
    side: Side
    ord_type: OrdType
    price: Decimal | None


@dataclass(frozen=True, slots=True)
class Restated:
    """The venue changed a live order by itself (ExecType=D)."""

    ts: int
    symbol: str
    order_id: str
    owner: str
    cl_ord_id: str
    exec_id: str
    side: Side
    qty: Decimal
    leaves_qty: Decimal
    display_qty: Decimal
    reason: RestatementReason


@dataclass(frozen=True, slots=True)
class MassCancelled:
    """Summary of a mass cancel (OrderMassCancelReport 35=r); ``text`` is set when it was refused."""

    ts: int
    requester: str
    cl_ord_id: str
    symbol: str | None
    cancelled: int
    reason: CancelReason
    text: str = ""


@dataclass(frozen=True, slots=True)
class PhaseChanged:
    """An instrument entered a new trading phase (TradingSessionStatus / SecurityStatus)."""

    ts: int
    symbol: str
    phase: TradingPhase
    previous: TradingPhase
    text: str = ""


@dataclass(frozen=True, slots=True)
class IndicativePrice:
    """The price and volume the book would uncross at now (published during call phases).

    ``price`` is None when nothing would execute; ``surplus`` > 0 is a buy surplus, < 0 a sell one.
    """

    ts: int
    symbol: str
    price: Decimal | None
    volume: Decimal
    surplus: Decimal


ExecutionEvent = Accepted | Fill | Cancelled | Replaced | Rejected | Expired | Triggered | Restated
VenueEvent = (
    Accepted | Fill | Cancelled | Replaced | Rejected | CancelRejected | Expired | Triggered | Restated
    | MassCancelled | PhaseChanged | IndicativePrice
)  # fmt: skip
VenueListener = Callable[[VenueEvent], None]


# --------------------------------------------------------------------------- interface


class Venue(ABC):
    """A place orders are executed: the internal matching venue or an external exchange over FIX.

    Requests are fire-and-forget; every outcome (including rejects) reaches the subscribed
    listeners as :data:`VenueEvent` objects, possibly later and from another session (external).
    """

    @property
    @abstractmethod
    def name(self) -> str:
        """The routing key of this venue (what ``brokers.routing`` points at)."""

    @abstractmethod
    def subscribe(self, listener: VenueListener) -> None:
        """Deliver every future event of this venue to ``listener``."""

    @abstractmethod
    def submit(self, request: OrderRequest) -> None:
        """Send a new order."""

    @abstractmethod
    def cancel(self, request: CancelRequest) -> None:
        """Ask to cancel one order."""

    @abstractmethod
    def replace(self, request: ReplaceRequest) -> None:
        """Ask to change one order's quantity and/or price."""

    @abstractmethod
    def mass_cancel(self, request: MassCancelRequest) -> None:
        """Cancel every live order that matches the request's filters."""
