"""SqlStore specifics: QuickFIX table shape, configurable names, one transaction per step."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import OperationalError

from fix_engine.session.session_id import SessionID
from fix_engine.store.base import MessageStoreError
from fix_engine.store.sql import (
    SqlStore,
    SqlStoreFactory,
    create_sql_engine,
    datetime_to_epoch,
    epoch_to_datetime,
)

T0 = 1_700_000_000.25
SESSION = SessionID("FIX.4.4", "BROKER", "CLIENT", sender_sub_id="DESK")

IDENTITY = [
    "beginstring",
    "sendercompid",
    "sendersubid",
    "senderlocid",
    "targetcompid",
    "targetsubid",
    "targetlocid",
    "session_qualifier",
]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine_and_schema(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, str | None]]:
    if request.param == "sqlite":
        engine = create_sql_engine(f"sqlite:///{tmp_path}/store.db")
        yield engine, None
        engine.dispose()
    else:
        yield request.getfixturevalue("postgres_engine"), request.getfixturevalue("postgres_schema")


def test_tables_have_the_quickfix_shape_and_configured_names(
    engine_and_schema: tuple[Engine, str | None],
) -> None:
    engine, schema = engine_and_schema
    SqlStoreFactory(engine, sessions_table="fx_sessions", messages_table="fx_messages", schema=schema)
    inspector = inspect(engine)
    assert {"fx_sessions", "fx_messages"} <= set(inspector.get_table_names(schema=schema))
    session_columns = [c["name"] for c in inspector.get_columns("fx_sessions", schema=schema)]
    assert session_columns == IDENTITY + ["creation_time", "incoming_seqnum", "outgoing_seqnum"]
    message_columns = [c["name"] for c in inspector.get_columns("fx_messages", schema=schema)]
    assert message_columns == IDENTITY + ["msgseqnum", "message"]
    assert inspector.get_pk_constraint("fx_sessions", schema=schema)["constrained_columns"] == IDENTITY
    assert inspector.get_pk_constraint("fx_messages", schema=schema)["constrained_columns"] == IDENTITY + [
        "msgseqnum"
    ]


def test_rows_carry_the_session_identity(engine_and_schema: tuple[Engine, str | None]) -> None:
    engine, schema = engine_and_schema
    factory = SqlStoreFactory(engine, schema=schema)
    store = factory.create(SESSION, T0)
    store.save_and_incr(1, b"8=FIX.4.4\x01")
    prefix = f'"{schema}".' if schema else ""
    with engine.connect() as conn:
        session_row = conn.execute(text(f"SELECT * FROM {prefix}sessions")).mappings().one()
        message_row = conn.execute(text(f"SELECT * FROM {prefix}messages")).mappings().one()
    assert session_row["sendercompid"] == "BROKER"
    assert session_row["sendersubid"] == "DESK"
    assert session_row["senderlocid"] == ""
    assert (session_row["incoming_seqnum"], session_row["outgoing_seqnum"]) == (1, 2)
    assert message_row["msgseqnum"] == 1
    assert bytes(message_row["message"]) == b"8=FIX.4.4\x01"


def test_save_and_incr_is_one_transaction(
    engine_and_schema: tuple[Engine, str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, schema = engine_and_schema
    factory = SqlStoreFactory(engine, schema=schema)
    store = factory.create(SESSION, T0)
    store.save_and_incr(1, b"one")

    def fail(*args: object, **kwargs: object) -> None:
        raise OperationalError("UPDATE sessions", {}, Exception("connection lost"))

    monkeypatch.setattr(SqlStore, "_update_session", fail)
    with pytest.raises(MessageStoreError):
        store.save_and_incr(2, b"two")
    monkeypatch.undo()
    assert store.next_sender_seq_num() == 2
    fresh = factory.create(SESSION, T0)
    assert fresh.get_range(1, 10) == [(1, b"one")]  # the message insert was rolled back too
    assert fresh.next_sender_seq_num() == 2


def test_reset_is_one_transaction(
    engine_and_schema: tuple[Engine, str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, schema = engine_and_schema
    factory = SqlStoreFactory(engine, schema=schema)
    store = factory.create(SESSION, T0)
    store.save_and_incr(1, b"one")

    def fail(*args: object, **kwargs: object) -> None:
        raise OperationalError("UPDATE sessions", {}, Exception("connection lost"))

    monkeypatch.setattr(SqlStore, "_update_session", fail)
    with pytest.raises(MessageStoreError):
        store.reset(T0 + 1)
    monkeypatch.undo()
    fresh = factory.create(SESSION, T0)
    assert fresh.get_range(1, 10) == [(1, b"one")]
    assert fresh.creation_time() == T0


def test_creation_times_keep_microseconds() -> None:
    for value in (0.0, T0, 1_700_000_000.123456, 4_102_444_800.999999):
        assert datetime_to_epoch(epoch_to_datetime(value)) == pytest.approx(value, abs=1e-6)


def test_in_memory_sqlite_is_one_database_for_all_stores() -> None:
    factory = SqlStoreFactory("sqlite://")
    try:
        factory.create(SESSION, T0).save_and_incr(1, b"one")
        assert factory.create(SESSION, T0).get_range(1, 1) == [(1, b"one")]
    finally:
        factory.close()


def test_an_unreachable_database_is_a_store_error() -> None:
    with pytest.raises(MessageStoreError, match="cannot create store tables"):
        SqlStoreFactory("sqlite:////nonexistent-dir/definitely/store.db")
