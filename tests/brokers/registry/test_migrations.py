"""Alembic migrations: a database created at the first revision upgrades to head and keeps its data."""

from __future__ import annotations

from decimal import Decimal

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from brokers.domain.accounts import Asset
from brokers.registry import AlreadyBooked, Booked, Registry
from brokers.registry.migrations import current_revision, head_revision, upgrade
from brokers.registry.tables import metadata

from .conftest import Backend, assert_sound, fill, fund, open_order

AAPL = Asset.instrument("AAPL")


def test_a_database_created_at_the_first_revision_upgrades_and_keeps_its_data(backend: Backend) -> None:
    registry = Registry(backend.engine)
    assert current_revision(backend.engine) is None
    assert upgrade(backend.engine, "0001") == "0001"
    fund(registry, cash="1000000.12345678")
    open_order(registry)
    registry.book_fill(fill("E1", 40, "150"))
    indexes = {ix["name"] for ix in inspect(backend.engine).get_indexes("executions")}
    assert "ix_executions_ts" not in indexes

    assert upgrade(backend.engine) == head_revision() == "0002"

    indexes = {ix["name"] for ix in inspect(backend.engine).get_indexes("executions")}
    assert {"ix_executions_ts", "ix_executions_account"} <= indexes
    assert registry.balance("ACME", "USD").amount == Decimal("994000.12345678")
    assert registry.balance("ACME", AAPL).amount == 40
    assert isinstance(registry.book_fill(fill("E1", 40, "150")), AlreadyBooked)
    assert isinstance(registry.book_fill(fill("E2", 60, "150")), Booked)
    assert_sound(registry)


def test_upgrade_is_idempotent(backend: Backend) -> None:
    assert upgrade(backend.engine) == "0002"
    assert upgrade(backend.engine) == "0002"
    assert upgrade(backend.url) == "0002"  # by URL too


def test_the_migrated_schema_is_the_table_metadata(backend: Backend) -> None:
    upgrade(backend.engine)
    with backend.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diffs == []
