"""OrderBookContract: one scenario suite run against every engine configuration.

Like exchange-core's ``OrderBookBaseTest``: each subclass only says how to build the engine; the
harness checks every invariant after every step.
"""

from __future__ import annotations

from decimal import Decimal

from matching_harness import Harness, fills, instrument, kinds, of

from venues.base import OrdType, SelfTradePrevention, Side, TimeInForce
from venues.internal.matching import MassCancel, TickBand
from venues.internal.matching import events as ev


class OrderBookContract:
    """Behaviour every configuration of the matching core must show for instrument ``X``."""

    def make(self) -> Harness:
        raise NotImplementedError

    def test_empty_book(self) -> None:
        h = self.make()
        book = h.engine.book("X")
        assert book.best_bid() is None and book.best_ask() is None and not book.orders

    def test_fill_quantities_balance_per_match(self) -> None:
        h = self.make()
        for i in range(5):
            h.sell(10 + i, 100 + i * 2)
        out = h.buy(47, 108, owner="S2")
        per_match: dict[int, list[ev.Fill]] = {}
        for f in of(out, ev.Fill):
            per_match.setdefault(f.match_id, []).append(f)
        for pair in per_match.values():
            assert (
                len(pair) == 2 and pair[0].last_qty == pair[1].last_qty and pair[0].last_px == pair[1].last_px
            )
            assert {p.side for p in pair} == {Side.BUY, Side.SELL}
        assert sum(f.last_qty for f in of(out, ev.Fill) if f.side is Side.BUY) == 47

    def test_add_cancel_everything_leaves_an_empty_book(self) -> None:
        h = self.make()
        for i in range(20):
            (h.buy if i % 2 else h.sell)(5, 100 + (i % 2 and -1 or 1) * (i % 5 + 1), cl=f"o{i}")
        for i in range(20):
            assert kinds(h.cancel(f"o{i}")) == ["Cancelled"]
        assert not h.engine.book("X").orders and not h.engine.book("X").bids and not h.engine.book("X").asks

    def test_replace_chain_then_sweep(self) -> None:
        h = self.make()
        h.buy(10, 90, cl="a0")
        for i in range(1, 10):
            h.replace(f"a{i - 1}", f"a{i}", 10 + i, 90 + i)
        assert h.engine.book("X").best_bid() == 99
        out = h.sell(19, 99, owner="S2")
        assert fills(out)[0] == ("a9", 19, 99, "ADDED") and not h.live()

    def test_mass_cancel_then_book_reusable(self) -> None:
        h = self.make()
        h.buy(1, 99, tif=TimeInForce.GTC)
        h.sell(1, 101, display_qty=1)
        h.buy(1, ord_type=OrdType.STOP, stop_px=120)
        h.do(MassCancel("ops", "m"))
        assert not h.engine.book("X").orders
        h.buy(3, 100, cl="again")
        assert h.engine.book("X").best_bid() == 100

    def test_determinism_same_commands_same_hash(self) -> None:
        h1, h2 = self.make(), self.make()
        for h in (h1, h2):
            h.sell(5, 101, display_qty=2)
            h.buy(3, 101)
            h.buy(4, 100, cl="r")
            h.replace("r", "r2", 6, 101)
        assert h1.engine.state_hash() == h2.engine.state_hash()
        h2.cancel("r2")
        assert h1.engine.state_hash() != h2.engine.state_hash()


class TestSingleInstrument(OrderBookContract):
    def make(self) -> Harness:
        return Harness()


class TestManyInstruments(OrderBookContract):
    def make(self) -> Harness:
        h = Harness([instrument("A"), instrument("X"), instrument("Z")])
        h.buy(5, 100, symbol="A")  # other books hold orders that must stay untouched
        h.sell(5, 100, symbol="Z")
        return h

    def test_other_books_untouched(self) -> None:
        h = self.make()
        h.buy(5, 200)
        assert len(h.engine.book("A").orders) == 1 and len(h.engine.book("Z").orders) == 1


class TestTickTableLotsAndBand(OrderBookContract):
    def make(self) -> Harness:
        inst = instrument(
            lot_size=Decimal(100), tick_table=(TickBand(Decimal(0), Decimal("0.01")),),
            price_band_pct=Decimal(50), reference_price=Decimal("1.00"),
        )  # fmt: skip
        return Harness([inst])


class TestWithStpDefaults(OrderBookContract):
    def make(self) -> Harness:
        return Harness(
            stp_defaults={"": SelfTradePrevention.CANCEL_RESTING, "Q": SelfTradePrevention.CANCEL_BOTH}
        )

    # account "" is not an STP scope: empty accounts never self-match, so the contract still holds
