"""One contract suite for every ChildOrderJournal (memory, file, SQLite, PostgreSQL), then the file
journal's crash behaviour and the session keys that choose a journal.

``child_journal_factory`` (conftest.py) opens a journal on the same storage on every call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from venues.external.journal import (
    FileChildOrderJournal,
    JournalError,
    default_journal_path,
    journal_from_settings,
    open_child_order_journal,
)


def records(n: int, start: int = 1) -> list[dict]:
    return [{"t": "upd", "x": [f"E-{i}"], "n": i, "text": "é ünïcode \u00a0"} for i in range(start, start + n)]


# --------------------------------------------------------------------------- contract


def test_a_new_journal_is_empty(child_journal_factory: Any) -> None:
    journal = child_journal_factory.open()
    assert journal.count == 0
    assert list(journal.replay()) == []


def test_records_come_back_in_order_and_equal(child_journal_factory: Any) -> None:
    journal = child_journal_factory.open()
    for i, record in enumerate(records(5), start=1):
        journal.append(record, ts=1_000 + i)
        assert journal.count == i
    assert list(journal.replay()) == records(5)


def test_replay_while_appending_sees_what_was_appended(child_journal_factory: Any) -> None:
    journal = child_journal_factory.open()
    journal.append(records(1)[0])
    assert list(journal.replay()) == records(1)
    journal.append(records(1, start=2)[0])
    assert list(journal.replay()) == records(2)


def test_records_survive_close_and_reopen_and_appends_continue(child_journal_factory: Any) -> None:
    journal = child_journal_factory.open()
    for record in records(3):
        journal.append(record)
    journal.close()
    again = child_journal_factory.open()
    assert again.count == 3
    assert list(again.replay()) == records(3)
    again.append(records(1, start=4)[0])
    assert list(again.replay()) == records(4)


def test_a_closed_journal_refuses_appends(child_journal_factory: Any) -> None:
    journal = child_journal_factory.open()
    journal.close()
    journal.close()  # idempotent
    with pytest.raises(JournalError):
        journal.append({"t": "ms", "cl": "T-1"})


def test_a_record_that_is_not_json_is_refused_and_not_stored(child_journal_factory: Any) -> None:
    journal = child_journal_factory.open()
    journal.append(records(1)[0])
    with pytest.raises(TypeError):
        journal.append({"t": "upd", "bad": object()})
    assert list(journal.replay()) == records(1)


# --------------------------------------------------------------------------- file journal crashes


def _offsets(path: Path) -> list[int]:
    """End offset of each record (records end with a newline; the data is compact JSON)."""
    data = path.read_bytes()
    return [i + 1 for i, b in enumerate(data) if b == 0x0A]


@pytest.mark.parametrize("cut", [1, 20, 48, 60])
def test_file_torn_tail_is_cut_and_the_journal_goes_on(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "children.journal"
    with FileChildOrderJournal(path) as journal:
        for record in records(3):
            journal.append(record)
    ends = _offsets(path)
    whole = path.read_bytes()
    # a crash in the middle of writing the third record
    path.write_bytes(whole[: ends[1] + min(cut, ends[2] - ends[1] - 1)])
    journal = FileChildOrderJournal(path)
    assert journal.truncated_bytes == min(cut, ends[2] - ends[1] - 1)
    assert list(journal.replay()) == records(2)
    journal.append(records(1, start=9)[0])
    journal.close()
    assert list(FileChildOrderJournal(path).replay()) == [*records(2), *records(1, start=9)]


def test_file_corrupt_record_ends_the_log(tmp_path: Path) -> None:
    path = tmp_path / "children.journal"
    with FileChildOrderJournal(path) as journal:
        for record in records(3):
            journal.append(record)
    ends = _offsets(path)
    data = bytearray(path.read_bytes())
    data[ends[0] + 60] ^= 0x01  # a flipped bit inside the second record's data
    path.write_bytes(bytes(data))
    journal = FileChildOrderJournal(path)
    assert list(journal.replay()) == records(1)
    journal.close()


def test_file_sync_policy_fsyncs_every_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    calls: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real(fd))[1])
    with FileChildOrderJournal(tmp_path / "lazy.journal") as lazy:
        lazy.append(records(1)[0])
        lazy.append(records(1)[0])
    lazy_calls = len(calls)
    with FileChildOrderJournal(tmp_path / "sync.journal", sync=True) as synced:
        before = len(calls)
        synced.append(records(1)[0])
        synced.append(records(1)[0])
        assert len(calls) - before == 2
    assert lazy_calls == 0


# --------------------------------------------------------------------------- configuration


def settings(extra: str = "") -> Any:
    from fix_engine.config import parse_config

    cfg = ("[DEFAULT]\nConnectionType=initiator\n[SESSION]\nBeginString=FIX.4.4\nSenderCompID=BROKER\n"
           f"TargetCompID=XCHG\nSocketConnectHost=127.0.0.1\nSocketConnectPort=9999\n{extra}\n")
    return parse_config(cfg, "venue.cfg").sessions[0]


def test_journal_from_settings_defaults_to_a_file_named_after_the_venue(tmp_path: Path) -> None:
    journal = journal_from_settings(settings(), "XCHG EU", base_dir=tmp_path)
    assert isinstance(journal, FileChildOrderJournal)
    assert journal.path == tmp_path / "fixgate-child-orders-XCHG_EU.journal"
    assert not journal.sync  # as durable as the FIX store (FileStoreSync defaults to N, as in QuickFIX/J)
    journal.close()
    journal = journal_from_settings(settings("FileStoreSync=Y"), "XCHG", base_dir=tmp_path)
    assert journal.sync  # type: ignore[attr-defined]
    journal.close()
    assert default_journal_path("XNYS") == "fixgate-child-orders-XNYS.journal"


def test_journal_from_settings_reads_path_and_sync(tmp_path: Path) -> None:
    journal = journal_from_settings(
        settings("ChildOrderJournalPath=j/x.journal\nChildOrderJournalSync=N"), "XCHG", base_dir=tmp_path
    )
    assert isinstance(journal, FileChildOrderJournal)
    assert (journal.path, journal.sync) == (tmp_path / "j" / "x.journal", False)
    journal.close()
    absolute = tmp_path / "abs.journal"
    journal = journal_from_settings(settings(f"ChildOrderJournalPath={absolute}"), "XCHG", base_dir=tmp_path / "x")
    assert journal.path == absolute  # type: ignore[attr-defined]
    journal.close()
    with pytest.raises(ValueError, match="ChildOrderJournalSync"):
        journal_from_settings(settings("ChildOrderJournalSync=maybe"), "XCHG", base_dir=tmp_path)


def test_journal_from_settings_takes_a_database_url(tmp_path: Path) -> None:
    from venues.external.journal_sql import SqlChildOrderJournal

    url = f"sqlite:///{tmp_path / 'children.sqlite'}"
    journal = journal_from_settings(settings(f"ChildOrderJournalPath={url}"), "X-CHG")
    assert isinstance(journal, SqlChildOrderJournal)
    assert journal.table == "child_orders_x_chg"
    journal.append({"t": "ms", "cl": "T-1"})
    journal.close()
    other = open_child_order_journal(url, table="child_orders_x_chg")
    assert list(other.replay()) == [{"t": "ms", "cl": "T-1"}]
    other.close()
