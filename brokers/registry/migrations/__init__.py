"""Schema migrations (Alembic), run programmatically: ``upgrade(engine_or_url)`` = ``alembic upgrade head``.

The revisions live in ``versions/``; ``env.py`` uses the connection handed over in
``config.attributes["connection"]`` (or makes one from ``sqlalchemy.url``).  Upgrades keep the data.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from ..database import create_registry_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic config pointing at this package's migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine_or_url: Engine | str | None = None) -> str | None:
    """The database's revision, or ``None`` for a database the registry never touched."""
    engine = create_registry_engine(engine_or_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        if not isinstance(engine_or_url, Engine):
            engine.dispose()


def upgrade(engine_or_url: Engine | str | None = None, revision: str = "head") -> str | None:
    """Bring the schema to ``revision`` (default: the newest), in one transaction; returns the new revision."""
    engine = create_registry_engine(engine_or_url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), revision)
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        if not isinstance(engine_or_url, Engine):
            engine.dispose()
