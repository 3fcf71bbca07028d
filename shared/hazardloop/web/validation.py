"""Validators commands and routes share, written so a 422 names the field at fault."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import ValidationInfo, field_validator

from hazardloop.events import AggregateId

IdInPath = Annotated[
    AggregateId,
    Path(description="An id as the log keys it: lowercase letters, digits, '-' and '_', at most 63 characters."),
]
"""Every id a route takes from its path (report, place, endpoint, delivery): it becomes a
subject token, so anything else (a wildcard, a dot, a space) is a 422 before the log is read."""


def reason_required_unless(flag: str, doing: str) -> Any:
    """A ``reason`` validator: required when the boolean field ``flag`` (declared before
    ``reason``) is false; declare ``reason`` with ``validate_default=True``."""

    def check(cls: type, reason: str | None, info: ValidationInfo) -> str | None:
        if info.data.get(flag) is False and not reason:
            raise ValueError(f"reason is required when {doing}")
        return reason

    return field_validator("reason")(classmethod(check))
