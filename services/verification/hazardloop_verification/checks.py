"""Checks elsewhere: raise a check on a verified hazard, and each subsidiary's task of it.

Pure: rebuilt from the log, each method checks what the state allows and returns the
events to append. The check lives in the original report's subsidiary; each task in the
subsidiary it addresses, so that a site owns its own answers. A task's deadline and its
overdue and escalation clocks follow the rectification's rules (``check_deadline``,
``deadline_timers``, the subsidiary's ladder copied in).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator

from hazardloop.errors import Invalid, NotFound
from hazardloop.events import (
    CHECK_TASK,
    GENESIS_HASH,
    CaseworkPolicy,
    Category,
    CheckAnswer,
    CheckAnswered,
    CheckClosed,
    CheckEscalationRaised,
    CheckExtensionGranted,
    CheckExtensionRefused,
    CheckExtensionRequested,
    CheckRaised,
    CheckTaskOpened,
    CheckTaskOverdue,
    EquipmentPattern,
    Event,
    Grade,
    LongText,
    Note,
    Outcome,
    SealedText,
    TenantId,
    stable_id,
)
from hazardloop.log.eventstore import History
from hazardloop.timing.deadlines import Timer, TimerKind, end_of_day
from hazardloop.web.edge import Command, Instant
from hazardloop.web.validation import reason_required_unless
from hazardloop_verification.domain import TIMER_ACTOR, NotAllowed, ReportCase, check_deadline

GRADE_RANK = {Grade.GENERAL: 0, Grade.LARGER: 1, Grade.MAJOR: 2}


class RaiseCheck(Command):
    """What to look for, and where: chosen subsidiaries, or the whole group."""

    category: Category | None = Field(None, description="Defaults to the original report's category.")
    equipment: EquipmentPattern | None = Field(None, description="An equipment type or tag pattern, '*' for any characters.")
    look_for: LongText
    all_subsidiaries: bool = False
    subsidiaries: Annotated[list[TenantId], Field(max_length=500)] = []
    due: Instant | None = Field(None, description="Defaults to each subsidiary's rectification deadline for the grade.")

    @field_validator("subsidiaries")
    @classmethod
    def _addressed(cls, subsidiaries: list[str], info: ValidationInfo) -> list[str]:
        everyone = info.data.get("all_subsidiaries")
        if everyone and subsidiaries:
            raise ValueError("name subsidiaries or address all of them, not both")
        if everyone is False and not subsidiaries:
            raise ValueError("name at least one subsidiary, or address all of them")
        if len(set(subsidiaries)) != len(subsidiaries):
            raise ValueError("a subsidiary is named twice")
        return subsidiaries


class AnswerCheck(Command):
    answer: CheckAnswer
    note: Note | None = None


class RequestCheckExtension(Command):
    deadline: Instant
    reason: LongText


class DecideCheckExtension(Command):
    approve: bool
    reason: Note | None = Field(None, validate_default=True, description="Required when refusing.")

    _refusal_gives_reason = reason_required_unless("approve", "refusing more time")


class CloseCheck(Command):
    note: Note | None = None


def may_raise(case: ReportCase, policy: CaseworkPolicy) -> Grade:
    """The report's grade, when it is a verified hazard of the policy's grade or above."""
    if case.outcome != Outcome.CONFIRMED_HAZARD or case.grade is None:
        state = case.stage.value
        raise NotAllowed(f"report {case.report_id} is not a verified hazard ({state}): verify it first", state=state)
    if GRADE_RANK[case.grade] < GRADE_RANK[policy.check_from_grade]:
        raise NotAllowed(
            f"report {case.report_id} has grade {case.grade.value}: the casework policy raises checks elsewhere "
            f"from grade {policy.check_from_grade.value} up", state="grade_too_low",
        )
    return case.grade


def task_deadline(due: datetime | None, grade: Grade, policy: CaseworkPolicy, now: datetime) -> datetime:
    """The given due date, else the subsidiary's rectification deadline for the grade."""
    if due is None:
        days = getattr(policy.deadline_days, grade.value)
        due = end_of_day(now, policy.timezone) if days == 0 else now + timedelta(days=days)
    check_deadline(due, now)
    return due


