"""The venue's configured trading day: parsing, the phase at a time, and the steps toward it."""

from __future__ import annotations

import calendar
from decimal import Decimal
from pathlib import Path

import click
import pytest

from venues.base import OrderRequest, OrdType, Side, TradingPhase
from venues.internal.phase_schedule import PhaseSchedule, PhaseScheduleError, next_step

P = TradingPhase
DAY = "08:00 PRE_OPEN; 09:30 CONTINUOUS; 17:30 CLOSING_CALL; 17:35 CLOSED"


def utc(hour: int, minute: int = 0, second: int = 0, day: int = 23) -> float:
    return float(calendar.timegm((2026, 11, day, hour, minute, second)))


def test_continuous_is_always_continuous() -> None:
    schedule = PhaseSchedule.parse("continuous")
    assert schedule.continuous
    assert schedule.phase_at(utc(3)) is P.CONTINUOUS


@pytest.mark.parametrize(
    ("moment", "phase"),
    [
        (utc(7, 59, 59), P.CLOSED),  # before the first entry: yesterday's last
        (utc(8), P.PRE_OPEN),
        (utc(9, 29, 59), P.PRE_OPEN),
        (utc(9, 30), P.CONTINUOUS),
        (utc(17, 30), P.CLOSING_CALL),
        (utc(17, 35), P.CLOSED),
        (utc(23, 59), P.CLOSED),
    ],
)
def test_phase_at_follows_the_entries(moment: float, phase: TradingPhase) -> None:
    assert PhaseSchedule.parse(DAY).phase_at(moment) is phase


def test_time_zone_shifts_the_day() -> None:
    schedule = PhaseSchedule.parse(DAY, "America/New_York")  # UTC-5 in November
    assert schedule.phase_at(utc(14, 29)) is P.PRE_OPEN
    assert schedule.phase_at(utc(14, 30)) is P.CONTINUOUS


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("09:30 CONTINUOUS; 08:00 PRE_OPEN", "times must ascend"),
        ("9h30 CONTINUOUS", "is not a time"),
        ("09:30 OPENING_AUCTION", "cannot be scheduled"),
        ("09:30 LUNCH", "unknown phase"),
        ("09:30", r"expected 'HH:MM\[:SS\] PHASE'"),
        ("  ", "empty schedule"),
    ],
)
def test_bad_schedules_say_why(text: str, message: str) -> None:
    with pytest.raises(PhaseScheduleError, match=message):
        PhaseSchedule.parse(text)


def test_unknown_time_zone() -> None:
    with pytest.raises(PhaseScheduleError, match="unknown time zone"):
        PhaseSchedule.parse(DAY, "Mars/Olympus")


@pytest.mark.parametrize(
    ("current", "target", "step"),
    [
        (P.CLOSED, P.CONTINUOUS, P.PRE_OPEN),  # started mid-day: through the opening call
        (P.PRE_OPEN, P.CONTINUOUS, P.CONTINUOUS),  # the engine runs the opening auction
        (P.CONTINUOUS, P.CLOSING_CALL, P.CLOSING_CALL),
        (P.CLOSING_CALL, P.CLOSED, P.CLOSED),  # through the closing auction
        (P.CONTINUOUS, P.CLOSED, P.CLOSED),
        (P.CONTINUOUS, P.PRE_OPEN, P.CLOSED),  # e.g. started in the morning: close, then the call
        (P.CLOSING_CALL, P.PRE_OPEN, P.CLOSED),
        (P.HALTED, P.CONTINUOUS, None),  # resuming is the operator's call
        (P.HALTED, P.CLOSED, P.CLOSED),
        (P.CONTINUOUS, P.CONTINUOUS, None),
    ],
)
def test_next_step_is_one_legal_hop(current: TradingPhase, target: TradingPhase, step: TradingPhase | None) -> None:
    assert next_step(current, target) is step


def test_a_day_on_the_venue_service(tmp_path: Path) -> None:
    """The service walks the demo instruments through a day; DAY orders expire at the close."""
    from twisted.internet import task

    from venues.cli import VenueFixService, load_venue_config

    text = (Path(__file__).resolve().parents[3] / "session_configs" / "venue.cfg").read_text()
    text = text.replace("JournalURL=sqlite:///fixgate-venue.db", f"JournalFile={tmp_path / 'venue.journal'}")
    text = text.replace("AdminPort=9881", "AdminPort=0").replace("PhaseSchedule=continuous", f"PhaseSchedule={DAY}")
    cfg_path = tmp_path / "venue.cfg"
    cfg_path.write_text(text)
    clock = task.Clock()
    service = VenueFixService(load_venue_config(cfg_path), clock)
    venue = service.venue
    events: list[object] = []
    venue.subscribe(events.append)

    service.apply_phase_schedule(utc(8, 0, 1))
    assert venue.phase("IBM") is P.CLOSED  # instruments start CONTINUOUS: closed first...
    service.apply_phase_schedule(utc(8, 0, 2))
    assert venue.phase("IBM") is P.PRE_OPEN  # ...then the opening call
    venue.submit(OrderRequest("IBM", "S1", "B1", Side.BUY, Decimal("100"), OrdType.LIMIT, Decimal("100.00"), account="A1"))
    venue.submit(OrderRequest("IBM", "S2", "S1", Side.SELL, Decimal("60"), OrdType.LIMIT, Decimal("99.90"), account="A2"))
    service.apply_phase_schedule(utc(9, 30, 1))
    assert venue.phase("IBM") is P.CONTINUOUS
    fills = [e for e in events if type(e).__name__ == "Fill"]
    assert {f.last_qty for f in fills} == {Decimal("60")}  # uncrossed in the opening auction
    service.apply_phase_schedule(utc(17, 30, 1))
    assert venue.phase("IBM") is P.CLOSING_CALL
    service.apply_phase_schedule(utc(17, 35, 1))
    assert all(venue.phase(s.symbol) is P.CLOSED for s in venue.instruments())
    expired = [e for e in events if type(e).__name__ == "Expired"]
    assert [e.cl_ord_id for e in expired] == ["B1"]  # the rest of the DAY buy
    assert expired[0].expired_qty == Decimal("40")
    service.journal.close()


def test_config_error_names_file_line_and_key(tmp_path: Path) -> None:
    from venues.cli import load_venue_config

    text = (Path(__file__).resolve().parents[3] / "session_configs" / "venue.cfg").read_text()
    text = text.replace("PhaseSchedule=continuous", "PhaseSchedule=09:30 LUNCH")
    cfg_path = tmp_path / "venue.cfg"
    cfg_path.write_text(text)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith("PhaseSchedule="))
    with pytest.raises(click.ClickException, match=rf"venue.cfg:{line}: PhaseSchedule: .*unknown phase 'LUNCH'"):
        load_venue_config(cfg_path)
