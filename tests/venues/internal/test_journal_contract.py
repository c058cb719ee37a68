"""One contract suite for every Journal: memory, file, SQLite and PostgreSQL (skipped without a URL)."""

from __future__ import annotations

import pytest
from conftest import JournalFactory

from venues.internal.journal import FileJournal, JournalError, JournalRecord


def _fill(j, n: int, start: int = 1) -> None:
    for seq in range(start, start + n):
        j.append(seq, {"t": "D", "n": seq, "px": "100.01"}, 1_000 + seq)


def test_empty_journal(journal_factory: JournalFactory) -> None:
    j = journal_factory.open()
    assert j.last_sequence == 0
    assert list(j.read_from(1)) == []
    assert j.latest_snapshot() is None


def test_append_and_read_back_in_sequence(journal_factory: JournalFactory) -> None:
    j = journal_factory.open()
    _fill(j, 5)
    j.append(6, b"raw \n bytes \x00 with newline", 2_000)
    assert j.last_sequence == 6
    recs = list(j.read_from(1))
    assert [r.seq for r in recs] == [1, 2, 3, 4, 5, 6]
    assert recs[0].decode() == {"t": "D", "n": 1, "px": "100.01"}
    assert recs[0].ts == 1_001
    assert recs[5] == JournalRecord(6, 2_000, b"raw \n bytes \x00 with newline")
    assert [r.seq for r in j.read_from(4)] == [4, 5, 6]
    assert list(j.read_from(7)) == []


def test_sequence_must_be_next(journal_factory: JournalFactory) -> None:
    j = journal_factory.open()
    _fill(j, 2)
    with pytest.raises(JournalError):
        j.append(2, {"t": "x"}, 1)
    with pytest.raises(JournalError):
        j.append(4, {"t": "x"}, 1)
    assert j.last_sequence == 2


def test_records_survive_reopen(journal_factory: JournalFactory) -> None:
    j = journal_factory.open()
    _fill(j, 3)
    j.close()
    j2 = journal_factory.open()
    assert j2.last_sequence == 3
    assert [r.decode()["n"] for r in j2.read_from(1)] == [1, 2, 3]
    _fill(j2, 2, start=4)
    assert [r.seq for r in j2.read_from(3)] == [3, 4, 5]


def test_group_commit_buffers_until_flush(journal_factory: JournalFactory) -> None:
    j = journal_factory.open()
    _fill(j, 1)
    for seq in (2, 3, 4):
        j.append(seq, {"n": seq}, seq, flush=False)
    assert j.last_sequence == 4
    assert [r.seq for r in j.read_from(1)] == [1, 2, 3, 4]  # buffered records are readable
    j.flush()
    j.close()
    j2 = journal_factory.open()
    assert j2.last_sequence == 4
    assert [r.seq for r in j2.read_from(2)] == [2, 3, 4]


def test_snapshots_latest_wins_and_tail_follows(journal_factory: JournalFactory) -> None:
    j = journal_factory.open()
    _fill(j, 10)
    j.save_snapshot(3, b"state-3", "h3")
    j.save_snapshot(7, b"state-7\x00\xff", "h7")
    snap = j.latest_snapshot()
    assert snap is not None and (snap.seq, snap.state, snap.state_hash) == (7, b"state-7\x00\xff", "h7")
    j.save_snapshot(9, b"state-9", "h9")  # only the two most recent are kept
    j.close()
    j2 = journal_factory.open()
    snap = j2.latest_snapshot()
    assert snap is not None and snap.seq == 9 and snap.state == b"state-9"
    assert [r.seq for r in j2.read_from(snap.seq + 1)] == [10]


def test_snapshot_beyond_last_sequence_is_refused(journal_factory: JournalFactory) -> None:
    j = journal_factory.open()
    _fill(j, 2)
    with pytest.raises(JournalError):
        j.save_snapshot(3, b"x", "h")


def test_snapshot_flushes_buffered_records(journal_factory: JournalFactory) -> None:
    j = journal_factory.open()
    j.append(1, {"n": 1}, 1, flush=False)
    j.append(2, {"n": 2}, 2, flush=False)
    j.save_snapshot(2, b"s", "h")
    j.close()
    j2 = journal_factory.open()
    assert j2.last_sequence == 2
    assert j2.latest_snapshot() is not None


# --------------------------------------------------------------------------- file specifics


def _record_offsets(path) -> list[int]:
    data = path.read_bytes()
    offsets, pos = [], 0
    while pos < len(data):
        offsets.append(pos)
        length = int(data[pos + 32 : pos + 40], 16)
        pos += 48 + length + 1
    return offsets


@pytest.mark.parametrize("cut", [1, 10, 47, 48, 60, -1])
def test_file_torn_tail_is_truncated(tmp_path, cut: int) -> None:
    path = tmp_path / "j.log"
    j = FileJournal(path)
    _fill(j, 4)
    j.close()
    last = _record_offsets(path)[-1]
    size = path.stat().st_size
    keep = last + cut if cut > 0 else size + cut  # -1: only the newline is missing
    with open(path, "r+b") as f:
        f.truncate(keep)
    j2 = FileJournal(path)
    assert j2.last_sequence == 3
    assert j2.truncated_bytes == keep - last
    assert path.stat().st_size == last
    _fill(j2, 1, start=4)  # appends continue cleanly after the cut
    j2.close()
    j3 = FileJournal(path)
    assert [r.seq for r in j3.read_from(1)] == [1, 2, 3, 4]
    j3.close()


def test_file_corrupt_record_ends_the_log(tmp_path) -> None:
    path = tmp_path / "j.log"
    j = FileJournal(path, sync=True)
    _fill(j, 5)
    j.close()
    third = _record_offsets(path)[2]
    data = bytearray(path.read_bytes())
    data[third + 60] ^= 0x01  # flip a bit in record 3's data: CRC mismatch
    path.write_bytes(bytes(data))
    j2 = FileJournal(path)
    assert j2.last_sequence == 2
    assert [r.seq for r in j2.read_from(1)] == [1, 2]
    j2.close()


def test_file_snapshot_beyond_a_truncated_journal_is_ignored(tmp_path) -> None:
    path = tmp_path / "j.log"
    j = FileJournal(path)
    _fill(j, 4)
    j.save_snapshot(2, b"two", "h2")
    j.save_snapshot(4, b"four", "h4")
    j.close()
    with open(path, "r+b") as f:
        f.truncate(_record_offsets(path)[3] + 5)  # record 4 torn
    j2 = FileJournal(path)
    snap = j2.latest_snapshot()
    assert snap is not None and snap.seq == 2
    j2.close()


def test_file_corrupt_snapshot_is_skipped(tmp_path) -> None:
    path = tmp_path / "j.log"
    j = FileJournal(path)
    _fill(j, 4)
    j.save_snapshot(2, b"two", "h2")
    j.save_snapshot(4, b"four", "h4")
    snap_file = tmp_path / f"j.log.snap.{4:016d}"
    snap_file.write_bytes(snap_file.read_bytes()[:-1] + b"X")
    snap = j.latest_snapshot()
    assert snap is not None and snap.seq == 2
    j.close()
