"""Booking execution reports exactly once: fills, trade cancels (150=H) and trade corrections (150=G).

Each function runs inside the caller's unit of work, so everything a fact changes -- the executions
journal row, the ledger entry and its legs, cash and holdings balances, the order's cum qty / avg px /
status, and the order's holds -- commits or rolls back together.

Exactly once: the first write is the (venue, exec_id) row of the executions journal, inserted with
``ON CONFLICT DO NOTHING``.  When the key is already there (a resent or duplicated report, or a
concurrent booking of the same report that committed first), the result is ``AlreadyBooked`` and
nothing else is written.  A batch (``book_fills``) books each fill at most once, in one transaction,
with a fixed number of statements for the whole batch; it is all-or-nothing on errors.

Holds: a fill shrinks each PENDING hold of its order to the order's leaves share of the original
reservation (``pro_rata_remaining``), posting what the fill took from the account and releasing the
rest (a better price, or lower fees, than reserved for).  Trade cancels and corrections reverse the
ledger and the order's cum qty but do not re-reserve: the venue has already done the order's work.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from brokers.domain.accounts import Account, AccountKind, Asset, Hold, HoldState
from brokers.domain.ledger import (
    BookedExecution,
    BookedOrder,
    ExecutionKind,
    ExecutionState,
    FillToBook,
    LedgerEntry,
    TradeCancel,
    TradeCorrection,
    UnknownExecution,
    UnknownOrder,
    pro_rata_remaining,
)

from .repository import BalanceKey
from .unit_of_work import SqlUnitOfWork


@dataclass(frozen=True)
class Booked:
    """The report was booked now; ``entry_ids`` are the ledger entries it wrote."""

    venue: str
    exec_id: str
    entry_ids: tuple[int, ...]


@dataclass(frozen=True)
class AlreadyBooked:
    """The report's (venue, exec_id) was booked before: nothing was written this time."""

    venue: str
    exec_id: str


BookingResult = Booked | AlreadyBooked


def book_fill(uow: SqlUnitOfWork, fill: FillToBook) -> BookingResult:
    """Book one fill (see ``book_fills``)."""
    return book_fills(uow, [fill])[0]


def book_fills(uow: SqlUnitOfWork, fills: Sequence[FillToBook]) -> list[BookingResult]:
    """Book a batch of fills, each at most once; results are in the order of ``fills``."""
    results: list[BookingResult | None] = [None] * len(fills)
    first_seen: dict[tuple[str, str], int] = {}
    for index, fill in enumerate(fills):
        if fill.key in first_seen:
            results[index] = AlreadyBooked(*fill.key)
        else:
            first_seen[fill.key] = index
    candidates = [fills[index] for index in first_seen.values()]
    if candidates:
        uow.ids.account_ids({fill.account for fill in candidates})  # client accounts must exist
        _ensure_counterparties(uow, candidates)
    claimed = uow.executions.claim_fills(candidates)
    to_book = [(fill, claimed[fill.key]) for fill in candidates if fill.key in claimed]
    entry_ids = _post_fills(uow, to_book) if to_book else []
    booked = {fill.key: entry_id for (fill, _), entry_id in zip(to_book, entry_ids, strict=True)}
    for key, index in first_seen.items():
        results[index] = Booked(*key, (booked[key],)) if key in booked else AlreadyBooked(*key)
    return [result for result in results if result is not None]


def _ensure_counterparties(uow: SqlUnitOfWork, fills: Iterable[FillToBook]) -> None:
    """Venue and fee accounts are created on first use (client accounts never are)."""
    venues = {fill.counterparty_account: fill.currency for fill in fills}
    houses = {fill.fee_account: fill.currency for fill in fills}
    uow.accounts.ensure(
        [Account(name, AccountKind.VENUE, currency) for name, currency in venues.items()]
        + [
            Account(name, AccountKind.HOUSE, currency)
            for name, currency in houses.items()
            if name not in venues
        ]
    )


