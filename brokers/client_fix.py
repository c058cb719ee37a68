"""ClientApplication: the FIX application of the broker's client sessions.

Flow of a NewOrderSingle (DESIGN.md §1): translate (:mod:`brokers.client.translation`) ->
entitlement (the session's ``Accounts=`` / ``DefaultAccount=``) -> route
(:class:`~brokers.routing.dispatcher.Dispatcher`) -> vet (:class:`~brokers.oms.vetting.Vetter`)
-> record the order and reserve its buying power in the registry (queued on the
:class:`~brokers.client.writer.RegistryWriter`, batched per reactor turn) -> once committed,
submit to the venue -> ExecutionReports back through the :class:`~brokers.client.writer.Outbox`.

Guarantees (see ``brokers/client/writer.py`` for the batching ones):

* **Durability before ack.**  An order reaches the venue, and the client hears New (or
  PendingNew for an asynchronous venue), only after the registry committed the order with its
  reservation.  A refusal by the registry (buying power) is an ER 39=8 103=3.
* **Exactly-once booking.**  Every venue fill is queued as a ``book_fills`` entry keyed by
  (venue, ExecID); the client's fill report leaves only once that batch committed.
* **Release.**  A terminal order (cancelled, expired, rejected, filled) closes its booking,
  releasing whatever it still holds; fills at a better price release through the registry's
  pro-rata hold settlement.  A replace opens a new booking version for the leaves quantity
  (its new reservation) before the venue is asked, and closes the old one when the venue confirms
  (or the new one when it refuses).
* **Open quantity.**  A working buy counts its leaves quantity as open for the position limits
  (:meth:`ClientApplication.track_open_buy`), released as reservations are: on fill (the filled
  quantity counts as held until its booking commits), cancel, expiry and reject.
* **Fees.**  Each fill is booked with the account's fee (``FillToBook.fees``: fee legs to the
  house fees account) and reported as Commission(12) with CommType(13)=3; a buy reserves the
  fee of one fill of its notional with it (see :class:`~brokers.oms.context.FeeSchedule`).
* **Every reject has its FIX message.**  Order rejects: ER 39=8 with 103 and Text naming the
  rule; cancel/replace rejects: 35=9 with 102; mass cancel refusals: 35=r 531=0.

ExecutionReports carry the broker's own OrderID(37) and the client's ClOrdID chain (11/41).
Asynchronous venues get PendingNew / PendingCancel / PendingReplace reports while they work; the
internal venue answers inside the call, so its clients see New / Canceled / Replaced directly.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from dataclasses import replace as dc_replace
from decimal import Decimal
from typing import Any

from twisted.python import log as twisted_log

from brokers.client import translation as tr
from brokers.client.accounts import AccountCache
from brokers.client.journal import session_to
from brokers.client.orders import (
    AnyOrder,
    BrokerIds,
    DoneOrder,
    GatewayOrder,
    OrderStore,
    PendingRequest,
    fill_exec_id,
    session_key,
)
from brokers.client.writer import BookFill, CloseOrder, OpenOrder, Outbox, RegistryWriter, utc_from_ns
from brokers.domain.accounts import Asset, InsufficientFunds
from brokers.domain.ledger import BookedOrder, FillToBook, OrderState
from brokers.domain.ledger import Side as LedgerSide
from brokers.domain.orders import ClientOrder, ClientOrderStatus, IllegalTransition, InvalidExecution
from brokers.drop_copy import DropCopy, refuse_application_message
from brokers.oms.context import InstrumentInfo
from brokers.oms.reservations import Reservation
from brokers.oms.results import CxlRejReason, OrdRejReason
from brokers.oms.vetting import Vetter
from brokers.routing.dispatcher import Dispatcher
from brokers.routing.router import NoRoute
from fix_engine.application import Application, UnsupportedMessageType
from fix_engine.codec.message import FixMessage
from fix_engine.session.session_id import SessionID
from fix_engine.transport.host import SessionNotFound, SessionRegistry
from venues import base as v
from venues.internal.fast_init import positional_constructor

__all__ = ["ClientApplication", "Entitlement"]

ZERO = Decimal(0)
_NS_PER_DAY = 86_400 * 1_000_000_000
#: ``v.OrderRequest`` from all 16 fields, positionally (the same object, in half the time)
_order_request = positional_constructor(v.OrderRequest)


@dataclass(frozen=True, slots=True)
class Entitlement:
    """The accounts one client session may trade, and the one used when Account(1) is absent."""

    accounts: frozenset[str]
    default_account: str | None = None

    def resolve(self, account: str | None) -> tuple[str | None, str]:
        """(account, '') when allowed, else (None, Text for the 103=15 reject)."""
        if account is None:
            if self.default_account is not None:
                return self.default_account, ""
            if len(self.accounts) == 1:
                return next(iter(self.accounts)), ""
            return None, "entitlement: Account(1) required (no DefaultAccount for this session)"
        if account in self.accounts:
            return account, ""
        return None, f"entitlement: session not entitled to account {account!r}"


def _same_decimal(a: Decimal | None, b: Decimal) -> bool:
    """True when ``a`` is ``b`` to the digit (equal value and exponent: 100.0 is not 100.00)."""
    return a is b or (a is not None and a == b and a.as_tuple() == b.as_tuple())


def _ledger_side(side: v.Side) -> LedgerSide:
    return LedgerSide.BUY if side is v.Side.BUY else LedgerSide.SELL


class ClientApplication(Application):
    """Client sessions' orders in, ExecutionReports out (see the module docstring)."""

    def __init__(
        self,
        *,
        sessions: SessionRegistry,
        dispatcher: Dispatcher,
        vetter: Vetter,
        writer: RegistryWriter,
        accounts: AccountCache,
        instruments: dict[str, InstrumentInfo],
        entitlements: Mapping[SessionID, Entitlement],
        ids: BrokerIds,
        clock_ns: Callable[[], int],
        store: OrderStore | None = None,
        drop_copy: Mapping[SessionID, frozenset[str]] | None = None,
        cancel_on_disconnect: frozenset[SessionID] = frozenset(),
    ) -> None:
        self.sessions = sessions
        self.dispatcher = dispatcher
        self.vetter = vetter
        self.writer = writer
        self.accounts = accounts
        self.instruments = instruments
        self.entitlements = entitlements
        self.ids = ids
        self.clock_ns = clock_ns
        self.store = store if store is not None else OrderStore()
        self.outbox = Outbox(self._send_now, lambda: self.writer.committed, batched=self._batched)
        self.drop_copy = DropCopy(drop_copy or {}, self._send_copy)
        self.cancel_on_disconnect = cancel_on_disconnect
        #: order_id -> Text of the cancels the broker asked for (kill switch, cancel on disconnect)
        self._broker_cancels: dict[str, str] = {}
        self._day: tuple[int, int, _dt.date] = (0, 0, _dt.date(1970, 1, 1))  # [start, end) ns of the cached day
        self._owners: dict[SessionID, str] = {}  #: session_key() of each session, computed once
        dispatcher.subscribe(self.on_venue_event)
        self._handlers: dict[str, Callable[[FixMessage, SessionID], None]] = {
            "D": self._on_new_order,
            "F": self._on_cancel,
            "G": self._on_replace,
            "H": self._on_status,
            "q": self._on_mass_cancel,
            "AF": self._on_mass_status,
        }

    # ---- wiring --------------------------------------------------------------------------------

    def on_batch_committed(self, batch: int) -> None:
        """RegistryWriter hook: release the client messages that batch unblocked."""
        self.outbox.release(batch)

    def _send_now(self, message: FixMessage, session_id: SessionID) -> None:
        try:
            self.sessions.send_to_target(message, session_id)
        except SessionNotFound:
            twisted_log.msg(f"fixgate: no session {session_id} for {message.msg_type}")
        if self.drop_copy and message.msg_type == "8":
            self.drop_copy.on_report(message, session_id)

    def _batched(self, session_id: SessionID) -> AbstractContextManager[Any]:
        """Group a session's sends (see :meth:`SessionHost.batched`)."""
        host = self.sessions.get(session_id)
        return host.batched() if host is not None else nullcontext()

    def _send_copy(self, message: FixMessage, session_id: SessionID) -> None:
        try:
            self.sessions.send_to_target(message, session_id)
        except SessionNotFound:
            twisted_log.msg(f"fixgate: no drop copy session {session_id}")

    def _send(self, message: FixMessage, session_id: SessionID, after: int = 0) -> None:
        self.outbox.send(message, session_id, after)

    def _trading_day(self, now_ns: int) -> _dt.date:
        start, end, day = self._day
        if start <= now_ns < end:
            return day
        day = utc_from_ns(now_ns).date()
        start = (now_ns // _NS_PER_DAY) * _NS_PER_DAY
        self._day = (start, start + _NS_PER_DAY, day)
        return day

    def _owner(self, session_id: SessionID) -> str:
        owner = self._owners.get(session_id)
        if owner is None:
            owner = self._owners[session_id] = session_key(session_id)
        return owner

    def entitlement(self, session_id: SessionID) -> Entitlement:
        return self.entitlements.get(session_id) or Entitlement(frozenset())

    # ---- Application ---------------------------------------------------------------------------

    def from_app(self, message: FixMessage, session_id: SessionID) -> None:
        if session_id in self.drop_copy:
            raise refuse_application_message(message, session_id)
        handler = self._handlers.get(message.msg_type)
        if handler is None:
            raise UnsupportedMessageType()
        handler(message, session_id)

    def on_logout(self, session_id: SessionID) -> None:
        """Cancel on disconnect: a ``CancelOnDisconnect=Y`` session's working DAY orders, everywhere."""
        if session_id not in self.cancel_on_disconnect:
            return
        orders = [g for g in self.store.working(session_id) if g.order.tif is v.TimeInForce.DAY]
        cancelled, skipped = self.cancel_orders(orders, "cancel on disconnect")
        if cancelled or skipped:
            twisted_log.msg(f"fixgate: {session_id} disconnected: cancelling {cancelled} working DAY order(s)"
                            + (f", {skipped} busy (pending new/cancel/replace)" if skipped else ""))

    # ---- cancels the broker decides (kill switch, cancel on disconnect) -------------------------

    def cancel_orders(self, orders: list[GatewayOrder], text: str) -> tuple[int, int]:
        """Ask each order's venue to cancel it (unsolicited for the client: the report carries
        ``text``).  Orders still pending new or with a cancel/replace in flight are skipped (an
        engaged kill switch keeps their replaces out; a pending cancel completes by itself).
        Returns (cancels requested, orders skipped)."""
        now = self.clock_ns()
        cancelled = skipped = 0
        for g in orders:
            if g.order.status.is_terminal or g.order.order_id in self._broker_cancels:
                continue
            if g.pending is not None or g.order.status not in (ClientOrderStatus.NEW,
                                                               ClientOrderStatus.PARTIALLY_FILLED):
                skipped += 1
                continue
            self._broker_cancel(g, text, now)
            cancelled += 1
        return cancelled, skipped

    def _broker_cancel(self, g: GatewayOrder, text: str, now: int) -> None:
        venue_id = g.next_venue_cl_ord_id()
        self.store.index_venue_id(g, venue_id)
        self._broker_cancels[g.order_id] = text
        self.dispatcher.cancel(g.venue, v.CancelRequest(g.order.symbol, g.owner, venue_id,
                                                        orig_cl_ord_id=g.venue_cl_ord_id, order_id=g.venue_order_id))

    # ---- new orders ----------------------------------------------------------------------------

    def _reject_new(self, session_id: SessionID, new: tr.NewOrderInput, account: str | None,
                    reason: int, text: str, now_ns: int, order_id: str | None = None) -> None:
        self._send(tr.reject_report(
            session_id.begin_string, new, order_id=order_id or self.ids.order_id(), exec_id=self.ids.exec_id(),
            account=account, reason=reason, text=text, transact_ns=now_ns,
        ), session_id)

    def _on_new_order(self, message: FixMessage, session_id: SessionID) -> None:
        new = tr.parse_new_order(message)
        now = self.clock_ns()
        account, why = self.entitlement(session_id).resolve(new.account)
        if account is None:
            self._reject_new(session_id, new, new.account, OrdRejReason.UNKNOWN_ACCOUNT, why, now)
            return
        if self.store.known_cl_ord_id(session_id, new.cl_ord_id):
            self._reject_new(session_id, new, account, OrdRejReason.DUPLICATE_ORDER,
                             f"duplicate ClOrdID: {new.cl_ord_id} already used on this session", now)
            return
        route = self.dispatcher.route(new.symbol, new.ex_destination)
        if isinstance(route, NoRoute):
            self._reject_new(session_id, new, account, OrdRejReason.OTHER, route.text, now)
            return
        owner = self._owner(session_id)
        order_id = self.ids.order_id()
        request = _order_request(new.symbol, owner, new.cl_ord_id, new.side, new.qty, new.ord_type, new.price,
                                 new.stop_px, new.tif, account, "", new.expire_time, new.display_qty, new.min_qty,
                                 new.post_only, None)
        instrument = self.instruments.get(new.symbol)
        verdict = self.vetter.vet_new(request, account=self.accounts.state(account), instrument=instrument,
                                      now_ns=now, trading_day=self._trading_day(now))
        if not verdict.accepted:
            self._reject_new(session_id, new, account, int(verdict.reason or 0), verdict.text, now, order_id)
            if verdict.disconnect:
                self._logout(session_id, verdict.text)
            return
        try:
            order = ClientOrder(order_id, new.cl_ord_id, owner, account, new.symbol, new.side, new.ord_type,
                                new.qty, new.price, new.stop_px, new.tif, new.expire_time, route.venue)
        except InvalidExecution as exc:
            self._reject_new(session_id, new, account, OrdRejReason.INCORRECT_QUANTITY, str(exc), now, order_id)
            return
        currency = instrument.currency if instrument is not None else "USD"
        gorder = GatewayOrder(order, session_id, route.venue, venue_cl_ord_id=order_id, booking_id=order_id,
                              currency=currency, reservation=verdict.reservation)
        self.store.add(gorder)
        self.track_open_buy(gorder)
        venue_request = _order_request(new.symbol, owner, order_id, new.side, new.qty, new.ord_type, new.price,
                                       new.stop_px, new.tif, account, "", new.expire_time, new.display_qty,
                                       new.min_qty, new.post_only, None)
        reservations = self._reservations(order.side, order.symbol, currency, verdict.reservation, new.qty)
        booked = BookedOrder(order_id, account, new.symbol, _ledger_side(new.side), new.qty, new.price, currency)
        op = OpenOrder(booked, reservations, journal=[self._new_record(gorder)],
                       on_done=lambda error: self._opened(gorder, venue_request, error))
        batch = self.writer.submit(op)
        self._hold_locally(batch, account, reservations)

    @staticmethod
    def _reservations(side: v.Side, symbol: str, currency: str, reservation: Reservation | None,
                      qty: Decimal) -> dict[Asset | str, Decimal]:
        if side is v.Side.BUY:
            if reservation is not None and reservation.amount > 0:
                return {Asset.currency(currency): reservation.amount}
            return {}
        return {Asset.instrument(symbol): qty} if qty > 0 else {}

    def _hold_locally(self, batch: int, account: str, reservations: Mapping[Asset | str, Decimal]) -> None:
        for asset, amount in reservations.items():
            code = asset.code if isinstance(asset, Asset) else asset
            self.accounts.hold_locally(batch, account, code, amount)

    @staticmethod
    def _new_record(g: GatewayOrder) -> dict[str, Any]:
        o = g.order
        return {  # enum ``_value_``: the value without the Enum descriptor's Python-level __get__
            "t": "new", "id": o.order_id, "session": session_to(g.session_id), "cl": o.cl_ord_id,
            "acct": o.account, "sym": o.symbol, "side": o.side._value_, "qty": str(o.qty), "type": o.ord_type._value_,
            "px": None if o.price is None else str(o.price), "stop": None if o.stop_px is None else str(o.stop_px),
            "tif": o.tif._value_, "exp": o.expire_time, "venue": g.venue, "vcl": g.venue_cl_ord_id,
            "booking": g.booking_id, "cur": g.currency,
        }

    def _opened(self, g: GatewayOrder, request: v.OrderRequest, error: Exception | None) -> None:
        now = self.clock_ns()
        if error is not None:
            g.order.on_rejected()
            self.store.forget(g)
            self.track_open_buy(g)
            reason, text = self._registry_refusal(error)
            self._report(g, "8", now, text=text, ord_rej_reason=reason)
            return
        if self.dispatcher.is_asynchronous(g.venue):
            self._report(g, "A", now)
        self.dispatcher.submit(g.venue, request)

    @staticmethod
    def _registry_refusal(error: Exception) -> tuple[int, str]:
        if isinstance(error, InsufficientFunds):
            return OrdRejReason.ORDER_EXCEEDS_LIMIT, f"buying power: {error}"
        return OrdRejReason.OTHER, f"registry: {error}"

    # ---- open buy quantity (position limits) ----------------------------------------------------

    def track_open_buy(self, g: GatewayOrder) -> None:
        """Bring the open buy quantity ``g`` counts for its account up to date: its leaves quantity
        while it works (the larger of the old and new leaves while a replace is pending), zero once
        it is filled, cancelled, expired or rejected.  Sells count through their instrument holds."""
        order = g.order
        if order.side is not v.Side.BUY:
            return
        qty = order.leaves_qty
        pending = g.pending
        if qty and pending is not None and pending.qty is not None and pending.qty - order.cum_qty > qty:
            qty = pending.qty - order.cum_qty
        if qty != g.open_buy:
            self.accounts.add_open_buy(order.account, order.symbol, qty - g.open_buy)
            g.open_buy = qty

    # ---- reports -------------------------------------------------------------------------------

    def _report(self, g: GatewayOrder, exec_type: str, now: int, *, after: int = 0, exec_id: str | None = None,
                **kw: Any) -> None:
        static = g.fix_static
        if static is None:
            static = g.fix_static = tr.static_fields(g.order)
        self._send(tr.execution_report(g.session_id.begin_string, g.order, exec_id=exec_id or self.ids.exec_id(),
                                       exec_type=exec_type, transact_ns=now, static=static, **kw),  # type: ignore[arg-type]
                   g.session_id, after)

    def _cancel_reject(self, session_id: SessionID, g: AnyOrder | None, cl_ord_id: str, orig: str | None,
                       response_to: str, reason: int, text: str, after: int = 0) -> None:
        status = g.order.status.ord_status if g is not None else "8"
        self._send(tr.cancel_reject(order_id=g.order_id if g is not None else None, cl_ord_id=cl_ord_id,
                                    orig_cl_ord_id=orig, ord_status=status, response_to=response_to, reason=reason,
                                    text=text, account=g.order.account if g is not None else None),
                   session_id, after)

    def _logout(self, session_id: SessionID, text: str) -> None:
        host = self.sessions.get(session_id)
        if host is not None:
            host.logout(text)

    # ---- cancel / replace ----------------------------------------------------------------------

    def _find(self, session_id: SessionID, orig: str | None, order_id: str | None) -> AnyOrder | None:
        """The session's order a request names (a done one as :class:`DoneOrder`)."""
        if orig:
            found = self.store.by_cl_ord_id(session_id, orig)
            if found is not None:
                return found
        if order_id and order_id != tr.NONE:
            return self.store.session_order(session_id, order_id)
        return None

    def _check_amendable(self, session_id: SessionID, g: AnyOrder | None, cl_ord_id: str, orig: str | None,
                         response_to: str, order_id: str | None = None) -> bool:
        if g is None:
            self._cancel_reject(session_id, None, cl_ord_id, orig, response_to, CxlRejReason.UNKNOWN_ORDER,
                                f"unknown order {orig!r}" if orig else f"unknown OrderID {order_id!r}")
            return False
        status = g.order.status
        if status.is_terminal or status is ClientOrderStatus.DONE_FOR_DAY:
            self._cancel_reject(session_id, g, cl_ord_id, orig, response_to, CxlRejReason.TOO_LATE_TO_CANCEL,
                                f"order {g.order_id} is {status.name}")
            return False
        assert isinstance(g, GatewayOrder)  # a DoneOrder is terminal
        if g.pending is not None or status is ClientOrderStatus.PENDING_NEW:
            self._cancel_reject(session_id, g, cl_ord_id, orig, response_to, CxlRejReason.ALREADY_PENDING,
                                f"order {g.order_id} is {status.name}")
            return False
        if self.store.known_cl_ord_id(session_id, cl_ord_id):
            self._cancel_reject(session_id, g, cl_ord_id, orig, response_to, CxlRejReason.DUPLICATE_CL_ORD_ID,
                                f"duplicate ClOrdID: {cl_ord_id} already used on this session")
            return False
        return True

    def _on_cancel(self, message: FixMessage, session_id: SessionID) -> None:
        req = tr.parse_cancel(message)
        g = self._find(session_id, req.orig_cl_ord_id, req.order_id)
        if not self._check_amendable(session_id, g, req.cl_ord_id, req.orig_cl_ord_id, "1", req.order_id):
            return
        assert isinstance(g, GatewayOrder)  # a done order is refused as too late
        now = self.clock_ns()
        self.vetter.vet_cancel(v.CancelRequest(g.order.symbol, g.owner, req.cl_ord_id), account=g.order.account,
                               now_ns=now, trading_day=self._trading_day(now))
        self._request_cancel(g, req.cl_ord_id, now)

    def _request_cancel(self, g: GatewayOrder, cl_ord_id: str, now: int, *, index: bool = True) -> None:
        venue_id = g.next_venue_cl_ord_id()
        self.store.index_venue_id(g, venue_id)
        if index:
            self.store.index_cl_ord_id(g, cl_ord_id)
        g.pending = PendingRequest("cancel", cl_ord_id, g.order.cl_ord_id, venue_id)
        orig = g.order.cl_ord_id
        g.order.on_cancel_requested(cl_ord_id)
        if self.dispatcher.is_asynchronous(g.venue):
            self._report(g, "6", now, cl_ord_id=cl_ord_id, orig_cl_ord_id=orig)
        self.dispatcher.cancel(g.venue, v.CancelRequest(g.order.symbol, g.owner, venue_id,
                                                        orig_cl_ord_id=g.venue_cl_ord_id, order_id=g.venue_order_id))

    def _on_replace(self, message: FixMessage, session_id: SessionID) -> None:
        req = tr.parse_replace(message)
        g = self._find(session_id, req.orig_cl_ord_id, req.order_id)
        if not self._check_amendable(session_id, g, req.cl_ord_id, req.orig_cl_ord_id, "2", req.order_id):
            return
        assert isinstance(g, GatewayOrder)  # a done order is refused as too late
        order = g.order
        if req.ord_type is not order.ord_type:
            self._cancel_reject(session_id, g, req.cl_ord_id, req.orig_cl_ord_id, "2", CxlRejReason.OTHER,
                                "replace: the order type cannot be changed")
            return
        if req.tif is not None and req.tif is not order.tif:  # the venue request carries no TIF
            self._cancel_reject(session_id, g, req.cl_ord_id, req.orig_cl_ord_id, "2", CxlRejReason.OTHER,
                                "replace: the time in force cannot be changed")
            return
        if req.qty <= order.cum_qty:
            self._cancel_reject(session_id, g, req.cl_ord_id, req.orig_cl_ord_id, "2", CxlRejReason.OTHER,
                                f"replace: quantity {req.qty} is not above the executed {order.cum_qty}")
            return
        now = self.clock_ns()
        vet_request = v.ReplaceRequest(req.symbol, g.owner, req.cl_ord_id, req.side, req.qty, req.price, req.stop_px,
                                       orig_cl_ord_id=order.cl_ord_id)
        verdict = self.vetter.vet_replace(order, vet_request, account=self.accounts.state(order.account),
                                          instrument=self.instruments.get(order.symbol), now_ns=now,
                                          trading_day=self._trading_day(now), reservation=g.reservation)
        if not verdict.accepted:
            self._cancel_reject(session_id, g, req.cl_ord_id, req.orig_cl_ord_id, "2",
                                int(verdict.cxl_rej_reason or CxlRejReason.OTHER), verdict.text)
            if verdict.disconnect:
                self._logout(session_id, verdict.text)
            return
        price = req.price if req.price is not None else order.price
        stop_px = req.stop_px if req.stop_px is not None else order.stop_px
        leaves = req.qty - order.cum_qty
        venue_id = g.next_venue_cl_ord_id()
        pending = PendingRequest("replace", req.cl_ord_id, order.cl_ord_id, venue_id, booking_id=venue_id,
                                 reservation=verdict.reservation, qty=req.qty, price=price, stop_px=stop_px)
        g.pending = pending
        self.store.index_venue_id(g, venue_id)
        self.store.index_cl_ord_id(g, req.cl_ord_id)
        order.on_replace_requested(req.cl_ord_id, req.qty, price)
        self.track_open_buy(g)
        reservations = self._reservations(order.side, order.symbol, g.currency, verdict.reservation, leaves)
        booked = BookedOrder(venue_id, order.account, order.symbol, _ledger_side(order.side), leaves, price,
                             g.currency)
        venue_request = v.ReplaceRequest(order.symbol, g.owner, venue_id, order.side, req.qty, price, stop_px,
                                         orig_cl_ord_id=g.venue_cl_ord_id, order_id=g.venue_order_id)
        replacing = {"t": "replacing", "id": g.order_id, "cl": req.cl_ord_id, "qty": str(req.qty),
                     "px": None if price is None else str(price), "stop": None if stop_px is None else str(stop_px),
                     "vcl": venue_id, "booking": venue_id}  # brokers.recovery completes it after a crash
        op = OpenOrder(booked, reservations, journal=[replacing],
                       on_done=lambda error: self._replace_opened(g, pending, venue_request, error))
        batch = self.writer.submit(op)
        self._hold_locally(batch, order.account, reservations)

    def _replace_opened(self, g: GatewayOrder, pending: PendingRequest, request: v.ReplaceRequest,
                        error: Exception | None) -> None:
        now = self.clock_ns()
        if g.pending is not pending:  # answered meanwhile (the order completed)
            if error is None:
                self._close(g, pending.booking_id, OrderState.CANCELLED)
            return
        if error is not None:
            g.pending = None
            g.order.on_replace_rejected()
            self.track_open_buy(g)
            _, text = self._registry_refusal(error)
            self._cancel_reject(g.session_id, g, pending.cl_ord_id, pending.orig_cl_ord_id, "2",
                                CxlRejReason.BROKER_OPTION, text)
            return
        if self.dispatcher.is_asynchronous(g.venue):
            self._report(g, "E", now, cl_ord_id=pending.cl_ord_id, orig_cl_ord_id=pending.orig_cl_ord_id)
        self.dispatcher.replace(g.venue, request)

    # ---- status --------------------------------------------------------------------------------

    def _on_status(self, message: FixMessage, session_id: SessionID) -> None:
        req = tr.parse_status(message)
        g = self._find(session_id, req.cl_ord_id, req.order_id)
        now = self.clock_ns()
        if g is None:
            fields: list[tuple[int, object]] = [
                (6, ZERO), (11, req.cl_ord_id or tr.NONE), (14, ZERO), (17, self.ids.exec_id()),
                (37, req.order_id or tr.NONE), (39, "8"), (54, message.get(54) or "1"), (55, req.symbol or "[N/A]"),
                (58, f"unknown order {req.cl_ord_id or req.order_id!r}"), (103, OrdRejReason.UNKNOWN_ORDER),
                (150, "I" if not session_id.begin_string.startswith("FIX.4.2") else "8"), (151, ZERO),
            ]
            if session_id.begin_string == "FIX.4.2":
                fields.append((20, "3"))
            self._send(FixMessage.new("8", *fields), session_id)
            return
        if isinstance(g, DoneOrder):  # the same report as from the GatewayOrder it was
            self._send(tr.execution_report(session_id.begin_string, g, exec_id=self.ids.exec_id(), exec_type="I",
                                           transact_ns=now, orig_cl_ord_id=g.orig_cl_ord_id), session_id)
            return
        self._report(g, "I", now, orig_cl_ord_id=g.order.orig_cl_ord_id)

    def _on_mass_status(self, message: FixMessage, session_id: SessionID) -> None:
        req = tr.parse_mass_status(message)
        symbol = req.symbol if req.request_type == "1" else None
        orders = self.store.working(session_id, symbol, req.account)
        now = self.clock_ns()
        total = len(orders)
        for index, g in enumerate(orders, 1):
            extra: list[tuple[int, object]] = [(584, req.mass_status_req_id), (911, total)]
            if index == total:
                extra.append((912, "Y"))
            self._report(g, "I", now, extra=extra)
        if not orders:
            fields: list[tuple[int, object]] = [
                (6, ZERO), (11, tr.NONE), (14, ZERO), (17, self.ids.exec_id()), (37, tr.NONE), (39, "8"),
                (54, "1"), (55, symbol or "[N/A]"), (58, "no matching orders"), (150, "I"), (151, ZERO),
                (584, req.mass_status_req_id), (911, 0), (912, "Y"),
            ]
            self._send(FixMessage.new("8", *fields), session_id)

    def _on_mass_cancel(self, message: FixMessage, session_id: SessionID) -> None:
        req = tr.parse_mass_cancel(message)
        if req.request_type not in ("1", "7"):
            self._send(tr.mass_cancel_report(cl_ord_id=req.cl_ord_id, request_type=req.request_type, response="0",
                                             affected=0, reject_reason=0, symbol=req.symbol,
                                             text=f"MassCancelRequestType {req.request_type} not supported"),
                       session_id)
            return
        if req.account is not None and req.account not in self.entitlement(session_id).accounts:
            self._send(tr.mass_cancel_report(cl_ord_id=req.cl_ord_id, request_type=req.request_type, response="0",
                                             affected=0, reject_reason=99, symbol=req.symbol,
                                             text=f"entitlement: session not entitled to account {req.account!r}"),
                       session_id)
            return
        symbol = req.symbol if req.request_type == "1" else None
        now = self.clock_ns()
        affected = 0
        for g in self.store.working(session_id, symbol, req.account):
            if g.pending is not None or g.order.status not in (ClientOrderStatus.NEW,
                                                               ClientOrderStatus.PARTIALLY_FILLED):
                continue
            affected += 1
            self._request_cancel(g, req.cl_ord_id, now, index=False)
        self._send(tr.mass_cancel_report(cl_ord_id=req.cl_ord_id, request_type=req.request_type,
                                         response=req.request_type, affected=affected, symbol=req.symbol),
                   session_id, self.writer.current_batch)

    # ---- venue events --------------------------------------------------------------------------

    def on_venue_event(self, venue: str, event: v.VenueEvent) -> None:
        """Every event of every venue, on the reactor thread."""
        try:
            handler = _EVENT_HANDLERS.get(type(event))
            if handler is not None:
                handler(self, venue, event)
        except Exception:
            twisted_log.err(None, f"fixgate: handling {event!r} from {venue} failed")

    def _lookup(self, venue: str, *ids: str) -> GatewayOrder | None:
        for venue_id in ids:
            if venue_id:
                g = self.store.by_venue_id(venue, venue_id)
                if g is not None:
                    return g
        return None

    def _close(self, g: GatewayOrder, booking_id: str | None, status: OrderState,
               journal: list[dict[str, Any]] | None = None) -> int:
        if booking_id is None:
            return self.writer.current_batch
        return self.writer.submit(CloseOrder(booking_id, g.order.account, status, journal=journal or []))

    def _terminal(self, g: GatewayOrder, status: OrderState) -> int:
        """Close the booking(s) of an order that is done; returns the batch to wait for."""
        pending = g.pending
        if pending is not None and pending.booking_id is not None:
            self._close(g, pending.booking_id, OrderState.CANCELLED)
        batch = self._close(g, g.booking_id, status, [{"t": "done", "id": g.order_id}])
        self.store.forget(g)
        self._broker_cancels.pop(g.order_id, None)
        self.track_open_buy(g)
        return batch

    def _on_accepted(self, venue: str, e: v.Accepted) -> None:
        g = self._lookup(venue, e.cl_ord_id, e.order_id)
        if g is None:
            return
        if e.order_id and not g.venue_order_id:
            g.venue_order_id = e.order_id
            self.store.index_venue_id(g, e.order_id)
        if g.order.status is ClientOrderStatus.PENDING_NEW:
            g.order.on_ack()
            self._report(g, "0", e.ts)

    def _on_fill(self, venue: str, e: v.Fill) -> None:
        g = self._lookup(venue, e.cl_ord_id, e.order_id)
        info = self.instruments.get(e.symbol)
        if info is not None and not _same_decimal(info.last_trade_px, e.last_px):
            self.instruments[e.symbol] = dc_replace(info, last_trade_px=e.last_px)
        if g is None:
            twisted_log.msg(f"fixgate: fill {venue}/{e.exec_id} for unknown order {e.order_id} ({e.cl_ord_id})")
            return
        order = g.order
        if order.status is ClientOrderStatus.PENDING_NEW:  # an asynchronous venue may skip the ack
            order.on_ack()
        fee = self.accounts.fees_for(order.account).fee(e.last_qty * e.last_px)
        fill = FillToBook(venue=venue, exec_id=e.exec_id, order_id=g.booking_id, account=order.account,
                          symbol=order.symbol, side=_ledger_side(order.side), qty=e.last_qty, price=e.last_px,
                          currency=g.currency, ts=utc_from_ns(e.ts), fees=fee)
        book = BookFill(fill)
        try:
            order.on_fill(e.last_qty, e.last_px)
        except (IllegalTransition, InvalidExecution) as exc:
            self.writer.submit(book)
            twisted_log.msg(f"fixgate: fill {venue}/{e.exec_id} booked but not reportable: {exc}")
            return
        self.track_open_buy(g)
        pending = g.pending
        done = order.status is ClientOrderStatus.FILLED
        if done and pending is None and g.booking_id is not None:
            # the last fill and the order's close: one registry operation (as if queued one after the other)
            book.close = CloseOrder(g.booking_id, order.account, OrderState.CANCELLED,
                                    journal=[{"t": "done", "id": g.order_id}])
        batch = self.writer.submit(book)
        if order.side is v.Side.BUY:
            self.accounts.fill_locally(batch, order.account, order.symbol, e.last_qty)
        cl_ord_id = order.cl_ord_id
        self._report(g, "F", e.ts, after=batch, exec_id=fill_exec_id(venue, e.exec_id), last_qty=e.last_qty,
                     last_px=e.last_px, cl_ord_id=cl_ord_id, orig_cl_ord_id=order.orig_cl_ord_id, commission=fee)
        if book.close is not None:
            self.store.forget(g)
            self._broker_cancels.pop(g.order_id, None)
        elif done:
            batch = self._terminal(g, OrderState.CANCELLED)
            if pending is not None:
                g.pending = None
                response_to = "1" if pending.kind == "cancel" else "2"
                self._cancel_reject(g.session_id, g, pending.cl_ord_id, pending.orig_cl_ord_id, response_to,
                                    CxlRejReason.TOO_LATE_TO_CANCEL, f"order {g.order_id} is FILLED", after=batch)

    def _on_cancelled(self, venue: str, e: v.Cancelled) -> None:
        g = self._lookup(venue, e.cl_ord_id, e.orig_cl_ord_id, e.order_id)
        if g is None or g.order.status.is_terminal:
            return
        pending = g.pending
        orig = g.order.cl_ord_id
        broker_text = self._broker_cancels.pop(g.order_id, None)
        g.order.on_cancelled()
        batch = self._terminal(g, OrderState.CANCELLED)
        g.pending = None
        reason = e.reason.exec_restatement_reason
        if broker_text is not None and pending is None:
            self._report(g, "4", e.ts, after=batch, orig_cl_ord_id=g.order.orig_cl_ord_id, text=broker_text)
        elif pending is not None and pending.kind == "cancel" and e.reason is v.CancelReason.CLIENT_REQUEST:
            self._report(g, "4", e.ts, after=batch, cl_ord_id=pending.cl_ord_id, orig_cl_ord_id=orig)
        else:
            self._report(g, "4", e.ts, after=batch, orig_cl_ord_id=g.order.orig_cl_ord_id,
                         restatement_reason=reason, text=e.reason.value.lower().replace("_", " "))

    def _on_expired(self, venue: str, e: v.Expired) -> None:
        g = self._lookup(venue, e.cl_ord_id, e.order_id)
        if g is None or g.order.status.is_terminal:
            return
        g.order.on_expired()
        batch = self._terminal(g, OrderState.EXPIRED)
        g.pending = None
        self._report(g, "C", e.ts, after=batch)

    def _on_rejected(self, venue: str, e: v.Rejected) -> None:
        g = self._lookup(venue, e.cl_ord_id)
        if g is None or g.order.status is not ClientOrderStatus.PENDING_NEW:
            return
        g.order.on_rejected()
        batch = self._terminal(g, OrderState.REJECTED)
        self._report(g, "8", e.ts, after=batch, text=f"{venue}: {e.text}" if e.text else venue,
                     ord_rej_reason=e.reason.ord_rej_reason)

    def _on_replaced(self, venue: str, e: v.Replaced) -> None:
        g = self._lookup(venue, e.cl_ord_id, e.orig_cl_ord_id, e.order_id)
        if g is None or g.pending is None or g.pending.kind != "replace":
            return
        pending = g.pending
        order = g.order
        orig = order.cl_ord_id
        try:
            order.on_replaced(e.qty, e.price)
        except (IllegalTransition, InvalidExecution) as exc:
            twisted_log.msg(f"fixgate: replace of {g.order_id} not applicable: {exc}")
            return
        order.stop_px = e.stop_px
        old_booking = g.booking_id
        g.pending = None
        g.booking_id = pending.booking_id or old_booking
        g.venue_cl_ord_id = pending.venue_cl_ord_id
        g.reservation = pending.reservation
        self.track_open_buy(g)
        record = {"t": "replaced", "id": g.order_id, "cl": order.cl_ord_id, "qty": str(order.qty),
                  "px": None if order.price is None else str(order.price),
                  "stop": None if order.stop_px is None else str(order.stop_px),
                  "vcl": g.venue_cl_ord_id, "booking": g.booking_id}
        batch = self._close(g, old_booking, OrderState.CANCELLED, [record])
        if order.status is ClientOrderStatus.FILLED:
            batch = self._terminal(g, OrderState.CANCELLED)
        self._report(g, "5", e.ts, after=batch, cl_ord_id=order.cl_ord_id, orig_cl_ord_id=orig)

    def _on_cancel_rejected(self, venue: str, e: v.CancelRejected) -> None:
        g = self._lookup(venue, e.cl_ord_id, e.orig_cl_ord_id, e.order_id)
        if g is not None and g.pending is None and g.order_id in self._broker_cancels:
            text = self._broker_cancels.pop(g.order_id)
            twisted_log.msg(f"fixgate: {venue} refused the {text} cancel of {g.order_id}: {e.text}")
            return
        if g is None or g.pending is None:
            return
        pending = g.pending
        g.pending = None
        batch = self.writer.current_batch
        if pending.kind == "cancel":
            g.order.on_cancel_rejected()
            response_to = "1"
        else:
            g.order.on_replace_rejected()
            self.track_open_buy(g)
            batch = self._close(g, pending.booking_id, OrderState.CANCELLED)
            response_to = "2"
        self._cancel_reject(g.session_id, g, pending.cl_ord_id, pending.orig_cl_ord_id, response_to,
                            e.reason.cxl_rej_reason, f"{venue}: {e.text}" if e.text else venue, after=batch)


_EVENT_HANDLERS: dict[type, Callable[[ClientApplication, str, Any], None]] = {
    v.Accepted: ClientApplication._on_accepted,
    v.Fill: ClientApplication._on_fill,
    v.Cancelled: ClientApplication._on_cancelled,
    v.Expired: ClientApplication._on_expired,
    v.Rejected: ClientApplication._on_rejected,
    v.Replaced: ClientApplication._on_replaced,
    v.CancelRejected: ClientApplication._on_cancel_rejected,
}
