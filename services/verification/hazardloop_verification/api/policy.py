"""Each subsidiary's casework policy: clocks, default deadlines, escalation ladder.

Kept as events, so an auditor sees who changed it when, and every deadline shows the
ladder it was set under.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from hazardloop.web.auth import Principal, Role, check_tenant, require
from hazardloop.web.edge import Command
from hazardloop.events import CaseworkPolicy, TenantId
from hazardloop_verification.api.cases import STAFF, CaseworkDep

routes = APIRouter(tags=["casework policy"])


class SetCaseworkPolicy(CaseworkPolicy, Command):
    """The policy as a request body: strict JSON, safe text."""


@routes.get("/policy", response_model=CaseworkPolicy)
async def policy(
    casework: CaseworkDep, principal: Annotated[Principal, Depends(require(*STAFF))], tenant: Annotated[TenantId, Query()]
) -> CaseworkPolicy:
    """The policy in force (the defaults until one is set)."""
    check_tenant(principal, tenant)
    return await casework.policy(tenant)


@routes.put("/policy", response_model=CaseworkPolicy)
async def set_policy(
    body: SetCaseworkPolicy,
    casework: CaseworkDep,
    principal: Annotated[Principal, Depends(require(Role.MANAGER, Role.LEADER))],
    tenant: Annotated[TenantId, Query()],
) -> CaseworkPolicy:
    """Set the policy; it applies to reports filed and deadlines set from now on."""
    check_tenant(principal, tenant)
    return (await casework.set_policy(tenant, CaseworkPolicy.model_validate(body.model_dump()), principal.subject)).policy
