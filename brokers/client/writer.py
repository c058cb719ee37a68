"""RegistryWriter and Outbox: durable registry work off the reactor, in batches, in order.

**One writer.**  Every registry call is blocking SQL, so it runs on a dedicated thread pool of
exactly one thread (``deferToThreadPool``); a single writer keeps the registry's own
serialisation cheap (no lock contention on SQLite) and makes batches commit in submission order.

**Batches.**  Operations queued during one reactor turn join the *open* batch; while a batch is
in flight the next one keeps collecting (group commit), so under load a batch holds everything
that arrived during the previous commit; the next batch starts as soon as the previous one's
callbacks ran.  A batch runs in one unit of work through ``brokers.registry.batch.apply_batch``:
the rows it needs are read (locked) once, its operations replayed in memory in queue order with
the registry's own rules, and the result written with a fixed number of bulk statements, whatever
the batch holds -- the outcome of running the operations one by one in queue order.  If the batch
fails as a whole (an order over its buying power) it is rolled back and re-run one operation per
transaction with the reference functions, so one refusal never takes its neighbours down and
each refused operation gets its own error.  After the commit the client-order journal records of
the successful operations are appended (one fsync).  The balances of every account the batch
touched are read for the vetting cache (one query): inside the batch's transaction, after its
last statement, when the batch commits as a whole (a single writer: they are the balances the
commit leaves), else after the one-by-one transactions.

**Ordering guarantees.**

1. Operations commit in the order they were queued (one thread, FIFO batches; within a batch the
   replay runs them in queue order).
2. A batch's callbacks run on the reactor after it committed, before the next batch's.
3. :class:`Outbox` releases a client message only after the batch it names (the one holding the
   write it reports) committed, and never overtakes a message queued before it for the same
   client session (sessions do not wait for each other).  So a client never sees an ack for an
   order the registry does not hold, nor a fill that is not booked, and sees its
   ExecutionReports in the order they were generated.
"""

from __future__ import annotations

import datetime as _dt
from collections import deque
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from twisted.internet import defer, threads
from twisted.python import log as twisted_log
from twisted.python.threadpool import ThreadPool

from brokers.domain.accounts import Asset, Balance
from brokers.domain.ledger import BookedOrder, FillToBook, OrderState
from brokers.registry import Registry
from brokers.registry import batch as _batch
from brokers.registry import booking as _booking
from brokers.registry import reservations as _reservations

from .journal import OrderJournal

__all__ = ["BookFill", "CloseOrder", "OpenOrder", "Outbox", "RegistryWriter", "utc_from_ns"]

OnDone = Callable[[Exception | None], None]


def utc_from_ns(ns: int) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(ns / 1_000_000_000, _dt.UTC)


@dataclass(slots=True)
class OpenOrder:
    """Record an order (or a replace version) and reserve its buying power, all or nothing."""

    order: BookedOrder
    reservations: Mapping[Asset | str, Any]
    journal: list[dict[str, Any]] = field(default_factory=list)
    on_done: OnDone | None = None

    @property
    def account(self) -> str:
        return self.order.account


@dataclass(slots=True)
class CloseOrder:
    """Close a booking (cancel / expire / reject; a filled one keeps FILLED) and release its holds."""

    order_id: str
    account: str
    status: OrderState = OrderState.CANCELLED
    journal: list[dict[str, Any]] = field(default_factory=list)
    on_done: OnDone | None = None


@dataclass(slots=True)
class BookFill:
    """Book one fill, exactly once per (venue, ExecID).

    ``close`` is the terminal close of the same order when this fill completes it: one queued
    operation that runs exactly as the fill queued followed by the close (same stage rules, and,
    if the batch falls back to one transaction per operation, the fill and the close each in their
    own transaction; the operation's result is the first error).  ``on_done`` covers both.
    """

    fill: FillToBook
    journal: list[dict[str, Any]] = field(default_factory=list)
    on_done: OnDone | None = None
    close: CloseOrder | None = None

    @property
    def account(self) -> str:
        return self.fill.account


Operation = OpenOrder | BookFill | CloseOrder


def _parts(ops: list[Operation]) -> list[Operation]:
    """The operations as the registry runs them: a fill carrying its order's close becomes the fill
    followed by the close (the fill part is the operation itself; stages never look at ``close``)."""
    parts: list[Operation] = []
    for op in ops:
        parts.append(op)
        if type(op) is BookFill and op.close is not None:
            parts.append(op.close)
    return parts


@dataclass(slots=True)
class _Batch:
    number: int
    ops: list[Operation] = field(default_factory=list)


def _items(parts: list[Operation]) -> list[_batch.Item]:
    """The parts as ``batch.apply_batch`` takes them."""
    items: list[_batch.Item] = []
    for op in parts:
        if isinstance(op, OpenOrder):
            items.append((_batch.OPEN, op.order, op.reservations))
        elif isinstance(op, BookFill):
            items.append((_batch.FILL, op.fill, None))
        else:
            items.append((_batch.CLOSE, op.order_id, op.status))
    return items


