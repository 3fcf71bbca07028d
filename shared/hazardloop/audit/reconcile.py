"""The closed loop, reconciled from the log alone: every report acknowledged, fed back,
verified, rectified or escalated in time, and its reward decided exactly once.

The clocks are recomputed here from the filing and the casework policy in force then
(the same rules verification's timers use), not read from what verification recorded,
so a clock that never fired is an exception too. A step still within its time is not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from hazardloop.audit.checks import CHECK_TYPES, reconcile_checks
from hazardloop.audit.payouts import REWARD_TYPES, Finding, reconcile_rewards
from hazardloop.events import (
    Accepted,
    CaseworkPolicy,
    CaseworkPolicySet,
    EscalationRaised,
    Event,
    ExtensionGranted,
    Grade,
    Outcome,
    RectificationAccepted,
    RectificationAssigned,
    RectificationOverdue,
    RectificationRejected,
    Rectified,
    ReporterFedBack,
    ReportFiled,
    Verified,
)
from hazardloop.timing.deadlines import accept_due

REPORT_TYPES = tuple(kind.model_fields["type"].default for kind in (
    CaseworkPolicySet, ReportFiled, Accepted, Verified, ReporterFedBack, RectificationAssigned, ExtensionGranted,
    Rectified, RectificationAccepted, RectificationRejected, RectificationOverdue, EscalationRaised,
))  # fmt: skip
RECONCILE_TYPES = tuple(sorted({*REPORT_TYPES, *REWARD_TYPES, *CHECK_TYPES}))


@dataclass
class _Case:
    sequence: int
    filed_at: datetime
    policy: CaseworkPolicy
    acknowledged: datetime | None = None
    verified: tuple[int, datetime, Outcome, Grade | None] | None = None
    fed_back: datetime | None = None
    deadline: datetime | None = None
    closed: datetime | None = None
    rectified: datetime | None = None
    """Work submitted for review (and not rejected since): the deadline's clock holds."""
    escalated: datetime | None = None
    last: int = 0


def reconcile_reports(log: Iterable[tuple[int, Event]], now: datetime) -> list[Finding]:
    """The exceptions to the closed loop as of ``now``, one per report and rule."""
    policies: dict[str, CaseworkPolicy] = {}
    cases: dict[tuple[str, str], _Case] = {}
    for sequence, event in log:
        if isinstance(event, CaseworkPolicySet):
            policies[event.tenant] = event.policy
            continue
        if isinstance(event, ReportFiled):
            cases[(event.tenant, event.aggregate_id)] = _Case(sequence, event.occurred_at, policies.get(event.tenant, CaseworkPolicy()))
            continue
        case = cases.get((event.tenant, event.aggregate_id))
        if case is None:
            continue
        case.last = sequence
        at = event.occurred_at
        match event:
            case Accepted():
                case.acknowledged = case.acknowledged or at
            case Verified():
                case.acknowledged = case.acknowledged or at
                case.fed_back = case.fed_back or at  # the outcome is told to the reporter
                case.verified = case.verified or (sequence, at, event.outcome, event.grade)
            case ReporterFedBack():
                case.fed_back = case.fed_back or at
            case RectificationAssigned() | ExtensionGranted():
                case.deadline, case.escalated = event.deadline, None  # a new deadline: its own clocks
            case Rectified() if event.on_the_spot:
                case.closed = at
            case Rectified():
                case.rectified = at
            case RectificationRejected():
                case.rectified = None
            case RectificationAccepted():
                case.closed = at
            case RectificationOverdue() | EscalationRaised():
                case.escalated = case.escalated or at
    return [finding for key, case in sorted(cases.items()) for finding in _exceptions(key, case, now)]


def _late(step: str, done: datetime | None, due: datetime, now: datetime) -> str | None:
    if done is None:
        return f"not {step}: due {due.isoformat()}" if now > due else None
    if done > due:
        return f"{step} late: at {done.isoformat()}, due {due.isoformat()}"
    return None


def _exceptions(key: tuple[str, str], case: _Case, now: datetime) -> Iterable[Finding]:
    tenant, report_id = key
    policy = case.policy
    checks = (
        ("acknowledged", case.acknowledged, accept_due(case.filed_at, policy)),
        ("verified", case.verified[1] if case.verified else None, case.filed_at + timedelta(days=policy.verify_within_days)),
        ("fed back", case.fed_back, case.filed_at + timedelta(days=policy.feedback_within_days)),
    )
    for step, done, due in checks:
        problem = _late(step, done, due, now)
        if problem:
            yield Finding(f"not {step}" if done is None else f"{step} late", tenant, report_id, case.sequence, problem)
    if case.verified is None or case.verified[2] != Outcome.CONFIRMED_HAZARD or case.closed is not None:
        return
    sequence, verified_at, _, grade = case.verified
    if case.deadline is None:
        allowed = verified_at + timedelta(days=getattr(policy.deadline_days, grade.value if grade else "general"))
        if now > allowed:
            yield Finding("no rectification", tenant, report_id, sequence, f"a confirmed hazard, never assigned nor fixed (verified {verified_at.isoformat()})")
    elif now > case.deadline and case.escalated is None and not (case.rectified is not None and case.rectified <= case.deadline):
        yield Finding("overdue, not escalated", tenant, report_id, case.last, f"deadline {case.deadline.isoformat()} passed, not rectified, no escalation recorded")


def reconcile_all(log: Iterable[tuple[int, Event]], now: datetime) -> list[Finding]:
    """Report, reward and check exceptions, in one pass over the events."""
    events = list(log)
    reward_types, check_types = set(REWARD_TYPES), set(CHECK_TYPES)
    return [
        *reconcile_reports(events, now),
        *reconcile_rewards((s, e) for s, e in events if e.type in reward_types),
        *reconcile_checks([(s, e) for s, e in events if e.type in check_types], now),
    ]
