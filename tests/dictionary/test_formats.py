"""The per-type value format checks (what decides SessionRejectReason 6)."""

from __future__ import annotations

import pytest

from fix_engine.dictionary.formats import checker_for

CASES = {
    "INT": ([b"0", b"42", b"-7"], [b"", b"1.5", b"--1", b"-", b"1a", b"+1"]),
    "NUMINGROUP": ([b"0", b"3"], [b"-1", b"x"]),
    "SEQNUM": ([b"1", b"999999"], [b"-1", b"1.0"]),
    "TAGNUM": ([b"1", b"5000"], [b"0", b"01"]),
    "DAYOFMONTH": ([b"1", b"31"], [b"0", b"32"]),
    "PRICE": ([b"1", b"1.5", b"-1.5", b".5", b"5.", b"-0.25"], [b"", b".", b"-", b"-.", b"1.2.3", b"1e5", b"1-2", b"+1"]),
    "CHAR": ([b"A", b"1"], [b"AB"]),
    "BOOLEAN": ([b"Y", b"N"], [b"y", b"YES"]),
    "UTCTIMESTAMP": (
        [b"20240102-10:11:12", b"20240102-10:11:12.1", b"20240102-10:11:12.123", b"20240102-10:11:12.123456",
         b"20240102-10:11:12.123456789", b"20241231-23:59:60"],
        [b"20240102-10:11", b"20240102 10:11:12", b"20240002-10:11:12", b"20240132-10:11:12",
         b"20240102-24:00:00", b"20240102-10:60:00", b"20240102-10:11:12.", b"20240102-10:11:12.1234567890"],
    ),
    "UTCTIMEONLY": ([b"10:11:12", b"10:11:12.123"], [b"10:11", b"25:00:00", b"10:11:12.x"]),
    "UTCDATEONLY": ([b"20240229"], [b"2024022", b"20241301", b"2024022a"]),
    "LOCALMKTDATE": ([b"20240102"], [b"20240100"]),
    "MONTHYEAR": ([b"202403", b"20240315", b"202403w1"], [b"202400", b"202403w6", b"2024031", b"20240340"]),
    "TZTIMEONLY": ([b"07:39Z", b"02:39-05", b"15:39+08:00", b"13:09:12", b"13:09:12.123Z"], [b"7:39Z", b"07:39+15", b"07:39X"]),
    "TZTIMESTAMP": ([b"20060901-07:39Z", b"20060901-02:39-05"], [b"2006090-07:39Z", b"20060901 07:39Z"]),
    "MULTIPLECHARVALUE": ([b"A", b"A B C"], [b"AB", b"A  B"]),
}


@pytest.mark.parametrize(("type_", "value", "ok"), [(t, v, True) for t, (good, _) in CASES.items() for v in good]
                         + [(t, v, False) for t, (_, bad) in CASES.items() for v in bad])
def test_format(type_, value, ok):
    check = checker_for(type_)
    assert check is not None
    assert check(value) is ok


@pytest.mark.parametrize("type_", ["STRING", "DATA", "CURRENCY", "EXCHANGE", "MULTIPLEVALUESTRING", "XMLDATA"])
def test_free_text_types_have_no_format_check(type_):
    assert checker_for(type_) is None


def test_quantity_types_share_the_float_check():
    assert checker_for("QTY") is checker_for("PRICE") is checker_for("AMT") is checker_for("PERCENTAGE")
    assert checker_for("TIME") is checker_for("UTCTIMESTAMP")  # the FIX.4.0/4.1 name
