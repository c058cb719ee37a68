"""Exactly-once under concurrency: two transactions booking the same (venue, ExecID) at the same time.

The deterministic PostgreSQL test holds the first transaction open after it claimed the key, waits
until the second session is seen blocked on that key in ``pg_stat_activity`` (a condition, not a
timer), then commits or rolls back the first.  The stress tests release threads through a barrier.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from brokers.domain.accounts import Asset
from brokers.registry import AlreadyBooked, Booked, Registry, booking

from .conftest import Backend, assert_sound, fill, fund, open_order

D = Decimal
USD = Asset.currency("USD")
AAPL = Asset.instrument("AAPL")


def wait_until(condition: Callable[[], bool], what: str, attempts: int = 100_000) -> None:
    for _ in range(attempts):
        if condition():
            return
    raise AssertionError(f"never happened: {what}")


@contextmanager
def lock_waiters(backend: Backend) -> Iterator[Callable[[], bool]]:
    """A probe: is any session of this test waiting for a lock?"""
    monitor = create_engine(backend.url)

    def waiting() -> bool:
        with monitor.connect() as conn:
            count = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE application_name = :app AND wait_event_type = 'Lock'"
                ),
                {"app": backend.application_name},
            ).scalar_one()
        return count > 0

    try:
        yield waiting
    finally:
        monitor.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@pytest.mark.parametrize("first_commits", [True, False], ids=["first-commits", "first-rolls-back"])
def test_second_booking_waits_for_the_first_then_books_nothing_or_everything(
    registry: Registry, backend: Backend, first_commits: bool
) -> None:
    fund(registry)
    open_order(registry)
    the_fill = fill("E1", 40, "150")

    first = registry.uow()
    first.__enter__()
    try:
        assert isinstance(booking.book_fill(first, the_fill), Booked)
        with ThreadPoolExecutor(1) as pool, lock_waiters(backend) as waiting:
            second = pool.submit(registry.book_fill, the_fill)
            wait_until(waiting, "the second booking waits on the first one's key")
            assert not second.done()
            if first_commits:
                first.__exit__(None, None, None)
            else:
                first.__exit__(RuntimeError, RuntimeError("abort"), None)
            result = second.result(timeout=60)
    finally:
        if first._connection is not None:  # pragma: no cover - only when an assertion failed above
            first.__exit__(RuntimeError, RuntimeError("cleanup"), None)
    if first_commits:
        assert result == AlreadyBooked("XNAS", "E1")
    else:
        assert isinstance(result, Booked)
    assert registry.balance("ACME", AAPL).amount == 40
    assert registry.order("O1").cum_qty == 40  # type: ignore[union-attr]
    assert_sound(registry)


def _race(registry: Registry, calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait(timeout=60)
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return [future.result(timeout=120) for future in [pool.submit(run, call) for call in calls]]


def test_concurrent_duplicates_book_exactly_once(registry: Registry) -> None:
    fund(registry)
    open_order(registry, qty=40)
    fills = [fill(f"E{i}", 1, "150") for i in range(20)]
    batch_a = fills
    batch_b = list(reversed(fills))
    results = _race(
        registry,
        [
            lambda: [registry.book_fill(f) for f in batch_a],
            lambda: [registry.book_fill(f) for f in batch_b],
        ],
    )
    booked = [r for rs in results for r in rs if isinstance(r, Booked)]
    assert sorted(r.exec_id for r in booked) == sorted(f.exec_id for f in fills)
    assert registry.balance("ACME", AAPL).amount == 20
    assert registry.order("O1").cum_qty == 20  # type: ignore[union-attr]
    assert registry.balance("ACME", USD).held == D(20 * 150)
    assert_sound(registry)


def test_concurrent_batches_on_shared_accounts_keep_the_ledger_sound(registry: Registry) -> None:
    for name in ("A", "B", "C"):
        fund(registry, name)
        open_order(registry, f"O{name}", 100, "150", account=name)

    def batch(name: str) -> Callable[[], Any]:
        return lambda: [
            registry.book_fills(
                [fill(f"{name}{i}-{j}", 1, "150", order_id=f"O{name}", account=name) for j in range(5)]
            )
            for i in range(4)
        ]

    _race(registry, [batch("A"), batch("B"), batch("C"), batch("A")])
    for name in ("A", "B", "C"):
        assert registry.balance(name, AAPL).amount == 20
    assert registry.balance("@venue:XNAS", AAPL).amount == -60
    assert_sound(registry)


def test_concurrent_batches_with_the_same_keys_in_opposite_orders_do_not_deadlock(registry: Registry) -> None:
    fund(registry)
    open_order(registry, qty=50)
    fills = [fill(f"E{i:02d}", 1, "150") for i in range(50)]
    results = _race(
        registry,
        [lambda: registry.book_fills(fills), lambda: registry.book_fills(list(reversed(fills)))],
    )
    booked = [r.exec_id for rs in results for r in rs if isinstance(r, Booked)]
    assert sorted(booked) == sorted(f.exec_id for f in fills)
    assert registry.order("O1").status.value == "FILLED"  # type: ignore[union-attr]
    assert_sound(registry)
