"""``fixgate run``: mounted in the root group; config errors are one clean line."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from brokers.cli import main
from brokers.gateway_config import demo_config_text, load_gateway_config


def test_run_is_mounted() -> None:
    result = CliRunner().invoke(main, ["run", "--help"])
    assert result.exit_code == 0 and "broker gateway" in result.output


def test_bad_config_names_file_and_line(tmp_path: Path) -> None:
    cfg = tmp_path / "g.cfg"
    cfg.write_text(demo_config_text().replace("RouteDefault=INTERNAL", "RouteDefault=XLON"))
    result = CliRunner().invoke(main, ["run", "-c", str(cfg)])
    assert result.exit_code == 1
    assert "g.cfg:" in result.output and "RouteDefault" in result.output and "XLON" in result.output


def test_shipped_gateway_cfg_is_the_demo() -> None:
    shipped = Path(__file__).resolve().parents[3] / "session_configs" / "gateway.cfg"
    assert shipped.read_text() == demo_config_text()
    config = load_gateway_config(shipped)
    assert sorted({s.session_id.begin_string for s in config.client_sessions}) == ["FIX.4.2", "FIX.4.4", "FIXT.1.1"]
    assert sorted(config.accounts) == ["DEMO1", "DEMO2"]
