"""Reconciler in process: fills hidden behind a venue snapshot are found by a full replay."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

from brokers.client.orders import session_key
from brokers.domain.accounts import Account, Asset
from brokers.domain.ledger import BookedOrder
from brokers.domain.ledger import Side as LedgerSide
from brokers.recovery import Reconciler, open_internal_venue
from brokers.registry import Registry
from fix_engine.session.session_id import SessionID
from fix_engine.store.memory import MemoryStore
from venues.base import OrderRequest, Side
from venues.internal.journal import FileJournal
from venues.internal.reference_data import instruments_from_settings
from venues.internal.venue import InternalVenue

D = Decimal
SESSION = SessionID("FIX.4.4", "FIXGATE", "CLIENT1")


def test_fills_before_the_snapshot_are_booked_by_a_full_replay(tmp_path: Path) -> None:
    clock = iter(range(1_700_000_000_000_000_000, 1_800_000_000_000_000_000, 1_000_000))
    specs = instruments_from_settings({"Instruments": "IBM 0.01 1 100.00"})
    registry = Registry(f"sqlite:///{tmp_path / 'r.db'}")
    registry.upgrade()
    registry.open_account(Account("DEMO1"))
    registry.deposit("DEMO1", D("10000"))
    registry.open_order(BookedOrder("O-1", "DEMO1", "IBM", LedgerSide.BUY, D(10), D(100), "USD"),
                        {Asset.currency("USD"): D(1000)})
    journal_path = tmp_path / "orders.jsonl"
    journal_path.write_text(json.dumps({
        "t": "new", "id": "O-1", "session": ["FIX.4.4", "FIXGATE", "CLIENT1", ""], "cl": "C1", "acct": "DEMO1",
        "sym": "IBM", "side": "1", "qty": "10", "type": "2", "px": "100", "stop": None, "tif": "0", "exp": None,
        "venue": "INTERNAL", "vcl": "O-1", "booking": "O-1", "cur": "USD"}) + "\n")

    # the venue trades 4 of the gateway's order, snapshots, and the gateway dies before booking it
    venue_journal = FileJournal(str(tmp_path / "venue.journal"))
    venue = InternalVenue("INTERNAL", specs, venue_journal, lambda: next(clock))
    owner = session_key(SESSION)
    venue.submit(OrderRequest("IBM", owner, "O-1", Side.BUY, D(10), price=D(100), account="DEMO1"))
    venue.submit(OrderRequest("IBM", "OTHER", "X-1", Side.SELL, D(4), price=D(100), account="HOUSE"))
    venue.snapshot()
    venue_journal.close()

    venue_journal = FileJournal(str(tmp_path / "venue.journal"))
    recovered = open_internal_venue("INTERNAL", specs, venue_journal, lambda: next(clock))
    reconciler = Reconciler(registry, recovered, journal_path, lambda: next(clock))
    report = reconciler.reconcile_registry()
    assert report.replayed_fills == 0 and report.full_replay and len(report.booked) == 1
    booked = registry.order("O-1")
    assert booked is not None and booked.cum_qty == 4 and booked.status.is_open
    assert registry.check() == []

    # phase 2: the client's store has no report of that fill -> one is stored for resend
    sent: list = []
    host = SimpleNamespace(session_id=SESSION, session=SimpleNamespace(store=MemoryStore(0.0)))
    reconciler.report_to_clients([host], lambda message, session_id: sent.append((message, session_id)))
    assert [(m.get(17), m.get(150), m.get(14), m.get(151), m.get(32)) for m, _ in sent] == [
        (f"INTERNAL.{report.booked[0]}", "F", "4", "6", "4")]
    # a second start books nothing more (idempotent on (venue, ExecID))
    again = Reconciler(registry, open_internal_venue("INTERNAL", specs, venue_journal, lambda: next(clock)),
                       journal_path, lambda: next(clock)).reconcile_registry()
    assert again.booked == [] and again.closed == []
    venue_journal.close()
    registry.close()
