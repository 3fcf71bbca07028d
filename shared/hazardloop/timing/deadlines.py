"""The closed loop's clocks as pure data: when each one falls due, and its stable key.

A timer is derived from events alone (a filing and the policy in force, or a deadline
and the ladder copied into its assignment), so a replay derives the same timers, and
its key makes the event that fires it unique in the log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from hazardloop.events import CaseworkPolicy, EscalationStep, SlaClock
from hazardloop.timing.instants import in_utc, in_zone, shifted


class TimerKind(StrEnum):
    ACCEPT = SlaClock.ACCEPT.value
    VERIFY = SlaClock.VERIFY.value
    FEEDBACK = SlaClock.FEEDBACK.value
    OVERDUE = "overdue"
    ESCALATION = "escalation"


SLA_KINDS = frozenset({TimerKind.ACCEPT, TimerKind.VERIFY, TimerKind.FEEDBACK})


@dataclass(frozen=True, slots=True)
class Timer:
    kind: TimerKind
    due_at: datetime
    deadline: datetime | None = None
    step: int | None = None

    @property
    def key(self) -> str:
        if self.kind in SLA_KINDS:
            return self.kind.value
        stamp = in_utc(self.deadline).isoformat() if self.deadline else ""
        return f"{self.kind.value}:{stamp}" if self.step is None else f"{self.kind.value}:{self.step}:{stamp}"


def end_of_day(at: datetime, timezone: str) -> datetime:
    """Midnight after ``at``, where the subsidiary is: what "the same day" means there."""
    zone = ZoneInfo(timezone)
    return shifted(datetime.combine(in_zone(at, zone).date(), time(), tzinfo=zone), timedelta(days=1))


def accept_due(filed_at: datetime, policy: CaseworkPolicy) -> datetime:
    """The same day, local time, unless the policy gives a number of hours."""
    if policy.accept_within_hours is not None:
        return shifted(filed_at, timedelta(hours=policy.accept_within_hours))
    return end_of_day(filed_at, policy.timezone)


def sla_timers(filed_at: datetime, policy: CaseworkPolicy) -> list[Timer]:
    return [
        Timer(TimerKind.ACCEPT, accept_due(filed_at, policy)),
        Timer(TimerKind.VERIFY, shifted(filed_at, timedelta(days=policy.verify_within_days))),
        Timer(TimerKind.FEEDBACK, shifted(filed_at, timedelta(days=policy.feedback_within_days))),
    ]


def deadline_timers(deadline: datetime, ladder: Sequence[EscalationStep]) -> list[Timer]:
    """Overdue at the deadline, then each rung of the ladder so many days later."""
    return [
        Timer(TimerKind.OVERDUE, deadline, deadline=deadline),
        *(
            Timer(TimerKind.ESCALATION, shifted(deadline, timedelta(days=rung.after_days)), deadline=deadline, step=index)
            for index, rung in enumerate(ladder)
        ),
    ]
