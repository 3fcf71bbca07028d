"""Rewards' HTTP routes: decisions and totals for finance, managers and auditors."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel
from sqlalchemy import func, select

from hazardloop.auth import Principal, Role, check_tenant, require
from hazardloop.service import RuntimeDep
from hazardloop_rewards.store import decisions

routes = APIRouter(tags=["rewards"])
Reader = Annotated[Principal, Depends(require(Role.FINANCE, Role.MANAGER, Role.AUDITOR, Role.VERIFIER))]


class DecisionView(BaseModel):
    report_id: str
    tenant: str
    reporter: str
    status: str
    amount_fen: int
    outcome: str
    grade: str | None = None
    policy: str | None = None
    reason: str | None = None
    decided_at: datetime


class Totals(BaseModel):
    tenant: str
    granted: int
    declined: int
    amount_fen: int


@routes.get("/rewards", response_model=list[DecisionView])
def list_decisions(
    runtime: RuntimeDep,
    principal: Reader,
    tenant: Annotated[str, Query()],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DecisionView]:
    check_tenant(principal, tenant)
    query = select(decisions).where(decisions.c.tenant == tenant).order_by(decisions.c.decided_at.desc()).limit(limit)
    with runtime.engine.connect() as db:
        return [DecisionView.model_validate(row._mapping) for row in db.execute(query)]


@routes.get("/rewards/totals", response_model=Totals)
def totals(runtime: RuntimeDep, principal: Reader, tenant: Annotated[str, Query()]) -> Totals:
    check_tenant(principal, tenant)
    granted = func.count().filter(decisions.c.status == "granted")
    query = select(func.count(), granted, func.coalesce(func.sum(decisions.c.amount_fen), 0)).where(
        decisions.c.tenant == tenant
    )
    with runtime.engine.connect() as db:
        count, granted_count, amount = db.execute(query).one()
    granted_count = int(granted_count or 0)
    return Totals(tenant=tenant, granted=granted_count, declined=count - granted_count, amount_fen=int(amount))


@routes.get("/rewards/{report_id}", response_model=DecisionView)
def read(report_id: str, runtime: RuntimeDep, principal: Reader) -> DecisionView:
    with runtime.engine.connect() as db:
        row = db.execute(select(decisions).where(decisions.c.report_id == report_id)).first()
    if row is None or not principal.may_access(row.tenant):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no reward decision for report {report_id!r}")
    return DecisionView.model_validate(row._mapping)
