"""Indexes for fill listings (by time, by account) and for the open-holds scan of the invariants.

Revision ID: 0002
Revises: 0001
Create Date: 2024-06-15
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_executions_ts", "executions", ["ts"])
    op.create_index("ix_executions_account", "executions", ["account"])
    op.create_index("ix_holds_state", "holds", ["state"])


def downgrade() -> None:
    op.drop_index("ix_holds_state", "holds")
    op.drop_index("ix_executions_account", "executions")
    op.drop_index("ix_executions_ts", "executions")
