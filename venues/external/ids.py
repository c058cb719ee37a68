"""ClOrdIDs the broker sends to an external venue: a session-unique prefix plus a counter.

The prefix makes ids unique across restarts (it defaults to the start time in base 36, see
:func:`prefix_from_time`); the counter makes them deterministic within one run.  The mapping from
these ids back to (owner, client ClOrdID) is journaled by the venue (:mod:`.journal`), and after a
restart the generator continues past every id of the journal that has its prefix
(:meth:`ClOrdIdGenerator.advance_past`), so a fixed prefix, or a restart within the same second,
never reuses an id.
"""

from __future__ import annotations

import string
from collections.abc import Iterable

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

    def advance_past(self, issued: Iterable[str]) -> None:
        """Continue after the highest ``<prefix>-<n>`` among ``issued`` (ids of other prefixes are ignored)."""
        head = self.prefix + "-"
        for cl_ord_id in issued:
            if cl_ord_id.startswith(head):
                tail = cl_ord_id[len(head):]
                if tail.isdigit() and int(tail) > self._counter:
                    self._counter = int(tail)

    @property
    def issued(self) -> int:
        """How many ids were handed out."""
        return self._counter
