"""Verification's command routes: each checks role and tenant, then hands over to Casework."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Request, status

from hazardloop.log.eventstore import EventStoreUnavailable
from hazardloop.privacy.receipts import ReceiptCode, receipt_digest
from hazardloop.projections.catchup import projected
from hazardloop.runtime.service import Runtime, RuntimeDep
from hazardloop.web.auth import Principal, Role, optionally_authenticated, require
from hazardloop.web.recorded import CREATED, Recorded, recorded
from hazardloop.web.validation import IdInPath
from hazardloop_verification import queries
from hazardloop_verification.commands import Casework
from hazardloop_verification.domain import (
    Accept,
    Assign,
    DecideExtension,
    EscalateExternally,
    FeedBack,
    Rectify,
    RequestExtension,
    Review,
    Verify,
)

routes = APIRouter(tags=["casework"])

STAFF = (Role.VERIFIER, Role.RECTIFIER, Role.MANAGER, Role.LEADER, Role.AUDITOR)


async def casework_of(request: Request) -> Casework:
    """The command handlers, once the service is connected to the broker (503 before)."""
    casework = request.app.state.casework
    if casework is None:
        raise EventStoreUnavailable("the service is not connected to the broker yet")
    return casework


CaseworkDep = Annotated[Casework, Depends(casework_of)]


async def tenant_of(runtime: Runtime, principal: Principal, report_id: str) -> str:
    """The report's subsidiary, from the read model (once it holds a report just filed);
    hidden if the caller may not see it."""
    row = await projected(
        runtime,
        lambda: queries.case_row(runtime.engine, report_id),
        aggregate_type="report",
        aggregate_id=report_id,
        visible=principal.may_access,
    )
    if row is None or not principal.may_access(row.tenant):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no report {report_id!r} visible to you")
    return row.tenant


Verifier = Annotated[Principal, Depends(require(Role.VERIFIER))]


@routes.post("/reports/{report_id}/acceptance", **CREATED)
async def accept(report_id: IdInPath, command: Accept, runtime: RuntimeDep, casework: CaseworkDep, principal: Verifier) -> Recorded:
    """Acknowledge the report (the same day, by the policy's clock)."""
    tenant = await tenant_of(runtime, principal, report_id)
    return recorded(report_id, await casework.accept(tenant, report_id, command, principal.subject))


@routes.post("/reports/{report_id}/verification", **CREATED)
async def verify(report_id: IdInPath, command: Verify, runtime: RuntimeDep, casework: CaseworkDep, principal: Verifier) -> Recorded:
    """Record the outcome and grading; optionally the on-the-spot fix or the rectification owner."""
    tenant = await tenant_of(runtime, principal, report_id)
    return recorded(report_id, await casework.verify(tenant, report_id, command, principal.subject))


@routes.post("/reports/{report_id}/assignment", **CREATED)
async def assign(
    report_id: IdInPath,
    command: Assign,
    runtime: RuntimeDep,
    casework: CaseworkDep,
    principal: Annotated[Principal, Depends(require(Role.VERIFIER, Role.MANAGER))],
) -> Recorded:
    """Name the rectification owner and deadline (the grade's default when none is given)."""
    tenant = await tenant_of(runtime, principal, report_id)
    return recorded(report_id, await casework.assign(tenant, report_id, command, principal.subject))


@routes.post("/reports/{report_id}/extension", **CREATED)
async def request_extension(
    report_id: IdInPath,
    command: RequestExtension,
    runtime: RuntimeDep,
    casework: CaseworkDep,
    principal: Annotated[Principal, Depends(require(Role.RECTIFIER))],
) -> Recorded:
    """The rectification owner asks for a later deadline, with a reason."""
    tenant = await tenant_of(runtime, principal, report_id)
    return recorded(report_id, await casework.request_extension(tenant, report_id, command, principal.subject))


@routes.post("/reports/{report_id}/extension/decision", **CREATED)
async def decide_extension(
    report_id: IdInPath,
    command: DecideExtension,
    runtime: RuntimeDep,
    casework: CaseworkDep,
    principal: Annotated[Principal, Depends(require(Role.MANAGER, Role.LEADER))],
) -> Recorded:
    """A manager other than the requester approves or refuses the extension."""
    tenant = await tenant_of(runtime, principal, report_id)
    return recorded(report_id, await casework.decide_extension(tenant, report_id, command, principal.subject))


@routes.post("/reports/{report_id}/rectification", **CREATED)
async def rectify(
    report_id: IdInPath,
    command: Rectify,
    runtime: RuntimeDep,
    casework: CaseworkDep,
    principal: Annotated[Principal, Depends(require(Role.RECTIFIER, Role.VERIFIER))],
) -> Recorded:
    """The owner (or a verifier for them) records the measures taken and the evidence."""
    tenant = await tenant_of(runtime, principal, report_id)
    events = await casework.rectify(tenant, report_id, command, principal.subject, verifier=Role.VERIFIER in principal.roles)
    return recorded(report_id, events)


@routes.post("/reports/{report_id}/review", **CREATED)
async def review(report_id: IdInPath, command: Review, runtime: RuntimeDep, casework: CaseworkDep, principal: Verifier) -> Recorded:
    """Accept the rectification (the report closes) or reject it (back to the owner)."""
    tenant = await tenant_of(runtime, principal, report_id)
    return recorded(report_id, await casework.review(tenant, report_id, command, principal.subject))


@routes.post("/reports/{report_id}/feedback", **CREATED)
async def feed_back(report_id: IdInPath, command: FeedBack, runtime: RuntimeDep, casework: CaseworkDep, principal: Verifier) -> Recorded:
    """Tell the reporter where their report stands (the 7-day feedback clock)."""
    tenant = await tenant_of(runtime, principal, report_id)
    return recorded(report_id, await casework.feed_back(tenant, report_id, command, principal.subject))


async def reporter_of(
    report_id: IdInPath,
    runtime: RuntimeDep,
    principal: Annotated[Principal | None, Depends(optionally_authenticated)],
    receipt_code: Annotated[ReceiptCode | None, Header(alias="Receipt-Code", description="An anonymous reporter's code.")] = None,
) -> tuple[str, str]:
    """(tenant, pseudonym) of the report's own reporter, proven by their token or receipt code."""
    if principal is None and receipt_code is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, detail="a bearer token or a Receipt-Code is required", headers={"WWW-Authenticate": "Bearer"}
        )
    row = await asyncio.to_thread(queries.case_row, runtime.engine, report_id)
    if row is not None and await is_reporter(runtime, row, principal, receipt_code):
        return row.tenant, row.reporter
    raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no report {report_id!r} of yours")


async def is_reporter(runtime: Runtime, row, principal: Principal | None, receipt_code: str | None) -> bool:
    if receipt_code is not None:
        return row.receipt_digest is not None and row.receipt_digest == receipt_digest(receipt_code)
    return principal.may_access(row.tenant) and await runtime.pseudonym_of(row.tenant, principal.subject) == row.reporter


@routes.post("/reports/{report_id}/external-escalation", **CREATED)
async def escalate_externally(
    report_id: IdInPath,
    command: EscalateExternally,
    casework: CaseworkDep,
    reporter: Annotated[tuple[str, str], Depends(reporter_of)],
) -> Recorded:
    """An overdue report's reporter takes it to the authorities; recorded under their pseudonym."""
    tenant, pseudonym = reporter
    return recorded(report_id, await casework.escalate_externally(tenant, report_id, command, pseudonym))
