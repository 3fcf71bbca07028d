"""Checks elsewhere, reconciled from the log alone: no addressed subsidiary forgotten.

Every subsidiary a check addresses must have its task in the log, and each task an
answer, or, once its deadline passed unanswered, an overdue escalation. A task missing
from the log is an exception whatever the time: nothing would ever remind anybody of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from hazardloop.audit.payouts import Finding
from hazardloop.events import (
    CheckAnswered,
    CheckEscalationRaised,
    CheckExtensionGranted,
    CheckRaised,
    CheckTaskOpened,
    CheckTaskOverdue,
    Event,
)

CHECK_TYPES = tuple(kind.model_fields["type"].default for kind in (
    CheckRaised, CheckTaskOpened, CheckAnswered, CheckExtensionGranted, CheckTaskOverdue, CheckEscalationRaised,
))  # fmt: skip


@dataclass
class _Task:
    sequence: int
    deadline: datetime
    answered: bool = False
    escalated: bool = False


def reconcile_checks(log: Iterable[tuple[int, Event]], now: datetime) -> list[Finding]:
    """The exceptions to checks elsewhere as of ``now``: a subsidiary addressed without a
    task, and a task past its deadline with neither an answer nor an escalation."""
    raised: dict[str, tuple[int, CheckRaised]] = {}
    tasks: dict[tuple[str, str], _Task] = {}
    for sequence, event in log:
        key = (event.tenant, event.aggregate_id)
        match event:
            case CheckRaised():
                raised[event.aggregate_id] = (sequence, event)
            case CheckTaskOpened():
                tasks[key] = _Task(sequence, event.deadline)
            case CheckAnswered() if key in tasks:
                tasks[key].answered = True
            case CheckExtensionGranted() if key in tasks:
                tasks[key].deadline, tasks[key].escalated = event.deadline, False  # a new deadline: its own clocks
            case CheckTaskOverdue() | CheckEscalationRaised() if key in tasks:
                tasks[key].escalated = True
    findings = []
    for check_id, (sequence, check) in sorted(raised.items()):
        for tenant in check.subsidiaries:
            task = tasks.get((tenant, check_id))
            if task is None:
                findings.append(Finding("check task missing", tenant, check.report_id, sequence,
                                        f"check {check_id} addresses {tenant}, which has no task of it"))
            elif not task.answered and now > task.deadline and not task.escalated:
                findings.append(Finding("check overdue, not escalated", tenant, check.report_id, task.sequence,
                                        f"check {check_id}: deadline {task.deadline.isoformat()} passed, no answer, no escalation recorded"))
    return findings
