"""SessionSchedule: daily, overnight, weekly, Weekdays, time zones with DST, period identity."""

from __future__ import annotations

import math
from datetime import UTC, datetime, time, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fix_engine.session.schedule import SessionSchedule, parse_day, parse_time, parse_weekdays

NY = ZoneInfo("America/New_York")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def ts(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: float = 0, tz: tzinfo = UTC
) -> float:
    whole = int(second)
    micro = round((second - whole) * 1_000_000)
    return datetime(year, month, day, hour, minute, whole, micro, tzinfo=tz).timestamp()


# 2024-06-03 is a Monday; 2024-03-10 and 2024-11-03 are the US DST switches (Sundays).


class TestParsing:
    @pytest.mark.parametrize(
        ("text", "day"),
        [("Sunday", SUN), ("sun", SUN), ("SU", SUN), ("monday", MON), ("Tue", TUE), ("tues", TUE),
         ("WEDNESDAY", WED), ("thu", THU), ("Thurs", THU), ("fri", FRI), ("Sa", SAT), (" Sat ", SAT)],
    )  # fmt: skip
    def test_day_names(self, text: str, day: int) -> None:
        assert parse_day(text) == day

    @pytest.mark.parametrize("text", ["", "s", "t", "Funday", "sundays", "7", "mon,tue"])
    def test_bad_day_names(self, text: str) -> None:
        with pytest.raises(ValueError, match="is not a day of the week"):
            parse_day(text)

    def test_times(self) -> None:
        assert parse_time("00:00:00") == time(0, 0, 0)
        assert parse_time(" 23:59:59 ") == time(23, 59, 59)

    @pytest.mark.parametrize(
        "text", ["8:00:00", "08:00", "24:00:00", "12:60:00", "12:00:60", "aa:bb:cc", "12:00:00.5"]
    )
    def test_bad_times(self, text: str) -> None:
        with pytest.raises(ValueError, match=r"is not a time of day \(HH:MM:SS\)"):
            parse_time(text)

    def test_weekdays(self) -> None:
        assert parse_weekdays("Mon, tue,Friday") == frozenset({MON, TUE, FRI})
        with pytest.raises(ValueError, match="lists no days"):
            parse_weekdays(" , ")
        with pytest.raises(ValueError, match="'Xyz' is not a day"):
            parse_weekdays("Mon,Xyz")

    def test_constructor_checks(self) -> None:
        with pytest.raises(ValueError, match="both StartTime and EndTime"):
            SessionSchedule(start_time=time(8))
        with pytest.raises(ValueError, match="StartDay and EndDay go together"):
            SessionSchedule(start_time=time(8), end_time=time(17), start_day=MON)
        with pytest.raises(ValueError, match="Weekdays cannot be combined"):
            SessionSchedule(time(8), time(17), MON, FRI, weekdays=frozenset({MON}))
        with pytest.raises(ValueError, match="not in 0..6"):
            SessionSchedule(time(8), time(17), weekdays=frozenset({7}))


class TestDaily:
    schedule = SessionSchedule(start_time=time(8), end_time=time(17))

    def test_in_and_out(self) -> None:
        s = self.schedule
        assert not s.is_in_session(ts(2024, 6, 3, 7, 59, 59.999))
        assert s.is_in_session(ts(2024, 6, 3, 8))
        assert s.is_in_session(ts(2024, 6, 3, 12))
        assert s.is_in_session(ts(2024, 6, 3, 17, 0, 0.999))  # EndTime is inclusive to the second
        assert not s.is_in_session(ts(2024, 6, 3, 17, 0, 1))
        assert s.is_in_session(ts(2024, 6, 8, 12))  # every day, weekends too

    def test_session_start_and_end(self) -> None:
        s = self.schedule
        assert s.session_start(ts(2024, 6, 3, 12)) == ts(2024, 6, 3, 8)
        assert s.session_end(ts(2024, 6, 3, 12)) == ts(2024, 6, 3, 17, 0, 1)
        assert s.session_start(ts(2024, 6, 3, 18)) is None
        assert s.session_end(ts(2024, 6, 3, 18)) is None

    def test_next_start(self) -> None:
        s = self.schedule
        assert s.next_start(ts(2024, 6, 3, 7)) == ts(2024, 6, 3, 8)
        assert s.next_start(ts(2024, 6, 3, 8)) == ts(2024, 6, 4, 8)  # strictly after
        assert s.next_start(ts(2024, 6, 3, 18)) == ts(2024, 6, 4, 8)

    def test_same_session(self) -> None:
        s = self.schedule
        assert s.is_same_session(ts(2024, 6, 3, 8), ts(2024, 6, 3, 17))
        assert not s.is_same_session(ts(2024, 6, 3, 16), ts(2024, 6, 4, 9))  # across a period boundary
        assert not s.is_same_session(ts(2024, 6, 3, 18), ts(2024, 6, 3, 18))  # out of session


