"""AccountCache: the vetting snapshot -- open buys, fills not yet booked, local holds, tidy numbers."""

from __future__ import annotations

from decimal import Decimal

from brokers.client.accounts import AccountCache
from brokers.domain.accounts import Account, Asset, Balance
from brokers.oms.context import FeeSchedule, FeeSchedules

D = Decimal


def cache() -> AccountCache:
    c = AccountCache(FeeSchedules(FeeSchedule(bps=D(1)), {"B": FeeSchedule(fixed=D(1))}))
    c.load(Account("A"), [Balance("A", Asset.currency("USD"), D("1000.00000000"), D("0E-8")),
                          Balance("A", Asset.instrument("IBM"), D("200.00000000"), D("50.00000000"))])
    c.load(Account("B"), [])
    return c


def test_registry_amounts_read_with_the_fewest_exact_places():
    state = cache().state("A")
    assert state is not None
    assert str(state.cash_available) == "1000.00" and str(state.reserved) == "0.00"
    assert str(state.holding("IBM")) == "200" and str(state.open_sells("IBM")) == "50"


def test_fee_schedule_per_account():
    c = cache()
    assert c.fees_for("A") == FeeSchedule(bps=D(1)) and c.state("A").fees == FeeSchedule(bps=D(1))
    assert c.fees_for("B") == FeeSchedule(fixed=D(1)) and c.state("B").fees == FeeSchedule(fixed=D(1))


def test_open_buys_add_and_release():
    c = cache()
    c.add_open_buy("A", "IBM", D(300))
    c.add_open_buy("A", "MSFT", D(5))
    c.add_open_buy("A", "IBM", D(-100))
    assert c.state("A").open_buys("IBM") == D(200) and c.open_buys("A", "MSFT") == D(5)
    c.add_open_buy("A", "IBM", D(-200))
    assert c.open_buys("A", "IBM") == 0 and c.state("A").open_buy_qty == {"MSFT": D(5)}


def test_a_buy_fill_counts_as_held_until_its_batch_snapshot():
    c = cache()
    c.fill_locally(3, "A", "IBM", D(40))
    c.fill_locally(4, "A", "IBM", D(10))
    assert c.state("A").holding("IBM") == D(250)
    c.snapshot(3, {"A": [Balance("A", Asset.currency("USD"), D("600"), D(0)),
                         Balance("A", Asset.instrument("IBM"), D("240"), D(0))]})
    assert c.state("A").holding("IBM") == D(250)  # 240 booked + 10 of batch 4
    c.snapshot(4, {})
    assert c.state("A").holding("IBM") == D(240)


def test_local_holds_count_until_their_snapshot():
    c = cache()
    c.hold_locally(1, "A", "USD", D("10.50"))
    c.hold_locally(1, "A", "IBM", D(20))
    state = c.state("A")
    assert state.reserved == D("10.50") and state.open_sells("IBM") == D(70)
    c.snapshot(1, {})
    state = c.state("A")
    assert state.reserved == 0 and state.open_sells("IBM") == D(50)


def test_snapshot_is_not_changed_by_later_state_changes():
    c = cache()
    c.add_open_buy("A", "IBM", D(1))
    before = c.state("A")
    c.add_open_buy("A", "IBM", D(1))
    c.fill_locally(1, "A", "IBM", D(1))
    assert before.open_buys("IBM") == D(1) and before.holding("IBM") == D(200)
