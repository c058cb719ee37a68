"""The executions journal, UNIQUE on (venue, exec_id): the exactly-once key."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Row

from brokers.domain.ledger import (
    BookedExecution,
    ExecutionKind,
    ExecutionState,
    FillToBook,
    Side,
)

from .. import tables as t
from .ids import dialect_insert


def _fill_row(fill: FillToBook, kind: ExecutionKind, ref_exec_id: str | None = None) -> dict[str, Any]:
    return {
        "venue": fill.venue,
        "exec_id": fill.exec_id,
        "kind": kind.value,
        "state": ExecutionState.BOOKED.value,
        "ref_exec_id": ref_exec_id,
        "order_id": fill.order_id,
        "account": fill.account,
        "counterparty_account": fill.counterparty_account,
        "fee_account": fill.fee_account,
        "symbol": fill.symbol,
        "side": fill.side.value,
        "qty": fill.qty,
        "price": fill.price,
        "fees": fill.fees,
        "currency": fill.currency,
        "ts": fill.ts,
    }


def _report_row(
    venue: str, exec_id: str, kind: ExecutionKind, ref_exec_id: str | None, ts: _dt.datetime
) -> dict[str, Any]:
    row: dict[str, Any] = {column.name: None for column in t.executions.columns if column.name != "id"}
    row.update(venue=venue, exec_id=exec_id, kind=kind.value, state=ExecutionState.BOOKED.value)
    row.update(ref_exec_id=ref_exec_id, ts=ts)
    return row


def _execution(row: Row[Any]) -> BookedExecution:
    m = row._mapping
    kind = ExecutionKind(m["kind"])
    fill = None
    if kind is not ExecutionKind.CANCEL:
        fill = FillToBook(
            venue=m["venue"],
            exec_id=m["exec_id"],
            order_id=m["order_id"],
            account=m["account"],
            symbol=m["symbol"],
            side=Side(m["side"]),
            qty=m["qty"],
            price=m["price"],
            currency=m["currency"],
            ts=m["ts"],
            fees=m["fees"],
            counterparty_account=m["counterparty_account"],
            fee_account=m["fee_account"],
        )
    return BookedExecution(
        m["id"], kind, ExecutionState(m["state"]), fill, m["ref_exec_id"], m["venue"], m["exec_id"]
    )


_KEEP = frozenset({"venue", "exec_id", "kind", "state", "ref_exec_id"})


class ExecutionRepository:
    """The executions journal, UNIQUE on (venue, exec_id): claiming a key is what makes booking exactly-once."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def claim(self, rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str], int]:
        """Insert execution rows, skipping keys that exist; returns {(venue, exec_id): row id} of the new ones.

        ``INSERT ... ON CONFLICT DO NOTHING``: on PostgreSQL a concurrent transaction inserting the same
        key waits for ours to end, then skips -- so exactly one of them books.  Keys are inserted in
        sorted order, so two batches sharing keys wait on each other instead of deadlocking.
        """
        if not rows:
            return {}
        stmt = dialect_insert(self._conn, t.executions).on_conflict_do_nothing(
            index_elements=["venue", "exec_id"]
        )
        stmt = stmt.returning(t.executions.c.venue, t.executions.c.exec_id, t.executions.c.id)
        ordered = sorted(rows, key=lambda row: (row["venue"], row["exec_id"]))  # same lock order for everyone
        return {(venue, exec_id): row_id for venue, exec_id, row_id in self._conn.execute(stmt, ordered)}

    def claim_fills(
        self,
        fills: Sequence[FillToBook],
        kind: ExecutionKind = ExecutionKind.FILL,
        ref_exec_id: str | None = None,
    ) -> dict[tuple[str, str], int]:
        return self.claim([_fill_row(fill, kind, ref_exec_id) for fill in fills])

    def claim_report(
        self, venue: str, exec_id: str, kind: ExecutionKind, ref_exec_id: str | None, ts: _dt.datetime
    ) -> int | None:
        """Claim the key of a report whose details are not known yet; ``None`` if already booked."""
        return self.claim([_report_row(venue, exec_id, kind, ref_exec_id, ts)]).get((venue, exec_id))

    def record_fill(self, row_id: int, fill: FillToBook) -> None:
        """Fill in the trade details of a claimed row (a correction, once the original is known)."""
        values = {
            key: value for key, value in _fill_row(fill, ExecutionKind.FILL).items() if key not in _KEEP
        }
        self._conn.execute(update(t.executions).where(t.executions.c.id == row_id).values(**values))

    def get(self, venue: str, exec_id: str, *, lock: bool = False) -> BookedExecution | None:
        query = select(t.executions).where(t.executions.c.venue == venue, t.executions.c.exec_id == exec_id)
        if lock:
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        return None if row is None else _execution(row)

    def set_state(self, row_id: int, state: ExecutionState) -> None:
        self._conn.execute(update(t.executions).where(t.executions.c.id == row_id).values(state=state.value))

    def fills(
        self, account: str | None = None, since: _dt.datetime | None = None, *, include_inactive: bool = True
    ) -> list[BookedExecution]:
        """Fills and corrections (not the cancel reports), oldest first."""
        e = t.executions
        query = select(e).where(e.c.kind != ExecutionKind.CANCEL.value).order_by(e.c.ts, e.c.id)
        if account is not None:
            query = query.where(e.c.account == account)
        if since is not None:
            query = query.where(e.c.ts >= since)
        if not include_inactive:
            query = query.where(e.c.state == ExecutionState.BOOKED.value)
        return [_execution(row) for row in self._conn.execute(query)]
