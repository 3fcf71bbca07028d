"""Time arithmetic on any time an event can hold, however absurd, never raises."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hazardloop.events import CaseworkPolicy
from hazardloop.timing.deadlines import Timer, TimerKind, deadline_timers, end_of_day
from hazardloop.timing.instants import in_utc, in_zone, shifted

WEST = timezone(timedelta(hours=-5))
LAST = datetime.max.replace(tzinfo=UTC)


def test_ordinary_times_are_untouched():
    at = datetime(2026, 11, 30, 17, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert in_utc(at) == at and in_utc(at).tzinfo is UTC
    assert shifted(at, timedelta(days=3)) == at + timedelta(days=3)


def test_past_the_calendar_time_stands_still_at_its_end():
    assert shifted(datetime(9999, 12, 31, tzinfo=UTC), timedelta(days=3)) == LAST
    assert in_utc(datetime(9999, 12, 31, 23, tzinfo=WEST)) == LAST
    assert in_zone(datetime(9999, 12, 31, 23, tzinfo=UTC), ZoneInfo("Asia/Shanghai")).year == 9999
    assert shifted(datetime(1, 1, 1, tzinfo=UTC), -timedelta(hours=48)) == datetime.min.replace(tzinfo=UTC)
    assert in_utc(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))) == datetime.min.replace(tzinfo=UTC)


def test_a_far_deadline_still_derives_its_clocks():
    deadline = datetime(9999, 12, 31, 23, tzinfo=WEST)
    overdue, *rungs = deadline_timers(deadline, CaseworkPolicy().escalation)
    assert overdue.due_at == deadline and rungs
    assert all(rung.due_at >= deadline for rung in rungs)
    assert max(rung.due_at for rung in rungs) == datetime.max.replace(tzinfo=WEST), "a rung days later than the last day"
    assert overdue.key == f"overdue:{LAST.isoformat()}" == Timer(TimerKind.OVERDUE, deadline, deadline=deadline).key
    assert end_of_day(datetime(9999, 12, 31, 12, tzinfo=UTC), "Asia/Shanghai").year == 9999