@dataclass
class Check:
    """A check as its history tells it."""

    raised: CheckRaised
    last_hash: str
    closed: bool = False

    @classmethod
    def from_history(cls, tenant: str, check_id: str, history: History) -> Check:
        if not history.events or not isinstance(history.events[0].event, CheckRaised):
            raise NotFound(f"no check {check_id!r} in {tenant!r}")
        check = cls(raised=history.events[0].event, last_hash=history.last_hash)
        check.closed = any(isinstance(s.event, CheckClosed) for s in history.events)
        return check

    def close(self, tasks: Mapping[str, History], *, actor: str, now: datetime, note: str | None) -> list[Event]:
        """Close once every subsidiary answered or was escalated: none is forgotten."""
        if self.closed:
            raise NotAllowed(f"check {self.raised.aggregate_id} is already closed", state="closed")
        waiting = [t for t in self.raised.subsidiaries if not _settled(tasks.get(t))]
        if waiting:
            raise NotAllowed(f"still waiting for an answer from: {', '.join(waiting)}", state="waiting")
        event = CheckClosed.record(
            prev_hash=self.last_hash, tenant=self.raised.tenant, aggregate_id=self.raised.aggregate_id,
            actor=actor, occurred_at=now, correlation_id=self.raised.correlation_id, note=note,
        )
        self.closed, self.last_hash = True, event.hash
        return [event]


def _settled(history: History | None) -> bool:
    if history is None or not history.events:
        return False
    return any(isinstance(s.event, CheckAnswered | CheckTaskOverdue) for s in history.events)


def raise_check(
    case: ReportCase,
    check_id: str,
    command: RaiseCheck,
    *,
    subsidiaries: Sequence[str],
    all_subsidiaries: bool,
    histories: Mapping[str, History],
    policies: Mapping[str, CaseworkPolicy],
    look_for: Mapping[str, SealedText | str],
    origin_history: History,
    origin_policy: CaseworkPolicy,
    actor: str,
    now: datetime,
) -> list[Event]:
    """The check and a task per subsidiary. Sent again (an Idempotency-Key retried after an
    outage), it opens the tasks still missing and appends nothing else."""
    grade = may_raise(case, origin_policy)
    tenant = case.tenant
    events: list[Event] = []
    if origin_history.events:
        raised = Check.from_history(tenant, check_id, origin_history).raised
        if raised.report_id != case.report_id or raised.actor != actor or set(raised.subsidiaries) != set(subsidiaries):
            raise NotAllowed(f"check {check_id} was raised already, otherwise", state="raised")
    else:
        if command.due is not None:
            check_deadline(command.due, now)
        raised = CheckRaised.record(
            prev_hash=GENESIS_HASH, tenant=tenant, aggregate_id=check_id, actor=actor, occurred_at=now,
            event_id=stable_id(tenant, "check", check_id), correlation_id=case.filed.correlation_id,
            report_id=case.report_id, grade=grade, category=command.category or case.filed.category,
            equipment=command.equipment, look_for=look_for[tenant], subsidiaries=tuple(subsidiaries),
            all_subsidiaries=all_subsidiaries, due=command.due,
        )
        events.append(raised)
    for subsidiary in raised.subsidiaries:
        if histories[subsidiary].events:
            continue
        policy = policies[subsidiary]
        events.append(
            CheckTaskOpened.record(
                prev_hash=GENESIS_HASH, tenant=subsidiary, aggregate_id=check_id, actor=actor, occurred_at=now,
                event_id=stable_id(subsidiary, CHECK_TASK, check_id), correlation_id=raised.correlation_id,
                causation_id=raised.event_id, origin_tenant=tenant, report_id=raised.report_id, category=raised.category,
                equipment=raised.equipment, look_for=look_for[subsidiary],
                deadline=task_deadline(raised.due, grade, policy, now), escalation=policy.escalation,
            )
        )
    return events


