"""Intake's HTTP routes for reports: file, read, list, follow. They translate, nothing more."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, StringConstraints
from sqlalchemy import Connection, select

from hazardloop.errors import Invalid
from hazardloop.log.eventstore import AppendOutcomeUnknown
from hazardloop.privacy.receipts import ReceiptCode, receipt_digest
from hazardloop.runtime.service import RuntimeDep
from hazardloop.web.auth import Principal, Role, authenticated, check_tenant, require
from hazardloop.web.http import refusals
from hazardloop.web.validation import IdInPath
from hazardloop_intake.adapters import Intake
from hazardloop_intake.commands import handle_file_report
from hazardloop_intake.domain import Filer, FileReport, new_idempotency_key
from hazardloop_intake.lookups import checked_code
from hazardloop_intake.store import attachments, reports

STAFF = frozenset({Role.VERIFIER, Role.RECTIFIER, Role.MANAGER, Role.AUDITOR, Role.CONFIDENTIALITY_OFFICER})
IdempotencyKey = Annotated[str, StringConstraints(min_length=8, max_length=200, pattern=r"^[\x21-\x7e]+$")]


async def intake_of(request: Request) -> Intake:
    return request.app.state.intake


IntakeDep = Annotated[Intake, Depends(intake_of)]


class AttachmentView(BaseModel):
    digest: str
    kind: str
    content_type: str
    size: int
    thumbnail: str | None


class Step(BaseModel):
    type: str
    occurred_at: datetime
    detail: dict[str, Any] = {}


class ReportView(BaseModel):
    report_id: str
    tenant: str
    status: str
    category: str
    subtype: str
    description: str
    location: dict[str, str | None]
    observed_at: datetime
    filed_at: datetime
    reporter: str
    anonymous: bool
    channel: str
    cause_analysis: str | None = None
    suggested_fix: str | None = None
    emergency_action: str | None = None
    possible_duplicate_of: str | None = None
    outcome: str | None = None
    grade: str | None = None
    deadline: datetime | None = None
    """When the hazard is due to be rectified."""
    measures: str | None = None
    closed_at: datetime | None = None
    reward_fen: int | None = None
    attachments: list[AttachmentView] = []
    timeline: list[Step] = []


class Filed(BaseModel):
    report_id: str
    tenant: str
    status: str
    filed_at: datetime
    event_id: str
    possible_duplicate_of: str | None = None
    receipt_code: str | None = None
    """Anonymous reports only: keep it; it is shown once and is the only way to follow the report."""


routes = APIRouter(tags=["reports"])


@routes.post("/reports", status_code=status.HTTP_201_CREATED, response_model=Filed, response_model_exclude_none=True)
async def file(
    command: FileReport,
    response: Response,
    intake: IntakeDep,
    principal: Annotated[Principal, Depends(require(Role.REPORTER, Role.VERIFIER))],
    idempotency_key: Annotated[IdempotencyKey | None, Header(alias="Idempotency-Key")] = None,
) -> Filed:
    """File a report. Safety officers also enter hotline, verbal and e-mailed reports here.

    A request without an Idempotency-Key gets one; a 503 whose outcome is unknown hands
    it back, so that the retry can only find or file this same report.
    """
    check_tenant(principal, command.tenant)
    filer = Filer(principal.subject, staff=Role.VERIFIER in principal.roles)
    key = idempotency_key or new_idempotency_key()
    try:
        filing = await handle_file_report(intake, command, filer=filer, idempotency_key=key)
    except AppendOutcomeUnknown as unknown:
        raise outcome_unknown(unknown, intake, command, key) from None
    if not filing.created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/reports/{filing.event.aggregate_id}"
    response.headers["Cache-Control"] = "no-store"  # the receipt code must not linger in caches
    return filed(filing)


def outcome_unknown(unknown: AppendOutcomeUnknown, intake: Intake, command: FileReport, key: str) -> AppendOutcomeUnknown:
    """Where the client learns the outcome: the same request with this key, the report's
    URL, and for an anonymous report the receipt code it has if it was filed."""
    report_id = unknown.aggregate_id
    receipt = {"receipt_code": intake.receipts.code_for(command.tenant, report_id, key)} if command.anonymous else {}
    return unknown.answer(location=f"/reports/{report_id}", report_id=report_id, idempotency_key=key, **receipt)


def filed(filing) -> Filed:
    event = filing.event
    return Filed(
        report_id=event.aggregate_id,
        tenant=event.tenant,
        status="filed",
        filed_at=event.occurred_at,
        event_id=str(event.event_id),
        possible_duplicate_of=event.possible_duplicate_of,
        receipt_code=filing.receipt_code,
    )


def view(db: Connection, row: Any, *, with_timeline: bool = False) -> ReportView:
    files = db.execute(select(attachments).where(attachments.c.report_id == row.report_id).order_by(attachments.c.position))
    shown = [AttachmentView(**{k: v for k, v in f._mapping.items() if k in AttachmentView.model_fields}) for f in files]
    return ReportView(
        **{k: v for k, v in row._mapping.items() if k in ReportView.model_fields},
        location={"site": row.site, "area": row.area, "spot": row.spot, "place_id": row.place_id, "equipment_tag": row.equipment_tag},
        attachments=shown,
        timeline=steps(row, attachments=len(shown)) if with_timeline else [],
    )


def steps(row: Any, *, attachments: int) -> list[Step]:
    """The report's timeline, in time order, from the steps its row records (no staff names)."""
    taken = [Step(type="ReportFiled", occurred_at=row.filed_at, detail={"attachments": attachments})]
    if row.accepted_at is not None:
        taken.append(Step(type="Accepted", occurred_at=row.accepted_at))
    if row.verified_at is not None:
        taken.append(Step(type="Verified", occurred_at=row.verified_at, detail={"grade": row.grade, "outcome": row.outcome}))
    if row.assigned_at is not None:
        taken.append(Step(type="RectificationAssigned", occurred_at=row.assigned_at, detail={"deadline": row.deadline.isoformat()}))
    if row.rectified_at is not None:
        taken.append(Step(type="Rectified", occurred_at=row.rectified_at, detail={"measures": row.measures}))
    if row.closed_at is not None and row.closed_at != row.rectified_at and row.closed_at != row.verified_at:
        taken.append(Step(type="RectificationAccepted", occurred_at=row.closed_at))
    if row.reward_decided_at is not None and row.reward_declined is not None:
        taken.append(Step(type="RewardDeclined", occurred_at=row.reward_decided_at, detail={"reason": row.reward_declined}))
    elif row.reward_decided_at is not None:
        taken.append(Step(type="RewardGranted", occurred_at=row.reward_decided_at, detail={"amount_fen": row.reward_fen}))
    return sorted(taken, key=lambda step: step.occurred_at)


