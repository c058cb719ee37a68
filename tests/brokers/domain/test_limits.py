"""Limit sets: tightest-wins resolution per (account, session, instrument) and audited edits."""

from __future__ import annotations

from decimal import Decimal

import pytest

from brokers.domain.limits import (
    EffectiveLimits,
    LimitChange,
    Limits,
    LimitsBook,
    LimitScope,
    ScopeKey,
    Throttle,
    ThrottleAction,
)
from venues.base import OrdType, TimeInForce

D = Decimal
ACCOUNT = ScopeKey(LimitScope.ACCOUNT, "ACC1")
SESSION = ScopeKey(LimitScope.SESSION, "S1")


def test_empty_book_has_no_limits():
    assert LimitsBook().effective("ACC1", "S1", "XYZ") == EffectiveLimits(Limits())


def test_tightest_of_each_field():
    a = Limits(max_order_qty=D(1000), min_price=D(1), max_price=D(200), collar_pct=D(5),
               allowed_ord_types=frozenset({OrdType.LIMIT, OrdType.MARKET}), restricted_symbols=frozenset({"A"}),
               short_selling_allowed=True, credit_allowed=None, duplicate_window_seconds=D(1), kill_switch=False)
    b = Limits(max_order_qty=D(500), min_price=D(2), max_price=D(300), collar_pct=D(10),
               allowed_ord_types=frozenset({OrdType.LIMIT}), allowed_tifs=frozenset({TimeInForce.DAY}),
               restricted_symbols=frozenset({"B"}), short_selling_allowed=False, credit_allowed=True,
               duplicate_window_seconds=D(3), kill_switch=True, max_order_notional=D(10))
    merged = a.tightest(b)
    assert merged == b.tightest(a)
    assert merged == Limits(
        max_order_qty=D(500), max_order_notional=D(10), min_price=D(2), max_price=D(200), collar_pct=D(5),
        allowed_ord_types=frozenset({OrdType.LIMIT}), allowed_tifs=frozenset({TimeInForce.DAY}),
        restricted_symbols=frozenset({"A", "B"}), short_selling_allowed=False, credit_allowed=True,
        duplicate_window_seconds=D(3), kill_switch=True,
    )


def test_tighter_throttle_is_the_lower_rate_then_disconnect():
    slow = Throttle(10, D(2))  # 5 / s
    fast = Throttle(10)  # 10 / s
    assert slow.is_tighter_than(fast) and not fast.is_tighter_than(slow)
    assert Limits(throttle=fast).tightest(Limits(throttle=slow)).throttle == slow
    drop = Throttle(5, action=ThrottleAction.DISCONNECT)
    assert Limits(throttle=Throttle(5)).tightest(Limits(throttle=drop)).throttle == drop


def test_effective_merges_firm_account_session_and_instrument():
    book = LimitsBook(Limits(max_order_qty=D(10000), collar_pct=D(10)))
    book.update(LimitScope.ACCOUNT, "ACC1", who="risk", at_ns=1, max_order_qty=D(5000))
    book.update(LimitScope.SESSION, "S1", who="risk", at_ns=2, collar_pct=D(3))
    book.update(LimitScope.INSTRUMENT, "XYZ", who="risk", at_ns=3, max_order_qty=D(2000), min_price=D(1))
    book.update(LimitScope.ACCOUNT, "OTHER", who="risk", at_ns=4, max_order_qty=D(1))
    limits = book.effective("ACC1", "S1", "XYZ").limits
    assert (limits.max_order_qty, limits.collar_pct, limits.min_price) == (D(2000), D(3), D(1))
    limits = book.effective("ACC1", "S2", "ABC").limits
    assert (limits.max_order_qty, limits.collar_pct, limits.min_price) == (D(5000), D(10), None)


def test_throttles_resolve_per_scope():
    book = LimitsBook(Limits(throttle=Throttle(100)))
    book.update(LimitScope.SESSION, "S1", who="risk", at_ns=0, throttle=Throttle(10))
    book.update(LimitScope.ACCOUNT, "ACC1", who="risk", at_ns=0, throttle=Throttle(50))
    effective = book.effective("ACC1", "S1", "XYZ")
    assert (effective.session_throttle, effective.account_throttle) == (Throttle(10), Throttle(50))
    effective = book.effective("ACC2", "S2", "XYZ")
    assert (effective.session_throttle, effective.account_throttle) == (Throttle(100), Throttle(100))


