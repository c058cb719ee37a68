"""FileStore specifics: killed processes, torn writes, fsync policy, compaction."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fix_engine.session.session_id import SessionID
from fix_engine.store.base import MessageStoreError
from fix_engine.store.file import FileStore, FileStoreFactory
from fix_engine.store.file_body import encode_record

T0 = 1_700_000_000.25
SESSION = SessionID("FIX.4.4", "BROKER", "CLIENT")


def fix(seq: int, size: int = 20) -> bytes:
    return b"8=FIX.4.4\x0135=D\x0134=%d\x0158=" % seq + b"x" * size + b"\x01"


def open_store(directory: Path, **kwargs: object) -> FileStore:
    return FileStore(str(directory), SESSION, T0, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def fsync_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = os.fsync

    def counting_fsync(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    return calls


def test_files_follow_the_quickfix_layout(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    store.save_and_incr(1, fix(1))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "FIX.4.4-BROKER-CLIENT.body",
        "FIX.4.4-BROKER-CLIENT.seqnums",
        "FIX.4.4-BROKER-CLIENT.session",
    ]
    assert (tmp_path / "FIX.4.4-BROKER-CLIENT.session").read_bytes() == b"20231114-22:13:20.250000\n"


@pytest.mark.parametrize("sync", [True, False])
def test_a_killed_process_loses_nothing_it_wrote(tmp_path: Path, sync: bool) -> None:
    store = open_store(tmp_path, sync=sync)
    for seq in range(1, 4):
        store.save_and_incr(seq, fix(seq))
    store.set_next_target_seq_num(8)
    # no close(), no flush(): the process is gone; a new one opens the same files
    again = open_store(tmp_path, sync=sync)
    assert again.next_sender_seq_num() == 4
    assert again.next_target_seq_num() == 8
    assert again.get_range(1, 10) == [(s, fix(s)) for s in range(1, 4)]


def test_every_cut_through_the_last_record_recovers_the_complete_ones(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    for seq in range(1, 4):
        store.save_and_incr(seq, fix(seq))
    store.close()
    body = Path(store.body_path)
    whole = body.read_bytes()
    last = encode_record(3, fix(3), b"I")
    assert whole.endswith(last)
    for cut in range(len(whole) - len(last), len(whole)):
        body.write_bytes(whole[:cut])
        recovered = open_store(tmp_path)
        assert recovered.get_range(1, 10) == [(1, fix(1)), (2, fix(2))], cut
        assert recovered.next_sender_seq_num() == 3, cut  # message 3 was never durable: reuse 3
        assert recovered.discarded_tail_bytes == cut - (len(whole) - len(last))
        assert body.stat().st_size == len(whole) - len(last)  # torn tail cut off
        recovered.close()


def test_after_a_torn_write_new_records_append_cleanly(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    store.save_and_incr(1, fix(1))
    store.save_and_incr(2, fix(2))
    body = Path(store.body_path)
    body.write_bytes(body.read_bytes()[:-7])
    recovered = open_store(tmp_path)
    recovered.save_and_incr(2, fix(2, 5))
    recovered.save_and_incr(3, fix(3))
    again = open_store(tmp_path)
    assert again.get_range(1, 10) == [(1, fix(1)), (2, fix(2, 5)), (3, fix(3))]
    assert again.next_sender_seq_num() == 4
    assert again.discarded_tail_bytes == 0


@pytest.mark.parametrize(
    "damage, complete",
    [
        (lambda data: data + b"\x00" * 4096, 2),  # file extended with zeros (delayed allocation)
        (lambda data: data[:-3] + b"\xff" + data[-2:], 1),  # a flipped byte inside the last message
        (lambda data: data + b"17 5 0000", 2),  # half a record header
        (lambda data: data + b"3 4 00000000 I\nabcd\n", 2),  # a whole record with a wrong CRC
    ],
    ids=["zero-fill", "bad-crc", "half-header", "wrong-crc-record"],
)
def test_a_damaged_tail_is_dropped(tmp_path: Path, damage: object, complete: int) -> None:
    store = open_store(tmp_path)
    store.save_and_incr(1, fix(1))
    store.save_and_incr(2, fix(2))
    body = Path(store.body_path)
    body.write_bytes(damage(body.read_bytes()))  # type: ignore[operator]
    recovered = open_store(tmp_path)
    assert recovered.get_range(1, 10) == [(s, fix(s)) for s in range(1, complete + 1)]
    assert recovered.next_sender_seq_num() == complete + 1


def test_a_body_that_is_not_ours_is_refused(tmp_path: Path) -> None:
    (tmp_path / "FIX.4.4-BROKER-CLIENT.body").write_bytes(b"garbage\n")
    with pytest.raises(MessageStoreError, match="not a fixgate body file"):
        open_store(tmp_path)


def test_a_quickfix_seqnums_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "FIX.4.4-BROKER-CLIENT.seqnums").write_bytes(b"0000000005 : 0000000007")
    store = open_store(tmp_path)
    assert (store.next_sender_seq_num(), store.next_target_seq_num()) == (5, 7)


def test_sync_fsyncs_every_save_and_every_sequence_change(tmp_path: Path, fsync_calls: list[int]) -> None:
    store = open_store(tmp_path, sync=True)
    fsync_calls.clear()
    store.save_and_incr(1, fix(1))
    assert len(fsync_calls) == 1  # message and next sender seq: one durable write
    store.save(1, fix(1))
    assert len(fsync_calls) == 2
    store.set_next_target_seq_num(2)
    assert len(fsync_calls) > 2


def test_without_sync_only_flush_and_close_fsync(tmp_path: Path, fsync_calls: list[int]) -> None:
    store = open_store(tmp_path, sync=False)
    for seq in range(1, 20):
        store.save_and_incr(seq, fix(seq))
        store.incr_next_target_seq_num()
    store.compact(5)
    store.reset(T0 + 1)
    assert fsync_calls == []
    store.flush()
    assert len(fsync_calls) >= 2  # body and seqnums
    fsync_calls.clear()
    store.close()
    assert fsync_calls


def test_save_and_incr_does_not_rewrite_the_seqnums_file(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    seqnums = Path(store.seqnums_path)
    before = seqnums.read_bytes()
    for seq in range(1, 6):
        store.save_and_incr(seq, fix(seq))
    assert seqnums.read_bytes() == before
    assert open_store(tmp_path).next_sender_seq_num() == 6


def test_compact_keeps_the_latest_records_from_a_seq_on(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    for seq in range(1, 101):
        store.save_and_incr(seq, fix(seq))
    store.save(95, fix(95, 3))
    store.set_next_target_seq_num(77)
    size_before = store.body_size
    store.compact(91)
    assert store.body_size < size_before / 5
    expected = [(s, fix(s)) for s in range(91, 101)]
    expected[4] = (95, fix(95, 3))
    assert store.get_range(1, 200) == expected
    assert (store.next_sender_seq_num(), store.next_target_seq_num()) == (101, 77)
    store.save_and_incr(101, fix(101))
    again = open_store(tmp_path)
    assert again.get_range(1, 200) == expected + [(101, fix(101))]
    assert (again.next_sender_seq_num(), again.next_target_seq_num()) == (102, 77)


def test_automatic_compaction_bounds_the_body(tmp_path: Path) -> None:
    store = open_store(tmp_path, sync=False, max_body_bytes=20_000, keep_messages=50)
    largest = 0
    for seq in range(1, 3001):
        store.save_and_incr(seq, fix(seq, 60))
        largest = max(largest, store.body_size)
    record = len(encode_record(3000, fix(3000, 60)))
    assert largest <= 20_000 + record
    kept = store.get_range(1, 3000)
    assert [seq for seq, _ in kept][-50:] == list(range(2951, 3001))
    assert kept[0][0] >= 3001 - 50 - 20_000 // record  # nothing older than one threshold's worth
    again = open_store(tmp_path, sync=False)
    assert again.get_range(1, 3000) == kept
    assert again.next_sender_seq_num() == 3001


def test_a_crash_between_compaction_steps_keeps_the_sequence_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(tmp_path)
    for seq in range(1, 11):
        store.save_and_incr(seq, fix(seq))
    store.set_next_sender_seq_num(8)  # a lowered sender seq with newer I records before it
    store.save_and_incr(8, fix(8, 1))
    writes = {"n": 0}
    real = FileStore._write_seqnums

    def crash_on_second(self: FileStore) -> None:
        writes["n"] += 1
        if writes["n"] == 2:  # after the new body is in place, before the seqnums follow
            raise OSError("killed")
        real(self)

    monkeypatch.setattr(FileStore, "_write_seqnums", crash_on_second)
    with pytest.raises(MessageStoreError):
        store.compact(5)
    monkeypatch.undo()
    again = open_store(tmp_path)
    assert again.next_sender_seq_num() == 9
    assert [seq for seq, _ in again.get_range(1, 20)] == list(range(5, 11))
    assert again.get_range(8, 8) == [(8, fix(8, 1))]


def test_reset_truncates_the_body(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    for seq in range(1, 50):
        store.save_and_incr(seq, fix(seq))
    store.reset(T0 + 86_400)
    assert store.body_size < 40
    assert open_store(tmp_path).creation_time() == T0 + 86_400


def test_a_closed_store_refuses_writes(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    store.close()
    store.close()  # idempotent
    with pytest.raises(MessageStoreError, match="closed"):
        store.save(1, fix(1))


def test_the_factory_passes_its_settings(tmp_path: Path) -> None:
    factory = FileStoreFactory(str(tmp_path / "nested" / "dir"), sync=False, max_body_bytes=None)
    store = factory.create(SESSION, T0)
    assert isinstance(store, FileStore)
    store.save_and_incr(1, fix(1))
    assert (tmp_path / "nested" / "dir" / "FIX.4.4-BROKER-CLIENT.body").exists()


def test_a_deferred_window_is_one_body_write_and_one_seqnums_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(tmp_path, sync=False)
    body = tmp_path / "FIX.4.4-BROKER-CLIENT.body"
    seqnums = tmp_path / "FIX.4.4-BROKER-CLIENT.seqnums"
    body_before, seqnums_before = body.read_bytes(), seqnums.read_bytes()
    calls: list[str] = []
    real_write, real_pwrite = os.write, os.pwrite
    monkeypatch.setattr(os, "write", lambda fd, data: calls.append("write") or real_write(fd, data))
    monkeypatch.setattr(os, "pwrite", lambda fd, data, at: calls.append("pwrite") or real_pwrite(fd, data, at))
    store.defer_writes()
    for seq in range(1, 6):
        store.save_and_incr(seq, fix(seq))
        store.incr_next_target_seq_num()
    # nothing reached the files yet
    assert calls == []
    assert (body.read_bytes(), seqnums.read_bytes()) == (body_before, seqnums_before)
    store.write_deferred()
    assert calls == ["write", "pwrite"]
    again = open_store(tmp_path, sync=False)
    assert (again.next_sender_seq_num(), again.next_target_seq_num()) == (6, 6)
    assert again.get_range(1, 5) == [(s, fix(s)) for s in range(1, 6)]


def test_a_failed_deferred_write_raises_and_forgets_what_did_not_reach_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(tmp_path, sync=False)
    store.save_and_incr(1, fix(1))
    store.defer_writes()
    store.save_and_incr(2, fix(2))

    def failing_write(fd: int, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", failing_write)
    with pytest.raises(MessageStoreError, match="No space left"):
        store.write_deferred()
    monkeypatch.undo()
    assert store.get_range(1, 5) == [(1, fix(1))]
    store.save_and_incr(2, fix(2, 30))  # the store goes on writing through
    assert open_store(tmp_path, sync=False).get_range(1, 5) == [(1, fix(1)), (2, fix(2, 30))]


def test_automatic_compaction_inside_a_window(tmp_path: Path) -> None:
    store = open_store(tmp_path, sync=False, max_body_bytes=2000, keep_messages=5)
    store.defer_writes()
    for seq in range(1, 60):
        store.save_and_incr(seq, fix(seq))
    store.write_deferred()
    assert store.body_size < 4000
    assert store.get_range(1, 100) == [(s, fix(s)) for s in range(55, 60)]
    assert open_store(tmp_path, sync=False).get_range(1, 100) == [(s, fix(s)) for s in range(55, 60)]
