"""Verification's own metrics: the report and check-task clocks its timekeeper fires."""

from __future__ import annotations

from hazardloop.runtime.storegauges import StoreGauge, timers_due
from hazardloop.timing.clock import Clock
from hazardloop_verification import check_projection, projection
from hazardloop_verification.store import check_timers, timers


def gauges(clock: Clock) -> list[StoreGauge]:
    return timers_due(
        clock.now,
        {
            "report": (timers.c.due_at, timers.c.status == projection.PENDING),
            "check": (check_timers.c.due_at, check_timers.c.status == check_projection.PENDING),
        },
    )
