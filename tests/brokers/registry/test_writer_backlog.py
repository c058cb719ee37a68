"""RegistryWriter.backlog and its watermark callbacks (deterministic: a Clock and a gated runner).

The backlog counts operations submitted and not finished (open + queued + in flight); it falls
when a batch's callbacks have run, whether its operations committed, were refused or the batch
failed as a whole, and is 0 once the runner is lost.  ``on_backlog_high`` fires when it reaches
``high_water`` (inside that ``submit``), ``on_backlog_low`` when it is back at ``low_water`` or below
(hysteresis: one call per crossing).  Ordering and callbacks are unchanged by the watermarks.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from twisted.internet import defer
from twisted.internet.task import Clock

from brokers.client.writer import BookFill, CloseOrder, OpenOrder, RegistryWriter, RunnerLost
from brokers.client.writer_child import Work
from brokers.domain.accounts import Asset
from brokers.domain.ledger import BookedOrder, FillToBook, Side

USD = Asset.currency("USD")
T0 = datetime.datetime(2026, 1, 2, 10, 0, tzinfo=datetime.UTC)


class GatedRunner:
    """A batch runner whose batches finish when the test says so (``succeed`` / ``fail`` / ``lose``)."""

    started = False

    def __init__(self) -> None:
        self.on_lost: Any = None
        self.batches: list[tuple[Work, defer.Deferred[Any]]] = []

    def start(self) -> None:
        self.started = True

    def run(self, work: Work) -> defer.Deferred[Any]:
        d: defer.Deferred[Any] = defer.Deferred()
        self.batches.append((work, d))
        return d

    def _next(self) -> tuple[Work, defer.Deferred[Any]]:
        assert self.batches, "no batch in flight"
        return self.batches.pop(0)

    def succeed(self, errors: dict[int, Exception] | None = None) -> None:
        work, d = self._next()
        d.callback(([(errors or {}).get(i) for i in range(len(work.groups))], {}))

    def fail(self, error: Exception) -> None:
        self._next()[1].errback(error)

    def lose(self) -> None:
        self._next()[1].errback(RunnerLost("the child died"))

    def stop(self) -> defer.Deferred[None]:
        return defer.succeed(None)

    def close(self) -> None:
        pass


def open_order(n: int, on_done: Any = None) -> OpenOrder:
    booked = BookedOrder(f"O{n}", "ACME", "AAPL", Side.BUY, Decimal(1), Decimal(100), "USD")
    return OpenOrder(booked, {USD: Decimal(100)}, on_done=on_done)


def fill_of(exec_id: str, order_id: str) -> FillToBook:
    return FillToBook(venue="XNAS", exec_id=exec_id, order_id=order_id, account="ACME", symbol="AAPL",
                      side=Side.BUY, qty=Decimal(1), price=Decimal(100), currency="USD", ts=T0)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def high(self, backlog: int) -> None:
        self.calls.append(("high", backlog))

    def low(self, backlog: int) -> None:
        self.calls.append(("low", backlog))


def writer_with(runner: GatedRunner, rec: Recorder, clock: Clock, **kwargs: Any) -> RegistryWriter:
    kwargs.setdefault("high_water", 4)
    kwargs.setdefault("low_water", 1)
    return RegistryWriter(None, clock, runner=runner, on_backlog_high=rec.high,  # type: ignore[arg-type]
                          on_backlog_low=rec.low, **kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_backlog_counts_open_queued_and_in_flight_operations(clock: Clock) -> None:
    runner, rec = GatedRunner(), Recorder()
    writer = writer_with(runner, rec, clock, max_batch=2, high_water=None)
    assert writer.backlog == 0
    for n in range(3):
        writer.submit(open_order(n))
    assert writer.backlog == 3  # all open/queued
    clock.advance(0)  # batch 1 (2 ops) goes to the runner
    assert len(runner.batches) == 1 and writer.backlog == 3
    writer.submit(open_order(3))  # joins the open batch 2 (now 2 ops)
    assert writer.backlog == 4
    runner.succeed()  # batch 1 done: batch 2 starts at once
    assert writer.backlog == 2 and len(runner.batches) == 1
    runner.succeed()
    assert writer.backlog == 0 and writer.idle and rec.calls == []  # no watermarks: no calls


def test_watermarks_have_hysteresis_one_call_per_crossing(clock: Clock) -> None:
    runner, rec = GatedRunner(), Recorder()
    writer = writer_with(runner, rec, clock, max_batch=2, high_water=4, low_water=1)
    for n in range(3):
        writer.submit(open_order(n))
    assert rec.calls == []
    writer.submit(open_order(3))
    assert rec.calls == [("high", 4)] and writer.backlog_high  # inside the submit that reached it
    writer.submit(open_order(4))
    writer.submit(open_order(5))
    assert rec.calls == [("high", 4)]  # still high: no second call
    clock.advance(0)  # batches of 2: [0,1] in flight, [2,3] queued, [4,5] open
    runner.succeed()  # 4 left: above low water
    runner.succeed()  # 2 left
    assert rec.calls == [("high", 4)]
    writer.submit(open_order(6))  # 3 (going up again, but not from low): no call
    assert rec.calls == [("high", 4)]
    runner.succeed()  # [4,5] done, [6] starts: 1 left == low water
    assert rec.calls == [("high", 4), ("low", 1)] and not writer.backlog_high
    for n in range(7, 10):  # 1 + 3 = 4: high again
        writer.submit(open_order(n))
    assert rec.calls == [("high", 4), ("low", 1), ("high", 4)]
    runner.succeed()  # [6] done: 3 left ([7,8] in flight, [9] open)
    runner.succeed()  # 1 left
    assert rec.calls == [("high", 4), ("low", 1), ("high", 4), ("low", 1)]
    runner.succeed()
    assert rec.calls[-1] == ("low", 1) and writer.backlog == 0 and writer.idle


def test_callbacks_keep_their_order_and_low_comes_after_the_batch_callbacks(clock: Clock) -> None:
    runner = GatedRunner()
    events: list[Any] = []
    writer = RegistryWriter(None, clock, runner=runner, high_water=2, low_water=0,  # type: ignore[arg-type]
                            on_backlog_high=lambda b: events.append(("high", b)),
                            on_backlog_low=lambda b: events.append(("low", b)),
                            on_committed=lambda n: events.append(("committed", n)))
    assert writer.submit(open_order(1, on_done=lambda e: events.append(("O1", e)))) == 1
    assert writer.submit(open_order(2, on_done=lambda e: events.append(("O2", e)))) == 1
    clock.advance(0)
    runner.succeed()
    assert events == [("high", 2), ("O1", None), ("O2", None), ("committed", 1), ("low", 0)]
    assert writer.committed == 1


def test_refused_operations_and_failed_batches_leave_the_backlog(clock: Clock) -> None:
    runner, rec = GatedRunner(), Recorder()
    done: list[Any] = []
    writer = writer_with(runner, rec, clock, high_water=3, low_water=0)
    for n in range(3):
        writer.submit(open_order(n, on_done=done.append))
    clock.advance(0)
    refused = ValueError("over buying power")
    runner.succeed({1: refused})  # one operation refused: all three finished
    assert done == [None, refused, None] and writer.backlog == 0
    assert rec.calls == [("high", 3), ("low", 0)]
    # a batch failing as a whole (the database went away): every operation gets the error
    writer.submit(open_order(3, on_done=done.append))
    writer.submit(BookFill(fill_of("E1", "O0"), on_done=done.append))
    writer.submit(CloseOrder("O3", "ACME", on_done=done.append))
    assert rec.calls[-1] == ("high", 3)
    clock.advance(0)
    boom = RuntimeError("database went away")
    runner.fail(boom)
    assert done[3:] == [boom, boom, boom] and writer.backlog == 0 and writer.failed is None
    assert rec.calls == [("high", 3), ("low", 0), ("high", 3), ("low", 0)]


def test_a_lost_runner_leaves_no_backlog_and_reports_low(clock: Clock) -> None:
    runner, rec = GatedRunner(), Recorder()
    fatal: list[str] = []
    order: list[str] = []
    writer = writer_with(runner, rec, clock, max_batch=2, high_water=3, low_water=1)
    writer.on_backlog_low = lambda b: (order.append("low"), rec.low(b))
    writer.on_fatal = lambda m: (order.append("fatal"), fatal.append(m))
    for n in range(5):
        writer.submit(open_order(n))
    clock.advance(0)
    assert writer.backlog == 5 and rec.calls == [("high", 3)]
    runner.lose()  # the batch in flight's outcome is unknown: nothing of it reported
    assert writer.failed is not None and fatal
    assert writer.backlog == 0 and not writer.backlog_high
    assert rec.calls == [("high", 3), ("low", 0)]
    assert order == ["low", "fatal"]  # the input is released before the owner stops
    for n in range(5, 10):  # submitted after the loss: never run, never counted, never high again
        writer.submit(open_order(n))
    assert writer.backlog == 0 and rec.calls == [("high", 3), ("low", 0)]


def test_a_runner_lost_with_no_batch_in_flight(clock: Clock) -> None:
    runner, rec = GatedRunner(), Recorder()
    writer = writer_with(runner, rec, clock, high_water=2, low_water=0, on_fatal=lambda m: None)
    writer.submit(open_order(1))
    writer.submit(open_order(2))
    assert rec.calls == [("high", 2)]
    runner.on_lost("the child exited")  # before the flush ran
    assert writer.backlog == 0 and rec.calls == [("high", 2), ("low", 0)]
    clock.advance(0)
    assert runner.batches == []


def test_a_failing_watermark_callback_does_not_break_the_writer(clock: Clock) -> None:
    runner = GatedRunner()
    writer = RegistryWriter(None, clock, runner=runner, high_water=1, low_water=0,  # type: ignore[arg-type]
                            on_backlog_high=lambda b: 1 / 0, on_backlog_low=lambda b: 1 / 0)
    assert writer.submit(open_order(1)) == 1
    clock.advance(0)
    runner.succeed()
    assert writer.backlog == 0 and writer.committed == 1 and not writer.backlog_high


@pytest.mark.parametrize(("high", "low"), [(0, None), (-1, None), (5, 5), (5, 9), (5, -1)])
def test_bad_watermarks_are_refused(clock: Clock, high: int, low: int | None) -> None:
    with pytest.raises(ValueError):
        RegistryWriter(None, clock, runner=GatedRunner(), high_water=high, low_water=low)  # type: ignore[arg-type]


def test_low_water_defaults_to_half(clock: Clock) -> None:
    writer = RegistryWriter(None, clock, runner=GatedRunner(), high_water=9)  # type: ignore[arg-type]
    assert writer.low_water == 4