def test_kill_switches_name_their_scopes():
    book = LimitsBook()
    book.engage_kill_switch(LimitScope.SESSION, "S1", who="ops", at_ns=0)
    book.engage_kill_switch(LimitScope.INSTRUMENT, "XYZ", who="ops", at_ns=0)
    assert book.effective("ACC1", "S1", "XYZ").kill_switches == (SESSION, ScopeKey(LimitScope.INSTRUMENT, "XYZ"))
    assert book.effective("ACC1", "S2", "ABC").kill_switches == ()
    book.release_kill_switch(LimitScope.SESSION, "S1", who="ops", at_ns=1)
    assert book.effective("ACC1", "S1", "ABC").kill_switches == ()


def test_edits_are_audited_field_by_field():
    book = LimitsBook()
    changes = book.update(LimitScope.ACCOUNT, "ACC1", who="alice", at_ns=1_000, reason="onboarding",
                          max_order_qty=D(1000), collar_pct=D(5))
    assert changes == (
        LimitChange(1_000, "alice", ACCOUNT, "max_order_qty", None, D(1000), "onboarding"),
        LimitChange(1_000, "alice", ACCOUNT, "collar_pct", None, D(5), "onboarding"),
    )
    book.update(LimitScope.ACCOUNT, "ACC1", who="bob", at_ns=2_000, max_order_qty=D(500), collar_pct=D(5))
    assert book.audit_trail[-1] == LimitChange(2_000, "bob", ACCOUNT, "max_order_qty", D(1000), D(500))
    assert len(book.audit_trail) == 3  # the unchanged collar is not audited
    assert str(book.audit_trail[-1]) == "2000 bob: account ACC1 max_order_qty Decimal('1000') -> Decimal('500')"
    book.clear(LimitScope.ACCOUNT, "ACC1", who="carol", at_ns=3_000)
    assert [(c.who, c.field, c.old, c.new) for c in book.audit_trail[3:]] == [
        ("carol", "max_order_qty", D(500), None), ("carol", "collar_pct", D(5), None)]
    assert book.get(LimitScope.ACCOUNT, "ACC1") == Limits()
    assert ACCOUNT not in book.scopes()


def test_kill_switch_edits_are_audited():
    book = LimitsBook()
    book.engage_kill_switch(LimitScope.FIRM, "", who="ops", at_ns=5, reason="runaway algo")
    book.release_kill_switch(LimitScope.FIRM, "", who="ops", at_ns=9)
    assert [(c.at_ns, c.field, c.old, c.new, c.reason) for c in book.audit_trail] == [
        (5, "kill_switch", None, True, "runaway algo"), (9, "kill_switch", True, None, "")]


def test_invalid_edits_are_refused_without_audit():
    book = LimitsBook()
    with pytest.raises(ValueError, match="unknown limit field"):
        book.update(LimitScope.ACCOUNT, "ACC1", who="x", at_ns=0, max_qty=D(1))
    with pytest.raises(ValueError, match="must be positive"):
        book.update(LimitScope.ACCOUNT, "ACC1", who="x", at_ns=0, max_order_qty=D(0))
    with pytest.raises(ValueError, match="min_price"):
        book.update(LimitScope.ACCOUNT, "ACC1", who="x", at_ns=0, min_price=D(10), max_price=D(5))
    with pytest.raises(ValueError, match="needs a key"):
        book.update(LimitScope.SESSION, "", who="x", at_ns=0, max_order_qty=D(1))
    with pytest.raises(ValueError, match="no key"):
        book.update(LimitScope.FIRM, "ACC1", who="x", at_ns=0, max_order_qty=D(1))
    with pytest.raises(ValueError):
        Throttle(0)
    assert book.audit_trail == ()


def test_scopes_may_together_leave_no_acceptable_price():
    book = LimitsBook(Limits(max_price=D(100)))
    book.update(LimitScope.INSTRUMENT, "XYZ", who="risk", at_ns=0, min_price=D(150))
    limits = book.effective("ACC1", "S1", "XYZ").limits
    assert (limits.min_price, limits.max_price) == (D(150), D(100))
