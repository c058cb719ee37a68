"""Recovery: journal replay (with and without snapshots) reproduces the state and the next ExecIDs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import JournalFactory, StepClock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from venue_scenarios import SPECS, run_random

from venues.base import Accepted, Fill, OrderRequest, Side, TimeInForce
from venues.internal.journal import MemoryJournal
from venues.internal.snapshot import SnapshotError, decode_state, dump_engine, encode_state, load_engine
from venues.internal.venue import InternalVenue


def _detach(v: InternalVenue) -> None:
    """Give ``v`` a private copy of its journal, so that it and a recovered twin can both go on."""
    copy = MemoryJournal()
    for rec in v.journal.read_from(1):
        copy.append(rec.seq, rec.data, rec.ts)
    v._journal = copy  # noqa: SLF001


def _probe(v: InternalVenue) -> list:
    """Events of a fixed tail of commands (what the next ExecIDs/OrderIDs are)."""
    seen: list = []
    v.subscribe(seen.append)
    for sym in ("AAPL", "MSFT"):
        spec = v.instrument(sym)
        assert spec is not None
        px = spec.reference_price
        for i, side in enumerate((Side.BUY, Side.SELL)):
            v.submit(OrderRequest(sym, "probe", f"p{sym}{i}", side, spec.lot_size * 3, price=px, account="P"))
    return [(type(e).__name__, getattr(e, "exec_id", None), getattr(e, "order_id", None)) for e in seen]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_recover_reproduces_state_and_next_exec_ids(journal_factory: JournalFactory, seed: int) -> None:
    clock = StepClock()
    j = journal_factory.open()
    v = InternalVenue("INTERNAL", SPECS, j, clock, snapshot_every=0)
    run_random(v, seed, 400, clock, check=True)
    expected_hash = v.state_hash()
    expected_seq = v.last_sequence
    _detach(v)
    j.close()

    clock2 = StepClock(start=clock.now)
    r = InternalVenue.recover("INTERNAL", journal_factory.open(), clock2)
    assert r.last_sequence == expected_seq
    assert r.state_hash() == expected_hash
    r.check_invariants()
    assert _probe(r) == _probe(v)
    assert r.state_hash() == v.state_hash()


def test_snapshot_plus_tail_equals_full_replay(journal_factory: JournalFactory) -> None:
    clock = StepClock()
    j = journal_factory.open()
    v = InternalVenue("INTERNAL", SPECS, j, clock, snapshot_every=97)
    run_random(v, 11, 500, clock)
    assert j.latest_snapshot() is not None
    snap_seq = j.latest_snapshot().seq  # type: ignore[union-attr]
    assert 0 < snap_seq < v.last_sequence
    progress: list[tuple[int, int]] = []
    from_snap = InternalVenue.recover(
        "INTERNAL", j, StepClock(clock.now), progress=lambda d, t: progress.append((d, t))
    )
    full = InternalVenue.recover("INTERNAL", j, StepClock(clock.now), use_snapshot=False)
    assert from_snap.state_hash() == full.state_hash() == v.state_hash()
    assert progress[-1] == (v.last_sequence - snap_seq, v.last_sequence - snap_seq)
    from_snap.check_invariants()
    _detach(full)
    _detach(v)
    assert _probe(from_snap) == _probe(full) == _probe(v)
    # market data and order views came back too
    for sym in ("AAPL", "MSFT"):
        assert from_snap.market_stats(sym) == v.market_stats(sym)
        assert from_snap.book_levels(sym) == v.book_levels(sym)
    assert from_snap.working_orders() == v.working_orders()


def test_engine_snapshot_round_trip_keeps_the_hash() -> None:
    clock = StepClock()
    v = InternalVenue("INTERNAL", SPECS, MemoryJournal(), clock, snapshot_every=0)
    run_random(v, 5, 300, clock)
    engine = v._engine  # noqa: SLF001
    state = decode_state(encode_state({"format": 1, "engine": dump_engine(engine)}))
    restored = load_engine(SPECS, state["engine"])
    assert restored.state_hash() == engine.state_hash()
    restored.check_invariants()


def test_tampered_snapshot_is_refused() -> None:
    clock = StepClock()
    j = MemoryJournal()
    v = InternalVenue("INTERNAL", SPECS, j, clock, snapshot_every=0)
    run_random(v, 4, 50, clock)
    v.snapshot()
    snap = j.snapshots[-1]
    state = decode_state(snap.state)
    state["engine"]["counters"][1] += 1  # an ExecID counter that would repeat ids
    j.snapshots[-1] = type(snap)(snap.seq, encode_state(state), snap.state_hash)
    with pytest.raises(SnapshotError):
        InternalVenue.recover("INTERNAL", j, clock)


def test_recover_continues_journaling_after_the_last_sequence(tmp_path) -> None:
    from venues.internal.journal import FileJournal

    clock = StepClock()
    j = FileJournal(tmp_path / "v.journal")
    v = InternalVenue("INTERNAL", SPECS, j, clock)
    run_random(v, 8, 60, clock)
    j.close()
    j2 = FileJournal(tmp_path / "v.journal")
    r = InternalVenue.recover("INTERNAL", j2, clock)
    seen: list = []
    r.subscribe(seen.append)
    r.submit(
        OrderRequest("AAPL", "s9", "after", Side.BUY, Decimal(1), price=Decimal("90.00"), tif=TimeInForce.GTC)
    )
    assert isinstance(seen[0], Accepted)
    assert j2.last_sequence == r.last_sequence == v.last_sequence + 1
    j2.close()
    r2 = InternalVenue.recover("INTERNAL", FileJournal(tmp_path / "v.journal"), clock)
    assert r2.state_hash() == r.state_hash()


def test_exec_ids_unique_across_restarts() -> None:
    clock = StepClock()
    j = MemoryJournal()
    v = InternalVenue("INTERNAL", SPECS, j, clock, snapshot_every=37)
    ids: list[str] = []
    v.subscribe(lambda e: ids.append(e.exec_id) if isinstance(e, Fill | Accepted) else None)
    run_random(v, 21, 150, clock)
    for round_ in range(3):
        v = InternalVenue.recover("INTERNAL", j, clock, snapshot_every=37)
        v.subscribe(lambda e: ids.append(e.exec_id) if isinstance(e, Fill | Accepted) else None)
        run_random(v, 100 + round_, 100, clock, start=1000 * (round_ + 1))
    assert ids and len(ids) == len(set(ids))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), steps=st.integers(1, 120), every=st.integers(0, 40))
def test_recover_property(seed: int, steps: int, every: int) -> None:
    clock = StepClock()
    j = MemoryJournal()
    v = InternalVenue("INTERNAL", SPECS, j, clock, snapshot_every=every)
    run_random(v, seed, steps, clock)
    r = InternalVenue.recover("INTERNAL", j, StepClock(clock.now))
    assert r.state_hash() == v.state_hash()
    _detach(v)
    assert _probe(r) == _probe(v)
