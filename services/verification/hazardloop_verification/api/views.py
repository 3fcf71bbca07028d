"""Verification's read routes: the triage queue, the overdue list, the rectification board,
the hazard ledger and one report's case. A subsidiary sees itself; group HQ sees all."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from pydantic import BaseModel

from hazardloop.events import EscalationStep, RectificationPlan, RewardFactors, TenantId
from hazardloop.exports.spreadsheet import spreadsheet_safe
from hazardloop.runtime.service import Runtime, RuntimeDep
from hazardloop.web.auth import Principal, Role, check_tenant, require
from hazardloop.web.edge import Instant
from hazardloop.web.validation import IdInPath
from hazardloop_verification import queries
from hazardloop_verification.api.cases import STAFF
from hazardloop_verification.domain import Stage

routes = APIRouter(tags=["casework views"])

Staff = Annotated[Principal, Depends(require(*STAFF))]
Limit = Annotated[int, Query(ge=1, le=1000)]


class CaseView(BaseModel):
    report_id: str
    tenant: str
    stage: Stage
    category: str
    subtype: str
    description: str
    site: str
    area: str
    spot: str
    place_id: str | None
    equipment_tag: str | None
    filed_at: datetime
    accepted_at: datetime | None
    outcome: str | None
    grade: str | None
    risk_colour: str | None
    factors: RewardFactors | None
    within_routine_duties: bool | None
    duplicate_of: str | None
    first_report_id: str | None
    verified_by: str | None
    verified_at: datetime | None
    owner: str | None
    deadline: datetime | None
    plan: RectificationPlan | None
    escalation: list[EscalationStep]
    extension_requested_deadline: datetime | None
    extension_reason: str | None
    measures: str | None
    rectified_at: datetime | None
    closed_at: datetime | None
    fed_back_at: datetime | None
    sla_breaches: list[str]
    overdue_since: datetime | None
    escalation_step: int | None
    externally_escalated_at: datetime | None
    authority: str | None
    recurrence_of: str | None


class TimerView(BaseModel):
    key: str
    kind: str
    due_at: datetime
    status: str


class CaseDetail(CaseView):
    timers: list[TimerView]


def _scope(runtime: Runtime, principal: Principal, tenant: str | None) -> list[str]:
    """The subsidiaries asked for: one, or (no tenant given) every one the caller acts in."""
    if tenant is not None:
        check_tenant(principal, tenant)
        return [tenant]
    return principal.tenants_within(runtime.settings.tenants)


async def _shown(runtime: Runtime, found: list[queries.Case]) -> list[CaseView]:
    return [CaseView.model_validate(case) for case in await runtime.texts.reveal(found)]


TenantQuery = Annotated[TenantId | None, Query(description="One subsidiary; all of yours (HQ: all) when omitted.")]


@routes.get("/reports/{report_id}", response_model=CaseDetail)
async def case(report_id: IdInPath, runtime: RuntimeDep, principal: Staff) -> CaseDetail:
    """One report's case, with every clock it started and where each stands."""
    found = await asyncio.to_thread(queries.case_with_clocks, runtime.engine, report_id)
    if found is None or not principal.may_access(found["tenant"]):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no report {report_id!r} visible to you")
    return await runtime.texts.reveal_model(CaseDetail.model_validate(found))


@routes.get("/queue", response_model=list[CaseView])
async def queue(
    runtime: RuntimeDep,
    principal: Staff,
    tenant: TenantQuery = None,
    stage: Annotated[Stage, Query()] = Stage.FILED,
    limit: Limit = 100,
) -> list[CaseView]:
    """Reports at one stage, oldest first: by default the triage queue of new reports."""
    tenants = _scope(runtime, principal, tenant)
    return await _shown(runtime, await asyncio.to_thread(queries.at_stage, runtime.engine, tenants, stage, limit))


@routes.get("/overdue", response_model=list[CaseView])
async def overdue(runtime: RuntimeDep, principal: Staff, tenant: TenantQuery = None, limit: Limit = 100) -> list[CaseView]:
    """Rectifications past their deadline and not yet closed, longest overdue first."""
    tenants = _scope(runtime, principal, tenant)
    return await _shown(runtime, await asyncio.to_thread(queries.overdue, runtime.engine, tenants, limit))


@routes.get("/board", response_model=list[CaseView])
async def board(
    runtime: RuntimeDep,
    principal: Staff,
    tenant: TenantQuery = None,
    owner: Annotated[str | None, Query(description="One owner's rectifications; a rectifier sees their own.")] = None,
    limit: Limit = 200,
) -> list[CaseView]:
    """Open rectifications by owner, each owner's nearest deadline first."""
    if not principal.has_any(frozenset(STAFF) - {Role.RECTIFIER}):  # a rectifier (maybe also a reporter) sees their own
        owner = principal.subject
    tenants = _scope(runtime, principal, tenant)
    return await _shown(runtime, await asyncio.to_thread(queries.board, runtime.engine, tenants, owner, limit))


LEDGER_COLUMNS = (
    "report_id", "tenant", "filed_at", "site", "area", "spot", "equipment_tag", "category", "subtype", "description",
    "outcome", "grade", "risk_colour", "owner", "measures", "deadline", "rectified_at", "closed_at", "overdue_since",
    "externally_escalated_at", "recurrence_of",
)  # fmt: skip


@routes.get("/ledger", response_model=list[CaseView], responses={200: {"content": {"text/csv": {}}}})
async def ledger(
    runtime: RuntimeDep,
    principal: Staff,
    tenant: TenantQuery = None,
    since: Annotated[Instant | None, Query(description="Reports filed at or after.")] = None,
    until: Annotated[Instant | None, Query(description="Reports filed before.")] = None,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> Any:
    """The hazard ledger: time, place, situation, grade, measures, deadline and closure of each report."""
    tenants = _scope(runtime, principal, tenant)
    rows = await _shown(runtime, await asyncio.to_thread(queries.ledger, runtime.engine, tenants, since, until, limit))
    if format == "json":
        return rows
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(LEDGER_COLUMNS)
    for row in rows:
        values = row.model_dump(mode="json")
        writer.writerow([spreadsheet_safe(values[c]) for c in LEDGER_COLUMNS])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": 'attachment; filename="ledger.csv"'})
