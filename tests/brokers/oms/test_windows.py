"""Throttle and duplicate windows with explicit times (integer nanoseconds)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from brokers.oms.duplicates import ClOrdIdRegistry, OrderFingerprint, RecentOrders
from brokers.oms.throttle import MessageCounter
from venues.base import Side

MS = 1_000_000
SECOND = 1_000 * MS


def test_counter_counts_inside_the_sliding_window_only():
    counter = MessageCounter()
    for t in (0, 200 * MS, 900 * MS):
        counter.record("S1", t)
    assert counter.count("S1", 900 * MS, SECOND) == 3
    assert counter.count("S1", SECOND - 1, SECOND) == 3
    assert counter.count("S1", SECOND, SECOND) == 2  # the message at 0 is exactly one window old
    assert counter.count("S1", 1_200 * MS, SECOND) == 1
    assert counter.count("S1", 1_900 * MS, SECOND) == 0
    assert counter.count("S2", 0, SECOND) == 0


def test_counter_forgets_a_key():
    counter = MessageCounter()
    counter.record("S1", 0)
    counter.forget("S1")
    assert counter.count("S1", 0, SECOND) == 0


def test_cl_ord_ids_are_scoped_by_session_and_day():
    registry = ClOrdIdRegistry()
    monday, tuesday = date(2026, 11, 23), date(2026, 11, 24)
    registry.record("S1", monday, "A")
    assert registry.seen("S1", monday, "A")
    assert not registry.seen("S2", monday, "A")
    assert not registry.seen("S1", tuesday, "A")
    registry.record("S1", tuesday, "B")
    assert not registry.seen("S1", monday, "A")  # earlier days are forgotten


def fp(qty: int = 100, price: str | None = "10.00") -> OrderFingerprint:
    return OrderFingerprint("ACC1", "XYZ", Side.BUY, Decimal(qty), None if price is None else Decimal(price))


def test_recent_orders_window():
    recent = RecentOrders()
    recent.record(fp(), 0, 2 * SECOND)
    assert recent.last_seen(fp(), SECOND, 2 * SECOND) == 0
    assert recent.last_seen(fp(qty=101), SECOND, 2 * SECOND) is None
    assert recent.last_seen(fp(), 2 * SECOND, 2 * SECOND) is None
    recent.record(fp(), 3 * SECOND, 2 * SECOND)
    assert recent.last_seen(fp(), 4 * SECOND, 2 * SECOND) == 3 * SECOND


def test_recent_orders_forget_expired_entries():
    recent = RecentOrders()
    for n in range(10):
        recent.record(fp(qty=n + 1), n * MS, SECOND)
    assert len(recent) == 10
    recent.record(fp(price=None), 5 * SECOND, SECOND)
    assert len(recent) == 1


def test_a_re_recorded_fingerprint_outlives_its_first_expiry():
    recent = RecentOrders()
    recent.record(fp(), 0, SECOND)
    recent.record(fp(), 900 * MS, SECOND)
    assert recent.last_seen(fp(), 1_500 * MS, SECOND) == 900 * MS
