"""The registry schema (SQLAlchemy Core).  Alembic revisions in ``migrations/`` build exactly this.

``accounts``        named holders of balances and their limits
``assets``          currencies and instruments, (kind, code) unique
``ledger_entries``  balanced movements; ``execution_id`` links a TRADE / REVERSAL to its report
``ledger_legs``     the signed lines of every entry (the source of truth)
``balances``        projection of the legs per (account, asset), plus ``held`` = sum of PENDING holds;
                    written only in the transaction that writes the legs (or the holds)
``holds``           buying-power reservations per order: PENDING -> POSTED | VOIDED
``orders``          minimal broker orders: qty, price, status, cum qty, notional, avg px
``executions``      every booked execution report, UNIQUE (venue, exec_id): the exactly-once key
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

from .types import Amount, UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("currency", String(8), nullable=False),
    Column("allow_short", Boolean, nullable=False),
    Column("credit_limit", Amount, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

assets = Table(
    "assets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("code", String(32), nullable=False),
    UniqueConstraint("kind", "code"),
)

executions = Table(
    "executions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("venue", String(32), nullable=False),
    Column("exec_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("ref_exec_id", String(64)),
    Column("order_id", String(64)),
    Column("account", String(64)),
    Column("counterparty_account", String(64)),
    Column("fee_account", String(64)),
    Column("symbol", String(32)),
    Column("side", String(8)),
    Column("qty", Amount),
    Column("price", Amount),
    Column("fees", Amount),
    Column("currency", String(8)),
    Column("ts", UtcDateTime, nullable=False),
    UniqueConstraint("venue", "exec_id"),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("ts", UtcDateTime, nullable=False),
    Column("memo", String(256), nullable=False),
    Column("execution_id", Integer, ForeignKey("executions.id"), index=True),
    Column("reverses_entry_id", Integer, ForeignKey("ledger_entries.id")),
)

ledger_legs = Table(
    "ledger_legs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("entry_id", Integer, ForeignKey("ledger_entries.id"), nullable=False, index=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("asset_id", Integer, ForeignKey("assets.id"), nullable=False),
    Column("amount", Amount, nullable=False),
)

balances = Table(
    "balances",
    metadata,
    Column("account_id", Integer, ForeignKey("accounts.id"), primary_key=True),
    Column("asset_id", Integer, ForeignKey("assets.id"), primary_key=True),
    Column("amount", Amount, nullable=False),
    Column("held", Amount, nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("symbol", String(32), nullable=False),
    Column("side", String(8), nullable=False),
    Column("qty", Amount, nullable=False),
    Column("price", Amount),
    Column("currency", String(8), nullable=False),
    Column("status", String(20), nullable=False),
    Column("cum_qty", Amount, nullable=False),
    Column("notional", Amount, nullable=False),
    Column("avg_px", Amount, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

holds = Table(
    "holds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("asset_id", Integer, ForeignKey("assets.id"), nullable=False),
    Column("order_id", String(64), ForeignKey("orders.order_id"), nullable=False, index=True),
    Column("amount", Amount, nullable=False),
    Column("remaining", Amount, nullable=False),
    Column("posted", Amount, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Added by revision 0002: what `fixgate fills --account/--since` and the invariants scan.
Index("ix_executions_ts", executions.c.ts)
Index("ix_executions_account", executions.c.account)
Index("ix_holds_state", holds.c.state)
