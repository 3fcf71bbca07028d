"""Rewards: each subsidiary's reward policy and budget, and one reward aggregate per report
(its id the report's id): proposed by policy, approved by a department head (group HQ
above the cap or the budget), paid by finance, revoked only by a new event."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from hazardloop.events.envelope import AggregateId, Event, Fen, Note, PersonRef, PlaceName, Pseudonym, Sha256Hex, sealed
from hazardloop.events.report import Grade, Outcome

Percent = Annotated[int, Field(ge=0, le=100, strict=True)]
PolicyName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]


class FactorRule(BaseModel):
    """What one reward factor does: a multiplier on the base amount, then a bonus."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    multiplier_percent: Annotated[int, Field(ge=100, le=1000, strict=True)] = 100
    bonus_fen: Fen = 0


class FactorRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    at_height: FactorRule = FactorRule(multiplier_percent=120)
    outside_patrol_area: FactorRule = FactorRule(multiplier_percent=110)
    high_risk: FactorRule = FactorRule(multiplier_percent=150)
    at_night: FactorRule = FactorRule(multiplier_percent=110)
    bad_weather: FactorRule = FactorRule(multiplier_percent=110)
    hard_to_handle: FactorRule = FactorRule(multiplier_percent=120)


class BaseAmounts(BaseModel):
    """The reward before factors: small hazard, small reward; big hazard, big reward."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    valid_not_hazard: Fen = 2_000
    general: Fen = 10_000
    larger: Fen = 50_000
    major: Fen = 200_000


class RewardPolicy(BaseModel):
    """A subsidiary's reward rules. Amounts in fen."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: PolicyName = "default"
    base: BaseAmounts = BaseAmounts()
    factors: FactorRules = FactorRules()
    cap_fen: Fen = 500_000
    """Above this, an award is exceptional and needs group HQ's approval."""
    routine_duty_percent: Percent = 50
    """What is paid for a finding within the reporter's own routine duties."""
    duplicate_percent: Percent = 0
    """What a later reporter of an already reported hazard gets; the first gets it all."""


class RewardPolicySet(Event):
    """A subsidiary's reward policy, in force for verifications from ``effective_from``."""

    aggregate_type: ClassVar[str] = "policy"
    type: Literal["RewardPolicySet"] = "RewardPolicySet"
    policy: RewardPolicy
    effective_from: AwareDatetime


class RewardBudgetSet(Event):
    """A subsidiary's reward budget for a year (aggregate ``budget``, id ``year-<yyyy>``)."""

    aggregate_type: ClassVar[str] = "budget"
    type: Literal["RewardBudgetSet"] = "RewardBudgetSet"
    year: Annotated[int, Field(ge=2000, le=2200, strict=True)]
    amount_fen: Fen


class BudgetCommitted(Event):
    """An approved reward took its amount from the year's budget, once."""

    aggregate_type: ClassVar[str] = "budget"
    type: Literal["BudgetCommitted"] = "BudgetCommitted"
    report_id: AggregateId
    amount_fen: Fen
    over_budget: bool = False
    """Group HQ approved it although the budget had too little left."""


class BudgetReleased(Event):
    """A commitment whose approval never landed (it lost a race to a decline, say) was given back."""

    aggregate_type: ClassVar[str] = "budget"
    type: Literal["BudgetReleased"] = "BudgetReleased"
    report_id: AggregateId
    amount_fen: Fen


class BreakdownLine(BaseModel):
    """One step of the policy's arithmetic, with the running amount after it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    detail: Reason
    amount_fen: Fen


class HqReason(StrEnum):
    ABOVE_CAP = "above_cap"
    OVER_BUDGET = "over_budget"


class PayoutChannel(StrEnum):
    PAYROLL = "payroll"
    """With the reporter's wages: the payroll system subscribes to grants."""
    VOUCHER = "voucher"
    """Cash against a voucher an anonymous reporter claimed with their receipt code."""


