"""The process runner's own behaviour: losing its child, garbage, start failures, signals, the wire.

A lost child with a batch in flight leaves that batch's outcome unknown: nothing of it is reported,
the writer stops taking batches, ``on_fatal`` gets a critical message naming the batch, and
drain / stop do not hang.  Misbehaving children are ``writer_child_standin.py``.  Waits are bounded
(``event_waits`` and Deferred timeouts), never sleeps.
"""

from __future__ import annotations

import datetime as dt
import os
import select
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from twisted.internet import defer, reactor
from twisted.trial import unittest

from brokers.client.writer import OpenOrder, RegistryWriter, RunnerLost
from brokers.client.writer_child import (
    PASSWORD_ENV,
    Work,
    WriterChildError,
    decode_error,
    decode_work,
    encode_error,
    encode_work,
    frame,
    read_frame,
)
from brokers.client.writer_process import ProcessRunner
from brokers.domain.accounts import ZERO, Account, Asset, InsufficientFunds
from brokers.domain.ledger import BookedOrder, FillToBook, OrderState, Side, UnknownOrder
from brokers.registry import Registry
from brokers.registry.batch import CLOSE, FILL, OPEN
from brokers.registry.database import is_memory_database, without_password

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # tests/: the shared test helpers
import event_waits  # noqa: E402

STANDIN = HERE / "writer_child_standin.py"
T0 = dt.datetime(2024, 6, 3, 13, 30, tzinfo=dt.UTC)
USD = Asset.currency("USD")
WAIT = 30.0


def buy(order_id: str) -> BookedOrder:
    return BookedOrder(order_id, "ACME", "AAPL", Side.BUY, Decimal(1), Decimal(100), "USD")