def _post_fills(uow: SqlUnitOfWork, fills: Sequence[tuple[FillToBook, int]]) -> list[int]:
    order_ids = {fill.order_id for fill, _ in fills if fill.order_id is not None}
    orders = uow.orders.get_many(order_ids, lock=True)
    for order_id in sorted(order_ids - orders.keys()):
        raise UnknownOrder(f"unknown order {order_id!r}")
    holds = uow.holds.pending(order_ids, lock=True)
    held: dict[BalanceKey, Decimal] = defaultdict(Decimal)
    entries: list[tuple[LedgerEntry, int | None]] = []
    for fill, row_id in fills:
        entry = fill.entry()
        entries.append((entry, row_id))
        if fill.order_id is None:
            continue
        order = orders[fill.order_id]
        order.check_fill(fill)
        order.add_fill(fill.qty, fill.notional)
        _settle_holds(holds.get(fill.order_id, []), order, entry.outflows(fill.account), held)
    uow.orders.save(orders.values())
    uow.holds.save(hold for order_holds in holds.values() for hold in order_holds)
    return uow.ledger.post(entries, held)


def _settle_holds(
    holds: Iterable[Hold],
    order: BookedOrder,
    outflows: dict[Asset, Decimal],
    held: dict[BalanceKey, Decimal],
) -> None:
    for hold in holds:
        if hold.state is not HoldState.PENDING:
            continue  # done by an earlier fill of the same batch
        used = outflows.get(hold.asset, Decimal(0)) if hold.account == order.account else Decimal(0)
        posted_before = hold.posted
        held[(hold.account, hold.asset)] += hold.settle(used, pro_rata_remaining(hold.amount, order))
        if hold.asset in outflows:
            outflows[hold.asset] -= hold.posted - posted_before


def _standing_fill(uow: SqlUnitOfWork, venue: str, ref_exec_id: str) -> BookedExecution:
    original = uow.executions.get(venue, ref_exec_id, lock=True)
    if original is None or original.fill is None:
        raise UnknownExecution(f"no fill {venue}/{ref_exec_id} was booked")
    if original.state is not ExecutionState.BOOKED:
        raise UnknownExecution(f"fill {venue}/{ref_exec_id} is already {original.state.value.lower()}")
    return original


def _adjust_order(uow: SqlUnitOfWork, order_id: str | None, qty: Decimal, notional: Decimal) -> None:
    if order_id is None:
        return
    order = uow.orders.get(order_id, lock=True)
    if order is None:
        raise UnknownOrder(f"unknown order {order_id!r}")
    order.add_fill(qty, notional)
    uow.orders.save([order])


def book_trade_cancel(uow: SqlUnitOfWork, cancel: TradeCancel) -> BookingResult:
    """Bust a booked fill: a full reversal entry; the order's cum qty and avg px drop back."""
    row_id = uow.executions.claim_report(
        cancel.venue, cancel.exec_id, ExecutionKind.CANCEL, cancel.ref_exec_id, cancel.ts
    )
    if row_id is None:
        return AlreadyBooked(*cancel.key)
    original = _standing_fill(uow, cancel.venue, cancel.ref_exec_id)
    fill = original.fill
    assert fill is not None
    reversal = uow.ledger.trade_entry_of(original.row_id).reversal(
        cancel.ts, f"trade cancel {cancel.venue} {cancel.exec_id} of {cancel.ref_exec_id}"
    )
    _adjust_order(uow, fill.order_id, -fill.qty, -fill.notional)
    uow.executions.set_state(original.row_id, ExecutionState.CANCELLED)
    return Booked(*cancel.key, tuple(uow.ledger.post([(reversal, row_id)])))


def book_trade_correction(uow: SqlUnitOfWork, correction: TradeCorrection) -> BookingResult:
    """Correct a booked fill: reversal of its entry plus a new entry for the corrected fill.

    The correction becomes the standing fill (it can itself be corrected or cancelled later, by its
    own exec id); the original is marked CORRECTED.
    """
    row_id = uow.executions.claim_report(
        correction.venue, correction.exec_id, ExecutionKind.CORRECTION, correction.ref_exec_id, correction.ts
    )
    if row_id is None:
        return AlreadyBooked(*correction.key)
    original = _standing_fill(uow, correction.venue, correction.ref_exec_id)
    old = original.fill
    assert old is not None
    new = old.corrected(correction)
    uow.executions.record_fill(row_id, new)
    reversal = uow.ledger.trade_entry_of(original.row_id).reversal(
        correction.ts, f"trade correction {correction.venue} {correction.exec_id} of {correction.ref_exec_id}"
    )
    _adjust_order(uow, old.order_id, new.qty - old.qty, new.notional - old.notional)
    uow.executions.set_state(original.row_id, ExecutionState.CORRECTED)
    return Booked(*correction.key, tuple(uow.ledger.post([(reversal, row_id), (new.entry(), row_id)])))
