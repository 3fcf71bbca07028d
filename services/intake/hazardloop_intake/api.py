"""Intake's HTTP routes: translate requests to the handler and rows to responses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Response, status
from pydantic import BaseModel, StringConstraints
from sqlalchemy import select

from hazardloop.auth import Principal, Role, authenticated, check_tenant, require
from hazardloop.errors import Invalid
from hazardloop.service import RuntimeDep
from hazardloop_intake.domain import FileReport
from hazardloop_intake.handlers import handle_file_report
from hazardloop_intake.store import reports

STAFF = frozenset({Role.VERIFIER, Role.RECTIFIER, Role.MANAGER, Role.AUDITOR})
IdempotencyKey = Annotated[str, StringConstraints(min_length=8, max_length=200, pattern=r"^[\x21-\x7e]+$")]


class ReportView(BaseModel):
    report_id: str
    tenant: str
    status: str
    category: str
    description: str
    location: dict[str, str]
    observed_at: datetime
    filed_at: datetime
    anonymous: bool
    channel: str
    outcome: str | None = None
    grade: str | None = None
    measures: str | None = None
    reward_fen: int | None = None


class Filed(BaseModel):
    report_id: str
    tenant: str
    status: str
    filed_at: datetime
    event_id: str


routes = APIRouter(tags=["reports"])


@routes.post("/reports", status_code=status.HTTP_201_CREATED, response_model=Filed)
async def file(
    command: FileReport,
    response: Response,
    runtime: RuntimeDep,
    principal: Annotated[Principal, Depends(require(Role.REPORTER))],
    idempotency_key: Annotated[IdempotencyKey | None, Header(alias="Idempotency-Key")] = None,
) -> Filed:
    if command.tenant not in runtime.settings.tenants:
        raise Invalid(f"unknown subsidiary {command.tenant!r}", field="tenant")
    check_tenant(principal, command.tenant)
    reporter = runtime.pseudonyms.of(command.tenant, principal.subject)
    event, created = await handle_file_report(
        runtime.event_store(), command, reporter=reporter, idempotency_key=idempotency_key
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/reports/{event.aggregate_id}"
    return Filed(
        report_id=event.aggregate_id, tenant=event.tenant, status="filed", filed_at=event.occurred_at, event_id=str(event.event_id)
    )


def _view(row) -> ReportView:
    return ReportView(
        **{k: v for k, v in row._mapping.items() if k in ReportView.model_fields},
        location={"site": row.site, "area": row.area, "spot": row.spot},
    )


def _visible_to(principal: Principal, runtime, row) -> bool:
    if not principal.may_access(row.tenant):
        return False
    if principal.has_any(STAFF):
        return True
    return row.reporter == runtime.pseudonyms.of(row.tenant, principal.subject)


@routes.get("/reports/{report_id}", response_model=ReportView)
def read(report_id: str, runtime: RuntimeDep, principal: Annotated[Principal, Depends(authenticated)]) -> ReportView:
    with runtime.engine.connect() as db:
        row = db.execute(select(reports).where(reports.c.report_id == report_id)).first()
    if row is None or not _visible_to(principal, runtime, row):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no report {report_id!r} visible to you")
    return _view(row)


@routes.get("/reports", response_model=list[ReportView])
def list_reports(
    runtime: RuntimeDep,
    principal: Annotated[Principal, Depends(authenticated)],
    tenant: Annotated[str | None, Query(description="Subsidiary to list (staff).")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ReportView]:
    """Staff see a subsidiary's reports; a reporter sees their own."""
    query = select(reports).order_by(reports.c.filed_at.desc()).limit(limit)
    if principal.has_any(STAFF):
        if tenant is None:
            raise Invalid("name the subsidiary to list", field="tenant")
        check_tenant(principal, tenant)
        query = query.where(reports.c.tenant == tenant)
    else:
        mine = runtime.own_pseudonyms(principal)
        query = query.where(reports.c.reporter.in_(mine))
    with runtime.engine.connect() as db:
        return [_view(row) for row in db.execute(query)]
