"""Reference data: CSV / inline configuration of instruments, with line-numbered errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from venues.base import TradingPhase
from venues.internal.records import AddInstrument, decode, encode
from venues.internal.reference_data import (
    DEMO_CSV,
    DEMO_INSTRUMENTS,
    InstrumentSpec,
    ReferenceDataError,
    instruments_from_settings,
    parse_inline,
    parse_instruments_csv,
)

D = Decimal


def test_demo_csv_is_the_demo_set() -> None:
    assert parse_instruments_csv(DEMO_CSV) == list(DEMO_INSTRUMENTS)
    assert [s.symbol for s in DEMO_INSTRUMENTS] == ["AAPL", "MSFT", "IBM"]
    assert all(
        s.tick_size == D("0.01") and s.lot_size == 1 and s.reference_price == D("100.00")
        for s in DEMO_INSTRUMENTS
    )


def test_all_columns_and_defaults() -> None:
    text = "# comment\n\nX,0.05,10,50.00,10,1000,5,3,EUR,PRE_OPEN\nY,0.01\n"
    x, y = parse_instruments_csv(text)
    assert x == InstrumentSpec(
        "X", D("0.05"), D(10), D(10), D(1000), D(5), D(3), D("50.00"), "EUR", TradingPhase.PRE_OPEN
    )
    assert y == InstrumentSpec("Y", D("0.01"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("X\n", "f.csv:1: need at least symbol and tick_size"),
        ("symbol,tick_size\nX,abc\n", "f.csv:2:"),
        ("X,0.01\nX,0.01\n", "f.csv:2: duplicate symbol X"),
        ("X,0.01,1,100.005\n", "f.csv:1:"),
        ("X,0,1\n", "f.csv:1:"),
        ("X,0.01,1,1,1,1,1,1,USD,CONTINUOUS,extra\n", "too many columns"),
        ("X,0.01,1,,,,,,,NOT_A_PHASE\n", "f.csv:1:"),
    ],
)
def test_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(ReferenceDataError, match=message.replace(".", r"\.")):
        parse_instruments_csv(text, "f.csv")


def test_settings_file_inline_and_default(tmp_path) -> None:
    (tmp_path / "inst.csv").write_text("A,0.01,1,10\n")
    specs = instruments_from_settings(
        {"InstrumentsFile": "inst.csv", "Instruments": "B 0.05 10 20; C 0.01 1"}, tmp_path
    )
    assert [(s.symbol, s.tick_size, s.lot_size, s.reference_price) for s in specs] == [
        ("A", D("0.01"), D(1), D(10)),
        ("B", D("0.05"), D(10), D(20)),
        ("C", D("0.01"), D(1), None),
    ]
    assert instruments_from_settings({}) == list(DEMO_INSTRUMENTS)
    with pytest.raises(ReferenceDataError, match="duplicate instruments: A"):
        instruments_from_settings({"InstrumentsFile": "inst.csv", "Instruments": "A 0.01 1"}, tmp_path)
    with pytest.raises(ReferenceDataError, match="missing.csv"):
        instruments_from_settings({"InstrumentsFile": "missing.csv"}, tmp_path)
    with pytest.raises(ReferenceDataError, match="entry 1"):
        parse_inline("A")


def test_specs_round_trip_through_journal_records() -> None:
    spec = InstrumentSpec(
        "X", D("0.05"), D(10), None, D(1000), D("2.5"), D(3), D("50.00"), "EUR", TradingPhase.CLOSED
    )
    assert decode(encode(AddInstrument(spec))) == AddInstrument(spec)
    assert InstrumentSpec.from_dict(spec.to_dict()) == spec
