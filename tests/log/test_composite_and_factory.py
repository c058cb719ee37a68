"""CompositeLog, NullLog and create_log_factory."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from fix_engine.log import (
    CompositeLog,
    CompositeLogFactory,
    FileLogFactory,
    Log,
    NullLog,
    NullLogFactory,
    ScreenLogFactory,
    create_log_factory,
)
from fix_engine.log.sql import SqlLogFactory
from fix_engine.session.session_id import SessionID
from fix_engine.session.settings import SessionSettings

T0 = 1_700_000_000.25
SESSION = SessionID("FIX.4.4", "BROKER", "CLIENT")


class RecordingLog(Log):
    """Remembers every call; optionally fails on each."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[object, ...]] = []
        self.fail = fail

    def _record(self, *call: object) -> None:
        self.calls.append(call)
        if self.fail:
            raise OSError("disk full")

    def on_incoming(self, raw: bytes, now: float) -> None:
        self._record("in", raw, now)

    def on_outgoing(self, raw: bytes, now: float) -> None:
        self._record("out", raw, now)

    def on_event(self, text: str, now: float) -> None:
        self._record("event", text, now)

    def clear(self) -> None:
        self._record("clear")

    def defer_writes(self) -> None:
        self._record("defer_writes")

    def write_deferred(self) -> None:
        self._record("write_deferred")

    def close(self) -> None:
        self._record("close")


def test_composite_forwards_everything_to_every_log() -> None:
    a, b = RecordingLog(), RecordingLog()
    log = CompositeLog([a, b])
    log.on_incoming(b"i", T0)
    log.on_outgoing(b"o", T0)
    log.on_event("e", T0)
    log.clear()
    log.close()
    expected = [("in", b"i", T0), ("out", b"o", T0), ("event", "e", T0), ("clear",), ("close",)]
    assert a.calls == expected and b.calls == expected


def test_a_failing_log_does_not_starve_the_next_one() -> None:
    bad, good = RecordingLog(fail=True), RecordingLog()
    with pytest.raises(OSError, match="disk full"):
        CompositeLog([bad, good]).on_event("e", T0)
    assert good.calls == [("event", "e", T0)]


def test_null_log_accepts_everything() -> None:
    log = NullLogFactory().create(SESSION)
    log.on_incoming(b"x", T0)
    log.on_outgoing(b"x", T0)
    log.on_event("x", T0)
    log.clear()
    log.close()
    assert isinstance(log, NullLog)


def test_no_log_settings_give_null_logs() -> None:
    assert isinstance(create_log_factory(SessionSettings(SESSION)), NullLogFactory)


def test_one_backend_is_used_directly(tmp_path: Path) -> None:
    factory = create_log_factory(SessionSettings(SESSION, file_log_path=str(tmp_path)))
    assert isinstance(factory, FileLogFactory) and factory.directory == str(tmp_path)


def test_screen_log_takes_its_show_flags() -> None:
    settings = SessionSettings(SESSION, screen_log=True, screen_log_show_incoming=False)
    factory = create_log_factory(settings)
    assert isinstance(factory, ScreenLogFactory)
    assert (factory.incoming, factory.outgoing, factory.events) == (False, True, True)


def test_several_backends_are_composed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    settings = SessionSettings(
        SESSION, file_log_path=str(tmp_path), sql_log_url=f"sqlite:///{tmp_path}/log.db", screen_log=True
    )
    factory = create_log_factory(settings)
    assert isinstance(factory, CompositeLogFactory)
    assert [type(f) for f in factory.factories] == [FileLogFactory, SqlLogFactory, ScreenLogFactory]
    log = factory.create(SESSION)
    log.on_event("hello", T0)
    log.close()
    factory.close()
    assert (tmp_path / "FIX.4.4-BROKER-CLIENT.event.current.log").read_bytes().endswith(b"hello\n")
    assert "(hello)" in out.getvalue()


def test_composite_forwards_write_windows() -> None:
    logs = [RecordingLog(), RecordingLog()]
    composite = CompositeLog(logs)
    composite.defer_writes()
    composite.write_deferred()
    for log in logs:
        assert [c[0] for c in log.calls][-2:] == ["defer_writes", "write_deferred"]
