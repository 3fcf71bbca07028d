"""The reward a grading would propose, before the verifier saves it: the same policy and
the same arithmetic verification's reward decision uses, with nothing recorded."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from hazardloop.events import BreakdownLine
from hazardloop.web.auth import Principal, Role, check_tenant, require
from hazardloop_rewards.api.rewards import CommandsDep
from hazardloop_rewards.domain import Grading

routes = APIRouter(tags=["rewards"])


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
    commands: CommandsDep,
    principal: Annotated[Principal, Depends(require(Role.VERIFIER, Role.MANAGER, Role.LEADER))],
) -> Preview:
    """The reward this grading would get by the subsidiary's policy in force now: exactly the
    proposal its verification will produce (for a report of its own, not a duplicate)."""
    check_tenant(principal, body.tenant)
    return Preview.model_validate(await commands.preview(body), from_attributes=True)