class RewardProposed(Event):
    """The policy's amount for a verified report, line by line; the verifier who verified proposes it."""

    aggregate_type: ClassVar[str] = "reward"
    type: Literal["RewardProposed"] = "RewardProposed"
    report_id: AggregateId
    reporter: Pseudonym
    anonymous: bool = False
    proposer: PersonRef
    outcome: Outcome
    grade: Grade | None = None
    amount_fen: Fen
    breakdown: tuple[BreakdownLine, ...]
    policy: PolicyName
    policy_effective_from: datetime | None = None
    cap_fen: Fen
    first_report_id: AggregateId | None = None
    """For a duplicate: the report of the same hazard filed first."""


class RewardReferred(Event):
    """The department head's approval needs group HQ: above the cap, or beyond the budget."""

    aggregate_type: ClassVar[str] = "reward"
    type: Literal["RewardReferred"] = "RewardReferred"
    amount_fen: Fen
    reason: HqReason
    comment: sealed(Note, "The department head's comment.") | None = None


class RewardApproved(Event):
    """The amount to pay, approved (and possibly adjusted, with a reason)."""

    aggregate_type: ClassVar[str] = "reward"
    type: Literal["RewardApproved"] = "RewardApproved"
    amount_fen: Fen
    proposed_fen: Fen
    reason: sealed(Note, "Why the amount was adjusted.") | None = None
    level: Literal["department", "group_hq"] = "department"
    budget_year: Annotated[int, Field(ge=2000, le=2200, strict=True)]


class RewardClaimed(Event):
    """An anonymous reporter claimed their reward with their receipt code; only the
    voucher's digest is kept, so the payout reveals nobody."""

    aggregate_type: ClassVar[str] = "reward"
    type: Literal["RewardClaimed"] = "RewardClaimed"
    voucher_digest: Sha256Hex


class RewardGranted(Event):
    """Finance paid the approved reward: the payroll hand-off event."""

    aggregate_type: ClassVar[str] = "reward"
    type: Literal["RewardGranted"] = "RewardGranted"
    schema_version: Literal[2] = 2
    report_id: AggregateId
    reporter: Pseudonym
    amount_fen: Fen
    outcome: Outcome
    grade: Grade | None = None
    policy: PolicyName
    payment_reference: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
    channel: PayoutChannel = PayoutChannel.PAYROLL
    approved_by: PersonRef


class RewardDeclined(Event):
    """No reward will be paid for a report: not due by policy, or declined by an approver."""

    aggregate_type: ClassVar[str] = "reward"
    type: Literal["RewardDeclined"] = "RewardDeclined"
    report_id: AggregateId
    reporter: Pseudonym
    reason: sealed(Reason, "Why no reward is paid (the policy's own reasons stay plain).")


class RecognitionConsented(Event):
    """The reporter agreed to be named on the public notice of rewarded reports, as given.

    The name is public by the reporter's own choice; withdrawing consent (or erasing the
    reporter's key) takes it off the notice, which then shows the pseudonym again.
    """

    aggregate_type: ClassVar[str] = "reward"
    type: Literal["RecognitionConsented"] = "RecognitionConsented"
    display_name: sealed(PlaceName, "The name to show on the public notice.")


class RecognitionWithdrawn(Event):
    """The reporter no longer wants to be named on the public notice."""

    aggregate_type: ClassVar[str] = "reward"
    type: Literal["RecognitionWithdrawn"] = "RecognitionWithdrawn"


class RewardRevoked(Event):
    """A paid reward was found unjustified (proven fraud, say): recorded, never edited away."""

    aggregate_type: ClassVar[str] = "reward"
    type: Literal["RewardRevoked"] = "RewardRevoked"
    report_id: AggregateId
    reporter: Pseudonym
    amount_fen: Fen
    reason: sealed(Reason, "Why the reward was revoked.")
