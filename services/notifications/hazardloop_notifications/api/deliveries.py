"""The delivery log for operators: what went out, what is pending, what was dead-lettered, and retrying it."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel
from sqlalchemy import select, union_all

from hazardloop.events import Note, TenantId
from hazardloop.runtime.service import RuntimeDep
from hazardloop.web.auth import Principal, Role, check_tenant, require
from hazardloop.web.edge import Command
from hazardloop.web.validation import IdInPath
from hazardloop_notifications import commands
from hazardloop_notifications.store import attempts, deliveries, inbox, inbox_deliveries

routes = APIRouter(tags=["deliveries"])

Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]


class DeliveryView(BaseModel):
    key: str
    tenant: str
    report_id: str | None
    kind: str
    channel: str
    recipient: str
    address: str | None
    format: str | None
    language: str
    status: str
    attempts: int
    error: str | None
    created_at: datetime
    settled_at: datetime | None
    next_attempt_at: datetime | None
    """Pending deliveries that failed before: when the sender tries again."""


class Retry(Command):
    comment: Note | None = None


def _view(row) -> DeliveryView:
    failed_before = row.status == "pending" and row.tried is not None
    return DeliveryView(
        key=row.key, tenant=row.tenant, report_id=row.report_id, kind=row.kind, channel=row.channel, recipient=row.recipient,
        address=row.address, format=row.format, language=row.language, status=row.status,
        attempts=row.tried if failed_before else row.attempts, error=row.last_error if failed_before else row.error,
        created_at=row.created_at, settled_at=row.settled_at, next_attempt_at=row.next_attempt_at if failed_before else None,
    )


def _query():
    """Every delivery: the outbox's and the inbox messages', with the sender's notes."""
    every = union_all(select(deliveries), inbox_deliveries()).subquery("every_delivery")
    query = select(every, attempts.c.attempts.label("tried"), attempts.c.last_error, attempts.c.next_attempt_at).select_from(
        every.outerjoin(attempts, attempts.c.key == every.c.key)
    )
    return query, every


@routes.get("/deliveries", response_model=list[DeliveryView])
def list_deliveries(
    runtime: RuntimeDep,
    principal: Annotated[Principal, Depends(require(Role.OPERATOR, Role.AUDITOR))],
    tenant: Annotated[TenantId, Query()],
    status_: Annotated[Literal["pending", "sent", "failed"] | None, Query(alias="status")] = None,
    report_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeliveryView]:
    """Deliveries of a subsidiary, newest first: ``status=failed`` is the dead-letter list."""
    check_tenant(principal, tenant)
    query, every = _query()
    query = query.where(every.c.tenant == tenant).order_by(every.c.created_at.desc(), every.c.key).limit(limit)
    if status_ is not None:
        query = query.where(every.c.status == status_)
    if report_id is not None:
        query = query.where(every.c.report_id == report_id)
    with runtime.engine.connect() as db:
        return [_view(row) for row in db.execute(query)]


@routes.post("/deliveries/{key}/retry", status_code=status.HTTP_202_ACCEPTED)
async def retry_delivery(
    runtime: RuntimeDep, request: Request, principal: Operator, key: IdInPath, body: Retry | None = None
) -> dict[str, str]:
    """Send a dead-lettered delivery again, from a fresh count of attempts."""

    def read():
        with runtime.engine.connect() as db:
            row = db.execute(select(deliveries).where(deliveries.c.key == key)).first()
            # An inbox message is found by its key only by a scan: the inbox is not indexed
            # by it, and its deliveries are never dead-lettered, so this is the rare path.
            return row or db.execute(inbox_deliveries().where(inbox.c.key == key)).first()

    row = await asyncio.to_thread(read)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such delivery")
    check_tenant(principal, row.tenant)
    await commands.retry_delivery(
        runtime.event_store(), runtime.texts, row.tenant, key, report_id=row.report_id, actor=principal.subject,
        now=request.app.state.clock.now(), comment=body.comment if body else None,
    )
    await asyncio.to_thread(request.app.state.sender.forget, key)  # its attempts counted afresh
    return {"key": key, "status": "pending"}
