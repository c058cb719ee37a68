"""RegistryWriter and Outbox: durable registry work off the reactor, in batches, in order.

**One writer.**  Every registry call is blocking SQL, so it never runs on the reactor: each batch
goes to a *batch runner*, one batch at a time.  A single writer keeps the registry's own
serialisation cheap (no lock contention on SQLite) and makes batches commit in submission order.
Two runners exist:

* :class:`ThreadRunner` -- a thread pool of exactly one thread in this process
  (``deferToThreadPool``).  Simple, but the SQL work competes with the reactor for the GIL.
* :class:`brokers.client.writer_process.ProcessRunner` -- a child Python process
  (``python -m brokers.client.writer_child``) with its own registry engine, spoken to over its
  stdin/stdout from the reactor (a ``ProcessProtocol``: no extra thread); the SQL work runs on
  another core.  The gateway uses it with ``RegistryWriterProcess=Y`` (its default is ``N``: the
  thread).

Both run the same code on the same :class:`~brokers.client.writer_child.Work` (the batch's parts as
registry items, their journal records, the parts per operation, the accounts to snapshot):
:func:`brokers.client.writer_child.perform`.  The client-order journal is appended where the
batch runs -- the writer thread, or the child -- and only there (one writer of that file).

**Batches.**  Operations queued during one reactor turn join the *open* batch; while a batch is
in flight the next one keeps collecting (group commit), so under load a batch holds everything
that arrived during the previous commit; the next batch starts as soon as the previous one's
callbacks ran.  A batch runs in one unit of work through ``brokers.registry.batch.apply_batch``:
the rows it needs are read (locked) once, its operations replayed in memory in queue order with
the registry's own rules, and the result written with a fixed number of bulk statements, whatever
the batch holds -- the outcome of running the operations one by one in queue order.  If the batch
fails as a whole (an order over its buying power) it is rolled back and re-run one operation per
transaction with the reference functions, so one refusal never takes its neighbours down and
each refused operation gets its own error (:mod:`brokers.registry.writer_batch`).  After the
commit the client-order journal records of the operations that committed are appended (one
fsync).  The balances of every account the batch touched are read for the vetting cache (one
query): inside the batch's transaction, after its last statement, when the batch commits as a
whole (a single writer: they are the balances the commit leaves), else after the one-by-one
transactions.

**Ordering guarantees.**

1. Operations commit in the order they were queued (one runner, one batch in flight, FIFO
   batches; within a batch the replay runs them in queue order).
2. A batch's callbacks (``on_done`` of each operation, then ``on_committed``) run on the reactor
   after it committed, before the next batch's.
3. :class:`Outbox` releases a client message only after the batch it names (the one holding the
   write it reports) committed, and never overtakes a message queued before it for the same
   client session (sessions do not wait for each other).  So a client never sees an ack for an
   order the registry does not hold, nor a fill that is not booked, and sees its
   ExecutionReports in the order they were generated.

**Backlog.**  ``backlog`` is the number of operations submitted and not finished yet (in the open
batch, the queued ones and the one in flight): one counter, raised by ``submit`` and lowered when a
batch's callbacks have run, whether its operations committed or failed; 0 once the runner is lost
(nothing of it will ever finish).  With ``high_water`` set, ``on_backlog_high(backlog)`` is called
when the backlog reaches ``high_water`` (synchronously, inside the ``submit`` that reached it) and
then ``on_backlog_low(backlog)`` once it is back at ``low_water`` or below (after the callbacks of
the batch that brought it there, or when the runner is lost), and so on: hysteresis, one call per
crossing.  The gateway holds its clients' input in between (inbound flow control).  Nothing else
changes: operations are never refused nor reordered because of the backlog.

**Errors.**  An operation the registry refuses gets its exception, of its own type (the process
runner rebuilds it: ``writer_child.decode_error``), in ``on_done``; a batch that fails as a whole
(the database went away) gives every operation of it that exception.  A runner that can no longer
say what became of the batch in flight -- the child process died or answered garbage -- raises
:class:`RunnerLost`: the batch may or may not have committed, so nothing is reported for it (no
``on_done``, no ``on_committed``, ``committed`` does not move), the writer stops taking batches
(``failed`` says why), a critical error naming the batch is logged and ``on_fatal`` is called: the
gateway stops, and its crash recovery rebuilds the truth from the journals on restart.
"""

