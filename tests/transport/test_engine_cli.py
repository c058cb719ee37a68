"""``fixgate session show/set/reset`` and ``fixgate reflector`` argument and config errors."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from brokers.cli import main
from fix_engine.session.session_id import SessionID
from fix_engine.store.file import FileStore

CFG = """[DEFAULT]
ConnectionType=acceptor
SenderCompID=SERVER
SocketAcceptPort=5999
FileStorePath={store}
NonStopSession=Y
[SESSION]
BeginString=FIX.4.4
TargetCompID=CLIENT1
[SESSION]
BeginString=FIX.4.2
TargetCompID=CLIENT2
[SESSION]
BeginString=FIX.4.4
TargetCompID=*
"""


def write_cfg(tmp_path: Path) -> Path:
    path = tmp_path / "engine.cfg"
    path.write_text(CFG.format(store=tmp_path / "store"))
    return path


def test_show_lists_every_concrete_session(tmp_path: Path) -> None:
    cfg = write_cfg(tmp_path)
    result = CliRunner().invoke(main, ["session", "show", "-c", str(cfg)])
    assert result.exit_code == 0, result.output
    assert "FIX.4.4:SERVER->CLIENT1  next sender seq 1  next target seq 1" in result.output
    assert "FIX.4.2:SERVER->CLIENT2  next sender seq 1  next target seq 1" in result.output
    assert "*" not in result.output  # templates have no store until a counterparty is named


def test_set_then_show_persists_in_the_store(tmp_path: Path) -> None:
    cfg = write_cfg(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["session", "set", "-c", str(cfg), "-s", "FIX.4.4:SERVER->CLIENT1", "--sender", "42", "--target", "7"])
    assert result.exit_code == 0, result.output
    store = FileStore(str(tmp_path / "store"), SessionID("FIX.4.4", "SERVER", "CLIENT1"), 0.0)
    assert (store.next_sender_seq_num(), store.next_target_seq_num()) == (42, 7)
    store.close()
    result = runner.invoke(main, ["session", "show", "-c", str(cfg), "-s", "FIX.4.4:SERVER->CLIENT1"])
    assert "next sender seq 42  next target seq 7" in result.output


def test_templated_session_needs_a_counterparty(tmp_path: Path) -> None:
    cfg = write_cfg(tmp_path)
    result = CliRunner().invoke(
        main, ["session", "set", "-c", str(cfg), "-s", "FIX.4.4:SERVER->NEWCO", "--counterparty", "NEWCO", "--sender", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "FIX.4.4:SERVER->NEWCO  next sender seq 3" in result.output


def test_reset_asks_then_resets(tmp_path: Path) -> None:
    cfg = write_cfg(tmp_path)
    runner = CliRunner()
    runner.invoke(main, ["session", "set", "-c", str(cfg), "-s", "FIX.4.4:SERVER->CLIENT1", "--sender", "9"])
    aborted = runner.invoke(main, ["session", "reset", "-c", str(cfg), "-s", "FIX.4.4:SERVER->CLIENT1"], input="n\n")
    assert aborted.exit_code == 1
    done = runner.invoke(main, ["session", "reset", "-c", str(cfg), "-s", "FIX.4.4:SERVER->CLIENT1", "--yes"])
    assert done.exit_code == 0, done.output
    store = FileStore(str(tmp_path / "store"), SessionID("FIX.4.4", "SERVER", "CLIENT1"), 0.0)
    assert store.next_sender_seq_num() == 1
    store.close()


def test_unknown_session_names_the_configured_ones(tmp_path: Path) -> None:
    cfg = write_cfg(tmp_path)
    result = CliRunner().invoke(main, ["session", "show", "-c", str(cfg), "-s", "FIX.4.4:SERVER->NOBODY"])
    assert result.exit_code == 1
    assert "no session matches FIX.4.4:SERVER->NOBODY" in result.output
    assert "FIX.4.4:SERVER->CLIENT1" in result.output


def test_set_without_numbers_is_a_usage_error(tmp_path: Path) -> None:
    cfg = write_cfg(tmp_path)
    result = CliRunner().invoke(main, ["session", "set", "-c", str(cfg), "-s", "FIX.4.4:SERVER->CLIENT1"])
    assert result.exit_code == 2
    assert "--sender and/or --target" in result.output


def test_reflector_reports_config_errors_with_file_line_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.cfg"
    bad.write_text("[DEFAULT]\nConnectionType=acceptor\nSenderCompID=ISLD\nHeartBtInt=abc\n[SESSION]\nBeginString=FIX.4.4\nTargetCompID=TW\nSocketAcceptPort=5001\n")
    result = CliRunner().invoke(main, ["reflector", "-c", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:4: HeartBtInt" in result.output
    assert "Traceback" not in result.output


def test_reflector_rejects_a_bad_port(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["reflector", "--port", "70000"])
    assert result.exit_code == 2
    assert "70000" in result.output
