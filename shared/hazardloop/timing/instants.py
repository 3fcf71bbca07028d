"""Time arithmetic that saturates instead of overflowing.

A stored event is never rewritten, so a projection must apply every time an event can
carry, however absurd (a deadline of 9999-12-31 accepted before requests were bounded):
past the last instant Python can represent, time stands still at that instant instead
of raising ``OverflowError`` and dead-lettering the event.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo


def in_zone(at: datetime, zone: tzinfo) -> datetime:
    """``at`` as the wall time of ``zone``; the calendar's first or last instant beyond it."""
    try:
        return at.astimezone(zone)
    except OverflowError:
        return (datetime.max if at.year > 1 else datetime.min).replace(tzinfo=zone)


def in_utc(at: datetime) -> datetime:
    return in_zone(at, UTC)


def shifted(at: datetime, delta: timedelta) -> datetime:
    """``at + delta``, or the calendar's first or last instant (in ``at``'s zone) beyond it."""
    try:
        return at + delta
    except OverflowError:
        return (datetime.max if delta > timedelta(0) else datetime.min).replace(tzinfo=at.tzinfo)
