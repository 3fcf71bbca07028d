"""What the safety department, rectification owners and managers ask of a report."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, model_validator

from hazardloop.edge import Command, Instant
from hazardloop.validation import reason_required_unless
from hazardloop.events import (
    AggregateId,
    Grade,
    LongText,
    Note,
    Outcome,
    PersonRef,
    PlaceName,
    RectificationPlan,
    RewardFactors,
    RiskColour,
    Sha256Hex,
)

COLOUR_OF_GRADE = {Grade.GENERAL: RiskColour.YELLOW, Grade.LARGER: RiskColour.ORANGE, Grade.MAJOR: RiskColour.RED}

Evidence = Annotated[tuple[Sha256Hex, ...], Field(max_length=6, description="Digests of uploaded photos or videos.")]


class Accept(Command):
    note: Note | None = None


class Assign(Command):
    """Who removes the hazard and by when; a major hazard needs its five-item plan."""

    owner: PersonRef
    deadline: Instant | None = Field(None, description="Defaults to the subsidiary's deadline for the grade.")
    plan: RectificationPlan | None = None

    @model_validator(mode="after")
    def _one_deadline(self) -> Self:
        if self.plan is not None and self.deadline is not None and self.deadline != self.plan.deadline:
            raise ValueError("deadline differs from the plan's deadline: give it once, in the plan")
        return self


class OnTheSpot(Command):
    measures: LongText
    evidence: Evidence = ()


class Verify(Command):
    """The outcome; for a confirmed hazard its grading, and optionally its rectification."""

    outcome: Outcome
    grade: Grade | None = None
    risk_colour: RiskColour | None = Field(None, description="Defaults to the grade's colour: major red, larger orange, general yellow.")
    factors: RewardFactors | None = None
    within_routine_duties: bool = False
    duplicate_of: AggregateId | None = None
    comment: Note | None = None
    on_the_spot: OnTheSpot | None = Field(None, description="A general hazard fixed at once, in the verifier's presence.")
    rectification: Assign | None = Field(None, description="Assign the rectification in the same step.")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        hazard = self.outcome == Outcome.CONFIRMED_HAZARD
        if hazard and self.grade is None:
            raise ValueError("grade is required when the hazard is confirmed")
        if hazard and self.risk_colour is None:
            object.__setattr__(self, "risk_colour", COLOUR_OF_GRADE[self.grade])
        if hazard and self.factors is None:
            object.__setattr__(self, "factors", RewardFactors())
        if not hazard and (self.grade or self.risk_colour or self.factors or self.on_the_spot or self.rectification):
            raise ValueError("grade, risk_colour, factors and rectification apply only to a confirmed hazard")
        if (self.outcome == Outcome.DUPLICATE) != (self.duplicate_of is not None):
            raise ValueError("duplicate_of is required for a duplicate, and only for one")
        if self.on_the_spot is not None and (self.grade != Grade.GENERAL or self.rectification is not None):
            raise ValueError("on_the_spot applies only to a general hazard, instead of a rectification")
        if self.grade == Grade.MAJOR and self.rectification is not None and self.rectification.plan is None:
            raise ValueError("rectification.plan (the five fixed items) is required for a major hazard")
        return self


class RequestExtension(Command):
    deadline: Instant
    reason: LongText


class DecideExtension(Command):
    approve: bool
    reason: Note | None = Field(None, validate_default=True, description="Required when refusing.")

    _refusal_gives_reason = reason_required_unless("approve", "refusing an extension")


class Rectify(Command):
    measures: LongText
    evidence: Evidence = ()


class Review(Command):
    accept: bool
    reason: Note | None = Field(None, validate_default=True, description="Required when rejecting: what is still wrong.")

    _rejection_gives_reason = reason_required_unless("accept", "rejecting a rectification")


class FeedBack(Command):
    message: LongText


class EscalateExternally(Command):
    authority: PlaceName = Field(description="The authority the reporter takes the report to.")
    note: Note | None = None
