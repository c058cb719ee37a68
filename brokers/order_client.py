"""The one-shot order client behind ``fixgate order``: log on, send one request, print the answers.

:func:`run_order` is the non-click core.  It builds an initiator :class:`SessionSettings` from a
generated ``.cfg`` text (:func:`client_config_text`), runs one :class:`InitiatorService` on the
given reactor, sends the request once the session is logged on, collects every
ExecutionReport (35=8), OrderCancelReject (35=9), BusinessMessageReject (35=j) and session Reject
(35=3) as :class:`Report` objects, decides when the request is answered, logs out and returns an
:class:`OrderResult` with an :class:`ExitStatus`.

When is a request answered?  Each report that belongs to the request (same ClOrdID, or a reject
that references the request's MsgSeqNum / ClOrdID) is classified as

* final: Filled, Canceled, Rejected, Expired, DoneForDay, Replaced-and-filled, an
  OrderCancelReject, a Reject / BusinessMessageReject, the answer to an OrderStatusRequest;
* resting: New / PartiallyFilled / Replaced (an accepted order that may still trade): the client
  keeps listening for ``quiet`` seconds and stops when nothing more arrives;
* pending: PendingNew / PendingCancel / PendingReplace: keep waiting.

Nothing here sleeps: every wait is a ``callLater`` deadline on the reactor passed in.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum, IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fix_engine.application import Application
from fix_engine.codec.message import FixMessage, format_epoch_timestamp
from fix_engine.config import parse_config
from fix_engine.session.session_id import SessionID
from fix_engine.session.settings import SessionSettings

# Twisted and the transport are imported where they are used, so that ``fixgate --help`` and the
# click command definitions (which read this module's constants) stay light.
if TYPE_CHECKING:
    from twisted.internet import defer
    from twisted.python.failure import Failure

    from fix_engine.transport.initiator import InitiatorService

__all__ = [
    "CancelOrder",
    "ClientOptions",
    "ExitStatus",
    "FIX_VERSIONS",
    "NewOrder",
    "OrderResult",
    "OrderStatus",
    "ReplaceOrder",
    "Report",
    "client_config_text",
    "default_cl_ord_id",
    "default_store_dir",
    "run_order",
]


class ExitStatus(IntEnum):
    """Process exit codes of ``fixgate order``."""

    ACCEPTED = 0  # the request was accepted (acknowledged, filled, canceled, replaced, answered)
    REJECTED = 1  # ExecutionReport 39=8, OrderCancelReject, BusinessMessageReject or Reject
    USAGE = 2  # bad arguments (click's own code for usage errors)
    NOT_LOGGED_ON = 3  # could not connect / log on within --wait
    NO_ANSWER = 4  # logged on and sent, but no report for the request within --wait


#: ``--fix-version`` choices -> (BeginString, DefaultApplVerID or "").
FIX_VERSIONS: Mapping[str, tuple[str, str]] = {
    "4.2": ("FIX.4.2", ""),
    "4.4": ("FIX.4.4", ""),
    "5.0sp2": ("FIXT.1.1", "9"),
}

SIDES: Mapping[str, str] = {"buy": "1", "sell": "2"}
TIME_IN_FORCE: Mapping[str, str] = {"day": "0", "gtc": "1", "ioc": "3", "fok": "4"}

# ---- names of enumerated values, for readable lines -----------------------------------------------

EXEC_TYPE_NAMES: Mapping[str, str] = {
    "0": "New", "1": "PartialFill", "2": "Fill", "3": "DoneForDay", "4": "Canceled", "5": "Replaced",
    "6": "PendingCancel", "7": "Stopped", "8": "Rejected", "9": "Suspended", "A": "PendingNew",
    "B": "Calculated", "C": "Expired", "D": "Restated", "E": "PendingReplace", "F": "Trade",
    "G": "TradeCorrect", "H": "TradeCancel", "I": "OrderStatus",
}
ORD_STATUS_NAMES: Mapping[str, str] = {
    "0": "New", "1": "PartiallyFilled", "2": "Filled", "3": "DoneForDay", "4": "Canceled", "5": "Replaced",
    "6": "PendingCancel", "7": "Stopped", "8": "Rejected", "9": "Suspended", "A": "PendingNew",
    "B": "Calculated", "C": "Expired", "D": "AcceptedForBidding", "E": "PendingReplace",
}
ORD_REJ_REASON_NAMES: Mapping[str, str] = {
    "0": "BrokerOption", "1": "UnknownSymbol", "2": "ExchangeClosed", "3": "OrderExceedsLimit",
    "4": "TooLateToEnter", "5": "UnknownOrder", "6": "DuplicateOrder", "7": "DuplicateVerbalOrder",
    "8": "StaleOrder", "9": "TradeAlongRequired", "10": "InvalidInvestorID",
    "11": "UnsupportedOrderCharacteristic", "12": "SurveillanceOption", "13": "IncorrectQuantity",
    "14": "IncorrectAllocatedQuantity", "15": "UnknownAccount", "16": "PriceExceedsCurrentPriceBand",
    "18": "InvalidPriceIncrement", "99": "Other",
}
CXL_REJ_REASON_NAMES: Mapping[str, str] = {
    "0": "TooLateToCancel", "1": "UnknownOrder", "2": "BrokerOption", "3": "AlreadyPendingCancelOrReplace",
    "4": "UnableToProcessOrderMassCancelRequest", "5": "OrigOrdModTimeMismatch", "6": "DuplicateClOrdID",
    "7": "PriceExceedsCurrentPrice", "8": "PriceExceedsCurrentPriceBand", "18": "InvalidPriceIncrement",
    "99": "Other",
}
CXL_REJ_RESPONSE_TO_NAMES: Mapping[str, str] = {"1": "OrderCancelRequest", "2": "OrderCancelReplaceRequest"}
BUSINESS_REJECT_REASON_NAMES: Mapping[str, str] = {
    "0": "Other", "1": "UnknownID", "2": "UnknownSecurity", "3": "UnsupportedMessageType",
    "4": "ApplicationNotAvailable", "5": "ConditionallyRequiredFieldMissing", "6": "NotAuthorized",
    "7": "DeliverToFirmNotAvailable", "18": "InvalidPriceIncrement",
}
SESSION_REJECT_REASON_NAMES: Mapping[str, str] = {
    "0": "InvalidTagNumber", "1": "RequiredTagMissing", "2": "TagNotDefinedForThisMessageType",
    "3": "UndefinedTag", "4": "TagSpecifiedWithoutAValue", "5": "ValueIsIncorrect", "6": "IncorrectDataFormat",
    "7": "DecryptionProblem", "8": "SignatureProblem", "9": "CompIDProblem", "10": "SendingTimeAccuracyProblem",
    "11": "InvalidMsgType", "12": "XMLValidationError", "13": "TagAppearsMoreThanOnce",
    "14": "TagSpecifiedOutOfRequiredOrder", "15": "RepeatingGroupFieldsOutOfOrder",
    "16": "IncorrectNumInGroupCountForRepeatingGroup", "17": "NonDataValueIncludesFieldDelimiter",
    "18": "InvalidUnsupportedApplVer", "99": "Other",
}
SIDE_NAMES: Mapping[str, str] = {"1": "Buy", "2": "Sell", "5": "SellShort", "6": "SellShortExempt"}

#: MsgType -> message name, for the reports the client prints.
REPORT_TYPES: Mapping[str, str] = {
    "8": "ExecutionReport",
    "9": "OrderCancelReject",
    "j": "BusinessMessageReject",
    "3": "Reject",
}

#: (tag, FIX name, value names or None) printed for each report type, in this order; Text last.
_REPORT_FIELDS: Mapping[str, tuple[tuple[int, str, Mapping[str, str] | None], ...]] = {
    "8": (
        (11, "ClOrdID", None), (41, "OrigClOrdID", None), (37, "OrderID", None), (55, "Symbol", None),
        (54, "Side", SIDE_NAMES), (150, "ExecType", EXEC_TYPE_NAMES), (39, "OrdStatus", ORD_STATUS_NAMES),
        (103, "OrdRejReason", ORD_REJ_REASON_NAMES), (38, "OrderQty", None), (44, "Price", None),
        (32, "LastQty", None), (31, "LastPx", None), (14, "CumQty", None), (151, "LeavesQty", None),
        (6, "AvgPx", None),
    ),
    "9": (
        (11, "ClOrdID", None), (41, "OrigClOrdID", None), (37, "OrderID", None),
        (39, "OrdStatus", ORD_STATUS_NAMES), (434, "CxlRejResponseTo", CXL_REJ_RESPONSE_TO_NAMES),
        (102, "CxlRejReason", CXL_REJ_REASON_NAMES),
    ),
    "j": (
        (45, "RefSeqNum", None), (372, "RefMsgType", None), (379, "BusinessRejectRefID", None),
        (380, "BusinessRejectReason", BUSINESS_REJECT_REASON_NAMES),
    ),
    "3": (
        (45, "RefSeqNum", None), (371, "RefTagID", None), (372, "RefMsgType", None),
        (373, "SessionRejectReason", SESSION_REJECT_REASON_NAMES),
    ),
}


# ---- reports --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """One report the client received (ExecutionReport, OrderCancelReject, BusinessMessageReject
    or Reject), with the readable line and the JSON object ``fixgate order`` prints for it."""

    message: FixMessage
    session: str  # our SenderCompID (the report's TargetCompID)

    @property
    def msg_type(self) -> str:
        return self.message.msg_type

    @property
    def name(self) -> str:
        return REPORT_TYPES.get(self.msg_type, self.msg_type)

    def get(self, tag: int) -> str | None:
        """The field's text, None when absent or empty."""
        value = self.message.get(tag)
        return value if value else None

    @property
    def cl_ord_id(self) -> str | None:
        return self.get(11)

    @property
    def ord_status(self) -> str | None:
        return self.get(39)

    @property
    def exec_type(self) -> str | None:
        return self.get(150)

    @property
    def text(self) -> str | None:
        return self.get(58)

    def _named_fields(self) -> list[tuple[str, str, Mapping[str, str] | None]]:
        found = []
        for tag, name, names in _REPORT_FIELDS.get(self.msg_type, ()):
            value = self.get(tag)
            if value is not None:
                found.append((name, value, names))
        return found

    def line(self) -> str:
        """``ExecutionReport CLIENT1 ClOrdID=ORD-1 OrderID=G-17 ExecType=F(Trade) OrdStatus=2(Filled) ...``"""
        parts = [self.name, self.session]
        for name, value, names in self._named_fields():
            label = names.get(value) if names is not None else None
            parts.append(f"{name}={value}({label})" if label else f"{name}={value}")
        if self.text is not None:
            parts.append(f"Text={self.text}")
        return " ".join(parts)

    def as_json(self) -> dict[str, Any]:
        """The report as a JSON object: FIX names for fields, ``<Name>Text`` for enumerated values."""
        obj: dict[str, Any] = {"MsgType": self.msg_type, "Message": self.name, "Session": self.session}
        for name, value, names in self._named_fields():
            obj[name] = value
            if names is not None and value in names:
                obj[f"{name}Text"] = names[value]
        if self.text is not None:
            obj["Text"] = self.text
        return obj

    def json_line(self) -> str:
        return json.dumps(self.as_json(), sort_keys=False)


