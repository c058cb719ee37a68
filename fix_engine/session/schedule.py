"""SessionSchedule: when a FIX session is up, and which *period* an instant belongs to.

QuickFIX keys: ``StartTime``/``EndTime`` (``HH:MM:SS``), ``StartDay``/``EndDay`` (weekly sessions),
``Weekdays`` (QuickFIX/J: daily sessions on the listed days only), ``UseLocalTime``, ``TimeZone``
(QuickFIX/J, IANA name) and ``NonStopSession``.

Pure: nothing here reads the clock.  Every method takes the instant as epoch seconds and the
zone as a ``tzinfo`` given to the constructor, so tests are deterministic.

Semantics (QuickFIX's, made precise):

* A *period* starts at ``StartTime`` on a start date and ends at ``EndTime`` on the same date, or
  on the next date when ``EndTime <= StartTime`` (a period crossing midnight; ``StartTime ==
  EndTime`` is a 24-hour period).  ``EndTime`` is inclusive to the second, as in QuickFIX: a
  period ``08:00:00-17:00:00`` contains 17:00:00.999 but not 17:00:01.
* Daily sessions start every day; with ``Weekdays`` only on the listed days (the day the period
  *starts*: ``Weekdays=Mon`` with ``22:00:00-06:00:00`` runs Monday night into Tuesday).
* Weekly sessions start on ``StartDay`` at ``StartTime`` and end on the following ``EndDay`` at
  ``EndTime``; ``EndDay``/``EndTime`` not after the start means the period runs into the next
  week (``StartDay=Sun``/``EndDay=Sun`` with ``18:00:00-17:00:00`` is almost seven days).
* Wall times are taken in the zone, so DST moves the UTC instant of a period boundary (a
  17:00 New York close is 21:00 UTC in summer and 22:00 UTC in winter).  A start inside a
  spring-forward gap is read with the pre-transition offset (``fold=0``).
* Non-stop: always in session, one period forever (``session_start`` is ``-inf``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ONE_SECOND = timedelta(seconds=1)


def parse_time(text: str) -> time:
    """Parse a QuickFIX ``HH:MM:SS`` time of day; raise ``ValueError`` with a readable message."""
    parts = text.strip().split(":")
    if len(parts) != 3 or not all(len(p) == 2 and p.isdigit() for p in parts):
        raise ValueError(f"{text!r} is not a time of day (HH:MM:SS)")
    hour, minute, second = (int(p) for p in parts)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"{text!r} is not a time of day (HH:MM:SS)")
    return time(hour, minute, second)


def parse_day(text: str) -> int:
    """Parse a day name as QuickFIX does (``Sunday``, ``sun``, ``SU``, ...): Monday=0 ... Sunday=6.

    Any case-insensitive prefix of at least two letters of the English day name is accepted,
    which covers the full names, the three-letter forms and QuickFIX C++'s two-letter match.
    """
    word = text.strip().lower()
    if len(word) >= 2:
        for number, name in enumerate(_DAY_NAMES):
            if name.startswith(word):
                return number
    raise ValueError(f"{text!r} is not a day of the week")


def parse_weekdays(text: str) -> frozenset[int]:
    """Parse a QuickFIX/J ``Weekdays`` list (``Mon,Tue,Wed``) into day numbers (Monday=0)."""
    items = [item for item in (part.strip() for part in text.split(",")) if item]
    if not items:
        raise ValueError(f"{text!r} lists no days")
    return frozenset(parse_day(item) for item in items)


@dataclass(frozen=True)
class SessionSchedule:
    """The trading-session calendar of one FIX session: in/out of session and period identity.

    Build it with ``start_time``/``end_time`` (daily), plus ``start_day``/``end_day`` (weekly) or
    ``weekdays`` (daily on some days), in ``tz`` (UTC by default); or ``non_stop=True``.
    The session layer asks ``is_in_session(now)`` to decide whether to log on or out, and
    ``is_same_session(store_creation_time, now)`` to decide that stored sequence numbers belong
    to an earlier period and must be reset.
    """

    start_time: time | None = None
    end_time: time | None = None
    start_day: int | None = None  # Monday=0 ... Sunday=6 (datetime.weekday())
    end_day: int | None = None
    weekdays: frozenset[int] = frozenset()  # empty = every day
    tz: tzinfo = UTC
    non_stop: bool = False

    def __post_init__(self) -> None:
        if self.non_stop:
            return
        if self.start_time is None or self.end_time is None:
            raise ValueError("a schedule needs both StartTime and EndTime unless NonStopSession=Y")
        if (self.start_day is None) != (self.end_day is None):
            raise ValueError("StartDay and EndDay go together (weekly session)")
        if self.start_day is not None and self.weekdays:
            raise ValueError("Weekdays cannot be combined with StartDay/EndDay")
        for day in (self.start_day, self.end_day, *self.weekdays):
            if day is not None and not 0 <= day <= 6:
                raise ValueError(f"day number {day} is not in 0..6")

    @classmethod
    def always(cls) -> SessionSchedule:
        """A non-stop schedule (``NonStopSession=Y``)."""
        return cls(non_stop=True)

    @property
    def is_weekly(self) -> bool:
        return not self.non_stop and self.start_day is not None

    # --- queries ------------------------------------------------------------------------------

    def is_in_session(self, now: float) -> bool:
        """True when ``now`` (epoch seconds) falls inside a session period."""
        return self.session_start(now) is not None

    def session_start(self, now: float) -> float | None:
        """The start (epoch seconds) of the period containing ``now``; None when out of session."""
        if self.non_stop:
            return -math.inf
        start_date = self._latest_start_date(now)
        if start_date is None:
            return None
        start, end = self._period(start_date)
        return start if start <= now < end else None

    def is_same_session(self, t1: float, t2: float) -> bool:
        """True when both instants are in session and in the same period.

        False tells the session that state stamped at ``t1`` (e.g. a message store's creation
        time) belongs to an earlier period, so sequence numbers must be reset.
        """
        first = self.session_start(t1)
        return first is not None and first == self.session_start(t2)

    def next_start(self, now: float) -> float | None:
        """The earliest period start strictly after ``now``; None for a non-stop session."""
        if self.non_stop:
            return None
        local_date = self._local_date(now)
        for offset in range(0, 9):
            candidate = local_date + timedelta(days=offset)
            if self._starts_on(candidate):
                start, _ = self._period(candidate)
                if start > now:
                    return start
        raise AssertionError("unreachable: a schedule starts at least once a week")

    def session_end(self, now: float) -> float | None:
        """The end (exclusive, epoch seconds) of the period containing ``now``; None if out."""
        if self.non_stop:
            return math.inf
        start_date = self._latest_start_date(now)
        if start_date is None:
            return None
        start, end = self._period(start_date)
        return end if start <= now < end else None

    # --- helpers ------------------------------------------------------------------------------

    def _local_date(self, now: float) -> date:
        return datetime.fromtimestamp(now, self.tz).date()

    def _starts_on(self, day: date) -> bool:
        if self.start_day is not None:
            return day.weekday() == self.start_day
        return not self.weekdays or day.weekday() in self.weekdays

    def _latest_start_date(self, now: float) -> date | None:
        """The local date of the latest period start at or before ``now``."""
        local_date = self._local_date(now)
        for offset in range(0, 9):
            candidate = local_date - timedelta(days=offset)
            if self._starts_on(candidate) and self._period(candidate)[0] <= now:
                return candidate
        return None

    def _period(self, start_date: date) -> tuple[float, float]:
        """The period starting on ``start_date`` as [start, end) epoch seconds."""
        assert self.start_time is not None and self.end_time is not None
        start = datetime.combine(start_date, self.start_time, self.tz)
        if self.start_day is not None:
            assert self.end_day is not None
            days = (self.end_day - self.start_day) % 7
            if days == 0 and self.end_time <= self.start_time:
                days = 7
        else:
            days = 1 if self.end_time <= self.start_time else 0
        end = datetime.combine(start_date + timedelta(days=days), self.end_time, self.tz)
        full_cycle = self.end_time == self.start_time and days == (7 if self.is_weekly else 1)
        if not full_cycle:  # a full 24-hour/7-day cycle ends exactly where the next one starts
            end += _ONE_SECOND  # otherwise EndTime is inclusive to the second, as in QuickFIX
        return start.timestamp(), end.timestamp()
