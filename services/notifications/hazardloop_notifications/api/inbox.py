"""Notifications' HTTP routes: the caller's own inbox, read and unread.

A named reporter reads the messages about their reports by token (their pseudonyms are
looked up in the directory); an anonymous reporter only with the receipt code of their report;
staff read their own box. Messages are rendered in the reader's language on the way out.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field
from sqlalchemy import func, literal, select, union_all

from hazardloop.events import Language
from hazardloop.privacy.receipts import ReceiptCode, receipt_digest
from hazardloop.runtime.service import RuntimeDep
from hazardloop.web.auth import Principal, optionally_authenticated
from hazardloop.web.edge import Command
from hazardloop.web.http import refusals
from hazardloop.web.labels import label
from hazardloop_notifications import commands
from hazardloop_notifications.domain import report_context
from hazardloop_notifications.render import Renderer, pick_language
from hazardloop_notifications.store import REPORT_CONTEXT, inbox, reports

routes = APIRouter(tags=["inbox"])


class Message(BaseModel):
    message_id: str
    tenant: str
    report_id: str | None
    kind: str
    subject: str
    text: str
    created_at: datetime
    read: bool
    read_at: datetime | None


class MarkRead(Command):
    message_ids: Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(max_length=500)] = []
    all: bool = False
    """Every unread message of the caller's."""


class Marked(BaseModel):
    read: int


ReceiptHeader = Annotated[ReceiptCode | None, Header(alias="Receipt-Code", description="An anonymous report's receipt code.")]


async def _boxes(runtime, principal: Principal | None, code: str | None):
    """(select of the caller's messages with their box and reader, the reader for a box)."""
    if code is not None:
        mine = select(reports.c.report_id).where(reports.c.receipt_digest == receipt_digest(code), reports.c.anonymous.is_(True))

        def known() -> bool:
            with runtime.engine.connect() as db:
                return db.execute(mine).first() is not None

        if not await asyncio.to_thread(known):
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no report has this receipt code")
        return select(inbox, literal("anonymous").label("reader")).where(inbox.c.box.in_(mine))
    if principal is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="send a bearer token, or the Receipt-Code of an anonymous report",
                            headers={"WWW-Authenticate": "Bearer"})
    pseudonyms = await runtime.pseudonyms_of(principal)
    as_reporter = (
        select(inbox, reports.c.reporter.label("reader"))
        .join(reports, reports.c.report_id == inbox.c.box)
        .where(reports.c.reporter.in_(pseudonyms), reports.c.anonymous.is_(False))
    )
    as_staff = select(inbox, literal(principal.subject).label("reader")).where(
        inbox.c.box == f"@{principal.subject}",
        inbox.c.tenant.in_(principal.tenants_within(runtime.settings.tenants)),  # staff ids are per subsidiary
    )
    return union_all(as_reporter, as_staff)


def _renderer(request: Request) -> Renderer:
    return request.app.state.renderer


@routes.get("/inbox", response_model=list[Message], responses=refusals(404))
async def read_inbox(
    runtime: RuntimeDep,
    request: Request,
    response: Response,
    principal: Annotated[Principal | None, Depends(optionally_authenticated)],
    code: ReceiptHeader = None,
    report_id: Annotated[str | None, Query(description="Only messages about this report.", max_length=64)] = None,
    unread: Annotated[bool, Query(description="Only messages not read yet.")] = False,
    lang: Annotated[Language | None, Query(description="Language to read in (else Accept-Language).")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    accept_language: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> list[Message]:
    """The caller's messages, newest first; the header ``X-Unread-Count`` counts the unread."""
    mine = (await _boxes(runtime, principal, code)).subquery()
    query = (
        select(mine, *REPORT_CONTEXT)
        .select_from(mine.outerjoin(reports, reports.c.report_id == mine.c.report_id))
        .order_by(mine.c.created_at.desc(), mine.c.message_id)
        .limit(limit)
    )
    if report_id is not None:
        query = query.where(mine.c.report_id == report_id)
    if unread:
        query = query.where(mine.c.read_at.is_(None))
    language = pick_language(lang.value if lang else None, accept_language, request.app.state.settings.default_language.value)
    renderer = _renderer(request)

    def read() -> tuple[list[Any], int]:
        with runtime.engine.connect() as db:
            rows = db.execute(query).all()
            return rows, db.execute(select(func.count()).select_from(mine).where(mine.c.read_at.is_(None))).scalar()

    rows, unread_count = await asyncio.to_thread(read)
    response.headers["X-Unread-Count"] = str(unread_count)
    response.headers["Content-Language"] = language
    contexts = await runtime.texts.reveal(
        [report_context(row._mapping, staff=row.box.startswith("@")) | json.loads(row.params) for row in rows],
        erased=label("erased_text", language),
    )
    messages = []
    for row, context in zip(rows, contexts, strict=True):
        rendered = renderer.render(row.kind, language, context)
        messages.append(
            Message(
                message_id=row.message_id, tenant=row.tenant, report_id=row.report_id, kind=row.kind, subject=rendered.subject,
                text=rendered.body, created_at=row.created_at, read=row.read_at is not None, read_at=row.read_at,
            )
        )
    return messages


@routes.post("/inbox/read", response_model=Marked, responses=refusals(404))
async def mark_read(
    runtime: RuntimeDep,
    request: Request,
    body: MarkRead,
    principal: Annotated[Principal | None, Depends(optionally_authenticated)],
    code: ReceiptHeader = None,
) -> Marked:
    """Mark messages read (each once, recorded in the log as ``MessageRead``)."""
    mine = (await _boxes(runtime, principal, code)).subquery()
    query = select(mine.c.tenant, mine.c.box, mine.c.message_id, mine.c.reader).where(mine.c.read_at.is_(None))
    if not body.all:
        if not body.message_ids:
            return Marked(read=0)
        query = query.where(mine.c.message_id.in_(body.message_ids))

    def unread_rows():
        with runtime.engine.connect() as db:
            return db.execute(query.limit(5000)).all()

    unread = [commands.Unread(*row) for row in await asyncio.to_thread(unread_rows)]
    return Marked(read=await commands.mark_read(runtime.event_store(), unread, now=request.app.state.clock.now()))