# ---- requests -------------------------------------------------------------------------------------


class Verdict(Enum):
    """What one related report says about the request."""

    PENDING = "pending"  # in progress (PendingNew/PendingCancel/PendingReplace): keep waiting
    RESTING = "resting"  # accepted and may still trade: stop after a quiet period
    ACCEPTED = "accepted"  # final, accepted
    REJECTED = "rejected"  # final, rejected


_FINAL_ACCEPTED_STATUSES = frozenset({"2", "3", "4", "C"})  # Filled, DoneForDay, Canceled, Expired
_RESTING_STATUSES = frozenset({"0", "1", "5", "9", "B", "D"})  # New, PartiallyFilled, Replaced, Suspended, ...


def _order_verdict(report: Report) -> Verdict:
    """Verdict of an ExecutionReport about an order (new or replaced) by its OrdStatus."""
    status = report.ord_status or ""
    if status == "8":
        return Verdict.REJECTED
    if status in _FINAL_ACCEPTED_STATUSES:
        return Verdict.ACCEPTED
    if status in _RESTING_STATUSES:
        return Verdict.RESTING
    return Verdict.PENDING


def _transact_time(now: float) -> bytes:
    return format_epoch_timestamp(now)


@dataclass(frozen=True)
class NewOrder:
    """NewOrderSingle (35=D): ``fixgate order buy|sell``.  ``price`` None = market order."""

    side: str  # "buy" | "sell"
    symbol: str
    qty: Decimal
    price: Decimal | None = None
    account: str | None = None
    tif: str = "day"
    cl_ord_id: str = ""
    ex_destination: str | None = None

    msg_type = "D"

    def to_message(self, now: float) -> FixMessage:
        fields: list[tuple[int, Any]] = []
        if self.account:
            fields.append((1, self.account))
        fields += [(11, self.cl_ord_id), (21, "1"), (38, self.qty), (40, "1" if self.price is None else "2")]
        if self.price is not None:
            fields.append((44, self.price))
        fields += [(54, SIDES[self.side]), (55, self.symbol), (59, TIME_IN_FORCE[self.tif]), (60, _transact_time(now))]
        if self.ex_destination:
            fields.append((100, self.ex_destination))
        return FixMessage.new("D", *fields)

    def verdict(self, report: Report) -> Verdict | None:
        if report.msg_type != "8" or report.cl_ord_id != self.cl_ord_id:
            return None
        return _order_verdict(report)

    def describe(self) -> str:
        what = "market" if self.price is None else f"@ {self.price}"
        return f"NewOrderSingle {self.cl_ord_id}: {self.side} {self.qty} {self.symbol} {what}"


