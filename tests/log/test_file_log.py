"""FileLog: QuickFIX file layout, one timestamped line per entry, SOH kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from fix_engine.codec.framing import FrameParser
from fix_engine.log.base import LogError
from fix_engine.log.file import FileLog, FileLogFactory
from fix_engine.session.session_id import SessionID

T0 = 1_700_000_000.25
SESSION = SessionID("FIX.4.4", "BROKER", "CLIENT")
LOGON = b"8=FIX.4.4\x019=5\x0135=A\x0110=000\x01"
HEARTBEAT = b"8=FIX.4.4\x019=5\x0135=0\x0110=000\x01"


def test_messages_and_events_go_to_the_quickfix_files(tmp_path: Path) -> None:
    log = FileLog(str(tmp_path), SESSION)
    log.on_incoming(LOGON, T0)
    log.on_outgoing(HEARTBEAT, T0 + 1.5)
    log.on_event("Received logon", T0 + 2.001)
    assert (tmp_path / "FIX.4.4-BROKER-CLIENT.messages.current.log").read_bytes() == (
        b"20231114-22:13:20.250: " + LOGON + b"\n" + b"20231114-22:13:21.750: " + HEARTBEAT + b"\n"
    )
    assert (tmp_path / "FIX.4.4-BROKER-CLIENT.event.current.log").read_bytes() == (
        b"20231114-22:13:22.251: Received logon\n"
    )


def test_lines_are_visible_before_close(tmp_path: Path) -> None:
    log = FileLog(str(tmp_path), SESSION)
    log.on_event("one", T0)
    assert Path(log.event_path).read_bytes().endswith(b"one\n")


def test_split_directions_writes_separate_files(tmp_path: Path) -> None:
    log = FileLog(str(tmp_path), SESSION, split_directions=True)
    log.on_incoming(LOGON, T0)
    log.on_outgoing(HEARTBEAT, T0)
    assert (tmp_path / "FIX.4.4-BROKER-CLIENT.incoming.current.log").read_bytes().endswith(LOGON + b"\n")
    assert (tmp_path / "FIX.4.4-BROKER-CLIENT.outgoing.current.log").read_bytes().endswith(HEARTBEAT + b"\n")
    assert not (tmp_path / "FIX.4.4-BROKER-CLIENT.messages.current.log").exists()


def test_logged_messages_replay_through_the_frame_parser(tmp_path: Path) -> None:
    real = b"8=FIX.4.4\x019=5\x0135=0\x0110=163\x01"
    log = FileLog(str(tmp_path), SESSION)
    log.on_incoming(real, T0)
    log.on_outgoing(real, T0)
    frames = FrameParser().feed(Path(log.incoming_path).read_bytes())
    assert [frame.raw for frame in frames] == [real, real]


def test_reopening_appends(tmp_path: Path) -> None:
    FileLog(str(tmp_path), SESSION).on_event("first", T0)
    FileLog(str(tmp_path), SESSION).on_event("second", T0)
    assert (tmp_path / "FIX.4.4-BROKER-CLIENT.event.current.log").read_bytes().count(b"\n") == 2


def test_clear_truncates_and_logging_continues(tmp_path: Path) -> None:
    log = FileLog(str(tmp_path), SESSION)
    log.on_incoming(LOGON, T0)
    log.on_event("before", T0)
    log.clear()
    log.on_event("after", T0)
    assert Path(log.incoming_path).read_bytes() == b""
    assert Path(log.event_path).read_bytes() == b"20231114-22:13:20.250: after\n"


def test_a_closed_log_refuses_writes(tmp_path: Path) -> None:
    log = FileLog(str(tmp_path), SESSION)
    log.close()
    log.close()
    with pytest.raises(LogError, match="closed"):
        log.on_event("late", T0)


def test_the_factory_creates_per_session_and_global_logs(tmp_path: Path) -> None:
    factory = FileLogFactory(str(tmp_path / "logs"))
    factory.create(SessionID("FIX.4.2", "A", "B", session_qualifier="Q")).on_event("x", T0)
    factory.create(None).on_event("engine started", T0)
    names = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert "FIX.4.2-A-B-Q.event.current.log" in names
    assert "GLOBAL.event.current.log" in names


def test_a_write_window_flushes_its_lines_together(tmp_path: Path) -> None:
    log = FileLog(str(tmp_path), SESSION)
    log.defer_writes()
    log.on_incoming(LOGON, T0)
    log.on_event("in the window", T0)
    assert Path(log.incoming_path).read_bytes() == b""  # buffered, not yet flushed
    log.write_deferred()
    assert Path(log.incoming_path).read_bytes().endswith(LOGON + b"\n")
    assert Path(log.event_path).read_bytes().endswith(b"in the window\n")
    log.on_event("after", T0)  # flushed line by line again
    assert Path(log.event_path).read_bytes().endswith(b"after\n")


def test_close_writes_an_open_window(tmp_path: Path) -> None:
    log = FileLog(str(tmp_path), SESSION)
    log.defer_writes()
    log.on_event("pending", T0)
    log.close()
    assert (tmp_path / "FIX.4.4-BROKER-CLIENT.event.current.log").read_bytes().endswith(b"pending\n")
