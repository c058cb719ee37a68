"""Cyclic-GC tuning for long-running FIX processes (``fixgate run``, ``fixgate venue``).

A FIX engine handling thousands of messages per second allocates many short-lived containers per
message, while everything built at start (modules, dictionaries, SQL metadata, order books,
recovered orders) lives for the whole run.  :func:`freeze_startup_objects` moves the latter out
of the collector's reach (``gc.freeze``), so full collections no longer walk them, and raises
the young generation's threshold (fewer, equally cheap young collections).  Both processes call
it once recovery is done, unless their config says ``GCFreeze=N``.

What stays alive *after* start must not make full collections grow with the day either:
:class:`UntrackedArchive` holds long-lived records (finished orders) where the collector never
looks at them.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from gc import is_tracked
from typing import Any

#: young-generation threshold of the cyclic GC once a process runs (CPython's default is 700):
#: an order allocates hundreds of short-lived containers, so the default collects every few orders
GC_YOUNG_THRESHOLD = 5000


def freeze_startup_objects() -> int:
    """Collect once, then ``gc.freeze()`` everything alive, and raise the young threshold to
    :data:`GC_YOUNG_THRESHOLD`.  Returns the number of objects frozen."""
    gc.collect()
    gc.freeze()
    young, middle, old = gc.get_threshold()
    if young < GC_YOUNG_THRESHOLD:
        gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)
    return gc.get_freeze_count()


class UntrackedArchive:
    """A ``str``-keyed archive of plain tuples of atomic values that the cyclic GC never scans.

    Long-lived records (a trading day of finished orders) kept as plain tuples of ``str``,
    ``int``, ``Decimal``, ``None``... are untracked by CPython at the first collection that meets
    them, but the dict holding them is not: every insertion of a fresh (still tracked) tuple tracks
    the dict again -- into the *young* generation -- so the next young, middle and full
    collections each walk all its entries (about 37 ms for a million).  This archive inserts into
    a small *recent* dict and moves the values the collector has already untracked into an *old*
    dict, which therefore only ever receives untracked values and is never tracked itself.  So
    only the recent part (the records of the last ``settle_every`` insertions or so) costs the
    collector anything, however large the archive grows.

    A value that holds a tracked object (an Enum member, a list, a nested tuple the collector has
    not reached yet) simply stays in the recent part until it is untracked; lookups see both parts.
    """

    __slots__ = ("_recent", "_old", "_settle_every", "_next_settle")

    def __init__(self, settle_every: int = 1024) -> None:
        self._recent: dict[str, tuple[Any, ...]] = {}
        self._old: dict[str, tuple[Any, ...]] = {}
        self._settle_every = settle_every
        self._next_settle = settle_every

    def __len__(self) -> int:
        return len(self._recent) + len(self._old)

    def __contains__(self, key: object) -> bool:
        return key in self._recent or key in self._old

    def get(self, key: str, default: tuple[Any, ...] | None = None) -> tuple[Any, ...] | None:
        value = self._recent.get(key)
        if value is None:
            value = self._old.get(key, default)
        return value

    def __setitem__(self, key: str, value: tuple[Any, ...]) -> None:
        if key in self._old:
            del self._old[key]
        recent = self._recent
        recent[key] = value
        if len(recent) >= self._next_settle:
            self.settle()

    def pop(self, key: str, default: tuple[Any, ...] | None = None) -> tuple[Any, ...] | None:
        value = self._recent.pop(key, None)
        if value is None:
            value = self._old.pop(key, default)
        return value

    def keys(self) -> Iterator[str]:
        """Keys of the old part, then of the recent part (each in insertion order)."""
        yield from self._old
        yield from self._recent

    def values(self) -> Iterator[tuple[Any, ...]]:
        yield from self._old.values()
        yield from self._recent.values()

    def items(self) -> Iterator[tuple[str, tuple[Any, ...]]]:
        yield from self._old.items()
        yield from self._recent.items()

    def settle(self) -> int:
        """Move the recent values the collector has untracked to the old part; returns how many
        (called by insertions every ``settle_every`` or so; callers never need to)."""
        recent = self._recent
        settled = [key for key, value in recent.items() if not is_tracked(value)]
        old = self._old
        for key in settled:
            old[key] = recent.pop(key)
        self._next_settle = len(recent) + self._settle_every
        return len(settled)

    @property
    def recent_size(self) -> int:
        """Entries not settled yet (the only ones the collector may still scan)."""
        return len(self._recent)
