"""The uncrossing price calculation, one rule per test."""

from __future__ import annotations

from venues.internal.matching.auction import NO_UNCROSS, Uncross, equilibrium


def test_no_uncross_when_the_book_is_not_crossed() -> None:
    assert equilibrium([(99, 5)], [(100, 5)], 100) == NO_UNCROSS
    assert equilibrium([], [(100, 5)], 100) == NO_UNCROSS


def test_price_maximises_executed_volume() -> None:
    bids = [(102, 10), (101, 10), (100, 10)]
    asks = [(99, 5), (100, 10), (101, 20)]
    # volume at 100: min(30, 15) = 15; at 101: min(20, 35) = 20; at 102: min(10, 35) = 10
    assert equilibrium(bids, asks, None) == Uncross(101, 20, -15)


def test_then_minimum_surplus() -> None:
    bids = [(101, 10), (100, 5)]
    asks = [(99, 10), (101, 4)]
    # volume 10 at 100 (surplus 15-10=5) and at 101 (10-14=-4): the smaller surplus wins
    assert equilibrium(bids, asks, None) == Uncross(101, 10, -4)


def test_volume_comes_before_surplus_and_surplus_before_pressure() -> None:
    # at 100: min(20, 5)=5 surplus 15; at 103: min(20, 10)=10 surplus 10 -> volume decides 103
    assert equilibrium([(103, 20)], [(100, 5), (103, 5)], 50).price == 103
    # volume 10 at 101 (surplus 30) and at 102 (surplus 10) -> surplus decides 102
    assert equilibrium([(102, 20), (101, 20)], [(101, 10)], 50).price == 102


def test_market_pressure_both_buy_surplus_picks_highest_and_sell_surplus_lowest() -> None:
    # equal volume and equal surplus at 100 and 101: buy surplus on both -> highest
    assert equilibrium([(101, 10), (100, 0)], [(100, 5)], 90).price == 101
    # sell surplus at both -> lowest
    assert equilibrium([(101, 5)], [(100, 10), (101, 0)], 110).price == 100


def test_then_closest_to_reference() -> None:
    bids = [(103, 10)]
    asks = [(100, 10)]
    # only limit prices are candidates: 100 and 103, both volume 10, surplus 0 -> nearest the reference
    assert equilibrium(bids, asks, 101).price == 100
    assert equilibrium(bids, asks, 102).price == 103
    assert equilibrium(bids, asks, None).price == 103