from __future__ import annotations

import datetime as _dt
from collections import deque
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol

from twisted.internet import defer, threads
from twisted.logger import Logger
from twisted.python import log as twisted_log
from twisted.python.threadpool import ThreadPool

from brokers.domain.accounts import Asset, Balance
from brokers.domain.ledger import BookedOrder, FillToBook, OrderState
from brokers.registry import Registry
from brokers.registry import batch as _batch

from .journal import OrderJournal
from .writer_child import Work, perform

__all__ = ["BatchRunner", "BookFill", "CloseOrder", "OpenOrder", "Outbox", "RegistryWriter", "RunnerLost",
           "ThreadRunner", "utc_from_ns"]

OnDone = Callable[[Exception | None], None]
Snapshot = dict[str, list[Balance]]
Outcome = tuple[list[Exception | None], Snapshot]

_log = Logger(namespace="fixgate.registry.writer")
_NEVER = 1 << 62  #: a backlog no writer reaches


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


def work_for(number: int, ops: list[Operation]) -> Work:
    """Batch ``number`` of ``ops`` as a runner takes it."""
    parts = _parts(ops)
    return Work(number, _items(parts), [part.journal for part in parts],
                [2 if type(op) is BookFill and op.close is not None else 1 for op in ops],
                list({op.account for op in ops}))


@dataclass(slots=True)
class _Batch:
    number: int
    ops: list[Operation] = field(default_factory=list)


# ---- batch runners ------------------------------------------------------------------------------


class RunnerLost(Exception):
    """The batch runner can no longer tell what became of the batch in flight (its outcome is unknown)."""


class BatchRunner(Protocol):
    """Where the writer's batches run, one at a time: ``run`` returns a Deferred firing on the reactor
    with ``(per-operation error or None, balance snapshot)``, failing with the batch's exception if
    it failed as a whole, or with :class:`RunnerLost` if its outcome is unknown.  ``on_lost`` is
    called when the runner dies with no batch in flight."""

    on_lost: Callable[[str], None] | None

    @property
    def started(self) -> bool: ...

    def start(self) -> None: ...

    def run(self, work: Work) -> defer.Deferred[Outcome]: ...

    def stop(self) -> defer.Deferred[None]:
        """Release the runner once idle (the writer drains before calling it)."""
        ...

    def close(self) -> None:
        """Release what is left, now, without waiting (idempotent)."""
        ...


class ThreadRunner:
    """Runs each batch on one dedicated thread of this process, appending the client-order journal there."""

    def __init__(self, registry: Registry, reactor: Any, journal: OrderJournal | None = None) -> None:
        self.registry = registry
        self.reactor = reactor
        self.journal = journal
        self.pool = ThreadPool(minthreads=1, maxthreads=1, name="fixgate-registry-writer")
        self.on_lost: Callable[[str], None] | None = None  # a thread is not lost

    @property
    def started(self) -> bool:
        return bool(self.pool.started)

    def start(self) -> None:
        if not self.pool.started:
            self.pool.start()

    def run(self, work: Work) -> defer.Deferred[Outcome]:
        self.start()
        return threads.deferToThreadPool(self.reactor, self.pool, perform, self.registry, self.journal, work)

    def stop(self) -> defer.Deferred[None]:
        self.close()
        return defer.succeed(None)

    def close(self) -> None:
        if self.pool.started:
            self.pool.stop()
        if self.journal is not None:
            self.journal.close()


# ---- the writer ---------------------------------------------------------------------------------


