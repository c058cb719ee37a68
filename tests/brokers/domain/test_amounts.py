"""to_amount's Decimal fast path keeps every check; identity-hashed order enums still key tables."""

from __future__ import annotations

import datetime as dt
import pickle
from decimal import Decimal

import pytest

from brokers.domain.accounts import InvalidAmount, to_amount
from brokers.domain.ledger import utc
from brokers.domain.orders import TRANSITIONS, ClientOrderStatus, OrderEvent

D = Decimal


@pytest.mark.parametrize("value", [D("100.00"), D(7), D("-0.00000001"), 3, "2.5"])
def test_exact_values_come_back_with_eight_places(value):
    amount = to_amount(value)
    assert amount == D(str(value)) and amount.as_tuple().exponent == -8


@pytest.mark.parametrize(("value", "message"), [
    (D("1.000000001"), "more than 8 decimal places"),
    (D("NaN"), "is not finite"),
    (D("Infinity"), "is not finite"),
    (D(10) ** 16, "too large"),
    (1.5, "must be a Decimal, int or str, not float"),
    (True, "not bool"),
])
def test_bad_values_are_refused(value, message):
    with pytest.raises(InvalidAmount, match=message):
        to_amount(value)


def test_utc_keeps_utc_and_converts_the_rest():
    aware = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
    assert utc(aware) is aware
    assert utc(dt.datetime(2026, 1, 1, 12)) == aware
    assert utc(dt.datetime(2026, 1, 1, 13, tzinfo=dt.timezone(dt.timedelta(hours=1)))) == aware


def test_order_enums_hash_by_identity_and_still_key_tables():
    assert {ClientOrderStatus.NEW: 1}[ClientOrderStatus("0")] == 1
    assert (ClientOrderStatus.NEW, OrderEvent.FILL) in TRANSITIONS
    assert pickle.loads(pickle.dumps(ClientOrderStatus.FILLED)) is ClientOrderStatus.FILLED
    assert ClientOrderStatus.FILLED.is_terminal and not ClientOrderStatus.NEW.is_terminal
