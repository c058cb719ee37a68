"""LimitsJournal: runtime limit edits replayed after a restart, with their audit trail."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from brokers.domain.limits import Limits, LimitsBook, LimitScope, Throttle, ThrottleAction
from brokers.limits_journal import LimitsJournal, LimitsJournalError, decode_value, encode_value
from venues.base import OrdType, TimeInForce
from venues.internal.journal import FileJournal, MemoryJournal

CONFIG = Limits(max_order_qty=Decimal(1000), min_price=Decimal(5), max_price=Decimal(10))


def edit_everything(book: LimitsBook, journal: LimitsJournal) -> None:
    journal.record(book.update(LimitScope.ACCOUNT, "ACC1", who="ops", at_ns=1, reason="client call",
                               max_order_qty=Decimal("250.5"), allowed_tifs=frozenset({TimeInForce.DAY})))
    journal.record(book.update(LimitScope.FIRM, "", who="risk", at_ns=2,
                               min_price=Decimal(20), max_price=Decimal(30)))  # both at once: consistent
    journal.record(book.engage_kill_switch(LimitScope.SESSION, "FIX.4.4:GW->CLIENT1", who="risk", at_ns=3,
                                           reason="runaway algo"))
    journal.record(book.update(LimitScope.INSTRUMENT, "AAPL", who="ops", at_ns=4,
                               restricted_symbols=frozenset({"AAPL"}),
                               allowed_ord_types=frozenset({OrdType.LIMIT}),
                               throttle=Throttle(5, Decimal("0.5"), ThrottleAction.DISCONNECT),
                               short_selling_allowed=False))
    journal.record(book.update(LimitScope.ACCOUNT, "ACC1", who="ops", at_ns=5, max_order_qty=None))


def test_a_restarted_book_has_every_edit_and_the_audit_trail(tmp_path: Path) -> None:
    path = tmp_path / "limits.journal"
    book = LimitsBook(CONFIG)
    journal = LimitsJournal(FileJournal(path, sync=True))
    edit_everything(book, journal)
    journal.close()

    restarted = LimitsBook(CONFIG)
    again = LimitsJournal(FileJournal(path))
    assert again.restore(restarted) == 5
    for scope, key in [(LimitScope.FIRM, ""), (LimitScope.ACCOUNT, "ACC1"),
                       (LimitScope.SESSION, "FIX.4.4:GW->CLIENT1"), (LimitScope.INSTRUMENT, "AAPL")]:
        assert restarted.get(scope, key) == book.get(scope, key)
    assert restarted.audit_trail == book.audit_trail
    assert restarted.effective("ACC1", "FIX.4.4:GW->CLIENT1", "AAPL").kill_switches
    # new edits go on after the restored ones
    again.record(restarted.release_kill_switch(LimitScope.SESSION, "FIX.4.4:GW->CLIENT1", who="risk", at_ns=6))
    again.close()
    third = LimitsBook(CONFIG)
    assert LimitsJournal(FileJournal(path)).restore(third) == 6
    assert not third.effective("ACC1", "FIX.4.4:GW->CLIENT1", "AAPL").kill_switches


def test_an_empty_journal_leaves_the_config_alone() -> None:
    book = LimitsBook(CONFIG)
    assert LimitsJournal(MemoryJournal()).restore(book) == 0
    assert book.get(LimitScope.FIRM) == CONFIG
    assert book.audit_trail == ()


def test_a_torn_last_record_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "limits.journal"
    book = LimitsBook(CONFIG)
    journal = LimitsJournal(FileJournal(path))
    edit_everything(book, journal)
    journal.close()
    with open(path, "r+b") as f:  # a crash in the middle of the last append
        f.truncate(path.stat().st_size - 3)
    restarted = LimitsBook(CONFIG)
    assert LimitsJournal(FileJournal(path)).restore(restarted) == 4
    assert restarted.get(LimitScope.ACCOUNT, "ACC1").max_order_qty == Decimal("250.5")


def test_a_record_that_cannot_apply_names_the_file_and_record() -> None:
    raw = MemoryJournal()
    raw.append(1, {"at": 1, "who": "x", "scope": "account", "key": "A", "reason": "",
                   "changes": {"max_order_qty": "-5"}}, 1)
    with pytest.raises(LimitsJournalError, match=r"limits\.journal: record 1: .*max_order_qty must be positive"):
        LimitsJournal(raw, source="limits.journal").restore(LimitsBook())
    raw = MemoryJournal()
    raw.append(1, {"at": 1, "who": "x", "scope": "account", "key": "A", "reason": "",
                   "changes": {"no_such_limit": "1"}}, 1)
    with pytest.raises(LimitsJournalError, match="record 1: .*no_such_limit"):
        LimitsJournal(raw, source="j").restore(LimitsBook())


def test_record_takes_one_edit_at_a_time() -> None:
    book = LimitsBook()
    first = book.update(LimitScope.ACCOUNT, "A", who="a", at_ns=1, max_order_qty=Decimal(1))
    second = book.update(LimitScope.ACCOUNT, "B", who="a", at_ns=2, max_order_qty=Decimal(1))
    with pytest.raises(ValueError, match="one edit"):
        LimitsJournal(MemoryJournal()).record(first + second)


@pytest.mark.parametrize("name, value", [
    ("max_order_qty", Decimal("1.50")),
    ("collar_pct", Decimal("0.1")),
    ("credit_allowed", True),
    ("kill_switch", None),
    ("allowed_ord_types", frozenset({OrdType.LIMIT, OrdType.MARKET})),
    ("allowed_tifs", frozenset()),
    ("restricted_symbols", frozenset({"X", "Y"})),
    ("throttle", Throttle(10)),
])
def test_values_round_trip(name: str, value: object) -> None:
    assert decode_value(name, encode_value(name, value)) == value


def test_bad_values_are_refused() -> None:
    with pytest.raises(ValueError):
        decode_value("max_order_qty", "abc")
    with pytest.raises(ValueError):
        decode_value("kill_switch", "yes")
    with pytest.raises(ValueError):
        decode_value("throttle", {"max": 1})