class RegistryWriter:
    """Queues registry operations from the reactor and runs them, batched, on one writer thread."""

    def __init__(
        self,
        registry: Registry,
        reactor: Any,
        *,
        journal: OrderJournal | None = None,
        on_snapshot: Callable[[int, dict[str, list[Balance]]], None] | None = None,
        on_committed: Callable[[int], None] | None = None,
        max_batch: int = 5000,
        linger: float = 0.0,
        linger_ops: int = 48,
    ) -> None:
        self.registry = registry
        self.reactor = reactor
        self.journal = journal
        self.on_snapshot = on_snapshot
        self.on_committed = on_committed
        self.max_batch = max_batch
        #: seconds a batch of fewer than ``linger_ops`` operations waits for more before it starts
        #: (0: starts at once).  Under a steady rate, bigger batches cost far less per operation.
        self.linger = linger
        self.linger_ops = linger_ops
        self.pool = ThreadPool(minthreads=1, maxthreads=1, name="fixgate-registry-writer")
        self._open: _Batch | None = None
        self._queued: deque[_Batch] = deque()
        self._in_flight: _Batch | None = None
        self._next = 1
        self.committed = 0  #: the number of the last batch that finished
        self._flush_call: Any = None
        self._lingering = False  #: the pending flush call is a linger, not a next-turn call
        self._idle_waiters: list[defer.Deferred[None]] = []
        self.batches_run = 0

    # ---- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        if not self.pool.started:
            self.pool.start()

    def drain(self) -> defer.Deferred[None]:
        """Fires once everything queued so far has committed."""
        if self.idle:
            return defer.succeed(None)
        d: defer.Deferred[None] = defer.Deferred()
        self._idle_waiters.append(d)
        self._schedule()
        return d

    def stop(self) -> defer.Deferred[None]:
        """Drain, then stop the thread and close the journal."""
        d = self.drain()

        def _stop(_: object) -> None:
            if self.pool.started:
                self.pool.stop()
            if self.journal is not None:
                self.journal.close()

        return d.addCallback(_stop)

    @property
    def idle(self) -> bool:
        return self._open is None and not self._queued and self._in_flight is None

    # ---- queueing ------------------------------------------------------------------------------

    @property
    def current_batch(self) -> int:
        """The batch an operation queued now would join (messages after it wait for this one)."""
        if self._open is not None:
            return self._open.number
        if self._queued:
            return self._queued[-1].number
        if self._in_flight is not None:
            return self._in_flight.number
        return self.committed

    def submit(self, op: Operation) -> int:
        """Queue ``op``; returns the number of the batch it joined."""
        if self._open is None or len(self._open.ops) >= self.max_batch:
            if self._open is not None:
                self._queued.append(self._open)
            self._open = _Batch(self._next)
            self._next += 1
        self._open.ops.append(op)
        self._schedule()
        return self._open.number

    def _delay(self) -> float:
        """How long the next batch may wait for more operations (see ``linger``)."""
        if not self.linger or self._queued or self._open is None or len(self._open.ops) >= self.linger_ops:
            return 0.0
        return self.linger

    def _schedule(self) -> None:
        if self._in_flight is not None:
            return
        delay = self._delay()
        call = self._flush_call
        if call is not None:
            if delay or not self._lingering:
                return
            call.cancel()  # the batch has grown enough: it starts now instead of after the linger
        self._lingering = bool(delay)
        self._flush_call = self.reactor.callLater(delay, self._flush)

    def _flush(self) -> None:
        self._flush_call = None
        if self._in_flight is not None:
            return
        if self._queued:
            batch = self._queued.popleft()
        elif self._open is not None:
            batch, self._open = self._open, None
        else:
            self._wake_idle()
            return
        self._in_flight = batch
        self.start()
        d = threads.deferToThreadPool(self.reactor, self.pool, self._run, batch.ops)
        d.addCallbacks(self._done, self._failed, callbackArgs=(batch,), errbackArgs=(batch,))

    # ---- the writer thread ---------------------------------------------------------------------

    def _run(self, ops: list[Operation]) -> tuple[list[Exception | None], dict[str, list[Balance]]]:
        parts = _parts(ops)
        accounts = {op.account for op in ops}
        records: list[dict[str, Any]]
        snapshot: dict[str, list[Balance]] | None
        try:
            with self.registry.uow() as uow:
                self._apply_parts(uow, parts, strict=True)
                # read in the batch's own transaction (this thread is the only writer): the balances
                # as the commit leaves them, without a transaction of its own
                snapshot = uow.balances.for_accounts(accounts)
            results: list[Exception | None] = [None] * len(ops)
            records = [r for part in parts for r in part.journal]
        except Exception:
            snapshot = None
            results = []
            records = []
            for op in ops:
                error: Exception | None = None
                for part in _parts([op]):
                    try:
                        with self.registry.uow() as uow:
                            self._apply_parts(uow, [part], strict=False)
                        records.extend(part.journal)
                    except Exception as exc:  # noqa: BLE001 - reported per operation
                        if error is None:
                            error = exc
                results.append(error)
        if self.journal is not None:
            self.journal.append(records)
        if snapshot is None:
            with self.registry.uow() as uow:
                snapshot = uow.balances.for_accounts(accounts)
        return results, snapshot

    @staticmethod
    def _apply(uow: Any, ops: list[Operation], *, strict: bool) -> None:
        RegistryWriter._apply_parts(uow, _parts(ops), strict=strict)

    @staticmethod
    def _apply_parts(uow: Any, parts: list[Operation], *, strict: bool) -> None:
        """Run operations already split by :func:`_parts` (a fill's ``close`` is not looked at).

        ``strict``: the whole list in one replay (``batch.apply_batch``), refused as a whole if any
        part would be.  Otherwise one part at a time with the reference functions (the refused-batch
        fallback: they raise the precise error of a refused part; an unknown order's close is skipped).
        """
        if strict:
            _batch.apply_batch(uow, _items(parts))
            return
        for op in parts:
            if isinstance(op, OpenOrder):
                _reservations.open_orders(uow, [(op.order, op.reservations)])
            elif isinstance(op, BookFill):
                _booking.book_fills(uow, [op.fill])
            else:
                _reservations.close_orders(uow, [(op.order_id, op.status)], skip_unknown=True)

    # ---- back on the reactor -------------------------------------------------------------------

    def _done(self, result: tuple[list[Exception | None], dict[str, list[Balance]]], batch: _Batch) -> None:
        results, snapshot = result
        self._finish(batch, results, snapshot)

    def _failed(self, failure: Any, batch: _Batch) -> None:
        twisted_log.err(failure, f"fixgate: registry batch {batch.number} failed")
        exc = failure.value if isinstance(failure.value, Exception) else RuntimeError(str(failure))
        self._finish(batch, [exc] * len(batch.ops), {})

    def _finish(self, batch: _Batch, results: list[Exception | None], snapshot: dict[str, list[Balance]]) -> None:
        self.committed = batch.number
        self._in_flight = None
        self.batches_run += 1
        if self.on_snapshot is not None:
            self.on_snapshot(batch.number, snapshot)
        for op, error in zip(batch.ops, results, strict=True):
            if op.on_done is not None:
                try:
                    op.on_done(error)
                except Exception:
                    twisted_log.err(None, "fixgate: registry callback failed")
            elif error is not None:
                twisted_log.msg(f"fixgate: registry operation {op!r} failed: {error}")
        if self.on_committed is not None:
            self.on_committed(batch.number)
        if self.idle:
            self._wake_idle()
        elif self._in_flight is None:
            if self._flush_call is not None:
                self._flush_call.cancel()
                self._flush_call = None
            if self._delay():
                self._schedule()  # a small batch lingers for more operations
            else:
                self._flush()  # start the next batch now, not a reactor turn later

    def _wake_idle(self) -> None:
        waiters, self._idle_waiters = self._idle_waiters, []
        for d in waiters:
            d.callback(None)


