"""QuickFIX-style acceptance tests (``definitions/server/<version>/*.def``) against the reflector.

One test per script; see ``at_runner.py`` for the format and how time is handled.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from at_runner import definitions, run_definition  # noqa: E402

pytestmark = pytest.mark.network

ROOT = Path(__file__).parent / "definitions" / "server"
SCRIPTS = list(definitions(ROOT))


@pytest.mark.parametrize("script", SCRIPTS, ids=[str(p.relative_to(ROOT).with_suffix("")) for p in SCRIPTS])
def test_acceptance(script: Path) -> None:
    run_definition(script)
