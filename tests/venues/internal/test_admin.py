"""The admin channel: the command dispatcher, the line protocol, and a round trip on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from conftest import StepClock
from twisted.internet.testing import StringTransport

from venues.base import OrderRequest, Side, TradingPhase
from venues.internal.admin import (
    AdminClientError,
    AdminFactory,
    admin_request,
    handle_admin_line,
    listen_admin,
)
from venues.internal.journal import MemoryJournal
from venues.internal.reference_data import DEMO_INSTRUMENTS
from venues.internal.venue import InternalVenue

D = Decimal


@pytest.fixture
def venue(clock: StepClock) -> InternalVenue:
    v = InternalVenue("INTERNAL", DEMO_INSTRUMENTS, MemoryJournal(), clock)
    v.submit(OrderRequest("AAPL", "s1", "b1", Side.BUY, D(10), price=D("99.99"), account="A"))
    v.submit(OrderRequest("AAPL", "s1", "b2", Side.BUY, D(5), price=D("99.98"), account="A"))
    v.submit(OrderRequest("AAPL", "s2", "a1", Side.SELL, D(7), price=D("100.02"), account="B"))
    return v


def test_dispatcher_commands(venue: InternalVenue) -> None:
    h = lambda line: handle_admin_line(venue, line)  # noqa: E731
    assert [i["symbol"] for i in h("instruments")["instruments"]] == ["AAPL", "MSFT", "IBM"]
    assert h("book AAPL") == {
        "ok": True, "symbol": "AAPL", "phase": "CONTINUOUS",
        "bids": [["99.99", "10", 1], ["99.98", "5", 1]], "asks": [["100.02", "7", 1]],
    }  # fmt: skip
    assert h("book AAPL 1")["bids"] == [["99.99", "10", 1]]
    assert h("halt AAPL news pending") == {"ok": True, "symbol": "AAPL", "phase": "HALTED"}
    assert h("resume AAPL") == {"ok": True, "symbol": "AAPL", "phase": "CONTINUOUS"}
    assert h("phase AAPL closing_call") == {"ok": True, "symbol": "AAPL", "phase": "CLOSING_CALL"}
    assert venue.phase("AAPL") is TradingPhase.CLOSING_CALL
    assert h("add-instrument TSLA 0.05 10 200.00") == {
        "ok": True, "instrument": {"symbol": "TSLA", "tick_size": "0.05", "lot_size": "10", "reference_price": "200.00",
                                   "market_protection_pct": "5", "currency": "USD", "phase": "CONTINUOUS"},
    }  # fmt: skip
    assert venue.instrument("TSLA") is not None
    assert h("kill account A") == {"ok": True, "cancelled": 2}
    assert h("status") == {"ok": True, "venue": "INTERNAL", "last_sequence": venue.last_sequence,
                           "kill_switches": [["A", None]]}  # fmt: skip
    assert h("release account A") == {"ok": True}
    assert h("kill owner s2") == {"ok": True, "cancelled": 1}
    assert h("help")["ok"] is True


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("", "empty command"),
        ("frobnicate", "unknown command"),
        ("book", "expected: book SYM"),
        ("book NOPE", "unknown symbol NOPE"),
        ("book AAPL 0", "depth must be positive"),
        ("book AAPL x", "invalid literal"),
        ("resume AAPL", "not halted"),
        ("phase AAPL SIDEWAYS", "unknown phase SIDEWAYS"),
        ("phase AAPL PRE_OPEN", "no transition CONTINUOUS -> PRE_OPEN"),
        ("add-instrument AAPL 0.01 1 100", "already present"),
        ("add-instrument X 0.01", "expected: add-instrument"),
        ("add-instrument X abc 1 1", "X: tick_size 'abc' is not a number"),
        ("kill A", "expected: account|owner ID"),
        ("release group A", "expected: account|owner ID"),
    ],
)
def test_dispatcher_errors_keep_the_venue_unchanged(venue: InternalVenue, line: str, error: str) -> None:
    seq = venue.last_sequence
    answer = handle_admin_line(venue, line)
    assert answer["ok"] is False and error in answer["error"], answer
    assert venue.last_sequence == seq


def test_protocol_answers_one_json_line_per_command(venue: InternalVenue) -> None:
    proto = AdminFactory(venue).buildProtocol(None)
    transport = StringTransport()
    proto.makeConnection(transport)
    proto.dataReceived(b"halt MSFT\r\nbo")
    proto.dataReceived(b"ok MSFT\n\n")
    lines = transport.value().split(b"\n")
    assert lines[-1] == b""
    assert [json.loads(x) for x in lines[:-1]] == [
        {"ok": True, "symbol": "MSFT", "phase": "HALTED"},
        {"ok": True, "symbol": "MSFT", "phase": "HALTED", "bids": [], "asks": []},
    ]
    proto.dataReceived(b"x" * 5000 + b"\n")
    assert transport.disconnecting


@pytest.fixture
def served(venue: InternalVenue) -> Iterator[tuple[int, Any]]:
    """The admin channel on 127.0.0.1:<free port>, served by a private reactor in a thread."""
    from twisted.internet.selectreactor import SelectReactor

    reactor = SelectReactor()
    port = listen_admin(venue, 0, reactor=reactor)
    thread = threading.Thread(target=reactor.run, kwargs={"installSignalHandlers": False}, daemon=True)
    thread.start()
    try:
        yield port.getHost().port, reactor
    finally:
        reactor.callFromThread(reactor.stop)
        thread.join(timeout=10)
        assert not thread.is_alive()


@pytest.mark.network
def test_round_trip_on_loopback(served: tuple[int, Any], venue: InternalVenue) -> None:
    port, _ = served
    assert admin_request("127.0.0.1", port, "halt AAPL") == {"ok": True, "symbol": "AAPL", "phase": "HALTED"}
    assert admin_request("127.0.0.1", port, "book AAPL 1", timeout=5)["bids"] == [["99.99", "10", 1]]
    assert admin_request("127.0.0.1", port, "nope")["ok"] is False


@pytest.mark.network
def test_client_errors_are_bounded() -> None:
    import socket

    with socket.socket() as s:  # a port that is bound but never accepts: connect is refused or times out
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    with pytest.raises(AdminClientError):
        admin_request("127.0.0.1", free, "status", timeout=1.0)
    with pytest.raises(ValueError):
        admin_request("127.0.0.1", free, "status\nhalt AAPL")
