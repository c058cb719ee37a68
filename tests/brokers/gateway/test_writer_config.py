"""``RegistryWriterProcess``: parsed Y/N, default N, Y refused for an in-memory SQLite registry."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import gateway_text  # noqa: E402

from brokers.client.writer import ThreadRunner  # noqa: E402
from brokers.client.writer_process import ProcessRunner  # noqa: E402
from brokers.gateway import Gateway  # noqa: E402
from brokers.gateway_config import demo_config_text, gateway_config  # noqa: E402
from fix_engine.config import ConfigError, parse_config  # noqa: E402


def config_with(extra: str, tmp_path: Path, text: str | None = None):  # type: ignore[no-untyped-def]
    text = (text or demo_config_text()).replace("# --- gateway", "# --- gateway\n" + extra)
    return gateway_config(parse_config(text, "g.cfg", base_dir=tmp_path), tmp_path)


def test_the_writer_thread_is_the_default(tmp_path: Path) -> None:
    assert config_with("", tmp_path).registry_writer_process is False
    assert config_with("RegistryWriterProcess=Y\n", tmp_path).registry_writer_process is True
    assert config_with("RegistryWriterProcess=n\n", tmp_path).registry_writer_process is False


def test_an_in_memory_registry_uses_the_thread(tmp_path: Path) -> None:
    memory = demo_config_text().replace("RegistryURL=sqlite:///fixgate.db", "RegistryURL=sqlite://")
    assert config_with("", tmp_path, memory).registry_writer_process is False
    assert config_with("RegistryWriterProcess=N\n", tmp_path, memory).registry_writer_process is False
    with pytest.raises(ConfigError) as info:
        config_with("RegistryWriterProcess=Y\n", tmp_path, memory)
    assert "g.cfg:" in str(info.value) and "RegistryWriterProcess" in str(info.value)
    assert "in-memory SQLite registry" in str(info.value)


def test_a_bad_value_names_file_line_and_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        config_with("RegistryWriterProcess=maybe\n", tmp_path)
    assert "g.cfg:" in str(info.value) and "RegistryWriterProcess: 'maybe': expected Y or N" in str(info.value)


@pytest.mark.parametrize(("flag", "runner"), [("Y", ProcessRunner), ("N", ThreadRunner)])
def test_the_gateway_builds_the_runner_the_key_asks_for(tmp_path: Path, flag: str, runner: type) -> None:
    text = gateway_text(tmp_path, 9, f"RegistryWriterProcess={flag}\n")  # never listens
    gateway = Gateway(gateway_config(parse_config(text, "g.cfg", base_dir=tmp_path), tmp_path), echo=lambda _: None)
    try:
        assert type(gateway.writer.runner) is runner
        assert not gateway.writer.runner.started  # nothing runs before startService
        if flag == "Y":
            assert gateway.writer.runner.journal == str((tmp_path / "orders.jsonl").resolve())
    finally:
        gateway.close()
