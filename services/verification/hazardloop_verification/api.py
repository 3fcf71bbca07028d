"""Verification's HTTP routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel
from sqlalchemy import select

from hazardloop.auth import Principal, Role, check_tenant, require
from hazardloop.service import Runtime, RuntimeDep
from hazardloop_verification.domain import Rectify, Stage, Verify
from hazardloop_verification.handlers import handle_rectify, handle_verify
from hazardloop_verification.store import cases

routes = APIRouter(tags=["verification"])


class CaseView(BaseModel):
    report_id: str
    tenant: str
    stage: str
    category: str
    description: str
    site: str
    area: str
    spot: str
    filed_at: datetime
    outcome: str | None = None
    grade: str | None = None
    verified_at: datetime | None = None
    measures: str | None = None
    rectified_at: datetime | None = None


class Recorded(BaseModel):
    report_id: str
    event: str
    event_id: str
    occurred_at: datetime


def _tenant_of(runtime: Runtime, principal: Principal, report_id: str) -> str:
    """The report's subsidiary, from the read model; hidden if the caller may not see it."""
    with runtime.engine.connect() as db:
        tenant = db.execute(select(cases.c.tenant).where(cases.c.report_id == report_id)).scalar()
    if tenant is None or not principal.may_access(tenant):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no report {report_id!r} in your queue")
    return tenant


@routes.get("/queue", response_model=list[CaseView])
def queue(
    runtime: RuntimeDep,
    principal: Annotated[Principal, Depends(require(Role.VERIFIER, Role.MANAGER, Role.AUDITOR))],
    tenant: Annotated[str, Query(description="Subsidiary whose queue to show.")],
    stage: Annotated[Stage, Query()] = Stage.FILED,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[CaseView]:
    """Reports awaiting the safety department, oldest first."""
    check_tenant(principal, tenant)
    query = (
        select(cases)
        .where(cases.c.tenant == tenant, cases.c.stage == stage.value)
        .order_by(cases.c.filed_at)
        .limit(limit)
    )
    with runtime.engine.connect() as db:
        return [CaseView.model_validate(row._mapping) for row in db.execute(query)]


@routes.post("/reports/{report_id}/verification", status_code=status.HTTP_201_CREATED, response_model=Recorded)
async def verify(
    report_id: str,
    command: Verify,
    runtime: RuntimeDep,
    principal: Annotated[Principal, Depends(require(Role.VERIFIER))],
) -> Recorded:
    tenant = _tenant_of(runtime, principal, report_id)
    event = await handle_verify(runtime.event_store(), tenant, report_id, command, actor=principal.subject)
    return Recorded(report_id=report_id, event=event.type, event_id=str(event.event_id), occurred_at=event.occurred_at)


@routes.post("/reports/{report_id}/rectification", status_code=status.HTTP_201_CREATED, response_model=Recorded)
async def rectify(
    report_id: str,
    command: Rectify,
    runtime: RuntimeDep,
    principal: Annotated[Principal, Depends(require(Role.RECTIFIER, Role.VERIFIER))],
) -> Recorded:
    tenant = _tenant_of(runtime, principal, report_id)
    event = await handle_rectify(runtime.event_store(), tenant, report_id, command, actor=principal.subject)
    return Recorded(report_id=report_id, event=event.type, event_id=str(event.event_id), occurred_at=event.occurred_at)
