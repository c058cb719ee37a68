"""PhaseSchedule: the trading day of the venue as configured (``PhaseSchedule=`` in venue.cfg). Pure.

Syntax: ``continuous`` (trade all day, the demo) or a ``;``-separated list of
``HH:MM[:SS] PHASE`` entries in ascending time, where PHASE is one of ``PRE_OPEN`` (opening
call), ``CONTINUOUS`` (reached through the opening auction), ``CLOSING_CALL`` and ``CLOSED``
(reached through the closing auction; the venue then expires DAY orders).  Times are in the zone
given by ``PhaseScheduleTimeZone`` (IANA name, default UTC).  Example (a cash-equity day)::

    PhaseSchedule=08:00 PRE_OPEN; 09:30 CONTINUOUS; 17:30 CLOSING_CALL; 17:35 CLOSED

The phase at a moment is that of the last entry at or before its time of day; before the first
entry of a day the previous day's last entry holds.  ``next_step`` moves an instrument one legal
hop toward that phase along the day's cycle (CLOSED -> PRE_OPEN -> CONTINUOUS -> CLOSING_CALL ->
CLOSED), so a venue started mid-day catches up through the opening auction; a HALTED instrument
waits for the operator's resume, except that it closes at the end of the day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from venues.base import TradingPhase

P = TradingPhase

SCHEDULABLE = (P.PRE_OPEN, P.CONTINUOUS, P.CLOSING_CALL, P.CLOSED)

#: the next hop toward a target along the day's cycle: (current, target) -> next phase
_CYCLE = (P.CLOSED, P.PRE_OPEN, P.CONTINUOUS, P.CLOSING_CALL)


class PhaseScheduleError(ValueError):
    """A PhaseSchedule value that cannot be parsed (the message says which entry and why)."""


@dataclass(frozen=True)
class PhaseSchedule:
    """Scheduled phase changes of one trading day, in a time zone; ``entries`` empty = continuous."""

    entries: tuple[tuple[dt.time, TradingPhase], ...] = ()
    tz: dt.tzinfo = dt.UTC

    @property
    def continuous(self) -> bool:
        return not self.entries

    @classmethod
    def parse(cls, text: str, time_zone: str = "") -> PhaseSchedule:
        try:
            tz: dt.tzinfo = ZoneInfo(time_zone) if time_zone else dt.UTC
        except (ZoneInfoNotFoundError, ValueError):
            raise PhaseScheduleError(f"unknown time zone {time_zone!r}") from None
        body = text.strip()
        if body.lower() == "continuous":
            return cls((), tz)
        entries: list[tuple[dt.time, TradingPhase]] = []
        for raw in body.split(";"):
            item = raw.strip()
            if not item:
                continue
            parts = item.split()
            if len(parts) != 2:
                raise PhaseScheduleError(f"{item!r}: expected 'HH:MM[:SS] PHASE'")
            when, name = parts
            try:
                fields = [int(p) for p in when.split(":")]
                if len(fields) not in (2, 3):
                    raise ValueError
                moment = dt.time(*fields)
            except ValueError:
                raise PhaseScheduleError(f"{item!r}: {when!r} is not a time HH:MM[:SS]") from None
            try:
                phase = TradingPhase[name.upper()]
            except KeyError:
                raise PhaseScheduleError(f"{item!r}: unknown phase {name!r}") from None
            if phase not in SCHEDULABLE:
                names = ", ".join(p.name for p in SCHEDULABLE)
                raise PhaseScheduleError(f"{item!r}: {phase.name} cannot be scheduled (use {names})")
            if entries and moment <= entries[-1][0]:
                raise PhaseScheduleError(f"{item!r}: times must ascend")
            entries.append((moment, phase))
        if not entries:
            raise PhaseScheduleError("empty schedule: write 'continuous' or 'HH:MM PHASE; ...'")
        return cls(tuple(entries), tz)

    def phase_at(self, epoch_seconds: float) -> TradingPhase:
        """The scheduled phase at a moment (CONTINUOUS for a continuous schedule)."""
        if not self.entries:
            return P.CONTINUOUS
        local = dt.datetime.fromtimestamp(epoch_seconds, self.tz).time()
        current = self.entries[-1][1]  # before the first entry: yesterday's last
        for moment, phase in self.entries:
            if moment <= local:
                current = phase
            else:
                break
        return current


def next_step(current: TradingPhase, target: TradingPhase) -> TradingPhase | None:
    """The one phase to ask the venue for now to move ``current`` toward ``target`` (None: stay)."""
    if current == target:
        return None
    if current == P.HALTED:
        return P.CLOSED if target == P.CLOSED else None  # resuming is the operator's decision
    if current not in _CYCLE or target not in _CYCLE:
        return None  # transient auction phases: the engine leaves them by itself
    if target in (P.CLOSED, P.PRE_OPEN) and current in (P.PRE_OPEN, P.CONTINUOUS):
        # a direct close is legal from these; the next day's opening call starts from CLOSED
        return P.CLOSED
    i = _CYCLE.index(current)
    return _CYCLE[(i + 1) % len(_CYCLE)]