@dataclass(frozen=True)
class CancelOrder:
    """OrderCancelRequest (35=F): ``fixgate order cancel``."""

    orig_cl_ord_id: str
    symbol: str
    side: str
    qty: Decimal | None = None
    cl_ord_id: str = ""
    account: str | None = None

    msg_type = "F"

    def to_message(self, now: float) -> FixMessage:
        fields: list[tuple[int, Any]] = []
        if self.account:
            fields.append((1, self.account))
        fields.append((11, self.cl_ord_id))
        if self.qty is not None:
            fields.append((38, self.qty))
        fields += [(41, self.orig_cl_ord_id), (54, SIDES[self.side]), (55, self.symbol), (60, _transact_time(now))]
        return FixMessage.new("F", *fields)

    def verdict(self, report: Report) -> Verdict | None:
        if report.cl_ord_id != self.cl_ord_id:
            return None
        if report.msg_type == "9":
            return Verdict.REJECTED
        if report.msg_type != "8":
            return None
        if report.exec_type == "4" or report.ord_status == "4":
            return Verdict.ACCEPTED
        if report.ord_status == "8":
            return Verdict.REJECTED
        if report.ord_status in ("2", "C", "3"):  # completed meanwhile: the cancel did not happen
            return Verdict.REJECTED
        return Verdict.PENDING

    def describe(self) -> str:
        return f"OrderCancelRequest {self.cl_ord_id} for {self.orig_cl_ord_id}"


