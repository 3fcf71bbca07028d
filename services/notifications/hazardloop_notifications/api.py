"""Notifications' HTTP routes: the caller's own inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select

from hazardloop.auth import Principal, authenticated
from hazardloop.service import RuntimeDep
from hazardloop_notifications.store import inbox, reporters

routes = APIRouter(tags=["inbox"])


class Message(BaseModel):
    message_id: str
    tenant: str
    report_id: str
    kind: str
    text: str
    created_at: datetime


@routes.get("/inbox", response_model=list[Message])
def read_inbox(
    runtime: RuntimeDep,
    principal: Annotated[Principal, Depends(authenticated)],
    report_id: Annotated[str | None, Query(description="Only messages about this report.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[Message]:
    """Messages about the caller's own reports, newest first."""
    mine = runtime.own_pseudonyms(principal)
    query = (
        select(inbox)
        .join(reporters, reporters.c.report_id == inbox.c.report_id)
        .where(reporters.c.reporter.in_(mine))
        .order_by(inbox.c.created_at.desc())
        .limit(limit)
    )
    if report_id is not None:
        query = query.where(inbox.c.report_id == report_id)
    with runtime.engine.connect() as db:
        return [Message.model_validate(row._mapping) for row in db.execute(query)]
