"""Startup reconciliation after a crash: venue journal -> registry -> client sessions.

The gateway's write path is: venue journals the command -> venue event (Fill) -> BookFill queued
on the registry writer -> batch commits -> the client's ExecutionReport is stored in the FIX
session store -> written to the socket.  A killed process can stop anywhere on that path.  What
survives is the venue journal (the truth about executions), the registry, the client-order
journal and the FIX stores.  :func:`open_internal_venue` and :class:`Reconciler` close the gaps
on the next start, before any client can log on:

**Phase 1 (registry), before the account cache and the working orders are loaded.**

* *Fills.*  Individual fill ExecIDs are not kept in the venue's state (an order view holds only
  ``last_exec_id`` and ``cum_qty``), so the robust source is the journal itself:
  :func:`open_internal_venue` opens the venue as a :class:`CapturingVenue`, whose ``_apply``
  keeps every :class:`~venues.base.Fill` the replay regenerates (replay is deterministic: the
  same commands with the journaled timestamps give the same events with the same ExecIDs).  Every
  captured fill of a gateway order (its venue ClOrdID is a registry booking) that the registry
  has not booked under (venue, ExecID) is booked now, in one unit of work.  Recovery starts at
  the venue's latest snapshot, so fills before it are not regenerated; the per-order check
  below (venue cum qty vs registry cum qty over all booking versions) detects that case and
  falls back to a full replay from sequence 1 in a throw-away venue.
* *Closes.*  A registry booking that is still open but is not the live ClOrdID of a working
  venue order (cancelled / expired / filled while the gateway was down or before the close was
  booked, a replace version the venue never saw, the old version of a replace the venue
  applied, an order that never reached the venue) is closed, releasing its holds.

**Phase 2 (clients), once the acceptor built the session hosts (not yet listening).**

Fill ExecutionReports carry a deterministic ExecID derived from (venue, venue ExecID)
(:func:`~brokers.client.orders.fill_exec_id`).  For every gateway order with booked fills, the
fill reports are rebuilt in booking order (the order's cum / leaves / avg px after each fill);
those whose ExecID is not in the session's message store (never generated, or generated but
killed before it was stored) are sent now: the session is not logged on, so the message is
stored and reaches the client by resend after its next logon (PossDupFlag=Y).  Reports already
in the store go out by the ordinary resend.  Orders that never reached the venue get an
OrdStatus=8 reject.

Cost: phase 1 is linear in the replayed journal (already paid by recovery); phase 2 reads every
sent message of the client stores and every booked fill of the orders in the order journal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from twisted.python import log as twisted_log

from brokers.client import translation as tr
from brokers.client.journal import OrderJournal, session_from
from brokers.client.orders import fill_exec_id, session_key
from brokers.client.writer import utc_from_ns
from brokers.domain.ledger import FillToBook, OrderState
from brokers.domain.orders import ClientOrder, IllegalTransition, InvalidExecution
from brokers.oms.context import NO_FEES, FeeSchedule
from brokers.registry import Registry
from fix_engine.codec.message import FixMessage
from venues import base
from venues.base import OrdType, Side, TimeInForce
from venues.internal.venue import InternalVenue

__all__ = ["CapturingVenue", "Reconciler", "RecoveryReport", "open_internal_venue"]

ZERO = Decimal(0)


class CapturingVenue(InternalVenue):
    """An InternalVenue that keeps the Fill events its journal replay regenerates.

    Capture runs from construction until :meth:`stop_capture` (the gateway calls it right after
    opening, so live fills are not kept)."""

    def _setup(self, *args: Any, **kw: Any) -> None:
        super()._setup(*args, **kw)
        self.captured_fills: list[base.Fill] | None = []

    def _apply(self, command: Any, seq: int, ts: int) -> Any:
        events, md, result = super()._apply(command, seq, ts)
        captured = self.captured_fills
        if captured is not None:
            captured.extend(e for e in events if isinstance(e, base.Fill))
        return events, md, result

    def stop_capture(self) -> list[base.Fill]:
        fills, self.captured_fills = self.captured_fills or [], None
        return fills


def open_internal_venue(name: str, specs: Iterable[Any], journal: Any, clock_ns: Callable[[], int],
                        **kw: Any) -> CapturingVenue:
    """``InternalVenue.open`` that keeps the replayed fills (see :class:`CapturingVenue`)."""
    venue = CapturingVenue.open(name, specs, journal, clock_ns, **kw)
    assert isinstance(venue, CapturingVenue)
    return venue


def _full_replay_fills(name: str, journal: Any, clock_ns: Callable[[], int]) -> list[base.Fill] | None:
    """Every fill since sequence 1 (a throw-away venue replaying without the snapshot), or None."""
    try:
        venue = CapturingVenue.recover(name, journal, clock_ns, use_snapshot=False)
    except Exception as exc:  # noqa: BLE001 - e.g. a journal truncated before the snapshot
        twisted_log.msg(f"fixgate recovery: full venue replay impossible: {exc}")
        return None
    assert isinstance(venue, CapturingVenue)
    return venue.stop_capture()


@dataclass
class _JournalOrder:
    new: dict[str, Any]
    changes: list[dict[str, Any]] = field(default_factory=list)
    replacing: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False


def read_order_journal(path: str | Path) -> dict[str, _JournalOrder]:
    """Every order of the client-order journal (done ones included), by broker OrderID."""
    out: dict[str, _JournalOrder] = {}
    for record in OrderJournal(path).records():
        kind, order_id = record.get("t"), record.get("id")
        if kind == "new":
            out[order_id] = _JournalOrder(record)
        elif order_id in out:
            if kind == "replaced":
                out[order_id].changes.append(record)
            elif kind == "replacing":
                out[order_id].replacing.append(record)
            elif kind == "done":
                out[order_id].done = True
    return out


def root_of(booking_id: str) -> str:
    """The broker OrderID of a booking (``<order_id>`` or a replace version ``<order_id>.<v>``)."""
    return booking_id.split(".", 1)[0]


@dataclass
class RecoveryReport:
    """What phase 1 changed and phase 2 sent (logged by the gateway, read by tests)."""

    replayed_fills: int = 0
    booked: list[str] = field(default_factory=list)  #: venue ExecIDs booked by recovery
    closed: list[str] = field(default_factory=list)  #: bookings closed by recovery
    full_replay: bool = False
    never_reached_venue: list[str] = field(default_factory=list)  #: broker OrderIDs
    replaces_completed: list[str] = field(default_factory=list)  #: version bookings the venue had applied
    terminal: dict[str, str] = field(default_factory=dict)  #: OrderID -> "4"/"C" closed by recovery
    reports_sent: int = 0
    rejects_sent: int = 0

    def summary(self) -> str:
        return (f"fixgate recovery: {self.replayed_fills} replayed fill(s), {len(self.booked)} booked now, "
                f"{len(self.closed)} booking(s) closed{' (full replay)' if self.full_replay else ''}, "
                f"{len(self.replaces_completed)} replace(s) completed, "
                f"{self.reports_sent} execution report(s) regenerated, {self.rejects_sent} reject(s)")


def book_missing_fills(registry: Registry, venue: str, fills: Iterable[base.Fill],
                       fees: Callable[[str], FeeSchedule]) -> list[str]:
    """Book the fills of gateway orders that the registry has not booked yet (by (venue,
    ExecID)), charged with the account's fee schedule; returns their ExecIDs."""
    fills = list(fills)
    to_book: list[FillToBook] = []
    with registry.uow() as uow:
        booked = uow.orders.get_many({f.cl_ord_id for f in fills})
        for f in fills:
            order = booked.get(f.cl_ord_id)
            if order is None:  # not a gateway order (another venue client), or unknown booking
                continue
            if uow.executions.get(venue, f.exec_id) is not None:
                continue
            to_book.append(FillToBook(venue=venue, exec_id=f.exec_id, order_id=order.order_id,
                                      account=order.account, symbol=order.symbol, side=order.side,
                                      qty=f.last_qty, price=f.last_px, currency=order.currency,
                                      ts=utc_from_ns(f.ts),
                                      fees=fees(order.account).fee(f.last_qty * f.last_px)))
    if to_book:
        registry.book_fills(to_book)
    return [f.exec_id for f in to_book]


