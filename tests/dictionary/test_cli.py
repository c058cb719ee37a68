"""``fixgate dict check`` through click's CliRunner."""

from __future__ import annotations

from click.testing import CliRunner

from fix_engine.dictionary import project_dictionary_path
from fix_engine.dictionary.cli import dict_group


def test_check_ok():
    path = str(project_dictionary_path("FIX44"))
    result = CliRunner().invoke(dict_group, ["check", path])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"OK {path}: FIX.4.4, 25 messages, 517 fields"


def test_check_reports_file_and_line_and_fails(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text('<fix type="FIX" major="4" minor="4">\n <fields>\n  <field number="1" name="A" type="NOPE"/>\n </fields>\n</fix>\n')
    good = str(project_dictionary_path("FIX42"))
    result = CliRunner().invoke(dict_group, ["check", str(bad), good])
    assert result.exit_code == 1
    assert f"{bad}:3:" in result.stderr and "NOPE" in result.stderr
    assert result.stdout.startswith(f"OK {good}: FIX.4.2")


def test_check_needs_a_file():
    assert CliRunner().invoke(dict_group, ["check"]).exit_code == 2


def test_mounted_under_fixgate():
    from brokers.cli import main

    result = CliRunner().invoke(main, ["dict", "check", str(project_dictionary_path("FIXT11"))])
    assert result.exit_code == 0 and "FIXT.1.1" in result.output
