"""Every codec test runs against both implementations: the C accelerator and the pure-Python codec.

The ``codec_impl`` fixture (autouse, parametrized ``c`` / ``python``) swaps the dispatch points of
:mod:`fix_engine.codec` for the pure-Python functions in the ``python`` run.  The ``c`` run is
skipped when the extension is not built or ``FIXGATE_PURE_PYTHON`` is set.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fix_engine.codec import encoding, framing, message, parsing
from fix_engine.dictionary import validation
from fix_engine.session import checks, outbound

HAVE_C = parsing.speedups is not None


def use_pure_python(monkeypatch: pytest.MonkeyPatch) -> None:
    """Route every codec hot path to its pure-Python implementation for one test."""
    monkeypatch.setattr(parsing, "split_fields", parsing.py_split_fields)
    monkeypatch.setattr(message, "split_fields", parsing.py_split_fields)
    monkeypatch.setattr(framing, "_scan_frames", framing.py_scan_frames)
    monkeypatch.setattr(encoding, "_finish", encoding.py_finish)
    monkeypatch.setattr(encoding, "_encode_cached", None)
    monkeypatch.setattr(validation, "_fast_valid", None)
    monkeypatch.setattr(message, "_new_fields", None)
    monkeypatch.setattr(message, "_format_timestamp", None)
    monkeypatch.setattr(checks, "_utc_epoch", None)
    monkeypatch.setattr(outbound, "_has_any_tag", None)


@pytest.fixture(params=["c", "python"], autouse=True)
def codec_impl(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "c":
        if not HAVE_C:
            pytest.skip("C accelerator not in use (not built, or FIXGATE_PURE_PYTHON set)")
    else:
        use_pure_python(monkeypatch)
    yield request.param