class Reconciler:
    """Phase 1 (:meth:`reconcile_registry`) and phase 2 (:meth:`report_to_clients`); see the module doc."""

    def __init__(self, registry: Registry, venue: CapturingVenue, order_journal: str | Path,
                 clock_ns: Callable[[], int], fees: Callable[[str], FeeSchedule] | None = None) -> None:
        self.registry = registry
        #: account -> its fee schedule: fills booked here are charged as the gateway charges them
        self.fees: Callable[[str], FeeSchedule] = fees or (lambda account: NO_FEES)
        self.venue = venue
        self.venue_name = venue.name
        self.clock_ns = clock_ns
        self.order_journal = Path(order_journal)
        self.orders = read_order_journal(order_journal)
        self.report = RecoveryReport()
        #: bookings of orders routed to other (external) venues: the internal venue's state says
        #: nothing about them, so they are neither closed nor compared here
        self._foreign_bookings = {
            booking
            for j in self.orders.values() if j.new.get("venue", self.venue_name) != self.venue_name
            for booking in (j.new["booking"], *(c["booking"] for c in j.changes),
                            *(r["booking"] for r in j.replacing))
        }
        #: venues whose fills phase 2 reports to the clients
        self._report_venues = {self.venue_name}

    # ---- phase 1 -------------------------------------------------------------------------------

    def reconcile_registry(self) -> RecoveryReport:
        fills = self.venue.stop_capture()
        self.report.replayed_fills = len(fills)
        self._book(fills)
        self._complete_replaces()
        if self._cum_mismatch():
            full = _full_replay_fills(self.venue_name, self.venue.journal, self.clock_ns)
            if full is not None:
                self.report.full_replay = True
                self._book(full)
                if self._cum_mismatch():
                    twisted_log.msg("fixgate recovery: venue and registry cum qty still differ after full replay")
        self._close_dead_bookings()
        return self.report

    def _book(self, fills: list[base.Fill]) -> None:
        self.report.booked.extend(book_missing_fills(self.registry, self.venue_name, fills, self.fees))

    def book_external_fills(self, venue_name: str, fills: list[base.Fill]) -> None:
        """Book the fills an external venue's child-order journal holds that the registry lacks
        (a crash between the venue applying a report and its booking); phase 2 then reports
        that venue's fills to the clients too."""
        self.report.booked.extend(book_missing_fills(self.registry, venue_name, fills, self.fees))
        self._report_venues.add(venue_name)

    def _complete_replaces(self) -> None:
        """Journal the replaces the venue applied whose ``replaced`` record the crash prevented.

        The gateway journals a ``replacing`` record (client ClOrdID, terms, venue ClOrdID) with
        the new booking version before asking the venue, and ``replaced`` once the venue applied
        it.  A venue that knows the version's ClOrdID applied the replace."""
        records: list[dict[str, Any]] = []
        for order_id, j in self.orders.items():
            if j.done or not j.replacing:
                continue
            owner = session_key(session_from(j.new["session"]))
            done = {c["booking"] for c in j.changes}
            for r in j.replacing:
                if r["booking"] in done or self.venue.order_status(owner, cl_ord_id=r["vcl"]) is None:
                    continue
                record = {"t": "replaced", "id": order_id, "cl": r["cl"], "qty": r["qty"], "px": r["px"],
                          "stop": r["stop"], "vcl": r["vcl"], "booking": r["booking"]}
                j.changes.append(record)
                records.append(record)
                self.report.replaces_completed.append(r["booking"])
        if records:
            journal = OrderJournal(self.order_journal)
            try:
                journal.append(records)
            finally:
                journal.close()

    def _owner(self, booking_id: str) -> str | None:
        j = self.orders.get(root_of(booking_id))
        return session_key(session_from(j.new["session"])) if j is not None else None

    def _open_bookings(self) -> list[Any]:
        """Open bookings of orders at the internal venue."""
        foreign = self._foreign_bookings
        with self.registry.uow() as uow:
            return [o for o in uow.orders.list() if o.status.is_open and o.order_id not in foreign]

    def _cum_mismatch(self) -> bool:
        """True when a live venue order has more (or less) executed than the registry booked for it."""
        with self.registry.uow() as uow:
            all_orders = uow.orders.list()
        cum_by_root: dict[str, Decimal] = defaultdict(Decimal)
        for o in all_orders:
            cum_by_root[root_of(o.order_id)] += o.cum_qty
        for o in all_orders:
            if not o.status.is_open:
                continue
            owner = self._owner(o.order_id)
            if owner is None:
                continue
            view = self.venue.order_status(owner, cl_ord_id=o.order_id)
            if view is None or view.cl_ord_id != o.order_id:
                continue
            if view.cum_qty != cum_by_root[root_of(o.order_id)]:
                twisted_log.msg(f"fixgate recovery: {o.order_id}: venue cum {view.cum_qty}, registry "
                                f"{cum_by_root[root_of(o.order_id)]}")
                return True
        return False

    def _close_dead_bookings(self) -> None:
        live = {view.cl_ord_id for view in self.venue.working_orders()}
        for o in self._open_bookings():
            if o.order_id in live:
                continue
            status = OrderState.CANCELLED
            owner = self._owner(o.order_id)
            view = self.venue.order_status(owner, cl_ord_id=o.order_id) if owner is not None else None
            j = self.orders.get(root_of(o.order_id))
            current = j is not None and o.order_id == (j.changes[-1]["booking"] if j.changes else j.new["booking"])
            if view is not None and view.ord_status == "C" and current:
                status = OrderState.EXPIRED
            if view is not None and view.ord_status in ("4", "C") and current:
                # its cancel / expiry was never reported (the report waits for this close to commit)
                self.report.terminal[root_of(o.order_id)] = view.ord_status
            if view is None and owner is not None and o.order_id == root_of(o.order_id):
                self.report.never_reached_venue.append(o.order_id)
            self.registry.close_order(o.order_id, status)
            self.report.closed.append(o.order_id)

    # ---- phase 2 -------------------------------------------------------------------------------

    def report_to_clients(self, sessions: Any, send: Callable[[FixMessage, Any], None]) -> RecoveryReport:
        """Store (and so deliver by resend) every fill report the clients' stores lack."""
        sent: dict[Any, set[str]] = {}
        for host in sessions:
            sent[host.session_id] = _sent_exec_ids(host.session.store)
        fills_by_booking: dict[str, list[Any]] = defaultdict(list)
        for execution in self.registry.fills():
            if execution.fill is not None and execution.fill.order_id and execution.venue in self._report_venues:
                fills_by_booking[execution.fill.order_id].append(execution)
        now = self.clock_ns()
        for order_id, j in self.orders.items():
            session_id = session_from(j.new["session"])
            if session_id not in sent:
                continue
            bookings = [j.new["booking"], *(c["booking"] for c in j.changes)]
            executions = [e for b in bookings for e in fills_by_booking.get(b, [])]
            if order_id in self.report.never_reached_venue:
                order = _client_order(j.new)
                order.on_rejected()
                send(tr.execution_report(session_id.begin_string, order, exec_id=f"{order_id}.RJ",
                                         exec_type="8", transact_ns=now, ord_rej_reason=0,
                                         text="gateway restarted before the order reached the venue"),
                     session_id)
                self.report.rejects_sent += 1
                continue
            missing = {id(e) for e in executions if fill_exec_id(e.venue, e.exec_id) not in sent[session_id]}
            completed = [c for c in j.changes if c["booking"] in self.report.replaces_completed]
            terminal = self.report.terminal.get(order_id)
            if missing or completed or terminal:
                self._rebuild(session_id, j, executions, missing, terminal, send)
        return self.report

    def _rebuild(self, session_id: Any, j: _JournalOrder, executions: list[Any], missing: set[int],
                 terminal: str | None, send: Callable[[FixMessage, Any], None]) -> None:
        """Replay the order's history (fills in booking order, replaces when a fill names the next
        version) and send the reports the client lacks: missing fills, replaces and the
        cancel/expiry completed by recovery."""
        begin = session_id.begin_string
        order = _client_order(j.new)
        changes = list(j.changes)
        current = j.new["booking"]
        completed = set(self.report.replaces_completed)
        now = self.clock_ns()

        def apply_change() -> None:
            nonlocal current
            change = changes.pop(0)
            qty = Decimal(change["qty"])
            px = Decimal(change["px"]) if change.get("px") is not None else None
            orig = order.cl_ord_id
            order.on_replace_requested(change["cl"], qty, px)
            order.on_replaced(qty, px)
            order.stop_px = Decimal(change["stop"]) if change.get("stop") is not None else None
            current = change["booking"]
            if current in completed:
                send(tr.execution_report(begin, order, exec_id=f"{current}.R", exec_type="5", transact_ns=now,
                                         orig_cl_ord_id=orig), session_id)
                self.report.reports_sent += 1

        try:
            order.on_ack()
            for e in sorted(executions, key=lambda e: e.row_id):
                fill = e.fill
                while fill.order_id != current and any(c["booking"] == fill.order_id for c in changes):
                    apply_change()
                order.on_fill(fill.qty, fill.price)
                if id(e) in missing:
                    send(tr.execution_report(begin, order, exec_id=fill_exec_id(e.venue, e.exec_id),
                                             exec_type="F", transact_ns=int(fill.ts.timestamp() * 1_000_000) * 1000,
                                             last_qty=fill.qty, last_px=fill.price,
                                             orig_cl_ord_id=order.orig_cl_ord_id), session_id)
                    self.report.reports_sent += 1
            while changes:
                apply_change()
            if terminal is not None and not order.status.is_terminal:
                if terminal == "C":
                    order.on_expired()
                else:
                    order.on_cancelled()
                send(tr.execution_report(begin, order, exec_id=f"{current}.{terminal}", exec_type=terminal,
                                         transact_ns=now, orig_cl_ord_id=order.orig_cl_ord_id,
                                         text="closed while the gateway was down (recovered after restart)"),
                     session_id)
                self.report.reports_sent += 1
        except (IllegalTransition, InvalidExecution) as exc:
            twisted_log.msg(f"fixgate recovery: cannot rebuild the reports of {order.order_id}: {exc}")


def _client_order(new: dict[str, Any]) -> ClientOrder:
    return ClientOrder(
        new["id"], new["cl"], str(session_from(new["session"])), new["acct"], new["sym"], Side(new["side"]),
        OrdType(new["type"]), Decimal(new["qty"]),
        Decimal(new["px"]) if new.get("px") is not None else None,
        Decimal(new["stop"]) if new.get("stop") is not None else None,
        TimeInForce(new["tif"]), new.get("exp"), new["venue"],
    )


def _sent_exec_ids(store: Any) -> set[str]:
    """ExecIDs of the ExecutionReports in a session's message store."""
    out: set[str] = set()
    if store is None:
        return out
    last = store.next_sender_seq_num() - 1
    if last < 1:
        return out
    for _seq, raw in store.get_range(1, last):
        if b"\x0135=8\x01" not in raw:
            continue
        try:
            exec_id = FixMessage.parse(raw).get(17)
        except Exception:  # noqa: BLE001 - an unreadable record is just not counted
            continue
        if exec_id:
            out.add(exec_id)
    return out
