"""Fixtures for the matching-core tests; makes ``matching_harness`` importable."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from matching_harness import Harness  # noqa: E402


@pytest.fixture
def h() -> Harness:
    """A continuous-trading engine with one instrument ``X`` (tick 0.01, lot 1, no price band)."""
    return Harness()
