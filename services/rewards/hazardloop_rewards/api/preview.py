"""The reward a grading would propose, before the verifier saves it: the same policy and
the same arithmetic verification's reward decision uses, with nothing recorded."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, ValidationInfo, field_validator

from hazardloop.web.auth import Principal, Role, check_tenant, require
from hazardloop.web.edge import Command
from hazardloop.events import BreakdownLine, Grade, Outcome, RewardFactors, RewardPolicy, TenantId
from hazardloop.runtime.service import RuntimeDep
from hazardloop_rewards.commands import policy_history
from hazardloop_rewards.policy import in_force, reward_amount

routes = APIRouter(tags=["rewards"])

GRADED = (Outcome.CONFIRMED_HAZARD, Outcome.VALID_NOT_HAZARD)


class Grading(Command):
    """What the verifier is about to record: the outcome and, for a hazard, its grading."""

    tenant: TenantId
    outcome: Outcome
    grade: Grade | None = Field(None, validate_default=True, description="Required for a confirmed hazard, and only then.")
    factors: RewardFactors | None = Field(None, description="The six reward factors of a confirmed hazard.")
    within_routine_duties: bool = False

    @field_validator("outcome")
    @classmethod
    def _rewarded_outcome(cls, outcome: Outcome) -> Outcome:
        if outcome not in GRADED:
            raise ValueError(
                "a preview needs a confirmed hazard or a valid safety issue: nothing is due when not confirmed, "
                "and a duplicate follows the grading of the report it duplicates"
            )
        return outcome

    @field_validator("grade")
    @classmethod
    def _grade_of_a_hazard(cls, grade: Grade | None, info: ValidationInfo) -> Grade | None:
        hazard = info.data.get("outcome") == Outcome.CONFIRMED_HAZARD
        if hazard and grade is None:
            raise ValueError("a confirmed hazard needs its grade")
        if not hazard and grade is not None:
            raise ValueError("only a confirmed hazard has a grade")
        return grade


class Preview(BaseModel):
    amount_fen: int
    breakdown: list[BreakdownLine]
    policy: str
    """The name of the policy in force for the subsidiary now."""
    cap_fen: int
    above_cap: bool
    """The policy's arithmetic exceeded the cap: the amount shown is the cap, and more needs group HQ."""


@routes.post("/rewards/preview", response_model=Preview)
async def preview(
    body: Grading,
    runtime: RuntimeDep,
    principal: Annotated[Principal, Depends(require(Role.VERIFIER, Role.MANAGER, Role.LEADER))],
) -> Preview:
    """The reward this grading would get by the subsidiary's policy in force now: exactly the
    proposal its verification will produce (for a report of its own, not a duplicate)."""
    check_tenant(principal, body.tenant)
    chosen = in_force(await policy_history(runtime.event_store(), body.tenant), datetime.now(UTC))
    policy = chosen.policy if chosen else RewardPolicy()
    amount, lines = reward_amount(
        policy, outcome=body.outcome, grade=body.grade, factors=body.factors, within_routine_duties=body.within_routine_duties
    )
    return Preview(
        amount_fen=amount, breakdown=list(lines), policy=policy.name, cap_fen=policy.cap_fen,
        above_cap=any(line.rule == "cap" for line in lines),
    )
