"""SqlLog: QuickFIX messages_log / event_log rows on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, select

from fix_engine.log.base import LogError
from fix_engine.log.sql import SqlLogFactory
from fix_engine.session.session_id import SessionID
from fix_engine.store.sql import datetime_to_epoch

T0 = 1_700_000_000.25
SESSION = SessionID("FIX.4.4", "BROKER", "CLIENT")
OTHER = SessionID("FIX.4.4", "BROKER", "OTHER")
RAW = b"8=FIX.4.4\x019=5\x0135=A\x0158=\x00\xff\x0110=000\x01"  # NUL and a high byte


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlLogFactory]:
    if request.param == "sqlite":
        made = SqlLogFactory(f"sqlite:///{tmp_path}/log.db", messages_table="ml", events_table="el")
    else:
        engine: Engine = request.getfixturevalue("postgres_engine")
        schema = request.getfixturevalue("postgres_schema")
        made = SqlLogFactory(engine, messages_table="ml", events_table="el", schema=schema)
    yield made
    made.close()


def rows(factory: SqlLogFactory, table: str) -> list[dict[str, object]]:
    t = factory.tables.messages if table == "messages" else factory.tables.events
    with factory.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(t).order_by(t.c.id)).mappings()]


def test_tables_are_created_with_configured_names(factory: SqlLogFactory) -> None:
    schema = factory.tables.metadata.schema
    assert {"ml", "el"} <= set(inspect(factory.engine).get_table_names(schema=schema))


def test_messages_and_events_become_rows_in_order(factory: SqlLogFactory) -> None:
    log = factory.create(SESSION)
    log.on_incoming(RAW, T0)
    log.on_outgoing(RAW + b"x", T0 + 1)
    log.on_event("Received logon", T0 + 2)
    messages = rows(factory, "messages")
    assert [(m["direction"], bytes(m["text"])) for m in messages] == [("I", RAW), ("O", RAW + b"x")]  # type: ignore[arg-type]
    assert datetime_to_epoch(messages[0]["time"]) == T0  # type: ignore[arg-type]
    assert messages[0]["sendercompid"] == "BROKER" and messages[0]["targetcompid"] == "CLIENT"
    events = rows(factory, "events")
    assert [e["text"] for e in events] == ["Received logon"]
    assert datetime_to_epoch(events[0]["time"]) == T0 + 2  # type: ignore[arg-type]


def test_clear_deletes_only_this_sessions_rows(factory: SqlLogFactory) -> None:
    ours, theirs = factory.create(SESSION), factory.create(OTHER)
    for log in (ours, theirs):
        log.on_incoming(RAW, T0)
        log.on_event("e", T0)
    ours.clear()
    assert {m["targetcompid"] for m in rows(factory, "messages")} == {"OTHER"}
    assert {e["targetcompid"] for e in rows(factory, "events")} == {"OTHER"}


def test_the_global_log_has_its_own_identity(factory: SqlLogFactory) -> None:
    factory.create(None).on_event("engine started", T0)
    assert rows(factory, "events")[0]["beginstring"] == "GLOBAL"


def test_database_failures_are_log_errors(tmp_path: Path) -> None:
    factory = SqlLogFactory(f"sqlite:///{tmp_path}/log.db")
    log = factory.create(SESSION)
    with factory.engine.begin() as conn:
        factory.tables.messages.drop(conn)
    with pytest.raises(LogError, match="messages_log"):
        log.on_incoming(RAW, T0)
    factory.close()


def test_a_write_window_inserts_its_rows_in_one_go(factory: SqlLogFactory) -> None:
    log = factory.create(SESSION)
    log.defer_writes()
    log.on_incoming(RAW, T0)
    log.on_event("one", T0 + 1)
    log.on_outgoing(RAW + b"y", T0 + 2)
    assert rows(factory, "messages") == [] and rows(factory, "events") == []
    log.write_deferred()
    messages = rows(factory, "messages")
    assert [(m["direction"], bytes(m["text"])) for m in messages] == [("I", RAW), ("O", RAW + b"y")]
    assert [e["text"] for e in rows(factory, "events")] == ["one"]
    log.write_deferred()  # nothing pending: nothing happens
    log.on_event("two", T0 + 3)  # written at once again
    assert [e["text"] for e in rows(factory, "events")] == ["one", "two"]
