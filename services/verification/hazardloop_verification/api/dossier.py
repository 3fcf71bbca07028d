"""A report's dossier: its full timeline from the log, for the reporter taking it to the
authorities, or for an auditor. JSON, or HTML to print or save as PDF from a browser.

It is read from the log itself, not from a read model, and shows the reporter only by
pseudonym: sealed identities, receipt digests and the reporter's team never leave the
service. Each entry carries its hash and the previous one's, and the seals over the
report's entries are checked against the log, so the document proves itself.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Header, HTTPException, Query, status
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel

from hazardloop.web.auth import Principal, optionally_authenticated
from hazardloop.web.http import refusals
from hazardloop.web.labels import label, language_of
from hazardloop.privacy.receipts import ReceiptCode
from hazardloop.privacy.sealing import ERASED_API, as_tokens
from hazardloop.runtime.service import RuntimeDep
from hazardloop.web.validation import IdInPath
from hazardloop_verification.api.cases import STAFF, CaseworkDep, case_row, is_reporter
from hazardloop_verification.dossier_page import dossier_page
from hazardloop_verification.dossier_proof import SealProof, chain_intact, seals_over
from hazardloop_verification.dossier_words import words

routes = APIRouter(tags=["dossier"], responses=refusals(503))  # a dossier is read from the log

templates = Environment(
    loader=PackageLoader("hazardloop_verification"), autoescape=select_autoescape(["html"]), auto_reload=False
)

WITHHELD = frozenset(
    {"identity", "receipt_digest", "team", "prev_hash", "hash", "tenant", "aggregate_id", "schema_version", "correlation_id", "causation_id"}
)
"""Never in a dossier's details: who the reporter is (sealed identity, receipt, team) and the envelope."""


class DossierEntry(BaseModel):
    sequence: int
    type: str
    occurred_at: datetime
    actor: str
    event_id: str
    hash: str
    prev_hash: str = ""
    """The hash of the report's previous entry (zeros for the first): the chain, for anyone to re-check."""
    intact: bool = True
    """This entry matches its own hash and follows the previous one."""
    details: dict[str, Any]


class Dossier(BaseModel):
    report_id: str
    tenant: str
    generated_at: datetime
    chain_intact: bool
    """Every event's ``prev_hash`` is the hash of the one before it."""
    entries: list[DossierEntry]
    seals: list[SealProof] = []
    """The seals over the report's entries, each checked against the log (none before the first seal)."""


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
    row = case_row(runtime, report_id)
    if row is not None:
        if principal is not None and principal.has_any(frozenset(STAFF)) and principal.may_access(row.tenant):
            return row.tenant
        if await is_reporter(runtime, row, principal, receipt_code):
            return row.tenant
    raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no report {report_id!r} visible to you")


async def _history(casework, tenant: str, report_id: str):
    history = await casework.store.load(tenant, "report", report_id)
    events = history.events
    return events, chain_intact(events), await seals_over(casework.store, casework.js, events)


async def build_dossier(casework, tenant: str, report_id: str, *, erased: str = ERASED_API) -> Dossier:
    events, intact, seals = await _history(casework, tenant, report_id)
    entries = []
    for stored, whole in zip(events, intact, strict=True):
        event = stored.event
        document = event.model_dump(mode="json", exclude=set(WITHHELD) | {"type", "event_id", "occurred_at", "actor"})
        entries.append(
            DossierEntry(
                sequence=stored.sequence,
                type=event.type,
                occurred_at=event.occurred_at,
                actor=event.actor,
                event_id=str(event.event_id),
                hash=event.hash,
                prev_hash=event.prev_hash,
                intact=whole,
                details={k: v for k, v in document.items() if v not in (None, [], {})},
            )
        )
    dossier = Dossier(
        report_id=report_id, tenant=tenant, generated_at=casework.clock.now(), chain_intact=all(intact), entries=entries, seals=seals
    )  # the reporters' and staff's words opened last: the chain is checked over their ciphertext
    return Dossier.model_validate(await casework.runtime.texts.reveal(as_tokens(tenant, dossier.model_dump()), erased=erased))


@routes.get("/reports/{report_id}/dossier", response_model=Dossier)
async def dossier(report_id: IdInPath, casework: CaseworkDep, tenant: Annotated[str, Depends(dossier_tenant)]) -> Dossier:
    """The report's full timeline, read from the log, with the hash chain and the seals over it checked."""
    return await build_dossier(casework, tenant, report_id)


CONTENT_SECURITY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
"""The page is self-contained: nothing is fetched, nothing runs."""


@routes.get("/reports/{report_id}/dossier.html", response_class=HTMLResponse)
async def dossier_html(
    report_id: IdInPath,
    casework: CaseworkDep,
    tenant: Annotated[str, Depends(dossier_tenant)],
    lang: Annotated[Literal["zh-CN", "zh", "en"] | None, Query(description="The document's language; else Accept-Language; Chinese by default.")] = None,
    accept_language: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> HTMLResponse:
    """The dossier as a document for the authorities, in Chinese or English: print it, or save it as PDF, from any browser."""
    events, intact, seals = await _history(casework, tenant, report_id)
    language = language_of(lang, accept_language)
    opened = await casework.runtime.texts.open_events(tenant, [s.event for s in events], erased=label("erased_text", language))
    events = [dataclasses.replace(s, event=e) for s, e in zip(events, opened, strict=True)]  # chains checked above
    page = await dossier_page(
        report_id=report_id,
        tenant=tenant,
        events=events,
        intact=intact,
        seals=seals,
        attachments=casework.attachments,
        language=language,
        zone=ZoneInfo(casework.settings.timezone),
        now=casework.clock.now(),
    )
    html = templates.get_template("dossier.html").render(page=page, t=words(language))
    headers = {
        "Content-Disposition": f'inline; filename="dossier-{report_id}.html"',
        "Cache-Control": "private, no-store",
        "Content-Security-Policy": CONTENT_SECURITY,
        "Content-Language": language.value,
    }
    return HTMLResponse(html, headers=headers)
