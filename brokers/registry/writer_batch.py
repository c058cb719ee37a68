"""One registry-writer batch, the SQL side: all or nothing first, one operation per transaction if refused.

The gateway's registry writer (``brokers.client.writer``) hands a batch over as plain items -- the
``(kind, payload, extra)`` tuples of :mod:`brokers.registry.batch` -- together with how they group
into the operations the gateway queued (a fill carrying its order's close is two items, one
operation) and the accounts whose balances the vetting cache wants back.  :func:`run_batch` runs
it wherever the writer's batch runner lives (the writer thread, or the writer child process):

1. the whole batch in one unit of work with :func:`brokers.registry.batch.apply_batch`, the
   balances of the accounts read inside that transaction after its last statement (the balances
   its commit leaves: the writer is the only one writing);
2. if that is refused as a whole (an order over its buying power, say), it was rolled back: every
   item then runs in its own transaction with the reference functions
   (``reservations.open_orders`` / ``booking.book_fills`` / ``reservations.close_orders``, an
   unknown order's close skipped), so a refusal never takes its neighbours down and each refused
   item gets its precise error; the balances are read afterwards in one more transaction.

The outcome says which items committed (the caller journals only those) and each operation's
first error.  Nothing here knows about Twisted, processes or the client-order journal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from brokers.domain.accounts import Balance

from . import booking as _booking
from . import reservations as _reservations
from .batch import CLOSE, FILL, OPEN, Item, apply_batch

__all__ = ["BatchOutcome", "run_batch"]


@dataclass(slots=True)
class BatchOutcome:
    """What became of one batch: per operation its first error (None: committed), per item whether it
    committed, and the balances of the batch's accounts after it."""

    results: list[Exception | None]
    committed: list[bool]
    snapshot: dict[str, list[Balance]]


def _apply_one(uow: Any, item: Item) -> None:
    """One item with the reference functions (they raise the precise error of a refusal)."""
    kind, payload, extra = item
    if kind == OPEN:
        _reservations.open_orders(uow, [(payload, extra)])
    elif kind == FILL:
        _booking.book_fills(uow, [payload])
    elif kind == CLOSE:
        _reservations.close_orders(uow, [(payload, extra)], skip_unknown=True)
    else:
        raise ValueError(f"unknown registry batch item kind {kind!r}")


def run_batch(registry: Any, items: Sequence[Item], groups: Sequence[int], accounts: Iterable[str]) -> BatchOutcome:
    """Run ``items`` (``groups[i]`` consecutive items make operation i) on ``registry``; see the module
    docstring.  Raises only what is not a refusal of an item (e.g. the database went away during
    the one-by-one run or the balance read)."""
    if sum(groups) != len(items):
        raise ValueError(f"the groups cover {sum(groups)} items, the batch has {len(items)}")
    names = set(accounts)
    try:
        with registry.uow() as uow:
            apply_batch(uow, items)
            snapshot = uow.balances.for_accounts(names)
        return BatchOutcome([None] * len(groups), [True] * len(items), snapshot)
    except Exception:  # noqa: BLE001 - refused as a whole: rolled back, run one item per transaction
        pass
    results: list[Exception | None] = []
    committed: list[bool] = []
    start = 0
    for count in groups:
        error: Exception | None = None
        for item in items[start:start + count]:
            try:
                with registry.uow() as uow:
                    _apply_one(uow, item)
                committed.append(True)
            except Exception as exc:  # noqa: BLE001 - reported per operation
                committed.append(False)
                if error is None:
                    error = exc
        results.append(error)
        start += count
    with registry.uow() as uow:
        snapshot = uow.balances.for_accounts(names)
    return BatchOutcome(results, committed, snapshot)
