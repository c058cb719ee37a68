"""The MessageStore contract (QuickFIX/J AbstractMessageStoreTest), run against every backend."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import pytest

from fix_engine.session.session_id import SessionID

if TYPE_CHECKING:
    from conftest import StoreBackend  # tests/store/conftest.py provides the ``backend`` fixture

T0 = 1_700_000_000.25  # exactly representable, so creation times compare exactly
T1 = T0 + 3600.5
SESSION = SessionID("FIX.4.4", "BROKER", "CLIENT")

SOH = b"\x01"


def fix(seq: int, text: str = "hello") -> bytes:
    return b"8=FIX.4.4" + SOH + b"35=D" + SOH + b"34=%d" % seq + SOH + b"58=" + text.encode() + SOH


def test_a_new_store_starts_at_one_one_with_its_creation_time(backend: StoreBackend) -> None:
    store = backend.open(SESSION, T0)
    assert store.next_sender_seq_num() == 1
    assert store.next_target_seq_num() == 1
    assert store.creation_time() == T0
    assert store.get_range(1, 1_000_000) == []


def test_set_and_get_sequence_numbers(backend: StoreBackend) -> None:
    store = backend.open(SESSION, T0)
    store.set_next_sender_seq_num(123)
    store.set_next_target_seq_num(321)
    assert store.next_sender_seq_num() == 123
    assert store.next_target_seq_num() == 321


def test_incr_sequence_numbers(backend: StoreBackend) -> None:
    store = backend.open(SESSION, T0)
    store.set_next_sender_seq_num(10)
    store.incr_next_sender_seq_num()
    store.incr_next_target_seq_num()
    store.incr_next_target_seq_num()
    assert store.next_sender_seq_num() == 11
    assert store.next_target_seq_num() == 3


def test_get_range_returns_saved_messages_in_bounds_and_skips_gaps(backend: StoreBackend) -> None:
    store = backend.open(SESSION, T0)
    for seq in (1, 2, 3, 5, 7):
        store.save(seq, fix(seq))
    assert store.get_range(1, 7) == [(s, fix(s)) for s in (1, 2, 3, 5, 7)]
    assert store.get_range(2, 5) == [(s, fix(s)) for s in (2, 3, 5)]
    assert store.get_range(0, 1) == [(1, fix(1))]
    assert store.get_range(4, 4) == []
    assert store.get_range(6, 100) == [(7, fix(7))]
    assert store.get_range(8, 10) == []
    assert store.get_range(5, 4) == []  # end before begin


def test_saving_the_same_seq_again_overwrites(backend: StoreBackend) -> None:
    store = backend.open(SESSION, T0)
    store.save(1, fix(1, "first"))
    store.save(2, fix(2))
    store.save(1, fix(1, "second"))
    assert store.get_range(1, 2) == [(1, fix(1, "second")), (2, fix(2))]


def test_save_and_incr_stores_and_advances_the_sender(backend: StoreBackend) -> None:
    store = backend.open(SESSION, T0)
    store.save_and_incr(1, fix(1))
    store.save_and_incr(2, fix(2))
    assert store.next_sender_seq_num() == 3
    assert store.next_target_seq_num() == 1
    assert store.get_range(1, 2) == [(1, fix(1)), (2, fix(2))]


def test_reset_forgets_messages_and_restarts_the_period(backend: StoreBackend) -> None:
    store = backend.open(SESSION, T0)
    for seq in range(1, 4):
        store.save_and_incr(seq, fix(seq))
    store.set_next_target_seq_num(9)
    store.reset(T1)
    assert store.get_range(1, 100) == []
    assert (store.next_sender_seq_num(), store.next_target_seq_num()) == (1, 1)
    assert store.creation_time() == T1
    store.save_and_incr(1, fix(1, "after reset"))
    assert store.get_range(1, 100) == [(1, fix(1, "after reset"))]


def test_reset_is_persistent(backend: StoreBackend) -> None:
    if not backend.persistent:
        pytest.skip(f"{backend.name} keeps nothing across instances")
    store = backend.open(SESSION, T0)
    store.save_and_incr(1, fix(1))
    store.set_next_target_seq_num(5)
    store.reset(T1)
    again = backend.open(SESSION, T0 + 99)
    assert again.get_range(1, 100) == []
    assert (again.next_sender_seq_num(), again.next_target_seq_num()) == (1, 1)
    assert again.creation_time() == T1


def test_refresh_reloads_what_another_instance_wrote(backend: StoreBackend) -> None:
    if not backend.persistent:
        store = backend.open(SESSION, T0)
        store.save_and_incr(1, fix(1))
        store.refresh()  # nothing to reload from: state is kept
        assert store.next_sender_seq_num() == 2
        assert store.get_range(1, 1) == [(1, fix(1))]
        return
    reader = backend.open(SESSION, T0)
    writer = backend.open(SESSION, T0 + 50)
    writer.save_and_incr(1, fix(1))
    writer.save_and_incr(2, fix(2))
    writer.set_next_target_seq_num(7)
    reader.refresh()
    assert reader.next_sender_seq_num() == 3
    assert reader.next_target_seq_num() == 7
    assert reader.get_range(1, 10) == [(1, fix(1)), (2, fix(2))]
    assert reader.creation_time() == T0
    writer.reset(T1)
    reader.refresh()
    assert (reader.next_sender_seq_num(), reader.next_target_seq_num()) == (1, 1)
    assert reader.get_range(1, 10) == []
    assert reader.creation_time() == T1


def test_state_survives_a_new_instance(backend: StoreBackend) -> None:
    if not backend.persistent:
        pytest.skip(f"{backend.name} keeps nothing across instances")
    first = backend.open(SESSION, T0)
    for seq in range(1, 6):
        first.save_and_incr(seq, fix(seq))
    first.save(3, fix(3, "resent"))
    first.set_next_target_seq_num(42)
    first.close()
    second = backend.open(SESSION, T1)  # an existing session keeps its creation time
    assert second.creation_time() == T0
    assert second.next_sender_seq_num() == 6
    assert second.next_target_seq_num() == 42
    expected = [(s, fix(s)) for s in range(1, 6)]
    expected[2] = (3, fix(3, "resent"))
    assert second.get_range(1, 5) == expected


def test_a_lowered_sender_seq_survives_a_new_instance(backend: StoreBackend) -> None:
    if not backend.persistent:
        pytest.skip(f"{backend.name} keeps nothing across instances")
    first = backend.open(SESSION, T0)
    for seq in range(1, 6):
        first.save_and_incr(seq, fix(seq))
    first.set_next_sender_seq_num(3)
    assert backend.open(SESSION, T0).next_sender_seq_num() == 3
    first.save_and_incr(3, fix(3, "again"))
    second = backend.open(SESSION, T0)
    assert second.next_sender_seq_num() == 4
    assert second.get_range(3, 3) == [(3, fix(3, "again"))]


@pytest.mark.parametrize(
    "raw",
    [
        bytes(range(256)),  # NUL, SOH, newlines, every high byte
        SOH * 10,
        b"58=caf\xe9 \xff\xfe\x80" + SOH,  # latin-1, not UTF-8
        b"\n\n10=000\n",
        b"",
    ],
    ids=["all-bytes", "soh-only", "high-bytes", "newlines", "empty"],
)
def test_messages_are_stored_byte_for_byte(backend: StoreBackend, raw: bytes) -> None:
    store = backend.open(SESSION, T0)
    store.save(1, raw)
    store.save_and_incr(2, raw + raw)
    assert store.get_range(1, 2) == [(1, raw), (2, raw + raw)]
    if backend.persistent:
        assert backend.open(SESSION, T0).get_range(1, 2) == [(1, raw), (2, raw + raw)]


def test_a_large_range_comes_back_complete_and_ascending(backend: StoreBackend) -> None:
    count = 600
    seqs = list(range(1, count + 1))
    random.Random(7).shuffle(seqs)
    store = backend.open(SESSION, T0)
    for seq in seqs:
        store.save(seq, fix(seq, "x" * (seq % 50)))
    expected = [(s, fix(s, "x" * (s % 50))) for s in range(1, count + 1)]
    assert store.get_range(1, count) == expected
    assert store.get_range(1, 10 * count) == expected
    assert store.get_range(101, 200) == expected[100:200]


@pytest.mark.parametrize(
    "other",
    [
        SessionID("FIX.4.4", "BROKER", "OTHER"),
        SessionID("FIX.4.2", "BROKER", "CLIENT"),
        SessionID("FIX.4.4", "BROKER", "CLIENT", session_qualifier="Q2"),
        SessionID("FIX.4.4", "BROKER", "CLIENT", sender_sub_id="DESK"),
        SessionID("FIX.4.4", "BROKER", "CLIENT", target_location_id="LDN"),
    ],
    ids=["target", "begin-string", "qualifier", "sender-sub", "target-location"],
)
def test_two_sessions_in_one_backend_are_isolated(backend: StoreBackend, other: SessionID) -> None:
    ours = backend.open(SESSION, T0)
    theirs = backend.open(other, T1)
    ours.save_and_incr(1, fix(1, "ours"))
    ours.set_next_target_seq_num(10)
    theirs.save_and_incr(1, fix(1, "theirs"))
    theirs.save_and_incr(2, fix(2, "theirs"))
    ours.refresh()
    theirs.refresh()
    assert ours.get_range(1, 10) == [(1, fix(1, "ours"))]
    assert theirs.get_range(1, 10) == [(1, fix(1, "theirs")), (2, fix(2, "theirs"))]
    assert (ours.next_sender_seq_num(), ours.next_target_seq_num()) == (2, 10)
    assert (theirs.next_sender_seq_num(), theirs.next_target_seq_num()) == (3, 1)
    assert (ours.creation_time(), theirs.creation_time()) == (T0, T1)
    theirs.reset(T1 + 1)
    ours.refresh()
    assert ours.get_range(1, 10) == [(1, fix(1, "ours"))]
    assert ours.next_sender_seq_num() == 2


# ----------------------------------------------------------------- deferred writes (group commit)


def test_a_deferred_window_reads_its_own_writes(backend: StoreBackend) -> None:
    store = backend.open(SESSION, T0)
    store.save_and_incr(1, fix(1))
    store.defer_writes()
    store.save_and_incr(2, fix(2))
    store.save(1, fix(1, "resent"))
    store.incr_next_target_seq_num()
    store.set_next_target_seq_num(9)
    assert store.next_sender_seq_num() == 3
    assert store.next_target_seq_num() == 9
    assert store.get_range(1, 10) == [(1, fix(1, "resent")), (2, fix(2))]
    store.save_and_incr(3, fix(3))  # the window is still open after a read
    assert store.get_range(3, 3) == [(3, fix(3))]
    store.write_deferred()
    assert store.next_sender_seq_num() == 4
    assert store.get_range(1, 10) == [(1, fix(1, "resent")), (2, fix(2)), (3, fix(3))]


def test_what_a_window_wrote_survives_a_new_instance(backend: StoreBackend) -> None:
    if not backend.persistent:
        pytest.skip(f"{backend.name} keeps nothing across instances")
    store = backend.open(SESSION, T0)
    for window in range(3):
        store.defer_writes()
        for k in range(1, 5):
            seq = window * 4 + k
            store.save_and_incr(seq, fix(seq))
            store.incr_next_target_seq_num()
        store.write_deferred()
    again = backend.open(SESSION, T1)
    assert again.next_sender_seq_num() == 13
    assert again.next_target_seq_num() == 13
    assert again.get_range(1, 100) == [(s, fix(s)) for s in range(1, 13)]


def test_close_writes_an_open_window(backend: StoreBackend) -> None:
    if not backend.persistent:
        pytest.skip(f"{backend.name} keeps nothing across instances")
    store = backend.open(SESSION, T0)
    store.defer_writes()
    store.save_and_incr(1, fix(1))
    store.set_next_target_seq_num(4)
    store.close()
    again = backend.open(SESSION, T1)
    assert (again.next_sender_seq_num(), again.next_target_seq_num()) == (2, 4)
    assert again.get_range(1, 1) == [(1, fix(1))]


def test_a_reset_inside_a_window_forgets_everything(backend: StoreBackend) -> None:
    store = backend.open(SESSION, T0)
    store.save_and_incr(1, fix(1))
    store.defer_writes()
    store.save_and_incr(2, fix(2))
    store.reset(T1)
    store.save_and_incr(1, fix(1, "new period"))
    store.write_deferred()
    assert store.get_range(1, 10) == [(1, fix(1, "new period"))]
    assert (store.next_sender_seq_num(), store.next_target_seq_num()) == (2, 1)
    if backend.persistent:
        again = backend.open(SESSION, T0)
        assert again.get_range(1, 10) == [(1, fix(1, "new period"))]
        assert (again.next_sender_seq_num(), again.next_target_seq_num()) == (2, 1)
        assert again.creation_time() == T1


def test_write_deferred_without_a_window_changes_nothing(backend: StoreBackend) -> None:
    store = backend.open(SESSION, T0)
    store.save_and_incr(1, fix(1))
    store.write_deferred()
    store.defer_writes()
    store.write_deferred()  # an empty window
    assert store.next_sender_seq_num() == 2
    assert store.get_range(1, 1) == [(1, fix(1))]