@dataclass(frozen=True)
class ReplaceOrder:
    """OrderCancelReplaceRequest (35=G): ``fixgate order replace``.

    Always a limit order (40=2): fixgate's gateway does not let a replace change the order type;
    without ``price`` the order keeps its price.
    """

    orig_cl_ord_id: str
    symbol: str
    side: str
    qty: Decimal
    price: Decimal | None = None
    cl_ord_id: str = ""
    account: str | None = None

    msg_type = "G"

    def to_message(self, now: float) -> FixMessage:
        fields: list[tuple[int, Any]] = []
        if self.account:
            fields.append((1, self.account))
        fields += [(11, self.cl_ord_id), (21, "1"), (38, self.qty), (40, "2"), (41, self.orig_cl_ord_id)]
        if self.price is not None:
            fields.append((44, self.price))
        fields += [(54, SIDES[self.side]), (55, self.symbol), (60, _transact_time(now))]
        return FixMessage.new("G", *fields)

    def verdict(self, report: Report) -> Verdict | None:
        if report.cl_ord_id != self.cl_ord_id:
            return None
        if report.msg_type == "9":
            return Verdict.REJECTED
        if report.msg_type != "8":
            return None
        if report.ord_status == "E" or report.exec_type == "E":
            return Verdict.PENDING
        return _order_verdict(report)

    def describe(self) -> str:
        return f"OrderCancelReplaceRequest {self.cl_ord_id} for {self.orig_cl_ord_id}"


