"""Gateway config keys for fees, position limits and GC freezing: parsed, defaulted, errors located."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from brokers.gateway_config import demo_config_text, gateway_config
from brokers.oms.context import FeeSchedule
from fix_engine.config import ConfigError, parse_config

D = Decimal


def config_with(extra: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    text = demo_config_text().replace("# --- gateway", "# --- gateway\n" + extra)
    return gateway_config(parse_config(text, "g.cfg", base_dir=tmp_path), tmp_path)


def test_demo_has_no_fees_no_position_limits_and_freezes_gc(tmp_path: Path) -> None:
    config = config_with("", tmp_path)
    assert config.fees.for_account("DEMO1") == FeeSchedule()
    assert config.limits.max_long_position is None and config.limits.max_short_position is None
    assert config.gc_freeze is True


def test_firm_and_per_account_fee_schedules(tmp_path: Path) -> None:
    config = config_with("FeeBps=2.5\nFeeFixed=1.00\nFeeMinimum=1.50\nFees.DEMO2=bps:10,min:0.25\n", tmp_path)
    assert config.fees.for_account("DEMO1") == FeeSchedule(bps=D("2.5"), fixed=D("1.00"), minimum=D("1.50"))
    assert config.fees.for_account("DEMO2") == FeeSchedule(bps=D(10), minimum=D("0.25"))
    assert config.fees.for_account("OTHER") == config.fees.default


def test_position_limits_and_gc_freeze_keys(tmp_path: Path) -> None:
    config = config_with("MaxLongPosition=5000\nMaxShortPosition=100\nGCFreeze=N\n", tmp_path)
    assert (config.limits.max_long_position, config.limits.max_short_position) == (D(5000), D(100))
    assert config.gc_freeze is False


@pytest.mark.parametrize(("extra", "message"), [
    ("Fees.DEMO1=bps:1,flat:2", "Fees.DEMO1: 'flat:2': expected bps:N, fixed:AMOUNT or min:AMOUNT"),
    ("Fees.DEMO1=bps:x", "Fees.DEMO1: 'x' is not a number"),
    ("Fees.DEMO1=fixed:-1", "Fees.DEMO1: 'fixed:-1': must be a non-negative number"),
    ("FeeBps=-3", "FeeBps: '-3' must be a non-negative number"),
    ("GCFreeze=maybe", "GCFreeze: 'maybe': expected Y or N"),
])
def test_bad_values_name_the_key(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        config_with(extra + "\n", tmp_path)
    assert message in str(info.value)
    assert "g.cfg" in str(info.value)


def test_freeze_collects_then_freezes(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from fix_engine import gc_tuning

    calls: list[str] = []
    monkeypatch.setattr(gc, "collect", lambda *a: calls.append("collect") or 0)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "get_freeze_count", lambda: 123)
    monkeypatch.setattr(gc, "get_threshold", lambda: (700, 10, 10))
    monkeypatch.setattr(gc, "set_threshold", lambda *t: calls.append(f"threshold {t}"))
    assert gc_tuning.freeze_startup_objects() == 123
    assert calls == ["collect", "freeze", "threshold (5000, 10, 10)"]


def test_registry_batch_linger_key(tmp_path: Path) -> None:
    assert config_with("", tmp_path).registry_batch_linger == 0.002
    assert config_with("RegistryBatchLinger=0\n", tmp_path).registry_batch_linger == 0
    assert config_with("RegistryBatchLinger=5.5\n", tmp_path).registry_batch_linger == 0.0055
    for bad in ("fast", "-1", "5000"):
        with pytest.raises(ConfigError, match=r"g\.cfg:\d+: RegistryBatchLinger"):
            config_with(f"RegistryBatchLinger={bad}\n", tmp_path)