@dataclass
class CheckTask:
    """One subsidiary's task of a check, as its history tells it."""

    opened: CheckTaskOpened
    last_hash: str = ""
    deadline: datetime | None = None
    answer: CheckAnswered | None = None
    extension_requested_by: str | None = None
    requested_deadline: datetime | None = None
    overdue: bool = False
    fired: set[str] = field(default_factory=set)

    @property
    def tenant(self) -> str:
        return self.opened.tenant

    @property
    def check_id(self) -> str:
        return self.opened.aggregate_id

    @classmethod
    def from_history(cls, tenant: str, check_id: str, history: History) -> CheckTask:
        if not history.events or not isinstance(history.events[0].event, CheckTaskOpened):
            raise NotFound(f"no check {check_id!r} addressed to {tenant!r}")
        task = cls(opened=history.events[0].event)
        for stored in history.events:
            task.apply(stored.event)
        return task

    def apply(self, event: Event) -> None:
        self.last_hash = event.hash
        match event:
            case CheckTaskOpened():
                self.deadline = event.deadline
            case CheckAnswered():
                self.answer = event
            case CheckExtensionRequested():
                self.extension_requested_by, self.requested_deadline = event.actor, event.requested_deadline
            case CheckExtensionGranted():
                self.deadline, self.extension_requested_by, self.overdue = event.deadline, None, False
            case CheckExtensionRefused():
                self.extension_requested_by = None
            case CheckTaskOverdue():
                self.fired.add(Timer(TimerKind.OVERDUE, event.deadline, deadline=event.deadline).key)
                self.overdue = True
            case CheckEscalationRaised():
                self.fired.add(Timer(TimerKind.ESCALATION, event.due_at, deadline=event.deadline, step=event.step).key)

    def _next(self, kind: type[Event], *, actor: str, now: datetime, event_id: Any = None, **payload: Any) -> Event:
        event = kind.record(
            prev_hash=self.last_hash, tenant=self.tenant, aggregate_id=self.check_id, actor=actor, occurred_at=now,
            event_id=event_id, correlation_id=self.opened.correlation_id, **payload,
        )
        self.apply(event)
        return event

    def _require_open(self, check: Check, doing: str) -> None:
        if check.closed:
            raise NotAllowed(f"check {self.check_id} is closed: cannot {doing}", state="closed")
        if self.answer is not None:
            raise NotAllowed(f"{self.tenant} already answered check {self.check_id}: cannot {doing}", state="answered")

    # --- commands ---------------------------------------------------------------------

    def answer_not_present(self, check: Check, command: AnswerCheck, *, actor: str, now: datetime) -> list[Event]:
        if command.answer == CheckAnswer.FOUND:
            raise Invalid("to answer found, file the report of what you found, linked to this check (check_id)", field="answer")
        self._require_open(check, "answer it")
        return [self._next(CheckAnswered, actor=actor, now=now, answer=CheckAnswer.NOT_PRESENT, note=command.note)]

    def answer_found(self, check: Check, report_id: str, *, actor: str, now: datetime, event_id: Any) -> list[Event]:
        """The subsidiary filed a report answering the check: found, once; nothing if the
        task was answered or the check closed meanwhile."""
        if check.closed or self.answer is not None:
            return []
        return [self._next(CheckAnswered, actor=actor, now=now, event_id=event_id, answer=CheckAnswer.FOUND, found_report_id=report_id)]

    def request_extension(self, check: Check, command: RequestCheckExtension, *, actor: str, now: datetime) -> list[Event]:
        self._require_open(check, "ask for more time")
        if self.extension_requested_by is not None:
            raise NotAllowed(f"{self.tenant} already asked for more time on check {self.check_id}", state="extension_pending")
        if command.deadline <= max(self.deadline, now):
            raise Invalid("the new deadline must be later than the current one", field="deadline")
        check_deadline(command.deadline, now)
        return [self._next(CheckExtensionRequested, actor=actor, now=now, requested_deadline=command.deadline, reason=command.reason)]

    def decide_extension(self, check: Check, command: DecideCheckExtension, *, actor: str, now: datetime) -> list[Event]:
        self._require_open(check, "decide on more time")
        if self.extension_requested_by is None:
            raise NotAllowed(f"{self.tenant} has not asked for more time on check {self.check_id}", state="no_request")
        if actor == self.extension_requested_by:
            raise NotAllowed("more time must be decided by someone other than who asked for it", state="extension_pending")
        if command.approve:
            return [self._next(CheckExtensionGranted, actor=actor, now=now, deadline=self.requested_deadline, comment=command.reason)]
        return [self._next(CheckExtensionRefused, actor=actor, now=now, reason=command.reason)]

    # --- timers -----------------------------------------------------------------------

    def is_running(self, check: Check, timer: Timer) -> bool:
        """Not fired yet, no answer, the check open, and the deadline it was set for still in force."""
        if timer.key in self.fired or self.answer is not None or check.closed:
            return False
        return self.deadline == timer.deadline and (timer.step is None or timer.step < len(self.opened.escalation))

    def fire(self, check: Check, timer: Timer, *, now: datetime) -> list[Event]:
        if timer.due_at > now or not self.is_running(check, timer):
            return []
        common = {"actor": TIMER_ACTOR, "now": now, "event_id": stable_id(self.tenant, CHECK_TASK, self.check_id, timer.key)}
        if timer.step is None:
            return [self._next(CheckTaskOverdue, deadline=timer.deadline, **common)]
        notify = self.opened.escalation[timer.step].notify
        return [self._next(CheckEscalationRaised, step=timer.step, deadline=timer.deadline, due_at=timer.due_at, notify=notify, **common)]
