"""Crash recovery books a fill the gateway never booked with the account's fee, as live booking does."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from brokers.client.orders import session_key
from brokers.domain.accounts import FEES_ACCOUNT, Account, Asset
from brokers.domain.ledger import BookedOrder
from brokers.domain.ledger import Side as LedgerSide
from brokers.oms.context import FeeSchedule, FeeSchedules
from brokers.recovery import Reconciler, open_internal_venue
from brokers.registry import Registry
from fix_engine.session.session_id import SessionID
from venues.base import OrderRequest, Side
from venues.internal.journal import FileJournal
from venues.internal.reference_data import instruments_from_settings

D = Decimal
SESSION = SessionID("FIX.4.4", "FIXGATE", "CLIENT1")


def test_recovered_fill_is_booked_with_its_fee(tmp_path: Path) -> None:
    clock = iter(range(1_700_000_000_000_000_000, 1_800_000_000_000_000_000, 1_000_000))
    specs = instruments_from_settings({"Instruments": "IBM 0.01 1 100.00"})
    registry = Registry(f"sqlite:///{tmp_path / 'r.db'}")
    registry.upgrade()
    registry.open_account(Account("DEMO1"))
    registry.deposit("DEMO1", D("10000"))
    # 10 @ 100 + the fee of one fill: 1000.00 * 10 bps + 2.00 = 3.00
    registry.open_order(BookedOrder("O-1", "DEMO1", "IBM", LedgerSide.BUY, D(10), D(100), "USD"),
                        {Asset.currency("USD"): D("1003.00")})
    journal_path = tmp_path / "orders.jsonl"
    journal_path.write_text(json.dumps({
        "t": "new", "id": "O-1", "session": ["FIX.4.4", "FIXGATE", "CLIENT1", ""], "cl": "C1", "acct": "DEMO1",
        "sym": "IBM", "side": "1", "qty": "10", "type": "2", "px": "100", "stop": None, "tif": "0", "exp": None,
        "venue": "INTERNAL", "vcl": "O-1", "booking": "O-1", "cur": "USD"}) + "\n")
    # the venue trades 4 of the order (journaled) and the gateway dies before booking it
    venue_journal = FileJournal(str(tmp_path / "venue.journal"))
    venue = open_internal_venue("INTERNAL", specs, venue_journal, lambda: next(clock))
    venue.submit(OrderRequest("IBM", session_key(SESSION), "O-1", Side.BUY, D(10), price=D(100), account="DEMO1"))
    venue.submit(OrderRequest("IBM", "OTHER", "X-1", Side.SELL, D(4), price=D(100), account="HOUSE"))
    venue_journal.close()

    venue_journal = FileJournal(str(tmp_path / "venue.journal"))
    recovered = open_internal_venue("INTERNAL", specs, venue_journal, lambda: next(clock))
    fees = FeeSchedules(FeeSchedule(), {"DEMO1": FeeSchedule(bps=D(10), fixed=D("2.00"))})
    report = Reconciler(registry, recovered, journal_path, lambda: next(clock),
                        fees=fees.for_account).reconcile_registry()
    assert len(report.booked) == 1
    # 400.00 * 10 bps + 2.00 = 2.40
    assert registry.balance(FEES_ACCOUNT, "USD").amount == D("2.40")
    assert registry.balance("DEMO1", "USD").amount == D("10000") - D("400") - D("2.40")
    assert registry.check() == []
    venue_journal.close()
    registry.close()


def test_external_venue_journaled_fills_are_booked_once(tmp_path: Path) -> None:
    """A fill an external venue's child-order journal applied before a crash, never booked: the
    gateway books it at start (with the account's fee), and only once."""
    from datetime import UTC, datetime

    from brokers.recovery import book_missing_fills
    from venues.base import Fill, Liquidity

    registry = Registry(f"sqlite:///{tmp_path / 'r.db'}")
    registry.upgrade()
    registry.open_account(Account("DEMO1"))
    registry.deposit("DEMO1", D("10000"))
    registry.open_order(BookedOrder("O-7", "DEMO1", "XYZ", LedgerSide.BUY, D(10), D(10), "USD"),
                        {Asset.currency("USD"): D("100.00")})
    ts = int(datetime(2026, 11, 22, tzinfo=UTC).timestamp() * 1e9)
    fill = Fill(ts=ts, symbol="XYZ", order_id="X1", owner="GW", cl_ord_id="O-7", exec_id="XQ-E1", side=Side.BUY,
                match_id="", last_qty=D(10), last_px=D("9.50"), cum_qty=D(10), leaves_qty=D(0),
                avg_px=D("9.50"), liquidity=next(iter(Liquidity)), account="DEMO1")
    fees = FeeSchedules(FeeSchedule(fixed=D("1.00"))).for_account
    assert book_missing_fills(registry, "XQFX", [fill], fees) == ["XQ-E1"]
    assert book_missing_fills(registry, "XQFX", [fill], fees) == []  # already booked
    assert registry.balance("DEMO1", "USD").amount == D("10000") - D("95.00") - D("1.00")
    assert registry.check() == []
    registry.close()