class TestOvernight:
    schedule = SessionSchedule(start_time=time(22), end_time=time(6))

    def test_in_and_out(self) -> None:
        s = self.schedule
        assert s.is_in_session(ts(2024, 6, 3, 23))
        assert s.is_in_session(ts(2024, 6, 4, 3))
        assert s.is_in_session(ts(2024, 6, 4, 0))
        assert not s.is_in_session(ts(2024, 6, 4, 12))
        assert not s.is_in_session(ts(2024, 6, 4, 21, 59, 59))
        assert not s.is_in_session(ts(2024, 6, 4, 6, 0, 1))

    def test_periods(self) -> None:
        s = self.schedule
        assert s.session_start(ts(2024, 6, 4, 3)) == ts(2024, 6, 3, 22)
        assert s.is_same_session(ts(2024, 6, 3, 23), ts(2024, 6, 4, 5))
        assert not s.is_same_session(ts(2024, 6, 4, 3), ts(2024, 6, 4, 23))
        assert s.next_start(ts(2024, 6, 4, 3)) == ts(2024, 6, 4, 22)

    def test_start_equals_end_is_a_24_hour_period(self) -> None:
        s = SessionSchedule(start_time=time(0), end_time=time(0))
        for hour in range(24):
            assert s.is_in_session(ts(2024, 6, 3, hour, 30))
        assert s.is_same_session(ts(2024, 6, 3, 0), ts(2024, 6, 3, 23, 59, 59.9))
        assert not s.is_same_session(ts(2024, 6, 3, 23, 59, 59.9), ts(2024, 6, 4, 0))
        assert s.session_start(ts(2024, 6, 4, 0)) == ts(2024, 6, 4, 0)


