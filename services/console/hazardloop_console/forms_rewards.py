"""The forms of the reward pages, checked in the console so a mistake comes back marked in
the page's language before anything is sent; each turns into the rewards API's body."""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import BeforeValidator, Field, StringConstraints, ValidationError, model_validator

from hazardloop.events import RewardFactors
from hazardloop_console.forms import Form, Optional, local_time, optional_text, yuan_to_fen

FACTORS = tuple(RewardFactors.model_fields)
GRADES = ("valid_not_hazard", "general", "larger", "major")
"""The base amounts of a policy, in the order a form shows them."""


def _fen(value: Any) -> Any:
    return yuan_to_fen(value) if isinstance(value, str) else value


Yuan = Annotated[int, BeforeValidator(_fen)]
"""An amount typed in yuan (``1,234.50``), kept in fen."""
MaybeYuan = Annotated[Yuan | None, Optional]
Reason = optional_text(400)
Decision = Annotated[str, StringConstraints(pattern=r"^(approve|decline)$")]


def _missing(model: str, *fields: str) -> ValidationError:
    return ValidationError.from_exception_data(model, [{"type": "missing", "loc": (name,), "input": None} for name in fields])


class ApprovalForm(Form):
    """The department head's decision: approve as proposed or adjusted, or decline."""

    proposed_fen: int = Field(exclude=True)
    decision: Decision
    amount_yuan: MaybeYuan = None
    reason: Reason = None

    @model_validator(mode="after")
    def _reasons(self) -> Self:
        adjusted = self.decision == "approve" and self.amount_yuan is not None and self.amount_yuan != self.proposed_fen
        if (adjusted or self.decision == "decline") and not self.reason:
            raise _missing("ApprovalForm", "reason")
        return self

    def body(self) -> dict[str, Any]:
        if self.decision == "decline":
            return {"approve": False, "reason": self.reason}
        body: dict[str, Any] = {"approve": True}
        if self.amount_yuan is not None and self.amount_yuan != self.proposed_fen:
            body["amount_fen"] = self.amount_yuan
        if self.reason:
            body["reason"] = self.reason
        return body


class HqForm(Form):
    """Group HQ's decision on a referred reward."""

    decision: Decision
    reason: Reason = None

    @model_validator(mode="after")
    def _reason_to_decline(self) -> Self:
        if self.decision == "decline" and not self.reason:
            raise _missing("HqForm", "reason")
        return self

    def body(self) -> dict[str, Any]:
        return {"approve": self.decision == "approve"} | ({"reason": self.reason} if self.reason else {})


class PaymentForm(Form):
    """Finance's record of a payout; an anonymous reward is paid against its voucher."""

    anonymous: bool = Field(False, exclude=True)
    payment_reference: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
    voucher_code: optional_text(40) = None

    @model_validator(mode="after")
    def _voucher_of_an_anonymous_reward(self) -> Self:
        if self.anonymous and not self.voucher_code:
            raise _missing("PaymentForm", "voucher_code")
        return self

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"payment_reference": self.payment_reference}
        if self.anonymous:
            body["voucher_code"] = self.voucher_code
        return body


class BudgetForm(Form):
    tenant: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    year: Annotated[int, Field(ge=2000, le=2200)]
    amount_yuan: Yuan


class PolicyForm(Form):
    """A new version of the reward policy: money in yuan, multipliers and shares in percent."""

    zone: Any = Field(exclude=True)
    tenant: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
    base_valid_not_hazard: Yuan
    base_general: Yuan
    base_larger: Yuan
    base_major: Yuan
    cap_yuan: Yuan
    routine_duty_percent: Annotated[int, Field(ge=0, le=100)]
    duplicate_percent: Annotated[int, Field(ge=0, le=100)]
    effective_from: optional_text(40) = None
    factors: dict[str, dict[str, int]] = {}

    @model_validator(mode="before")
    @classmethod
    def _factor_fields(cls, values: dict[str, Any]) -> dict[str, Any]:
        """Each factor's two fields (``<factor>_multiplier``, ``<factor>_bonus``), gathered and checked."""
        factors, problems = {}, []
        for name in FACTORS:
            rule = {}
            multiplier = str(values.get(f"{name}_multiplier", "100")).strip() or "100"
            try:
                rule["multiplier_percent"] = int(multiplier)
                if not 100 <= rule["multiplier_percent"] <= 1000:
                    problems.append({"type": "value_error", "loc": (f"{name}_multiplier",), "input": multiplier, "ctx": {"error": "100-1000"}})
            except ValueError:
                problems.append({"type": "int_parsing", "loc": (f"{name}_multiplier",), "input": multiplier})
            bonus = str(values.get(f"{name}_bonus", "0")).strip() or "0"
            try:
                rule["bonus_fen"] = yuan_to_fen(bonus)
            except Exception:  # noqa: BLE001 - yuan_to_fen's own error names no field; this one does
                problems.append({"type": "float_parsing", "loc": (f"{name}_bonus",), "input": bonus})
            factors[name] = rule
        if problems:
            raise ValidationError.from_exception_data("PolicyForm", problems)
        return {**values, "factors": factors}

    @model_validator(mode="after")
    def _a_time(self) -> Self:
        if self.effective_from:
            try:
                local_time(self.effective_from, self.zone)
            except Exception:  # noqa: BLE001
                raise ValidationError.from_exception_data(
                    "PolicyForm", [{"type": "datetime_parsing", "loc": ("effective_from",), "input": self.effective_from}]
                ) from None
        return self

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.name,
            "base": {grade: getattr(self, f"base_{grade}") for grade in GRADES},
            "factors": self.factors,
            "cap_fen": self.cap_yuan,
            "routine_duty_percent": self.routine_duty_percent,
            "duplicate_percent": self.duplicate_percent,
        }
        if self.effective_from:
            body["effective_from"] = local_time(self.effective_from, self.zone).isoformat()
        return body


class SignalDismissalForm(Form):
    """A reviewer finds a fraud signal unfounded: the reason is required, and kept."""

    tenant: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=400)]

    def body(self) -> dict[str, Any]:
        return {"tenant": self.tenant, "reason": self.reason}


class SignalConfirmationForm(Form):
    """A reviewer finds a fraud signal founded, with an optional note."""

    tenant: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    note: optional_text(4000) = None

    def body(self) -> dict[str, Any]:
        return {"tenant": self.tenant} | ({"note": self.note} if self.note else {})

