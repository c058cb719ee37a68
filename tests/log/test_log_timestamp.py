"""format_log_timestamp: UTC milliseconds from the ``now`` passed in."""

from __future__ import annotations

import pytest

from fix_engine.log.base import format_log_timestamp


@pytest.mark.parametrize(
    "now, text",
    [
        (0.0, b"19700101-00:00:00.000"),
        (1_700_000_000.25, b"20231114-22:13:20.250"),
        (1_700_000_000.25 + 2.001, b"20231114-22:13:22.251"),  # float a hair below .251
        (1_700_000_000.9999, b"20231114-22:13:20.999"),  # truncated, never rolled into the next second
        (1_700_000_000.9999999, b"20231114-22:13:21.000"),  # rounds to the microsecond first
        (1_795_341_600.0, b"20261122-10:00:00.000"),
    ],
)
def test_format(now: float, text: bytes) -> None:
    assert format_log_timestamp(now) == text
