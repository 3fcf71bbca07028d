"""The console's forms, checked here first so a mistake comes back marked in the page's
language before anything is sent; each turns into the owning service's request body."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from hazardloop.events import MESSAGE_LIMIT, Grade, Outcome, RewardFactors, RiskColour

FACTORS = tuple(RewardFactors.model_fields)


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]
Person = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]
Optional = BeforeValidator(_blank_is_none)
Ticked = Annotated[bool, BeforeValidator(lambda value: value in ("1", "on", True))]
"""A checkbox: sent ("on") when ticked, absent when not."""
Chosen = Annotated[list[str], BeforeValidator(lambda value: value if isinstance(value, list) else [value])]
"""Boxes of one name: a list when several are ticked, a single value when one is."""


def optional_text(max_length: int) -> Any:
    """A text field that may be left empty (empty means absent)."""
    return Annotated[Annotated[str, StringConstraints(strip_whitespace=True, max_length=max_length)] | None, Optional]


class Form(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    @classmethod
    def read(cls, values: dict[str, Any], **context: Any) -> Self:
        """The form, or ValidationError naming each field at fault."""
        return cls.model_validate({**values, **context})


def local_time(value: str, zone: ZoneInfo) -> datetime:
    """A ``datetime-local`` value, in the group's zone (what the person sees on the wall clock)."""
    try:
        naive = datetime.fromisoformat(value)
    except ValueError as exc:
        raise PydanticCustomError("datetime_parsing", "not a date and time") from exc
    return naive.replace(tzinfo=zone) if naive.tzinfo is None else naive


def yuan_to_fen(value: str) -> int:
    try:
        amount = Decimal(value.replace(",", "").strip())
    except InvalidOperation as exc:
        raise PydanticCustomError("float_parsing", "not a number") from exc
    if amount < 0 or amount > Decimal(100_000_000) or amount != amount.quantize(Decimal("0.01")):
        raise PydanticCustomError("value_error", "not an amount")
    return int(amount * 100)


class AcceptForm(Form):
    note: optional_text(4000) = None

    def body(self) -> dict[str, Any]:
        return {"note": self.note} if self.note else {}


class VerifyForm(Form):
    outcome: Outcome
    grade: Annotated[Grade | None, Optional] = None
    risk_colour: Annotated[RiskColour | None, Optional] = None
    factors: Chosen = []
    within_routine_duties: Ticked = False
    duplicate_of: optional_text(64) = None
    comment: optional_text(4000) = None

    @model_validator(mode="after")
    def _grade_for_a_hazard(self) -> Self:
        if self.outcome == Outcome.CONFIRMED_HAZARD and self.grade is None:
            raise ValidationError.from_exception_data(
                "VerifyForm", [{"type": "missing", "loc": ("grade",), "input": None}]
            )
        if self.outcome == Outcome.DUPLICATE and not self.duplicate_of:
            raise ValidationError.from_exception_data(
                "VerifyForm", [{"type": "missing", "loc": ("duplicate_of",), "input": None}]
            )
        return self

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"outcome": self.outcome.value}
        if self.outcome == Outcome.CONFIRMED_HAZARD:
            body |= {
                "grade": self.grade.value,
                "factors": {name: name in self.factors for name in FACTORS},
                "within_routine_duties": self.within_routine_duties,
            }
            if self.risk_colour:
                body["risk_colour"] = self.risk_colour.value
        if self.outcome == Outcome.DUPLICATE:
            body["duplicate_of"] = self.duplicate_of
        if self.comment:
            body["comment"] = self.comment
        return body


class AssignForm(Form):
    zone: Any = Field(exclude=True)
    major: bool = Field(False, exclude=True)
    owner: Person
    deadline: optional_text(400) = None
    responsible_person: optional_text(400) = None
    measures: optional_text(4000) = None
    funds_yuan: optional_text(400) = None
    emergency_plan: optional_text(4000) = None

    @model_validator(mode="after")
    def _plan_for_a_major_hazard(self) -> Self:
        missing = []
        if self.major:
            missing = [name for name in ("deadline", "responsible_person", "measures", "funds_yuan", "emergency_plan")
                       if getattr(self, name) is None]
        problems = [{"type": "missing", "loc": (name,), "input": None} for name in missing]
        for name, parse in (("deadline", lambda v: local_time(v, self.zone)), ("funds_yuan", yuan_to_fen)):
            value = getattr(self, name)
            if value is not None:
                try:
                    parse(value)
                except PydanticCustomError as exc:
                    problems.append({"type": exc.type, "loc": (name,), "input": value})
        if problems:
            raise ValidationError.from_exception_data("AssignForm", problems)
        return self

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"owner": self.owner}
        deadline = local_time(self.deadline, self.zone).isoformat() if self.deadline else None
        if self.major:
            body["plan"] = {
                "responsible_person": self.responsible_person, "measures": self.measures,
                "funds_fen": yuan_to_fen(self.funds_yuan), "deadline": deadline, "emergency_plan": self.emergency_plan,
            }
        elif deadline:
            body["deadline"] = deadline
        return body


class FeedbackForm(Form):
    message: Text

    def body(self) -> dict[str, Any]:
        return {"message": self.message}


class ReplyForm(Form):
    """A message to the reporter in the report's thread (intake keeps the thread)."""

    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MESSAGE_LIMIT)]

    def body(self) -> dict[str, Any]:
        return {"text": self.text}


class RectifyForm(Form):
    measures: Text

    def body(self, evidence: list[str]) -> dict[str, Any]:
        return {"measures": self.measures, "evidence": evidence}


class ExtensionForm(Form):
    zone: Any = Field(exclude=True)
    deadline: str
    reason: Text

    @model_validator(mode="after")
    def _a_time(self) -> Self:
        try:
            local_time(self.deadline, self.zone)
        except PydanticCustomError as exc:
            raise ValidationError.from_exception_data(
                "ExtensionForm", [{"type": exc.type, "loc": ("deadline",), "input": self.deadline}]
            ) from None
        return self

    def body(self) -> dict[str, Any]:
        return {"deadline": local_time(self.deadline, self.zone).isoformat(), "reason": self.reason}


class DecisionForm(Form):
    """Approve or refuse (an extension, a rectification, a reward): refusing needs a reason."""

    decision: Annotated[str, StringConstraints(pattern=r"^(approve|refuse)$")]
    reason: optional_text(400) = None

    @model_validator(mode="after")
    def _reason_to_refuse(self) -> Self:
        if self.decision == "refuse" and not self.reason:
            raise ValidationError.from_exception_data("DecisionForm", [{"type": "missing", "loc": ("reason",), "input": None}])
        return self

    @property
    def approve(self) -> bool:
        return self.decision == "approve"
