"""A report's dossier, for the reporter taking it to the authorities, or for an auditor:
JSON, or HTML to print or save as PDF from a browser (see ``hazardloop_verification.dossier``)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from hazardloop.log.eventstore import EventStoreUnavailable
from hazardloop.privacy.receipts import ReceiptCode
from hazardloop.runtime.service import RuntimeDep
from hazardloop.web.auth import Principal, optionally_authenticated
from hazardloop.web.http import refusals
from hazardloop.web.labels import language_of
from hazardloop.web.validation import IdInPath
from hazardloop_verification import queries
from hazardloop_verification.api.cases import STAFF, is_reporter
from hazardloop_verification.dossier.document import Dossier, Dossiers
from hazardloop_verification.dossier.words import words

routes = APIRouter(tags=["dossier"], responses=refusals(503))  # a dossier is read from the log

templates = Environment(
    loader=PackageLoader("hazardloop_verification"), autoescape=select_autoescape(["html"]), auto_reload=False
)


async def dossiers_of(request: Request) -> Dossiers:
    """The dossier reader, once the service is connected to the broker (503 before)."""
    dossiers = request.app.state.dossiers
    if dossiers is None:
        raise EventStoreUnavailable("the service is not connected to the broker yet")
    return dossiers


DossiersDep = Annotated[Dossiers, Depends(dossiers_of)]


async def dossier_tenant(
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
    row = await asyncio.to_thread(queries.case_row, runtime.engine, report_id)
    if row is not None:
        if principal is not None and principal.has_any(frozenset(STAFF)) and principal.may_access(row.tenant):
            return row.tenant
        if await is_reporter(runtime, row, principal, receipt_code):
            return row.tenant
    raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no report {report_id!r} visible to you")


@routes.get("/reports/{report_id}/dossier", response_model=Dossier)
async def dossier(report_id: IdInPath, dossiers: DossiersDep, tenant: Annotated[str, Depends(dossier_tenant)]) -> Dossier:
    """The report's full timeline, read from the log, with the hash chain and the seals over it checked."""
    return await dossiers.document(tenant, report_id)


CONTENT_SECURITY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
"""The page is self-contained: nothing is fetched, nothing runs."""


@routes.get("/reports/{report_id}/dossier.html", response_class=HTMLResponse)
async def dossier_html(
    report_id: IdInPath,
    dossiers: DossiersDep,
    tenant: Annotated[str, Depends(dossier_tenant)],
    lang: Annotated[Literal["zh-CN", "zh", "en"] | None, Query(description="The document's language; else Accept-Language; Chinese by default.")] = None,
    accept_language: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> HTMLResponse:
    """The dossier as a document for the authorities, in Chinese or English: print it, or save it as PDF, from any browser."""
    language = language_of(lang, accept_language)
    page = await dossiers.page(tenant, report_id, language)
    html = templates.get_template("dossier.html").render(page=page, t=words(language))
    headers = {
        "Content-Disposition": f'inline; filename="dossier-{report_id}.html"',
        "Cache-Control": "private, no-store",
        "Content-Security-Policy": CONTENT_SECURITY,
        "Content-Language": language.value,
    }
    return HTMLResponse(html, headers=headers)
