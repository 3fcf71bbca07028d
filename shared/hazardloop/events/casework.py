"""The safety department's work on a report, its clocks, and each subsidiary's casework policy."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from hazardloop.events.envelope import AggregateId, Event, Fen, LongText, Note, PersonRef, PlaceName, sealed
from hazardloop.events.report import AttachmentRef, Grade, Outcome


class RiskColour(StrEnum):
    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"
    BLUE = "blue"


class RewardFactors(BaseModel):
    """The six axes along which the reward for a confirmed hazard differs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    at_height: bool = False
    outside_patrol_area: bool = False
    """Outside the reporter's own routine patrol area."""
    high_risk: bool = False
    at_night: bool = False
    bad_weather: bool = False
    hard_to_handle: bool = False


class Audience(StrEnum):
    """Who an escalation step brings in."""

    OWNER = "owner"
    SAFETY_DEPARTMENT = "safety_department"
    SUBSIDIARY_LEADERSHIP = "subsidiary_leadership"
    GROUP_HQ = "group_hq"


class EscalationStep(BaseModel):
    """One rung of the ladder: so many days past the deadline, these people are told."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    after_days: Annotated[int, Field(ge=0, le=365, strict=True)]
    notify: Annotated[tuple[Audience, ...], Field(min_length=1)]


class RectificationPlan(BaseModel):
    """The five fixed items of a supervised rectification."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    responsible_person: PersonRef
    measures: LongText
    funds_fen: Fen
    deadline: AwareDatetime
    emergency_plan: LongText
    """What protects people in the meantime."""


class SlaClock(StrEnum):
    """The closed loop's clocks: accept the same day, verify within 3 days, feed back within 7."""

    ACCEPT = "accept"
    VERIFY = "verify"
    FEEDBACK = "feedback"


class Accepted(Event):
    """The safety department acknowledged the report: it is in hand."""

    aggregate_type: ClassVar[str] = "report"
    type: Literal["Accepted"] = "Accepted"
    note: sealed(Note, "A note on the acceptance.") | None = None


class Verified(Event):
    """The safety department checked the report: the outcome and, for a hazard, its grading.

    A duplicate names the report it was merged into and which of the two was filed
    first, so the first reporter's claim survives the merge.
    """

    aggregate_type: ClassVar[str] = "report"
    type: Literal["Verified"] = "Verified"
    schema_version: Literal[2] = 2
    outcome: Outcome
    grade: Grade | None = None
    risk_colour: RiskColour | None = None
    factors: RewardFactors | None = None
    within_routine_duties: bool = False
    """The finding lies within the reporter's own routine duties (rewarded less, or not)."""
    duplicate_of: AggregateId | None = None
    first_report_id: AggregateId | None = None
    """Of this report and the one it duplicates, the one filed first."""
    comment: sealed(Note, "The verifier's comment.") | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        hazard = self.outcome == Outcome.CONFIRMED_HAZARD
        if hazard != (self.grade is not None) or hazard != (self.risk_colour is not None):
            raise ValueError("a confirmed hazard, and only one, carries a grade and a risk colour")
        if (self.outcome == Outcome.DUPLICATE) != (self.duplicate_of is not None and self.first_report_id is not None):
            raise ValueError("a duplicate, and only one, names the report it duplicates and the first filed")
        return self


class RectificationAssigned(Event):
    """An owner must remove the hazard by the deadline; a major hazard comes with its plan.

    The escalation ladder and the reminder leads in force are copied in, so the clocks
    this deadline starts are fixed by the log, whatever the policy becomes later.
    """

    aggregate_type: ClassVar[str] = "report"
    type: Literal["RectificationAssigned"] = "RectificationAssigned"
    owner: PersonRef
    deadline: AwareDatetime
    plan: RectificationPlan | None = None
    escalation: tuple[EscalationStep, ...] = ()
    reminders: tuple[Annotated[int, Field(ge=1, le=24 * 90, strict=True)], ...] | None = None
    """Hours before the deadline to remind the owner; None (older events): the notifier's default."""


class ExtensionRequested(Event):
    """The rectification owner asked for more time, in writing."""

    aggregate_type: ClassVar[str] = "report"
    type: Literal["ExtensionRequested"] = "ExtensionRequested"
    requested_deadline: AwareDatetime
    reason: sealed(LongText, "Why more time is needed.")


class ExtensionGranted(Event):
    """A manager other than the requester approved the extension: the deadline moves."""

    aggregate_type: ClassVar[str] = "report"
    type: Literal["ExtensionGranted"] = "ExtensionGranted"
    deadline: AwareDatetime
    comment: sealed(Note, "The manager's comment.") | None = None


class ExtensionRefused(Event):
    """A manager other than the requester refused the extension: the deadline stands."""

    aggregate_type: ClassVar[str] = "report"
    type: Literal["ExtensionRefused"] = "ExtensionRefused"
    reason: sealed(LongText, "Why the extension was refused.")


