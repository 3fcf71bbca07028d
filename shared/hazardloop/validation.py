"""Validators commands share, written so a 422 names the field at fault."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationInfo, field_validator


def reason_required_unless(flag: str, doing: str) -> Any:
    """A ``reason`` validator: required when the boolean field ``flag`` (declared before
    ``reason``) is false; declare ``reason`` with ``validate_default=True``."""

    def check(cls: type, reason: str | None, info: ValidationInfo) -> str | None:
        if info.data.get(flag) is False and not reason:
            raise ValueError(f"reason is required when {doing}")
        return reason

    return field_validator("reason")(classmethod(check))
