"""Shared fixtures: PostgreSQL access (skipped without FIXGATE_TEST_DATABASE_URL) and per-test isolation.

``postgres_url``            the URL from the environment, or the test is skipped
``postgres_engine``         one Engine per test run
``postgres_schema``         a fresh schema per test, dropped (CASCADE) afterwards
``postgres_schema_engine``  an Engine whose ``search_path`` is that schema, for code that takes no
                            schema argument
``unique_table_prefix``     a unique table-name prefix, for backends without schemas
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from sqlalchemy import Engine

POSTGRES_URL_ENV = "FIXGATE_TEST_DATABASE_URL"
POSTGRES_SKIP_REASON = "FIXGATE_TEST_DATABASE_URL is not set: PostgreSQL tests skipped"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get(POSTGRES_URL_ENV, "")
    if not url:
        pytest.skip(POSTGRES_SKIP_REASON)
    return url


@pytest.fixture(scope="session")
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    from sqlalchemy import create_engine

    engine = create_engine(postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_schema(postgres_engine: Engine) -> Iterator[str]:
    from sqlalchemy import text

    name = f"fixgate_test_{uuid.uuid4().hex[:16]}"
    with postgres_engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        yield name
    finally:
        with postgres_engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))


@pytest.fixture
def postgres_schema_engine(postgres_url: str, postgres_schema: str) -> Iterator[Engine]:
    from sqlalchemy import create_engine

    # libpq "options" sets search_path for the whole connection (a SET could be rolled back)
    engine = create_engine(postgres_url, connect_args={"options": f"-csearch_path={postgres_schema}"})
    yield engine
    engine.dispose()  # before the schema is dropped: no pooled connection may hold a lock on it


@pytest.fixture
def unique_table_prefix() -> str:
    return f"t{uuid.uuid4().hex[:12]}_"
