"""One event of every kind notifications routes, and the report row it is routed against."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hazardloop.events import (
    CheckEscalationRaised,
    CheckTaskOpened,
    CheckTaskOverdue,
    GENESIS_HASH,
    Accepted,
    Audience,
    DigestDue,
    EscalationRaised,
    ExtensionGranted,
    ExtensionRefused,
    ExtensionRequested,
    ExternallyEscalated,
    RectificationAccepted,
    RectificationAssigned,
    RectificationOverdue,
    RectificationPlan,
    RectificationRejected,
    RectificationReminderDue,
    Rectified,
    ReporterFedBack,
    ReporterWrote,
    RewardApproved,
    RewardDeclined,
    RewardGranted,
    RewardProposed,
    RewardReferred,
    SlaBreached,
    StaffWrote,
)
from tests.factories import REPORTER, report_filed, verified

WHEN = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
DEADLINE = WHEN + timedelta(days=7)


def _on(event_type, **payload):
    return event_type.record(prev_hash=GENESIS_HASH, tenant="refinery", aggregate_id="r-1", actor="li", occurred_at=WHEN, **payload)


def report_row(**overrides) -> dict:
    return {
        "report_id": "r-1", "tenant": "refinery", "reporter": REPORTER, "anonymous": False, "receipt_digest": None,
        "category": "unsafe_equipment", "subtype": "safety_device_disabled_or_damaged", "place": "North / Unit 2 / AT-2031",
        "description": "Gas detector alarm disabled", "filed_at": WHEN, "stage": "rectifying", "grade": "major",
        "owner": "maint-wang", "deadline": DEADLINE, "overdue": False, "reward": None,
    } | overrides


def sample_events() -> list:
    filed = report_filed(report_id="r-1")
    reward = {"report_id": "r-1", "reporter": REPORTER}
    plan = RectificationPlan(responsible_person="maint-wang", measures="Replace the detector", funds_fen=120_000, deadline=DEADLINE, emergency_plan="Portable detectors")
    return [
        filed,
        _on(Accepted),
        verified(filed, "confirmed_hazard", "major"),
        verified(filed, "valid_not_hazard", None),
        verified(filed, "not_confirmed", None),
        _on(RectificationAssigned, owner="maint-wang", deadline=DEADLINE, plan=plan),
        _on(ExtensionRequested, requested_deadline=DEADLINE + timedelta(days=3), reason="Parts on order"),
        _on(ExtensionGranted, deadline=DEADLINE + timedelta(days=3)),
        _on(ExtensionRefused, reason="Use the spare"),
        _on(Rectified, measures="Detector replaced"),
        _on(Rectified, measures="Sign put back", on_the_spot=True),
        _on(RectificationRejected, reason="Alarm still silent"),
        _on(RectificationAccepted),
        _on(ReporterFedBack, message="We are on it."),
        _on(ReporterWrote, text="The detector is still off."),
        _on(StaffWrote, text="We replace it today."),
        _on(SlaBreached, clock="verify", due_at=WHEN),
        _on(RectificationOverdue, deadline=DEADLINE, owner="maint-wang"),
        _on(EscalationRaised, step=0, deadline=DEADLINE, due_at=DEADLINE, notify=(Audience.OWNER, Audience.SAFETY_DEPARTMENT)),
        _on(EscalationRaised, step=1, deadline=DEADLINE, due_at=DEADLINE + timedelta(days=3), notify=(Audience.OWNER, Audience.SUBSIDIARY_LEADERSHIP, Audience.GROUP_HQ)),
        _on(ExternallyEscalated, authority="Municipal emergency bureau"),
        _on(RectificationReminderDue, report_id="r-1", owner="maint-wang", deadline=DEADLINE, hours_before=24),
        _on(RewardProposed, **reward, proposer="li", outcome="confirmed_hazard", grade="major", amount_fen=396_000,
            breakdown=({"rule": "base", "detail": "major", "amount_fen": 396_000},), policy="default", cap_fen=500_000),
        _on(RewardReferred, amount_fen=3_000_000, reason="above_cap"),
        _on(RewardApproved, amount_fen=396_000, proposed_fen=396_000, budget_year=2026),
        _on(RewardGranted, **reward, amount_fen=396_050, outcome="confirmed_hazard", grade="major", policy="default", payment_reference="PAY-1", approved_by="head-liu"),
        _on(RewardDeclined, **reward, reason="Nothing due by policy"),
        *check_events(),
    ]


def check_events() -> list:
    """A check's task in the mine, gone overdue and escalated."""
    task = {"prev_hash": GENESIS_HASH, "tenant": "mine", "aggregate_id": "c-1", "actor": "hq", "occurred_at": WHEN}
    return [
        CheckTaskOpened.record(**task, origin_tenant="refinery", report_id="r-1", category="unsafe_equipment", equipment="AT-*",
                               look_for="Bypass switches left on at the alarm panel", deadline=DEADLINE),
        CheckTaskOverdue.record(**task, deadline=DEADLINE),
        CheckEscalationRaised.record(**task, step=0, deadline=DEADLINE, due_at=DEADLINE, notify=(Audience.OWNER, Audience.SAFETY_DEPARTMENT)),
        CheckEscalationRaised.record(**task, step=1, deadline=DEADLINE, due_at=DEADLINE + timedelta(days=3),
                                     notify=(Audience.OWNER, Audience.SUBSIDIARY_LEADERSHIP)),
    ]


def digest_params() -> dict:
    return {
        "report_id": None, "day": "2026-11-03", "filed": 4, "open": 9, "overdue": 2, "awaiting_approval": 1, "awaiting_payment": 1,
        "overdue_reports": [{"report_id": "r-1", "place": "North / Unit 2 / AT-2031", "owner": "maint-wang", "deadline": DEADLINE.isoformat()}],
    }


def digest_event() -> DigestDue:
    return DigestDue.record(prev_hash=GENESIS_HASH, tenant="refinery", aggregate_id="d-2026-11-03", actor="clock", occurred_at=WHEN, day="2026-11-03", since=WHEN - timedelta(days=1))