class ProcessRunnerTest(unittest.TestCase):
    """A writer on a real child process (SQLite file registry), on the real reactor."""

    timeout = 120

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="fixgate-writer-process-"))
        self.db = self.tmp / "registry.db"
        self.url = f"sqlite:///{self.db}"
        self.registry = Registry(self.url)
        self.registry.upgrade()
        self.registry.open_account(Account("ACME"))
        self.registry.deposit("ACME", "1000", "USD")
        self.journal_path = self.tmp / "orders.jsonl"
        self.events: list[tuple[str, Any]] = []
        self.waiters: list[event_waits.Waiter] = []
        self.writers: list[RegistryWriter] = []

    async def _teardown(self) -> None:
        for writer in self.writers:
            await writer.stop().addTimeout(WAIT, reactor)
        self.registry.close()

    def tearDown(self) -> defer.Deferred[None]:
        return defer.ensureDeferred(self._teardown())

    def record(self, kind: str) -> Any:
        return lambda value: event_waits.record(self.events, self.waiters, (kind, value))

    def wait(self, kind: str) -> defer.Deferred[Any]:
        return event_waits.wait_for(self.events, self.waiters, lambda e: e[0] == kind, WAIT)

    def writer(self, command: list[str] | None = None, url: str | None = None) -> RegistryWriter:
        runner = ProcessRunner(reactor, url or self.url, journal=self.journal_path, echo=self.record("echo"),
                               command=command)
        made = RegistryWriter(self.registry, reactor, runner=runner, on_fatal=self.record("fatal"),
                              on_committed=self.record("committed"))
        made.start()
        self.writers.append(made)
        return made

    async def ready(self, writer: RegistryWriter) -> int:
        await self.wait("echo")
        runner = writer.runner
        assert isinstance(runner, ProcessRunner) and runner.ready and runner.pid is not None
        return runner.pid

    async def assert_lost_quietly(self, writer: RegistryWriter) -> None:
        """drain fails, stop returns, nothing was reported."""
        with pytest.raises(RunnerLost):
            await writer.drain()
        await writer.stop().addTimeout(WAIT, reactor)
        assert not any(kind in ("done", "committed") for kind, _ in self.events)
        assert writer.committed == 0

    # ---- the child dies ------------------------------------------------------------------------

    async def test_a_child_killed_with_a_batch_in_flight_stops_everything_and_reports_nothing(self) -> None:
        writer = self.writer()
        pid = await self.ready(writer)
        lock = sqlite3.connect(self.db, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")  # the child's batch waits for the write lock: surely in flight
        try:
            writer.submit(OpenOrder(buy("O1"), {USD: Decimal(100)}, journal=[{"t": "new", "id": "O1"}],
                                    on_done=self.record("done")))
            writer.submit(OpenOrder(buy("O2"), {USD: Decimal(100)}, on_done=self.record("done")))
            await self.wait_for_flight(writer)
            os.kill(pid, signal.SIGKILL)
            _, message = await self.wait("fatal")
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        assert "CRITICAL" in message and "registry batch 1 (2 operation(s)) was in flight" in message
        assert "outcome is unknown" in message and f"process {pid} was killed by signal 9" in message
        assert writer.failed == message
        await self.assert_lost_quietly(writer)
        writer.submit(OpenOrder(buy("O3"), {USD: Decimal(100)}, on_done=self.record("done")))  # never runs
        with self.registry.uow() as uow:
            assert uow.orders.get_many(["O1", "O2", "O3"]) == {}
        assert not self.journal_path.exists() or self.journal_path.read_text() == ""

    async def wait_for_flight(self, writer: RegistryWriter) -> None:
        d: defer.Deferred[None] = defer.Deferred()
        reactor.callLater(0, d.callback, None)
        await d
        assert writer.current_batch == 1 and not writer.idle and writer.committed == 0

    async def test_a_child_killed_while_idle_stops_everything_too(self) -> None:
        writer = self.writer()
        pid = await self.ready(writer)
        writer.submit(OpenOrder(buy("O1"), {USD: Decimal(100)}, on_done=self.record("done")))
        await writer.drain().addTimeout(WAIT, reactor)
        os.kill(pid, signal.SIGKILL)
        _, message = await self.wait("fatal")
        assert "no registry batch was in flight" in message
        with pytest.raises(RunnerLost):
            await writer.drain()
        await writer.stop().addTimeout(WAIT, reactor)

    async def test_a_child_that_cannot_open_the_registry_is_reported(self) -> None:
        writer = self.writer(url=f"sqlite:///{self.tmp / 'missing' / 'dir' / 'registry.db'}")
        _, message = await self.wait("fatal")
        assert "could not start: OperationalError" in message and "unable to open database file" in message
        await writer.stop().addTimeout(WAIT, reactor)

    async def test_sigint_and_sigterm_do_not_stop_the_child(self) -> None:
        writer = self.writer()
        pid = await self.ready(writer)
        os.kill(pid, signal.SIGINT)
        os.kill(pid, signal.SIGTERM)
        writer.submit(OpenOrder(buy("O1"), {USD: Decimal(100)}, on_done=self.record("done")))
        await writer.drain().addTimeout(WAIT, reactor)
        assert ("done", None) in self.events and writer.failed is None

    # ---- the child answers garbage -------------------------------------------------------------

    async def misbehaving(self, mode: str) -> tuple[RegistryWriter, str]:
        writer = self.writer(command=[str(STANDIN), mode])
        await self.ready(writer)
        writer.submit(OpenOrder(buy("O1"), {USD: Decimal(100)}, on_done=self.record("done")))
        _, message = await self.wait("fatal")
        return writer, message

    async def test_garbage_from_the_child_is_fatal_and_kills_it(self) -> None:
        writer, message = await self.misbehaving("garbage")
        assert "registry batch 1 (1 operation(s)) was in flight" in message and "an unreadable frame" in message
        await self.assert_lost_quietly(writer)
        assert not writer.runner.started  # killed

    async def test_an_oversized_frame_is_fatal(self) -> None:
        writer, message = await self.misbehaving("huge")
        assert "a frame of" in message
        await self.assert_lost_quietly(writer)

    async def test_a_reply_to_another_batch_is_fatal(self) -> None:
        writer, message = await self.misbehaving("wrong-number")
        assert "expected to send a reply to batch 1" in message
        await self.assert_lost_quietly(writer)

    async def test_an_unsolicited_reply_is_fatal(self) -> None:
        writer = self.writer(command=[str(STANDIN), "unexpected"])
        _, message = await self.wait("fatal")
        assert "no registry batch was in flight" in message and "expected to send nothing" in message
        await writer.stop().addTimeout(WAIT, reactor)

    async def test_a_batch_failed_as_a_whole_gives_every_operation_its_error(self) -> None:
        writer = self.writer(command=[str(STANDIN), "failed"])
        writer.submit(OpenOrder(buy("O1"), {USD: Decimal(100)}, on_done=self.record("done")))
        writer.submit(OpenOrder(buy("O2"), {USD: Decimal(100)}, on_done=self.record("done")))
        await writer.drain().addTimeout(WAIT, reactor)
        errors = [value for kind, value in self.events if kind == "done"]
        assert [type(e) for e in errors] == [ValueError, ValueError]
        assert [str(e) for e in errors] == ["the disk is on fire"] * 2
        assert writer.failed is None and writer.committed == 1
        self.flushLoggedErrors(ValueError)


# ---- no extra process needed ----------------------------------------------------------------------


def test_errors_keep_their_type_text_and_attributes_across_the_pipe() -> None:
    funds = InsufficientFunds("ACME", USD, Decimal(600), Decimal("400.5"))
    back = decode_error(encode_error(funds))
    assert type(back) is InsufficientFunds and str(back) == str(funds)
    assert (back.account, back.asset, back.requested, back.available) == ("ACME", USD, Decimal(600), Decimal("400.5"))
    unknown = decode_error(encode_error(UnknownOrder("unknown order 'X'")))
    assert type(unknown) is UnknownOrder and str(unknown) == "unknown order 'X'"
    assert encode_error(ValueError("plain"))[0] == "pickle"
    assert encode_error(funds)[0] == "rebuild"


class _Unbuildable(Exception):
    def __init__(self, a: int, b: int) -> None:
        super().__init__(a)
        self.b = b
        self.lock = __import__("threading").Lock()  # does not pickle

    def __str__(self) -> str:
        return f"{self.args[0]} and {self.lock.locked()}"


def test_an_error_that_cannot_be_rebuilt_comes_back_as_text() -> None:
    back = decode_error(encode_error(_Unbuildable(1, 2)))
    assert type(back) is WriterChildError and str(back).endswith("_Unbuildable: 1 and False")


def test_batches_cross_the_pipe_unchanged() -> None:
    import io

    order = BookedOrder("O1", "ACME", "AAPL", Side.SELL, Decimal("100.00"), None, "usd",
                        created=dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
    fill = FillToBook(venue="XNAS", exec_id="E1", order_id="O1", account="ACME", symbol="AAPL", side=Side.SELL,
                      qty=Decimal("1E+2"), price=Decimal("-0.00"), currency="USD", ts=T0)
    work = Work(7, [(OPEN, order, {USD: Decimal("100.10"), "AAPL": 5, Asset.instrument("MSFT"): "7"}),
                    (FILL, fill, None), (CLOSE, "O1", OrderState.CANCELLED), (OPEN, buy("O2"), None)],
                [[{"t": "new"}], [], [{"t": "done"}], []], [3, 1], ["ACME"])
    stream = io.BytesIO(frame(encode_work(work)) + frame(("x",))[:3])
    back = decode_work(read_frame(stream))
    assert read_frame(stream) is None  # a torn frame is EOF
    assert (back.number, back.records, back.groups, back.accounts) == (7, work.records, [3, 1], ["ACME"])
    assert back.items == work.items
    for (_, ours, _), (_, theirs, _) in zip(work.items, back.items, strict=True):
        assert type(theirs) is type(ours)
        if not isinstance(ours, str):
            assert [repr(v) for v in vars(theirs).values()] == [repr(v) for v in vars(ours).values()]
    # the registry's `is ZERO` fast paths see what they would have seen in the gateway
    assert back.items[0][1].cum_qty is ZERO and back.items[0][1].notional is ZERO
    assert work.items[1][1].fees is not ZERO and back.items[1][1].fees is not ZERO
    assert [(type(k), repr(v)) for k, v in back.items[0][2].items()] == [
        (Asset, "Decimal('100.10')"), (str, "5"), (Asset, "'7'")]


def test_memory_databases_and_passwords() -> None:
    assert is_memory_database("sqlite://") and is_memory_database("sqlite:///:memory:")
    assert not is_memory_database("sqlite:///fixgate.db") and not is_memory_database("postgresql://h/db")
    with pytest.raises(ValueError, match="in-memory"):
        ProcessRunner(reactor, "sqlite://")
    assert without_password("postgresql+psycopg2://u:s3cret@h:5432/db?options=x") == \
        ("postgresql+psycopg2://u@h:5432/db?options=x", "s3cret")
    assert without_password("sqlite:///a.db") == ("sqlite:///a.db", None)


class _SpawnRecorder:
    """A reactor that records spawnProcess instead of spawning."""

    def __init__(self) -> None:
        self.spawned: list[tuple[list[str], dict[str, str]]] = []

    def spawnProcess(self, proto: Any, executable: str, args: list[str], env: dict[str, str]) -> Any:  # noqa: N802
        self.spawned.append((args, env))
        return type("T", (), {"pid": 4242})()


def test_the_password_travels_in_the_environment_not_on_the_command_line(tmp_path: Path) -> None:
    fake = _SpawnRecorder()
    runner = ProcessRunner(fake, "postgresql+psycopg2://u:s3cret@h/db", journal=tmp_path / "j.jsonl")
    runner.start()
    (args, env), = fake.spawned
    assert not any("s3cret" in a for a in args)
    assert args[1:3] == ["-m", "brokers.client.writer_child"]
    assert args[args.index("--registry") + 1] == "postgresql+psycopg2://u@h/db"
    assert args[args.index("--journal") + 1] == str((tmp_path / "j.jsonl").resolve())
    assert args[args.index("--parent-pid") + 1] == str(os.getpid())
    assert env[PASSWORD_ENV] == "s3cret" and runner.pid == 4242


_ORPHAN = textwrap.dedent("""
    import os, sys
    from twisted.internet import reactor
    from brokers.client.writer_process import ProcessRunner

    def ready(text):
        print(runner.pid, flush=True)
        os._exit(0)  # the gateway dies without stopping its child

    runner = ProcessRunner(reactor, sys.argv[1], echo=ready)
    reactor.callWhenRunning(runner.start)
    reactor.run()
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")
def test_the_child_dies_with_the_gateway(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    with Registry(url) as registry:
        registry.upgrade()
    root = str(HERE.parents[2])
    out = subprocess.run([sys.executable, "-c", _ORPHAN, url], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": root}, check=True)
    child = int(out.stdout.split()[0])
    try:
        fd = os.pidfd_open(child)
    except ProcessLookupError:
        return  # already gone
    try:
        readable, _, _ = select.select([fd], [], [], WAIT)  # readable once the process has exited
        assert readable, f"the writer child {child} outlived its gateway"
    finally:
        os.close(fd)

