"""Contract suite: booking fills, holds and corrections, run against every backend (SQLite, PostgreSQL).

After every scenario step the invariants must hold (exchange-core's check-after-every-step style).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text

from brokers.domain.accounts import (
    FEES_ACCOUNT,
    WORLD_ACCOUNT,
    Account,
    Asset,
    HoldState,
    InsufficientFunds,
    UnknownAccount,
    venue_account,
)
from brokers.domain.ledger import (
    BookingError,
    EntryKind,
    ExecutionState,
    OrderState,
    Side,
    TradeCancel,
    TradeCorrection,
    UnknownExecution,
    UnknownOrder,
)
from brokers.registry import AlreadyBooked, Booked, Registry

from .conftest import T0, assert_sound, fill, fund, open_order

USD = Asset.currency("USD")
AAPL = Asset.instrument("AAPL")
VENUE = venue_account("XNAS")
D = Decimal


def cash(registry: Registry, account: str = "ACME") -> Decimal:
    return registry.balance(account, USD).amount


def held(registry: Registry, account: str = "ACME") -> Decimal:
    return registry.balance(account, USD).held


def shares(registry: Registry, account: str = "ACME") -> Decimal:
    return registry.balance(account, AAPL).amount


@pytest.fixture
def acme(registry: Registry) -> Registry:
    fund(registry)
    open_order(registry)  # O1: buy 100 AAPL @ 150, 15000 USD reserved
    assert_sound(registry)
    return registry


class TestPartialAndSeveralFills:
    def test_partial_fill_books_cash_shares_order_and_shrinks_the_hold(self, acme: Registry) -> None:
        result = acme.book_fill(fill("E1", 40, "150"))
        assert isinstance(result, Booked) and len(result.entry_ids) == 1
        assert cash(acme) == D(1_000_000 - 6000)
        assert held(acme) == D(9000)
        assert acme.balance("ACME", USD).available == D(1_000_000 - 15000)
        assert shares(acme) == D(40)
        assert cash(acme, VENUE) == D(6000) and shares(acme, VENUE) == D(-40)
        order = acme.order("O1")
        assert order is not None
        assert (order.status, order.cum_qty, order.avg_px) == (OrderState.PARTIALLY_FILLED, D(40), D(150))
        [hold] = acme.holds("O1")
        assert (hold.state, hold.remaining, hold.posted) == (HoldState.PENDING, D(9000), D(6000))
        assert_sound(acme)

    def test_several_fills_complete_the_order_with_an_exact_average_price(self, acme: Registry) -> None:
        for exec_id, qty, price in (("E1", 40, "150"), ("E2", 35, "149.99"), ("E3", 25, "149.98")):
            assert isinstance(acme.book_fill(fill(exec_id, qty, price)), Booked)
            assert_sound(acme)
        notional = D(40 * 150) + D(35) * D("149.99") + D(25) * D("149.98")
        order = acme.order("O1")
        assert order is not None
        assert (order.status, order.cum_qty, order.notional) == (OrderState.FILLED, D(100), notional)
        assert order.avg_px == (notional / 100).quantize(D("1e-8"))
        assert cash(acme) == D(1_000_000) - notional
        assert held(acme) == 0
        [hold] = acme.holds("O1")
        assert hold.state is HoldState.POSTED and hold.posted == notional

    def test_fill_at_a_better_price_releases_the_difference(self, acme: Registry) -> None:
        acme.book_fill(fill("E1", 100, "149.5"))
        assert held(acme) == 0
        assert acme.balance("ACME", USD).available == D(1_000_000 - 14950)
        [hold] = acme.holds("O1")
        assert (hold.state, hold.posted, hold.released) == (HoldState.POSTED, D(14950), D(50))
        assert_sound(acme)

    def test_fees_go_to_the_house_and_are_taken_from_the_hold(self, acme: Registry) -> None:
        acme.book_fill(fill("E1", 50, "150", fees="2.5"))
        assert cash(acme) == D(1_000_000) - D(7500) - D("2.5")
        assert cash(acme, FEES_ACCOUNT) == D("2.5")
        [hold] = acme.holds("O1")
        assert hold.posted == D(7500)  # the pro-rata share (7500) capped what could be posted
        assert_sound(acme)

    def test_a_fill_without_an_order_books_the_ledger_only(self, registry: Registry) -> None:
        fund(registry)
        registry.book_fill(fill("E1", 10, "150", order_id=None))
        assert shares(registry) == 10 and cash(registry) == D(1_000_000 - 1500)
        assert_sound(registry)

    def test_sell_posts_the_share_hold_and_credits_the_proceeds(self, registry: Registry) -> None:
        fund(registry)
        registry.deposit_holding("ACME", "AAPL", "100")
        open_order(registry, "S1", 100, "150", side=Side.SELL)
        assert registry.balance("ACME", AAPL).available == 0
        registry.book_fill(fill("E1", 60, "151", order_id="S1", side=Side.SELL))
        assert shares(registry) == D(40) and registry.balance("ACME", AAPL).held == D(40)
        assert cash(registry) == D(1_000_000 + 60 * 151)
        assert_sound(registry)


class TestCancelAndRelease:
    def test_cancel_after_a_partial_fill_releases_the_rest(self, acme: Registry) -> None:
        acme.book_fill(fill("E1", 40, "150"))
        order = acme.close_order("O1")
        assert order.status is OrderState.CANCELLED and order.cum_qty == 40
        assert held(acme) == 0
        [hold] = acme.holds("O1")
        assert (hold.state, hold.posted, hold.remaining) == (HoldState.POSTED, D(6000), D(0))
        assert_sound(acme)

    @pytest.mark.parametrize("status", [OrderState.CANCELLED, OrderState.EXPIRED, OrderState.REJECTED])
    def test_release_without_fills_voids_the_hold(self, acme: Registry, status: OrderState) -> None:
        acme.close_order("O1", status)
        [hold] = acme.holds("O1")
        assert hold.state is HoldState.VOIDED
        assert held(acme) == 0 and acme.order("O1").status is status  # type: ignore[union-attr]
        assert_sound(acme)

    def test_release_is_idempotent(self, acme: Registry) -> None:
        assert acme.release("O1") == D(15000)
        assert acme.release("O1") == 0
        acme.close_order("O1")
        assert_sound(acme)

    def test_reserve_refuses_more_than_available(self, acme: Registry) -> None:
        open_order(acme, "O2", 1, "985000")  # exactly what is left
        with pytest.raises(InsufficientFunds):
            open_order(acme, "O3", 1, "0.01")
        assert acme.order("O3") is None  # the order and its reservation are all or nothing
        assert_sound(acme)

    def test_reserve_may_use_the_credit_line(self, registry: Registry) -> None:
        fund(registry, "LEVER", "1000", credit_limit=D(500))
        open_order(registry, "O1", 1, "1500", account="LEVER")
        with pytest.raises(InsufficientFunds):
            open_order(registry, "O2", 1, "0.01", account="LEVER")
        assert_sound(registry)

    def test_reserve_needs_a_known_open_order_of_the_account(self, acme: Registry) -> None:
        with pytest.raises(UnknownOrder):
            acme.reserve("ACME", "USD", "1", "NOPE")
        fund(acme, "OTHER")
        with pytest.raises(BookingError):
            acme.reserve("OTHER", "USD", "1", "O1")

    def test_withdraw_counts_held_funds(self, acme: Registry) -> None:
        with pytest.raises(InsufficientFunds):
            acme.withdraw("ACME", "985000.01")
        acme.withdraw("ACME", "985000")
        assert cash(acme) == D(15000) and cash(acme, WORLD_ACCOUNT) == D(-15000)
        assert_sound(acme)


class TestTradeCancelAndCorrection:
    def test_trade_cancel_is_a_full_reversal(self, acme: Registry) -> None:
        acme.book_fill(fill("E1", 40, "150", fees="1"))
        acme.book_fill(fill("E2", 10, "150"))
        result = acme.book_trade_cancel(TradeCancel("XNAS", "X1", "E1", T0))
        assert isinstance(result, Booked)
        assert cash(acme) == D(1_000_000 - 1500) and shares(acme) == D(10)
        assert cash(acme, VENUE) == D(1500) and cash(acme, FEES_ACCOUNT) == 0
        order = acme.order("O1")
        assert order is not None and (order.cum_qty, order.avg_px, order.status) == (
            D(10),
            D(150),
            OrderState.PARTIALLY_FILLED,
        )
        kinds = [entry.kind for entry in acme.entries("ACME")]
        assert kinds == [EntryKind.DEPOSIT, EntryKind.TRADE, EntryKind.TRADE, EntryKind.REVERSAL]
        assert {f.fill.exec_id: f.state for f in acme.fills() if f.fill} == {  # type: ignore[union-attr]
            "E1": ExecutionState.CANCELLED,
            "E2": ExecutionState.BOOKED,
        }
        assert_sound(acme)

    def test_trade_cancel_is_booked_once_and_only_on_a_standing_fill(self, acme: Registry) -> None:
        acme.book_fill(fill("E1", 40, "150"))
        acme.book_trade_cancel(TradeCancel("XNAS", "X1", "E1", T0))
        assert acme.book_trade_cancel(TradeCancel("XNAS", "X1", "E1", T0)) == AlreadyBooked("XNAS", "X1")
        with pytest.raises(UnknownExecution):
            acme.book_trade_cancel(TradeCancel("XNAS", "X2", "E1", T0))  # busted already
        with pytest.raises(UnknownExecution):
            acme.book_trade_cancel(TradeCancel("XNAS", "X3", "NEVER", T0))
        assert cash(acme) == D(1_000_000)
        assert_sound(acme)

    def test_trade_correction_reverses_and_rebooks(self, acme: Registry) -> None:
        acme.book_fill(fill("E1", 40, "150", fees="1"))
        result = acme.book_trade_correction(TradeCorrection("XNAS", "C1", "E1", D(30), D(149), T0))
        assert isinstance(result, Booked) and len(result.entry_ids) == 2
        assert cash(acme) == D(1_000_000) - D(30 * 149) - D(1)
        assert shares(acme) == D(30) and shares(acme, VENUE) == D(-30)
        order = acme.order("O1")
        assert order is not None and (order.cum_qty, order.avg_px) == (D(30), D(149))
        assert acme.book_trade_correction(
            TradeCorrection("XNAS", "C1", "E1", D(30), D(149), T0)
        ) == AlreadyBooked("XNAS", "C1")
        assert_sound(acme)
        # the correction is now the standing fill: it can be busted by its own exec id
        acme.book_trade_cancel(TradeCancel("XNAS", "X1", "C1", T0))
        assert cash(acme) == D(1_000_000) and shares(acme) == 0
        assert_sound(acme)

    def test_a_corrected_fill_cannot_be_corrected_again(self, acme: Registry) -> None:
        acme.book_fill(fill("E1", 40, "150"))
        acme.book_trade_correction(TradeCorrection("XNAS", "C1", "E1", D(30), D(149), T0))
        with pytest.raises(UnknownExecution):
            acme.book_trade_correction(TradeCorrection("XNAS", "C2", "E1", D(20), D(149), T0))
        assert_sound(acme)


class TestExactlyOnce:
    def test_duplicate_exec_id_books_once(self, acme: Registry) -> None:
        assert isinstance(acme.book_fill(fill("E1", 40, "150")), Booked)
        assert acme.book_fill(fill("E1", 40, "150")) == AlreadyBooked("XNAS", "E1")
        assert cash(acme) == D(1_000_000 - 6000) and shares(acme) == 40
        assert acme.order("O1").cum_qty == 40  # type: ignore[union-attr]
        assert_sound(acme)

    def test_the_key_is_venue_and_exec_id(self, acme: Registry) -> None:
        acme.book_fill(fill("E1", 10, "150"))
        assert isinstance(acme.book_fill(fill("E1", 10, "150", venue="XLON")), Booked)
        assert shares(acme) == 20

    def test_batch_books_each_fill_once_in_order(self, acme: Registry) -> None:
        open_order(acme, "O2", 100, "10")
        batch = [fill(f"E{i}", 1, "150") for i in range(50)] + [
            fill(f"F{i}", 2, "9.99", order_id="O2") for i in range(50)
        ]
        batch.insert(10, fill("E3", 1, "150"))  # a duplicate inside the batch
        results = acme.book_fills(batch)
        assert [type(r) for r in results].count(Booked) == 100
        assert results[10] == AlreadyBooked("XNAS", "E3")
        assert [r.exec_id for r in results] == [f.exec_id for f in batch]
        assert shares(acme) == 150
        assert acme.order("O1").cum_qty == 50 and acme.order("O2").status is OrderState.FILLED  # type: ignore[union-attr]
        assert held(acme) == D(7500)  # O1's leaves share; O2 fully posted
        assert_sound(acme)
        again = acme.book_fills(batch)
        assert all(isinstance(r, AlreadyBooked) for r in again)
        assert shares(acme) == 150
        assert_sound(acme)

    def test_batch_matches_one_by_one(self, registry: Registry) -> None:
        fund(registry, "A")
        fund(registry, "B")
        open_order(registry, "OA", 30, "150", account="A")
        open_order(registry, "OB", 30, "150", account="B")
        fills_a = [fill(f"A{i}", 3, str(150 - i), order_id="OA", account="A") for i in range(10)]
        fills_b = [fill(f"B{i}", 3, str(150 - i), order_id="OB", account="B") for i in range(10)]
        registry.book_fills(fills_a)
        for one in fills_b:
            registry.book_fill(one)
        a, b = registry.balances("A"), registry.balances("B")
        assert [(x.asset, x.amount, x.held) for x in a] == [(x.asset, x.amount, x.held) for x in b]
        assert_sound(registry)

    def test_a_failing_batch_books_nothing(self, acme: Registry) -> None:
        with pytest.raises(UnknownOrder):
            acme.book_fills([fill("E1", 10, "150"), fill("E2", 10, "150", order_id="NOPE")])
        assert shares(acme) == 0
        assert isinstance(acme.book_fill(fill("E1", 10, "150")), Booked)  # the key was not burnt
        assert_sound(acme)

    def test_unknown_client_account_is_refused_without_burning_the_key(self, registry: Registry) -> None:
        with pytest.raises(UnknownAccount):
            registry.book_fill(fill("E1", 10, "150", order_id=None))
        fund(registry)
        assert isinstance(registry.book_fill(fill("E1", 10, "150", order_id=None)), Booked)

    def test_a_fill_for_another_account_than_the_order_is_refused(self, acme: Registry) -> None:
        fund(acme, "OTHER")
        with pytest.raises(BookingError):
            acme.book_fill(fill("E1", 10, "150", account="OTHER"))
        assert_sound(acme)


class TestExactAmounts:
    def test_amounts_are_exact_to_eight_places(self, registry: Registry) -> None:
        fund(registry, "ACME", "0.00000001")
        for _ in range(10):
            registry.deposit("ACME", "0.1")
        registry.deposit("ACME", "12345678.12345678")
        assert cash(registry) == D("12345679.12345679")
        registry.deposit("ACME", "9999999999999999.99999999", "JPY")
        assert registry.balance("ACME", "JPY").amount == D("9999999999999999.99999999")
        assert_sound(registry)

    def test_totals_are_exact(self, registry: Registry) -> None:
        registry.open_account(Account("ACME"))
        for _ in range(30):
            registry.deposit("ACME", "0.1")
        with registry.uow() as uow:
            assert uow.ledger.totals_per_account_asset()[("ACME", USD)] == D(3)
            assert uow.ledger.totals_per_asset()[USD] == 0


class TestInvariantsDetect:
    def test_tampered_balance_is_reported(self, acme: Registry) -> None:
        with acme.engine.begin() as conn:
            conn.execute(text("UPDATE balances SET amount = held"))  # equal to the hold: ledger disagrees
        rules = {v.rule for v in acme.check()}
        assert "balances-match-ledger" in rules

    def test_tampered_hold_is_reported(self, acme: Registry) -> None:
        with acme.engine.begin() as conn:
            conn.execute(text("UPDATE holds SET state = 'VOIDED'"))
        assert {v.rule for v in acme.check()} == {"held-matches-holds"}

    def test_selling_what_is_not_there_is_reported(self, registry: Registry) -> None:
        fund(registry)
        registry.book_fill(
            fill("E1", 10, "150", order_id=None, side=Side.SELL)
        )  # a venue fact: booked anyway
        assert {v.rule for v in registry.check()} == {"available-not-negative"}

    def test_short_accounts_may_sell_what_is_not_there(self, registry: Registry) -> None:
        fund(registry, "SHORTY", allow_short=True)
        registry.book_fill(fill("E1", 10, "150", order_id=None, side=Side.SELL, account="SHORTY"))
        assert_sound(registry)