@dataclass(frozen=True)
class OrderStatus:
    """OrderStatusRequest (35=H): ``fixgate order status``; answered by one ExecutionReport."""

    cl_ord_id: str
    symbol: str
    side: str

    msg_type = "H"

    def to_message(self, now: float) -> FixMessage:
        return FixMessage.new("H", (11, self.cl_ord_id), (54, SIDES[self.side]), (55, self.symbol))

    def verdict(self, report: Report) -> Verdict | None:
        if report.msg_type != "8":
            return None
        # ExecType I (FIX.4.4+) / ExecTransType 3 (FIX.4.2) is a status answer; after a replace it
        # carries the order's current ClOrdID, so accept it whatever its 11 says.
        is_status = report.exec_type == "I" or report.get(20) == "3"
        if not is_status and report.cl_ord_id != self.cl_ord_id:
            return None
        if report.ord_status == "8" and report.get(103) == "5":  # unknown order
            return Verdict.REJECTED
        return Verdict.ACCEPTED

    def describe(self) -> str:
        return f"OrderStatusRequest for {self.cl_ord_id}"


Request = NewOrder | CancelOrder | ReplaceOrder | OrderStatus


def default_cl_ord_id(sender: str, now: float | None = None) -> str:
    """A ClOrdID unique per sender and millisecond: ``<sender>-<epoch ms>``."""
    stamp = time.time() if now is None else now
    return f"{sender}-{int(stamp * 1000)}"


# ---- settings -------------------------------------------------------------------------------------


def default_store_dir() -> Path:
    """Where sequence numbers persist between runs without ``--reset``: ``~/.fixgate/client``
    (``./.fixgate-client`` when there is no home directory).  The file store keeps one set of
    files per SessionID, so senders do not collide."""
    try:
        return Path.home() / ".fixgate" / "client"
    except RuntimeError:
        return Path.cwd() / ".fixgate-client"


@dataclass(frozen=True)
class ClientOptions:
    """How to reach and log on to the gateway (the common options of ``fixgate order``)."""

    host: str = "127.0.0.1"
    port: int = 9878
    sender: str = "CLIENT1"
    target: str = "FIXGATE"
    fix_version: str = "4.4"
    reset: bool = True  # Logon with ResetSeqNumFlag=Y (both sequence numbers back to 1)
    store_dir: Path | None = None  # file store; None = memory with reset, default_store_dir() without
    wait: float = 5.0  # seconds to log on, and then seconds to wait for the answer
    quiet: float = 0.5  # a resting order is done when no report arrives for this long
    heart_bt_int: int = 30


def client_config_text(options: ClientOptions) -> str:
    """The QuickFIX-format ``.cfg`` text of the client's one initiator session."""
    begin_string, appl_ver = FIX_VERSIONS[options.fix_version]
    store_dir = options.store_dir
    if store_dir is None and not options.reset:
        store_dir = default_store_dir()
    lines = [
        "[DEFAULT]",
        "ConnectionType=initiator",
        "NonStopSession=Y",
        f"HeartBtInt={options.heart_bt_int}",
        "ReconnectInterval=0.5",
        f"LogonTimeout={max(options.wait, 0.5)}",
        f"LogoutTimeout={min(max(options.wait, 0.5), 2.0)}",
        f"ResetOnLogon={'Y' if options.reset else 'N'}",
        # a reporting client: print what the gateway sends rather than reject what we cannot validate
        "UseDataDictionary=N",
    ]
    if store_dir is not None:
        lines.append(f"FileStorePath={store_dir}")
    lines += [
        "[SESSION]",
        f"BeginString={begin_string}",
        f"SenderCompID={options.sender}",
        f"TargetCompID={options.target}",
        f"SocketConnectHost={options.host}",
        f"SocketConnectPort={options.port}",
    ]
    if appl_ver:
        lines.append(f"DefaultApplVerID={appl_ver}")
    return "\n".join(lines) + "\n"


def client_settings(options: ClientOptions) -> SessionSettings:
    return parse_config(client_config_text(options), "fixgate-order.cfg").sessions[0]


