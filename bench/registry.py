"""Registry writer micro benchmark: the CPU the registry writer's batch runner spends per order.

Runs what the gateway's registry writer runs for a batch, in its thread or its child process
(``brokers.client.writer_child.perform``: one unit of work per batch,
``brokers.registry.batch.apply_batch``, the post-batch balance snapshot) on batches shaped like the
gateway's under load -- each batch opens ``--batch`` new orders (with their buying-power
reservation) and books the fill of each order opened in the batch before, carrying that order's
close (``BookFill.close``), so every order costs one open + one fill + one close -- without FIX,
venue or reactor.  The writer is called on this thread (no thread pool), with no order journal.

Also printed: the *wire* CPU per order the gateway process pays when the batches run in the writer
child process (``RegistryWriterProcess=Y``): pickling each batch request into its frame and
unpickling the child's reply (per-operation results and the balance snapshot) -- the reactor's
share of the process runner, measured on the same batches.

Printed per backend: CPU time (``time.process_time``, this process only: the database server's CPU
is not counted) and wall time per order, orders/s (wall), wall time per batch, and the statements
per batch that go through SQLAlchemy (``before_cursor_execute``; the bulk statements on the raw
cursor are not counted); the run is repeated ``--repeat`` times on fresh accounts and the best and
median are shown (the machine is shared: compare CPU, not wall).

No peer exists for this benchmark (there is no other implementation of the registry to run the
same batches against); compare runs of this script across revisions instead.

Usage::

    python bench/registry.py --orders 4000 --batch 40 --repeat 3 [--interleave] \\
        [--db sqlite] [--db postgresql+psycopg2://postgres@127.0.0.1:5432/test] [--profile FILE]

``--db sqlite`` is a temporary SQLite file; a PostgreSQL URL gets a fresh schema, dropped afterwards.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import statistics
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pickle  # noqa: E402

from sqlalchemy import create_engine, event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from brokers.client.writer import BookFill, CloseOrder, OpenOrder, work_for  # noqa: E402
from brokers.client.writer_child import encode_error, encode_work, frame, perform  # noqa: E402
from brokers.domain.accounts import Account, Asset  # noqa: E402
from brokers.domain.ledger import BookedOrder, FillToBook, OrderState, Side  # noqa: E402
from brokers.registry import Registry  # noqa: E402

SYMBOLS = ("AAPL", "MSFT", "IBM")
QTY = Decimal(100)
PRICE = Decimal("100.00")
T0 = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)


def _order(run: int, k: int, accounts: int) -> tuple[OpenOrder, BookFill]:
    account = f"R{run}C{k % accounts}"
    symbol = SYMBOLS[(k // 2) % len(SYMBOLS)]
    side = Side.BUY if k % 2 == 0 else Side.SELL
    order_id = f"R{run}O{k}"
    order = BookedOrder(order_id, account, symbol, side, QTY, PRICE, "USD")
    asset: Asset | str = Asset.currency("USD") if side is Side.BUY else Asset.instrument(symbol)
    amount = QTY * PRICE if side is Side.BUY else QTY
    journal = [{"t": "new", "id": order_id}]
    fill = FillToBook(venue="INTERNAL", exec_id=f"R{run}E{k}", order_id=order_id, account=account, symbol=symbol,
                      side=side, qty=QTY, price=PRICE, currency="USD", ts=T0 + dt.timedelta(microseconds=k))
    close = CloseOrder(order_id, account, OrderState.CANCELLED, journal=[{"t": "done", "id": order_id}])
    return OpenOrder(order, {asset: amount}, journal=journal), BookFill(fill, journal=[{"t": "fill"}], close=close)


def _batches(run: int, orders: int, batch: int, accounts: int, interleave: bool = False) -> list[list[Any]]:
    """Batch i: the fills (+ close) of the orders of batch i-1, then the opens of orders [i*b, (i+1)*b)
    (as the gateway queues them: the venue's fills arrive together after a commit); ``interleave``
    alternates fill, open, fill, open... instead (a harder shape for the writer)."""
    pairs = [_order(run, k, accounts) for k in range(orders)]
    out: list[list[Any]] = []
    for start in range(0, orders + batch, batch):
        opens = [o for o, _ in pairs[start:start + batch]]
        fills = [f for _, f in pairs[max(0, start - batch):start]]
        ops: list[Any] = [] if interleave else fills + opens
        for i in range(max(len(opens), len(fills)) if interleave else 0):
            if i < len(fills):
                ops.append(fills[i])
            if i < len(opens):
                ops.append(opens[i])
        if ops:
            out.append(ops)
    return out


def _setup(registry: Registry, run: int, accounts: int) -> None:
    for i in range(accounts):
        name = f"R{run}C{i}"
        registry.open_account(Account(name))
        registry.deposit(name, "1000000000000", "USD")
        for symbol in SYMBOLS:
            registry.deposit_holding(name, symbol, "1000000000")


def _run_once(registry: Registry, run: int, args: argparse.Namespace, profile: cProfile.Profile | None,
              statements: list[int]) -> tuple[float, float, float]:
    _setup(registry, run, args.accounts)
    batches = _batches(run, args.orders, args.batch, args.accounts, args.interleave)
    perform(registry, None, work_for(0, batches[0]))  # warm up: caches, compiled statements (part of the run)
    works = [work_for(n, ops) for n, ops in enumerate(batches[1:], start=1)]
    replies = []
    statements0 = statements[0]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if profile is not None:
        profile.enable()
    for work in works:
        results, snapshot = perform(registry, None, work)
        if any(error is not None for error in results):
            raise SystemExit(f"a registry operation failed: {[e for e in results if e is not None][0]!r}")
        replies.append(("done", work.number, [None if e is None else encode_error(e) for e in results], snapshot))
    if profile is not None:
        profile.disable()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    statements.append(statements[0] - statements0)
    wire0 = time.process_time()
    for n, work in enumerate(works):  # the gateway's side of the process runner: frame out, reply in
        frame(encode_work(work_for(work.number, batches[n + 1])))
        pickle.loads(frame(replies[n])[4:])  # noqa: S301 - our own bytes
    wire = time.process_time() - wire0
    return cpu, wall, wire


def _bench(db: str, args: argparse.Namespace) -> None:
    statements = [0]
    schema = None
    if db == "sqlite":
        tmp = tempfile.TemporaryDirectory()
        url = f"sqlite:///{tmp.name}/registry.db"
        label = "SQLite"
    else:
        schema = f"bench_registry_{uuid.uuid4().hex[:12]}"
        admin = create_engine(db)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(db).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)
        label = "PostgreSQL"
    registry = Registry(url)
    event.listen(registry.engine, "before_cursor_execute", lambda *a: statements.__setitem__(0, statements[0] + 1))
    profile = cProfile.Profile() if args.profile else None
    try:
        registry.upgrade()
        cpus, walls, wires = [], [], []
        for run in range(args.repeat):
            cpu, wall, wire = _run_once(registry, run, args, profile, statements)
            cpus.append(cpu)
            walls.append(wall)
            wires.append(wire)
        n_batches = len(_batches(0, args.orders, args.batch, args.accounts, args.interleave)) - 1
        best, median = min(cpus), statistics.median(cpus)
        print(f"{label:10s} orders {args.orders} batch {args.batch} accounts {args.accounts}"
              f"{' interleaved' if args.interleave else ''}: "
              f"CPU µs/order best {best / args.orders * 1e6:7.1f} median {median / args.orders * 1e6:7.1f}  "
              f"wall µs/order best {min(walls) / args.orders * 1e6:7.1f}  "
              f"orders/s (wall) best {args.orders / min(walls):8.0f}  "
              f"wall ms/batch median {statistics.median(walls) / n_batches * 1e3:6.2f}  "
              f"SQLAlchemy statements/batch {statistics.mean(statements[1:]) / n_batches:4.1f}  "
              f"wire CPU µs/order (gateway side) median {statistics.median(wires) / args.orders * 1e6:5.1f}")
        assert registry.check() == [], "registry invariants broken"
    finally:
        registry.close()
        if schema is not None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    if profile is not None:
        profile.dump_stats(f"{args.profile}.{label.lower()}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=40, help="orders opened (and filled) per batch")
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--interleave", action="store_true", help="alternate fills and opens in a batch")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", action="append", help="'sqlite' or a PostgreSQL URL (repeatable)")
    parser.add_argument("--profile", help="write cProfile stats to FILE.<backend>")
    args = parser.parse_args(argv)
    for db in args.db or ["sqlite"]:
        _bench(db, args)


if __name__ == "__main__":
    main()