class TestWeekly:
    # The FX week: Sunday 17:00 New York to Friday 17:00 New York.
    fx = SessionSchedule(start_time=time(17), end_time=time(17), start_day=SUN, end_day=FRI, tz=NY)

    def test_in_and_out(self) -> None:
        s = self.fx
        assert not s.is_in_session(ts(2024, 6, 1, 12, tz=NY))  # Saturday
        assert not s.is_in_session(ts(2024, 6, 2, 16, 59, 59, tz=NY))  # Sunday before the open
        assert s.is_in_session(ts(2024, 6, 2, 17, tz=NY))
        assert s.is_in_session(ts(2024, 6, 5, 3, tz=NY))  # Wednesday night
        assert s.is_in_session(ts(2024, 6, 7, 17, 0, 0.5, tz=NY))  # Friday close, inclusive
        assert not s.is_in_session(ts(2024, 6, 7, 17, 0, 1, tz=NY))

    def test_periods(self) -> None:
        s = self.fx
        assert s.session_start(ts(2024, 6, 5, 12, tz=NY)) == ts(2024, 6, 2, 17, tz=NY)
        assert s.is_same_session(ts(2024, 6, 3, 9, tz=NY), ts(2024, 6, 6, 9, tz=NY))
        assert not s.is_same_session(ts(2024, 6, 7, 9, tz=NY), ts(2024, 6, 10, 9, tz=NY))
        assert s.next_start(ts(2024, 6, 5, 12, tz=NY)) == ts(2024, 6, 9, 17, tz=NY)
        assert s.next_start(ts(2024, 6, 1, 12, tz=NY)) == ts(2024, 6, 2, 17, tz=NY)

    def test_crossing_the_week_end(self) -> None:
        # Friday 18:00 to Monday 06:00: runs over Saturday and Sunday into the next week.
        s = SessionSchedule(start_time=time(18), end_time=time(6), start_day=FRI, end_day=MON)
        assert s.is_in_session(ts(2024, 6, 8, 12))  # Saturday
        assert s.is_in_session(ts(2024, 6, 10, 5))  # Monday morning
        assert not s.is_in_session(ts(2024, 6, 10, 7))
        assert not s.is_in_session(ts(2024, 6, 5, 12))  # Wednesday
        assert s.session_start(ts(2024, 6, 10, 5)) == ts(2024, 6, 7, 18)

    def test_same_day_with_start_after_end_is_almost_a_week(self) -> None:
        # Sunday 18:00 to the next Sunday 17:00: out of session only for an hour a week.
        s = SessionSchedule(start_time=time(18), end_time=time(17), start_day=SUN, end_day=SUN)
        assert s.is_in_session(ts(2024, 6, 5, 12))
        assert s.is_in_session(ts(2024, 6, 9, 17, 0, 0.5))
        assert not s.is_in_session(ts(2024, 6, 9, 17, 30))
        assert s.session_start(ts(2024, 6, 9, 17)) == ts(2024, 6, 2, 18)
        assert s.session_start(ts(2024, 6, 9, 18)) == ts(2024, 6, 9, 18)

    def test_same_day_with_start_before_end_is_one_day(self) -> None:
        s = SessionSchedule(start_time=time(9), end_time=time(17), start_day=WED, end_day=WED)
        assert s.is_in_session(ts(2024, 6, 5, 12))
        assert not s.is_in_session(ts(2024, 6, 6, 12))
        assert s.next_start(ts(2024, 6, 5, 12)) == ts(2024, 6, 12, 9)

    def test_whole_week(self) -> None:
        s = SessionSchedule(start_time=time(17), end_time=time(17), start_day=SUN, end_day=SUN)
        assert s.is_in_session(ts(2024, 6, 9, 16, 59, 59.9))
        assert s.session_start(ts(2024, 6, 9, 17)) == ts(2024, 6, 9, 17)
        assert not s.is_same_session(ts(2024, 6, 9, 16, 59, 59.9), ts(2024, 6, 9, 17))


class TestWeekdays:
    equities = SessionSchedule(
        start_time=time(9, 30), end_time=time(16), weekdays=frozenset({MON, TUE, WED, THU, FRI}), tz=NY
    )

    def test_only_on_listed_days(self) -> None:
        s = self.equities
        assert s.is_in_session(ts(2024, 6, 3, 10, tz=NY))  # Monday
        assert s.is_in_session(ts(2024, 6, 7, 15, tz=NY))  # Friday
        assert not s.is_in_session(ts(2024, 6, 8, 10, tz=NY))  # Saturday
        assert not s.is_in_session(ts(2024, 6, 9, 10, tz=NY))  # Sunday
        assert s.next_start(ts(2024, 6, 7, 17, tz=NY)) == ts(2024, 6, 10, 9, 30, tz=NY)
        assert not s.is_same_session(ts(2024, 6, 3, 10, tz=NY), ts(2024, 6, 4, 10, tz=NY))

    def test_overnight_counts_from_the_start_day(self) -> None:
        s = SessionSchedule(start_time=time(22), end_time=time(6), weekdays=frozenset({MON}))
        assert s.is_in_session(ts(2024, 6, 3, 23))  # Monday night
        assert s.is_in_session(ts(2024, 6, 4, 3))  # ... into Tuesday
        assert not s.is_in_session(ts(2024, 6, 3, 3))  # Monday early: Sunday is not listed
        assert not s.is_in_session(ts(2024, 6, 4, 23))  # Tuesday night
        assert s.next_start(ts(2024, 6, 4, 3)) == ts(2024, 6, 10, 22)


