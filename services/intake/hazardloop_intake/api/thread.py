"""A report's thread over HTTP: the reporter (by receipt code or token) and the safety
department of its subsidiary (by token) read it and write to each other."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response, status
from pydantic import BaseModel

from hazardloop.privacy.receipts import ReceiptCode
from hazardloop.projections.catchup import projected
from hazardloop.runtime.service import Runtime, RuntimeDep
from hazardloop.web.auth import Principal, optionally_authenticated
from hazardloop.web.http import refusals
from hazardloop.web.validation import IdInPath
from hazardloop_intake.adapters import Intake
from hazardloop_intake.api.reports import IdempotencyKey, IntakeDep
from hazardloop_intake.commands import handle_write_to_thread
from hazardloop_intake.domain import new_idempotency_key
from hazardloop_intake.lookups import checked_code
from hazardloop_intake.queries import has_message, messages, report_row
from hazardloop_intake.thread import Looker, Write, looker

routes = APIRouter(tags=["thread"])


class ThreadMessage(BaseModel):
    message_id: str
    from_reporter: bool
    text: str
    written_at: datetime
    by: str | None = None
    """Who of the safety department wrote it (shown to staff only; the reporter reads "the safety department")."""


class Written(BaseModel):
    message_id: str
    written_at: datetime


async def report_and_looker(
    request: Request, runtime: Runtime, report_id: str, principal: Principal | None, receipt_code: str | None
) -> tuple[object, Looker]:
    """The report and who is looking at it; the same 404 for a report that does not exist,
    one of another subsidiary, and a receipt code that is not this report's."""
    if principal is None and receipt_code is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, detail="a bearer token or a Receipt-Code is required", headers={"WWW-Authenticate": "Bearer"}
        )

    def lookup():
        with runtime.engine.connect() as db:
            return report_row(db, report_id)

    visible = principal.may_access if principal is not None and receipt_code is None else (lambda _tenant: True)
    row = await projected(runtime, lookup, aggregate_type="report", aggregate_id=report_id, visible=visible)
    own = frozenset(await runtime.pseudonyms_of(principal)) if principal is not None and receipt_code is None else frozenset()

    def whose():
        return looker(row, principal=None if receipt_code else principal, receipt_code=receipt_code, own_pseudonyms=own)

    who = await checked_code(request, receipt_code, whose) if receipt_code is not None else whose()
    if who is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no report {report_id!r} of yours")
    return row, who


ReceiptHeader = Annotated[ReceiptCode | None, Header(alias="Receipt-Code", description="An anonymous reporter's receipt code.")]
Caller = Annotated[Principal | None, Depends(optionally_authenticated)]


@routes.get("/reports/{report_id}/thread", response_model=list[ThreadMessage], responses=refusals(401, 404, 429))
async def read_thread(report_id: IdInPath, request: Request, runtime: RuntimeDep, principal: Caller, receipt_code: ReceiptHeader = None) -> list[ThreadMessage]:
    """The report's messages, oldest first: for its reporter and the safety department of its subsidiary."""
    _, who = await report_and_looker(request, runtime, report_id, principal, receipt_code)

    def read():
        with runtime.engine.connect() as db:
            return messages(db, report_id)

    written = await asyncio.to_thread(read)
    texts = await runtime.texts.reveal([row.text for row in written])
    return [
        ThreadMessage(
            message_id=row.event_id, from_reporter=row.from_reporter, text=text, written_at=row.written_at,
            by=None if who.reporter or row.from_reporter else row.actor,
        )
        for row, text in zip(written, texts, strict=True)
    ]


async def post_message(intake: Intake, row, who: Looker, text: str, idempotency_key: str) -> Written:
    """Write the message (once per key), then give intake's projection a moment to take it
    in, so that the page (or the client) reading the thread right after sees it; the
    message is in the log either way."""
    event = await handle_write_to_thread(intake, row.tenant, row.report_id, who=who, text=text, idempotency_key=idempotency_key)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + intake.settings.nats_timeout
    while not await asyncio.to_thread(intake.read, has_message, str(event.event_id)) and loop.time() < deadline:
        await asyncio.sleep(0.02)
    return Written(message_id=str(event.event_id), written_at=event.occurred_at)


@routes.post(
    "/reports/{report_id}/thread", status_code=status.HTTP_201_CREATED, response_model=Written, responses=refusals(401, 404, 429, 503)
)
async def write_to_thread(
    report_id: IdInPath,
    request: Request,
    body: Write,
    response: Response,
    intake: IntakeDep,
    runtime: RuntimeDep,
    principal: Caller,
    receipt_code: ReceiptHeader = None,
    idempotency_key: Annotated[IdempotencyKey | None, Header(alias="Idempotency-Key")] = None,
) -> Written:
    """Write to the other side: the reporter to the safety department, its verifiers and
    managers to the reporter. A retry with the same Idempotency-Key writes nothing twice."""
    row, who = await report_and_looker(request, runtime, report_id, principal, receipt_code)
    written = await post_message(intake, row, who, body.text, idempotency_key or new_idempotency_key())
    response.headers["Location"] = f"/reports/{report_id}/thread"
    return written
