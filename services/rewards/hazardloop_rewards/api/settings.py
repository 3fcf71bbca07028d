"""Rewards' settings routes: a subsidiary's reward policy and its yearly budget, each kept as events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import Field

from hazardloop.events import Fen, RewardPolicy, TenantId
from hazardloop.runtime.service import RuntimeDep
from hazardloop.web.auth import Principal, Role, check_tenant, require
from hazardloop.web.edge import Command, Instant
from hazardloop_rewards.api.rewards import CommandsDep
from hazardloop_rewards.api.views import BudgetView, PolicyInForce, budget_of

routes = APIRouter(tags=["rewards: settings"])


class SetPolicy(RewardPolicy, Command):
    effective_from: Instant | None = Field(None, description="When it takes effect: now when omitted, never in the past, at most three years ahead.")


class SetBudget(Command):
    amount_fen: Fen


@routes.put("/policy", response_model=PolicyInForce)
async def set_policy(
    body: SetPolicy,
    commands: CommandsDep,
    principal: Annotated[Principal, Depends(require(Role.MANAGER, Role.LEADER))],
    tenant: Annotated[TenantId, Query()],
) -> PolicyInForce:
    """Set a new version of the policy; it applies to reports verified from its effective date."""
    check_tenant(principal, tenant)
    policy = RewardPolicy.model_validate(body.model_dump(exclude={"effective_from"}))
    event = await commands.set_policy(tenant, policy, body.effective_from, actor=principal.subject)
    return PolicyInForce(tenant=tenant, effective_from=event.effective_from, policy=event.policy)


@routes.put("/budgets", response_model=BudgetView)
async def set_budget(
    body: SetBudget,
    runtime: RuntimeDep,
    commands: CommandsDep,
    principal: Annotated[Principal, Depends(require(Role.LEADER, Role.FINANCE))],
    tenant: Annotated[TenantId, Query()],
    year: Annotated[int, Query(ge=2000, le=2200)],
) -> BudgetView:
    """Set the year's reward budget (kept as an event)."""
    check_tenant(principal, tenant)
    await commands.set_budget(tenant, year, body.amount_fen, actor=principal.subject)
    known = budget_of(runtime, tenant, year)
    return known.model_copy(update={"amount_fen": body.amount_fen, "remaining_fen": body.amount_fen - known.committed_fen})
