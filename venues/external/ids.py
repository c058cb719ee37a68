"""ClOrdIDs the broker sends to an external venue: a session-unique prefix plus a counter.

The prefix makes ids unique across restarts (it defaults to the start time in base 36, see
:func:`prefix_from_time`); the counter makes them deterministic within one run.  The mapping from
these ids back to (owner, client ClOrdID) lives in memory only this round: after a process
restart, ERs for orders of an earlier run cannot be mapped back (a persisted mapping is future work).
"""

from __future__ import annotations

import string

_DIGITS = string.digits + string.ascii_uppercase


def prefix_from_time(epoch_seconds: float) -> str:
    """A short prefix from a start time: whole seconds in base 36 (``"T3GHQ1K"``-like)."""
    n = int(epoch_seconds)
    text = ""
    while True:
        n, digit = divmod(n, 36)
        text = _DIGITS[digit] + text
        if n == 0:
            return text


class ClOrdIdGenerator:
    """Hands out ``<prefix>-<n>`` for n = 1, 2, ...; the prefix must be unique per session run."""

    def __init__(self, prefix: str) -> None:
        if not prefix or "\x01" in prefix:
            raise ValueError("a ClOrdID prefix must be non-empty text")
        self.prefix = prefix
        self._counter = 0

    def next(self) -> str:
        self._counter += 1
        return f"{self.prefix}-{self._counter}"

    @property
    def issued(self) -> int:
        """How many ids were handed out."""
        return self._counter
