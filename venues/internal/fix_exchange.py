"""FixExchange: the internal venue exposed as a FIX exchange (the acceptor's Application).

Every client session is an *owner* on the venue (``owner = str(session_id)``): its ClOrdIDs are
unique per session, it can only cancel, replace and query its own orders, and its orders can be
cancelled when it disconnects.

Messages served (anything else gets a BusinessMessageReject):

==========================  ======================================================================
NewOrderSingle (D)          venue ``submit``; every outcome is an ExecutionReport (8)
OrderCancelRequest (F)      venue ``cancel``; refused -> OrderCancelReject (9), CxlRejResponseTo 1
OrderCancelReplace (G)      venue ``replace``; refused -> OrderCancelReject (9), CxlRejResponseTo 2 (also
                            when it asks for another OrdType or TimeInForce: only qty and prices change)
OrderStatusRequest (H)      ExecutionReport ExecType=I (unknown order: OrdStatus 8, OrderID NONE)
OrderMassCancelRequest (q)  OrderMassCancelReport (r); 530=1 one symbol, 7 all of the session's orders
OrderMassStatusRequest (AF) one ExecType=I report per working order, LastRptRequested=Y on the last
SecurityListRequest (x)     SecurityList (y) of every instrument (559=0 with Symbol: that one)
SecurityDefinitionReq (c)   SecurityDefinition (d)
MarketDataRequest (V)       :mod:`venues.internal.fix_market_data` (W, X, Y, f)
==========================  ======================================================================

Per-session options (application keys of the session's ``[SESSION]`` block, see
:class:`SessionOptions`): ``CancelOnDisconnect=Y`` cancels the session's orders when it logs out
or its connection drops (``CancelOnDisconnectScope=day`` - the default - only DAY orders, ``all``
every order), with ExecRestatementReason 12/13 in the versions that have them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from twisted.python import log as twisted_log

from fix_engine.application import Application, UnsupportedMessageType
from fix_engine.codec.message import FixMessage
from fix_engine.session.session_id import SessionID
from venues import base

from . import fix_translate as tr
from .fix_market_data import MarketDataService

if TYPE_CHECKING:
    from fix_engine.config import SessionConfig
    from fix_engine.session.settings import SessionSettings
    from fix_engine.transport.host import SessionRegistry


@dataclass(frozen=True, slots=True)
class SessionOptions:
    """What a client session asked for in its ``[SESSION]`` block."""

    cancel_on_disconnect: bool = False
    #: True: cancel only DAY orders on disconnect (``CancelOnDisconnectScope=day``); False: all
    day_only: bool = True

    @classmethod
    def from_extra(cls, extra: Mapping[str, str]) -> SessionOptions:
        """From ``SessionSettings.extra`` (already validated by :func:`read_session_options`)."""
        return cls(
            cancel_on_disconnect=extra.get("CancelOnDisconnect", "N").strip().upper() == "Y",
            day_only=extra.get("CancelOnDisconnectScope", "day").strip().lower() != "all",
        )


def read_session_options(config: SessionConfig, settings: SessionSettings) -> SessionOptions:
    """Validate a session's options; a bad value raises ``ConfigError`` naming ``file:line: Key``."""
    cod = config.get_bool(settings, "CancelOnDisconnect", False)
    entry = config.entry(settings, "CancelOnDisconnectScope")
    day_only = True
    if entry is not None:
        scope = entry.value.strip().lower()
        if scope not in ("day", "all"):
            raise entry.error(f"{entry.value!r} is not 'day' or 'all'")
        day_only = scope == "day"
    return SessionOptions(bool(cod), day_only)


