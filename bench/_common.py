"""Helpers shared by the benchmark scripts in bench/ (not a benchmark itself)."""

from __future__ import annotations

import os
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


#: set (to "1") by a benchmark's ``--no-log``: neither engine keeps a message log (inherited by
#: the benchmark's child processes)
NO_LOG_ENV = "FIXGATE_BENCH_NO_LOG"


def message_logs() -> bool:
    """Whether both engines keep a file message log (the default; ``--no-log``: neither does)."""
    return os.environ.get(NO_LOG_ENV) != "1"


def fixgate_log_line(workdir: Path, name: str = "fg_log") -> str:
    """fixgate's ``FileLogPath`` line (empty under ``--no-log``)."""
    return f"FileLogPath={workdir}/{name}" if message_logs() else ""


def quickfix_log_factories(fix: object, settings: object) -> list[object]:
    """The log-factory argument of a quickfix SocketAcceptor/SocketInitiator: a FileLogFactory, or
    nothing under ``--no-log``."""
    return [fix.FileLogFactory(settings)] if message_logs() else []  # type: ignore[attr-defined]


def quickfix_defaults(workdir: Path) -> str:
    """The ``[DEFAULT]`` block every quickfix peer of the benchmarks runs with: FileStore and
    FileLog (unless ``--no-log``) under ``workdir``, FIX.4.4 validation with quickfix's own
    standard dictionary."""
    spec = Path(sys.prefix) / "share" / "quickfix" / "FIX44.xml"
    return f"""[DEFAULT]
FileStorePath={workdir}/qf_store
{f"FileLogPath={workdir}/qf_log" if message_logs() else ""}
HeartBtInt=30
ResetOnLogon=Y
StartTime=00:00:00
EndTime=00:00:00
UseDataDictionary=Y
DataDictionary={spec}
"""
