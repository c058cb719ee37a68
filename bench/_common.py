"""Helpers shared by the benchmark scripts in bench/ (not a benchmark itself)."""

from __future__ import annotations

import socket
import sys
from pathlib import Path


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``values``; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def quickfix_defaults(workdir: Path) -> str:
    """The ``[DEFAULT]`` block every quickfix peer of the benchmarks runs with: FileStore and
    FileLog under ``workdir``, FIX.4.4 validation with quickfix's own standard dictionary."""
    spec = Path(sys.prefix) / "share" / "quickfix" / "FIX44.xml"
    return f"""[DEFAULT]
FileStorePath={workdir}/qf_store
FileLogPath={workdir}/qf_log
HeartBtInt=30
ResetOnLogon=Y
StartTime=00:00:00
EndTime=00:00:00
UseDataDictionary=Y
DataDictionary={spec}
"""
