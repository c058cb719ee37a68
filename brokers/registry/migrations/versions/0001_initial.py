"""Initial registry schema: accounts, assets, executions, ledger, balances, orders, holds.

Revision ID: 0001
Revises:
Create Date: 2024-06-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from brokers.registry.types import Amount, UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("allow_short", sa.Boolean, nullable=False),
        sa.Column("credit_limit", Amount, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.UniqueConstraint("name", name="uq_accounts_name"),
    )
    op.create_table(
        "assets",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_assets"),
        sa.UniqueConstraint("kind", "code", name="uq_assets_kind_code"),
    )
    op.create_table(
        "executions",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("venue", sa.String(32), nullable=False),
        sa.Column("exec_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("ref_exec_id", sa.String(64)),
        sa.Column("order_id", sa.String(64)),
        sa.Column("account", sa.String(64)),
        sa.Column("counterparty_account", sa.String(64)),
        sa.Column("fee_account", sa.String(64)),
        sa.Column("symbol", sa.String(32)),
        sa.Column("side", sa.String(8)),
        sa.Column("qty", Amount),
        sa.Column("price", Amount),
        sa.Column("fees", Amount),
        sa.Column("currency", sa.String(8)),
        sa.Column("ts", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_executions"),
        sa.UniqueConstraint("venue", "exec_id", name="uq_executions_venue_exec_id"),
    )
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ts", UtcDateTime, nullable=False),
        sa.Column("memo", sa.String(256), nullable=False),
        sa.Column("execution_id", sa.Integer),
        sa.Column("reverses_entry_id", sa.Integer),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_entries"),
        sa.ForeignKeyConstraint(
            ["execution_id"], ["executions.id"], name="fk_ledger_entries_execution_id_executions"
        ),
        sa.ForeignKeyConstraint(
            ["reverses_entry_id"],
            ["ledger_entries.id"],
            name="fk_ledger_entries_reverses_entry_id_ledger_entries",
        ),
    )
    op.create_index("ix_ledger_entries_execution_id", "ledger_entries", ["execution_id"])
    op.create_table(
        "ledger_legs",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("entry_id", sa.Integer, nullable=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("asset_id", sa.Integer, nullable=False),
        sa.Column("amount", Amount, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_legs"),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["ledger_entries.id"], name="fk_ledger_legs_entry_id_ledger_entries"
        ),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name="fk_ledger_legs_account_id_accounts"),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], name="fk_ledger_legs_asset_id_assets"),
    )
    op.create_index("ix_ledger_legs_entry_id", "ledger_legs", ["entry_id"])
    op.create_table(
        "balances",
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("asset_id", sa.Integer, nullable=False),
        sa.Column("amount", Amount, nullable=False),
        sa.Column("held", Amount, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "asset_id", name="pk_balances"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name="fk_balances_account_id_accounts"),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], name="fk_balances_asset_id_assets"),
    )
    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("qty", Amount, nullable=False),
        sa.Column("price", Amount),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("cum_qty", Amount, nullable=False),
        sa.Column("notional", Amount, nullable=False),
        sa.Column("avg_px", Amount, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("order_id", name="pk_orders"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name="fk_orders_account_id_accounts"),
    )
    op.create_index("ix_orders_account_id", "orders", ["account_id"])
    op.create_table(
        "holds",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("asset_id", sa.Integer, nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("amount", Amount, nullable=False),
        sa.Column("remaining", Amount, nullable=False),
        sa.Column("posted", Amount, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_holds"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name="fk_holds_account_id_accounts"),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], name="fk_holds_asset_id_assets"),
        sa.ForeignKeyConstraint(["order_id"], ["orders.order_id"], name="fk_holds_order_id_orders"),
    )
    op.create_index("ix_holds_order_id", "holds", ["order_id"])


def downgrade() -> None:
    for table in (
        "holds",
        "orders",
        "balances",
        "ledger_legs",
        "ledger_entries",
        "executions",
        "assets",
        "accounts",
    ):
        op.drop_table(table)
