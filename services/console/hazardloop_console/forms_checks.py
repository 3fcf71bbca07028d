"""The forms of checks elsewhere, checked here first so that a mistake comes back marked in
the page's language; each becomes the body verification (or intake) takes."""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import Field, StringConstraints, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from hazardloop.events import Category
from hazardloop_console.forms import Chosen, Form, Optional, Text, Ticked, local_time, optional_text

Pattern = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9*][A-Za-z0-9._/*-]{0,39}$")]


def _a_time(form: str, name: str, value: str | None, zone: Any) -> None:
    """Refuse a ``datetime-local`` value that is no time, naming the field."""
    if value is None:
        return
    try:
        local_time(value, zone)
    except PydanticCustomError as exc:
        raise ValidationError.from_exception_data(form, [{"type": exc.type, "loc": (name,), "input": value}]) from None


class RaiseCheckForm(Form):
    zone: Any = Field(exclude=True)
    category: Annotated[Category | None, Optional] = None
    equipment: Annotated[Pattern | None, Optional] = None
    look_for: Text
    everyone: Ticked = False
    subsidiaries: Chosen = []
    due: optional_text(40) = None

    @model_validator(mode="after")
    def _somebody(self) -> Self:
        if not self.everyone and not self.subsidiaries:
            raise ValidationError.from_exception_data("RaiseCheckForm", [{"type": "missing", "loc": ("subsidiaries",), "input": None}])
        _a_time("RaiseCheckForm", "due", self.due, self.zone)
        return self

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"look_for": self.look_for}
        body |= {"all_subsidiaries": True} if self.everyone else {"subsidiaries": self.subsidiaries}
        if self.category:
            body["category"] = self.category.value
        if self.equipment:
            body["equipment"] = self.equipment
        if self.due:
            body["due"] = local_time(self.due, self.zone).isoformat()
        return body


class NotPresentForm(Form):
    note: optional_text(4000) = None

    def body(self) -> dict[str, Any]:
        return {"answer": "not_present"} | ({"note": self.note} if self.note else {})


class MoreTimeForm(Form):
    zone: Any = Field(exclude=True)
    deadline: str
    reason: Text

    @model_validator(mode="after")
    def _a_deadline(self) -> Self:
        _a_time("MoreTimeForm", "deadline", self.deadline, self.zone)
        return self

    def body(self) -> dict[str, Any]:
        return {"deadline": local_time(self.deadline, self.zone).isoformat(), "reason": self.reason}


class FoundForm(Form):
    """The subsidiary's own report of what it found, linked to the check (intake files it)."""

    zone: Any = Field(exclude=True)
    category: Category
    subtype: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,63}$")] = "other"
    description: Text
    place_id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
    spot_detail: optional_text(120) = None
    equipment_tag: optional_text(40) = None
    observed_at: str

    @model_validator(mode="after")
    def _a_time(self) -> Self:
        _a_time("FoundForm", "observed_at", self.observed_at, self.zone)
        return self

    def body(self, tenant: str, check_id: str) -> dict[str, Any]:
        body = {
            "tenant": tenant, "check_id": check_id, "category": self.category.value, "subtype": self.subtype,
            "description": self.description, "place_id": self.place_id,
            "observed_at": local_time(self.observed_at, self.zone).isoformat(),
        }
        return body | {k: v for k, v in (("spot_detail", self.spot_detail), ("equipment_tag", self.equipment_tag)) if v}
