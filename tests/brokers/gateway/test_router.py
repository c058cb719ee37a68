"""Routing policy: ExDestination, then instrument, then default; unknown names are rejects."""

from __future__ import annotations

import pytest

from brokers.routing.router import NoRoute, Route, RoutingError, RoutingPolicy


def policy() -> RoutingPolicy:
    return RoutingPolicy.of({"INTERNAL", "XNYS"}, "INTERNAL", {"GE": "XNYS"}, {"nyse": "XNYS"})


def test_default_route() -> None:
    assert policy().route("IBM") == Route("INTERNAL", "default")


def test_instrument_route() -> None:
    assert policy().route("GE") == Route("XNYS", "instrument")


def test_ex_destination_wins_over_instrument_and_default() -> None:
    assert policy().route("GE", "INTERNAL") == Route("INTERNAL", "ExDestination")
    assert policy().route("IBM", "XNYS") == Route("XNYS", "ExDestination")


def test_aliases_are_case_insensitive() -> None:
    assert policy().route("IBM", "NYSE") == Route("XNYS", "ExDestination")


def test_unknown_destination_is_a_reject_with_text() -> None:
    decision = policy().route("IBM", "XLON")
    assert isinstance(decision, NoRoute)
    assert "unknown destination 'XLON'" in decision.text


def test_no_default_and_no_route() -> None:
    decision = RoutingPolicy.of({"XNYS"}).route("IBM")
    assert isinstance(decision, NoRoute) and "no route" in decision.text


@pytest.mark.parametrize("kwargs", [{"default": "XLON"}, {"by_symbol": {"IBM": "XLON"}}])
def test_routes_to_unconfigured_venues_are_refused(kwargs: dict) -> None:
    with pytest.raises(RoutingError, match="XLON"):
        RoutingPolicy.of({"INTERNAL"}, **kwargs)
