"""Cyclic-GC tuning for long-running FIX processes (``fixgate run``, ``fixgate venue``).

A FIX engine handling thousands of messages per second allocates many short-lived containers per
message, while everything built at start (modules, dictionaries, SQL metadata, order books,
recovered orders) lives for the whole run.  :func:`freeze_startup_objects` moves the latter out
of the collector's reach (``gc.freeze``), so full collections no longer walk them, and raises
the young generation's threshold (fewer, equally cheap young collections).  Both processes call
it once recovery is done, unless their config says ``GCFreeze=N``.
"""

from __future__ import annotations

import gc

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
