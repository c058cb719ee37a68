"""A trading desk fixture for OMS tests: one limits book, one vetter, one account, one instrument."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from brokers.domain.limits import LimitsBook, LimitScope
from brokers.domain.orders import ClientOrder
from brokers.oms.context import AccountState, FeeSchedule, InstrumentInfo
from brokers.oms.results import VetResult
from brokers.oms.vetting import Vetter
from venues.base import OrderRequest, OrdType, ReplaceRequest, Side

D = Decimal
DAY = date(2026, 11, 23)
SECOND = 1_000_000_000
T0 = 1_795_000_000 * SECOND


class Desk:
    """Builds orders and vets them against a mutable account/instrument snapshot."""

    def __init__(self) -> None:
        self.book = LimitsBook()
        self.vetter = Vetter(self.book)
        self.account = AccountState(
            "ACC1", cash_available=D("100000.00"), holdings={"XYZ": D(500)},
            fees=FeeSchedule(bps=D(5), minimum=D("1.00")),
        )
        self.instrument = InstrumentInfo("XYZ", tick_size=D("0.01"), lot_size=D(1),
                                         last_trade_px=D("100.00"), close_px=D("99.00"))
        self.now = T0
        self.day = DAY
        self._seq = 0

    def limit(self, scope: LimitScope = LimitScope.ACCOUNT, key: str = "ACC1", **fields: Any) -> None:
        self.book.update(scope, key, who="risk", at_ns=self.now, **fields)

    def firm(self, **fields: Any) -> None:
        self.book.update(LimitScope.FIRM, "", who="risk", at_ns=self.now, **fields)

    def with_account(self, **fields: Any) -> None:
        self.account = replace(self.account, **fields)

    def with_instrument(self, **fields: Any) -> None:
        self.instrument = replace(self.instrument, **fields)

    def order(self, side: Side = Side.BUY, qty: Any = 100, price: Any = "100.00", **fields: Any) -> OrderRequest:
        self._seq += 1
        fields.setdefault("cl_ord_id", f"C{self._seq}")
        fields.setdefault("account", "ACC1")
        fields.setdefault("owner", "S1")
        fields.setdefault("symbol", "XYZ")
        return OrderRequest(side=side, qty=D(qty), price=None if price is None else D(price), **fields)

    def vet(self, order: OrderRequest, *, known: bool = True) -> VetResult:
        return self.vetter.vet_new(order, account=self.account if known else None,
                                   instrument=self.instrument, now_ns=self.now, trading_day=self.day)

    def new(self, **kwargs: Any) -> VetResult:
        return self.vet(self.order(**kwargs))

    def live(self, side: Side = Side.BUY, qty: Any = 100, price: Any = "100.00", cum: Any = 0,
             ord_type: OrdType = OrdType.LIMIT) -> ClientOrder:
        order = ClientOrder("O1", "C0", "S1", "ACC1", "XYZ", side, ord_type, D(qty),
                            None if price is None else D(price))
        order.on_ack()
        if D(cum):
            order.on_fill(D(cum), D(price or "100.00"))
        return order

    def replace_request(self, order: ClientOrder, qty: Any, price: Any = None, cl_ord_id: str = "R1",
                        **fields: Any) -> ReplaceRequest:
        fields.setdefault("side", order.side)
        fields.setdefault("symbol", order.symbol)
        return ReplaceRequest(owner="S1", cl_ord_id=cl_ord_id, qty=D(qty),
                              price=None if price is None else D(price), orig_cl_ord_id=order.cl_ord_id,
                              **fields)

    def vet_replace(self, order: ClientOrder | None, request: ReplaceRequest, reservation: Any = None) -> VetResult:
        return self.vetter.vet_replace(order, request, account=self.account, instrument=self.instrument,
                                       now_ns=self.now, trading_day=self.day, reservation=reservation)


@pytest.fixture
def desk() -> Desk:
    return Desk()