class RegistryWriter:
    """Queues registry operations from the reactor and runs them, batched, one batch at a time on a
    :class:`BatchRunner` (default: a :class:`ThreadRunner` on ``registry`` and ``journal``)."""

    def __init__(
        self,
        registry: Registry,
        reactor: Any,
        *,
        journal: OrderJournal | None = None,
        runner: BatchRunner | None = None,
        on_snapshot: Callable[[int, dict[str, list[Balance]]], None] | None = None,
        on_committed: Callable[[int], None] | None = None,
        on_fatal: Callable[[str], None] | None = None,
        max_batch: int = 5000,
        linger: float = 0.0,
        linger_ops: int = 48,
        high_water: int | None = None,
        low_water: int | None = None,
        on_backlog_high: Callable[[int], None] | None = None,
        on_backlog_low: Callable[[int], None] | None = None,
    ) -> None:
        if runner is not None and journal is not None:
            raise ValueError("the journal belongs to the runner: give it to the runner, not to the writer")
        if high_water is not None and high_water < 1:
            raise ValueError(f"high_water must be at least 1 (None: no watermarks), not {high_water}")
        if low_water is None:
            low_water = (high_water or 0) // 2
        if low_water < 0 or (high_water is not None and low_water >= high_water):
            raise ValueError(f"low_water must be 0 or more and below high_water ({high_water}), not {low_water}")
        self.registry = registry
        self.reactor = reactor
        self.runner: BatchRunner = runner if runner is not None else ThreadRunner(registry, reactor, journal)
        self.runner.on_lost = self._runner_lost
        self.on_snapshot = on_snapshot
        self.on_committed = on_committed
        #: called (on the reactor) with the critical message when the runner is lost: the owner stops
        self.on_fatal = on_fatal
        self.max_batch = max_batch
        #: seconds a batch of fewer than ``linger_ops`` operations waits for more before it starts
        #: (0: starts at once).  Under a steady rate, bigger batches cost far less per operation.
        self.linger = linger
        self.linger_ops = linger_ops
        self._open: _Batch | None = None
        self._queued: deque[_Batch] = deque()
        self._in_flight: _Batch | None = None
        self._next = 1
        self.committed = 0  #: the number of the last batch that finished
        self._flush_call: Any = None
        self._lingering = False  #: the pending flush call is a linger, not a next-turn call
        self._idle_waiters: list[defer.Deferred[None]] = []
        self.batches_run = 0
        #: why the writer stopped taking batches (its runner was lost), else None
        self.failed: str | None = None
        #: watermarks of the backlog (see the module docstring): None: no callbacks
        self.high_water = high_water
        self.low_water = low_water
        self.on_backlog_high = on_backlog_high
        self.on_backlog_low = on_backlog_low
        self._backlog = 0
        #: the backlog at which ``submit`` reports high: ``high_water``, or never (off, or already high)
        self._high_mark = high_water if high_water is not None else _NEVER
        #: the backlog reached ``high_water`` and has not been back to ``low_water`` since
        self.backlog_high = False

    # ---- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        if not self.runner.started and self.failed is None:
            self.runner.start()

    def drain(self) -> defer.Deferred[None]:
        """Fires once everything queued so far has committed (fails with :class:`RunnerLost` if the
        runner is lost before)."""
        if self.failed is not None:
            return defer.fail(RunnerLost(self.failed))
        if self.idle:
            return defer.succeed(None)
        d: defer.Deferred[None] = defer.Deferred()
        self._idle_waiters.append(d)
        self._schedule()
        return d

    def stop(self) -> defer.Deferred[None]:
        """Drain, then stop the runner (its thread or its process; the journal is closed).  After the
        runner was lost there is nothing to drain: the runner is released at once."""
        d = self.drain() if self.failed is None else defer.succeed(None)

        return d.addBoth(lambda _: self.runner.stop())

    def close(self) -> None:
        """Release the runner now (``Gateway.close``; idempotent)."""
        self.runner.close()

    @property
    def idle(self) -> bool:
        return self._open is None and not self._queued and self._in_flight is None

    @property
    def backlog(self) -> int:
        """Operations submitted and not finished yet (open + queued + in flight); 0 once the runner
        is lost (none of them will finish)."""
        return 0 if self.failed is not None else self._backlog

    def _went_high(self) -> None:
        self._high_mark = _NEVER  # until the backlog is back at low water
        self.backlog_high = True
        callback = self.on_backlog_high
        if callback is not None:
            try:
                callback(self._backlog)
            except Exception:
                twisted_log.err(None, "fixgate: registry backlog callback (high) failed")

    def _went_low(self) -> None:
        self.backlog_high = False
        if self.failed is None and self.high_water is not None:
            self._high_mark = self.high_water
        callback = self.on_backlog_low
        if callback is not None:
            try:
                callback(self.backlog)
            except Exception:
                twisted_log.err(None, "fixgate: registry backlog callback (low) failed")

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
        self._backlog += 1
        if self._backlog >= self._high_mark:
            self._went_high()
        self._schedule()
        return self._open.number

    def _delay(self) -> float:
        """How long the next batch may wait for more operations (see ``linger``)."""
        if not self.linger or self._queued or self._open is None or len(self._open.ops) >= self.linger_ops:
            return 0.0
        return self.linger

    def _schedule(self) -> None:
        if self._in_flight is not None or self.failed is not None:
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
        if self._in_flight is not None or self.failed is not None:
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
        d = self.runner.run(work_for(batch.number, batch.ops))
        d.addCallbacks(self._done, self._failed, callbackArgs=(batch,), errbackArgs=(batch,))

    # ---- back on the reactor -------------------------------------------------------------------

    def _done(self, result: Outcome, batch: _Batch) -> None:
        results, snapshot = result
        self._finish(batch, results, snapshot)

    def _failed(self, failure: Any, batch: _Batch) -> None:
        if failure.check(RunnerLost):
            self._lost(str(failure.value), batch)
            return
        twisted_log.err(failure, f"fixgate: registry batch {batch.number} failed")
        exc = failure.value if isinstance(failure.value, Exception) else RuntimeError(str(failure))
        self._finish(batch, [exc] * len(batch.ops), {})

    def _runner_lost(self, reason: str) -> None:
        """The runner's ``on_lost``: it died with no batch in flight (or one it already failed)."""
        self._lost(reason, self._in_flight)

    def _lost(self, reason: str, batch: _Batch | None) -> None:
        if self.failed is not None:
            return
        if batch is not None:
            what = (f"registry batch {batch.number} ({len(batch.ops)} operation(s)) was in flight: its outcome "
                    f"is unknown (it may or may not have committed), so none of its operations is reported")
        else:
            what = "no registry batch was in flight"
        waiting = len(self._queued) + (self._open is not None)
        self.failed = (f"fixgate: CRITICAL: the registry writer was lost ({reason}); {what}; "
                       f"{waiting} queued batch(es) will not run.  The gateway stops: restart it, its crash "
                       f"recovery rebuilds the state from the registry and the journals")
        _log.critical("{message}", message=self.failed)
        self._backlog = 0  # nothing queued will finish: no backlog to wait for
        self._high_mark = _NEVER
        if self.backlog_high:
            self._went_low()
        if self._flush_call is not None:
            self._flush_call.cancel()
            self._flush_call = None
        waiters, self._idle_waiters = self._idle_waiters, []
        for d in waiters:
            d.errback(RunnerLost(self.failed))
        if self.on_fatal is not None:
            self.on_fatal(self.failed)

    def _finish(self, batch: _Batch, results: list[Exception | None], snapshot: dict[str, list[Balance]]) -> None:
        self.committed = batch.number
        self._in_flight = None
        self.batches_run += 1
        self._backlog -= len(batch.ops)
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
        if self.backlog_high and self._backlog <= self.low_water:
            self._went_low()
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
