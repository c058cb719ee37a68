"""OrderLifecycle: incoming exchange reports + the broker's order state -> venue events (pure).

The rules that make the broker's view converge on the exchange's, whatever order reports come
in (live, resent after a reconnect with PossDupFlag=Y, or as OrderMassStatus answers):

* An ExecID is acted on once.  A report whose ExecID was seen is ignored.
* Fills are derived from CumQty: a report whose CumQty exceeds the known CumQty yields one
  :class:`~venues.base.Fill` for the difference, whatever its ExecType.  A trade report whose
  LastQty equals the difference is passed on as it is (its ExecID, LastQty, LastPx); otherwise
  (a status report after a reconnect, a cancel that reports an execution we missed) the fill
  is synthesised: ExecID ``<OrderID>:<CumQty>``, LastPx from the two average prices.  A trade
  report whose CumQty does not advance was already counted: no event.  So a fill reaches the
  broker exactly once even when it arrives both by resend and by mass status.
* An order still pending acknowledgement gets :class:`~venues.base.Accepted` before anything
  else the exchange says about it (a synthesised one if the New was missed).
* A status report (ExecType I) whose OrdStatus is cancelled/expired/replaced while the broker
  thinks the order works yields the missing Cancelled/Expired/Replaced.
* Cancels: the reason is CLIENT_REQUEST for our cancel, MASS_CANCEL after our mass cancel,
  the ExecRestatementReason(378) mapping when present, IOC_REMAINDER/FOK_NOT_FILLED for those
  TIFs, CANCEL_ON_DISCONNECT when discovered by reconciliation, else KILL_SWITCH (the exchange
  cancelled by itself without saying why).
* Trade busts and corrections yield :class:`~.events.TradeBust` / :class:`~.events.TradeCorrected`
  and reset CumQty/AvgPx to the report's.

Persistence: the lifecycle stays pure, but it remembers what each call changed -- the orders it
touched and the ExecIDs it acted on -- until :meth:`OrderLifecycle.take_changes`; the venue
journals that before it passes the events on.  ``seen_exec_ids`` comes back from the journal
after a restart (:func:`~.records.rebuild`).
"""

from __future__ import annotations

from venues.base import (
    Accepted,
    Cancelled,
    CancelReason,
    CancelRejected,
    CancelRejectReason,
    CancelRejectResponseTo,
    Expired,
    Fill,
    Liquidity,
    OrdType,
    Rejected,
    RejectReason,
    Replaced,
    Restated,
    TimeInForce,
    Triggered,
)

from .events import ExternalEvent, OrderRestated, TradeBust, TradeCorrected
from .orders import ZERO, ChangeKind, ChildOrder, OrderPhase, OrderTable, PendingChange
from .translate import (
    BusinessRejectReport,
    CancelRejectReport,
    ExecKind,
    ExecReport,
    annotate,
    cancel_reason,
    cancel_reject_reason,
    reject_reason,
    restatement_reason,
)

#: Liquidity of a fill whose report has no LastLiquidityInd(851): assume it took liquidity.
DEFAULT_LIQUIDITY = Liquidity.REMOVED

_TERMINAL_STATUS = {"2", "3", "4", "8", "C"}


