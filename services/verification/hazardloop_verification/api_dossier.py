"""A report's dossier: its full timeline from the log, for the reporter taking it to the
authorities, or for an auditor. JSON, or HTML to print or save as PDF from a browser.

It is read from the log itself, not from a read model, and shows the reporter only by
pseudonym: sealed identities and receipt digests never leave the service.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, status
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel

from hazardloop.auth import Principal, optionally_authenticated
from hazardloop.events import GENESIS_HASH, hash_is_intact
from hazardloop.http import refusals
from hazardloop.receipts import ReceiptCode
from hazardloop.sealing import as_tokens
from hazardloop.service import RuntimeDep
from hazardloop.validation import IdInPath
from hazardloop_verification.api import STAFF, CaseworkDep, case_row, is_reporter

routes = APIRouter(tags=["dossier"], responses=refusals(503))  # a dossier is read from the log

templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"]), auto_reload=False
)

WITHHELD = frozenset({"identity", "receipt_digest", "prev_hash", "hash", "tenant", "aggregate_id", "schema_version", "correlation_id", "causation_id"})


class DossierEntry(BaseModel):
    sequence: int
    type: str
    occurred_at: datetime
    actor: str
    event_id: str
    hash: str
    details: dict[str, Any]


class Dossier(BaseModel):
    report_id: str
    tenant: str
    generated_at: datetime
    chain_intact: bool
    """Every event's ``prev_hash`` is the hash of the one before it."""
    entries: list[DossierEntry]


def dossier_tenant(
    report_id: IdInPath,
    runtime: RuntimeDep,
    principal: Annotated[Principal | None, Depends(optionally_authenticated)],
    receipt_code: Annotated[ReceiptCode | None, Header(alias="Receipt-Code", description="An anonymous reporter's code.")] = None,
) -> str:
    """The report's subsidiary, for its staff, its auditors and its own reporter."""
    if principal is None and receipt_code is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, detail="a bearer token or a Receipt-Code is required", headers={"WWW-Authenticate": "Bearer"}
        )
    row = case_row(runtime, report_id)
    if row is not None:
        if principal is not None and principal.has_any(frozenset(STAFF)) and principal.may_access(row.tenant):
            return row.tenant
        if is_reporter(runtime, row, principal, receipt_code):
            return row.tenant
    raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no report {report_id!r} visible to you")


async def build_dossier(casework, tenant: str, report_id: str) -> Dossier:
    history = await casework.store.load(tenant, "report", report_id)
    entries, previous, intact = [], GENESIS_HASH, True
    for stored in history.events:
        event = stored.event
        intact = intact and event.prev_hash == previous and hash_is_intact(event.model_dump(mode="json"))
        previous = event.hash
        document = event.model_dump(mode="json", exclude=set(WITHHELD) | {"type", "event_id", "occurred_at", "actor"})
        entries.append(
            DossierEntry(
                sequence=stored.sequence,
                type=event.type,
                occurred_at=event.occurred_at,
                actor=event.actor,
                event_id=str(event.event_id),
                hash=event.hash,
                details={k: v for k, v in document.items() if v not in (None, [], {})},
            )
        )
    dossier = Dossier(report_id=report_id, tenant=tenant, generated_at=casework.clock.now(), chain_intact=intact, entries=entries)
    return Dossier.model_validate(await casework.runtime.texts.reveal(as_tokens(tenant, dossier.model_dump())))


@routes.get("/reports/{report_id}/dossier", response_model=Dossier)
async def dossier(report_id: IdInPath, casework: CaseworkDep, tenant: Annotated[str, Depends(dossier_tenant)]) -> Dossier:
    """The report's full timeline, read from the log, with the hash chain checked."""
    return await build_dossier(casework, tenant, report_id)


@routes.get("/reports/{report_id}/dossier.html", response_class=HTMLResponse)
async def dossier_html(report_id: IdInPath, casework: CaseworkDep, tenant: Annotated[str, Depends(dossier_tenant)]) -> HTMLResponse:
    """The same dossier as a printable page (print it to PDF from any browser)."""
    document = await build_dossier(casework, tenant, report_id)
    page = templates.get_template("dossier.html").render(dossier=document)
    headers = {"Content-Disposition": f'inline; filename="dossier-{report_id}.html"', "Cache-Control": "private, no-store"}
    return HTMLResponse(page, headers=headers)