class Outbox:
    """Client messages held until the registry batch they depend on has committed (FIFO per session).

    Each client session has its own queue: a message never overtakes one queued before it for the
    same session, but a session's ack does not wait behind another session's fill report.
    """

    def __init__(self, send: Callable[[Any, Any], None], committed: Callable[[], int],
                 batched: Callable[[Any], AbstractContextManager[Any]] | None = None) -> None:
        self._send = send
        self._committed = committed
        #: session -> a context grouping that session's sends (one store write, one socket write)
        self._batched: Callable[[Any], AbstractContextManager[Any]] = batched or (lambda session_id: nullcontext())
        self._queues: dict[Any, deque[tuple[int, Any]]] = {}

    def send(self, message: Any, session_id: Any, after: int = 0) -> None:
        """Send ``message`` once batch ``after`` committed and every earlier message of its session went out."""
        queue = self._queues.get(session_id)
        if not queue and after <= self._committed():
            self._send(message, session_id)
        elif queue is None:
            self._queues[session_id] = deque([(after, message)])
        else:
            queue.append((after, message))

    def release(self, committed: int) -> None:
        """Send what batch ``committed`` unblocked, in order within each session."""
        for session_id, queue in list(self._queues.items()):
            if queue and queue[0][0] <= committed:
                with self._batched(session_id):  # what a batch releases for a session goes out as one group
                    while queue and queue[0][0] <= committed:
                        self._send(queue.popleft()[1], session_id)
            if not queue and self._queues.get(session_id) is queue:
                del self._queues[session_id]

    def __len__(self) -> int:
        return sum(len(queue) for queue in self._queues.values())
