"""Bounded waits used by graceful shutdown: until a condition holds, or a timeout passes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from twisted.internet import defer, task

if TYPE_CHECKING:
    from twisted.internet.interfaces import IReactorTime


def wait_until(clock: IReactorTime, condition: Callable[[], bool], timeout: float, interval: float = 0.02) -> defer.Deferred[bool]:
    """Fires True as soon as ``condition()`` holds, False once ``timeout`` seconds have passed."""
    result: defer.Deferred[bool] = defer.Deferred()
    deadline = clock.seconds() + timeout

    def check() -> None:
        if condition():
            poll.stop()
            result.callback(True)
        elif clock.seconds() >= deadline:
            poll.stop()
            result.callback(False)

    poll = task.LoopingCall(check)
    poll.clock = clock
    poll.start(interval, now=True)
    return result
