"""Checks elsewhere reconciled from events alone: every addressed subsidiary has its task,
and each task an answer or, past its deadline, an escalation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hazardloop.audit.reconcile import RECONCILE_TYPES, reconcile_all
from hazardloop.events import (
    GENESIS_HASH,
    CheckAnswered,
    CheckEscalationRaised,
    CheckExtensionGranted,
    CheckRaised,
    CheckTaskOpened,
    CheckTaskOverdue,
)

RAISED_AT = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
DEADLINE = RAISED_AT + timedelta(days=15)
ADDRESSED = ("mine", "steelmill", "chemicals")


def check_log(*, forgotten: str | None = None) -> list:
    """A check on a refinery report, addressed to three subsidiaries, each given its task
    (but ``forgotten``'s, which never made it into the log)."""
    raised = CheckRaised.record(
        prev_hash=GENESIS_HASH, tenant="refinery", aggregate_id="c-1", actor="hq", occurred_at=RAISED_AT, report_id="r-1",
        grade="major", category="unsafe_equipment", look_for="Detectors bypassed", subsidiaries=ADDRESSED,
    )
    tasks = [
        CheckTaskOpened.record(
            prev_hash=GENESIS_HASH, tenant=tenant, aggregate_id="c-1", actor="hq", occurred_at=RAISED_AT, origin_tenant="refinery",
            report_id="r-1", category="unsafe_equipment", look_for="Detectors bypassed", deadline=DEADLINE,
        )
        for tenant in ADDRESSED if tenant != forgotten
    ]
    return [raised, *tasks]


def then(task, kind, at, **payload):
    return kind.record(prev_hash=task.hash, tenant=task.tenant, aggregate_id=task.aggregate_id, actor="x", occurred_at=at, **payload)


def findings(events, now):
    return {(f.kind, f.tenant) for f in reconcile_all(list(enumerate(events, start=1)), now)}


def test_a_subsidiary_whose_task_is_missing_from_the_log_is_reported_at_once():
    events = check_log(forgotten="steelmill")
    assert findings(events, RAISED_AT + timedelta(hours=1)) == {("check task missing", "steelmill")}
    [finding] = reconcile_all(list(enumerate(events, start=1)), RAISED_AT)
    assert finding.report_id == "r-1" and finding.sequence == 1 and "c-1" in finding.detail


def test_tasks_within_their_time_answered_or_escalated_are_no_exception():
    _, mine, steel, chemicals = events = check_log()
    assert findings(events, RAISED_AT + timedelta(days=1)) == set()
    events += [
        then(mine, CheckAnswered, RAISED_AT + timedelta(days=2), answer="not_present"),
        then(steel, CheckAnswered, RAISED_AT + timedelta(days=3), answer="found", found_report_id="r-9"),
        then(chemicals, CheckTaskOverdue, DEADLINE, deadline=DEADLINE),
        then(chemicals, CheckEscalationRaised, DEADLINE, step=0, deadline=DEADLINE, due_at=DEADLINE, notify=("safety_department",)),
    ]
    assert findings(events, DEADLINE + timedelta(days=30)) == set()


def test_an_unanswered_task_past_its_deadline_without_escalation_is_an_exception_until_more_time_is_given():
    _, mine, steel, chemicals = events = check_log()
    events += [then(mine, CheckAnswered, RAISED_AT, answer="not_present"), then(steel, CheckAnswered, RAISED_AT, answer="not_present")]
    assert findings(events, DEADLINE + timedelta(hours=1)) == {("check overdue, not escalated", "chemicals")}
    events.append(then(chemicals, CheckExtensionGranted, RAISED_AT + timedelta(days=5), deadline=DEADLINE + timedelta(days=10)))
    assert findings(events, DEADLINE + timedelta(hours=1)) == set()


def test_the_audit_reads_the_check_events():
    assert {"CheckRaised", "CheckTaskOpened", "CheckAnswered", "CheckTaskOverdue"} <= set(RECONCILE_TYPES)
