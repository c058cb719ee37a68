"""Bounded, event-driven waits for test doubles that record events on the reactor thread.

An owner keeps ``events`` (everything recorded, in order) and ``waiters`` (pending waits);
:func:`record` appends an event and fires the waits it satisfies, :func:`wait_for` returns a
Deferred that fires with the first matching event or fails after ``timeout`` seconds with what
was seen.  No sleeps, no polling.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer, reactor

Waiter = tuple[Callable[[Any], bool], defer.Deferred]


def record(events: list[Any], waiters: list[Waiter], event: Any, *, next_turn: bool = False) -> None:
    """Append ``event`` and fire every waiter it matches (``next_turn``: on the reactor's next
    turn, so the waiting test resumes after the code that produced the event has finished)."""
    events.append(event)
    for waiter in list(waiters):
        predicate, d = waiter
        if predicate(event):
            waiters.remove(waiter)
            if next_turn:
                reactor.callLater(0, d.callback, event)
            else:
                d.callback(event)


def wait_for(events: list[Any], waiters: list[Waiter], predicate: Callable[[Any], bool], timeout: float, *,
             seen: bool = True, describe: Callable[[], object] | None = None) -> defer.Deferred:
    """Fires with the first event matching ``predicate`` (already recorded ones count when
    ``seen``); fails with an AssertionError naming what was seen after ``timeout`` seconds."""
    if seen:
        for event in events:
            if predicate(event):
                return defer.succeed(event)
    d: defer.Deferred = defer.Deferred()
    entry = (predicate, d)
    waiters.append(entry)

    def expire() -> None:
        if entry in waiters:
            waiters.remove(entry)
            saw = describe() if describe is not None else events
            d.errback(AssertionError(f"no matching event within {timeout}s; saw {saw!r}"))

    call = reactor.callLater(timeout, expire)
    d.addBoth(lambda r: (call.active() and call.cancel(), r)[1])
    return d