async def visible_to(principal: Principal, runtime, row) -> bool:
    if not principal.may_access(row.tenant):
        return False
    if principal.has_any(STAFF):
        return True
    return row.reporter == await runtime.pseudonym_of(row.tenant, principal.subject)


@routes.get("/reports/{report_id}", response_model=ReportView)
async def read(report_id: IdInPath, runtime: RuntimeDep, principal: Annotated[Principal, Depends(authenticated)]) -> ReportView:
    """One report with its timeline: for safety staff of its subsidiary and for its reporter."""

    def report() -> Any:
        with runtime.engine.connect() as db:
            return db.execute(select(reports).where(reports.c.report_id == report_id)).first()

    row = await asyncio.to_thread(report)
    if row is None or not await visible_to(principal, runtime, row):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no report {report_id!r} visible to you")

    def shown() -> ReportView:
        with runtime.engine.connect() as db:
            return view(db, row, with_timeline=True)

    return await runtime.texts.reveal_model(await asyncio.to_thread(shown))


@routes.get("/reports", response_model=list[ReportView])
async def list_reports(
    runtime: RuntimeDep,
    principal: Annotated[Principal, Depends(authenticated)],
    tenant: Annotated[str | None, Query(description="Subsidiary to list (staff).")] = None,
    duplicates_of: Annotated[str | None, Query(description="Only the cluster of possible duplicates of this report.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ReportView]:
    """Staff see a subsidiary's reports; a reporter sees their own, each with its timeline."""
    query = select(reports).order_by(reports.c.filed_at.desc(), reports.c.report_id).limit(limit)
    staff = principal.has_any(STAFF)
    if staff:
        if tenant is None:
            raise Invalid("name the subsidiary to list", field="tenant")
        check_tenant(principal, tenant)
        query = query.where(reports.c.tenant == tenant)
    else:
        query = query.where(reports.c.reporter.in_(await runtime.pseudonyms_of(principal)))
    if duplicates_of is not None:
        query = query.where((reports.c.possible_duplicate_of == duplicates_of) | (reports.c.report_id == duplicates_of))

    def listed() -> list[ReportView]:
        with runtime.engine.connect() as db:
            return [view(db, row, with_timeline=not staff) for row in db.execute(query)]

    return [ReportView.model_validate(v) for v in await runtime.texts.reveal([r.model_dump() for r in await asyncio.to_thread(listed)])]


@routes.get("/receipt", response_model=ReportView, tags=["anonymous"], responses=refusals(404, 429))
async def follow_by_receipt(
    request: Request, runtime: RuntimeDep, code: Annotated[ReceiptCode, Header(alias="Receipt-Code", description="The code given at filing.")]
) -> ReportView:
    """An anonymous reporter follows their report with its receipt code: no token, no identity.
    Wrong codes are limited per address and overall (429 with Retry-After)."""
    report = await checked_code(request, code, lambda: by_receipt(runtime, code))
    if report is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no report has this receipt code")
    return await runtime.texts.reveal_model(report)


def by_receipt(runtime, code: str) -> ReportView | None:
    """The report, with its timeline, whose receipt code this is."""
    with runtime.engine.connect() as db:
        row = db.execute(select(reports).where(reports.c.receipt_digest == receipt_digest(code))).first()
        return None if row is None else view(db, row, with_timeline=True)