# ---- the run --------------------------------------------------------------------------------------


@dataclass
class OrderResult:
    """What :func:`run_order` found: the reports in arrival order and the exit status."""

    status: ExitStatus
    reports: list[Report] = field(default_factory=list)
    message: str = ""  # why, when the status is NOT_LOGGED_ON or NO_ANSWER
    sent: FixMessage | None = None  # the request as handed to the session (MsgSeqNum set)


def describe_failure(reason: BaseException | None) -> str:
    """A short, lower-case reason for a failed connection attempt."""
    from twisted.internet import error

    if reason is None:
        return "no connection attempt finished"
    if isinstance(reason, error.ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, error.TimeoutError | error.TCPTimedOutError):
        return "connection timed out"
    if isinstance(reason, error.DNSLookupError):
        return "host name not found"
    if isinstance(reason, error.NoRouteError):
        return "no route to host"
    text = str(reason).strip().rstrip(".")
    return text or type(reason).__name__


class _WatchedEndpoint:
    """Wraps a client endpoint to remember the last connection failure and whether one succeeded."""

    def __init__(self, endpoint: Any, watcher: _OrderClient) -> None:
        self.endpoint = endpoint
        self.watcher = watcher

    def connect(self, protocol_factory: object) -> defer.Deferred[object]:
        from twisted.internet import defer

        d: defer.Deferred[object] = self.endpoint.connect(protocol_factory)

        def connected(protocol: object) -> object:
            self.watcher.connections += 1
            return protocol

        def failed(failure: Failure) -> Failure:
            if not failure.check(defer.CancelledError):
                self.watcher.last_failure = failure.value
            return failure

        return d.addCallbacks(connected, failed)


class _OrderClient(Application):
    """The client's FIX Application: sends the request on logon, classifies what comes back."""

    def __init__(
        self,
        request: Request,
        options: ClientOptions,
        reactor: Any,
        on_report: Callable[[Report], None] | None,
    ) -> None:
        from twisted.internet import defer

        from fix_engine.transport.host import SessionRegistry

        self.request = request
        self.options = options
        self.reactor = reactor
        self.on_report = on_report
        self.registry = SessionRegistry()
        self.service: InitiatorService | None = None
        self.reports: list[Report] = []
        self.connections = 0
        self.last_failure: BaseException | None = None
        self.logout_text: str | None = None
        self.logged_on: defer.Deferred[None] = defer.Deferred()
        self.answered: defer.Deferred[ExitStatus] = defer.Deferred()
        self.sent: FixMessage | None = None
        self.sent_seq: int | None = None
        self.accepted_so_far = False
        self.status: ExitStatus | None = None
        self._quiet_call: Any = None  # IDelayedCall

    # ---- Application callbacks
    def on_logon(self, session_id: SessionID) -> None:
        # outside the session's own processing: the request goes out on the next reactor turn
        self.reactor.callLater(0, self._fire_logged_on)

    def _fire_logged_on(self) -> None:
        if not self.logged_on.called:
            self.logged_on.callback(None)

    def from_admin(self, message: FixMessage, session_id: SessionID) -> None:
        msg_type = message.msg_type
        if msg_type == "5":
            text = message.get(58)
            if text:
                self.logout_text = text
        elif msg_type == "3":
            self._received(message, session_id)

    def from_app(self, message: FixMessage, session_id: SessionID) -> None:
        if message.msg_type in REPORT_TYPES:
            self._received(message, session_id)
        # anything else (news, market data) is not ours to answer: ignore it quietly

    # ---- the request
    def endpoint(self, settings: SessionSettings, host: str, port: int) -> _WatchedEndpoint:
        from twisted.internet import endpoints

        timeout = max(1, int(self.options.wait + 0.999))
        return _WatchedEndpoint(endpoints.TCP4ClientEndpoint(self.reactor, host, port, timeout=timeout), self)

    def send_request(self) -> None:
        assert self.service is not None
        host = self.service.sessions[0].host
        message = self.request.to_message(self.reactor.seconds())
        self.sent_seq = host.session.next_sender_seq_num
        host.send(message)
        self.sent = message

    def _received(self, message: FixMessage, session_id: SessionID) -> None:
        report = Report(message, message.get(56) or session_id.sender_comp_id)
        self.reports.append(report)
        if self.on_report is not None:
            self.on_report(report)
        if self.sent is None or self.answered.called:
            return
        verdict = self._verdict(report)
        if verdict is None:
            return
        if verdict is Verdict.REJECTED:
            self._answer(ExitStatus.REJECTED)
        elif verdict is Verdict.ACCEPTED:
            self._answer(ExitStatus.ACCEPTED)
        elif verdict is Verdict.RESTING:
            self.accepted_so_far = True
            self._cancel_quiet()
            self._quiet_call = self.reactor.callLater(self.options.quiet, self._answer, ExitStatus.ACCEPTED)
        else:
            self._cancel_quiet()

    def _verdict(self, report: Report) -> Verdict | None:
        if report.msg_type == "3":
            return Verdict.REJECTED if report.get(45) == str(self.sent_seq) else None
        if report.msg_type == "j":
            refs_us = report.get(45) == str(self.sent_seq) or (
                report.get(379) is not None and report.get(379) == getattr(self.request, "cl_ord_id", None)
            )
            return Verdict.REJECTED if refs_us else None
        return self.request.verdict(report)

    def _cancel_quiet(self) -> None:
        if self._quiet_call is not None and self._quiet_call.active():
            self._quiet_call.cancel()
        self._quiet_call = None

    def _answer(self, status: ExitStatus) -> None:
        self._cancel_quiet()
        if not self.answered.called:
            self.status = status
            self.answered.callback(status)

    def logon_failure_text(self) -> str:
        o = self.options
        where = f"could not log on to {o.host}:{o.port} as {o.sender} within {o.wait:g}s"
        if self.logout_text:
            return f"{where}: {self.logout_text}"
        if self.connections:
            return f"{where}: connected, but the logon was not answered (is {o.sender} -> {o.target} configured there?)"
        return f"{where}: {describe_failure(self.last_failure)}"