class Rectified(Event):
    """The hazard was removed: how, and the photos that show it."""

    aggregate_type: ClassVar[str] = "report"
    type: Literal["Rectified"] = "Rectified"
    schema_version: Literal[2] = 2
    measures: LongText
    evidence: tuple[AttachmentRef, ...] = ()
    on_the_spot: bool = False
    """Fixed at verification, in the verifier's presence: the report closes at once."""


class RectificationAccepted(Event):
    """A verifier checked the rectification and closed the report."""

    aggregate_type: ClassVar[str] = "report"
    type: Literal["RectificationAccepted"] = "RectificationAccepted"
    comment: sealed(Note, "The verifier's comment.") | None = None


class RectificationRejected(Event):
    """A verifier found the rectification wanting: back to the owner, the clock still running."""

    aggregate_type: ClassVar[str] = "report"
    type: Literal["RectificationRejected"] = "RectificationRejected"
    reason: sealed(LongText, "What is still wanting.")


class ReporterFedBack(Event):
    """The safety department told the reporter where their report stands."""

    aggregate_type: ClassVar[str] = "report"
    type: Literal["ReporterFedBack"] = "ReporterFedBack"
    message: sealed(LongText, "What the reporter was told.")


class SlaBreached(Event):
    """A step of the closed loop was not taken in time."""

    aggregate_type: ClassVar[str] = "report"
    type: Literal["SlaBreached"] = "SlaBreached"
    clock: SlaClock
    due_at: AwareDatetime


class RectificationOverdue(Event):
    """The rectification deadline passed with the hazard still there."""

    aggregate_type: ClassVar[str] = "report"
    type: Literal["RectificationOverdue"] = "RectificationOverdue"
    deadline: AwareDatetime
    owner: PersonRef


class EscalationRaised(Event):
    """A rung of the escalation ladder was reached for an overdue rectification."""

    aggregate_type: ClassVar[str] = "report"
    type: Literal["EscalationRaised"] = "EscalationRaised"
    step: Annotated[int, Field(ge=0, strict=True)]
    deadline: AwareDatetime
    due_at: AwareDatetime
    notify: tuple[Audience, ...]


class ExternallyEscalated(Event):
    """The reporter took their overdue report to the authorities; the system never hides it."""

    aggregate_type: ClassVar[str] = "report"
    type: Literal["ExternallyEscalated"] = "ExternallyEscalated"
    authority: PlaceName
    note: sealed(Note, "A note on the escalation.") | None = None


# --- Casework policy (one aggregate per subsidiary, id ``casework``) ------------------------


class DeadlineDays(BaseModel):
    """Default rectification deadline per grade, in days from the assignment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    general: Annotated[int, Field(ge=0, le=365, strict=True)] = 1
    """0: by the end of the day, where the subsidiary is."""
    larger: Annotated[int, Field(ge=1, le=365, strict=True)] = 7
    major: Annotated[int, Field(ge=1, le=730, strict=True)] = 15


DEFAULT_LADDER = (
    EscalationStep(after_days=0, notify=(Audience.OWNER, Audience.SAFETY_DEPARTMENT)),
    EscalationStep(after_days=3, notify=(Audience.SUBSIDIARY_LEADERSHIP,)),
    EscalationStep(after_days=7, notify=(Audience.GROUP_HQ,)),
)


class CaseworkPolicy(BaseModel):
    """A subsidiary's clocks, default deadlines and escalation ladder."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "Asia/Shanghai"
    """Where "the same day" is reckoned."""
    accept_within_hours: Annotated[int, Field(ge=1, le=168, strict=True)] | None = None
    """None: by the end of the day the report was filed (local time)."""
    verify_within_days: Annotated[int, Field(ge=1, le=60, strict=True)] = 3
    feedback_within_days: Annotated[int, Field(ge=1, le=60, strict=True)] = 7
    deadline_days: DeadlineDays = DeadlineDays()
    escalation: Annotated[tuple[EscalationStep, ...], Field(max_length=10)] = DEFAULT_LADDER
    reminder_hours: Annotated[tuple[Annotated[int, Field(ge=1, le=24 * 90, strict=True)], ...], Field(max_length=5)] = (48, 24)
    """Remind the rectification owner so many hours before the deadline."""
    recurrence_window_days: Annotated[int, Field(ge=0, le=3650, strict=True)] = 90
    """A new report on the same spot and category this soon after a closure is a recurrence."""
    check_from_grade: Grade = Grade.MAJOR
    """A verified hazard of this grade or above may be raised as a check elsewhere."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, timezone: str) -> str:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # a folder such as "Asia" raises OSError
            raise ValueError(f"unknown time zone {timezone!r}") from exc
        return timezone

    @field_validator("escalation")
    @classmethod
    def _rising_ladder(cls, ladder: tuple[EscalationStep, ...]) -> tuple[EscalationStep, ...]:
        days = [step.after_days for step in ladder]
        if days != sorted(set(days)):
            raise ValueError("escalation steps must come in strictly increasing after_days")
        return ladder


class CaseworkPolicySet(Event):
    """A subsidiary's casework policy changed; it applies to what happens from now on."""

    aggregate_type: ClassVar[str] = "policy"
    type: Literal["CaseworkPolicySet"] = "CaseworkPolicySet"
    policy: CaseworkPolicy