class FixExchange(Application):
    """The venue's FIX front: client messages -> venue requests, venue events -> FIX reports.

    ``venue`` is an :class:`~venues.internal.venue.InternalVenue` (or anything with its API);
    ``registry`` the acceptor's session registry; ``clock`` has ``seconds()`` and ``callLater``
    (the reactor, or ``twisted.internet.task.Clock`` in tests); ``backlogged(session_id)``
    overrides how a slow market data subscriber is detected.
    """

    def __init__(
        self,
        venue: Any,
        registry: SessionRegistry,
        clock: Any,
        *,
        clock_ns: Callable[[], int] | None = None,
        backlogged: Callable[[SessionID], bool] | None = None,
    ) -> None:
        self.venue = venue
        self.registry = registry
        self.clock = clock
        self._clock_ns = clock_ns or (lambda: int(clock.seconds() * 1_000_000_000))
        self._sessions: dict[str, SessionID] = {}
        self._versions: dict[SessionID, tr.FixVersion] = {}
        # SessionID hashing and str() run Python code: the hot paths look sessions up by the
        # identity of the SessionID object the session passes (inbound; the entry holds that object,
        # so its id cannot be reused while cached) and by owner string (outbound)
        self._inbound: dict[int, tuple[SessionID, str, tr.FixVersion]] = {}
        self._routes: dict[str, tuple[SessionID, tr.FixVersion]] = {}
        self._mass_cancel_types: dict[tuple[str, str], str] = {}
        self.ids = tr.IdSource(self._clock_ns())
        self.orders = tr.OrderCache(self._lookup_order)
        self.market_data = MarketDataService(
            venue, self._send, backlogged or self._is_backlogged, clock.callLater, self._clock_ns,
        )
        venue.subscribe(self.on_venue_event)
        self._has_order: Callable[[str, str], bool] | None = getattr(venue, "has_order", None)
        #: hosts looked up during one group commit (the registry cannot change inside it)
        self._hosts: dict[int, tuple[SessionID, Any]] | None = None
        #: the sessions' output groups of the group commit in progress (None outside one)
        self._batches: ExitStack | None = None
        self._group_commit = bool(getattr(venue, "group_commit", False))
        if self._group_commit and hasattr(venue, "background_snapshots"):
            venue.background_snapshots = True  # snapshots between reactor batches, written by a thread
        self._commit_scheduled = False
        self._handlers: dict[str, Callable[[FixMessage, SessionID, str, tr.FixVersion], None]] = {
            "D": self._new_order,
            "F": self._cancel,
            "G": self._replace,
            "H": self._status,
            "q": self._mass_cancel,
            "AF": self._mass_status,
            "x": self._security_list,
            "c": self._security_definition,
            "V": self._market_data,
        }
        self._handlers_raw = {k.encode(): v for k, v in self._handlers.items()}

    # ------------------------------------------------------------------ Application

    def on_create(self, session_id: SessionID) -> None:
        owner = str(session_id)
        version = tr.FixVersion.of(session_id.begin_string)
        self._sessions[owner] = session_id
        self._versions[session_id] = version
        self._routes[owner] = (session_id, version)
        self._inbound[id(session_id)] = (session_id, owner, version)

    def on_destroy(self, session_id: SessionID) -> None:
        owner = str(session_id)
        self._sessions.pop(owner, None)
        self._versions.pop(session_id, None)
        self._routes.pop(owner, None)
        for key in [k for k, entry in self._inbound.items() if entry[0] == session_id]:
            del self._inbound[key]  # keyed by the id() of whichever equal SessionID object came in

    def on_logon(self, session_id: SessionID) -> None:
        self.on_create(session_id)

    def on_logout(self, session_id: SessionID) -> None:
        self.market_data.drop_session(session_id)
        options = self.options(session_id)
        if options.cancel_on_disconnect:
            cancelled = self.venue.owner_disconnected(str(session_id), day_only=options.day_only)
            host = self.registry.get(session_id)
            if host is not None and cancelled:
                host.event(f"Cancel on disconnect: {cancelled} order(s) cancelled")

    def from_app(self, message: FixMessage, session_id: SessionID) -> None:
        handler = self._handlers_raw.get(message.get_raw(35))  # type: ignore[arg-type]
        if handler is None:
            raise UnsupportedMessageType()
        entry = self._inbound.get(id(session_id))
        if entry is None or entry[0] is not session_id:
            if session_id not in self._versions:
                self.on_create(session_id)
            entry = (session_id, str(session_id), self._versions[session_id])
            if len(self._inbound) >= 1024:
                self._inbound.clear()  # callers that build a new SessionID per message
            self._inbound[id(session_id)] = entry
        handler(message, session_id, entry[1], entry[2])
        if self._group_commit and not self._commit_scheduled:
            # group commit per reactor batch: the journal is flushed once, after every message of
            # this batch of received data, and only then do the held acks go out
            self._commit_scheduled = True
            self.clock.callLater(0, self._commit_batch)

    def _commit_batch(self) -> None:
        self._commit_scheduled = False
        self._hosts = {}  # one registry lookup per session per batch
        # every session's reports of the batch go out as one group: one store write, one socket write
        self._batches = ExitStack()
        try:
            with self._batches:
                self.venue.commit()
        finally:
            self._hosts = None
            self._batches = None

    def options(self, session_id: SessionID) -> SessionOptions:
        host = self.registry.get(session_id)
        if host is None:
            return SessionOptions()
        return SessionOptions.from_extra(host.session.settings.extra)

    # ------------------------------------------------------------------ client messages

    def _new_order(self, msg: FixMessage, sid: SessionID, owner: str, version: tr.FixVersion) -> None:
        try:
            request = tr.new_order(msg, owner)
        except tr.OrderRefused as refused:
            self._refuse(msg, sid, version, refused.reason, refused.text)
            return
        if self._known_cl_ord_id(owner, request.cl_ord_id):
            # the venue refuses a ClOrdID of a live order; the FIX front also one used earlier today
            self._refuse(msg, sid, version, base.RejectReason.DUPLICATE_ORDER, f"Duplicate ClOrdID {request.cl_ord_id}")
            return
        if request.account:
            self.orders.note_account(owner, request.cl_ord_id, request.account)
        self.venue.submit(request)

    def _known_cl_ord_id(self, owner: str, cl_ord_id: str) -> bool:
        has = self._has_order
        if has is not None:
            return bool(has(owner, cl_ord_id))
        return self.venue.order_status(owner, cl_ord_id=cl_ord_id) is not None

    def _refuse(self, msg: FixMessage, sid: SessionID, version: tr.FixVersion, reason: base.RejectReason, text: str) -> None:
        self._send(tr.local_reject(msg.get(11) or "", msg.get(55) or "", msg.get(54) or "", reason, text,
                                   self.ids.next(), self._clock_ns(), version), sid)

    def _cancel(self, msg: FixMessage, sid: SessionID, owner: str, version: tr.FixVersion) -> None:
        self.venue.cancel(tr.cancel_request(msg, owner))

    def _replace(self, msg: FixMessage, sid: SessionID, owner: str, version: tr.FixVersion) -> None:
        request = tr.replace_request(msg, owner)
        view = self.venue.order_status(owner, cl_ord_id=request.orig_cl_ord_id or None,
                                       order_id=request.order_id or None)
        text = tr.replace_change_refused(msg, view) if view is not None and view.is_working else None
        if text is not None:  # the venue would keep the order type / TIF and answer Replaced
            refused = base.CancelRejected(self._clock_ns(), request.symbol, view.order_id, owner, request.cl_ord_id,
                                          request.orig_cl_ord_id, base.CancelRejectResponseTo.REPLACE,
                                          base.CancelRejectReason.INVALID_CHANGE, text)
            self._send(tr.cancel_reject(refused, self.orders.get(view.order_id, owner), version), sid)
            return
        self.venue.replace(request)

    def _status(self, msg: FixMessage, sid: SessionID, owner: str, version: tr.FixVersion) -> None:
        query = tr.status_query(msg)
        view = self.venue.order_status(owner, cl_ord_id=query.cl_ord_id or None, order_id=query.order_id or None)
        now = self._clock_ns()
        if view is None:
            report = tr.unknown_order_status(query, self.ids.next(), version, ts_ns=now)
        else:
            report = tr.status_report(view, self.ids.next(), version, ts_ns=now, ord_status_req_id=query.ord_status_req_id)
        self._send(report, sid)

    def _mass_cancel(self, msg: FixMessage, sid: SessionID, owner: str, version: tr.FixVersion) -> None:
        query = tr.mass_cancel_request(msg, owner)
        if query.request is None:
            refused = base.MassCancelled(self._clock_ns(), owner, query.cl_ord_id, query.symbol, 0,
                                         base.CancelReason.MASS_CANCEL,
                                         f"Unsupported MassCancelRequestType {query.request_type}")
            self._send(tr.mass_cancel_report(refused, query.request_type, version), sid)
            return
        self._mass_cancel_types[(owner, query.cl_ord_id)] = query.request_type
        self.venue.mass_cancel(query.request)

    def _mass_status(self, msg: FixMessage, sid: SessionID, owner: str, version: tr.FixVersion) -> None:
        query = tr.mass_status_query(msg)
        views = self.venue.working_orders(owner=owner, symbol=query.symbol)
        now = self._clock_ns()
        if not views:
            self._send(tr.unknown_order_status(None, self.ids.next(), version, ts_ns=now, symbol=query.symbol or "",
                                               mass_status_req_id=query.mass_status_req_id, text="No working orders"), sid)
            return
        for i, view in enumerate(views, 1):
            self._send(tr.status_report(view, self.ids.next(), version, ts_ns=now,
                                        mass_status_req_id=query.mass_status_req_id, last=i == len(views)), sid)

    def _security_list(self, msg: FixMessage, sid: SessionID, owner: str, version: tr.FixVersion) -> None:
        req_id = msg.get(320) or ""
        specs = list(self.venue.instruments())
        symbol = msg.get(55)
        if msg.get(559) == "0" and symbol:
            specs = [s for s in specs if s.symbol == symbol]
            if not specs:
                self._send(tr.security_list_refused(req_id, self.ids.next(), 2, f"Unknown symbol {symbol}"), sid)
                return
        self._send(tr.security_list(req_id, self.ids.next(), specs, version), sid)

    def _security_definition(self, msg: FixMessage, sid: SessionID, owner: str, version: tr.FixVersion) -> None:
        symbol = msg.get(55) or ""
        spec = next((s for s in self.venue.instruments() if s.symbol == symbol), None)
        self._send(tr.security_definition(msg.get(320) or "", self.ids.next(), spec, symbol, version), sid)

    def _market_data(self, msg: FixMessage, sid: SessionID, owner: str, version: tr.FixVersion) -> None:
        self.market_data.handle_request(msg, sid, version)

    # ------------------------------------------------------------------ venue events

    def on_venue_event(self, event: base.VenueEvent) -> None:
        """Listener of the venue: order events become reports to the owning session."""
        kind = type(event)
        if kind is base.PhaseChanged or kind is base.IndicativePrice:
            return  # published through market data (SecurityStatus, W/X)
        if kind is base.MassCancelled:
            e: Any = event
            sid = self._sessions.get(e.requester)
            request_type = self._mass_cancel_types.pop((e.requester, e.cl_ord_id), "7" if e.symbol is None else "1")
            if sid is not None and e.reason is base.CancelReason.MASS_CANCEL:
                self._send(tr.mass_cancel_report(e, request_type, self._versions[sid]), sid)
            return
        state = self.orders.apply(event)
        route = self._routes.get(event.owner)  # type: ignore[union-attr]
        if route is None:
            return  # an owner that is not a FIX session of this process (admin, broker, ...)
        sid, version = route
        if kind is base.CancelRejected:
            message = tr.cancel_reject(event, state, version)  # type: ignore[arg-type]
        else:
            message = tr.execution_report(event, state, version)  # type: ignore[arg-type]
        self._send(message, sid)

    def _lookup_order(self, order_id: str, owner: str) -> Any:
        return self.venue.order_status(owner, order_id=order_id) if owner else None

    # ------------------------------------------------------------------ output

    def _send(self, message: FixMessage, session_id: SessionID) -> None:
        hosts = self._hosts
        if hosts is None:
            host = self.registry.get(session_id)
        else:
            entry = hosts.get(id(session_id))  # by identity (the entry keeps the object, so the id is its own)
            if entry is None or entry[0] is not session_id:
                entry = hosts[id(session_id)] = (session_id, self.registry.get(session_id))
                if entry[1] is not None and self._batches is not None:
                    self._batches.enter_context(entry[1].batched())
            host = entry[1]
        if host is None:
            twisted_log.msg(f"fixgate venue: no session {session_id} for a {message.msg_type} report")
            return
        host.send(message)

    def _is_backlogged(self, session_id: SessionID) -> bool:
        """A session whose connection is paused by TCP back-pressure (or gone, or closing)."""
        host = self.registry.get(session_id)
        protocol = None if host is None else host.protocol
        if protocol is None or protocol.closing:
            return True
        return bool(getattr(protocol, "_paused", False))
