"""The registry writer's contract, run against every batch runner on every registry backend.

One suite (``WriterContract``), mixed into one trial TestCase per (runner, backend): the thread
runner and the child-process runner, on a SQLite file and on PostgreSQL (a fresh schema per test;
skipped without FIXGATE_TEST_DATABASE_URL).  Each test builds its own registry and writer on the
real reactor; every wait is a Deferred bounded by ``WAIT`` seconds (no sleeps).

What every runner must give: batches commit in submission order, one in flight, operations queued
meanwhile join the next batch, callbacks run on the reactor in order (each batch's ``on_done`` before
its ``on_committed``); a refused batch falls back to one transaction per operation with per-operation
errors of their own type and text (what ``ClientApplication._registry_refusal`` maps); the journal
holds the records of the committed parts only; the snapshot is the balances the batch leaves;
drain waits for the batch in flight; stop releases the runner.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from twisted.internet import defer, reactor, task
from twisted.trial import unittest

from brokers.client.journal import OrderJournal
from brokers.client.writer import BookFill, CloseOrder, OpenOrder, RegistryWriter, ThreadRunner
from brokers.client.writer_process import ProcessRunner
from brokers.client_fix import ClientApplication
from brokers.domain.accounts import Account, Asset, InsufficientFunds
from brokers.domain.ledger import BookedOrder, FillToBook, OrderState, Side, UnknownOrder
from brokers.registry import Registry

from .conftest import T0, _postgres_url

POSTGRES_URL = os.environ.get("FIXGATE_TEST_DATABASE_URL", "")
POSTGRES_SKIP = "FIXGATE_TEST_DATABASE_URL is not set: PostgreSQL tests skipped"
WAIT = 30.0
USD = Asset.currency("USD")


def bounded(d: defer.Deferred[Any], what: str, timeout: float = WAIT) -> defer.Deferred[Any]:
    """``d``, failed with a TimeoutError after ``timeout`` seconds."""
    return d.addTimeout(timeout, reactor, onTimeoutCancel=lambda result, t: _timeout(what, t))


def _timeout(what: str, seconds: float) -> None:
    raise TimeoutError(f"{what}: nothing after {seconds}s")


def buy(order_id: str, qty: int | str = 1, price: str = "100", account: str = "ACME") -> BookedOrder:
    return BookedOrder(order_id, account, "AAPL", Side.BUY, Decimal(qty), Decimal(price), "USD")


def fill_of(exec_id: str, order_id: str, qty: int | str, price: str = "100", account: str = "ACME") -> FillToBook:
    return FillToBook(venue="XNAS", exec_id=exec_id, order_id=order_id, account=account, symbol="AAPL",
                      side=Side.BUY, qty=Decimal(qty), price=Decimal(price), currency="USD", ts=T0)


class WriterContract:
    """The contract (mixed into a trial TestCase that sets ``runner_kind`` and ``backend``)."""

    runner_kind = "thread"
    backend = "sqlite"
    timeout = 120

    # ---- fixture -------------------------------------------------------------------------------

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="fixgate-writer-"))
        self.schema: str | None = None
        if self.backend == "sqlite":
            self.url = f"sqlite:///{self.tmp / 'registry.db'}"
        else:
            self.schema = f"fixgate_writer_{uuid.uuid4().hex[:12]}"
            admin = create_engine(POSTGRES_URL)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            admin.dispose()
            self.url = _postgres_url(POSTGRES_URL, self.schema, f"fixgate-writer-{self.schema}")
        self.registry = Registry(self.url)
        self.registry.upgrade()
        self.registry.open_account(Account("ACME"))
        self.registry.deposit("ACME", "1000", "USD")
        self.journal_path = self.tmp / "orders.jsonl"
        self.events: list[tuple[str, Any]] = []
        self.snapshots: list[tuple[int, dict[str, Any]]] = []
        self.fatal: list[str] = []
        self.writers: list[RegistryWriter] = []

    async def _teardown(self) -> None:
        for writer in self.writers:
            await bounded(writer.stop(), "writer stop")
        self.registry.close()
        if self.schema is not None:
            admin = create_engine(POSTGRES_URL)
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            admin.dispose()

    def tearDown(self) -> defer.Deferred[None]:
        return defer.ensureDeferred(self._teardown())

    def writer(self, **kwargs: Any) -> RegistryWriter:
        if self.runner_kind == "thread":
            runner: Any = ThreadRunner(self.registry, reactor, OrderJournal(self.journal_path))
        else:
            runner = ProcessRunner(reactor, self.url, journal=self.journal_path)
        made = RegistryWriter(self.registry, reactor, runner=runner, on_fatal=self.fatal.append,
                              on_snapshot=lambda n, s: self.snapshots.append((n, s)),
                              on_committed=lambda n: self.events.append(("committed", n)), **kwargs)
        made.start()
        self.writers.append(made)
        return made

    def done(self, name: str) -> Any:
        return lambda error: self.events.append((name, error))

    def journal(self) -> list[dict[str, Any]]:
        if not self.journal_path.exists():
            return []
        return [json.loads(line) for line in self.journal_path.read_text().splitlines() if line]

    # ---- ordering ------------------------------------------------------------------------------

    async def test_batches_commit_in_submission_order_and_callbacks_follow_it(self) -> None:
        writer = self.writer(max_batch=2)
        numbers = [writer.submit(OpenOrder(buy(f"O{i}"), {USD: Decimal(100)}, on_done=self.done(f"O{i}")))
                   for i in range(1, 6)]
        assert numbers == [1, 1, 2, 2, 3]
        await bounded(writer.drain(), "drain")
        assert self.events == [("O1", None), ("O2", None), ("committed", 1), ("O3", None), ("O4", None),
                               ("committed", 2), ("O5", None), ("committed", 3)]
        assert writer.committed == 3 and writer.batches_run == 3 and writer.idle
        assert [n for n, _ in self.snapshots] == [1, 2, 3]
        assert self.registry.balance("ACME", "USD").held == Decimal(500)
        assert self.fatal == []

    async def test_operations_queued_while_a_batch_is_in_flight_join_the_next_one(self) -> None:
        writer = self.writer()
        assert writer.submit(OpenOrder(buy("O1"), {USD: Decimal(100)}, on_done=self.done("O1"))) == 1
        await task.deferLater(reactor, 0, lambda: None)  # batch 1 left for its runner on that turn
        assert not writer.idle and writer.committed == 0 and writer.current_batch == 1
        assert writer.submit(OpenOrder(buy("O2"), {USD: Decimal(100)}, on_done=self.done("O2"))) == 2
        assert writer.submit(OpenOrder(buy("O3"), {USD: Decimal(100)}, on_done=self.done("O3"))) == 2
        await bounded(writer.drain(), "drain")
        assert self.events == [("O1", None), ("committed", 1), ("O2", None), ("O3", None), ("committed", 2)]
        assert writer.batches_run == 2

    async def test_drain_with_nothing_queued_fires_at_once(self) -> None:
        writer = self.writer()
        d = writer.drain()
        assert d.called
        await d

    # ---- a refused batch -----------------------------------------------------------------------

    def refused_batch(self, writer: RegistryWriter) -> list[int]:
        """O1 fits, O2 does not (600 + 600 > 1000), a fill of an unknown order, the close of an
        unknown order (skipped), then O1's fill carrying its close."""
        ops: list[Any] = [
            OpenOrder(buy("O1", 6), {USD: Decimal(600)}, journal=[{"t": "new", "id": "O1"}], on_done=self.done("O1")),
            OpenOrder(buy("O2", 6), {USD: Decimal(600)}, journal=[{"t": "new", "id": "O2"}], on_done=self.done("O2")),
            BookFill(fill_of("E0", "NOPE", 1), journal=[{"t": "fill", "id": "NOPE"}], on_done=self.done("NOPE")),
            CloseOrder("GHOST", "ACME", OrderState.CANCELLED, journal=[{"t": "done", "id": "GHOST"}],
                       on_done=self.done("GHOST")),
            BookFill(fill_of("E1", "O1", 6, "99"), journal=[{"t": "fill", "id": "O1"}], on_done=self.done("F1"),
                     close=CloseOrder("O1", "ACME", OrderState.CANCELLED, journal=[{"t": "done", "id": "O1"}])),
        ]
        return [writer.submit(op) for op in ops]

    async def test_a_refused_batch_runs_one_operation_per_transaction_with_typed_errors(self) -> None:
        writer = self.writer()
        assert set(self.refused_batch(writer)) == {1}
        await bounded(writer.drain(), "drain")
        errors = dict(e for e in self.events if e[0] != "committed")
        assert errors["O1"] is None and errors["GHOST"] is None and errors["F1"] is None
        refused = errors["O2"]
        assert type(refused) is InsufficientFunds
        expected = InsufficientFunds("ACME", USD, Decimal(600), Decimal(400))
        assert str(refused) == str(expected)
        assert (refused.account, refused.asset, refused.requested, refused.available) == \
            ("ACME", USD, Decimal(600), Decimal(400))
        assert ClientApplication._registry_refusal(refused) == ClientApplication._registry_refusal(expected)
        unknown = errors["NOPE"]
        assert type(unknown) is UnknownOrder and str(unknown) == "unknown order 'NOPE'"
        assert ClientApplication._registry_refusal(unknown) == ClientApplication._registry_refusal(
            UnknownOrder("unknown order 'NOPE'"))
        with self.registry.uow() as uow:
            orders = uow.orders.get_many(["O1", "O2"])
        assert list(orders) == ["O1"] and orders["O1"].cum_qty == Decimal(6)
        assert orders["O1"].status is OrderState.FILLED
        balance = self.registry.balance("ACME", "USD")
        assert (balance.amount, balance.held) == (Decimal(1000) - Decimal(594), Decimal(0))
        assert self.registry.check() == []

    async def test_the_journal_holds_the_records_of_the_committed_parts_only(self) -> None:
        writer = self.writer()
        self.refused_batch(writer)
        await bounded(writer.drain(), "drain")
        assert self.journal() == [{"t": "new", "id": "O1"}, {"t": "done", "id": "GHOST"},
                                  {"t": "fill", "id": "O1"}, {"t": "done", "id": "O1"}]
        writer.submit(OpenOrder(buy("O3"), {USD: Decimal(100)}, journal=[{"t": "new", "id": "O3"}]))
        await bounded(writer.drain(), "drain")
        assert self.journal()[-1] == {"t": "new", "id": "O3"}

    async def test_the_snapshot_is_the_balances_each_batch_leaves(self) -> None:
        writer = self.writer()
        writer.submit(OpenOrder(buy("O1", 3), {USD: Decimal(300)}))
        await bounded(writer.drain(), "drain")
        first = self.snapshots[-1]
        assert first[0] == 1 and first[1] == {"ACME": self.registry.balances("ACME")}
        assert [b.held for b in first[1]["ACME"] if b.asset == USD] == [Decimal(300)]
        self.refused_batch(writer)  # the one-by-one path reads the balances after its transactions
        await bounded(writer.drain(), "drain")
        second = self.snapshots[-1]
        assert second[0] == 2 and second[1] == {"ACME": self.registry.balances("ACME")}

    # ---- drain and stop ------------------------------------------------------------------------

    async def test_drain_waits_for_the_batch_in_flight_and_stop_releases_the_runner(self) -> None:
        writer = self.writer()
        writer.submit(OpenOrder(buy("O1"), {USD: Decimal(100)}, journal=[{"t": "new", "id": "O1"}],
                                on_done=self.done("O1")))
        await task.deferLater(reactor, 0, lambda: None)
        assert not writer.idle
        await bounded(writer.drain(), "drain")
        assert self.events == [("O1", None), ("committed", 1)] and writer.idle
        assert self.journal() == [{"t": "new", "id": "O1"}]
        writer.submit(OpenOrder(buy("O2"), {USD: Decimal(100)}, on_done=self.done("O2")))
        await bounded(writer.stop(), "stop")  # drains first
        assert self.events[-2:] == [("O2", None), ("committed", 2)]
        assert not writer.runner.started
        await bounded(writer.stop(), "second stop")
        assert self.fatal == []


class ThreadOnSqlite(WriterContract, unittest.TestCase):
    runner_kind, backend = "thread", "sqlite"


class ProcessOnSqlite(WriterContract, unittest.TestCase):
    runner_kind, backend = "process", "sqlite"


class ThreadOnPostgres(WriterContract, unittest.TestCase):
    runner_kind, backend = "thread", "postgresql"
    skip = None if POSTGRES_URL else POSTGRES_SKIP


class ProcessOnPostgres(WriterContract, unittest.TestCase):
    runner_kind, backend = "process", "postgresql"
    skip = None if POSTGRES_URL else POSTGRES_SKIP
