"""The moment a point-in-time view shows, read from what a person asked for, in the group's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hazardloop.timing.asof import AsOfRefused, end_of_last, moment_of, wall_time

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def test_the_end_of_last_quarter_is_the_last_instant_of_its_last_day_where_the_group_works():
    # 1 October, half past midnight in Shanghai: still 30 September in UTC, yet the quarter has ended there
    just_after = datetime(2026, 9, 30, 16, 30, tzinfo=UTC)
    end = end_of_last("quarter", just_after, SHANGHAI)
    assert end == datetime(2026, 9, 30, 23, 59, 59, 999999, tzinfo=SHANGHAI)
    assert end.astimezone(UTC) == datetime(2026, 9, 30, 15, 59, 59, 999999, tzinfo=UTC)
    # the same UTC instant in London is still in the third quarter: its last ended in June
    assert end_of_last("quarter", just_after, ZoneInfo("Europe/London")) == datetime(2026, 6, 30, 23, 59, 59, 999999,
                                                                                       tzinfo=ZoneInfo("Europe/London"))
    # and half an hour earlier in Shanghai (23:30 on 30 September) the third quarter has not ended yet
    assert end_of_last("quarter", just_after - timedelta(hours=1), SHANGHAI).date() == datetime(2026, 6, 30).date()


@pytest.mark.parametrize(("now", "period", "end"), [
    (datetime(2026, 1, 15, tzinfo=SHANGHAI), "quarter", datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=SHANGHAI)),
    (datetime(2026, 1, 15, tzinfo=SHANGHAI), "month", datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=SHANGHAI)),
    (datetime(2026, 3, 1, tzinfo=SHANGHAI), "month", datetime(2026, 2, 28, 23, 59, 59, 999999, tzinfo=SHANGHAI)),
    (datetime(2026, 5, 20, tzinfo=SHANGHAI), "quarter", datetime(2026, 3, 31, 23, 59, 59, 999999, tzinfo=SHANGHAI)),
    (datetime(2026, 12, 31, 23, 59, tzinfo=SHANGHAI), "year", datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=SHANGHAI)),
    (datetime(2027, 1, 1, 0, 0, tzinfo=SHANGHAI), "year", datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=SHANGHAI)),
])
def test_each_period_end_offered(now, period, end):
    assert end_of_last(period, now, SHANGHAI) == end


def test_a_day_means_its_end_and_a_time_the_end_of_its_second_in_the_groups_zone():
    assert moment_of("2026-09-30", NOW, SHANGHAI) == datetime(2026, 9, 30, 23, 59, 59, 999999, tzinfo=SHANGHAI)
    assert moment_of("2026-09-30T18:05", NOW, SHANGHAI) == datetime(2026, 9, 30, 18, 5, 0, 999999, tzinfo=SHANGHAI)
    assert moment_of("2026-09-30 18:05:07", NOW, SHANGHAI) == datetime(2026, 9, 30, 18, 5, 7, 999999, tzinfo=SHANGHAI)
    assert moment_of("last-quarter", NOW, SHANGHAI) == end_of_last("quarter", NOW, SHANGHAI)


def test_a_moment_shown_and_asked_for_again_is_the_same_moment():
    for asked in ("2026-09-30", "2026-11-02T08:15:42", "last-month", "last-year"):
        moment = moment_of(asked, NOW, SHANGHAI)
        assert moment_of(wall_time(moment, SHANGHAI), NOW, SHANGHAI) == moment


@pytest.mark.parametrize("asked", ["", "yesterday", "2026-13-01", "2026-02-30", "2026-09-30T25:00", "30/09/2026",
                                   "2026-09-30T18:00+08:00", "last-week", "9" * 400])
def test_what_names_no_moment_is_refused_by_name(asked):
    with pytest.raises(AsOfRefused) as refused:
        moment_of(asked, NOW, SHANGHAI)
    assert refused.value.reason == "not_a_time"


def test_a_moment_still_to_come_is_refused_even_later_today():
    today = NOW.astimezone(SHANGHAI).date().isoformat()
    for asked in (today, "2027-01-01", wall_time(NOW + timedelta(seconds=1), SHANGHAI)):
        with pytest.raises(AsOfRefused) as refused:
            moment_of(asked, NOW, SHANGHAI)
        assert refused.value.reason == "as_of_future"
    assert moment_of(wall_time(NOW - timedelta(seconds=1), SHANGHAI), NOW, SHANGHAI) < NOW
