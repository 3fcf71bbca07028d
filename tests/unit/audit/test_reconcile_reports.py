"""The closed loop's rules, recomputed from events alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hazardloop.audit.reconcile import reconcile_reports
from hazardloop.events import (
    Accepted,
    ExtensionGranted,
    RectificationAssigned,
    RectificationOverdue,
    RectificationRejected,
    Rectified,
    ReporterFedBack,
)
from tests.factories import report_filed, verified

FILED_AT = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: accept by midnight there


def _filed():
    return report_filed(occurred_at=FILED_AT)


def follow(event, kind, at, **payload):
    return kind.record(prev_hash=event.hash, tenant=event.tenant, aggregate_id=event.aggregate_id, actor="x", occurred_at=at, **payload)


def kinds(events, now):
    return {f.kind for f in reconcile_reports(list(enumerate(events, start=1)), now)}


def test_a_report_still_within_its_times_is_no_exception():
    filed = _filed()
    assert kinds([filed], FILED_AT + timedelta(hours=1)) == set()


def test_nothing_done_in_time_is_named_step_by_step():
    filed = _filed()
    assert kinds([filed], FILED_AT + timedelta(days=8)) == {"not acknowledged", "not verified", "not fed back"}


def test_late_steps_are_exceptions_even_once_done():
    filed = _filed()
    accepted = follow(filed, Accepted, FILED_AT + timedelta(days=1))
    check = verified(filed, occurred_at=FILED_AT + timedelta(days=4))  # reconciliation reads times, not chains
    assert kinds([filed, accepted, check], FILED_AT + timedelta(days=5)) >= {"acknowledged late", "verified late"}


def test_feedback_without_verification_counts():
    filed = _filed()
    told = follow(filed, ReporterFedBack, FILED_AT + timedelta(days=2), message="In hand; the unit is checking it.")
    assert "not fed back" not in kinds([filed, told], FILED_AT + timedelta(days=8))


def test_an_overdue_hazard_must_be_escalated():
    filed = _filed()
    check = verified(filed, occurred_at=FILED_AT + timedelta(hours=1))
    deadline = FILED_AT + timedelta(days=2)
    assigned = follow(check, RectificationAssigned, FILED_AT + timedelta(hours=2), owner="maint-chen", deadline=deadline)
    log = [filed, check, assigned]
    assert kinds(log, deadline + timedelta(days=1)) == {"overdue, not escalated"}
    overdue = follow(assigned, RectificationOverdue, deadline, deadline=deadline, owner="maint-chen")
    assert kinds([*log, overdue], deadline + timedelta(days=1)) == set()


def test_a_confirmed_hazard_never_assigned_is_an_exception():
    filed = _filed()
    check = verified(filed, occurred_at=FILED_AT + timedelta(hours=1))
    assert kinds([filed, check], FILED_AT + timedelta(days=3)) == {"no rectification"}


def test_work_submitted_by_the_deadline_is_no_exception_until_it_is_sent_back():
    filed = _filed()
    check = verified(filed, occurred_at=FILED_AT + timedelta(hours=1))
    deadline = FILED_AT + timedelta(days=2)
    assigned = follow(check, RectificationAssigned, FILED_AT + timedelta(hours=2), owner="maint-chen", deadline=deadline)
    done = follow(assigned, Rectified, deadline - timedelta(hours=1), measures="Rail fitted")
    assert kinds([filed, check, assigned, done], deadline + timedelta(days=1)) == set(), "reviewed after the deadline is not late"
    sent_back = follow(done, RectificationRejected, deadline + timedelta(hours=2), reason="Not anchored")
    assert kinds([filed, check, assigned, done, sent_back], deadline + timedelta(days=1)) == {"overdue, not escalated"}


def test_an_escalation_of_an_old_deadline_does_not_cover_the_new_one():
    filed = _filed()
    check = verified(filed, occurred_at=FILED_AT + timedelta(hours=1))
    first = FILED_AT + timedelta(days=2)
    assigned = follow(check, RectificationAssigned, FILED_AT + timedelta(hours=2), owner="maint-chen", deadline=first)
    overdue = follow(assigned, RectificationOverdue, first, deadline=first, owner="maint-chen")
    later = first + timedelta(days=5)
    extended = follow(overdue, ExtensionGranted, first + timedelta(hours=3), deadline=later)
    assert kinds([filed, check, assigned, overdue, extended], later + timedelta(days=1)) == {"overdue, not escalated"}
