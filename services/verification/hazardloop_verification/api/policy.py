"""Each subsidiary's casework policy: clocks, default deadlines, escalation ladder.

Kept as events, so an auditor sees who changed it when, and every deadline shows the
ladder it was set under.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from hazardloop.events import CaseworkPolicy, TenantId
from hazardloop.runtime.service import RuntimeDep
from hazardloop.web.auth import Principal, Role, check_tenant, require
from hazardloop_verification import queries
from hazardloop_verification.api.cases import STAFF, CaseworkDep
from hazardloop_verification.domain import SetCaseworkPolicy

routes = APIRouter(tags=["casework policy"])


@routes.get("/policy", response_model=CaseworkPolicy)
async def policy(
    runtime: RuntimeDep, principal: Annotated[Principal, Depends(require(*STAFF))], tenant: Annotated[TenantId, Query()]
) -> CaseworkPolicy:
    """The policy in force (the defaults until one is set)."""
    check_tenant(principal, tenant)
    return await asyncio.to_thread(queries.policy_of, runtime.engine, tenant)


@routes.put("/policy", response_model=CaseworkPolicy)
async def set_policy(
    body: SetCaseworkPolicy,
    casework: CaseworkDep,
    principal: Annotated[Principal, Depends(require(Role.MANAGER, Role.LEADER))],
    tenant: Annotated[TenantId, Query()],
) -> CaseworkPolicy:
    """Set the policy; it applies to reports filed and deadlines set from now on."""
    check_tenant(principal, tenant)
    return (await casework.set_policy(tenant, body, principal.subject)).policy