def _deadline(reactor: Any, d: defer.Deferred[Any], seconds: float) -> defer.Deferred[bool]:
    """Fires True when ``d`` fires first, False when ``seconds`` pass first (``d`` is not cancelled)."""
    from twisted.internet import defer

    result: defer.Deferred[bool] = defer.Deferred()

    def expire() -> None:
        if not result.called:
            result.callback(False)

    call = reactor.callLater(seconds, expire)

    def fired(value: object) -> object:
        if call.active():
            call.cancel()
        if not result.called:
            result.callback(True)
        return value

    d.addBoth(fired)
    return result


async def run_order(
    request: Request,
    options: ClientOptions,
    *,
    reactor: Any = None,
    on_report: Callable[[Report], None] | None = None,
) -> OrderResult:
    """Log on, send ``request`` once, collect the reports until it is answered or ``options.wait``
    passes, log out.  ``on_report`` is called for each report as it arrives (for printing)."""
    from twisted.internet import defer

    from fix_engine.transport.initiator import InitiatorService
    from fix_engine.transport.session_builder import SessionBuilder

    if reactor is None:
        from twisted.internet import reactor as global_reactor

        reactor = global_reactor
    client = _OrderClient(request, options, reactor, on_report)
    settings = client_settings(options)
    builder = SessionBuilder(client)
    service = InitiatorService(
        [settings], builder, reactor, registry=client.registry, endpoint_factory=client.endpoint
    )
    client.service = service
    service.startService()
    try:
        if not await _deadline(reactor, client.logged_on, options.wait):
            return OrderResult(ExitStatus.NOT_LOGGED_ON, client.reports, client.logon_failure_text())
        client.send_request()
        if await _deadline(reactor, client.answered, options.wait) and client.status is not None:
            status, message = client.status, ""
        elif client.accepted_so_far:
            status, message = ExitStatus.ACCEPTED, ""
        else:
            status = ExitStatus.NO_ANSWER
            message = f"no answer to {request.describe()} within {options.wait:g}s"
        return OrderResult(status, client.reports, message, client.sent)
    finally:
        client._cancel_quiet()
        await defer.maybeDeferred(service.stopService)
        for session in service.sessions:
            session.host.session.store.close()
        builder.close()