class TestTimeZones:
    def test_new_york_open_follows_dst(self) -> None:
        s = SessionSchedule(start_time=time(9, 30), end_time=time(16), tz=NY)
        # Summer (EDT, UTC-4): 09:30 New York is 13:30 UTC.
        assert s.session_start(ts(2024, 7, 1, 14)) == ts(2024, 7, 1, 13, 30)
        assert not s.is_in_session(ts(2024, 7, 1, 13, 29))
        assert not s.is_in_session(ts(2024, 7, 1, 20, 1))
        # Winter (EST, UTC-5): 09:30 New York is 14:30 UTC.
        assert s.session_start(ts(2024, 1, 8, 15)) == ts(2024, 1, 8, 14, 30)
        assert not s.is_in_session(ts(2024, 1, 8, 14, 29))
        assert s.is_in_session(ts(2024, 1, 8, 20, 30))

    def test_period_across_spring_forward_is_23_hours(self) -> None:
        s = SessionSchedule(start_time=time(17), end_time=time(17), tz=NY)
        # Saturday 2024-03-09 17:00 EST = 22:00 UTC; Sunday 2024-03-10 17:00 EDT = 21:00 UTC.
        start = s.session_start(ts(2024, 3, 10, 12))
        assert start == ts(2024, 3, 9, 22)
        assert s.session_start(ts(2024, 3, 10, 21)) == ts(2024, 3, 10, 21)
        assert s.is_same_session(ts(2024, 3, 10, 20, 59, 59), ts(2024, 3, 9, 22))
        assert not s.is_same_session(ts(2024, 3, 10, 20, 59, 59), ts(2024, 3, 10, 21))
        assert s.session_end(ts(2024, 3, 10, 12)) == ts(2024, 3, 10, 21)

    def test_period_across_fall_back_is_25_hours(self) -> None:
        s = SessionSchedule(start_time=time(17), end_time=time(17), tz=NY)
        # Saturday 2024-11-02 17:00 EDT = 21:00 UTC; Sunday 2024-11-03 17:00 EST = 22:00 UTC.
        assert s.session_start(ts(2024, 11, 3, 21, 30)) == ts(2024, 11, 2, 21)
        assert s.session_end(ts(2024, 11, 3, 21, 30)) == ts(2024, 11, 3, 22)
        assert s.session_start(ts(2024, 11, 3, 22)) == ts(2024, 11, 3, 22)

    def test_local_time_is_just_a_zone(self) -> None:
        london = ZoneInfo("Europe/London")
        s = SessionSchedule(start_time=time(8), end_time=time(16, 30), tz=london)
        assert s.session_start(ts(2024, 7, 1, 12)) == ts(2024, 7, 1, 7)  # BST, UTC+1
        assert s.session_start(ts(2024, 1, 8, 12)) == ts(2024, 1, 8, 8)  # GMT


class TestNonStop:
    def test_always_one_period(self) -> None:
        s = SessionSchedule.always()
        assert s.is_in_session(0.0)
        assert s.is_in_session(ts(2099, 12, 31, 23, 59, 59))
        assert s.is_same_session(0.0, ts(2099, 1, 1))
        assert s.session_start(ts(2024, 6, 3)) == -math.inf
        assert s.next_start(ts(2024, 6, 3)) is None


SCHEDULES = [
    SessionSchedule(start_time=time(8), end_time=time(17)),
    SessionSchedule(start_time=time(22), end_time=time(6), tz=NY),
    SessionSchedule(start_time=time(17), end_time=time(17), tz=NY),
    SessionSchedule(start_time=time(2, 30), end_time=time(1, 30), tz=NY),  # starts inside the spring gap
    SessionSchedule(start_time=time(17), end_time=time(17), start_day=SUN, end_day=FRI, tz=NY),
    SessionSchedule(start_time=time(18), end_time=time(17), start_day=SUN, end_day=SUN),
    SessionSchedule(start_time=time(22), end_time=time(6), weekdays=frozenset({MON, WED, FRI}), tz=NY),
]


@given(
    schedule=st.sampled_from(SCHEDULES),
    now=st.floats(min_value=ts(2020, 1, 1), max_value=ts(2030, 1, 1), allow_nan=False),
)
def test_period_invariants(schedule: SessionSchedule, now: float) -> None:
    start = schedule.session_start(now)
    nxt = schedule.next_start(now)
    assert nxt is not None and nxt > now
    assert schedule.session_start(nxt) == nxt  # a period starts where next_start says
    if start is None:
        assert schedule.session_end(now) is None
        return
    end = schedule.session_end(now)
    assert end is not None
    assert start <= now < end <= nxt  # periods never overlap
    assert schedule.session_start(start) == start
    assert schedule.is_same_session(start, now)
    assert schedule.session_start(end) != start  # the period is over at its end
