"""The moment a point-in-time view shows: typed by a person, or one of the period ends
an auditor asks for most (the end of last month, quarter or year), always in the group's
time zone, so "the end of the quarter" is the end of its last day where the group works.

A moment is inclusive: everything stored at or before it counts. What a person names is
taken to its end: a day means its last instant, a time the end of that second, so a view
asked for again by the time it shows (to the second) shows the same.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PERIOD_ENDS = ("month", "quarter", "year")
"""The ends offered as shortcuts: the last instant of the last whole one of each."""
_LAST_INSTANT = timedelta(microseconds=1)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?$")


class AsOfRefused(ValueError):
    """A moment no view can show; ``reason`` names why (a key of the pages' words)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The last instant of ``day`` in ``zone``."""
    return datetime.combine(day + timedelta(days=1), time.min, zone) - _LAST_INSTANT


def end_of_last(period: str, now: datetime, zone: ZoneInfo) -> datetime:
    """The last instant of the last whole month, quarter or year before ``now`` in ``zone``."""
    today = now.astimezone(zone).date()
    if period == "month":
        first = today.replace(day=1)
    elif period == "quarter":
        first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    elif period == "year":
        first = date(today.year, 1, 1)
    else:
        raise AsOfRefused("as_of_unknown_period")
    return end_of_day(first - timedelta(days=1), zone)


def moment_of(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """The moment ``text`` names: ``last-month``/``last-quarter``/``last-year``, a day
    (its end), or a wall time of the group's zone to the minute or second (the end of
    that second). Refused: anything else, and a moment still to come."""
    text = text.strip()
    if text.startswith("last-") and text[5:] in PERIOD_ENDS:
        moment = end_of_last(text[5:], now, zone)
    elif _DAY.match(text):
        moment = end_of_day(_day(text), zone)
    elif _TIME.match(text):
        try:
            wall = datetime.fromisoformat(text.replace(" ", "T"))
        except ValueError as exc:
            raise AsOfRefused("not_a_time") from exc
        moment = wall.replace(tzinfo=zone) + timedelta(seconds=1) - _LAST_INSTANT
    else:
        raise AsOfRefused("not_a_time")
    if moment > now:
        raise AsOfRefused("as_of_future")
    return moment


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise AsOfRefused("not_a_time") from exc


def wall_time(moment: datetime, zone: ZoneInfo) -> str:
    """The moment as the group's clocks showed it, to the second (what ``moment_of`` reads back)."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
