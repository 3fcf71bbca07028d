"""Checks elsewhere ("could it occur here?"): learn from one verified hazard, look for it everywhere.

Group headquarters raises a check on a verified hazard (the ``check`` aggregate, in the
original report's subsidiary); each addressed subsidiary gets a task of its own (the
``checktask`` aggregate, same id as the check, in that subsidiary), so a site owns its
own answers. A task is answered "not present" or "found" (with the report the
subsidiary filed, linked to the original), may get more time, and escalates like an
overdue rectification when it is not answered in time.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar, Literal, Self

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from hazardloop.events.casework import Audience, EscalationStep
from hazardloop.events.envelope import AggregateId, Event, LongText, Note, TenantId, sealed
from hazardloop.events.report import Category, Grade

EquipmentPattern = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9*][A-Za-z0-9._/*-]{0,39}$")]
"""An equipment type or tag pattern as painted on equipment, ``*`` for any characters
(``AT-*`` is every gas detector tagged AT-)."""

CHECK_TASK = "checktask"
"""The aggregate type of one subsidiary's task of a check."""


class CheckAnswer(StrEnum):
    NOT_PRESENT = "not_present"
    """Checked: the hazard is not present here."""
    FOUND = "found"
    """Found here too: the subsidiary filed a report of its own, linked to the original."""


class CheckRaised(Event):
    """Headquarters asked subsidiaries to check whether a verified hazard occurs with them too."""

    aggregate_type: ClassVar[str] = "check"
    type: Literal["CheckRaised"] = "CheckRaised"
    report_id: AggregateId
    """The verified report the check learns from (in this event's subsidiary)."""
    grade: Grade
    category: Category
    equipment: EquipmentPattern | None = None
    look_for: sealed(LongText, "What to look for.")
    subsidiaries: Annotated[tuple[TenantId, ...], Field(min_length=1, max_length=500)]
    """Every subsidiary addressed: each gets a task."""
    all_subsidiaries: bool = False
    """Addressed to the whole group (``subsidiaries`` then lists the group as it stood)."""
    due: AwareDatetime | None = None
    """The answer's deadline given by headquarters; None: each subsidiary's deadline for the grade."""

    @model_validator(mode="after")
    def _each_once(self) -> Self:
        if len(set(self.subsidiaries)) != len(self.subsidiaries):
            raise ValueError("a subsidiary is addressed twice")
        return self


class CheckClosed(Event):
    """Headquarters closed the check: every subsidiary answered or was escalated; no answer is taken after."""

    aggregate_type: ClassVar[str] = "check"
    type: Literal["CheckClosed"] = "CheckClosed"
    note: sealed(Note, "A note on the closure.") | None = None


class CheckTaskOpened(Event):
    """A subsidiary must check for the hazard and answer by the deadline.

    The escalation ladder in force is copied in, as a rectification's is, so the clocks
    this deadline starts are fixed by the log.
    """

    aggregate_type: ClassVar[str] = CHECK_TASK
    type: Literal["CheckTaskOpened"] = "CheckTaskOpened"
    origin_tenant: TenantId
    report_id: AggregateId
    """The original report, in ``origin_tenant``."""
    category: Category
    equipment: EquipmentPattern | None = None
    look_for: sealed(LongText, "What to look for.")
    deadline: AwareDatetime
    escalation: tuple[EscalationStep, ...] = ()


class CheckAnswered(Event):
    """The subsidiary answered: not present here, or found (naming the report it filed)."""

    aggregate_type: ClassVar[str] = CHECK_TASK
    type: Literal["CheckAnswered"] = "CheckAnswered"
    answer: CheckAnswer
    found_report_id: AggregateId | None = None
    """The subsidiary's own report of what it found (in this event's subsidiary)."""
    note: sealed(Note, "A note on the answer.") | None = None

    @model_validator(mode="after")
    def _found_names_report(self) -> Self:
        if (self.answer == CheckAnswer.FOUND) != (self.found_report_id is not None):
            raise ValueError("a found answer, and only one, names the report filed")
        return self


class CheckExtensionRequested(Event):
    """The subsidiary asked for more time to check."""

    aggregate_type: ClassVar[str] = CHECK_TASK
    type: Literal["CheckExtensionRequested"] = "CheckExtensionRequested"
    requested_deadline: AwareDatetime
    reason: sealed(LongText, "Why more time is needed.")


class CheckExtensionGranted(Event):
    """Headquarters gave the subsidiary more time: the deadline moves."""

    aggregate_type: ClassVar[str] = CHECK_TASK
    type: Literal["CheckExtensionGranted"] = "CheckExtensionGranted"
    deadline: AwareDatetime
    comment: sealed(Note, "The decider's comment.") | None = None


class CheckExtensionRefused(Event):
    """Headquarters refused more time: the deadline stands."""

    aggregate_type: ClassVar[str] = CHECK_TASK
    type: Literal["CheckExtensionRefused"] = "CheckExtensionRefused"
    reason: sealed(LongText, "Why more time was refused.")


class CheckTaskOverdue(Event):
    """The deadline passed without an answer."""

    aggregate_type: ClassVar[str] = CHECK_TASK
    type: Literal["CheckTaskOverdue"] = "CheckTaskOverdue"
    deadline: AwareDatetime


class CheckEscalationRaised(Event):
    """A rung of the escalation ladder was reached for an unanswered check."""

    aggregate_type: ClassVar[str] = CHECK_TASK
    type: Literal["CheckEscalationRaised"] = "CheckEscalationRaised"
    step: Annotated[int, Field(ge=0, strict=True)]
    deadline: AwareDatetime
    due_at: AwareDatetime
    notify: tuple[Audience, ...]