class OrderLifecycle:
    """Applies exchange reports to an :class:`OrderTable` and says what the broker must hear."""

    def __init__(self, table: OrderTable, seen_exec_ids: set[str] | None = None) -> None:
        self.table = table
        self._seen_exec_ids: set[str] = seen_exec_ids if seen_exec_ids is not None else set()
        self._new_exec_ids: list[str] = []
        self._touched: dict[int, ChildOrder] = {}

    def take_changes(self) -> tuple[list[ChildOrder], list[str]]:
        """The orders touched and the ExecIDs newly acted on since the last call."""
        orders, exec_ids = list(self._touched.values()), self._new_exec_ids
        self._touched, self._new_exec_ids = {}, []
        return orders, exec_ids

    @property
    def seen_exec_ids(self) -> set[str]:
        """Every ExecID acted on (read-only by convention: the venue journals additions)."""
        return self._seen_exec_ids

    # ------------------------------------------------------------------ ExecutionReport
    def on_execution_report(self, r: ExecReport, now_ns: int) -> list[ExternalEvent]:
        """Events for one ExecutionReport ([] for a duplicate or a report on an unknown order)."""
        if r.kind is not ExecKind.STATUS and r.exec_id:
            if r.exec_id in self._seen_exec_ids:
                return []
        order = self.table.find(r.cl_ord_id, r.orig_cl_ord_id, r.order_id)
        if order is None:
            return []
        self._touched[id(order)] = order
        if r.kind is not ExecKind.STATUS and r.exec_id:
            self._seen_exec_ids.add(r.exec_id)
            self._new_exec_ids.append(r.exec_id)
        ts = r.transact_time_ns if r.transact_time_ns is not None else now_ns
        self.table.link_order_id(order, r.order_id)
        change = self.table.pending.get(r.cl_ord_id)

        if r.kind is ExecKind.REJECTED or (r.kind is ExecKind.STATUS and r.ord_status == "8"):
            return self._rejected(order, r, change, ts)
        if r.kind in (ExecKind.PENDING_NEW,) or (r.kind is ExecKind.STATUS and r.ord_status == "A"):
            return []
        if order.phase is OrderPhase.DONE and r.kind not in (ExecKind.TRADE_CANCEL, ExecKind.TRADE_CORRECT):
            return self._late_fill(order, r, ts)

        events: list[ExternalEvent] = []
        if order.phase is OrderPhase.PENDING_NEW:
            events.append(self._accepted(order, r, ts))
        if r.kind is ExecKind.TRADE_CANCEL:
            return events + [self._busted(order, r, ts)]
        if r.kind is ExecKind.TRADE_CORRECT:
            return events + [self._corrected(order, r, ts)]
        events.extend(self._catch_up_fill(order, r, ts))
        if order.phase is OrderPhase.DONE:
            return events

        kind, status = r.kind, r.ord_status
        if kind is ExecKind.CANCELLED or (kind is ExecKind.STATUS and status == "4"):
            events.append(self._cancelled(order, r, change, ts))
        elif kind is ExecKind.REPLACED or (kind is ExecKind.STATUS and self._shows_replace(order, r, change)):
            events.extend(self._replaced(order, r, change, ts))
        elif kind is ExecKind.EXPIRED or (kind is ExecKind.STATUS and status in ("C", "3")):
            events.append(self._expired(order, r, ts))
        elif kind is ExecKind.RESTATED:
            events.append(self._restated(order, r, ts))
        elif kind is ExecKind.TRIGGERED:
            events.append(self._triggered(order, r, ts))
        return events

    # ------------------------------------------------------------------ other reports
    def on_cancel_reject(self, r: CancelRejectReport, now_ns: int) -> list[ExternalEvent]:
        """OrderCancelReject (35=9) -> CancelRejected for the pending cancel/replace it answers."""
        change = self.table.close_change(r.cl_ord_id, "rejected")
        if change is None:
            return []
        self._touched[id(change.order)] = change.order
        reason, exact = cancel_reject_reason(r.cxl_rej_reason)
        text = r.text if exact else annotate(r.text, 102, r.cxl_rej_reason)
        ts = r.transact_time_ns if r.transact_time_ns is not None else now_ns
        self.table.link_order_id(change.order, r.order_id)
        return [self.cancel_rejected(change, r.response_to, reason, text, ts)]

    def on_business_reject(self, r: BusinessRejectReport, cl_ord_id: str, now_ns: int) -> list[ExternalEvent]:
        """BusinessMessageReject / session Reject of our D, F or G (``cl_ord_id`` is the one we sent)."""
        text = annotate(r.text or "refused by the exchange", 380 if r.ref_msg_type else 373, r.reason)
        change = self.table.close_change(cl_ord_id, "rejected")
        if change is not None:
            self._touched[id(change.order)] = change.order
            response_to = (
                CancelRejectResponseTo.REPLACE if change.kind is ChangeKind.REPLACE else CancelRejectResponseTo.CANCEL
            )
            return [self.cancel_rejected(change, response_to, CancelRejectReason.INVALID_CHANGE, text, now_ns)]
        order = self.table.by_cl_ord_id(cl_ord_id)
        if order is None or order.phase is not OrderPhase.PENDING_NEW:
            return []
        self._touched[id(order)] = order
        order.phase = OrderPhase.DONE
        return [
            Rejected(now_ns, order.symbol, order.owner, order.client_cl_ord_id, f"{cl_ord_id}:rejected",
                     order.side, RejectReason.UNSUPPORTED_ORDER_CHARACTERISTIC, text)
        ]

    # ------------------------------------------------------------------ event builders
    @staticmethod
    def cancel_rejected(
        change: PendingChange,
        response_to: CancelRejectResponseTo,
        reason: CancelRejectReason,
        text: str,
        ts: int,
    ) -> CancelRejected:
        order = change.order
        return CancelRejected(
            ts, order.symbol, order.order_id, order.owner, change.client_cl_ord_id,
            change.client_orig_cl_ord_id, response_to, reason, text,
        )

    def _accepted(self, order: ChildOrder, r: ExecReport, ts: int) -> Accepted:
        order.phase = OrderPhase.WORKING
        exec_id = r.exec_id if r.kind is ExecKind.NEW else f"{order.order_id or order.cl_ord_id}:accepted"
        return Accepted(
            ts, order.symbol, order.order_id, order.owner, order.client_cl_ord_id, exec_id, order.side,
            order.ord_type, order.tif, order.qty, order.price, order.stop_px,
        )

    def _rejected(self, order: ChildOrder, r: ExecReport, change: PendingChange | None, ts: int) -> list[ExternalEvent]:
        if change is not None:  # some exchanges refuse a cancel/replace with an ER 150=8
            self.table.close_change(change.cl_ord_id, "rejected")
            response_to = (
                CancelRejectResponseTo.REPLACE if change.kind is ChangeKind.REPLACE else CancelRejectResponseTo.CANCEL
            )
            cxl_reason, _ = cancel_reject_reason(None)
            return [self.cancel_rejected(change, response_to, cxl_reason, annotate(r.text, 103, r.ord_rej_reason), ts)]
        if order.phase is not OrderPhase.PENDING_NEW:
            return []
        order.phase = OrderPhase.DONE
        self.table.close_pending_for(order)
        reason, exact = reject_reason(r.ord_rej_reason)
        text = r.text if exact else annotate(r.text, 103, r.ord_rej_reason)
        return [Rejected(ts, order.symbol, order.owner, order.client_cl_ord_id, r.exec_id, order.side, reason, text)]

    def _catch_up_fill(self, order: ChildOrder, r: ExecReport, ts: int) -> list[ExternalEvent]:
        if r.cum_qty <= order.cum_qty:
            return []
        diff = r.cum_qty - order.cum_qty
        new_avg = r.avg_px if r.avg_px is not None else None
        if r.kind is ExecKind.TRADE and r.last_qty == diff:
            exec_id, last_qty, last_px = r.exec_id, r.last_qty, r.last_px
        else:
            exec_id, last_qty = f"{order.order_id or order.cl_ord_id}:{r.cum_qty}", diff
            if new_avg is not None:
                last_px = (r.cum_qty * new_avg - order.cum_qty * order.avg_px) / diff
            else:
                last_px = r.last_px
        if new_avg is None:  # FIX.5.0SP2 makes AvgPx optional: keep it ourselves
            new_avg = (order.cum_qty * order.avg_px + last_qty * last_px) / r.cum_qty
        order.cum_qty, order.avg_px = r.cum_qty, new_avg
        # a trade report's LeavesQty is exact; any other report may already be terminal (leaves 0)
        leaves = r.leaves_qty if r.kind is ExecKind.TRADE else max(order.qty - order.cum_qty, ZERO)
        if order.cum_qty >= order.qty or r.ord_status == "2":
            order.phase = OrderPhase.DONE
            self.table.close_pending_for(order)
            leaves = ZERO
        return [
            Fill(
                ts, order.symbol, order.order_id, order.owner, order.client_cl_ord_id, exec_id, order.side,
                r.match_id or exec_id, last_qty, last_px, order.cum_qty, leaves, order.avg_px,
                r.liquidity or DEFAULT_LIQUIDITY, order.account,
            )
        ]

    def _late_fill(self, order: ChildOrder, r: ExecReport, ts: int) -> list[ExternalEvent]:
        """A report on an order the broker thinks is done: only an execution we missed matters."""
        if r.cum_qty <= order.cum_qty:
            return []
        phase = order.phase
        order.phase = OrderPhase.WORKING
        events = self._catch_up_fill(order, r, ts)
        order.phase = phase
        return events

    def _cancelled(self, order: ChildOrder, r: ExecReport, change: PendingChange | None, ts: int) -> Cancelled:
        if change is None or change.kind is not ChangeKind.CANCEL:
            change = next((p for p in self.table.pending_for(order) if p.kind is ChangeKind.CANCEL), None)
        if change is not None:
            cl_ord_id, orig, reason = change.client_cl_ord_id, change.client_orig_cl_ord_id, change.reason
        else:
            cl_ord_id, orig, reason = order.client_cl_ord_id, "", self._unsolicited_reason(order, r)
        cancelled_qty = max(order.qty - order.cum_qty, ZERO)
        order.phase = OrderPhase.DONE
        if change is not None:
            self.table.close_change(change.cl_ord_id, "applied")
        self.table.close_pending_for(order)
        exec_id = r.exec_id if r.kind is not ExecKind.STATUS else f"{order.order_id or order.cl_ord_id}:cancelled"
        return Cancelled(
            ts, order.symbol, order.order_id, order.owner, cl_ord_id, orig, exec_id, order.side,
            order.cum_qty, cancelled_qty, reason,
        )

    @staticmethod
    def _unsolicited_reason(order: ChildOrder, r: ExecReport) -> CancelReason:
        mapped = cancel_reason(r.exec_restatement_reason)
        if mapped is not None:
            return mapped
        if order.mass_cancel_requested:
            return CancelReason.MASS_CANCEL
        if order.tif is TimeInForce.IOC:
            return CancelReason.IOC_REMAINDER
        if order.tif is TimeInForce.FOK:
            return CancelReason.FOK_NOT_FILLED
        if r.kind is ExecKind.STATUS:
            return CancelReason.CANCEL_ON_DISCONNECT
        return CancelReason.KILL_SWITCH

    def _shows_replace(self, order: ChildOrder, r: ExecReport, change: PendingChange | None) -> bool:
        if change is not None and change.kind is ChangeKind.REPLACE:
            return True
        return r.ord_status == "5" and any(p.kind is ChangeKind.REPLACE for p in self.table.pending_for(order))

    def _replaced(self, order: ChildOrder, r: ExecReport, change: PendingChange | None, ts: int) -> list[ExternalEvent]:
        if change is None or change.kind is not ChangeKind.REPLACE:
            change = next((p for p in self.table.pending_for(order) if p.kind is ChangeKind.REPLACE), None)
        old_qty, old_price = order.qty, order.price
        qty = r.qty if r.qty is not None else (change.qty if change else order.qty)
        price = r.price if r.price is not None else (change.price if change else order.price)
        stop_px = r.stop_px if r.stop_px is not None else (change.stop_px if change else order.stop_px)
        order.qty, order.price, order.stop_px = qty, price, stop_px
        orig = order.client_cl_ord_id
        if change is not None:
            self.table.close_change(change.cl_ord_id, "applied")
            orig = change.client_orig_cl_ord_id
            self.table.renamed(order, change.cl_ord_id, change.client_cl_ord_id)
        leaves = r.leaves_qty if r.kind is ExecKind.REPLACED else max(qty - order.cum_qty, ZERO)
        exec_id = r.exec_id if r.kind is not ExecKind.STATUS else f"{order.order_id or order.cl_ord_id}:replaced:{order.cl_ord_id}"
        priority_kept = price == old_price and qty <= old_qty
        if order.cum_qty >= qty:
            order.phase = OrderPhase.DONE
            leaves = ZERO
        return [
            Replaced(
                ts, order.symbol, order.order_id, order.owner, order.client_cl_ord_id, orig, exec_id, order.side,
                qty, price, stop_px, order.cum_qty, leaves, priority_kept,
            )
        ]

    def _expired(self, order: ChildOrder, r: ExecReport, ts: int) -> Expired:
        expired_qty = max(order.qty - order.cum_qty, ZERO)
        order.phase = OrderPhase.DONE
        self.table.close_pending_for(order)
        exec_id = r.exec_id if r.kind is not ExecKind.STATUS else f"{order.order_id or order.cl_ord_id}:expired"
        return Expired(
            ts, order.symbol, order.order_id, order.owner, order.client_cl_ord_id, exec_id, order.side,
            order.cum_qty, expired_qty,
        )

    def _restated(self, order: ChildOrder, r: ExecReport, ts: int) -> ExternalEvent:
        if r.qty is not None:
            order.qty = r.qty
        if r.price is not None:
            order.price = r.price
        reason = restatement_reason(r.exec_restatement_reason)
        if reason is None:
            return OrderRestated(
                ts, order.symbol, order.order_id, order.owner, order.client_cl_ord_id, r.exec_id, order.side,
                order.qty, r.leaves_qty, r.exec_restatement_reason, r.text,
            )
        display = r.display_qty if r.display_qty is not None else r.leaves_qty
        return Restated(
            ts, order.symbol, order.order_id, order.owner, order.client_cl_ord_id, r.exec_id, order.side,
            order.qty, r.leaves_qty, display, reason,
        )

    def _triggered(self, order: ChildOrder, r: ExecReport, ts: int) -> Triggered:
        ord_type = r.ord_type or (OrdType.LIMIT if order.ord_type is OrdType.STOP_LIMIT else OrdType.MARKET)
        return Triggered(
            ts, order.symbol, order.order_id, order.owner, order.client_cl_ord_id, r.exec_id, order.side,
            ord_type, r.price if r.price is not None else order.price,
        )

    def _busted(self, order: ChildOrder, r: ExecReport, ts: int) -> TradeBust:
        self._sync_after_correction(order, r)
        return TradeBust(
            ts, order.symbol, order.order_id, order.owner, order.client_cl_ord_id, r.exec_id, r.exec_ref_id,
            order.side, order.cum_qty, r.leaves_qty, order.avg_px, order.account,
        )

    def _corrected(self, order: ChildOrder, r: ExecReport, ts: int) -> TradeCorrected:
        self._sync_after_correction(order, r)
        return TradeCorrected(
            ts, order.symbol, order.order_id, order.owner, order.client_cl_ord_id, r.exec_id, r.exec_ref_id,
            order.side, r.last_qty, r.last_px, order.cum_qty, r.leaves_qty, order.avg_px, order.account,
        )

    @staticmethod
    def _sync_after_correction(order: ChildOrder, r: ExecReport) -> None:
        order.cum_qty = r.cum_qty
        if r.avg_px is not None:
            order.avg_px = r.avg_px
        if order.phase is OrderPhase.DONE and r.leaves_qty > 0 and r.ord_status not in _TERMINAL_STATUS:
            order.phase = OrderPhase.WORKING
