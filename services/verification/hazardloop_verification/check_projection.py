"""Verification's read model of checks elsewhere: the checks, each subsidiary's task, their clocks.

Derived from events alone, in log order, so a replay rebuilds the same rows and clocks.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from hazardloop.events import (
    CheckAnswered,
    CheckClosed,
    CheckEscalationRaised,
    CheckExtensionGranted,
    CheckExtensionRefused,
    CheckExtensionRequested,
    CheckRaised,
    CheckTaskOpened,
    CheckTaskOverdue,
    EscalationStep,
)
from hazardloop.privacy.sealing import text_token
from hazardloop.projections import Writer
from hazardloop.timing.deadlines import Timer, TimerKind, deadline_timers
from hazardloop_verification.store import check_tasks, check_timers, checks

PENDING, FIRED, STOPPED = "pending", "fired", "stopped"


def _start(db: Writer, tenant: str, check_id: str, timer: Timer) -> None:
    db.insert(
        check_timers, check_id=check_id, tenant=tenant, key=timer.key, kind=timer.kind.value, due_at=timer.due_at,
        deadline=timer.deadline, step=timer.step, status=PENDING,
    )


def _move(db: Writer, tenant: str, check_id: str, keys: list[str], *, to: str) -> None:
    for key in keys:
        row = db.get(check_timers, check_id=check_id, tenant=tenant, key=key)
        if row is not None and row.status == PENDING:
            db.update(check_timers, {"check_id": check_id, "tenant": tenant, "key": key}, status=to)


def _task_keys(db: Writer, tenant: str, check_id: str) -> list[str]:
    """The keys of the clocks the task's current deadline started."""
    task = db.get(check_tasks, check_id=check_id, tenant=tenant)
    if task is None:
        return []
    ladder = [EscalationStep.model_validate(step) for step in json.loads(task.ladder)]
    return [timer.key for timer in deadline_timers(task.deadline, ladder)]


def _task(event) -> dict[str, str]:
    return {"check_id": event.aggregate_id, "tenant": event.tenant}


def when_check_raised_list_it(event: CheckRaised, db: Writer) -> None:
    db.insert(
        checks, check_id=event.aggregate_id, tenant=event.tenant, report_id=event.report_id, grade=event.grade.value,
        category=event.category.value, equipment=event.equipment, look_for=text_token(event.tenant, event.look_for),
        subsidiaries=",".join(event.subsidiaries), all_subsidiaries=event.all_subsidiaries, due=event.due, raised_by=event.actor, raised_at=event.occurred_at,
    )


def when_task_opened_start_clocks(event: CheckTaskOpened, db: Writer) -> None:
    db.insert(
        check_tasks, **_task(event), origin_tenant=event.origin_tenant, report_id=event.report_id,
        category=event.category.value, equipment=event.equipment, look_for=text_token(event.tenant, event.look_for),
        opened_at=event.occurred_at, deadline=event.deadline,
        ladder=json.dumps([step.model_dump(mode="json") for step in event.escalation]),
    )
    for timer in deadline_timers(event.deadline, event.escalation):
        _start(db, event.tenant, event.aggregate_id, timer)


def when_answered_stop_clocks(event: CheckAnswered, db: Writer) -> None:
    db.update(
        check_tasks, _task(event), answer=event.answer.value, found_report_id=event.found_report_id,
        note=text_token(event.tenant, event.note), answered_by=event.actor, answered_at=event.occurred_at,
        extension_requested_by=None, extension_requested_deadline=None, extension_reason=None,
    )
    _move(db, event.tenant, event.aggregate_id, _task_keys(db, event.tenant, event.aggregate_id), to=STOPPED)


def when_extension_requested_note_it(event: CheckExtensionRequested, db: Writer) -> None:
    db.update(
        check_tasks, _task(event), extension_requested_by=event.actor, extension_requested_deadline=event.requested_deadline,
        extension_reason=text_token(event.tenant, event.reason),
    )


def when_extension_granted_move_deadline(event: CheckExtensionGranted, db: Writer) -> None:
    _move(db, event.tenant, event.aggregate_id, _task_keys(db, event.tenant, event.aggregate_id), to=STOPPED)
    db.update(
        check_tasks, _task(event), deadline=event.deadline, overdue_since=None, escalation_step=None,
        extension_requested_by=None, extension_requested_deadline=None, extension_reason=None,
    )
    task = db.get(check_tasks, check_id=event.aggregate_id, tenant=event.tenant)
    ladder = [EscalationStep.model_validate(step) for step in json.loads(task.ladder)]
    for timer in deadline_timers(event.deadline, ladder):
        if db.get(check_timers, check_id=event.aggregate_id, tenant=event.tenant, key=timer.key) is None:
            _start(db, event.tenant, event.aggregate_id, timer)


def when_extension_refused_clear_it(event: CheckExtensionRefused, db: Writer) -> None:
    db.update(check_tasks, _task(event), extension_requested_by=None, extension_requested_deadline=None, extension_reason=None)


def when_task_overdue_list_it(event: CheckTaskOverdue, db: Writer) -> None:
    db.update(check_tasks, _task(event), overdue_since=event.deadline)
    key = Timer(TimerKind.OVERDUE, event.deadline, deadline=event.deadline).key
    db.update(check_timers, {**_task(event), "key": key}, status=FIRED)


def when_escalated_record_step(event: CheckEscalationRaised, db: Writer) -> None:
    db.update(check_tasks, _task(event), escalation_step=event.step)
    key = Timer(TimerKind.ESCALATION, event.due_at, deadline=event.deadline, step=event.step).key
    db.update(check_timers, {**_task(event), "key": key}, status=FIRED)


def when_check_closed_stop_clocks(event: CheckClosed, db: Writer) -> None:
    db.update(checks, {"check_id": event.aggregate_id}, closed_by=event.actor, closed_at=event.occurred_at)
    db.flush()
    pending = db.connection.execute(
        select(check_timers.c.tenant, check_timers.c.key).where(
            check_timers.c.check_id == event.aggregate_id, check_timers.c.status == PENDING
        )
    ).all()
    for row in pending:
        _move(db, row.tenant, event.aggregate_id, [row.key], to=STOPPED)


HANDLERS = {
    CheckRaised: when_check_raised_list_it,
    CheckTaskOpened: when_task_opened_start_clocks,
    CheckAnswered: when_answered_stop_clocks,
    CheckExtensionRequested: when_extension_requested_note_it,
    CheckExtensionGranted: when_extension_granted_move_deadline,
    CheckExtensionRefused: when_extension_refused_clear_it,
    CheckTaskOverdue: when_task_overdue_list_it,
    CheckEscalationRaised: when_escalated_record_step,
    CheckClosed: when_check_closed_stop_clocks,
}
"""Each check event's handler, merged into verification's projection."""
