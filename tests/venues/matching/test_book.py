"""The order book data structure and its invariant check (which must catch corruption)."""

from __future__ import annotations

import pytest
from matching_harness import Harness

from venues.base import OrdType, Side


def _filled(h: Harness) -> Harness:
    h.buy(5, 99, cl="b1")
    h.buy(3, 99, cl="b2")
    h.buy(4, 98, cl="b3", display_qty=2)
    h.sell(6, 101, cl="s1")
    h.sell(1, 102, cl="s2")
    h.buy(1, ord_type=OrdType.STOP, stop_px=110, cl="st")
    return h


def test_best_prices_depth_and_level_totals(h: Harness) -> None:
    book = _filled(h).engine.book("X")
    assert (book.best_bid(), book.best_ask()) == (99, 101)
    assert book.depth(2) == ([(99, 8, 2), (98, 2, 1)], [(101, 6, 1), (102, 1, 1)])
    assert book.bids[98].qty == 4 and book.bids[98].visible == 2
    assert len(book.stops) == 1 and len(book.orders) == 6


def test_removing_the_last_order_of_a_level_drops_the_level(h: Harness) -> None:
    _filled(h)
    h.cancel("b3")
    book = h.engine.book("X")
    assert 98 not in book.bids and book.bid_keys == [99]


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda b: setattr(b.bids[99], "qty", 7),
        lambda b: setattr(b.bids[99], "visible", 1),
        lambda b: setattr(b.bids[99].head, "leaves", 4),
        lambda b: setattr(b.bids[99].head, "seq", 10**9),
        lambda b: b.bid_keys.append(50),
        lambda b: b.orders.pop(next(iter(b.orders))),
        lambda b: b.by_client.pop(next(iter(b.by_client))),
        lambda b: setattr(b.bids[99].head.next, "prev", None),
        lambda b: b.add(b.asks[-101].head),  # same order in two places
    ],
)
def test_check_invariants_catches_corruption(h: Harness, corrupt: object) -> None:
    book = _filled(h).engine.book("X")
    book.check_invariants()
    corrupt(book)  # type: ignore[operator]
    with pytest.raises(AssertionError):
        book.check_invariants()


def test_check_invariants_refuses_a_crossed_book_outside_calls(h: Harness) -> None:
    book = _filled(h).engine.book("X")
    o = book.bids[99].head
    book.remove(o)
    o.price = 101
    book.add(o)
    with pytest.raises(AssertionError, match="crossed"):
        book.check_invariants()
    book.check_invariants(allow_crossed=True)
    with pytest.raises(AssertionError):
        h.engine.check_invariants()


def test_sides_keep_best_level_last_for_o1_access(h: Harness) -> None:
    for px in (97, 99, 98):
        h.buy(1, px)
    for px in (103, 101, 102):
        h.sell(1, px)
    book = h.engine.book("X")
    assert book.bid_keys == [97, 98, 99] and book.ask_keys == [-103, -102, -101]
    assert [lv.price for lv in book.ask_levels()] == [101, 102, 103]
    assert Side.BUY.value == "1"
