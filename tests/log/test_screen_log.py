"""ScreenLog: QuickFIX's two-line entries on a stream, with show-flags."""

from __future__ import annotations

import io

import pytest

from fix_engine.log.screen import ScreenLog, ScreenLogFactory, printable
from fix_engine.session.session_id import SessionID

T0 = 1_700_000_000.25
SESSION = SessionID("FIX.4.4", "BROKER", "CLIENT")
LOGON = b"8=FIX.4.4\x019=5\x0135=A\x0110=000\x01"


def test_entries_name_time_session_and_kind() -> None:
    out = io.StringIO()
    log = ScreenLog(SESSION, out)
    log.on_incoming(LOGON, T0)
    log.on_outgoing(LOGON, T0 + 1)
    log.on_event("Logon complete", T0 + 2)
    assert out.getvalue() == (
        "<20231114-22:13:20.250, FIX.4.4:BROKER->CLIENT, incoming>\n  (8=FIX.4.4|9=5|35=A|10=000|)\n"
        "<20231114-22:13:21.250, FIX.4.4:BROKER->CLIENT, outgoing>\n  (8=FIX.4.4|9=5|35=A|10=000|)\n"
        "<20231114-22:13:22.250, FIX.4.4:BROKER->CLIENT, event>\n  (Logon complete)\n"
    )


@pytest.mark.parametrize("hidden", ["incoming", "outgoing", "events"])
def test_show_flags_hide_one_kind(hidden: str) -> None:
    out = io.StringIO()
    log = ScreenLog(SESSION, out, **{hidden: False})  # type: ignore[arg-type]
    log.on_incoming(LOGON, T0)
    log.on_outgoing(LOGON, T0)
    log.on_event("e", T0)
    shown = {kind for kind in ("incoming", "outgoing", "event") if f", {kind}>" in out.getvalue()}
    assert shown == {"incoming", "outgoing", "event"} - {hidden.rstrip("s")}


def test_defaults_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    ScreenLogFactory().create(SESSION).on_event("hello", T0)
    assert "(hello)" in capsys.readouterr().out


def test_non_ascii_bytes_are_escaped() -> None:
    assert printable(b"58=caf\xe9\x01") == "58=caf\\xe9|"
