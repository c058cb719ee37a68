"""Pure domain types of the registry: amounts, assets, accounts, entries, fills, holds, orders (no database)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from brokers.domain.accounts import (
    FEES_ACCOUNT,
    Account,
    AccountKind,
    Asset,
    Hold,
    HoldState,
    HoldStateError,
    InvalidAmount,
    format_amount,
    to_amount,
    venue_account,
)
from brokers.domain.ledger import (
    BookedOrder,
    BookingError,
    EntryKind,
    FillToBook,
    LedgerEntry,
    Leg,
    OrderState,
    Side,
    TradeCorrection,
    UnbalancedEntry,
    deposit_entry,
    net_by_account_asset,
    pro_rata_remaining,
)

T0 = dt.datetime(2024, 6, 3, 13, 30, tzinfo=dt.UTC)
USD = Asset.currency("usd")
AAPL = Asset.instrument("AAPL")


def make_fill(side: Side = Side.BUY, qty: str = "10", price: str = "150.25", fees: str = "1.5") -> FillToBook:
    return FillToBook(
        "XNAS", "E1", "O1", "ACME", "AAPL", side, Decimal(qty), Decimal(price), "USD", T0, Decimal(fees)
    )


class TestAmounts:
    def test_exact_decimal_of_at_most_eight_places(self) -> None:
        assert to_amount("0.00000001") == Decimal("0.00000001")
        assert to_amount(5) == Decimal(5)
        assert to_amount(Decimal("1.10")) == Decimal("1.1")

    @pytest.mark.parametrize("bad", [0.1, "0.000000001", "NaN", "Infinity", "abc", "1e16", True])
    def test_refuses_floats_inexact_and_out_of_range(self, bad: object) -> None:
        with pytest.raises(InvalidAmount):
            to_amount(bad)  # type: ignore[arg-type]

    def test_format_has_no_exponent_and_no_trailing_zeros(self) -> None:
        assert format_amount(Decimal("1000000.00000000")) == "1000000"
        assert format_amount(Decimal("0E-8")) == "0"
        assert format_amount(Decimal("-12.50000000")) == "-12.5"


class TestAccountsAndAssets:
    def test_currency_codes_are_upper_case_and_kinds_differ(self) -> None:
        assert USD == Asset.currency("USD")
        assert Asset.currency("ABC") != Asset.instrument("ABC")

    def test_client_floor_is_the_credit_line_for_cash_and_zero_for_instruments(self) -> None:
        account = Account("ACME", credit_limit=Decimal(500))
        assert account.floor(USD) == Decimal(-500)
        assert account.floor(AAPL) == 0
        assert Account("SHORTY", allow_short=True).floor(AAPL) is None

    def test_system_accounts_have_no_floor(self) -> None:
        assert Account(venue_account("XNAS"), AccountKind.VENUE).floor(USD) is None

    @pytest.mark.parametrize("name", ["", " ACME", "AC ME"])
    def test_invalid_names(self, name: str) -> None:
        with pytest.raises(ValueError):
            Account(name)


class TestLedgerEntry:
    def test_legs_must_balance_per_asset(self) -> None:
        with pytest.raises(UnbalancedEntry):
            LedgerEntry(EntryKind.DEPOSIT, (Leg("A", USD, Decimal(1)), Leg("B", USD, Decimal(-2))), T0)
        with pytest.raises(UnbalancedEntry):  # balanced in total, not per asset
            LedgerEntry(EntryKind.DEPOSIT, (Leg("A", USD, Decimal(1)), Leg("B", AAPL, Decimal(-1))), T0)

    def test_zero_legs_are_dropped(self) -> None:
        entry = deposit_entry("ACME", USD, "10", T0)
        assert len(entry.legs) == 2
        assert net_by_account_asset([entry]) == {("@world", USD): Decimal(-10), ("ACME", USD): Decimal(10)}

    def test_reversal_negates_every_leg(self) -> None:
        entry = LedgerEntry(EntryKind.TRADE, make_fill().entry().legs, T0, entry_id=7)
        reversal = entry.reversal(T0)
        assert reversal.kind is EntryKind.REVERSAL and reversal.reverses == 7
        assert net_by_account_asset([entry, reversal]) == {}


class TestFillEntry:
    def test_buy_moves_cash_to_the_venue_fees_to_the_house_shares_to_the_buyer(self) -> None:
        fill = make_fill()
        net = net_by_account_asset([fill.entry()])
        assert net == {
            ("ACME", USD): Decimal("-1504.00"),
            (venue_account("XNAS"), USD): Decimal("1502.50"),
            (FEES_ACCOUNT, USD): Decimal("1.5"),
            ("ACME", AAPL): Decimal(10),
            (venue_account("XNAS"), AAPL): Decimal(-10),
        }
        assert fill.entry().outflows("ACME") == {USD: Decimal("1504.00")}

    def test_sell_flips_cash_and_shares_but_still_pays_fees(self) -> None:
        net = net_by_account_asset([make_fill(Side.SELL).entry()])
        assert net[("ACME", USD)] == Decimal("1501.00")
        assert net[("ACME", AAPL)] == Decimal(-10)

    def test_notional_is_rounded_half_even_to_eight_places(self) -> None:
        fill = make_fill(qty="0.33333333", price="0.33333333", fees="0")
        assert fill.notional == Decimal("0.11111111")

    def test_correction_restates_quantity_and_price_under_the_new_exec_id(self) -> None:
        corrected = make_fill().corrected(TradeCorrection("XNAS", "E1c", "E1", Decimal(8), Decimal(150), T0))
        assert (corrected.exec_id, corrected.qty, corrected.price, corrected.fees) == (
            "E1c",
            Decimal(8),
            Decimal(150),
            Decimal("1.5"),
        )

    def test_naive_timestamps_are_utc(self) -> None:
        fill = FillToBook(
            "V", "E", None, "A", "S", Side.BUY, Decimal(1), Decimal(1), "usd", dt.datetime(2024, 1, 1)
        )
        assert fill.ts.tzinfo is dt.UTC and fill.currency == "USD"


class TestHold:
    def test_fill_at_a_better_price_posts_the_used_part_and_releases_the_rest(self) -> None:
        hold = Hold.reserve("ACME", USD, "O1", "15000")
        assert hold.settle(used=Decimal("5980"), remaining_after=Decimal("9000")) == Decimal(-6000)
        assert (hold.posted, hold.released, hold.state) == (Decimal(5980), Decimal(20), HoldState.PENDING)
        hold.settle(used=Decimal("8970"), remaining_after=Decimal(0))
        assert (hold.posted, hold.released, hold.state) == (Decimal(14950), Decimal(50), HoldState.POSTED)

    def test_release_without_fills_voids(self) -> None:
        hold = Hold.reserve("ACME", USD, "O1", "100")
        assert hold.release() == Decimal(-100)
        assert hold.state is HoldState.VOIDED

    def test_done_holds_do_not_move(self) -> None:
        hold = Hold.reserve("ACME", USD, "O1", "100")
        hold.release()
        with pytest.raises(HoldStateError):
            hold.release()

    def test_a_worse_price_never_grows_the_hold(self) -> None:
        hold = Hold.reserve("ACME", USD, "O1", "100")
        assert hold.settle(used=Decimal(80), remaining_after=Decimal(50)) == Decimal(-50)
        assert hold.posted == Decimal(50) and hold.remaining == Decimal(50)


class TestBookedOrder:
    def order(self) -> BookedOrder:
        return BookedOrder("O1", "ACME", "AAPL", Side.BUY, Decimal(100), Decimal(150), "usd")

    def test_status_follows_cum_qty_and_avg_px_the_notional(self) -> None:
        order = self.order()
        order.add_fill(Decimal(40), Decimal(5980))
        assert (order.status, order.leaves_qty, order.avg_px) == (
            OrderState.PARTIALLY_FILLED,
            Decimal(60),
            Decimal("149.5"),
        )
        order.add_fill(Decimal(60), Decimal(9000))
        assert (order.status, order.leaves_qty) == (OrderState.FILLED, 0)
        order.add_fill(Decimal(-60), Decimal(-9000))  # a bust
        assert order.status is OrderState.PARTIALLY_FILLED

    def test_closed_order_keeps_its_status_and_has_no_leaves(self) -> None:
        order = self.order()
        order.add_fill(Decimal(40), Decimal(5980))
        order.close(OrderState.CANCELLED)
        assert order.leaves_qty == 0
        order.add_fill(Decimal(10), Decimal(1500))  # a late fill
        assert order.status is OrderState.CANCELLED and order.cum_qty == 50

    def test_pro_rata_share_of_a_reservation(self) -> None:
        order = self.order()
        order.add_fill(Decimal(30), Decimal(4500))
        assert pro_rata_remaining(Decimal("15010"), order) == Decimal("10507")

    def test_a_fill_of_another_account_or_symbol_is_refused(self) -> None:
        with pytest.raises(BookingError):
            self.order().check_fill(
                FillToBook("XNAS", "E1", "O1", "OTHER", "AAPL", Side.BUY, Decimal(1), Decimal(1), "USD", T0)
            )
