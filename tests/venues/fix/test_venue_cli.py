"""`fixgate venue`: help, argument and config errors (CliRunner), and a real subprocess on a free port."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from twisted.internet import reactor

sys.path.insert(0, str(Path(__file__).parents[2] / "interop"))

from interop_support import FIX44, FixgateApp, InteropTestCase, fixgate_cfg, fx  # noqa: E402
from qf_peer import free_port  # noqa: E402

from brokers.cli import main  # noqa: E402
from fix_engine.codec.message import FixMessage  # noqa: E402
from fix_engine.config import parse_config  # noqa: E402
from fix_engine.transport.initiator import InitiatorService  # noqa: E402
from fix_engine.transport.session_builder import SessionBuilder  # noqa: E402
from venues.cli import DEFAULT_VENUE_CONFIG, load_venue_config  # noqa: E402


def test_help_lists_the_sub_commands() -> None:
    result = CliRunner().invoke(main, ["venue", "--help"])
    assert result.exit_code == 0
    for command in ("run", "book", "halt", "resume", "instruments"):
        assert command in result.output


def test_shipped_config_is_the_demo_venue() -> None:
    cfg = load_venue_config(DEFAULT_VENUE_CONFIG)
    assert {s.session_id.begin_string for s in cfg.sessions} == {"FIX.4.2", "FIX.4.4", "FIXT.1.1"}
    assert all(s.is_templated and s.socket_accept_port == 9880 and s.session_id.sender_comp_id == "FIXGATE"
               for s in cfg.sessions)
    assert [s.symbol for s in cfg.instruments] == ["AAPL", "MSFT", "IBM"]
    assert cfg.journal_url == "sqlite:///fixgate-venue.db" and cfg.admin_port == 9881


def test_bad_arguments_and_config_errors_are_clear(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["venue", "--port", "99999"])
    assert result.exit_code == 2 and "99999" in result.output
    result = runner.invoke(main, ["venue", "-c", str(tmp_path / "missing.cfg")])
    assert result.exit_code == 1 and "missing.cfg" in result.output and "Traceback" not in result.output
    bad = tmp_path / "bad.cfg"
    bad.write_text(DEFAULT_VENUE_CONFIG.read_text().replace("AdminPort=9881", "AdminPort=abc"))
    result = runner.invoke(main, ["venue", "run", "-c", str(bad)])
    line = DEFAULT_VENUE_CONFIG.read_text().splitlines().index("AdminPort=9881") + 1
    assert result.exit_code == 1 and f"bad.cfg:{line}: AdminPort" in result.output
    bad.write_text(DEFAULT_VENUE_CONFIG.read_text().replace("CancelOnDisconnectScope=day", "CancelOnDisconnectScope=week"))
    result = runner.invoke(main, ["venue", "run", "-c", str(bad)])
    assert result.exit_code == 1 and "CancelOnDisconnectScope" in result.output and "week" in result.output
    result = runner.invoke(main, ["venue", "book", "IBM", "--admin-port", str(free_port()), "--timeout", "1"])
    assert result.exit_code == 1 and "AdminPort" in result.output and "Traceback" not in result.output
    result = runner.invoke(main, ["venue", "instruments", "add", "XYZ", "abc"])
    assert result.exit_code == 2


def test_gc_freeze_key(tmp_path: Path) -> None:
    assert load_venue_config(DEFAULT_VENUE_CONFIG).gc_freeze
    text = DEFAULT_VENUE_CONFIG.read_text().replace("AdminPort=9881", "AdminPort=9881\nGCFreeze=N")
    off = tmp_path / "off.cfg"
    off.write_text(text)
    assert not load_venue_config(off).gc_freeze
    bad = tmp_path / "bad.cfg"
    bad.write_text(text.replace("GCFreeze=N", "GCFreeze=sometimes"))
    line = text.splitlines().index("GCFreeze=N") + 1
    with pytest.raises(click.ClickException, match=f"bad.cfg:{line}: GCFreeze"):
        load_venue_config(bad)


def test_instruments_offline_list_and_add(tmp_path: Path) -> None:
    cfg = tmp_path / "venue.cfg"
    cfg.write_text(DEFAULT_VENUE_CONFIG.read_text().replace("JournalURL=sqlite:///fixgate-venue.db", "JournalFile=venue.journal"))
    runner = CliRunner()
    result = runner.invoke(main, ["venue", "instruments", "add", "TSLA", "0.05", "10", "200", "--offline", "-c", str(cfg)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["venue", "instruments", "list", "--offline", "-c", str(cfg)])
    assert result.exit_code == 0 and [line.split()[0] for line in result.output.splitlines()[1:]] == ["AAPL", "MSFT", "IBM", "TSLA"]


class TestVenueSubprocess(InteropTestCase):
    timeout = 60

    async def test_runs_as_a_subprocess_and_takes_an_order(self) -> None:
        port = free_port()
        child = self.spawn([sys.executable, "-m", "brokers.cli", "venue", "--port", str(port), "--admin-port", "0"],
                           cwd=self.tmp)
        await child.wait_output(b"listening on port(s)", timeout=30)
        app = FixgateApp(execute=False)
        cfg = fixgate_cfg(initiator=True, version=FIX44, port=port, workdir=self.tmp / "client", sender="CLIENT1",
                          target="FIXGATE", extra="ResetOnLogon=Y")
        service = InitiatorService(parse_config(cfg, "client.cfg").sessions, SessionBuilder(app), reactor, registry=app.registry)
        service.startService()
        self._services.append(service)
        sid = (await app.wait("logon")).session_id
        app.registry.send_to_target(FixMessage.new("D", (11, "C1"), (38, "10"), (40, "2"), (44, "99.5"), (54, "1"),
                                                   (55, "AAPL"), (60, "20260101-10:00:00.000")), sid)
        ack = await app.wait(fx("from_app", "8", t11="C1"))
        assert (ack.message.get(150), ack.message.get(39)) == ("0", "0")
        assert (self.tmp / "fixgate-venue.db").exists()
