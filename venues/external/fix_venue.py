"""FixVenue: a :class:`~venues.base.Venue` backed by a FIX initiator session to a third-party exchange.

Composition (the gateway does this; :func:`venues.external.service.external_initiator` is the
short form)::

    venue = FixVenue(settings, registry)            # settings: the initiator SessionSettings
    service = InitiatorService([settings], SessionBuilder(venue.application), reactor, registry=registry)

Requests are translated (:mod:`.translate`, with the session's :mod:`.dialect`) and sent with
``SessionRegistry.send_to_target`` under the broker's own ClOrdIDs (:mod:`.ids`); reports coming
back are mapped to the client's ids and turned into events by :mod:`.lifecycle`.

While the exchange session is not logged on nothing is queued: a new order is answered at once
with :class:`~venues.base.Rejected` (EXCHANGE_CLOSED, "venue <name> is not connected"), a cancel or
replace with :class:`~venues.base.CancelRejected`, a mass cancel with a refused
:class:`~venues.base.MassCancelled`.

After every logon the venue reconciles: the session layer already asks the exchange to resend
what we missed (those ExecutionReports come back with PossDupFlag=Y), and when the dialect says
the exchange answers OrderMassStatusRequest (``DialectOrderMassStatus=Y``) an AF for all orders
goes out on the next reactor turn.  The lifecycle rules make every missed fill, cancel, expiry or
replace reach the listeners exactly once, whichever way it arrives.

Restarts: the venue journals its child orders (:mod:`.journal`, records in :mod:`.records`).  A
new child order is journaled before its NewOrderSingle goes out, a cancel or replace before its
request, and what an exchange report changed (order state, ExecIDs acted on, fills) before the
events reach the listeners.  A FixVenue built on an existing journal rebuilds its order table and
the ExecIDs it acted on, continues its ClOrdID counter past the journaled ids, and after logon
reconciles as after any reconnect: the exchange's resent reports and the OrderMassStatusRequest
answers of a previous run's orders map back to the client's orders, and none is applied twice.
:attr:`FixVenue.journaled_fills` lists the fills of earlier runs for the gateway's recovery
(booking is idempotent on ExecID, so it can book those it lacks).  Without a journal argument the
venue journals in memory (nothing survives the process).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from twisted.python import log as twisted_log

from fix_engine.application import Application, IncorrectDataFormat
from fix_engine.codec.errors import FieldValueError
from fix_engine.codec.message import FixMessage
from fix_engine.session.session_id import SessionID
from fix_engine.session.settings import SessionSettings
from fix_engine.transport.host import SessionRegistry
from venues.base import (
    CancelReason,
    CancelRejected,
    CancelRejectReason,
    CancelRejectResponseTo,
    CancelRequest,
    Fill,
    MassCancelled,
    MassCancelRequest,
    OrderRequest,
    Rejected,
    RejectReason,
    ReplaceRequest,
    Venue,
    VenueListener,
)

from .dialect import Dialect
from .events import ExternalEvent
from .ids import ClOrdIdGenerator, prefix_from_time
from .journal import ChildOrderJournal, MemoryChildOrderJournal
from .lifecycle import OrderLifecycle
from .orders import ChangeKind, ChildOrder, PendingChange
from .records import RebuiltState, change_record, new_record, order_key, order_snapshot, rebuild, step_record
from .translate import (
    FixVersion,
    new_order_single,
    order_cancel_replace_request,
    order_cancel_request,
    order_mass_cancel_request,
    order_mass_status_request,
    parse_business_reject,
    parse_cancel_reject,
    parse_execution_report,
    parse_mass_cancel_report,
    transact_time,
)

if TYPE_CHECKING:
    from twisted.internet.interfaces import IReactorTime

ConnectionListener = Callable[[bool], None]
CustomFieldsListener = Callable[[ExternalEvent, Mapping[int, str]], None]

#: How many of our recent MsgSeqNums are remembered to resolve a Reject's RefSeqNum(45).
SENT_MEMORY = 10_000


class FixVenue(Venue):
    """A venue whose orders execute at an external exchange over one FIX initiator session.

    ``name`` defaults to the session's ``VenueName`` key, else its TargetCompID.  ``clock`` stamps
    TransactTime and event times and schedules reconciliation (the reactor by default);
    ``cl_ord_id_prefix`` defaults to the start time in base 36.  ``journal`` is the child-order
    journal the venue rebuilds from and appends to (:mod:`.journal`; default: in memory).  The
    venue does not close it: whoever opened it does, after the session stopped.
    """

    def __init__(
        self,
        settings: SessionSettings,
        registry: SessionRegistry,
        *,
        name: str | None = None,
        dialect: Dialect | None = None,
        clock: IReactorTime | None = None,
        cl_ord_id_prefix: str | None = None,
        journal: ChildOrderJournal | None = None,
    ) -> None:
        if clock is None:
            from twisted.internet import reactor

            clock = reactor  # type: ignore[assignment]
        self._clock: Any = cast(Any, clock)  # an IReactorTime (zope interfaces confuse mypy)
        self.settings = settings
        self.session_id: SessionID = settings.session_id
        self._registry = registry
        self._name = name or settings.extra.get("VenueName") or settings.session_id.target_comp_id
        self.dialect = dialect if dialect is not None else Dialect.from_settings(settings.extra)
        self.version = FixVersion.of_session(self.session_id.begin_string, settings.default_appl_ver_name)
        self._ids = ClOrdIdGenerator(cl_ord_id_prefix or prefix_from_time(self._clock.seconds()))
        self.journal: ChildOrderJournal = journal if journal is not None else MemoryChildOrderJournal()
        state = self._load()
        self._ids.advance_past(state.issued_ids)
        self._earlier_requests = set(state.mass_status_requests)
        #: Fills the journal held when the venue was built (earlier runs), for the gateway's recovery
        self.journaled_fills: list[Fill] = state.fills
        if state.records:
            open_count = len(self._snapshots)
            twisted_log.msg(f"fixgate: venue {self._name}: child-order journal replayed ({state.records} records, "
                            f"{open_count} open order(s), {len(state.seen_exec_ids)} ExecIDs)")
        self._listeners: list[VenueListener] = []
        self._connection_listeners: list[ConnectionListener] = []
        self._custom_listeners: list[CustomFieldsListener] = []
        self._mass_cancels: dict[str, MassCancelRequest] = {}
        self._sent: dict[int, tuple[str, str]] = {}  # MsgSeqNum -> (MsgType, our ClOrdID)
        self._reconcile_call: Any = None  # IDelayedCall of the pending reconcile
        self.mass_status_requests: list[str] = []  #: MassStatusReqIDs sent (for operators and tests)
        self.application = VenueApplication(self)

    # ------------------------------------------------------------------ Venue
    @property
    def name(self) -> str:
        return self._name

    def subscribe(self, listener: VenueListener) -> None:
        self._listeners.append(listener)

    @property
    def connected(self) -> bool:
        """The exchange session is logged on (orders can go out now)."""
        host = self._registry.get(self.session_id)
        return host is not None and host.connected and host.session.is_logged_on

    def on_connection_change(self, listener: ConnectionListener) -> None:
        """Call ``listener(True)`` after each logon and ``listener(False)`` after each logout."""
        self._connection_listeners.append(listener)

    def on_custom_fields(self, listener: CustomFieldsListener) -> None:
        """Call ``listener(event, fields)`` when a report carried ``DialectPassThroughTags`` fields."""
        self._custom_listeners.append(listener)

    def submit(self, request: OrderRequest) -> None:
        now = self._now_ns()
        if not self.connected:
            self._emit(self._refused(request, RejectReason.EXCHANGE_CLOSED, self._not_connected_text(), now))
            return
        if self.orders.has_client_id(request.owner, request.cl_ord_id):
            self._emit(self._refused(request, RejectReason.DUPLICATE_ORDER, f"duplicate ClOrdID {request.cl_ord_id}", now))
            return
        cl_ord_id = self._ids.next()
        child = ChildOrder(request, cl_ord_id, request.cl_ord_id)
        if not self._journal(new_record(child), now):
            self._emit(self._refused(request, RejectReason.EXCHANGE_CLOSED, self._journal_failed_text(), now))
            return
        self.orders.add(child)
        self._snapshots[cl_ord_id] = order_snapshot(child, self.orders)
        self._send(new_order_single(request, cl_ord_id, self._transact_time(), self.version, self.dialect), cl_ord_id)

    def cancel(self, request: CancelRequest) -> None:
        order = self._order_for(request.owner, request.orig_cl_ord_id, request.order_id)
        refusal = self._change_refusal(order)
        if refusal is not None:
            self._emit(self._cancel_refused(request, order, CancelRejectResponseTo.CANCEL, *refusal))
            return
        assert order is not None
        if not self._send_cancel(order, request.cl_ord_id, request.orig_cl_ord_id or order.client_cl_ord_id):
            self._emit(self._cancel_refused(request, order, CancelRejectResponseTo.CANCEL,
                                            CancelRejectReason.EXCHANGE_CLOSED, self._journal_failed_text()))

    def replace(self, request: ReplaceRequest) -> None:
        order = self._order_for(request.owner, request.orig_cl_ord_id, request.order_id)
        refusal = self._change_refusal(order)
        if refusal is None and order is not None and (request.side is not order.side or request.symbol != order.symbol):
            refusal = (CancelRejectReason.INVALID_CHANGE, "side and symbol cannot be replaced")
        if refusal is not None:
            self._emit(self._cancel_refused(request, order, CancelRejectResponseTo.REPLACE, *refusal))
            return
        assert order is not None
        cl_ord_id = self._ids.next()
        change = PendingChange(
            ChangeKind.REPLACE, cl_ord_id, request.cl_ord_id, request.orig_cl_ord_id or order.client_cl_ord_id,
            order, request.qty, request.price, request.stop_px,
        )
        if not self._journal(change_record(change), self._now_ns()):
            self._emit(self._cancel_refused(request, order, CancelRejectResponseTo.REPLACE,
                                            CancelRejectReason.EXCHANGE_CLOSED, self._journal_failed_text()))
            return
        self.orders.pending[cl_ord_id] = change
        self._remember(order)
        message = order_cancel_replace_request(
            request, cl_ord_id, order.cl_ord_id, order.order_id, order.ord_type, order.tif,
            self._transact_time(), self.version, self.dialect, account=order.account,
        )
        self._send(message, cl_ord_id)

    def mass_cancel(self, request: MassCancelRequest) -> None:
        """Owner/account filters (or an exchange without q) fan out to one F per matching order,
        and MassCancelled then counts the cancels requested; otherwise one q goes out and
        MassCancelled reports the exchange's TotalAffectedOrders when its 35=r arrives."""
        now = self._now_ns()
        if not self.connected:
            self._emit(MassCancelled(now, request.requester, request.cl_ord_id, request.symbol, 0, request.reason,
                                     self._not_connected_text()))
            return
        targets = [
            o for o in self.orders.open_orders()
            if (request.symbol is None or o.symbol == request.symbol)
            and (request.owner is None or o.owner == request.owner)
            and (request.account is None or o.account == request.account)
        ]
        native = self.version.has_mass_messages and self.dialect.order_mass_cancel
        if request.owner is not None or request.account is not None or not native:
            sent = sum(1 for order in targets if self._send_cancel(order, order.client_cl_ord_id, "", request.reason))
            self._emit(MassCancelled(now, request.requester, request.cl_ord_id, request.symbol, sent, request.reason))
            return
        for order in targets:
            order.mass_cancel_requested = True
        cl_ord_id = self._ids.next()
        self._journal(step_record("mc", [self._remember(o) for o in targets], cl=cl_ord_id), now)
        self._mass_cancels[cl_ord_id] = request
        self._send(order_mass_cancel_request(cl_ord_id, request.symbol, self._transact_time(), self.dialect), cl_ord_id)

    def reconcile(self) -> bool:
        """Ask the exchange for the status of every order (AF) when the dialect supports it.

        Returns whether a request went out.  Called by itself after each logon.
        """
        self._reconcile_call = None
        if not self.connected or not (self.dialect.order_mass_status and self.version.has_mass_messages):
            return False
        if not any(True for _ in self.orders.open_orders()):
            return False
        req_id = self._ids.next()
        self._journal({"t": "ms", "cl": req_id}, self._now_ns())
        self.mass_status_requests.append(req_id)
        self._send(order_mass_status_request(req_id, dialect=self.dialect), req_id)
        return True

    # ------------------------------------------------------------------ from the session
    def _on_logon(self) -> None:
        self._notify_connection(True)
        if self._reconcile_call is None:
            # next reactor turn: the logon's own ResendRequest must reach the wire first
            self._reconcile_call = self._clock.callLater(0, self.reconcile)

    def _on_logout(self) -> None:
        if self._reconcile_call is not None and self._reconcile_call.active():
            self._reconcile_call.cancel()
        self._reconcile_call = None
        self._notify_connection(False)

    def _on_app_message(self, message: FixMessage) -> None:
        msg_type = message.msg_type
        now = self._now_ns()
        try:
            if msg_type == "8":
                report = parse_execution_report(message, self.version, self.dialect)
                events = self._lifecycle.on_execution_report(report, now)
                self._journal_step(events, now)
                self._emit_all(events)
                if report.custom:
                    for event in events:
                        for listener in list(self._custom_listeners):
                            listener(event, report.custom)
            elif msg_type == "9":
                events = self._lifecycle.on_cancel_reject(parse_cancel_reject(message, self.dialect), now)
                self._journal_step(events, now)
                self._emit_all(events)
            elif msg_type == "r":
                self._on_mass_cancel_report(message, now)
            elif msg_type == "j":
                self._on_reject(message, now)
            # anything else (news, trading session status, ...) is not this venue's business
        except FieldValueError as exc:
            raise IncorrectDataFormat(exc.tag, str(exc)) from exc

    def _on_admin_message(self, message: FixMessage) -> None:
        if message.msg_type == "3":
            self._on_reject(message, self._now_ns())

    def _on_mass_cancel_report(self, message: FixMessage, now: int) -> None:
        report = parse_mass_cancel_report(message, self.dialect)
        request = self._mass_cancels.pop(report.cl_ord_id, None)
        if request is None:
            return
        ts = report.transact_time_ns if report.transact_time_ns is not None else now
        text = "" if report.accepted else (report.text or f"mass cancel refused (532={report.reject_reason})")
        self._emit(MassCancelled(ts, request.requester, request.cl_ord_id, request.symbol,
                                 report.total_affected if report.accepted else 0, request.reason, text))

    def _on_reject(self, message: FixMessage, now: int) -> None:
        """BusinessMessageReject (j) or session Reject (3) of one of our messages."""
        report = parse_business_reject(message)
        sent = self._sent.get(report.ref_seq_num) if report.ref_seq_num is not None else None
        cl_ord_id = report.ref_id if self._is_ours(report.ref_id) else (sent[1] if sent else "")
        if not cl_ord_id:
            return
        request = self._mass_cancels.pop(cl_ord_id, None)
        if request is not None:
            text = report.text or "mass cancel refused by the exchange"
            self._emit(MassCancelled(now, request.requester, request.cl_ord_id, request.symbol, 0, request.reason, text))
            return
        if cl_ord_id in self.mass_status_requests or cl_ord_id in self._earlier_requests:
            twisted_log.msg(f"fixgate: {self.name} refused OrderMassStatusRequest; relying on resent reports")
            return
        events = self._lifecycle.on_business_reject(report, cl_ord_id, now)
        self._journal_step(events, now)
        self._emit_all(events)

    def _is_ours(self, cl_ord_id: str) -> bool:
        return bool(cl_ord_id) and (
            self.orders.by_cl_ord_id(cl_ord_id) is not None
            or cl_ord_id in self.orders.pending
            or cl_ord_id in self._mass_cancels
            or cl_ord_id in self.mass_status_requests
            or cl_ord_id in self._earlier_requests
        )

    # ------------------------------------------------------------------ helpers
    def _send_cancel(
        self, order: ChildOrder, client_cl_ord_id: str, client_orig: str,
        reason: CancelReason = CancelReason.CLIENT_REQUEST,
    ) -> bool:
        """Journal and send one OrderCancelRequest; False when the journal refused it (nothing sent)."""
        cl_ord_id = self._ids.next()
        change = PendingChange(ChangeKind.CANCEL, cl_ord_id, client_cl_ord_id, client_orig, order, reason=reason)
        if not self._journal(change_record(change), self._now_ns()):
            return False
        self.orders.pending[cl_ord_id] = change
        self._remember(order)
        message = order_cancel_request(
            cl_ord_id, order.cl_ord_id, order.order_id, order.symbol, order.side, order.qty,
            self._transact_time(), self.dialect,
        )
        self._send(message, cl_ord_id)
        return True

    # ------------------------------------------------------------------ journal
    def _load(self) -> RebuiltState:
        """(Re)build the order table and the ExecIDs acted on from the journal."""
        state = rebuild(self.journal.replay())
        self.orders = state.table
        self._lifecycle = OrderLifecycle(self.orders, state.seen_exec_ids)
        #: the last journaled snapshot of each open order (a step that changes nothing writes nothing)
        self._snapshots = {order_key(o): order_snapshot(o, self.orders) for o in self.orders.open_orders()}
        return state

    def _journal(self, record: dict[str, Any], now: int) -> bool:
        """Append before acting; False (logged) when the journal failed: the caller must not act."""
        try:
            self.journal.append(record, now)
        except Exception:
            twisted_log.err(None, f"fixgate: venue {self.name}: child-order journal append failed ({record.get('t')})")
            return False
        return True

    def _remember(self, order: ChildOrder) -> dict[str, Any]:
        """The order's current snapshot, noted as journaled (done orders are forgotten)."""
        snap = order_snapshot(order, self.orders)
        if order.is_open:
            self._snapshots[snap["of"]] = snap
        else:
            self._snapshots.pop(snap["of"], None)
        return snap

    def _journal_step(self, events: list[ExternalEvent], now: int) -> None:
        """Journal what the lifecycle just changed, before its events reach anyone.

        A failing journal raises: the session drops the connection without consuming the
        report's sequence number and the listeners hear nothing of it.  The in-memory state goes
        back to what the journal holds, so the report applies when the exchange resends it."""
        touched, exec_ids = self._lifecycle.take_changes()
        outcomes = self.orders.take_outcomes()
        snapshots = []
        for order in touched:
            before = self._snapshots.get(order_key(order))
            snap = self._remember(order)
            if snap != before:
                snapshots.append(snap)
        fills = [e for e in events if isinstance(e, Fill)]
        if snapshots or exec_ids or fills or outcomes:
            try:
                self.journal.append(step_record("upd", snapshots, exec_ids, fills, outcomes), now)
            except Exception:
                try:
                    self._load()
                except Exception:
                    twisted_log.err(None, f"fixgate: venue {self.name}: child-order journal unreadable; "
                                          "the venue's state is ahead of it until a restart")
                raise

    def _send(self, message: FixMessage, cl_ord_id: str) -> None:
        self._registry.send_to_target(message, self.session_id)
        seq = message.get(34)
        if seq is not None and seq.isdigit():
            self._sent[int(seq)] = (message.msg_type, cl_ord_id)
            if len(self._sent) > SENT_MEMORY:
                del self._sent[next(iter(self._sent))]

    def _order_for(self, owner: str, orig_cl_ord_id: str, order_id: str) -> ChildOrder | None:
        order = self.orders.by_client(owner, orig_cl_ord_id) if orig_cl_ord_id else None
        if order is None and order_id:
            candidate = self.orders.by_order_id(order_id)
            if candidate is not None and candidate.owner == owner:
                order = candidate
        return order

    def _change_refusal(self, order: ChildOrder | None) -> tuple[CancelRejectReason, str] | None:
        if not self.connected:
            return CancelRejectReason.EXCHANGE_CLOSED, self._not_connected_text()
        if order is None:
            return CancelRejectReason.UNKNOWN_ORDER, "unknown order"
        if not order.is_open:
            return CancelRejectReason.UNKNOWN_ORDER, "order is done"
        return None

    def _cancel_refused(
        self,
        request: CancelRequest | ReplaceRequest,
        order: ChildOrder | None,
        response_to: CancelRejectResponseTo,
        reason: CancelRejectReason,
        text: str,
    ) -> CancelRejected:
        order_id = order.order_id if order is not None else request.order_id
        return CancelRejected(
            self._now_ns(), request.symbol, order_id, request.owner, request.cl_ord_id, request.orig_cl_ord_id,
            response_to, reason, text,
        )

    def _refused(self, request: OrderRequest, reason: RejectReason, text: str, now: int) -> Rejected:
        exec_id = f"{self._ids.next()}:rejected"
        return Rejected(now, request.symbol, request.owner, request.cl_ord_id, exec_id, request.side, reason, text)

    def _journal_failed_text(self) -> str:
        return f"venue {self.name}: child-order journal unavailable"

    def _not_connected_text(self) -> str:
        return f"venue {self.name} is not connected"

    def _transact_time(self) -> str:
        return transact_time(self._clock.seconds(), self.settings.timestamp_precision or 3)

    def _now_ns(self) -> int:
        return round(self._clock.seconds() * 1_000_000_000)

    def _emit_all(self, events: list[ExternalEvent]) -> None:
        for event in events:
            self._emit(event)

    def _emit(self, event: Any) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                twisted_log.err(None, f"fixgate: a listener of venue {self.name} failed on {type(event).__name__}")

    def _notify_connection(self, up: bool) -> None:
        for listener in list(self._connection_listeners):
            try:
                listener(up)
            except Exception:
                twisted_log.err(None, f"fixgate: a connection listener of venue {self.name} failed")


class VenueApplication(Application):
    """The FIX Application of one FixVenue's initiator session: hands callbacks to the venue."""

    def __init__(self, venue: FixVenue) -> None:
        self.venue = venue

    def on_logon(self, session_id: SessionID) -> None:
        self.venue._on_logon()

    def on_logout(self, session_id: SessionID) -> None:
        self.venue._on_logout()

    def from_admin(self, message: FixMessage, session_id: SessionID) -> None:
        self.venue._on_admin_message(message)

    def from_app(self, message: FixMessage, session_id: SessionID) -> None:
        self.venue._on_app_message(message)
